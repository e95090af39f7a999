//! The face in a wasm runtime (Node, via wasm-bindgen-test-runner): the same
//! corpus bytes must give the same report as the core, as a JavaScript
//! object of exactly the JSON shape `airlock verify --json` prints.

#![cfg(target_arch = "wasm32")]

use verify_wasm::{BundleVerifier, FileHasher, Flow, VerifierOptions, parse_sums, recorded_sha256};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const GOOD: &[u8] = include_bytes!("../../../../shared/corpus/good/podman-oci-archive.tar");
const GOOD_SUMS: &[u8] =
    include_bytes!("../../../../shared/corpus/good/podman-oci-archive.tar.sha256");
const BAD: &[u8] = include_bytes!("../../../../shared/corpus/bad/diffid-mismatch.tar");
const NOT_A_TAR: &[u8] = include_bytes!("../../../../shared/corpus/bad/not-a-tar.bin");

/// A JavaScript value as JSON, through the engine's own `JSON.stringify`:
/// what a caller would see.
fn json(value: &JsValue) -> serde_json::Value {
    let text = js_sys::JSON::stringify(value)
        .expect("stringify")
        .as_string()
        .expect("a string");
    serde_json::from_str(&text).expect("report is JSON")
}

fn options(js: &str) -> VerifierOptions {
    let value = js_sys::JSON::parse(js).expect("options JSON");
    VerifierOptions::from_js(value).expect("options")
}

/// What the core itself says, as `airlock verify --json` writes it.
fn core_json(bytes: &[u8], options: verify_core::Options) -> serde_json::Value {
    let mut v = verify_core::Verifier::new(options);
    let _ = v.update(bytes);
    serde_json::to_value(v.finish()).expect("serializes")
}

#[wasm_bindgen_test]
fn good_bundle_with_recorded_hash_is_the_cores_report() {
    let hex = recorded_sha256(GOOD_SUMS, "podman-oci-archive.tar").expect("sums parse");
    let mut v = BundleVerifier::with_options(&options(&format!(
        r#"{{"expectedSha256": "{hex}", "files": true}}"#
    )))
    .expect("verifier");
    for chunk in GOOD.chunks(4096) {
        assert_eq!(v.update(chunk).expect("update"), Flow::Continue);
    }
    let report = json(&v.finish(None).expect("finish"));
    assert_eq!(report["verdict"], "ok");
    assert_eq!(report["bundle"]["sha256_matches"], true);
    assert_eq!(
        report["images"][0]["repo_tags"][0],
        "localhost/airlock/micro:1.0"
    );
    let sha = verify_core::Sha256::from_hex(&hex).expect("hex");
    let expected = core_json(
        GOOD,
        verify_core::Options::new()
            .with_expected_sha256(sha)
            .with_files(true),
    );
    assert_eq!(report, expected, "the object is the core's JSON report");
    assert!(v.finish(None).is_err(), "a second finish is refused");
}

#[wasm_bindgen_test]
fn absent_values_are_null_and_labels_an_object() {
    let mut v = BundleVerifier::with_options(&VerifierOptions::default()).expect("verifier");
    let _ = v.update(GOOD).expect("update");
    let report = v.finish(None).expect("finish");
    let get = |v: &JsValue, k: &str| js_sys::Reflect::get(v, &JsValue::from_str(k)).expect("get");
    let bundle = get(&report, "bundle");
    // No recorded hash: JSON says `null`, and so must the object.
    assert!(get(&bundle, "expected_sha256").is_null());
    assert!(get(&get(&report, "images"), "0").is_object());
    let config = get(&get(&get(&report, "images"), "0"), "config");
    let labels = get(&config, "labels");
    assert!(labels.is_object() && !labels.is_instance_of::<js_sys::Map>());
    assert!(get(&bundle, "size").as_f64() == Some(GOOD.len() as f64));
}

#[wasm_bindgen_test]
fn split_hashing_matches_and_bad_bundle_fails() {
    let mut h = FileHasher::new();
    let mut v = BundleVerifier::with_options(&options(r#"{"hashFile": false}"#)).expect("verifier");
    for chunk in BAD.chunks(1000) {
        h.update(chunk).expect("hash");
        let _ = v.update(chunk).expect("update");
    }
    let sha = h.finish().expect("hash");
    let report = json(&v.finish(Some(sha.clone())).expect("finish"));
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["bundle"]["sha256"], sha.as_str());
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"diff-id-mismatch"), "{kinds:?}");
}

#[wasm_bindgen_test]
fn settled_stops_early_with_the_same_findings() {
    let mut v = BundleVerifier::with_options(&VerifierOptions::default()).expect("verifier");
    assert!(v.finish_settled().is_err(), "nothing fed: not settled");
    let mut v = BundleVerifier::with_options(&VerifierOptions::default()).expect("verifier");
    let mut flows = NOT_A_TAR.chunks(512).map(|c| v.update(c).expect("update"));
    assert_eq!(
        flows.next(),
        Some(Flow::Settled),
        "the first block settles it"
    );
    drop(flows);
    assert!(v.settled());
    let report = json(&v.finish_settled().expect("settled"));
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["findings"][0]["kind"], "not-a-bundle");
    assert!(
        report["bundle"]["sha256"].is_null(),
        "the file was not read whole"
    );
}

#[wasm_bindgen_test]
fn options_are_checked() {
    for bad in [
        r#"{"expectedSha256": "zz"}"#,
        r#"{"expectedSHA256": "00"}"#,
        r#"{"limits": {"max_everything": 1}}"#,
        r#"{"limits": {"max_entries": -1}}"#,
    ] {
        let value = js_sys::JSON::parse(bad).expect("JSON");
        let read = VerifierOptions::from_js(value);
        assert!(
            read.is_err() || BundleVerifier::with_options(&read.expect("read")).is_err(),
            "{bad} is refused"
        );
    }
    // A limit set by name is the core's limit: two entries are too many.
    let mut v = BundleVerifier::with_options(&options(r#"{"limits": {"max_entries": 2}}"#))
        .expect("verifier");
    let _ = v.update(GOOD).expect("update");
    let report = json(&v.finish(None).expect("finish"));
    let limited = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["kind"] == "limit-exceeded" && f["limit"] == "max_entries");
    assert!(limited, "{report}");
}

#[wasm_bindgen_test]
fn sums_and_sidecars() {
    let rows = json(&parse_sums(GOOD_SUMS).expect("parse"));
    assert_eq!(rows[0]["name"], "podman-oci-archive.tar");
    assert_eq!(
        rows[0]["sha256"],
        recorded_sha256(GOOD_SUMS, "podman-oci-archive.tar").expect("found")
    );
    let bare = json(&parse_sums(format!("{}\n", "ab".repeat(32)).as_bytes()).expect("bare"));
    assert!(bare[0]["name"].is_null());
    assert!(recorded_sha256(b"not a sums file", "x").is_err());
    assert_eq!(
        verify_wasm::sidecar_names("b.tar"),
        verify_core::sums::sidecar_names("b.tar")
    );
}

#[wasm_bindgen_test]
fn sboms_from_the_kept_report() {
    let mut v = BundleVerifier::with_options(&VerifierOptions::default()).expect("verifier");
    assert!(v.sbom(0, "spdx-json", 0.0).is_err(), "no report yet");
    for chunk in GOOD.chunks(65536) {
        let _ = v.update(chunk).expect("update");
    }
    let _ = v.finish(None).expect("finish");
    let spdx: serde_json::Value =
        serde_json::from_str(&v.sbom(0, "spdx-json", 1_714_564_800.0).expect("spdx"))
            .expect("JSON");
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(spdx["creationInfo"]["created"], "2024-05-01T12:00:00Z");
    let cdx: serde_json::Value = serde_json::from_str(
        &v.sbom(0, "cyclonedx-json", 1_714_564_800.9)
            .expect("cyclonedx"),
    )
    .expect("JSON");
    assert_eq!(cdx["bomFormat"], "CycloneDX");
    assert_eq!(cdx["metadata"]["timestamp"], "2024-05-01T12:00:00Z");
    assert!(v.sbom(1, "spdx-json", 0.0).is_err(), "one image only");
    assert!(v.sbom(0, "spdx", 0.0).is_err(), "unknown format");
    assert!(v.sbom(0, "spdx-json", f64::NAN).is_err(), "not a time");
}
