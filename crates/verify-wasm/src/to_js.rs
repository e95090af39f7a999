//! Rust values to JavaScript ones, shaped as `serde_json` would write them.
//!
//! `serde_wasm_bindgen` is configured so the object equals `JSON.parse` of
//! the report's JSON text: `None` becomes `null` (not `undefined`), maps
//! become plain objects (not `Map`), and `u64`/`usize` become plain numbers
//! (not `BigInt`, which `JSON.stringify` refuses). Every size the core
//! measures is exact as a number up to 2^53 bytes (8 PiB). Only a size a
//! hostile descriptor states can be larger; the serializer refuses such a
//! number, and the report then goes through JSON text instead, where it
//! becomes the nearest double, as `JSON.parse` of `airlock verify --json`
//! gives it. The fallback costs time only on such a bundle.

use serde::Serialize;
use wasm_bindgen::{JsError, JsValue};

/// The serializer every value leaving this crate goes through.
fn serializer() -> serde_wasm_bindgen::Serializer {
    serde_wasm_bindgen::Serializer::new()
        .serialize_missing_as_null(true)
        .serialize_maps_as_objects(true)
}

/// `value` as a JavaScript value of its JSON shape.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    match value.serialize(&serializer()) {
        Ok(js) => Ok(js),
        Err(_) => {
            let json = serde_json::to_string(value).map_err(|e| JsError::new(&e.to_string()))?;
            js_sys::JSON::parse(&json).map_err(|_| JsError::new("the report is not JSON"))
        }
    }
}
