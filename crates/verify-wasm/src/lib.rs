//! The web page's handle on [`verify_core`]: a verifier and a whole-file
//! hasher that JavaScript feeds with `Uint8Array` chunks, and the sums-file
//! parser. Reports cross as JSON text so the page sees exactly the shape
//! `airlock verify --json` prints, with each image's file tree added. The
//! last report stays here, so the page can ask for an image's SBOM later
//! without sending the report back.
#![forbid(unsafe_code)]

use wasm_bindgen::prelude::*;

use verify_core::sbom::{SbomFormat, SbomInput, Timestamp};
use verify_core::{FileHasher, Options, Report, Sha256, Verifier, sums};

/// A verification in progress.
#[wasm_bindgen]
pub struct BundleVerifier {
    inner: Option<Verifier>,
    /// The report `finish*` returned, for `sbom`.
    report: Option<Report>,
}

#[wasm_bindgen]
impl BundleVerifier {
    /// `expected_sha256`: the recorded hash (64 hex digits), if any.
    /// `hash_file`: false when another worker hashes the whole file.
    #[wasm_bindgen(constructor)]
    pub fn new(
        expected_sha256: Option<String>,
        hash_file: bool,
    ) -> Result<BundleVerifier, JsError> {
        let expected_sha256 = expected_sha256
            .as_deref()
            .map(|hex| Sha256::from_hex(hex.trim()))
            .transpose()
            .map_err(|e| JsError::new(&format!("recorded SHA-256: {e}")))?;
        Ok(Self {
            inner: Some(Verifier::new(
                Options::new()
                    .with_expected_sha256(expected_sha256)
                    .with_hash_file(hash_file)
                    // The page shows each image's file tree.
                    .with_files(true),
            )),
            report: None,
        })
    }

    /// Feeds the next piece of the bundle; returns whether more is wanted
    /// (false once the verdict is settled: see `isSettled`).
    pub fn update(&mut self, chunk: &[u8]) -> Result<bool, JsError> {
        Ok(self.verifier()?.update(chunk).wants_more())
    }

    /// Whether the verdict is settled (a fail nothing further can change);
    /// a page that stops reading then calls `finishSettled`.
    #[wasm_bindgen(js_name = isSettled)]
    pub fn is_settled(&self) -> bool {
        self.inner.as_ref().is_some_and(Verifier::is_settled)
    }

    /// Ends a settled verification whose file was not read to its end:
    /// the report as JSON text, without a whole-file hash.
    #[wasm_bindgen(js_name = finishSettled)]
    pub fn finish_settled(&mut self) -> Result<String, JsError> {
        let report = self
            .take()?
            .finish_settled()
            .map_err(|e| JsError::new(&e.to_string()))?;
        self.keep(report)
    }

    /// Bytes fed so far.
    #[wasm_bindgen(js_name = bytesFed)]
    pub fn bytes_fed(&self) -> f64 {
        // Exact up to 2^53 bytes (8 PiB).
        self.inner.as_ref().map_or(0.0, |v| v.bytes_fed() as f64)
    }

    /// Ends the stream; returns the report as JSON text.
    pub fn finish(&mut self) -> Result<String, JsError> {
        let report = self.take()?.finish();
        self.keep(report)
    }

    /// Ends the stream with a whole-file hash computed by another worker.
    #[wasm_bindgen(js_name = finishWithFileSha256)]
    pub fn finish_with_file_sha256(&mut self, hex: &str) -> Result<String, JsError> {
        let sha = Sha256::from_hex(hex).map_err(|e| JsError::new(&format!("file SHA-256: {e}")))?;
        let report = self.take()?.finish_with_file_sha256(sha);
        self.keep(report)
    }

    /// The SBOM of image `image` of the finished report, as JSON text.
    /// `format`: `spdx-json` or `cyclonedx-json`; `unix_seconds`: the
    /// creation time (the page's clock: `Date.now() / 1000`).
    pub fn sbom(&self, image: usize, format: &str, unix_seconds: f64) -> Result<String, JsError> {
        let report = self
            .report
            .as_ref()
            .ok_or_else(|| JsError::new("no finished verification"))?;
        let image = report
            .images()
            .get(image)
            .ok_or_else(|| JsError::new(&format!("the report has no image {image}")))?;
        let format: SbomFormat = format.parse().map_err(|e| JsError::new(&format!("{e}")))?;
        if !unix_seconds.is_finite() || unix_seconds < 0.0 {
            return Err(JsError::new("the creation time is not a time"));
        }
        // Whole seconds: both formats record time to the second.
        let created = Timestamp::from_unix_seconds(unix_seconds as u64)
            .map_err(|e| JsError::new(&e.to_string()))?;
        let input = SbomInput::from_image(image, created, env!("CARGO_PKG_VERSION"))
            .map_err(|e| JsError::new(&e.to_string()))?;
        Ok(format.write(&input))
    }

    fn keep(&mut self, report: Report) -> Result<String, JsError> {
        let json = to_json(&report)?;
        self.report = Some(report);
        Ok(json)
    }

    fn verifier(&mut self) -> Result<&mut Verifier, JsError> {
        self.inner.as_mut().ok_or_else(finished)
    }

    fn take(&mut self) -> Result<Verifier, JsError> {
        self.inner.take().ok_or_else(finished)
    }
}

fn finished() -> JsError {
    JsError::new("this verification has already finished")
}

fn to_json(report: &verify_core::Report) -> Result<String, JsError> {
    serde_json::to_string(report).map_err(|e| JsError::new(&e.to_string()))
}

/// SHA-256 of a whole file, for the second worker.
#[wasm_bindgen]
pub struct WholeFileHasher {
    inner: Option<FileHasher>,
}

impl Default for WholeFileHasher {
    fn default() -> Self {
        Self::new()
    }
}

#[wasm_bindgen]
impl WholeFileHasher {
    #[wasm_bindgen(constructor)]
    pub fn new() -> WholeFileHasher {
        Self {
            inner: Some(FileHasher::new()),
        }
    }

    pub fn update(&mut self, chunk: &[u8]) -> Result<(), JsError> {
        self.inner.as_mut().ok_or_else(finished)?.update(chunk);
        Ok(())
    }

    /// The digest as 64 lower-case hex digits.
    pub fn finish(&mut self) -> Result<String, JsError> {
        Ok(self.inner.take().ok_or_else(finished)?.finish().to_hex())
    }
}

/// The recorded SHA-256 for `file_name` in a sums file (sha256sum output,
/// SHA256SUMS, certutil text in UTF-8 or UTF-16). Throws with the parser's
/// message when the text is not a sums file or names no hash for the file.
#[wasm_bindgen(js_name = recordedSha256)]
pub fn recorded_sha256(text: &[u8], file_name: &str) -> Result<String, JsError> {
    let parsed = sums::parse(text).map_err(|e| JsError::new(&e.to_string()))?;
    sums::find_for(&parsed, file_name)
        .map(|s| s.sha256.to_hex())
        .ok_or_else(|| JsError::new(&format!("no SHA-256 recorded for `{file_name}`")))
}
