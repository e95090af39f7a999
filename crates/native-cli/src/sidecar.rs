//! Finding the SHA-256 the sender recorded: given on the command line, in a
//! named sums file, or in a sidecar next to the bundle.

use std::path::{Path, PathBuf};

use verify_core::{Sha256, sums};

use crate::error::CliError;

/// Where the recorded hash came from, for the report people read.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub sha256: Sha256,
    pub source: String,
}

/// The recorded hash for `bundle`, if any was given or found.
pub fn recorded(
    bundle: &Path,
    sha256: Option<&str>,
    sums_file: Option<&Path>,
) -> Result<Option<Recorded>, CliError> {
    if let Some(hex) = sha256 {
        let sha256 =
            Sha256::from_hex(hex.trim()).map_err(|e| CliError::Usage(format!("--sha256: {e}")))?;
        return Ok(Some(Recorded {
            sha256,
            source: "--sha256".to_owned(),
        }));
    }
    let name = bundle
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if let Some(path) = sums_file {
        return match from_file(path, name)? {
            Some(sha256) => Ok(Some(Recorded {
                sha256,
                source: path.display().to_string(),
            })),
            None => Err(CliError::Usage(format!(
                "{} records no SHA-256 for `{name}`",
                path.display()
            ))),
        };
    }
    let dir = bundle.parent().unwrap_or(Path::new("."));
    for sidecar in sums::sidecar_names(name) {
        let candidate: PathBuf = dir.join(sidecar);
        if !candidate.is_file() {
            continue;
        }
        // A sidecar named for this bundle must be readable: silently
        // skipping it would turn a hash check into no check.
        if let Some(sha256) = from_file(&candidate, name)? {
            return Ok(Some(Recorded {
                sha256,
                source: candidate.display().to_string(),
            }));
        }
    }
    Ok(None)
}

fn from_file(path: &Path, name: &str) -> Result<Option<Sha256>, CliError> {
    let bytes = read_limited(path)?;
    let sums = sums::parse(&bytes).map_err(|e| CliError::Sums {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    Ok(sums::find_for(&sums, name).map(|s| s.sha256))
}

/// Reads a sums file, refusing anything larger than a sums file can be.
pub fn read_limited(path: &Path) -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(sums::MAX_SUMS_FILE_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::io(path, e))?;
    Ok(bytes)
}
