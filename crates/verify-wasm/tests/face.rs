//! The face in a wasm runtime (Node, via wasm-bindgen-test-runner): the same
//! corpus bytes must give the same report as the native core.

#![cfg(target_arch = "wasm32")]

use verify_wasm::{BundleVerifier, WholeFileHasher, recorded_sha256};
use wasm_bindgen_test::wasm_bindgen_test;

const GOOD: &[u8] = include_bytes!("../../../../shared/corpus/good/podman-oci-archive.tar");
const GOOD_SUMS: &[u8] =
    include_bytes!("../../../../shared/corpus/good/podman-oci-archive.tar.sha256");
const BAD: &[u8] = include_bytes!("../../../../shared/corpus/bad/diffid-mismatch.tar");

fn verdict(report: &str) -> serde_json::Value {
    serde_json::from_str(report).expect("report is JSON")
}

#[wasm_bindgen_test]
fn good_bundle_with_recorded_hash() {
    let hex = recorded_sha256(GOOD_SUMS, "podman-oci-archive.tar").expect("sums parse");
    let mut v = BundleVerifier::new(Some(hex), true).expect("verifier");
    for chunk in GOOD.chunks(4096) {
        v.update(chunk).expect("update");
    }
    let report = verdict(&v.finish().expect("finish"));
    assert_eq!(report["verdict"], "ok");
    assert_eq!(report["bundle"]["sha256_matches"], true);
    assert_eq!(
        report["images"][0]["repo_tags"][0],
        "localhost/airlock/micro:1.0"
    );
    assert!(v.finish().is_err(), "a second finish is refused");
}

#[wasm_bindgen_test]
fn split_hashing_matches_and_bad_bundle_fails() {
    let mut h = WholeFileHasher::new();
    let mut v = BundleVerifier::new(None, false).expect("verifier");
    for chunk in BAD.chunks(1000) {
        h.update(chunk).expect("hash");
        v.update(chunk).expect("update");
    }
    let sha = h.finish().expect("hash");
    let report = verdict(&v.finish_with_file_sha256(&sha).expect("finish"));
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["bundle"]["sha256"], sha);
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"diff-id-mismatch"), "{kinds:?}");
    assert!(BundleVerifier::new(Some("zz".into()), true).is_err());
    assert!(recorded_sha256(b"not a sums file", "x").is_err());
}

#[wasm_bindgen_test]
fn files_in_the_report_and_sboms_from_the_kept_report() {
    let mut v = BundleVerifier::new(None, true).expect("verifier");
    assert!(v.sbom(0, "spdx-json", 0.0).is_err(), "no report yet");
    for chunk in GOOD.chunks(65536) {
        v.update(chunk).expect("update");
    }
    let report = verdict(&v.finish().expect("finish"));
    let files = report["images"][0]["files"]
        .as_array()
        .expect("the page asks for the tree");
    assert!(!files.is_empty());

    let spdx = verdict(&v.sbom(0, "spdx-json", 1_714_564_800.0).expect("spdx"));
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    assert_eq!(spdx["creationInfo"]["created"], "2024-05-01T12:00:00Z");
    let cdx = verdict(
        &v.sbom(0, "cyclonedx-json", 1_714_564_800.9)
            .expect("cyclonedx"),
    );
    assert_eq!(cdx["bomFormat"], "CycloneDX");
    assert_eq!(cdx["metadata"]["timestamp"], "2024-05-01T12:00:00Z");
    assert!(v.sbom(1, "spdx-json", 0.0).is_err(), "one image only");
    assert!(v.sbom(0, "spdx", 0.0).is_err(), "unknown format");
    assert!(v.sbom(0, "spdx-json", f64::NAN).is_err(), "not a time");
}
