//! Making a signed statement: serialise, wrap in DSSE, sign, put in a
//! Sigstore bundle hinted with the key's id.

use crate::bundle::SigstoreBundle;
use crate::dsse::{Envelope, IN_TOTO_PAYLOAD_TYPE};
use crate::key::PrivateKey;
use crate::statement::{PredicateKind, Statement};

/// Why a statement could not be signed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The statement did not serialise.
    #[error("cannot write the statement: {0}")]
    Json(String),
}

/// Signs `statement` with `key`: a Sigstore bundle whose
/// `verificationMaterial.publicKey.hint` is the key's id.
pub fn sign_statement<P: PredicateKind>(
    statement: &Statement<P>,
    key: &PrivateKey,
) -> Result<SigstoreBundle, SignError> {
    let payload = serde_json::to_vec(statement).map_err(|e| SignError::Json(e.to_string()))?;
    let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, payload, key);
    Ok(SigstoreBundle::new(
        envelope,
        key.public_key().key_id().to_hex(),
    ))
}
