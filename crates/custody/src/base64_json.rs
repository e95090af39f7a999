//! Bytes in JSON as standard base64 with padding: how Go's encoding/json
//! writes a `[]byte` (cosign's key files) and how protobuf's JSON mapping
//! writes `bytes` (DSSE envelopes, Sigstore bundles).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serializer};

/// Encodes `bytes` as standard base64.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard base64; protobuf readers also accept the URL-safe
/// alphabet, so this does too.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(text).or_else(|e| {
        base64::engine::general_purpose::URL_SAFE
            .decode(text)
            .map_err(|_| e)
    })
}

/// For `#[serde(with = "crate::base64_json")]` on a `Vec<u8>`.
pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&encode(bytes))
}

/// For `#[serde(with = "crate::base64_json")]` on a `Vec<u8>`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(d)?;
    decode(&text).map_err(serde::de::Error::custom)
}
