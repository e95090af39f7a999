//! Every row of the shared corpus's `expected.tsv`, fed to the core in one
//! piece and in odd-sized pieces: verdict and finding kinds must match, and
//! the report must not depend on how the bytes were split.

use std::path::Path;

use test_support::{corpus_dir, rows};
use verify_core::{FindingKind, Flow, Options, Report, Sha256, Verdict, Verifier, sums};

/// The recorded hash from the sidecar next to the file, as users have it.
fn recorded(path: &Path) -> Option<Sha256> {
    let mut side = path.as_os_str().to_owned();
    side.push(".sha256");
    let text = std::fs::read(side).ok()?;
    let sums = sums::parse(&text).ok()?;
    let name = path.file_name()?.to_str()?;
    sums::find_for(&sums, name).map(|s| s.sha256)
}

fn verify(bytes: &[u8], expected: Option<Sha256>, chunk: usize) -> Report {
    let mut v = Verifier::new(Options::new().with_expected_sha256(expected));
    for piece in bytes.chunks(chunk.max(1)) {
        // Fed to the end whatever the flow: the report of the whole file.
        let _ = v.update(piece);
    }
    v.finish()
}

fn kind_names(r: &Report) -> Vec<String> {
    r.findings()
        .iter()
        .map(|f| f.kind.as_str().to_owned())
        .collect()
}

#[test]
fn expected_tsv_rows() {
    let rows = rows();
    assert!(rows.len() >= 25, "expected.tsv has {} rows", rows.len());
    let mut failures = Vec::new();
    for row in &rows {
        let path = corpus_dir().join(&row.file);
        let bytes = std::fs::read(&path).expect("corpus file");
        let report = verify(&bytes, recorded(&path), 1 << 20);
        let verdict_ok = match row.verdict.as_str() {
            "ok" => report.verdict() == Verdict::Ok,
            "fail" => report.verdict() == Verdict::Fail,
            _ => true,
        };
        let kinds = kind_names(&report);
        let missing: Vec<&String> = row.kinds.iter().filter(|k| !kinds.contains(k)).collect();
        if !verdict_ok || !missing.is_empty() {
            failures.push(format!(
                "{}: verdict {:?} (want {}), missing kinds {:?}, findings {:#?}",
                row.file,
                report.verdict(),
                row.verdict,
                missing,
                report.findings()
            ));
        }
        if row.verdict == "ok" {
            assert!(!report.images().is_empty(), "{}: no images", row.file);
            assert_eq!(report.bundle().sha256_matches, Some(true), "{}", row.file);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn chunking_does_not_change_the_report() {
    for row in rows() {
        let path = corpus_dir().join(&row.file);
        let bytes = std::fs::read(&path).expect("corpus file");
        let whole = serde_json::to_string(&verify(&bytes, None, bytes.len().max(1))).expect("json");
        for chunk in [1usize, 511, 4099] {
            if chunk == 1 && bytes.len() > 3 << 20 {
                continue; // byte-at-a-time on the 6 MiB files costs seconds, not coverage
            }
            let split = serde_json::to_string(&verify(&bytes, None, chunk)).expect("json");
            assert_eq!(whole, split, "{} fed in {chunk}-byte pieces", row.file);
        }
    }
}

#[test]
fn good_bundles_describe_their_images() {
    let dir = corpus_dir().join("good");
    let read = |name: &str| std::fs::read(dir.join(name)).expect("corpus file");

    let r = verify(&read("skopeo-docker-archive.tar"), None, 1 << 16);
    assert_eq!(r.images().len(), 1);
    assert_eq!(
        r.images()[0].repo_tags,
        ["localhost/airlock/app:1.0", "localhost/airlock/app:latest"]
    );
    assert_eq!(r.images()[0].layers.len(), 3);
    assert_eq!(
        r.images()[0]
            .platform
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("linux/amd64")
    );

    let r = verify(&read("containerd-export.tar"), None, 1 << 16);
    assert_eq!(r.bundle().format, verify_core::BundleFormat::DockerAndOci);
    let mut tags: Vec<&str> = r
        .images()
        .iter()
        .flat_map(|i| i.repo_tags.iter().map(String::as_str))
        .collect();
    tags.sort_unstable();
    assert_eq!(
        tags,
        ["localhost/airlock/app:1.0", "localhost/airlock/tools:2.0"]
    );
    assert!(r.images().iter().all(|i| i.manifest_digest.is_some()));

    let gz = verify(&read("docker-save-legacy.tar.gz"), None, 1 << 16);
    let plain = verify(&read("docker-save-legacy.tar"), None, 1 << 16);
    assert_eq!(gz.bundle().compression, verify_core::Compression::Gzip);
    assert_eq!(
        serde_json::to_value(gz.images()).expect("json"),
        serde_json::to_value(plain.images()).expect("json"),
        "the gzip bundle holds exactly the same images"
    );

    let zstd = verify(&read("skopeo-oci-archive-zstd.tar"), None, 1 << 16);
    assert!(
        zstd.images()[0]
            .layers
            .iter()
            .all(|l| l.media_type.as_ref().ends_with("+zstd") && l.uncompressed_size.is_some())
    );
}

#[test]
fn bad_bundles_say_where() {
    let dir = corpus_dir().join("bad");
    let mutations: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("mutations.json")).expect("mutations.json"))
            .expect("mutations.json parses");
    let by_file = |name: &str| {
        mutations
            .as_array()
            .and_then(|a| a.iter().find(|m| m["file"] == name))
            .unwrap_or_else(|| panic!("{name} in mutations.json"))
            .clone()
    };
    let run = |name: &str| {
        verify(
            &std::fs::read(dir.join(name)).expect("corpus file"),
            None,
            1 << 16,
        )
    };
    let first = |r: &Report, kind: FindingKind| {
        r.findings()
            .iter()
            .find(|f| f.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} in {:#?}", r.findings()))
            .clone()
    };

    let m = by_file("truncated-mid-layer.tar");
    let f = first(&run("truncated-mid-layer.tar"), FindingKind::Truncated);
    assert_eq!(f.offset, m["file_size"].as_u64());
    assert_eq!(f.entry.as_deref(), m["entry"].as_str());

    let m = by_file("bitflip-layer.tar");
    let f = first(&run("bitflip-layer.tar"), FindingKind::BlobDigestMismatch);
    assert_eq!(f.entry.as_deref(), m["entry"].as_str());
    let entry_hex = m["entry"]
        .as_str()
        .and_then(|e| e.rsplit('/').next())
        .unwrap_or_default();
    assert_eq!(
        f.expected.as_deref(),
        Some(format!("sha256:{entry_hex}").as_str())
    );

    for name in ["path-traversal.tar", "absolute-path.tar"] {
        let m = by_file(name);
        let f = first(&run(name), FindingKind::UnsafePath);
        assert_eq!(f.offset, m["header_offset"].as_u64(), "{name}");
        assert_eq!(f.entry.as_deref(), m["entry"].as_str(), "{name}");
    }

    let m = by_file("duplicate-entry.tar");
    let f = first(&run("duplicate-entry.tar"), FindingKind::DuplicateEntry);
    assert_eq!(f.offset, m["second_copy_header_offset"].as_u64());

    let m = by_file("diffid-mismatch.tar");
    let f = first(&run("diffid-mismatch.tar"), FindingKind::DiffIdMismatch);
    assert_eq!(f.expected.as_deref(), m["diff_id_in_config"].as_str());
    assert_eq!(f.found.as_deref(), m["actual_diff_id"].as_str());

    let r = run("pax-size-mismatch.tar");
    let f = first(&r, FindingKind::TarHeaderInvalid);
    assert_eq!(f.offset, Some(76288));
    assert!(
        r.images()
            .iter()
            .all(|i| !i.repo_tags.iter().any(|t| t.contains("alpine"))),
        "the hidden manifest.json must not be believed"
    );

    let r = run("zip-disguised.tar");
    assert!(first(&r, FindingKind::NotABundle).message.contains("ZIP"));
}

/// Feeds `bytes` in `chunk`-byte pieces until the verdict is settled, as a
/// face that stops reading does; `None` if it never settled.
fn verify_until_settled(bytes: &[u8], expected: Option<Sha256>, chunk: usize) -> Option<Report> {
    let mut v = Verifier::new(Options::new().with_expected_sha256(expected));
    let mut pieces = bytes.chunks(chunk.max(1));
    for piece in pieces.by_ref() {
        match v.update(piece) {
            Flow::Continue => {}
            Flow::Settled => break,
            other => panic!("no sink, yet {other:?}"),
        }
    }
    // Bytes after the verdict settled change nothing but the file's hash.
    if let Some(next) = pieces.next() {
        assert_eq!(v.update(next), Flow::Settled, "settled stays settled");
    }
    v.is_settled().then(|| v.finish_settled().expect("settled"))
}

#[test]
fn a_settled_verdict_is_the_full_reports_and_does_not_depend_on_chunking() {
    let mut settled = Vec::new();
    for row in rows() {
        let path = corpus_dir().join(&row.file);
        let bytes = std::fs::read(&path).expect("corpus file");
        let expected = recorded(&path);
        let full = verify(&bytes, expected, bytes.len().max(1));
        let whole = verify_until_settled(&bytes, expected, bytes.len().max(1));
        // Only `size` (bytes fed before the caller stopped) may differ.
        let normalized = |r: Option<Report>| {
            r.map(|r| {
                let mut json = serde_json::to_value(&r).expect("json");
                json["bundle"]["size"] = 0.into();
                json.to_string()
            })
        };
        let early = normalized(whole.clone());
        for chunk in [1usize, 511, 4099, 1 << 16] {
            if chunk == 1 && bytes.len() > 3 << 20 {
                continue;
            }
            let split = normalized(verify_until_settled(&bytes, expected, chunk));
            assert_eq!(early, split, "{} fed in {chunk}-byte pieces", row.file);
        }
        let Some(early) = whole else {
            continue;
        };
        settled.push(row.file.clone());
        assert_eq!(early.verdict(), Verdict::Fail, "{}", row.file);
        assert_eq!(early.verdict(), full.verdict(), "{}", row.file);
        // The hash of a file not read to its end is neither claimed nor denied.
        assert_eq!(early.bundle().sha256, None, "{}", row.file);
        assert_eq!(early.bundle().sha256_matches, None, "{}", row.file);
        assert!(!early.has(FindingKind::FileDigestMismatch), "{}", row.file);
        // Every finding the early report makes, the full one makes too.
        for f in early.findings() {
            assert!(full.findings().contains(f), "{}: {f:?}", row.file);
        }
        for kind in &row.kinds {
            assert!(kind_names(&early).contains(kind), "{}: {kind}", row.file);
        }
    }
    // Broken framing settles; a bad blob, path or name does not (reading
    // on finds more).
    for file in ["bad/not-a-tar.bin", "bad/zip-disguised.tar"] {
        assert!(settled.iter().any(|s| s == file), "{file}: {settled:?}");
    }
    for file in [
        "bad/bitflip-layer.tar",
        "bad/path-traversal.tar",
        "bad/duplicate-entry.tar",
        "good/docker-save-legacy.tar.gz",
    ] {
        assert!(!settled.iter().any(|s| s == file), "{file}: {settled:?}");
    }
    eprintln!("settled early: {settled:?}");
}
