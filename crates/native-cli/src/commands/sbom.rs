//! `airlock sbom`: verify the bundle, then describe one image's OS and
//! packages as SPDX or CycloneDX JSON. Nothing is written for a bundle that
//! fails: a bill of materials vouches for bytes that were checked.

use std::io::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use verify_core::Verdict;
use verify_core::sbom::{SbomInput, Timestamp};

use super::output::write_whole;
use super::select;
use super::source::{options_for, with_progress};
use crate::cli::SbomArgs;
use crate::error::CliError;
use crate::pipeline;
use crate::render::{self, Style};
use crate::untrusted::Untrusted;

/// Verifies the bundle and writes the document; `Ok(false)` (and no
/// document) when the bundle failed.
pub fn run(args: &SbomArgs) -> Result<bool, CliError> {
    // Read before the bundle, so a bad value costs no read.
    let created = creation_time()?;
    let (options, recorded) = options_for(&args.source)?;
    // A read stops early only at a settled failure, which gets no SBOM
    // anyway; a bundle that passes is always read to its end, so its
    // packages are complete.
    let report = with_progress(&args.source, |path, progress, _| {
        pipeline::verify_file(path, options, pipeline::Reading::UntilSettled, progress)
    })?;
    if report.verdict() != Verdict::Ok {
        // stdout is the document's; the reasons go to stderr.
        let name = args.source.bundle.display().to_string();
        let text = render::verify(&name, &report, recorded.as_ref(), Style { color: false });
        let _ = std::io::stderr().write_all(text.as_bytes());
        eprintln!("airlock: the bundle failed verification; no SBOM was written");
        return Ok(false);
    }
    let image = match &args.image {
        Some(reference) => select::named(report.images(), reference)?,
        None => select::only(report.images())?,
    };
    // The same mapping the page uses: a docker-archive image is named by
    // the manifest digest its import writes.
    let input = SbomInput::from_image(image, created, env!("CARGO_PKG_VERSION")).map_err(|e| {
        CliError::Usage(format!(
            "no SBOM for {}: {e}",
            Untrusted(&image.display_name())
        ))
    })?;
    let document = args.format.write(&input);
    for note in &image.package_notes {
        eprintln!(
            "airlock: note: {} (layer {}): {}",
            Untrusted(&note.file),
            note.layer + 1,
            Untrusted(&note.message)
        );
    }
    match &args.output {
        Some(path) => write_whole(path, format!("{document}\n").as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(document.as_bytes())
                .and_then(|()| writeln!(out))
                .and_then(|()| out.flush())
                .map_err(|e| CliError::io(Path::new("<stdout>"), e))?;
        }
    }
    Ok(true)
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds,
/// <https://reproducible-builds.org/specs/source-date-epoch/>), else now.
fn creation_time() -> Result<Timestamp, CliError> {
    let seconds = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => text.trim().parse::<u64>().map_err(|_| {
            CliError::Usage(format!(
                "SOURCE_DATE_EPOCH={text:?} is not a whole number of seconds since 1970"
            ))
        })?,
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    };
    Timestamp::from_unix_seconds(seconds).map_err(|e| CliError::Usage(e.to_string()))
}
