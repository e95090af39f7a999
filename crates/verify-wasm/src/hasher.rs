//! The whole-file SHA-256 on its own, for a face that hashes on another
//! worker while the verifier runs with `hashFile: false`.

use wasm_bindgen::prelude::*;

use crate::verifier::finished;

/// SHA-256 of a whole file fed in pieces (the verifier's own hash).
#[wasm_bindgen]
pub struct FileHasher {
    inner: Option<verify_core::FileHasher>,
}

impl Default for FileHasher {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl FileHasher {
    /// A hasher that has seen no bytes.
    #[wasm_bindgen(constructor)]
    pub fn new() -> FileHasher {
        Self {
            inner: Some(verify_core::FileHasher::new()),
        }
    }

    /// Adds the next piece of the file; pieces may have any size.
    pub fn update(&mut self, chunk: &[u8]) -> Result<(), JsError> {
        self.inner.as_mut().ok_or_else(finished)?.update(chunk);
        Ok(())
    }

    /// The digest as 64 lower-case hex digits; the hasher is spent.
    pub fn finish(&mut self) -> Result<String, JsError> {
        Ok(self.inner.take().ok_or_else(finished)?.finish().to_hex())
    }
}
