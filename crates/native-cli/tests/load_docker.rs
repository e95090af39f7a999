//! `airlock load --to docker` against a real, private dockerd: every good
//! corpus bundle lands with the image IDs the report gave, every bad one is
//! refused with Docker left exactly as it was, and a load killed half-way
//! tags nothing.

mod support;

use support::dockerd::Dockerd;
use support::{HalfFed, airlock, json};
use test_support::cases;
use test_support::rows_with;

fn load(daemon: &Dockerd, bundle: &str) -> std::process::Output {
    airlock(&[
        "load",
        "--json",
        "--to",
        "docker",
        "--docker-host",
        &daemon.host(),
        bundle,
    ])
}

#[test]
fn good_bundles_load_and_bad_ones_change_nothing() {
    let daemon = Dockerd::start("load");
    for row in rows_with("ok") {
        let path = row.path();
        let out = load(&daemon, path.to_str().expect("utf-8 path"));
        let result = json(&out);
        assert_eq!(out.status.code(), Some(0), "{}: {result:#}", row.file);
        let images = result["import"]["images"].as_array().expect("images");
        assert_eq!(
            images.len(),
            result["report"]["images"].as_array().map_or(0, Vec::len),
            "{}: one import per verified image",
            row.file
        );
        for image in images {
            for name in image["names"].as_array().expect("names") {
                let name = name.as_str().expect("name");
                let inspect = daemon.docker(&["image", "inspect", "--format", "{{.Id}}", name]);
                assert!(inspect.status.success(), "{}: {name} missing", row.file);
                assert_eq!(
                    String::from_utf8_lossy(&inspect.stdout).trim(),
                    image["config_digest"].as_str().expect("digest"),
                    "{}: {name} is not the verified image",
                    row.file
                );
            }
        }
    }

    let before = daemon.state();
    assert!(!before.0.is_empty());
    for row in rows_with("fail").into_iter().chain(rows_with("*")) {
        let path = row.path();
        let out = load(&daemon, path.to_str().expect("utf-8 path"));
        let result = json(&out);
        assert_eq!(out.status.code(), Some(1), "{}: {result:#}", row.file);
        assert!(result["import"].is_null(), "{}", row.file);
        assert_eq!(daemon.state(), before, "{} changed Docker", row.file);
    }

    // A name Docker refuses after a good one: `docker load` tags the first
    // image, then fails. Airlock refuses the bundle, so nothing moves.
    let bad_name = support::scratch("docker-bad-name").join("bundle.tar");
    std::fs::write(&bad_name, cases::case_bad_name()).expect("bundle");
    let out = load(&daemon, bad_name.to_str().expect("utf-8 path"));
    assert_eq!(out.status.code(), Some(1), "{:#}", json(&out));
    assert_eq!(daemon.state(), before, "a refused name changed Docker");
}

#[test]
fn a_load_killed_half_way_tags_nothing_and_a_rerun_completes() {
    let daemon = Dockerd::start("kill");
    let bundle = test_support::corpus_dir().join("good/skopeo-docker-archive.tar");
    let before = daemon.state();
    let fifo = support::scratch("docker-kill").join("bundle.fifo");
    let host = daemon.host();
    HalfFed::start(
        &["load", "--to", "docker", "--docker-host", &host],
        &bundle,
        &fifo,
    )
    .kill();
    assert_eq!(daemon.state(), before, "a killed load left something");
    let leftovers = std::fs::read_dir(daemon.dir.join("data/tmp"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(leftovers, 0, "Docker kept the broken upload");

    let out = load(&daemon, bundle.to_str().expect("utf-8 path"));
    assert_eq!(out.status.code(), Some(0), "{}", json(&out));
    assert!(
        daemon
            .docker(&["image", "inspect", "localhost/airlock/app:1.0"])
            .status
            .success()
    );
}

/// A recorded hash is still computed and compared when loading into Docker:
/// the wrong one refuses the bundle, and since the verdict comes before
/// Docker is given its `manifest.json`, nothing is loaded; the right one
/// loads, with the hash in the report.
#[test]
fn a_recorded_hash_is_checked_and_a_mismatch_loads_nothing() {
    let daemon = Dockerd::start("recorded");
    let before = daemon.state();
    let bundle = test_support::corpus_dir().join("good/skopeo-docker-archive.tar");
    let bundle = bundle.to_str().expect("utf-8 path");
    let host = daemon.host();
    let wrong = "0".repeat(64);
    let args = ["load", "--json", "--to", "docker", "--docker-host", &host];
    let out = airlock(&[&args[..], &["--sha256", &wrong, bundle]].concat());
    let result = json(&out);
    assert_eq!(out.status.code(), Some(1), "{result:#}");
    assert_eq!(result["report"]["bundle"]["sha256_matches"], false);
    assert_eq!(result["whole_file_hash_skipped"], false);
    assert!(result["import"].is_null(), "{result:#}");
    assert_eq!(daemon.state(), before, "a hash mismatch changed Docker");

    // The sidecar beside the corpus bundle records the right hash.
    let out = load(&daemon, bundle);
    let result = json(&out);
    assert_eq!(out.status.code(), Some(0), "{result:#}");
    assert_eq!(result["report"]["bundle"]["sha256_matches"], true);
    assert!(result["report"]["bundle"]["sha256"].is_string());
    assert_eq!(result["whole_file_hash_skipped"], false);
}

/// With nothing to compare it to, the whole-file hash is not computed, and
/// both the JSON and the text say so rather than showing a hash or calling
/// the read short; the blobs are still checked, and the load completes.
#[test]
fn without_a_recorded_hash_the_report_says_the_file_hash_was_skipped() {
    let daemon = Dockerd::start("unhashed");
    let good = test_support::corpus_dir().join("good/skopeo-docker-archive.tar");
    // A copy without its sidecar.
    let bundle = support::scratch("docker-unhashed").join("bundle.tar");
    std::fs::copy(&good, &bundle).expect("copy the bundle");
    let bundle = bundle.to_str().expect("utf-8 path");
    let out = load(&daemon, bundle);
    let result = json(&out);
    assert_eq!(out.status.code(), Some(0), "{result:#}");
    assert_eq!(result["whole_file_hash_skipped"], true);
    assert!(result["report"]["bundle"]["sha256"].is_null(), "{result:#}");
    assert_eq!(result["report"]["verdict"], "ok");
    let size = std::fs::metadata(bundle).expect("bundle").len();
    assert_eq!(result["report"]["bundle"]["size"], size, "read whole");
    assert!(
        daemon
            .docker(&["image", "inspect", "localhost/airlock/app:1.0"])
            .status
            .success()
    );

    let host = daemon.host();
    let out = airlock(&["load", "--to", "docker", "--docker-host", &host, bundle]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("sha256    not computed"), "{text}");
    assert!(
        !text.contains("(read: "),
        "a whole read is not called short: {text}"
    );

    // A corrupted blob is still found without the whole-file hash, and
    // loads nothing.
    let before = daemon.state();
    let mut bytes = std::fs::read(&good).expect("bundle");
    let flipped = middle_of_largest_file(&bytes);
    bytes[flipped] ^= 0xff;
    let bad = support::scratch("docker-unhashed-bad").join("bundle.tar");
    std::fs::write(&bad, bytes).expect("bad bundle");
    let out = load(&daemon, bad.to_str().expect("utf-8 path"));
    let result = json(&out);
    assert_eq!(out.status.code(), Some(1), "{result:#}");
    assert_eq!(result["whole_file_hash_skipped"], true);
    assert!(result["import"].is_null(), "{result:#}");
    assert_eq!(daemon.state(), before, "a corrupt bundle changed Docker");
}

/// The offset of the middle byte of the archive's largest file (a layer).
fn middle_of_largest_file(tar_bytes: &[u8]) -> usize {
    let mut archive = tar::Archive::new(tar_bytes);
    let (start, size) = archive
        .entries()
        .expect("a tar")
        .map(|e| e.expect("an entry"))
        .map(|e| (e.raw_file_position(), e.size()))
        .max_by_key(|&(_, size)| size)
        .expect("a file");
    usize::try_from(start + size / 2).expect("fits")
}

/// `cargo xtask bench` row 6: `airlock load --to docker` beside `docker
/// load -i` on the same bundle, each starting from an empty daemon.
#[test]
#[ignore = "run by `cargo xtask bench`"]
fn bench_load_docker() {
    let Some((bundle, out, rounds)) = support::bench_setup() else {
        panic!("set AIRLOCK_BENCH_BUNDLE and AIRLOCK_BENCH_OUT (cargo xtask bench does)");
    };
    let daemon = Dockerd::start("bench");
    let reset = || {
        let ids = daemon.docker(&["images", "-aq"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            daemon.docker(&["rmi", "-f", id]);
        }
    };
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        reset();
        ours.push(support::timed(
            std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
                .args(["load", "--no-progress", "--to", "docker", "--docker-host"])
                .arg(daemon.host())
                .arg(&bundle),
        ));
        reset();
        peer.push(support::timed(
            std::process::Command::new("docker")
                .arg("-H")
                .arg(daemon.host())
                .arg("load")
                .arg("-i")
                .arg(&bundle),
        ));
    }
    support::record(
        &out,
        serde_json::json!({
            "row": "6d", "what": "verify + load into Docker (vfs)",
            "ours_label": "airlock load --to docker", "peer_label": "docker load -i",
            "ours": ours, "peer": peer, "target_ratio_at_most": 0.95,
        }),
    );
}

/// A bundle larger than the disk Docker keeps its upload on: the load stops
/// before the file that would not fit, with the disk's numbers, and Docker
/// is left as it was (no half-written upload fills it).
#[test]
fn a_bundle_that_would_fill_dockers_disk_is_stopped() {
    let daemon = Dockerd::start_small("full", "4m");
    let before = daemon.state();
    let bundle = test_support::corpus_dir().join("good/skopeo-docker-archive.tar");
    let out = load(&daemon, bundle.to_str().expect("utf-8 path"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not enough free space"), "{stderr}");
    assert_eq!(daemon.state(), before, "the stopped load left something");
}
