//! `airlock verify`: one pass over the bundle, and its verdict; with
//! `--policy`, also whether the site's policy would admit it, and with
//! `--trust`, whether a trusted sender sealed exactly this bundle.

use std::io::Write;

use verify_core::{ImportPlan, Verdict};

use super::output::{style, write_json};
use super::source::{options_for, with_progress};
use crate::cli::VerifyArgs;
use crate::error::CliError;
use crate::pipeline;
use crate::policy::audit::Outcome;
use crate::policy::{Checks, Run, refusal_reason};
use crate::render;

/// Verifies the bundle and shows the verdict.
pub fn run(args: &VerifyArgs) -> Result<bool, CliError> {
    let source = &args.source;
    // The policy, its keys and the signed files are read first: a typo
    // should not cost a 50 GiB read.
    let mut checks = Checks::prepare(&source.bundle, &args.policy, &args.trust)?;
    let (options, recorded) = options_for(source)?;
    let report = with_progress(source, |path, progress, _| {
        pipeline::verify_file(path, options, reading(args.full_report), progress)
    })?;
    let ok = report.verdict() == Verdict::Ok;
    let evaluation = match (&checks.gate, ok) {
        (Some(gate), true) => {
            let plan = ImportPlan::from_report(&report)
                .map_err(|e| CliError::Usage(format!("the bundle cannot be planned: {e}")))?;
            Some(gate.evaluate(&report, &plan)?)
        }
        _ => None,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        match (&checks.gate, serde_json::to_value(&report)) {
            (Some(gate), Ok(serde_json::Value::Object(mut object))) => {
                object.insert("policy".to_owned(), gate.to_json(evaluation.as_ref()));
                write_json(&mut out, &object)?;
            }
            _ => write_json(&mut out, &report)?,
        }
    } else {
        let name = source.bundle.display().to_string();
        let text = render::verify(&name, &report, recorded.as_ref(), style());
        let _ = out.write_all(text.as_bytes());
        if let Some(gate) = &checks.gate {
            let _ = out.write_all(render::policy(gate, evaluation.as_ref(), style()).as_bytes());
        }
    }
    let admitted = evaluation.as_ref().is_none_or(|e| e.admitted);
    let (result, reason) = match &evaluation {
        _ if !ok => (
            Outcome::Refused,
            Some("the bundle failed verification".to_owned()),
        ),
        Some(e) if !e.admitted => (Outcome::Refused, Some(refusal_reason(e))),
        _ => (Outcome::Admitted, None),
    };
    let run = Run {
        command: "verify",
        bundle: &source.bundle,
        target: None,
        report: Some(&report),
        evaluation: evaluation.as_ref(),
    };
    checks.record(&run, result, reason)?;
    Ok(ok && admitted)
}

/// `--full-report` reads on past a settled verdict.
pub fn reading(full_report: bool) -> pipeline::Reading {
    if full_report {
        pipeline::Reading::ToTheEnd
    } else {
        pipeline::Reading::UntilSettled
    }
}
