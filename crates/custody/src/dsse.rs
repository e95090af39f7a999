//! DSSE envelopes (<https://github.com/secure-systems-lab/dsse>): a payload,
//! its type, and signatures over the pre-authentication encoding of both,
//! so a signature over one type cannot be replayed as another.

use serde::{Deserialize, Serialize};

use crate::base64_json;
use crate::key::{PrivateKey, PublicKey};

/// The payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Why an envelope was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DsseError {
    /// The envelope carries something other than an in-toto statement.
    #[error("the envelope's payloadType is `{found}`; `{expected}` expected")]
    PayloadType {
        /// The type required.
        expected: &'static str,
        /// The type written.
        found: String,
    },
    /// A Sigstore bundle's envelope holds exactly one signature.
    #[error("the envelope holds {0} signatures; exactly one expected")]
    SignatureCount(usize),
    /// The signature is not the given key's over this payload.
    #[error("the envelope's signature does not verify with key {key_id}")]
    BadSignature {
        /// The key tried.
        key_id: String,
    },
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// An unauthenticated hint naming the key (Airlock writes the key id).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// The signature bytes (ECDSA, ASN.1 DER).
    #[serde(with = "base64_json")]
    pub sig: Vec<u8>,
}

/// A DSSE envelope in its JSON form (`payload` and `sig` in base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// The signed bytes.
    #[serde(with = "base64_json")]
    pub payload: Vec<u8>,
    /// What the payload is.
    pub payload_type: String,
    /// Signatures over [`pae`] of type and payload.
    pub signatures: Vec<EnvelopeSignature>,
}

/// DSSE's pre-authentication encoding:
/// `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in ASCII
/// decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload_type.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(payload_type.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload_type.as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Signs `payload` as `payload_type` with `key`; the signature's keyid
    /// is the key's id.
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &PrivateKey) -> Self {
        let sig = key.sign(&pae(payload_type, &payload));
        Self {
            payload,
            payload_type: payload_type.to_owned(),
            signatures: vec![EnvelopeSignature {
                keyid: key.public_key().key_id().to_hex(),
                sig,
            }],
        }
    }

    /// Checks that the envelope holds an in-toto statement and that its one
    /// signature is `key`'s.
    pub fn verify_in_toto(&self, key: &PublicKey) -> Result<(), DsseError> {
        if self.payload_type != IN_TOTO_PAYLOAD_TYPE {
            return Err(DsseError::PayloadType {
                expected: IN_TOTO_PAYLOAD_TYPE,
                found: self.payload_type.clone(),
            });
        }
        let [signature] = self.signatures.as_slice() else {
            return Err(DsseError::SignatureCount(self.signatures.len()));
        };
        if key.verifies(&pae(&self.payload_type, &self.payload), &signature.sig) {
            Ok(())
        } else {
            Err(DsseError::BadSignature {
                key_id: key.key_id().to_hex(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_specification_example() {
        // The DSSE protocol document's worked example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn an_envelope_verifies_with_its_key_and_type_only() {
        let key = PrivateKey::generate().expect("key");
        let other = PrivateKey::generate().expect("key");
        let env = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{}".to_vec(), &key);
        env.verify_in_toto(key.public_key()).expect("verifies");
        assert!(matches!(
            env.verify_in_toto(other.public_key()),
            Err(DsseError::BadSignature { .. })
        ));
        // The type is signed: relabelling breaks the signature, and another
        // type is refused before the signature is looked at.
        let mut relabelled = env.clone();
        relabelled.payload_type = "application/json".into();
        assert!(matches!(
            relabelled.verify_in_toto(key.public_key()),
            Err(DsseError::PayloadType { .. })
        ));
        let typed = Envelope::sign("application/json", b"{}".to_vec(), &key);
        assert!(matches!(
            typed.verify_in_toto(key.public_key()),
            Err(DsseError::PayloadType { .. })
        ));
        let json = serde_json::to_string(&env).expect("json");
        assert!(
            json.contains("\"payloadType\":\"application/vnd.in-toto+json\""),
            "{json}"
        );
        let back: Envelope = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, env);
    }
}
