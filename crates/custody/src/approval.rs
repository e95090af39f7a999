//! An approver's decision: predicate type [`APPROVAL_PREDICATE_TYPE`].
//!
//! ```json
//! {"decision": "approved",
//!  "approver": {"keyId": "<hex>", "name": "alice"},
//!  "time": "2026-01-02T03:04:05Z",
//!  "tool": {"name": "airlock", "version": "0.1.0"},
//!  "verdict": "ok", "findingKinds": ["hardlinked-file"]}
//! ```
//!
//! A rejection has `"decision": "rejected"` and a `reason`. The page adds
//! its own SHA-256 to `tool`, so an approval names the code that showed the
//! approver the report.

use serde::{Deserialize, Serialize};
use verify_core::sbom::Timestamp;
use verify_core::{Report, Verdict};

use crate::key::KeyId;
use crate::statement::PredicateKind;

/// The approval's predicate type URI (version 1 of its schema).
pub const APPROVAL_PREDICATE_TYPE: &str = "https://airlock.dev/approval/v1";

/// Approved or rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The approver lets the bundle in.
    Approved,
    /// The approver refuses it; a listed approver's rejection refuses the
    /// bundle whatever others said.
    Rejected,
}

/// Who decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Approver {
    /// The signing key's id (hex); the verifier checks it is the key that
    /// signed.
    pub key_id: String,
    /// A name the approver gave, for people reading the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The program that showed the report and signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Tool {
    /// `airlock` (the CLI) or `airlock-page`.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The page's published SHA-256 (hex), when the page signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Tool {
    /// A tool record.
    pub fn new(name: &str, version: &str, sha256: Option<String>) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            sha256,
        }
    }
}

/// An approver's decision about one bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApprovalPredicate {
    /// Approved or rejected.
    pub decision: Decision,
    /// Why (required in practice for a rejection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who.
    pub approver: Approver,
    /// When, UTC, `YYYY-MM-DDTHH:MM:SSZ`.
    pub time: String,
    /// With what.
    pub tool: Tool,
    /// The verdict the approver saw (`ok` or `fail`).
    pub verdict: String,
    /// The kinds of the findings the approver saw, each once, sorted.
    pub finding_kinds: Vec<String>,
}

impl PredicateKind for ApprovalPredicate {
    const PREDICATE_TYPE: &'static str = APPROVAL_PREDICATE_TYPE;
}

impl ApprovalPredicate {
    /// The decision of the holder of `key_id` about the bundle `report`
    /// describes, made at `time` with `tool`.
    pub fn new(
        decision: Decision,
        reason: Option<String>,
        key_id: KeyId,
        name: Option<String>,
        time: Timestamp,
        tool: Tool,
        report: &Report,
    ) -> Self {
        let mut finding_kinds: Vec<String> = report
            .findings()
            .iter()
            .map(|f| f.kind.as_str().to_owned())
            .collect();
        finding_kinds.sort();
        finding_kinds.dedup();
        Self {
            decision,
            reason,
            approver: Approver {
                key_id: key_id.to_hex(),
                name,
            },
            time: time.to_string(),
            tool,
            verdict: match report.verdict() {
                Verdict::Ok => "ok",
                _ => "fail",
            }
            .to_owned(),
            finding_kinds,
        }
    }
}
