//! `airlock inspect`: the same single pass as `verify`, showing what the
//! images hold: config, OS, packages, what each layer changed, and on
//! request (`--files`) the file tree itself.

use std::io::Write;

use verify_core::{ImageReport, Verdict};

use super::output::{style, write_json};
use super::select;
use super::source::{options_for, with_progress};
use super::verify::reading;
use crate::cli::InspectArgs;
use crate::error::CliError;
use crate::pipeline;
use crate::render::{self, View};

/// Verifies the bundle and shows its images (or the one `--image` names).
pub fn run(args: &InspectArgs) -> Result<bool, CliError> {
    let (mut options, recorded) = options_for(&args.source)?;
    // The trees are built either way; keeping them costs memory, so only
    // the outputs that show them ask for them.
    options = options.with_files(args.json || args.files);
    let report = with_progress(&args.source, |path, progress, _| {
        pipeline::verify_file(path, options, reading(args.full_report), progress)
    })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        write_json(&mut out, &report)?;
        return Ok(report.verdict() == Verdict::Ok);
    }
    let images: Vec<&ImageReport> = match &args.image {
        Some(reference) => vec![select::named(report.images(), reference)?],
        None => report.images().iter().collect(),
    };
    let only_layer = match args.layer {
        Some(n) => Some(layer_index(&images, n)?),
        None => None,
    };
    let view = if args.files {
        View::Files { only_layer }
    } else {
        View::Details
    };
    let name = args.source.bundle.display().to_string();
    let text = render::inspect(&name, &report, &images, view, recorded.as_ref(), style());
    let _ = out.write_all(text.as_bytes());
    Ok(report.verdict() == Verdict::Ok)
}

/// `--layer N` (from 1) as an index into each shown image's layers, which
/// must all have that many.
fn layer_index(images: &[&ImageReport], n: u32) -> Result<usize, CliError> {
    let index = usize::try_from(n - 1).map_err(|_| CliError::Usage(format!("no layer {n}")))?;
    match images.iter().find(|i| i.layers.len() <= index) {
        Some(short) => Err(CliError::Usage(format!(
            "--layer {n}: {} has {} layer(s)",
            short.display_name(),
            short.layers.len()
        ))),
        None => Ok(index),
    }
}
