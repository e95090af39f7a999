//! Reading the small text files a user names beside a bundle (keys,
//! signatures, policies): bounded, so that a path pointing at a 50 GiB
//! bundle by mistake fails at once instead of filling memory.

use std::io::Read;
use std::path::Path;

use crate::error::CliError;

/// The whole of `path` as UTF-8 text, refused (naming `what` it cannot be)
/// when it is larger than `limit` bytes.
pub fn read_text(path: &Path, limit: u64, what: &str) -> Result<String, CliError> {
    let file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(CliError::Usage(format!(
            "{}: larger than {limit} bytes; not {what}",
            path.display()
        )));
    }
    String::from_utf8(bytes).map_err(|_| CliError::Usage(format!("{}: not UTF-8", path.display())))
}
