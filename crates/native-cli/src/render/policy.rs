//! The policy's answer as people read it: who sealed, who approved, and
//! each refusal by its rule. Paths, reasons and messages quote the seal
//! and approval files and the bundle, so all go through [`Untrusted`].

use std::fmt::Write as _;

use airlock_custody::Evaluation;
use airlock_custody::policy::Signer;

use super::Style;
use crate::policy::{Gate, Keys};
use crate::untrusted::Untrusted;

/// The policy block after the report; `None` when the bundle failed
/// before the policy was asked.
pub fn policy(gate: &Gate, evaluation: Option<&Evaluation>, style: Style) -> String {
    let mut out = String::new();
    match gate.keys() {
        Keys::Trust => seal_only(&mut out, evaluation, style),
        Keys::File(path) => {
            let file = Untrusted(path.display());
            let Some(evaluation) = evaluation else {
                let _ = writeln!(
                    out,
                    "policy {file}: not checked, the bundle failed verification"
                );
                return out;
            };
            let verdict = if evaluation.admitted {
                style.paint("32;1", "admitted")
            } else {
                style.paint("31;1", "REFUSED")
            };
            let _ = writeln!(out, "policy {file}: {verdict}");
            if let Some(sealer) = &evaluation.sealed_by {
                let _ = writeln!(out, "  sealed by {}", signer(sealer));
            }
            let approvals = &evaluation.approvals;
            let by: Vec<String> = approvals.approved_by.iter().map(signer).collect();
            let _ = write!(
                out,
                "  approvals: {} of {} required",
                approvals.approved_by.len(),
                approvals.required
            );
            if by.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, ", by {}", by.join(", "));
            }
            for n in &approvals.not_counted {
                let _ = writeln!(
                    out,
                    "  not counted: {}: {}",
                    Untrusted(&n.file),
                    Untrusted(&n.reason)
                );
            }
            for refusal in &evaluation.refusals {
                let _ = writeln!(out, "  refused by {}", Untrusted(refusal));
            }
        }
    }
    out
}

/// `verify --trust`: one line, as before policies existed.
fn seal_only(out: &mut String, evaluation: Option<&Evaluation>, style: Style) {
    let Some(evaluation) = evaluation else {
        let _ = writeln!(out, "seal: not checked, the bundle failed verification");
        return;
    };
    match &evaluation.sealed_by {
        Some(sealer) if evaluation.admitted => {
            let _ = writeln!(
                out,
                "seal: {}, signed by {}, for this bundle and its images",
                style.paint("32;1", "ok"),
                signer(sealer)
            );
        }
        _ => {
            for refusal in &evaluation.refusals {
                let _ = writeln!(
                    out,
                    "seal: {}: {}",
                    style.paint("31;1", "REFUSED"),
                    Untrusted(refusal)
                );
            }
        }
    }
}

/// `KEYID (keys/alice.pub): FILE`.
fn signer(s: &Signer) -> String {
    format!(
        "{} ({}): {}",
        s.key_id,
        Untrusted(&s.key),
        Untrusted(&s.file)
    )
}
