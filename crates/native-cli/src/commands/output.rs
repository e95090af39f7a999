//! How results reach stdout: colour only on a terminal that did not ask
//! for none, and `--json` as one pretty-printed object per run.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::error::CliError;
use crate::render::Style;

pub fn style() -> Style {
    Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

pub fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value)
        .map_err(|e| CliError::Usage(format!("cannot write the report: {e}")))?;
    let _ = writeln!(out);
    Ok(())
}

/// Writes `bytes` to a temporary file beside `path` and renames it over
/// `path`: a reader never sees half a document, and an error leaves
/// whatever was at `path` as it was.
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let io = |e| CliError::io(path, e);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".airlock-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // As any new file would be (the umask applies), not tempfile's 0600.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut file = builder.tempfile_in(dir).map_err(io)?;
    file.write_all(bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
