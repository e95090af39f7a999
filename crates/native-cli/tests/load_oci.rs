//! `airlock load --to oci:DIR`: the layout skopeo reads back holds exactly
//! the verified images; a refused or killed load leaves it as it was; a
//! second load of the same bundle writes nothing.

mod support;

use std::path::Path;
use std::process::Command;

use support::{HalfFed, airlock, json, scratch, tree};
use test_support::rows_with;

fn load(layout: &Path, bundle: &Path) -> std::process::Output {
    let target = format!("oci:{}", layout.display());
    airlock(&[
        "load",
        "--json",
        "--to",
        &target,
        bundle.to_str().expect("utf-8 path"),
    ])
}

/// The manifest digest skopeo finds under `name` in the layout.
fn skopeo_digest(layout: &Path, name: &str) -> String {
    let out = Command::new("skopeo")
        .args(["inspect", "--format", "{{.Digest}}"])
        .arg(format!("oci:{}:{name}", layout.display()))
        .output()
        .expect("skopeo runs (apt: skopeo; `cargo xtask test` installs it)");
    assert!(
        out.status.success(),
        "skopeo cannot read {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn good_bundles_land_and_bad_ones_change_nothing() {
    let dir = scratch("load-oci");
    let layout = dir.join("layout");
    for row in rows_with("ok") {
        let out = load(&layout, &row.path());
        let result = json(&out);
        assert_eq!(out.status.code(), Some(0), "{}: {result:#}", row.file);
        for image in result["import"]["images"].as_array().expect("images") {
            for name in image["names"].as_array().expect("names") {
                assert_eq!(
                    skopeo_digest(&layout, name.as_str().expect("name")),
                    image["manifest_digest"].as_str().expect("digest"),
                    "{}: {name}",
                    row.file
                );
            }
        }

        let before = tree(&layout);
        let again = json(&load(&layout, &row.path()));
        assert_eq!(again["import"]["blobs_written"], 0, "{}", row.file);
        assert_eq!(
            tree(&layout),
            before,
            "{}: a second load changed the layout",
            row.file
        );
    }

    let before = tree(&dir);
    for row in rows_with("fail").into_iter().chain(rows_with("*")) {
        let out = load(&layout, &row.path());
        assert_eq!(out.status.code(), Some(1), "{}", row.file);
        assert!(json(&out)["import"].is_null(), "{}", row.file);
        assert_eq!(tree(&dir), before, "{} changed the layout", row.file);
    }

    // A layout that was never created stays uncreated.
    let fresh = dir.join("never");
    let out = load(
        &fresh,
        &test_support::corpus_dir().join("bad/bitflip-layer.tar"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!fresh.exists());
}

#[test]
fn a_directory_that_is_not_a_layout_is_refused() {
    let dir = scratch("load-oci-notalayout");
    std::fs::write(dir.join("notes.txt"), "mine").expect("write");
    let out = load(
        &dir,
        &test_support::corpus_dir().join("good/podman-oci-archive.tar"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an OCI image layout"));
    assert_eq!(tree(&dir).len(), 1);
}

#[test]
fn a_load_killed_half_way_leaves_the_layout_and_a_rerun_completes() {
    let dir = scratch("load-oci-kill");
    let layout = dir.join("layout");
    let bundle = test_support::corpus_dir().join("good/skopeo-docker-archive.tar");
    let target = format!("oci:{}", layout.display());
    HalfFed::start(
        &["load", "--to", &target],
        &bundle,
        &dir.join("bundle.fifo"),
    )
    .kill();
    assert!(!layout.exists(), "a killed load created the layout");
    let staged = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("airlock-staging"))
        .count();
    assert_eq!(staged, 1, "the killed run's staging directory is there");

    let out = load(&layout, &bundle);
    assert_eq!(out.status.code(), Some(0), "{}", json(&out));
    let staged = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("airlock-staging"))
        .count();
    assert_eq!(
        staged, 0,
        "the rerun removed the abandoned staging directory"
    );
    assert!(!skopeo_digest(&layout, "localhost/airlock/app:1.0").is_empty());
}
