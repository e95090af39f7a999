//! `airlock push`: a verified bundle into an OCI distribution registry.
//!
//! The bundle is read once. By default its blobs stream into a holding
//! repository of the registry as they are read ([`streaming`]); with
//! `--stage-locally` they are staged on local disk instead and nothing
//! reaches the registry before the verdict ([`target`]). Either way nothing
//! is referenced by a manifest or tagged until the report says the bundle
//! is good ([`publish`]): the names to push under may come from documents
//! at the end of the tar, and an unverified image must not become visible.

pub mod auth;
pub mod client;
pub mod holding;
pub mod naming;
pub mod origin;
pub mod publish;
pub mod streaming;
pub mod target;
pub mod tls;

use std::path::PathBuf;

use ureq::Body;
use ureq::http::Response;

/// Why a push stopped. Nothing is tagged unless every blob and manifest
/// went through; blobs already uploaded stay (registries garbage-collect
/// unreferenced ones) and are skipped by the next run.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{0}")]
    Usage(String),
    #[error(
        "denied: wrong user or password for {registry}, or that user may not push there \
         (check --user and the password given on stdin or in AIRLOCK_REGISTRY_PASSWORD){}",
        if said.is_empty() { String::new() } else { format!("; it says: {said}") }
    )]
    Denied {
        registry: String,
        /// The refusal's own words (its `errors` list), empty if it gave none.
        said: String,
    },
    #[error(
        "{registry} wants the credentials sent to the token service {realm}, which is not an \
         https:// URL: refusing to send them in clear text (the token service must use HTTPS)"
    )]
    InsecureRealm { registry: String, realm: String },
    #[error(
        "{registry} asks for credentials: pass --user USER --password-stdin \
         (or set AIRLOCK_REGISTRY_PASSWORD)"
    )]
    NeedsCredentials { registry: String },
    #[error(
        "the TLS certificate of {registry} is not trusted ({detail}); pass the CA that \
         signed it with --ca-cert FILE (PEM)"
    )]
    UntrustedCertificate { registry: String, detail: String },
    #[error("cannot connect to {registry}: connection refused (is a registry listening there?)")]
    Refused { registry: String },
    #[error("cannot reach {registry}: {detail}")]
    Transport { registry: String, detail: String },
    #[error("{registry}: {what}: HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        registry: String,
        what: String,
        status: u16,
        body: String,
    },
    #[error("--ca-cert {}: {detail}", path.display())]
    CaCert { path: PathBuf, detail: String },
}

impl RegistryError {
    /// Names a failure below HTTP (TCP, TLS) the way a user can act on it.
    pub fn from_transport(registry: &str, error: ureq::Error) -> Self {
        let registry = registry.to_owned();
        if let Some(tls) = rustls_error(&error) {
            return match tls {
                rustls::Error::InvalidCertificate(reason) => Self::UntrustedCertificate {
                    registry,
                    detail: format!("{reason:?}"),
                },
                other => Self::Transport {
                    registry,
                    detail: format!("TLS: {other}"),
                },
            };
        }
        match &error {
            ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                Self::Refused { registry }
            }
            ureq::Error::HostNotFound => Self::Transport {
                registry,
                detail: "the host name does not resolve".into(),
            },
            _ => Self::Transport {
                registry,
                detail: error.to_string(),
            },
        }
    }
}

/// The rustls error inside a ureq error, wherever ureq put it.
fn rustls_error(error: &ureq::Error) -> Option<&rustls::Error> {
    match error {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(e) => e.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

/// What a refusing or failing answer says, in one line: a registry's or
/// token service's own words belong in the error the user reads.
fn said(response: &mut Response<Body>) -> String {
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 10)
        .read_to_string()
        .unwrap_or_default();
    summarize_errors(&body)
}

/// The distribution API's `{"errors":[{"code","message"}]}` as one line,
/// or the start of whatever else the body was.
fn summarize_errors(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let listed = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(serde_json::Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let field = |k: &str| e.get(k).and_then(serde_json::Value::as_str);
                    format!(
                        "{}: {}",
                        field("code").unwrap_or("ERROR"),
                        field("message").unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        });
    listed.unwrap_or_else(|| body.trim().chars().take(300).collect())
}
