//! `airlock`: verify container image bundles before they are imported.
#![forbid(unsafe_code)]

mod cli;
mod error;
mod import;
mod pipeline;
mod progress;
mod push;
mod registry;
mod render;
mod sidecar;
mod sums_check;
mod untrusted;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use verify_core::{Options, Verdict};

use crate::cli::{Cli, Command, LoadArgs, Source, TargetSpec};
use crate::error::CliError;
use crate::import::FileTarget;
use crate::import::containerd::{Containerd, ContainerdOptions};
use crate::import::docker::{self, DockerLoad};
use crate::import::oci_layout::OciLayout;
use crate::progress::{Progress, Watched};
use crate::render::Style;
use crate::untrusted::Untrusted;

/// Exit statuses, as documented in `--help`.
const EXIT_FAILED_CHECK: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Verify(args) => run_verify(&args.source, args.json, args.full_report, false),
        Command::Inspect(args) => run_verify(&args.source, args.json, args.full_report, true),
        Command::Load(args) => run_load(&args),
        Command::Push(args) => push::run(&args),
        Command::Hash { files } => sums_check::hash(&files),
        Command::Check { sums } => sums_check::check(&sums),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILED_CHECK),
        Err(e) => {
            // Errors carry names from the bundle, paths from the stick and
            // the bodies of a registry's or daemon's answers.
            eprintln!("airlock: {}", Untrusted(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `verify` and `inspect`: the same single pass, shown two ways.
fn run_verify(
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
    Ok(report.verdict == Verdict::Ok)
}

/// `load`: verify and import in one read.
fn run_load(args: &LoadArgs) -> Result<bool, CliError> {
    let (options, recorded) = options_for(&args.source)?;
    let mut target: Box<dyn FileTarget> = match &args.to {
        TargetSpec::OciLayout(dir) => Box::new(OciLayout::open(dir)?),
        TargetSpec::Containerd => Box::new(Containerd::open(&ContainerdOptions {
            address: args.address.clone(),
            namespace: args.namespace.clone(),
            snapshotter: args.snapshotter.clone(),
        })?),
        TargetSpec::Docker => Box::new(DockerLoad::open(docker::socket_path(
            args.docker_host.as_deref(),
        )?)?),
    };
    import_into(&args.source, args.json, options, recorded, target.as_mut())
}

/// The single read of `load` and `push`: verify, hand files to `target`,
/// and show the report and what was imported.
fn import_into(
    source: &Source,
    json: bool,
    options: Options,
    recorded: Option<sidecar::Recorded>,
    target: &mut dyn FileTarget,
) -> Result<bool, CliError> {
    let (report, outcome) = with_progress(source, |path, progress, bars| {
        let mut watched = Watched {
            inner: target,
            bar: bars.map(Progress::file_bar),
        };
        pipeline::load_file(path, options, &mut watched, progress)
    })?;
    let verified = report.verdict == Verdict::Ok;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if json {
        let (import, error) = match &outcome {
            Ok(summary) => (Some(summary), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let value =
            serde_json::json!({ "report": report, "import": import, "import_error": error });
        write_json(&mut out, &value)?;
    } else {
        let name = source.bundle.display().to_string();
        let _ =
            out.write_all(render::verify(&name, &report, recorded.as_ref(), style()).as_bytes());
        if let Ok(summary) = &outcome {
            let _ = out.write_all(render::imported(summary, style()).as_bytes());
        }
    }
    match outcome {
        Ok(_) => Ok(true),
        Err(_) if !verified => {
            if !json {
                let _ = writeln!(out, "nothing was imported: the bundle did not verify");
            }
            Ok(false)
        }
        Err(e) => Err(CliError::Import(e)),
    }
}

fn options_for(source: &Source) -> Result<(Options, Option<sidecar::Recorded>), CliError> {
    let recorded = sidecar::recorded(
        &source.bundle,
        source.sha256.as_deref(),
        source.sums.as_deref(),
    )?;
    let mut options = Options {
        expected_sha256: recorded.as_ref().map(|r| r.sha256),
        ..Options::default()
    };
    for (name, value) in &source.limits {
        // The names were checked when the arguments were parsed.
        options
            .limits
            .set(name, *value)
            .map_err(|e| CliError::Usage(e.to_string()))?;
    }
    Ok((options, recorded))
}

fn style() -> Style {
    Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    serde_json::to_writer_pretty(&mut *out, value)
        .map_err(|e| CliError::Usage(format!("cannot write the report: {e}")))?;
    let _ = writeln!(out);
    Ok(())
}

fn with_progress<T>(
    source: &Source,
    run: impl FnOnce(&std::path::Path, &mut dyn FnMut(u64), Option<&Progress>) -> Result<T, CliError>,
) -> Result<T, CliError> {
    let total = std::fs::metadata(&source.bundle)
        .map_err(|e| CliError::io(&source.bundle, e))?
        .len();
    let bars = Progress::new(
        total,
        !source.no_progress && std::io::stderr().is_terminal(),
    );
    let mut position = |n: u64| {
        if let Some(bars) = &bars {
            bars.set_position(n);
        }
    };
    let result = run(&source.bundle, &mut position, bars.as_ref());
    if let Some(bars) = bars {
        bars.finish();
    }
    result
}
