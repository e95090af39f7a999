//! `airlock verify` and `airlock inspect`: the same single pass, shown two
//! ways.

use std::io::Write;

use verify_core::Verdict;

use super::output::{style, write_json};
use super::source::{options_for, with_progress};
use crate::cli::Source;
use crate::error::CliError;
use crate::pipeline;
use crate::render;

/// Verifies the bundle and shows the verdict (`inspect`: the images too).
pub fn run(
    source: &Source,
    json: bool,
    full_report: bool,
    inspect: bool,
) -> Result<bool, CliError> {
    let (options, recorded) = options_for(source)?;
    let reading = if full_report {
        pipeline::Reading::ToTheEnd
    } else {
        pipeline::Reading::UntilSettled
    };
    let report = with_progress(source, |path, progress, _| {
        pipeline::verify_file(path, options, reading, progress)
    })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        write_json(&mut out, &report)?;
    } else {
        let name = source.bundle.display().to_string();
        let text = if inspect {
            render::inspect(&name, &report, recorded.as_ref(), style())
        } else {
            render::verify(&name, &report, recorded.as_ref(), style())
        };
        let _ = out.write_all(text.as_bytes());
    }
    Ok(report.verdict() == Verdict::Ok)
}
