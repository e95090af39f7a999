//! The approver page's second wasm module: `airlock-custody`'s seal check
//! and approval signing, as the page's worker asks for them. It lives
//! apart from verify-wasm (the npm package `@airlock/verify`, which the
//! page runs to verify) because P-256 and scrypt would make that module a
//! third larger for every user of the package, and the page itself only
//! needs them when a seal is picked or the approver signs: its worker
//! instantiates this module then, not before.
//!
//! Everything crosses as JSON text or bytes. The report is the verifier's
//! own report object as `JSON.stringify` writes it (the shape of `airlock
//! verify --json`), read back with verify-core's types; it only names what
//! a seal or approval must be about ([`verify_core::named_manifests`]),
//! nothing is imported from it. No checks live here.
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use airlock_custody::{
    ApprovalPredicate, Decision, Expected, PrivateKey, PublicKey, Statement, Tool, VerifyError,
    sign_statement, verify_seal,
};
use verify_core::Report;
use verify_core::sbom::Timestamp;

/// What approvals made by the page name as the program.
const TOOL_NAME: &str = "airlock-page";

/// A key the page trusts to seal bundles: its name (the `.pub` file's stem)
/// and its `PUBLIC KEY` PEM text.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    /// Shown as "Sealed by NAME".
    pub name: String,
    /// SubjectPublicKeyInfo PEM, as `airlock keygen` writes `NAME.pub`.
    pub pem: String,
}

/// The four answers a seal can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SealState {
    /// Signed by a trusted key, about exactly this bundle and its images.
    Sealed,
    /// Signed by (or naming) a key the page does not trust.
    Untrusted,
    /// A valid seal of another bundle, or naming other images.
    Mismatch,
    /// Not a seal: unreadable, a bad signature, another predicate.
    Invalid,
}

/// The answer of [`verify_seal_json`], as JSON:
/// `{state, keyName?, keyId?, message}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SealCheck {
    /// Which of the four.
    pub state: SealState,
    /// The trusted key's name, when sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// The signing key's id (hex) when known: the trusted key's, or the
    /// one an untrusted seal names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// What was checked, or why it failed (in English, from the crate).
    pub message: String,
}

/// Checks a seal (`BUNDLE.seal.sigstore.json`'s bytes) against the report
/// (`reportJson`) and the keys `trustedJson` (`[{name, pem}]`); returns a
/// [`SealCheck`] as JSON. A seal that fails is an answer, not an
/// exception; throws only when the report is not an ok, whole-file one or
/// a trusted key is not a key.
#[wasm_bindgen(js_name = verifySeal)]
pub fn verify_seal_json(
    #[wasm_bindgen(js_name = reportJson)] report_json: &str,
    #[wasm_bindgen(js_name = sealJson)] seal_json: &[u8],
    #[wasm_bindgen(js_name = trustedJson)] trusted_json: &str,
) -> Result<String, JsError> {
    let trusted: Vec<TrustedKey> = serde_json::from_str(trusted_json)
        .map_err(|e| JsError::new(&format!("trusted keys: {e}")))?;
    let keys = trusted
        .iter()
        .map(|k| {
            PublicKey::from_pem(&k.pem)
                .map_err(|e| JsError::new(&format!("trusted key `{}`: {e}", k.name)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let expected = expected(&report(report_json)?)?;
    let check = match verify_seal(seal_json, &keys, &expected) {
        Ok(v) => SealCheck {
            state: SealState::Sealed,
            key_name: trusted.get(v.key_index).map(|k| k.name.clone()),
            key_id: Some(v.key_id.to_hex()),
            message: format!(
                "sealed by key {} for this bundle and its {} image subject(s)",
                v.key_id,
                expected.images.len()
            ),
        },
        Err(e) => SealCheck {
            state: state_of(&e),
            key_name: None,
            key_id: match &e {
                VerifyError::UntrustedKey { hint, .. } => hint.clone(),
                _ => None,
            },
            message: e.to_string(),
        },
    };
    serde_json::to_string(&check).map_err(|e| JsError::new(&e.to_string()))
}

/// Signs the approver's decision about the report (`reportJson`): the
/// approval's Sigstore bundle JSON (`BUNDLE.approval.sigstore.json`).
/// `keyPem` is the encrypted key file's text and `passphrase` its
/// passphrase's UTF-8 bytes; both are wiped from wasm memory and the
/// decrypted key dropped before this returns. `decision`: `approved` or
/// `rejected`; `unixSeconds`: the time recorded; `pageSha256`: the page's
/// own hash (its self-digest), recorded as the tool's.
#[allow(clippy::too_many_arguments)]
#[wasm_bindgen]
pub fn approve(
    #[wasm_bindgen(js_name = reportJson)] report_json: &str,
    #[wasm_bindgen(js_name = keyPem)] key_pem: String,
    passphrase: Vec<u8>,
    #[wasm_bindgen(unchecked_param_type = "\"approved\" | \"rejected\"")] decision: &str,
    reason: Option<String>,
    name: Option<String>,
    #[wasm_bindgen(js_name = bundleName)] bundle_name: &str,
    #[wasm_bindgen(js_name = unixSeconds)] unix_seconds: f64,
    #[wasm_bindgen(js_name = pageSha256)] page_sha256: Option<String>,
) -> Result<String, JsError> {
    let key_pem = Zeroizing::new(key_pem);
    let passphrase = Zeroizing::new(passphrase);
    let decision = match decision {
        "approved" => Decision::Approved,
        "rejected" => Decision::Rejected,
        other => {
            return Err(JsError::new(&format!(
                "decision `{other}`: `approved` or `rejected` expected"
            )));
        }
    };
    if !unix_seconds.is_finite() || unix_seconds < 0.0 {
        return Err(JsError::new("the approval time is not a time"));
    }
    // Whole seconds: approvals record time to the second.
    let time = Timestamp::from_unix_seconds(unix_seconds as u64)
        .map_err(|e| JsError::new(&e.to_string()))?;
    let report = report(report_json)?;
    let expected = expected(&report)?;
    let key = PrivateKey::decrypt(&key_pem, &passphrase)
        .map_err(|e| JsError::new(&format!("the approver's key: {e}")))?;
    let predicate = ApprovalPredicate::new(
        decision,
        reason.filter(|r| !r.trim().is_empty()),
        key.public_key().key_id(),
        name.filter(|n| !n.trim().is_empty()),
        time,
        Tool::new(TOOL_NAME, env!("CARGO_PKG_VERSION"), page_sha256),
        &report,
    );
    let statement = Statement::new(expected.subjects(bundle_name), predicate);
    let signed = sign_statement(&statement, &key).map_err(|e| JsError::new(&e.to_string()))?;
    Ok(signed.to_json())
}

/// The verifier module's report, read back.
fn report(json: &str) -> Result<Report, JsError> {
    serde_json::from_str(json).map_err(|e| JsError::new(&format!("the report: {e}")))
}

/// What a seal or approval of `report`'s bundle must name. Only a bundle
/// read to its end that verified has a whole-file hash and named images.
fn expected(report: &Report) -> Result<Expected, JsError> {
    let sha = report
        .bundle()
        .sha256
        .ok_or_else(|| JsError::new("the bundle was not read to its end"))?;
    let named = verify_core::named_manifests(report)
        .map_err(|e| JsError::new(&format!("the bundle cannot be named: {e}")))?;
    Ok(Expected::from_named(sha, &named))
}

fn state_of(error: &VerifyError) -> SealState {
    match error {
        VerifyError::UntrustedKey { .. } => SealState::Untrusted,
        VerifyError::NoSubjects
        | VerifyError::BundleDigest { .. }
        | VerifyError::ExtraSubject { .. }
        | VerifyError::MissingSubject { .. } => SealState::Mismatch,
        _ => SealState::Invalid,
    }
}
