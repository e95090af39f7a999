//! How a JavaScript caller configures a verification.

use std::collections::BTreeMap;

use serde::Deserialize;
use tsify::Tsify;
use wasm_bindgen::{JsError, JsValue};

use verify_core::{Limits, Options, Sha256};

use crate::to_js::from_js;

/// Options of `new Verifier(options)`; every field may be left out.
#[derive(Debug, Default, Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifierOptions {
    /// The SHA-256 the sender recorded for the whole file (64 hex digits),
    /// from `recordedSha256` or typed in; without one the report carries a
    /// `no-recorded-digest` warning.
    #[serde(default)]
    #[tsify(optional)]
    pub expected_sha256: Option<String>,
    /// Hash the whole file inside the verifier (default `true`). Set
    /// `false` when a `FileHasher` on another worker hashes it, and pass
    /// its digest to `finish`.
    #[serde(default)]
    #[tsify(optional)]
    pub hash_file: Option<bool>,
    /// Put each image's whole file tree in the report (`images[].files`;
    /// default `false`: it costs memory in proportion to the files).
    #[serde(default)]
    #[tsify(optional)]
    pub files: Option<bool>,
    /// Limits to change from their defaults, by name.
    #[serde(default)]
    #[tsify(optional, type = "Partial<Record<LimitName, number>>")]
    pub limits: Option<BTreeMap<String, u64>>,
}

impl VerifierOptions {
    /// Reads the options from JavaScript; `undefined` and `null` are the
    /// defaults.
    pub fn from_js(value: JsValue) -> Result<Self, JsError> {
        if value.is_undefined() || value.is_null() {
            return Ok(Self::default());
        }
        from_js(&value, "verifier options")
    }

    /// The core's options.
    pub fn to_core(&self) -> Result<Options, JsError> {
        let expected = self
            .expected_sha256
            .as_deref()
            .map(|hex| Sha256::from_hex(hex.trim()))
            .transpose()
            .map_err(|e| JsError::new(&format!("recorded SHA-256: {e}")))?;
        let mut limits = Limits::default();
        for (name, value) in self.limits.iter().flatten() {
            limits
                .set(name, *value)
                .map_err(|e| JsError::new(&e.to_string()))?;
        }
        Ok(Options::new()
            .with_expected_sha256(expected)
            .with_hash_file(self.hash_file.unwrap_or(true))
            .with_files(self.files.unwrap_or(false))
            .with_limits(limits))
    }
}
