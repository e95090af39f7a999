//! `airlock verify`: one pass over the bundle, and its verdict.

use std::io::Write;

use verify_core::Verdict;

use super::output::{style, write_json};
use super::source::{options_for, with_progress};
use crate::cli::Source;
use crate::error::CliError;
use crate::pipeline;
use crate::render;

/// Verifies the bundle and shows the verdict.
pub fn run(source: &Source, json: bool, full_report: bool) -> Result<bool, CliError> {
    let (options, recorded) = options_for(source)?;
    let report = with_progress(source, |path, progress, _| {
        pipeline::verify_file(path, options, reading(full_report), progress)
    })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        write_json(&mut out, &report)?;
    } else {
        let name = source.bundle.display().to_string();
        let text = render::verify(&name, &report, recorded.as_ref(), style());
        let _ = out.write_all(text.as_bytes());
    }
    Ok(report.verdict() == Verdict::Ok)
}

/// `--full-report` reads on past a settled verdict.
pub fn reading(full_report: bool) -> pipeline::Reading {
    if full_report {
        pipeline::Reading::ToTheEnd
    } else {
        pipeline::Reading::UntilSettled
    }
}
