//! The bundle a command reads, as the arguments name it: the options its
//! check runs with, and the progress shown while it is read.

use std::io::IsTerminal;
use std::path::Path;

use verify_core::Options;

use crate::cli::Source;
use crate::error::CliError;
use crate::progress::Progress;
use crate::sidecar::{self, Recorded};

/// The verifier's options for `source` (the recorded hash, the limits) and
/// the recorded hash as found, for the report.
pub fn options_for(source: &Source) -> Result<(Options, Option<Recorded>), CliError> {
    let recorded = sidecar::recorded(
        &source.bundle,
        source.sha256.as_deref(),
        source.sums.as_deref(),
    )?;
    let mut options = Options::new().with_expected_sha256(recorded.as_ref().map(|r| r.sha256));
    for (name, value) in &source.limits {
        // The names were checked when the arguments were parsed.
        options
            .limits_mut()
            .set(name, *value)
            .map_err(|e| CliError::Usage(e.to_string()))?;
    }
    Ok((options, recorded))
}

/// Runs `run` over the bundle with a progress bar on stderr when it is a
/// terminal (and `--no-progress` was not given), cleared when it ends.
pub fn with_progress<T>(
    source: &Source,
    run: impl FnOnce(&Path, &mut dyn FnMut(u64), Option<&Progress>) -> Result<T, CliError>,
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
