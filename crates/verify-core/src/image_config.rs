//! The approver's view of an image config: what it runs, as whom, with
//! which environment, ports and volumes, and the history of its layers.

use oci_spec::image::ImageConfiguration;

use crate::contents::{EnvVar, HistoryStep, ImageConfig};
use crate::report::{Finding, FindingKind};

/// Words in an environment variable's name that suggest its value is a
/// secret, which then ships to everyone who pulls the image.
const SECRET_WORDS: [&str; 4] = ["PASSWORD", "SECRET", "TOKEN", "KEY"];

/// The summary of `config`, made where the resolver parses it (once per
/// description of the image); [`secret_findings`] says what it flags.
pub(crate) fn summarize(config: &ImageConfiguration) -> ImageConfig {
    let mut summary = ImageConfig::default();
    if let Some(c) = config.config() {
        summary.entrypoint = c.entrypoint().clone();
        summary.cmd = c.cmd().clone();
        summary.user = c.user().clone().unwrap_or_default();
        summary.working_dir = c.working_dir().clone().unwrap_or_default();
        for entry in c.env().iter().flatten() {
            let (name, value) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
            let upper = name.to_ascii_uppercase();
            let secret = SECRET_WORDS.iter().any(|w| upper.contains(w));
            summary.env.push(EnvVar {
                name: name.to_owned(),
                value: value.to_owned(),
                secret,
            });
        }
        summary.exposed_ports = sorted(c.exposed_ports().iter().flatten().cloned());
        summary.volumes = sorted(c.volumes().iter().flatten().cloned());
        summary.labels = c
            .labels()
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    }
    summary.runs_as_root = runs_as_root(&summary.user);
    let mut layer = 0;
    for step in config.history().iter().flatten() {
        let empty_layer = step.empty_layer().unwrap_or(false);
        summary.history.push(HistoryStep {
            created_by: step.created_by().clone(),
            created: step.created().clone(),
            comment: step.comment().clone(),
            empty_layer,
            layer: (!empty_layer).then_some(layer),
        });
        if !empty_layer {
            layer += 1;
        }
    }
    summary
}

/// A `config-secret-env` warning for each variable of `summary` named like
/// a secret, in the config's order, for the image called `image`.
pub(crate) fn secret_findings(summary: &ImageConfig, image: &str) -> Vec<Finding> {
    summary
        .env
        .iter()
        .filter(|var| var.secret)
        .map(|var| {
            Finding::new(
                FindingKind::ConfigSecretEnv,
                "the config sets an environment variable named like a secret; its value \
                 ships to everyone who pulls the image",
            )
            .in_image(image)
            .expected_found("no secrets in the image config", var.name.as_str())
        })
        .collect()
}

/// Whether `User` leaves the process as root: unset, or user `0`/`root`
/// whatever the group.
fn runs_as_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or_default();
    matches!(name, "" | "0" | "root")
}

fn sorted(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut items: Vec<String> = items.collect();
    items.sort();
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ImageConfiguration {
        serde_json::from_str(json).expect("a test config")
    }

    #[test]
    fn root_is_said_plainly() {
        for (user, root) in [
            ("", true),
            ("0", true),
            ("root:wheel", true),
            ("0:10", true),
        ] {
            assert_eq!(runs_as_root(user), root, "{user:?}");
        }
        for user in ["1000", "app", "nobody:nogroup", "65532:65532"] {
            assert!(!runs_as_root(user), "{user:?}");
        }
    }

    #[test]
    fn a_config_summarized() {
        let c = config(
            r#"{"architecture":"amd64","os":"linux",
                "config":{"User":"app","Entrypoint":["/bin/app"],"Cmd":["--serve"],
                  "WorkingDir":"/srv","Env":["PATH=/usr/bin","DB_PASSWORD=hunter2","api_token=x","PLAIN"],
                  "ExposedPorts":{"8080/tcp":{},"443/tcp":{}},"Volumes":{"/data":{}},
                  "Labels":{"org.opencontainers.image.source":"https://example.test/app"}},
                "history":[{"created_by":"ADD rootfs.tar /"},{"created_by":"ENV A=B","empty_layer":true},
                  {"created_by":"RUN make"}],
                "rootfs":{"type":"layers","diff_ids":[]}}"#,
        );
        let s = summarize(&c);
        let findings = secret_findings(&s, "app:1.0");
        assert_eq!(s.entrypoint.as_deref(), Some(&["/bin/app".to_owned()][..]));
        assert_eq!(s.user, "app");
        assert!(!s.runs_as_root);
        assert_eq!(s.working_dir, "/srv");
        assert_eq!(s.exposed_ports, ["443/tcp", "8080/tcp"]);
        assert_eq!(s.volumes, ["/data"]);
        let secrets: Vec<&str> = s
            .env
            .iter()
            .filter(|e| e.secret)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(secrets, ["DB_PASSWORD", "api_token"]);
        assert_eq!(s.env[1].value, "hunter2");
        assert_eq!(s.env[3].name, "PLAIN");
        assert_eq!(findings.len(), 2);
        assert!(findings.iter().all(
            |f| f.kind == FindingKind::ConfigSecretEnv && f.image.as_deref() == Some("app:1.0")
        ));
        let layers: Vec<Option<usize>> = s.history.iter().map(|h| h.layer).collect();
        assert_eq!(layers, [Some(0), None, Some(1)]);
    }

    #[test]
    fn an_unset_user_runs_as_root() {
        let c = config(
            r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#,
        );
        let s = summarize(&c);
        let findings = secret_findings(&s, "x");
        assert!(s.runs_as_root);
        assert!(findings.is_empty());
        assert!(s.history.is_empty());
    }
}
