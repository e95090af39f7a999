//! `airlock`: verify container image bundles before they are imported.

mod cli;
mod error;
mod pipeline;
mod render;
mod sidecar;
mod sums_check;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use verify_core::{Options, Report, Verdict};

use crate::cli::{Cli, Command, Source};
use crate::error::CliError;
use crate::render::Style;

/// Exit statuses, as documented in `--help`.
const EXIT_FAILED_CHECK: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(args) => run_verify(&args.source, args.json, false),
        Command::Inspect(args) => run_verify(&args.source, args.json, true),
        Command::Hash { files } => sums_check::hash(&files),
        Command::Check { sums } => sums_check::check(&sums),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILED_CHECK),
        Err(e) => {
            eprintln!("airlock: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `verify` and `inspect`: the same single pass, shown two ways.
fn run_verify(source: &Source, json: bool, inspect: bool) -> Result<bool, CliError> {
    let recorded = sidecar::recorded(
        &source.bundle,
        source.sha256.as_deref(),
        source.sums.as_deref(),
    )?;
    let options = Options {
        expected_sha256: recorded.as_ref().map(|r| r.sha256),
        ..Options::default()
    };
    let report = with_progress(source, options)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(|e| CliError::Usage(format!("cannot write the report: {e}")))?;
        let _ = writeln!(out);
    } else {
        let style = Style {
            color: stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        let name = source.bundle.display().to_string();
        let text = if inspect {
            render::inspect(&name, &report, recorded.as_ref(), style)
        } else {
            render::verify(&name, &report, recorded.as_ref(), style)
        };
        let _ = out.write_all(text.as_bytes());
    }
    Ok(report.verdict == Verdict::Ok)
}

fn with_progress(source: &Source, options: Options) -> Result<Report, CliError> {
    let total = std::fs::metadata(&source.bundle)
        .map_err(|e| CliError::io(&source.bundle, e))?
        .len();
    let show = !source.no_progress && std::io::stderr().is_terminal();
    let bar = if show {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{bar:40}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Some(bar)
    } else {
        None
    };
    let mut progress = |n: u64| {
        if let Some(bar) = &bar {
            bar.set_position(n);
        }
    };
    let report = pipeline::verify_file(&source.bundle, options, &mut progress);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report
}
