//! How results reach stdout: colour only on a terminal that did not ask
//! for none, and `--json` as one pretty-printed object per run.

use std::io::{IsTerminal, Write};

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
