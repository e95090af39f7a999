//! TypeScript declarations for the types whose JSON form is written by hand
//! (`impl Serialize`), for the `tsify` feature: the derived declarations of
//! the report name them, and this says what they are on the wire.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(typescript_custom_section)]
const STRING_FORMS: &'static str = r#"
/** A SHA-256 as 64 lower-case hex digits. */
export type Sha256 = string;
/** A content digest, `sha256:` and 64 lower-case hex digits. */
export type Digest = string;
/** `os/architecture[/variant]`, as `linux/arm64/v8`. */
export type Platform = string;
/** An OCI or Docker media type, as the manifest states it. */
export type MediaType = string;
"#;

/// The union of [`crate::Limits::NAMES`]; the test below keeps the two equal.
// Read by the section below, which wasm-bindgen's macro consumes out of
// rustc's sight.
#[allow(dead_code)]
pub(crate) const LIMIT_NAME: &str = r#"
/** A field of the limits, as `limit-exceeded` findings and `--limit NAME=VALUE` spell it. */
export type LimitName = "max_json_bytes" | "max_json_total_bytes" | "max_entries" | "max_tar_metadata_bytes" | "max_expansion_ratio" | "ratio_floor_bytes" | "max_layer_uncompressed_bytes" | "max_index_depth" | "max_descriptors" | "max_name_bytes" | "max_names_total_bytes" | "max_layer_entries" | "max_layer_names_total_bytes" | "max_captured_bytes";
"#;

#[wasm_bindgen(typescript_custom_section)]
const LIMIT_NAME_SECTION: &'static str = LIMIT_NAME;

#[cfg(test)]
mod tests {
    #[test]
    fn limit_name_lists_every_limit() {
        let declared: Vec<&str> = super::LIMIT_NAME.split('"').skip(1).step_by(2).collect();
        assert_eq!(declared, crate::Limits::NAMES);
    }
}
