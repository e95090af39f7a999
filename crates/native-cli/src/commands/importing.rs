//! The single read of `load` and `push`: verify, hand files to a target,
//! ask the site's policy (if any) before the commit, and show the report,
//! the policy's answer and what was imported.

use std::io::Write;

use airlock_custody::Evaluation;
use verify_core::{ImportPlan, Options, Report, Verdict};

use super::output::{style, write_json};
use super::source::with_progress;
use crate::cli::Source;
use crate::error::CliError;
use crate::import::{FileTarget, ImportError};
use crate::pipeline;
use crate::policy::audit::Outcome;
use crate::policy::{Checks, Run, refusal_reason};
use crate::progress::{Progress, Watched};
use crate::render;
use crate::sidecar::Recorded;

/// How an import is asked for and recorded.
pub struct Import<'a> {
    pub source: &'a Source,
    pub json: bool,
    pub options: Options,
    pub recorded: Option<Recorded>,
    /// `load` or `push`, for the audit log.
    pub command: &'static str,
    /// The target as the audit log names it.
    pub target_name: String,
}

/// Verifies the source while `target` takes its files in; the target
/// commits only if the bundle verified and the policy admits it. A bundle
/// that failed or was refused is `Ok(false)`, an import that failed on a
/// good bundle is the error.
pub fn import_into(
    import: Import<'_>,
    checks: &mut Checks,
    target: &mut dyn FileTarget,
) -> Result<bool, CliError> {
    let Import {
        source,
        json,
        options,
        recorded,
        command,
        target_name,
    } = import;
    // The whole-file hash is worth its CPU only to something that reads it:
    // a recorded hash, a policy (seals name the file by it), an audit log.
    // Skipped, the report says so instead of showing one.
    let file_hash = if recorded.is_none() && checks.gate.is_none() && checks.audit.is_none() {
        pipeline::FileHash::Skip
    } else {
        pipeline::FileHash::Compute
    };
    let gate = checks.gate.as_ref();
    let mut evaluation: Option<Result<Evaluation, CliError>> = None;
    let mut admit = |report: &Report, plan: &ImportPlan| {
        let Some(gate) = gate else {
            return true;
        };
        let answer = gate.evaluate(report, plan);
        let admitted = matches!(&answer, Ok(e) if e.admitted);
        evaluation = Some(answer);
        admitted
    };
    let loaded = with_progress(source, |path, progress, bars| {
        let mut watched = Watched {
            inner: target,
            bar: bars.map(Progress::file_bar),
        };
        pipeline::load_file(path, options, file_hash, &mut watched, &mut admit, progress)
    });
    let bundle = &source.bundle;
    let pipeline::Loaded {
        report,
        outcome,
        whole_file_hash_skipped,
    } = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            let run = Run {
                command,
                bundle,
                target: Some(target_name),
                report: None,
                evaluation: None,
            };
            checks.record(&run, Outcome::Error, Some(e.to_string()))?;
            return Err(e);
        }
    };
    let evaluation = evaluation.transpose()?;
    let verified = report.verdict() == Verdict::Ok;
    show(
        Shown {
            source,
            json,
            report: &report,
            recorded: recorded.as_ref(),
            whole_file_hash_skipped,
        },
        &outcome,
        checks,
        evaluation.as_ref(),
    )?;

    let (result, reason) = match &outcome {
        Ok(_) => (Outcome::Imported, None),
        Err(ImportError::NotAdmitted) => {
            (Outcome::Refused, evaluation.as_ref().map(refusal_reason))
        }
        Err(_) if !verified => (
            Outcome::Refused,
            Some("the bundle failed verification".to_owned()),
        ),
        Err(e) => (Outcome::Error, Some(e.to_string())),
    };
    let run = Run {
        command,
        bundle,
        target: Some(target_name),
        report: Some(&report),
        evaluation: evaluation.as_ref(),
    };
    let logged = checks.record(&run, result, reason);
    match outcome {
        Ok(_) => {
            // The images are in: say so even if the log then failed.
            logged.map(|()| true).map_err(|e| {
                CliError::Usage(format!("imported, but the audit log was not written: {e}"))
            })
        }
        Err(ImportError::NotAdmitted) => logged.map(|()| false),
        Err(_) if !verified => logged.map(|()| false),
        Err(e) => Err(CliError::Import(e)),
    }
}

/// What the read found, and how it was read.
struct Shown<'a> {
    source: &'a Source,
    json: bool,
    report: &'a Report,
    recorded: Option<&'a Recorded>,
    whole_file_hash_skipped: bool,
}

/// The report, the policy's answer and the import's, on stdout.
fn show(
    shown: Shown<'_>,
    outcome: &Result<crate::import::ImportSummary, ImportError>,
    checks: &Checks,
    evaluation: Option<&Evaluation>,
) -> Result<(), CliError> {
    let Shown {
        source,
        json,
        report,
        recorded,
        whole_file_hash_skipped: skipped,
    } = shown;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let verified = report.verdict() == Verdict::Ok;
    if json {
        let (import, error) = match outcome {
            Ok(summary) => (Some(summary), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let mut value = serde_json::json!({
            "report": report,
            "import": import,
            "import_error": error,
            // `report.bundle.sha256` is null then: not computed, not missed.
            "whole_file_hash_skipped": skipped,
        });
        if let (Some(gate), Some(object)) = (&checks.gate, value.as_object_mut()) {
            object.insert("policy".to_owned(), gate.to_json(evaluation));
        }
        return write_json(&mut out, &value);
    }
    let name = source.bundle.display().to_string();
    let hashing = if skipped {
        render::Hashing::Skipped
    } else {
        render::Hashing::Whole
    };
    let text = render::verify_read(&name, report, recorded, hashing, style());
    let _ = out.write_all(text.as_bytes());
    if let Some(gate) = &checks.gate {
        let _ = out.write_all(render::policy(gate, evaluation, style()).as_bytes());
    }
    match outcome {
        Ok(summary) => {
            let _ = out.write_all(render::imported(summary, style()).as_bytes());
        }
        Err(ImportError::NotAdmitted) => {
            let _ = writeln!(out, "nothing was imported: the policy refused the bundle");
        }
        Err(_) if !verified => {
            let _ = writeln!(out, "nothing was imported: the bundle did not verify");
        }
        Err(_) => {}
    }
    Ok(())
}
