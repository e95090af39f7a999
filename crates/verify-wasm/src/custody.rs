//! Seals and approvals of the finished report: `airlock-custody`'s check
//! and signing, as the approver's page asks for them. The page keeps the
//! trusted keys (built into it); the verifier keeps the report and the
//! file's SHA-256, so what a seal must name is derived here exactly as the
//! CLI derives it.

use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use airlock_custody::{
    ApprovalPredicate, Decision, Expected, PrivateKey, PublicKey, Statement, Tool, VerifyError,
    sign_statement, verify_seal,
};
use verify_core::{ImportPlan, Report};

use crate::to_js::{from_js, to_js};
use crate::verifier::{BundleVerifier, timestamp};

/// What approvals made by the page name as the program.
const TOOL_NAME: &str = "airlock-page";

/// A key the page trusts to seal bundles: its name (the `.pub` file's stem)
/// and its `PUBLIC KEY` PEM text.
#[derive(Debug, Deserialize, Tsify)]
#[serde(deny_unknown_fields)]
pub struct TrustedKey {
    /// Shown as "Sealed by NAME".
    pub name: String,
    /// SubjectPublicKeyInfo PEM, as `airlock keygen` writes `NAME.pub`.
    pub pem: String,
}

/// The four answers a seal can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Tsify)]
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

/// The answer of `verifySeal`.
#[derive(Debug, Serialize, Tsify)]
#[serde(rename_all = "camelCase")]
pub struct SealCheck {
    /// Which of the four.
    pub state: SealState,
    /// The trusted key's name, when sealed.
    #[tsify(optional)]
    pub key_name: Option<String>,
    /// The signing key's id (hex) when known: the trusted key's, or the
    /// one an untrusted seal names.
    #[tsify(optional)]
    pub key_id: Option<String>,
    /// What was checked, or why it failed (in English, from the crate).
    pub message: String,
}

#[wasm_bindgen]
extern "C" {
    /// `TrustedKey[]` as JavaScript passes it, read with serde.
    #[wasm_bindgen(typescript_type = "TrustedKey[]")]
    pub type TrustedKeysArg;
}

#[wasm_bindgen(js_class = Verifier)]
impl BundleVerifier {
    /// Checks a seal (`BUNDLE.seal.sigstore.json`'s bytes) against the
    /// finished report and the keys `trusted`. A seal that fails is an
    /// answer, not an exception; throws only when there is no finished,
    /// whole-file report or a trusted key is not a key.
    #[wasm_bindgen(js_name = verifySeal, unchecked_return_type = "SealCheck")]
    pub fn verify_seal(
        &self,
        #[wasm_bindgen(js_name = sealJson)] seal_json: &[u8],
        trusted: TrustedKeysArg,
    ) -> Result<JsValue, JsError> {
        let trusted: Vec<TrustedKey> = from_js(&trusted.into(), "trusted keys")?;
        let keys = trusted
            .iter()
            .map(|k| {
                PublicKey::from_pem(&k.pem)
                    .map_err(|e| JsError::new(&format!("trusted key `{}`: {e}", k.name)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let expected = expected(self.report()?)?;
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
        to_js(&check)
    }

    /// Signs the approver's decision about the finished report: the
    /// approval's Sigstore bundle JSON (`BUNDLE.approval.sigstore.json`).
    /// `keyPem` is the encrypted key file's text and `passphrase` its
    /// passphrase's UTF-8 bytes; both are wiped from wasm memory and the
    /// decrypted key dropped before this returns. `decision`: `approved`
    /// or `rejected`; `unixSeconds`: the time recorded; `pageSha256`: the
    /// page's own hash, recorded as the tool's.
    #[allow(clippy::too_many_arguments)]
    pub fn approve(
        &self,
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
        let time = timestamp(unix_seconds, "the approval time")?;
        let report = self.report()?;
        let expected = expected(report)?;
        let key = PrivateKey::decrypt(&key_pem, &passphrase)
            .map_err(|e| JsError::new(&format!("the approver's key: {e}")))?;
        let predicate = ApprovalPredicate::new(
            decision,
            reason.filter(|r| !r.trim().is_empty()),
            key.public_key().key_id(),
            name.filter(|n| !n.trim().is_empty()),
            time,
            Tool::new(TOOL_NAME, env!("CARGO_PKG_VERSION"), page_sha256),
            report,
        );
        let statement = Statement::new(expected.subjects(bundle_name), predicate);
        let signed = sign_statement(&statement, &key).map_err(|e| JsError::new(&e.to_string()))?;
        Ok(signed.to_json())
    }
}

/// What a seal or approval of `report`'s bundle must name. Only a bundle
/// read to its end that verified has a plan and a whole-file hash.
fn expected(report: &Report) -> Result<Expected, JsError> {
    let sha = report
        .bundle()
        .sha256
        .ok_or_else(|| JsError::new("the bundle was not read to its end"))?;
    let plan = ImportPlan::from_report(report)
        .map_err(|e| JsError::new(&format!("the bundle cannot be planned: {e}")))?;
    Ok(Expected::from_plan(sha, &plan))
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
