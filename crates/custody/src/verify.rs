//! The one check of a seal or approval: signed by a trusted key, an
//! in-toto statement of the expected predicate type, about exactly the
//! expected bundle and images.

use verify_core::Sha256;

use crate::approval::ApprovalPredicate;
use crate::bundle::{BundleError, SigstoreBundle};
use crate::dsse::DsseError;
use crate::key::{KeyId, PublicKey};
use crate::seal::SealPredicate;
use crate::statement::{PredicateKind, STATEMENT_TYPE, Statement, Subject};
use crate::subjects::{Expected, ImageSubject};

/// Why a seal or approval was refused. Each names what was wrong and the
/// values involved; the caller adds the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// Not a Sigstore bundle Airlock reads.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The bundle names a key the caller does not trust (or, without a
    /// hint, none of the trusted keys signed it).
    #[error("{}", untrusted_message(.hint.as_deref(), *.trusted))]
    UntrustedKey {
        /// The bundle's `verificationMaterial.publicKey.hint`, if any.
        hint: Option<String>,
        /// How many keys were trusted.
        trusted: usize,
    },
    /// The envelope is of the wrong type or its signature does not verify
    /// with the key its hint names.
    #[error(transparent)]
    Envelope(#[from] DsseError),
    /// The payload is not an in-toto statement of the predicate's shape.
    #[error("the signed payload is not a {what}: {detail}")]
    Statement {
        /// `statement` or the predicate's type.
        what: &'static str,
        /// The parser's message.
        detail: String,
    },
    /// `_type` is not in-toto Statement v1.
    #[error("the statement's _type is `{0}`; `{STATEMENT_TYPE}` expected")]
    StatementType(String),
    /// Another predicate (a seal given where an approval belongs, or a
    /// foreign attestation).
    #[error("the statement's predicateType is `{found}`; `{expected}` expected")]
    PredicateType {
        /// The type required.
        expected: &'static str,
        /// The type written.
        found: String,
    },
    /// The statement has no subjects.
    #[error("the statement has no subjects")]
    NoSubjects,
    /// The first subject is another file.
    #[error(
        "the statement is for a bundle with SHA-256 {found} (`{name}`); this bundle's is {expected}"
    )]
    BundleDigest {
        /// This bundle's SHA-256.
        expected: Sha256,
        /// The first subject's.
        found: Sha256,
        /// The first subject's name.
        name: String,
    },
    /// A subject that is not one of the bundle's images.
    #[error("the statement names an image the bundle does not hold: {reference} @ sha256:{digest}")]
    ExtraSubject {
        /// Its name.
        reference: String,
        /// Its digest.
        digest: Sha256,
    },
    /// An image of the bundle the statement does not name.
    #[error("the statement does not name the bundle's image {reference} @ sha256:{digest}")]
    MissingSubject {
        /// Its reference.
        reference: String,
        /// Its digest.
        digest: Sha256,
    },
    /// A file-set seal names a file the sums file does not list (or lists
    /// with another digest).
    #[error("the seal names {name} with SHA-256 {digest}, which the sums file does not list")]
    FileNotListed {
        /// The sealed name.
        name: String,
        /// Its sealed digest.
        digest: Sha256,
    },
    /// The sums file lists a file (or a digest) the seal does not name.
    #[error("the sums file lists {name} with SHA-256 {digest}, which the seal does not name")]
    FileNotSealed {
        /// The listed name.
        name: String,
        /// Its listed digest.
        digest: Sha256,
    },
    /// An approval whose `approver.keyId` is not the key that signed it.
    #[error("the approval claims approver key {claimed} but was signed by {signer}")]
    ApproverNotSigner {
        /// What the predicate says.
        claimed: String,
        /// The signing key.
        signer: KeyId,
    },
}

fn untrusted_message(hint: Option<&str>, trusted: usize) -> String {
    match hint {
        Some(hint) => {
            format!("signed by key {hint}, which is not one of the {trusted} trusted key(s)")
        }
        None => {
            format!("the bundle names no key, and none of the {trusted} trusted key(s) signed it")
        }
    }
}

/// A verified seal or approval.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified<P> {
    /// The key that signed.
    pub key_id: KeyId,
    /// Its index in the trusted keys given.
    pub key_index: usize,
    /// The bundle's name as the statement recorded it.
    pub bundle_name: String,
    /// Every subject, the bundle first.
    pub subjects: Vec<Subject>,
    /// The predicate.
    pub predicate: P,
}

/// Checks a seal: `bundle_json` is the `.seal.sigstore.json` file's bytes,
/// `trusted` the sender keys, `expected` what the bundle verified to.
pub fn verify_seal(
    bundle_json: &[u8],
    trusted: &[PublicKey],
    expected: &Expected,
) -> Result<Verified<SealPredicate>, VerifyError> {
    verify(bundle_json, trusted, expected)
}

/// Checks an approval, as [`verify_seal`] does a seal, and that the
/// approver it names is the key that signed.
pub fn verify_approval(
    bundle_json: &[u8],
    trusted: &[PublicKey],
    expected: &Expected,
) -> Result<Verified<ApprovalPredicate>, VerifyError> {
    let verified: Verified<ApprovalPredicate> = verify(bundle_json, trusted, expected)?;
    let claimed = &verified.predicate.approver.key_id;
    if KeyId::from_hex(claimed) != Some(verified.key_id) {
        return Err(VerifyError::ApproverNotSigner {
            claimed: claimed.clone(),
            signer: verified.key_id,
        });
    }
    Ok(verified)
}

/// The check behind [`verify_seal`] and [`verify_approval`], for any
/// predicate kind: [`open`], then the subjects against `expected`.
pub fn verify<P: PredicateKind>(
    bundle_json: &[u8],
    trusted: &[PublicKey],
    expected: &Expected,
) -> Result<Verified<P>, VerifyError> {
    let signed: Signed<P> = open(bundle_json, trusted)?;
    let bundle_name = check_subjects(&signed.subjects, expected)?;
    Ok(Verified {
        key_id: signed.key_id,
        key_index: signed.key_index,
        bundle_name,
        subjects: signed.subjects,
        predicate: signed.predicate,
    })
}

/// A statement whose signature, statement type and predicate type were
/// checked, and whose subjects are still to be compared with what the
/// caller holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Signed<P> {
    /// The key that signed.
    pub key_id: KeyId,
    /// Its index in the trusted keys given.
    pub key_index: usize,
    /// Every subject, as signed.
    pub subjects: Vec<Subject>,
    /// The predicate.
    pub predicate: P,
}

/// Opens a Sigstore bundle: signed by a trusted key, an in-toto statement
/// v1 with predicate type `P`. The subjects are the caller's to check.
pub fn open<P: PredicateKind>(
    bundle_json: &[u8],
    trusted: &[PublicKey],
) -> Result<Signed<P>, VerifyError> {
    let bundle = SigstoreBundle::from_json(bundle_json)?;
    let envelope = bundle
        .dsse_envelope
        .as_ref()
        .ok_or(BundleError::NoEnvelope)?;
    let (key_index, key) = signer(&bundle, trusted)?;
    envelope.verify_in_toto(key)?;

    // Only signed bytes are parsed past this point.
    let statement: Statement<serde_json::Value> = serde_json::from_slice(&envelope.payload)
        .map_err(|e| VerifyError::Statement {
            what: "in-toto statement",
            detail: e.to_string(),
        })?;
    if statement.statement_type != STATEMENT_TYPE {
        return Err(VerifyError::StatementType(statement.statement_type));
    }
    if statement.predicate_type != P::PREDICATE_TYPE {
        return Err(VerifyError::PredicateType {
            expected: P::PREDICATE_TYPE,
            found: statement.predicate_type,
        });
    }
    let predicate: P =
        serde_json::from_value(statement.predicate).map_err(|e| VerifyError::Statement {
            what: P::PREDICATE_TYPE,
            detail: e.to_string(),
        })?;
    Ok(Signed {
        key_id: key.key_id(),
        key_index,
        subjects: statement.subject,
        predicate,
    })
}

/// The trusted key the bundle's hint names; without a hint, the first
/// trusted key whose signature it is.
fn signer<'k>(
    bundle: &SigstoreBundle,
    trusted: &'k [PublicKey],
) -> Result<(usize, &'k PublicKey), VerifyError> {
    let untrusted = |hint: Option<&str>| VerifyError::UntrustedKey {
        hint: hint.map(str::to_owned),
        trusted: trusted.len(),
    };
    match bundle.hint() {
        Some(hint) => {
            let id = KeyId::from_hex(hint).ok_or_else(|| untrusted(Some(hint)))?;
            trusted
                .iter()
                .enumerate()
                .find(|(_, k)| k.key_id() == id)
                .ok_or_else(|| untrusted(Some(hint)))
        }
        None => {
            let envelope = bundle
                .dsse_envelope
                .as_ref()
                .ok_or(BundleError::NoEnvelope)?;
            trusted
                .iter()
                .enumerate()
                .find(|(_, k)| envelope.verify_in_toto(k).is_ok())
                .ok_or_else(|| untrusted(None))
        }
    }
}

/// Checks the subjects against `expected`; returns the bundle's recorded
/// name.
fn check_subjects(subjects: &[Subject], expected: &Expected) -> Result<String, VerifyError> {
    let Some((file, images)) = subjects.split_first() else {
        return Err(VerifyError::NoSubjects);
    };
    if file.sha256 != expected.bundle_sha256 {
        return Err(VerifyError::BundleDigest {
            expected: expected.bundle_sha256,
            found: file.sha256,
            name: file.name.clone(),
        });
    }
    let named: Vec<ImageSubject> = images
        .iter()
        .map(|s| ImageSubject {
            reference: s.name.clone(),
            digest: s.sha256,
        })
        .collect();
    if let Some(extra) = named.iter().find(|s| !expected.images.contains(s)) {
        return Err(VerifyError::ExtraSubject {
            reference: extra.reference.clone(),
            digest: extra.digest,
        });
    }
    if let Some(missing) = expected.images.iter().find(|s| !named.contains(s)) {
        return Err(VerifyError::MissingSubject {
            reference: missing.reference.clone(),
            digest: missing.digest,
        });
    }
    Ok(file.name.clone())
}
