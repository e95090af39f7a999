//! The seal and approval files a policy reads: given on the command line,
//! or found beside the bundle as `airlock seal` and `airlock approve`
//! write them. All are read (bounded) before the bundle.

use std::path::{Path, PathBuf};

use crate::commands::custody::read_signed_file;
use crate::error::CliError;

/// A seal or approval file's path (as given or found) and bytes.
#[derive(Debug, Clone)]
pub struct Signed {
    pub name: String,
    pub json: Vec<u8>,
}

impl Signed {
    fn read(path: &Path) -> Result<Self, CliError> {
        Ok(Self {
            name: path.display().to_string(),
            json: read_signed_file(path)?,
        })
    }

    pub fn as_file(&self) -> airlock_custody::SignedFile<'_> {
        airlock_custody::SignedFile {
            name: &self.name,
            json: &self.json,
        }
    }
}

/// The seal: `given`, else `BUNDLE.seal.sigstore.json` if it is there.
pub fn seal(bundle: &Path, given: Option<&Path>) -> Result<Option<Signed>, CliError> {
    if let Some(path) = given {
        return Signed::read(path).map(Some);
    }
    let beside = with_suffix(bundle, crate::commands::custody::SEAL_SUFFIX);
    if beside.is_file() {
        return Signed::read(&beside).map(Some);
    }
    Ok(None)
}

/// The approvals: `given`, else every `BUNDLE.approval.sigstore.json` and
/// `BUNDLE.approval-*.sigstore.json` beside the bundle, by name.
pub fn approvals(bundle: &Path, given: &[PathBuf]) -> Result<Vec<Signed>, CliError> {
    if !given.is_empty() {
        return given.iter().map(|p| Signed::read(p)).collect();
    }
    let Some(name) = bundle.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let dir = match bundle.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let entries = std::fs::read_dir(dir).map_err(|e| CliError::io(dir, e))?;
    let mut found: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| CliError::io(dir, e))?;
        let file_name = entry.file_name();
        let Some(candidate) = file_name.to_str() else {
            continue;
        };
        if is_approval_of(candidate, name) && entry.path().is_file() {
            found.push(bundle.with_file_name(candidate));
        }
    }
    found.sort();
    found.iter().map(|p| Signed::read(p)).collect()
}

/// Whether `candidate` is an approval file of the bundle named `bundle`.
fn is_approval_of(candidate: &str, bundle: &str) -> bool {
    let Some(rest) = candidate.strip_prefix(bundle) else {
        return false;
    };
    rest == ".approval.sigstore.json"
        || rest
            .strip_prefix(".approval-")
            .and_then(|r| r.strip_suffix(".sigstore.json"))
            .is_some_and(|id| !id.is_empty() && !id.contains('.'))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::is_approval_of;

    #[test]
    fn approvals_are_named_for_their_bundle() {
        assert!(is_approval_of("a.tar.approval.sigstore.json", "a.tar"));
        assert!(is_approval_of(
            "a.tar.approval-0123456789ab.sigstore.json",
            "a.tar"
        ));
        assert!(!is_approval_of("a.tar.seal.sigstore.json", "a.tar"));
        assert!(!is_approval_of("b.tar.approval.sigstore.json", "a.tar"));
        // Another bundle whose name starts with this one's.
        assert!(!is_approval_of("a.tar.gz.approval.sigstore.json", "a.tar"));
        assert!(!is_approval_of("a.tar.approval-.sigstore.json", "a.tar"));
    }
}
