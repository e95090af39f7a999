//! The policy file: TOML, read whole before the bundle, every key known
//! (a misspelt rule must not silently be no rule), key paths relative to
//! the file.
//!
//! ```toml
//! [keys]
//! senders = ["keys/sender.pub"]
//! approvers = ["keys/alice.pub", "keys/bob.pub"]
//! [rules]
//! approvals_required = 1
//! allowed_images = ["localhost/airlock/*", "docker.io/library/postgres"]
//! max_bundle_bytes = "50GiB"
//! fail_on = ["hardlinked-file"]
//! ```

use std::path::{Path, PathBuf};

use airlock_custody::policy::ImagePatterns;
use airlock_custody::{ListedKey, Policy, Rules};
use serde::Deserialize;
use verify_core::FindingKind;

use crate::cli::parse_bytes;
use crate::commands::custody::public_key;
use crate::error::CliError;
use crate::small_file;

/// A policy file is a few lines; anything larger is not one.
const MAX_POLICY_FILE: u64 = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    keys: Keys,
    rules: RulesTable,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Keys {
    senders: Vec<PathBuf>,
    #[serde(default)]
    approvers: Vec<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesTable {
    /// Required, even as 0: a site that lists approvers must say how many.
    approvals_required: usize,
    allowed_images: Option<Vec<String>>,
    max_bundle_bytes: Option<ByteSize>,
    #[serde(default)]
    fail_on: Vec<FindingKind>,
}

/// `50GiB` or a plain number of bytes.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ByteSize {
    Bytes(u64),
    Text(String),
}

/// Reads the policy at `path` and the keys it lists. Every problem is a
/// usage error naming the file (and the rule, when it is about one).
pub fn load(path: &Path) -> Result<Policy, CliError> {
    let error = |rule: &str, message: String| CliError::Policy {
        path: path.to_owned(),
        rule: rule.to_owned(),
        message,
    };
    let text = small_file::read_text(path, MAX_POLICY_FILE, "a policy file")?;
    let file: PolicyFile = toml::from_str(&text).map_err(|e| error("", e.to_string()))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    let senders = listed(dir, &file.keys.senders).map_err(|m| error("keys.senders", m))?;
    let approvers = listed(dir, &file.keys.approvers).map_err(|m| error("keys.approvers", m))?;
    let mut rules = Rules::new(file.rules.approvals_required);
    if let Some(patterns) = &file.rules.allowed_images {
        rules.allowed_images = Some(
            ImagePatterns::new(patterns)
                .map_err(|e| error("rules.allowed_images", e.to_string()))?,
        );
    }
    rules.max_bundle_bytes = match file.rules.max_bundle_bytes {
        None => None,
        Some(ByteSize::Bytes(n)) => Some(n),
        Some(ByteSize::Text(text)) => {
            Some(parse_bytes(&text).map_err(|m| error("rules.max_bundle_bytes", m))?)
        }
    };
    rules.fail_on = file.rules.fail_on;
    // The crate's errors start with the rule they are about.
    Policy::new(senders, approvers, rules).map_err(|e| error("", e.to_string()))
}

/// The keys at `paths`, relative to `dir`, labelled as the policy wrote
/// them.
fn listed(dir: &Path, paths: &[PathBuf]) -> Result<Vec<ListedKey>, String> {
    paths
        .iter()
        .map(|relative| {
            let key = public_key(&dir.join(relative)).map_err(|e| match e {
                CliError::Io { source, .. } => format!("{}: {source}", relative.display()),
                CliError::Key { message, .. } => format!("{}: {message}", relative.display()),
                other => other.to_string(),
            })?;
            Ok(ListedKey {
                key,
                label: relative.display().to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::load;
    use crate::error::CliError;

    /// A directory with `keys/a.pub` and a policy holding `text`.
    fn policy(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("keys")).expect("mkdir");
        let key = airlock_custody::PrivateKey::generate().expect("a key");
        std::fs::write(dir.path().join("keys/a.pub"), key.public_key().to_pem()).expect("key");
        let path = dir.path().join("policy.toml");
        std::fs::write(&path, text).expect("policy");
        (dir, path)
    }

    fn refused(text: &str) -> String {
        let (_dir, path) = policy(text);
        let e = load(&path).expect_err("refused");
        assert!(matches!(e, CliError::Policy { .. }), "{e}");
        let shown = e.to_string();
        assert!(shown.contains("policy.toml"), "{shown}");
        shown
    }

    const KEYS: &str = "[keys]\nsenders = [\"keys/a.pub\"]\napprovers = [\"keys/a.pub\"]\n";

    #[test]
    fn a_full_policy_reads_with_sizes_and_kinds() {
        let (_dir, path) = policy(&format!(
            "{KEYS}[rules]\napprovals_required = 1\nallowed_images = [\"localhost/airlock/*\"]\n\
             max_bundle_bytes = \"50GiB\"\nfail_on = [\"hardlinked-file\"]\n"
        ));
        let p = load(&path).expect("a policy");
        assert_eq!(p.rules().max_bundle_bytes, Some(50 << 30));
        assert_eq!(p.rules().approvals_required, 1);
        assert_eq!(p.senders()[0].label, "keys/a.pub");
        let (_dir, path) = policy(&format!(
            "{KEYS}[rules]\napprovals_required = 0\nmax_bundle_bytes = 1000\n"
        ));
        assert_eq!(
            load(&path).expect("bytes").rules().max_bundle_bytes,
            Some(1000)
        );
    }

    #[test]
    fn mistakes_name_the_file_and_the_rule() {
        let unknown = refused(&format!(
            "{KEYS}[rules]\napprovals_required = 1\nallowed_image = []\n"
        ));
        assert!(unknown.contains("allowed_image"), "{unknown}");
        let missing =
            refused("[keys]\nsenders = [\"keys/nope.pub\"]\n[rules]\napprovals_required = 0\n");
        assert!(missing.contains("keys.senders: keys/nope.pub"), "{missing}");
        let glob = refused(&format!(
            "{KEYS}[rules]\napprovals_required = 0\nallowed_images = [\"localhost/[x\"]\n"
        ));
        assert!(glob.contains("rules.allowed_images"), "{glob}");
        let size = refused(&format!(
            "{KEYS}[rules]\napprovals_required = 0\nmax_bundle_bytes = \"50GB\"\n"
        ));
        assert!(size.contains("rules.max_bundle_bytes"), "{size}");
        let kind = refused(&format!(
            "{KEYS}[rules]\napprovals_required = 0\nfail_on = [\"hardlinked\"]\n"
        ));
        assert!(
            kind.contains("hardlinked-file"),
            "the kinds are listed: {kind}"
        );
        let too_many = refused(&format!("{KEYS}[rules]\napprovals_required = 2\n"));
        assert!(too_many.contains("rules.approvals_required"), "{too_many}");
        let no_rules = refused(KEYS);
        assert!(no_rules.contains("rules"), "{no_rules}");
        let not_toml = refused("[keys\n");
        assert!(not_toml.contains("line 1"), "{not_toml}");
    }

    #[test]
    fn key_paths_are_relative_to_the_policy_not_the_working_directory() {
        let (_dir, path) = policy(&format!("{KEYS}[rules]\napprovals_required = 1\n"));
        assert!(Path::new("keys/a.pub").metadata().is_err());
        load(&path).expect("keys found beside the policy");
    }
}
