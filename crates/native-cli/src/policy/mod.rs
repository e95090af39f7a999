//! Policy at import: what `--policy` (or `verify --trust`) needs from the
//! disk before the bundle is read, and the check between the verdict and
//! the commit.
//!
//! The policy file, its keys and the seal and approval files are all read
//! first: a mistake there is a usage error (exit 2) that costs no read of
//! the bundle. The check itself is `airlock_custody::Policy::evaluate`,
//! run on the report and import plan of the single read, so the seal is
//! compared with the SHA-256 of the very bytes that were staged; the
//! import commits only if it admits the bundle.

pub mod audit;
mod file;
mod signed;

use std::path::{Path, PathBuf};

use airlock_custody::{Evaluation, Expected, ListedKey, Policy, Rules};
use serde::Serialize;
use verify_core::{ImportPlan, Report};

use self::audit::{AuditLog, Entry, Outcome};
use self::signed::Signed;
use crate::cli::PolicyArgs;
use crate::commands::custody::public_key;
use crate::error::CliError;

/// Where the keys came from.
#[derive(Debug, Clone)]
pub enum Keys {
    /// A policy file.
    File(PathBuf),
    /// `verify --trust`: a seal by one of these keys, nothing else.
    Trust,
}

/// A policy and the signed files it will judge, read before the bundle.
pub struct Gate {
    keys: Keys,
    policy: Policy,
    seal: Option<Signed>,
    approvals: Vec<Signed>,
}

/// The policy's part of `--json`.
#[derive(Serialize)]
struct Shown<'a> {
    /// The policy file; absent for `verify --trust`.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    /// Whether the bundle got as far as the policy (it verified).
    evaluated: bool,
    #[serde(flatten)]
    evaluation: Option<&'a Evaluation>,
}

impl Gate {
    /// The gate the arguments ask for, if any. `trust` is `verify --trust`.
    pub fn prepare(
        bundle: &Path,
        args: &PolicyArgs,
        trust: &[PathBuf],
    ) -> Result<Option<Self>, CliError> {
        let (keys, policy) = match (&args.policy, trust) {
            (Some(path), _) => (Keys::File(path.clone()), file::load(path)?),
            (None, []) => {
                if args.seal.is_some() || !args.approvals.is_empty() {
                    return Err(CliError::Usage(
                        "--seal and --approval are checked against a policy: pass --policy FILE \
                         (or, for verify, --trust KEY.pub)"
                            .into(),
                    ));
                }
                return Ok(None);
            }
            (None, trust) => {
                if !args.approvals.is_empty() {
                    return Err(CliError::Usage(
                        "--approval needs --policy: --trust checks the seal only".into(),
                    ));
                }
                let senders = trust
                    .iter()
                    .map(|path| {
                        Ok(ListedKey {
                            key: public_key(path)?,
                            label: path.display().to_string(),
                        })
                    })
                    .collect::<Result<Vec<_>, CliError>>()?;
                let policy = Policy::new(senders, Vec::new(), Rules::new(0))
                    .map_err(|e| CliError::Usage(e.to_string()))?;
                (Keys::Trust, policy)
            }
        };
        let seal = signed::seal(bundle, args.seal.as_deref())?;
        let approvals = match keys {
            // No approver is trusted, so no approval could count.
            Keys::Trust => Vec::new(),
            Keys::File(_) => signed::approvals(bundle, &args.approvals)?,
        };
        Ok(Some(Self {
            keys,
            policy,
            seal,
            approvals,
        }))
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The policy file, if the keys came from one.
    pub fn file(&self) -> Option<&Path> {
        match &self.keys {
            Keys::File(path) => Some(path),
            Keys::Trust => None,
        }
    }

    /// The policy's answer for a bundle that verified: `report` and `plan`
    /// of the read whose files are staged.
    pub fn evaluate(&self, report: &Report, plan: &ImportPlan) -> Result<Evaluation, CliError> {
        let sha = report
            .bundle()
            .sha256
            .ok_or_else(|| CliError::Usage("the bundle was not read to its end".into()))?;
        let expected = Expected::from_plan(sha, plan);
        let approvals: Vec<_> = self.approvals.iter().map(Signed::as_file).collect();
        Ok(self.policy.evaluate(
            report,
            &expected,
            self.seal.as_ref().map(Signed::as_file),
            &approvals,
        ))
    }

    /// The `policy` object of `--json`: the evaluation, or `evaluated:
    /// false` when the bundle failed before the policy was asked.
    pub fn to_json(&self, evaluation: Option<&Evaluation>) -> serde_json::Value {
        let shown = Shown {
            file: self.file().map(|p| p.display().to_string()),
            evaluated: evaluation.is_some(),
            evaluation,
        };
        serde_json::to_value(shown).unwrap_or(serde_json::Value::Null)
    }
}

/// What a run records in the audit log.
pub struct Run<'a> {
    /// `load`, `push` or `verify`.
    pub command: &'static str,
    pub bundle: &'a Path,
    pub target: Option<String>,
    /// The report, when the bundle was read.
    pub report: Option<&'a Report>,
    /// The policy's answer, when it was asked.
    pub evaluation: Option<&'a Evaluation>,
}

impl Run<'_> {
    fn entry(&self, gate: Option<&Gate>, result: Outcome, reason: Option<String>) -> Entry {
        let images = self
            .report
            .and_then(|r| {
                let sha = r.bundle().sha256?;
                let plan = ImportPlan::from_report(r).ok()?;
                Some(Expected::from_plan(sha, &plan).images)
            })
            .unwrap_or_default()
            .into_iter()
            .map(|i| i.reference)
            .collect();
        Entry {
            time: audit::now(),
            command: self.command,
            bundle: self.bundle.display().to_string(),
            bundle_sha256: self
                .report
                .and_then(|r| r.bundle().sha256)
                .map(|s| s.to_hex()),
            images,
            target: self.target.clone(),
            policy: gate.and_then(Gate::file).map(|p| p.display().to_string()),
            seal_key_id: self
                .evaluation
                .and_then(|e| e.sealed_by.as_ref())
                .map(|s| s.key_id.clone()),
            approver_key_ids: self
                .evaluation
                .map(|e| {
                    e.approvals
                        .approved_by
                        .iter()
                        .map(|s| s.key_id.clone())
                        .collect()
                })
                .unwrap_or_default(),
            result,
            reason,
        }
    }
}

/// Why the policy refused, in one line for the log.
pub fn refusal_reason(evaluation: &Evaluation) -> String {
    evaluation
        .refusals
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Everything `--policy`, `--seal`, `--approval` and `--audit-log` need,
/// opened and read before the bundle (and before an import target is
/// opened): their mistakes are usage errors that cost nothing.
pub struct Checks {
    pub gate: Option<Gate>,
    pub audit: Option<AuditLog>,
}

impl Checks {
    pub fn prepare(bundle: &Path, args: &PolicyArgs, trust: &[PathBuf]) -> Result<Self, CliError> {
        let gate = Gate::prepare(bundle, args, trust)?;
        let audit = args.audit_log.as_deref().map(AuditLog::open).transpose()?;
        Ok(Self { gate, audit })
    }

    /// Appends the run's line, if there is a log.
    pub fn record(
        &mut self,
        run: &Run<'_>,
        result: Outcome,
        reason: Option<String>,
    ) -> Result<(), CliError> {
        let Some(log) = &mut self.audit else {
            return Ok(());
        };
        log.append(&run.entry(self.gate.as_ref(), result, reason))
    }
}
