//! A verified bundle against a [`Policy`]: the seal, the approvals, then
//! the rules on the report, each refusal naming its rule.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use verify_core::Report;

use super::{ListedKey, Policy};
use crate::approval::Decision;
use crate::key::{KeyId, PublicKey};
use crate::subjects::Expected;
use crate::verify::{verify_approval, verify_seal};

/// A seal or approval file: its name (for messages) and bytes.
#[derive(Debug, Clone, Copy)]
pub struct SignedFile<'a> {
    /// The file's path as the user gave or Airlock found it.
    pub name: &'a str,
    /// Its contents.
    pub json: &'a [u8],
}

/// The rule a refusal comes from, named as the policy file writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Rule {
    /// The seal must verify with a sender key, for this exact bundle.
    #[serde(rename = "keys.senders")]
    Senders,
    /// A listed approver rejected the bundle.
    #[serde(rename = "keys.approvers")]
    Approvers,
    /// Not enough distinct approvers approved.
    #[serde(rename = "rules.approvals_required")]
    ApprovalsRequired,
    /// An image no pattern allows.
    #[serde(rename = "rules.allowed_images")]
    AllowedImages,
    /// The bundle is too large.
    #[serde(rename = "rules.max_bundle_bytes")]
    MaxBundleBytes,
    /// A warning the site treats as an error.
    #[serde(rename = "rules.fail_on")]
    FailOn,
}

impl Rule {
    /// The rule's name in the policy file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Senders => "keys.senders",
            Self::Approvers => "keys.approvers",
            Self::ApprovalsRequired => "rules.approvals_required",
            Self::AllowedImages => "rules.allowed_images",
            Self::MaxBundleBytes => "rules.max_bundle_bytes",
            Self::FailOn => "rules.fail_on",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the bundle may not be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Refusal {
    /// The rule.
    pub rule: Rule,
    /// The seal or approval file concerned, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// What was wrong. Holds text from the bundle and the signed files:
    /// escape it before showing it on a terminal.
    pub message: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{}: {file}: {}", self.rule, self.message),
            None => write!(f, "{}: {}", self.rule, self.message),
        }
    }
}

/// A key that signed a file the policy accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Signer {
    /// The key's id (hex SHA-256 of its SubjectPublicKeyInfo).
    pub key_id: String,
    /// The key as the policy lists it (its path there).
    pub key: String,
    /// The signed file.
    pub file: String,
}

/// A listed approver's rejection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Rejection {
    /// Who rejected.
    #[serde(flatten)]
    pub by: Signer,
    /// The reason they gave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An approval file that did not count, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NotCounted {
    /// The file.
    pub file: String,
    /// Why: signed by an unlisted key, for another bundle, a second
    /// approval by a key already counted, …
    pub reason: String,
}

/// The approvals as the policy counted them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Approvals {
    /// `approvals_required`.
    pub required: usize,
    /// One entry per distinct approver key that approved.
    pub approved_by: Vec<Signer>,
    /// Listed approvers that rejected the bundle.
    pub rejected_by: Vec<Rejection>,
    /// Files that did not count.
    pub not_counted: Vec<NotCounted>,
}

/// The policy's answer for one verified bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Evaluation {
    /// Whether the bundle may be imported: no rule refused it.
    pub admitted: bool,
    /// The key that sealed it, when the seal verified.
    pub sealed_by: Option<Signer>,
    /// The approvals.
    pub approvals: Approvals,
    /// Every rule that refused, in the policy's order.
    pub refusals: Vec<Refusal>,
}

impl Policy {
    /// Checks a bundle that verified: `report` is its report, `expected`
    /// what a statement about it must name (from the same read, so the
    /// seal is compared with the bytes imported), `seal` the seal file if
    /// one was found, `approvals` every approval file found or given.
    pub fn evaluate(
        &self,
        report: &Report,
        expected: &Expected,
        seal: Option<SignedFile<'_>>,
        approvals: &[SignedFile<'_>],
    ) -> Evaluation {
        let mut refusals = Vec::new();
        let sealed_by = self.check_seal(expected, seal, &mut refusals);
        let approvals = self.count_approvals(expected, approvals, &mut refusals);
        self.check_rules(report, expected, &mut refusals);
        Evaluation {
            admitted: refusals.is_empty(),
            sealed_by,
            approvals,
            refusals,
        }
    }

    fn check_seal(
        &self,
        expected: &Expected,
        seal: Option<SignedFile<'_>>,
        refusals: &mut Vec<Refusal>,
    ) -> Option<Signer> {
        let Some(seal) = seal else {
            refusals.push(Refusal {
                rule: Rule::Senders,
                file: None,
                message: format!(
                    "the bundle has no seal; it must be sealed by one of the {} sender key(s)",
                    self.senders.len()
                ),
            });
            return None;
        };
        match verify_seal(seal.json, &keys(&self.senders), expected) {
            Ok(verified) => Some(signer(
                &self.senders,
                verified.key_index,
                verified.key_id,
                seal,
            )),
            Err(e) => {
                refusals.push(Refusal {
                    rule: Rule::Senders,
                    file: Some(seal.name.to_owned()),
                    message: e.to_string(),
                });
                None
            }
        }
    }

    fn count_approvals(
        &self,
        expected: &Expected,
        files: &[SignedFile<'_>],
        refusals: &mut Vec<Refusal>,
    ) -> Approvals {
        let trusted = keys(&self.approvers);
        let mut approved_by: Vec<Signer> = Vec::new();
        let mut rejected_by: Vec<Rejection> = Vec::new();
        let mut not_counted = Vec::new();
        for file in files {
            let verified = match verify_approval(file.json, &trusted, expected) {
                Ok(verified) => verified,
                Err(e) => {
                    not_counted.push(NotCounted {
                        file: file.name.to_owned(),
                        reason: e.to_string(),
                    });
                    continue;
                }
            };
            let by = signer(&self.approvers, verified.key_index, verified.key_id, *file);
            match verified.predicate.decision {
                Decision::Rejected => rejected_by.push(Rejection {
                    by,
                    reason: verified.predicate.reason,
                }),
                Decision::Approved => {
                    if let Some(first) = approved_by.iter().find(|s| s.key_id == by.key_id) {
                        not_counted.push(NotCounted {
                            file: by.file,
                            reason: format!(
                                "key {} approved already ({}); a key counts once",
                                by.key_id, first.file
                            ),
                        });
                    } else {
                        approved_by.push(by);
                    }
                }
            }
        }
        for rejection in &rejected_by {
            refusals.push(Refusal {
                rule: Rule::Approvers,
                file: Some(rejection.by.file.clone()),
                message: format!(
                    "rejected by {} ({}): {}",
                    rejection.by.key_id,
                    rejection.by.key,
                    rejection.reason.as_deref().unwrap_or("no reason given")
                ),
            });
        }
        let required = self.rules.approvals_required;
        if approved_by.len() < required {
            let mut message = format!(
                "{} distinct approver key(s) approved this bundle; {required} required",
                approved_by.len()
            );
            for n in &not_counted {
                message.push_str(&format!("; not counted: {}: {}", n.file, n.reason));
            }
            refusals.push(Refusal {
                rule: Rule::ApprovalsRequired,
                file: None,
                message,
            });
        }
        Approvals {
            required,
            approved_by,
            rejected_by,
            not_counted,
        }
    }

    fn check_rules(&self, report: &Report, expected: &Expected, refusals: &mut Vec<Refusal>) {
        if let Some(patterns) = &self.rules.allowed_images {
            for image in &expected.images {
                if !patterns.allows(&image.reference) {
                    refusals.push(Refusal {
                        rule: Rule::AllowedImages,
                        file: None,
                        message: format!(
                            "image {} is not allowed (allowed: {})",
                            image.reference,
                            patterns.patterns().join(", ")
                        ),
                    });
                }
            }
        }
        let size = report.bundle().size;
        if let Some(max) = self.rules.max_bundle_bytes
            && size > max
        {
            refusals.push(Refusal {
                rule: Rule::MaxBundleBytes,
                file: None,
                message: format!("the bundle is {size} bytes; at most {max} are allowed"),
            });
        }
        let mut present: BTreeMap<&'static str, usize> = BTreeMap::new();
        for finding in report.findings() {
            if self.rules.fail_on.contains(&finding.kind) {
                *present.entry(finding.kind.as_str()).or_default() += 1;
            }
        }
        for kind in self.rules.fail_on.iter().map(|k| k.as_str()) {
            if let Some(count) = present.remove(kind) {
                refusals.push(Refusal {
                    rule: Rule::FailOn,
                    file: None,
                    message: format!("the report has {count} `{kind}` finding(s)"),
                });
            }
        }
    }
}

fn keys(listed: &[ListedKey]) -> Vec<PublicKey> {
    listed.iter().map(|k| k.key.clone()).collect()
}

fn signer(listed: &[ListedKey], index: usize, key_id: KeyId, file: SignedFile<'_>) -> Signer {
    Signer {
        key_id: key_id.to_hex(),
        key: listed
            .get(index)
            .map_or_else(String::new, |k| k.label.clone()),
        file: file.name.to_owned(),
    }
}
