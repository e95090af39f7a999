//! Values across the wasm boundary, as JSON text on the Rust side and the
//! engine's own `JSON.parse`/`JSON.stringify` on the other.
//!
//! A report object is then exactly `JSON.parse` of `airlock verify --json`:
//! absent values are `null` (not `undefined`), maps are plain objects (not
//! `Map`), `u64`/`usize` are plain numbers (not `BigInt`, which
//! `JSON.stringify` refuses). Sizes the core measures are exact as numbers
//! up to 2^53 bytes (8 PiB); a larger one (only a hostile descriptor can
//! state it) becomes the nearest double, as `JSON.parse` rounds it.
//!
//! Why not `serde_wasm_bindgen`, which builds the object field by field:
//! configured to the same shape (`serialize_missing_as_null`,
//! `serialize_maps_as_objects`) it took 2.0–4.2 s for a report of 200,000
//! files (18.6 MB of JSON) where this road took 0.7–2.5 s on the same,
//! loaded machine; it refuses a `u64` past 2^53 rather than rounding it;
//! its deserializer reads only the fields a struct names, so
//! `deny_unknown_fields` cannot catch a misspelt option; and it made the
//! wasm 18 KB larger. Values cross once per verification, never per chunk.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsError, JsValue};

/// `value` as a JavaScript value of its JSON shape.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("a value did not cross as JSON"))
}

/// A JavaScript value read as `T`, as if it were JSON text; `what` names it
/// in the error.
pub(crate) fn from_js<T: DeserializeOwned>(value: &JsValue, what: &str) -> Result<T, JsError> {
    let text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| JsError::new(&format!("{what}: not plain JSON data")))?;
    serde_json::from_str(&text).map_err(|e| JsError::new(&format!("{what}: {e}")))
}
