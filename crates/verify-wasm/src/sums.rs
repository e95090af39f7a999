//! The recorded hash: sums files (sha256sum output, SHA256SUMS, certutil
//! text in UTF-8 or UTF-16) and the names a sidecar may have.

use serde::Serialize;
use tsify::Tsify;
use wasm_bindgen::prelude::*;

use verify_core::sums;

use crate::to_js::to_js;

/// One line of a sums file.
#[derive(Serialize, Tsify)]
pub struct RecordedSum {
    /// The recorded SHA-256.
    pub sha256: verify_core::Sha256,
    /// The file it is for; `null` for a bare hash.
    pub name: Option<String>,
}

/// Every hash a sums file records. Throws with the parser's message when
/// the text is not a sums file.
#[wasm_bindgen(js_name = parseSums, unchecked_return_type = "RecordedSum[]")]
pub fn parse_sums(text: &[u8]) -> Result<JsValue, JsError> {
    let parsed = sums::parse(text).map_err(|e| JsError::new(&e.to_string()))?;
    let rows: Vec<RecordedSum> = parsed
        .into_iter()
        .map(|s| RecordedSum {
            sha256: s.sha256,
            name: s.name,
        })
        .collect();
    to_js(&rows)
}

/// The recorded SHA-256 for `file_name` in a sums file, chosen as `airlock
/// verify` chooses it. Throws with the parser's message when the text is
/// not a sums file or names no hash for the file.
#[wasm_bindgen(js_name = recordedSha256)]
pub fn recorded_sha256(
    text: &[u8],
    #[wasm_bindgen(js_name = fileName)] file_name: &str,
) -> Result<String, JsError> {
    let parsed = sums::parse(text).map_err(|e| JsError::new(&e.to_string()))?;
    sums::find_for(&parsed, file_name)
        .map(|s| s.sha256.to_hex())
        .ok_or_else(|| JsError::new(&format!("no SHA-256 recorded for `{file_name}`")))
}

/// The files that may record `bundle_name`'s SHA-256, most specific first:
/// the ones `airlock verify` looks for beside a bundle.
#[wasm_bindgen(js_name = sidecarNames)]
pub fn sidecar_names(#[wasm_bindgen(js_name = bundleName)] bundle_name: &str) -> Vec<String> {
    sums::sidecar_names(bundle_name)
}
