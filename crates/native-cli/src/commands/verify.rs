//! `airlock verify`: one pass over the bundle, and its verdict; with
//! `--seal`, also whether a trusted sender sealed exactly this bundle.

use std::io::Write;

use verify_core::Verdict;

use super::custody::{checked, public_key, read_signed_file};
use super::output::{style, write_json};
use super::source::{options_for, with_progress};
use crate::cli::VerifyArgs;
use crate::error::CliError;
use crate::pipeline;
use crate::render;
use crate::untrusted::Untrusted;

/// Verifies the bundle and shows the verdict.
pub fn run(args: &VerifyArgs) -> Result<bool, CliError> {
    let source = &args.source;
    // Key files are read first: a typo should not cost a 50 GiB read.
    let trusted = args
        .trust
        .iter()
        .map(|path| public_key(path))
        .collect::<Result<Vec<_>, _>>()?;
    let seal = match &args.seal {
        Some(path) => Some((path, read_signed_file(path)?)),
        None => None,
    };
    let (options, recorded) = options_for(source)?;
    let report = with_progress(source, |path, progress, _| {
        pipeline::verify_file(path, options, reading(args.full_report), progress)
    })?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        write_json(&mut out, &report)?;
    } else {
        let name = source.bundle.display().to_string();
        let text = render::verify(&name, &report, recorded.as_ref(), style());
        let _ = out.write_all(text.as_bytes());
    }
    let ok = report.verdict() == Verdict::Ok;
    let Some((seal_path, seal)) = seal else {
        return Ok(ok);
    };
    if !ok {
        eprintln!("airlock: the bundle failed, so its seal was not checked");
        return Ok(false);
    }
    let checked = checked(report)?;
    match airlock_custody::verify_seal(&seal, &trusted, &checked.expected) {
        Ok(verified) => {
            let line = format!(
                "seal: ok, signed by {} ({}), for this bundle and its {} image subject(s)\n",
                verified.key_id,
                Untrusted(args.trust[verified.key_index].display()),
                checked.expected.images.len()
            );
            // With --json stdout is the report alone.
            if args.json {
                eprint!("{line}");
            } else {
                let _ = out.write_all(line.as_bytes());
            }
            Ok(true)
        }
        Err(e) => {
            eprintln!(
                "airlock: seal {}: {}",
                Untrusted(seal_path.display()),
                Untrusted(&e)
            );
            Ok(false)
        }
    }
}

/// `--full-report` reads on past a settled verdict.
pub fn reading(full_report: bool) -> pipeline::Reading {
    if full_report {
        pipeline::Reading::ToTheEnd
    } else {
        pipeline::Reading::UntilSettled
    }
}
