//! A site's import policy: which keys may seal and approve, how many
//! approvals a bundle needs, which images may come in, how large a bundle
//! may be, and which warnings refuse it.
//!
//! Pure: the caller reads the policy's file and key files and hands over
//! the seal and approval files' bytes; [`Policy::evaluate`] says whether a
//! verified bundle may be imported and, if not, which rules refused it.
//! The same answer on every face, like [`crate::verify`].

mod evaluate;
mod images;

use verify_core::{FindingKind, Severity};

use crate::key::PublicKey;

pub use evaluate::{
    Approvals, Evaluation, NotCounted, Refusal, Rejection, Rule, SignedFile, Signer,
};
pub use images::{ImagePatterns, PatternError};

/// A key the policy lists, with how the policy named it (its path there),
/// for messages.
#[derive(Debug, Clone)]
pub struct ListedKey {
    /// The key.
    pub key: PublicKey,
    /// Where it came from, as the policy wrote it.
    pub label: String,
}

/// The `[rules]` of a policy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Rules {
    /// Distinct approver keys that must have approved this exact bundle.
    pub approvals_required: usize,
    /// When set, every image reference must be allowed by a pattern.
    pub allowed_images: Option<ImagePatterns>,
    /// When set, the largest bundle (in bytes) that may be imported.
    pub max_bundle_bytes: Option<u64>,
    /// Warning kinds that refuse the bundle.
    pub fail_on: Vec<FindingKind>,
}

impl Rules {
    /// Rules that require `approvals_required` approvals and nothing else.
    pub fn new(approvals_required: usize) -> Self {
        Self {
            approvals_required,
            allowed_images: None,
            max_bundle_bytes: None,
            fail_on: Vec::new(),
        }
    }
}

/// Why a policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A policy must name who may seal.
    #[error("keys.senders: no sender key is listed, so no seal could verify")]
    NoSenders,
    /// More approvals are required than there are approvers.
    #[error(
        "rules.approvals_required: {required} approval(s) required but only {listed} \
         approver key(s) listed"
    )]
    TooFewApprovers {
        /// `approvals_required`.
        required: usize,
        /// Distinct approver keys.
        listed: usize,
    },
    /// `fail_on` names a kind that is an error already.
    #[error("rules.fail_on: `{0}` is an error already; fail_on takes warning kinds")]
    NotAWarning(FindingKind),
    /// An `allowed_images` pattern.
    #[error("rules.allowed_images: {0}")]
    Pattern(#[from] PatternError),
}

/// The keys and rules a bundle is imported under.
#[derive(Debug, Clone)]
pub struct Policy {
    senders: Vec<ListedKey>,
    approvers: Vec<ListedKey>,
    rules: Rules,
}

impl Policy {
    /// A policy; refuses one that no bundle could pass or that says what it
    /// cannot mean.
    pub fn new(
        senders: Vec<ListedKey>,
        approvers: Vec<ListedKey>,
        rules: Rules,
    ) -> Result<Self, PolicyError> {
        if senders.is_empty() {
            return Err(PolicyError::NoSenders);
        }
        let mut distinct: Vec<_> = approvers.iter().map(|k| k.key.key_id()).collect();
        distinct.sort();
        distinct.dedup();
        if rules.approvals_required > distinct.len() {
            return Err(PolicyError::TooFewApprovers {
                required: rules.approvals_required,
                listed: distinct.len(),
            });
        }
        if let Some(kind) = rules
            .fail_on
            .iter()
            .find(|k| k.severity() != Severity::Warning)
        {
            return Err(PolicyError::NotAWarning(*kind));
        }
        Ok(Self {
            senders,
            approvers,
            rules,
        })
    }

    /// The keys that may seal.
    pub fn senders(&self) -> &[ListedKey] {
        &self.senders
    }

    /// The keys that may approve or reject.
    pub fn approvers(&self) -> &[ListedKey] {
        &self.approvers
    }

    /// The rules.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }
}
