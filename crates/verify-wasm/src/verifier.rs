//! The verifier class: bytes in, a typed report out.

use wasm_bindgen::prelude::*;

use verify_core::sbom::{SbomFormat, SbomInput, Timestamp};
use verify_core::{Report, Sha256, Verifier};

use crate::options::VerifierOptions;
use crate::to_js::to_js;

#[wasm_bindgen]
extern "C" {
    /// `VerifierOptions` as JavaScript passes them, read with serde.
    #[wasm_bindgen(typescript_type = "VerifierOptions")]
    pub type VerifierOptionsArg;
}

/// What the verifier wants after a chunk (verify-core's `Flow`).
#[wasm_bindgen]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Feed the next chunk.
    Continue = "continue",
    /// The verdict is settled (a fail no later byte can change): stop
    /// reading and call `finishSettled()`, or read on and `finish()` for
    /// the report of the whole file.
    Settled = "settled",
}

impl From<verify_core::Flow> for Flow {
    fn from(flow: verify_core::Flow) -> Self {
        match flow {
            verify_core::Flow::Settled => Flow::Settled,
            // No entry sink is attached here, so the core never answers
            // `SinkStopped`; any answer but `Settled` leaves the verdict
            // open, and reading on is always safe.
            _ => Flow::Continue,
        }
    }
}

/// A verification in progress. Feed the bundle with `update`, then
/// `finish` for the report; the verifier keeps that report for `sbom`.
#[wasm_bindgen(js_name = Verifier)]
pub struct BundleVerifier {
    inner: Option<Verifier>,
    /// The report `finish*` returned, for `sbom`.
    report: Option<Report>,
}

#[wasm_bindgen(js_class = Verifier)]
impl BundleVerifier {
    /// A verifier at the start of a bundle. Throws when an option is not
    /// one (an unknown field or limit, a recorded hash that is not 64 hex
    /// digits).
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<VerifierOptionsArg>) -> Result<BundleVerifier, JsError> {
        let options = VerifierOptions::from_js(options.map_or(JsValue::UNDEFINED, JsValue::from))?;
        Self::with_options(&options)
    }

    /// Feeds the next piece of the bundle (any size); says whether the
    /// verdict is settled. Cheap per call: nothing is converted but the
    /// bytes themselves.
    pub fn update(&mut self, chunk: &[u8]) -> Result<Flow, JsError> {
        Ok(self.verifier()?.update(chunk).into())
    }

    /// Whether the verdict is settled (see `Flow.Settled`).
    #[wasm_bindgen(getter)]
    pub fn settled(&self) -> bool {
        self.inner.as_ref().is_some_and(Verifier::is_settled)
    }

    /// Bytes fed so far.
    #[wasm_bindgen(getter, js_name = bytesFed)]
    pub fn bytes_fed(&self) -> f64 {
        // Exact up to 2^53 bytes (8 PiB).
        self.inner.as_ref().map_or(0.0, |v| v.bytes_fed() as f64)
    }

    /// Ends the bundle; returns the report. `fileSha256` is the whole
    /// file's SHA-256 from a `FileHasher` when the verifier was made with
    /// `hashFile: false`; otherwise leave it out.
    #[wasm_bindgen(unchecked_return_type = "Report")]
    pub fn finish(
        &mut self,
        #[wasm_bindgen(js_name = fileSha256)] file_sha256: Option<String>,
    ) -> Result<JsValue, JsError> {
        let report = match file_sha256 {
            Some(hex) => {
                let sha = Sha256::from_hex(hex.trim())
                    .map_err(|e| JsError::new(&format!("file SHA-256: {e}")))?;
                self.take()?.finish_with_file_sha256(sha)
            }
            None => self.take()?.finish(),
        };
        self.keep(report)
    }

    /// Ends a settled verification whose file was not read to its end: the
    /// report, without a whole-file hash. Throws when it is not settled.
    #[wasm_bindgen(js_name = finishSettled, unchecked_return_type = "Report")]
    pub fn finish_settled(&mut self) -> Result<JsValue, JsError> {
        if !self.settled() {
            return Err(JsError::new(
                "the verification has not settled: its report needs the whole input",
            ));
        }
        let report = self
            .take()?
            .finish_settled()
            .map_err(|e| JsError::new(&e.to_string()))?;
        self.keep(report)
    }

    /// The SBOM of image `image` of the finished report, as JSON text.
    /// `unixSeconds`: the creation time it records (`Date.now() / 1000`).
    pub fn sbom(
        &self,
        image: usize,
        #[wasm_bindgen(unchecked_param_type = "\"spdx-json\" | \"cyclonedx-json\"")] format: &str,
        #[wasm_bindgen(js_name = unixSeconds)] unix_seconds: f64,
    ) -> Result<String, JsError> {
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
}

impl BundleVerifier {
    /// A verifier with options already read (Rust callers and tests).
    pub fn with_options(options: &VerifierOptions) -> Result<BundleVerifier, JsError> {
        Ok(Self {
            inner: Some(Verifier::new(options.to_core()?)),
            report: None,
        })
    }

    fn keep(&mut self, report: Report) -> Result<JsValue, JsError> {
        let js = to_js(&report)?;
        self.report = Some(report);
        Ok(js)
    }

    fn verifier(&mut self) -> Result<&mut Verifier, JsError> {
        self.inner.as_mut().ok_or_else(finished)
    }

    fn take(&mut self) -> Result<Verifier, JsError> {
        self.inner.take().ok_or_else(finished)
    }
}

pub(crate) fn finished() -> JsError {
    JsError::new("this verification has already finished")
}
