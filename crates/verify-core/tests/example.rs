//! The `verify_file` example on every bundle of the shared corpus: what it
//! prints is the library's own report, its exit status follows the verdict
//! `expected.tsv` records, and bad input is an error (exit 2), not a panic.
//!
//! The example's source is compiled in here as a module and its `run` (all
//! of `main` but argument splitting and printing) is called directly:
//! spawning `cargo run --example` from a test would rebuild under cargo's
//! lock and be slow; the example's binary path is not exposed to tests.

use std::path::{Path, PathBuf};

use verify_core::{FindingKind, Options, Report, Verifier, sums};

#[allow(dead_code)] // its `main`
#[path = "../examples/verify_file.rs"]
mod example;

fn corpus() -> PathBuf {
    match std::env::var_os("AIRLOCK_CORPUS") {
        Some(dir) => dir.into(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    }
}

/// The hex digest the sidecar next to `path` records for it, as a user
/// would paste it.
fn recorded_hex(path: &Path) -> Option<String> {
    let text = std::fs::read(format!("{}.sha256", path.display())).ok()?;
    let sums = sums::parse(&text).ok()?;
    let name = path.file_name()?.to_str()?;
    sums::find_for(&sums, name).map(|s| s.sha256.to_hex())
}

/// The report the library gives for the whole file in one piece.
fn direct(path: &Path, hex: Option<&str>) -> Report {
    let mut verifier = Verifier::new(
        Options::new()
            .with_expected_sha256(hex.map(|h| verify_core::Sha256::from_hex(h).expect("hex"))),
    );
    let _whole = verifier.update(&std::fs::read(path).expect("corpus file"));
    verifier.finish()
}

#[test]
fn prints_the_library_report_and_exits_by_verdict() {
    let table = std::fs::read_to_string(corpus().join("expected.tsv"))
        .expect("the shared corpus (../shared/corpus/expected.tsv) must be present");
    let mut rows = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let mut cols = line.split('\t');
        let (file, verdict) = (cols.next().expect("file"), cols.next().expect("verdict"));
        let path = corpus().join(file);
        let hex = recorded_hex(&path);
        let (json, status) = example::run(&path, hex.as_deref()).expect(file);
        let report = direct(&path, hex.as_deref());
        let want = serde_json::to_string_pretty(&report).expect("json");
        assert_eq!(json, want, "{file}");
        let by_verdict = u8::from(report.verdict() != verify_core::Verdict::Ok);
        assert_eq!(status, by_verdict, "{file}");
        match verdict {
            "ok" => assert_eq!(status, 0, "{file}"),
            "fail" => assert_eq!(status, 1, "{file}"),
            _ => {}
        }
        rows += 1;
    }
    assert!(rows >= 25, "expected.tsv has {rows} rows");
}

#[test]
fn a_wrong_or_missing_recorded_hash_is_reported_not_fatal() {
    let path = corpus().join("good/skopeo-docker-archive.tar");
    let (json, status) = example::run(&path, None).expect("runs");
    assert_eq!(status, 0, "no recorded hash is a warning");
    assert!(json.contains(FindingKind::NoRecordedDigest.as_str()));
    let other = verify_core::Sha256::of(b"another file").to_hex();
    let (json, status) = example::run(&path, Some(&other)).expect("runs");
    assert_eq!(status, 1);
    assert!(json.contains(FindingKind::FileDigestMismatch.as_str()));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let missing = corpus().join("no-such-bundle.tar");
    let err = example::run(&missing, None).expect_err("missing file");
    assert!(err.contains("no-such-bundle.tar"), "{err}");
    let path = corpus().join("good/skopeo-docker-archive.tar");
    for hex in ["abc", "sha256:00", &"g".repeat(64)] {
        let err = example::run(&path, Some(hex)).expect_err(hex);
        assert!(err.starts_with("recorded SHA-256:"), "{err}");
    }
}
