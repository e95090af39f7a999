//! The single read of `load` and `push`: verify, hand files to a target,
//! and show the report and what was imported.

use std::io::Write;

use verify_core::{Options, Verdict};

use super::output::{style, write_json};
use super::source::with_progress;
use crate::cli::Source;
use crate::error::CliError;
use crate::import::FileTarget;
use crate::pipeline;
use crate::progress::{Progress, Watched};
use crate::render;
use crate::sidecar::Recorded;

/// Verifies `source` while `target` takes its files in; the target commits
/// only if the bundle verified. A bundle that failed is `Ok(false)`, an
/// import that failed on a good bundle is the error.
pub fn import_into(
    source: &Source,
    json: bool,
    options: Options,
    recorded: Option<Recorded>,
    target: &mut dyn FileTarget,
) -> Result<bool, CliError> {
    let (report, outcome) = with_progress(source, |path, progress, bars| {
        let mut watched = Watched {
            inner: target,
            bar: bars.map(Progress::file_bar),
        };
        pipeline::load_file(path, options, &mut watched, progress)
    })?;
    let verified = report.verdict() == Verdict::Ok;
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
