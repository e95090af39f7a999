//! Sigstore bundle v0.3 in its protobuf JSON form
//! (sigstore/protobuf-specs `sigstore_bundle.proto`, camelCase field
//! names): the DSSE envelope and, as verification material, the hint of a
//! public key the verifier already holds. No certificate, transparency log
//! entry or timestamp: an air-gapped site trusts keys, not Fulcio or Rekor.

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;

/// The media type Airlock writes.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The form of the v0.3 media type some writers used first; read too.
const LEGACY_V03_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle+json;version=0.3";
/// Far larger than a seal of a bundle with thousands of layers.
pub const MAX_BUNDLE_JSON_LEN: usize = 16 << 20;

/// Why a file is not a Sigstore bundle Airlock reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// Not JSON of a bundle's shape.
    #[error("not a Sigstore bundle: {0}")]
    Json(String),
    /// Larger than any bundle Airlock writes.
    #[error("{0} bytes is larger than a Sigstore bundle can be here")]
    TooLarge(usize),
    /// Another media type (another bundle version, or not a bundle).
    #[error("mediaType is `{0}`; `{BUNDLE_MEDIA_TYPE}` expected")]
    MediaType(String),
    /// The bundle signs a message digest, not a DSSE envelope.
    #[error("the bundle holds no dsseEnvelope")]
    NoEnvelope,
}

/// `verificationMaterial.publicKey`: which key, by hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKeyIdentifier {
    /// Airlock writes the key id (hex SHA-256 of the SPKI DER).
    #[serde(default)]
    pub hint: String,
}

/// `verificationMaterial`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// The signing key's hint; absent when the bundle carries a
    /// certificate instead (not read by Airlock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Transparency log entries: Airlock writes none and does not read
    /// them.
    #[serde(default)]
    pub tlog_entries: Vec<serde_json::Value>,
}

/// A Sigstore bundle holding a DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigstoreBundle {
    /// [`BUNDLE_MEDIA_TYPE`].
    pub media_type: String,
    /// Which key signed.
    pub verification_material: VerificationMaterial,
    /// The signed statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
}

impl SigstoreBundle {
    /// A v0.3 bundle of `envelope`, naming the key by `hint`.
    pub fn new(envelope: Envelope, hint: String) -> Self {
        Self {
            media_type: BUNDLE_MEDIA_TYPE.to_owned(),
            verification_material: VerificationMaterial {
                public_key: Some(PublicKeyIdentifier { hint }),
                tlog_entries: Vec::new(),
            },
            dsse_envelope: Some(envelope),
        }
    }

    /// Reads a bundle file, checking its media type and that it holds an
    /// envelope.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BundleError> {
        if bytes.len() > MAX_BUNDLE_JSON_LEN {
            return Err(BundleError::TooLarge(bytes.len()));
        }
        let bundle: Self =
            serde_json::from_slice(bytes).map_err(|e| BundleError::Json(e.to_string()))?;
        if bundle.media_type != BUNDLE_MEDIA_TYPE && bundle.media_type != LEGACY_V03_MEDIA_TYPE {
            return Err(BundleError::MediaType(bundle.media_type));
        }
        if bundle.dsse_envelope.is_none() {
            return Err(BundleError::NoEnvelope);
        }
        Ok(bundle)
    }

    /// The file's text: pretty JSON and a final newline.
    pub fn to_json(&self) -> String {
        // Serialising plain strings, vectors and maps cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The key hint, when the bundle names one.
    pub fn hint(&self) -> Option<&str> {
        self.verification_material
            .public_key
            .as_ref()
            .map(|k| k.hint.as_str())
            .filter(|h| !h.is_empty())
    }
}
