//! `airlock load --to containerd` against a real containerd (a private one
//! per test, see `support/containerd.rs`), checked with `ctr`.

mod support;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::containerd::Containerd;
use support::{airlock, json};
use test_support::rows_with;

fn load(daemon: &Containerd, namespace: &str, bundle: &Path, extra: &[&str]) -> Output {
    let bundle = bundle.to_str().expect("UTF-8 path");
    let mut args = vec![
        "load",
        "--json",
        "--no-progress",
        "--to",
        "containerd",
        "--address",
        daemon.address(),
        "--namespace",
        namespace,
    ];
    args.extend(extra);
    args.push(bundle);
    airlock(&args)
}

fn digest(value: &Value) -> String {
    let s = value.as_str().expect("a digest string");
    if s.starts_with("sha256:") {
        s.to_owned()
    } else {
        format!("sha256:{s}")
    }
}

fn airlock_leases(daemon: &Containerd, namespace: &str) -> Vec<String> {
    daemon
        .ctr(namespace, &["leases", "ls", "-q"])
        .lines()
        .filter(|l| l.starts_with("airlock-"))
        .map(str::to_owned)
        .collect()
}

/// Every good bundle loads: each name points at the manifest airlock
/// reported, every blob is in the content store, the image is unpacked into
/// the default snapshotter, and no lease is left behind.
#[test]
fn every_good_bundle_loads_and_unpacks() {
    let daemon = Containerd::start("ctrd-good");
    let ns = "good";
    for row in rows_with("ok") {
        let out = load(&daemon, ns, &row.path(), &[]);
        assert!(
            out.status.success(),
            "{}: {}\n{}\ncontainerd log: {}",
            row.file,
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout),
            daemon.log().display()
        );
        let v = json(&out);
        let tagged: HashMap<String, String> = daemon.images(ns).into_iter().collect();
        let content: HashSet<String> = daemon
            .ctr(ns, &["content", "ls", "-q"])
            .lines()
            .map(str::to_owned)
            .collect();
        let check = daemon.ctr(ns, &["images", "check"]);
        let imported = v["import"]["images"].as_array().expect("import.images");
        let reported = v["report"]["images"].as_array().expect("report.images");
        assert_eq!(imported.len(), reported.len());
        for (image, reported) in imported.iter().zip(reported) {
            let manifest = digest(&image["manifest_digest"]);
            let names = image["names"].as_array().expect("names");
            assert!(!names.is_empty(), "{}: an image without a name", row.file);
            for name in names {
                let name = name.as_str().expect("a name");
                assert_eq!(
                    tagged.get(name),
                    Some(&manifest),
                    "{}: {name} in ctr images ls",
                    row.file
                );
                let line = check
                    .lines()
                    .find(|l| l.split_whitespace().next() == Some(name))
                    .unwrap_or_else(|| panic!("{}: {name} not in ctr images check", row.file));
                assert!(
                    line.contains("complete") && line.trim_end().ends_with("true"),
                    "{}: {name} is not complete and unpacked: {line}",
                    row.file
                );
            }
            let mut blobs = vec![manifest, digest(&image["config_digest"])];
            for layer in reported["layers"].as_array().expect("layers") {
                blobs.push(digest(&layer["digest"]));
            }
            for blob in blobs {
                assert!(
                    content.contains(&blob),
                    "{}: {blob} not in ctr content ls",
                    row.file
                );
            }
        }
        assert_eq!(
            airlock_leases(&daemon, ns),
            Vec::<String>::new(),
            "{}",
            row.file
        );
    }
}

/// Refused bundles change nothing: not the images, not the content, not the
/// snapshots, and no lease or partial upload stays. Something is loaded
/// first so that "unchanged" is not trivially an empty list. The lease is
/// deleted synchronously (containerd collects before answering); the
/// listing is still polled for up to 5 s in case a collection lags.
#[test]
fn refused_bundles_leave_containerd_as_it_was() {
    let daemon = Containerd::start("ctrd-bad");
    let ns = "bad";
    let good = test_support::corpus_dir().join("good/skopeo-docker-archive.tar");
    let out = load(&daemon, ns, &good, &["--snapshotter", "native"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listing = |d: &Containerd| {
        let mut l = d.listing(ns);
        l.extend(
            d.ctr(ns, &["content", "active"])
                .lines()
                .skip(1)
                .map(str::to_owned),
        );
        l.extend(
            d.ctr(ns, &["leases", "ls", "-q"])
                .lines()
                .map(str::to_owned),
        );
        l
    };
    let before = listing(&daemon);
    let mut bad = rows_with("fail");
    bad.extend(rows_with("*"));
    assert!(bad.len() > 10);
    for row in bad {
        let out = load(&daemon, ns, &row.path(), &["--snapshotter", "native"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            row.file,
            String::from_utf8_lossy(&out.stderr)
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut after = listing(&daemon);
        while after != before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
            after = listing(&daemon);
        }
        assert_eq!(after, before, "{} changed containerd", row.file);
    }
}

/// airlock killed half-way through reading a bundle (fed through a pipe
/// that stops) tags nothing; its lease keeps what it wrote out of sight
/// until it expires; a rerun completes.
#[test]
fn a_killed_import_tags_nothing_and_a_rerun_completes() {
    let daemon = Containerd::start("ctrd-kill");
    let ns = "kill";
    let bundle = test_support::corpus_dir().join("good/skopeo-docker-archive.tar");
    let bytes = std::fs::read(&bundle).expect("bundle");
    let fifo = daemon.dir.join("bundle.tar");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["load", "--no-progress", "--to", "containerd", "--address"])
        .arg(daemon.address())
        .args(["--namespace", ns, "--snapshotter", "native"])
        .arg(&fifo)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("airlock starts");
    // Opening blocks until airlock opens the pipe for reading.
    let mut pipe = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .expect("open the pipe");
    let cut = bytes.len() * 2 / 3;
    pipe.write_all(&bytes[..cut]).expect("feed the pipe");
    // Wait until containerd holds a blob of it (the first layer is in the
    // part fed; reads go in 1 MiB pieces, so the tail may still be queued).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if !daemon.ctr(ns, &["content", "ls", "-q"]).trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "nothing reached containerd");
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().expect("kill airlock");
    child.wait().expect("reap airlock");
    drop(pipe);

    assert_eq!(
        daemon.images(ns),
        Vec::new(),
        "a killed import tagged an image"
    );
    assert_eq!(
        airlock_leases(&daemon, ns).len(),
        1,
        "the killed run's lease stays"
    );

    let out = load(&daemon, ns, &bundle, &["--snapshotter", "native"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&out);
    let tagged: HashMap<String, String> = daemon.images(ns).into_iter().collect();
    for image in v["import"]["images"].as_array().expect("images") {
        for name in image["names"].as_array().expect("names") {
            assert_eq!(
                tagged.get(name.as_str().expect("a name")),
                Some(&digest(&image["manifest_digest"]))
            );
        }
    }
    assert!(
        v["import"]["blobs_present"]
            .as_u64()
            .expect("blobs_present")
            > 0,
        "the rerun should find the blobs the killed run completed: {}",
        v["import"]
    );
    let check = daemon.ctr(ns, &["images", "check", "--snapshotter", "native"]);
    assert!(
        check
            .lines()
            .skip(1)
            .all(|l| l.trim_end().ends_with("true")),
        "{check}"
    );
}
/// `cargo xtask bench` row 6: `airlock load --to containerd` beside `ctr
/// images import` on the same bundle, each into a namespace of its own
/// (both unpack into the native snapshotter).
#[test]
#[ignore = "run by `cargo xtask bench`"]
fn bench_load_containerd() {
    let Some((bundle, out, rounds)) = support::bench_setup() else {
        panic!("set AIRLOCK_BENCH_BUNDLE and AIRLOCK_BENCH_OUT (cargo xtask bench does)");
    };
    let bundle_arg = bundle.to_str().expect("UTF-8 path");
    let (mut ours, mut peer) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        // A fresh daemon each round: disk stays bounded, nothing is cached.
        let daemon = Containerd::start(&format!("ctrd-bench-{round}"));
        let ns = format!("airlock{round}");
        ours.push(support::timed(
            std::process::Command::new(env!("CARGO_BIN_EXE_airlock"))
                .args(["load", "--no-progress", "--to", "containerd", "--address"])
                .arg(daemon.address())
                .args(["--namespace", &ns, "--snapshotter", "native", bundle_arg]),
        ));
        let ns = format!("ctr{round}");
        peer.push(support::timed(
            std::process::Command::new("ctr")
                .args(["-a", daemon.address(), "-n", &ns])
                .args(["images", "import", "--snapshotter", "native", bundle_arg]),
        ));
    }
    support::record(
        &out,
        serde_json::json!({
            "row": "6b", "what": "verify + import + unpack into containerd (native snapshotter)",
            "ours_label": "airlock load --to containerd", "peer_label": "ctr images import",
            "ours": ours, "peer": peer, "target_ratio_at_most": 1.0,
        }),
    );
}

/// A bundle larger than the disk containerd keeps its content on: the load
/// stops before the file that would not fit, saying so, and containerd is
/// left as it was.
#[test]
fn a_bundle_that_would_fill_the_content_store_is_stopped() {
    let daemon = Containerd::start_small("ctrd-full", "4m");
    let bundle = test_support::corpus_dir().join("good/skopeo-docker-archive.tar");
    let out = load(&daemon, "full", &bundle, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not enough free space"), "{stderr}");
    assert!(
        daemon.images("full").is_empty(),
        "the stopped load tagged something"
    );
}
