//! `airlock inspect` inside the layers (issue #14): the final file tree
//! (`--files`), one layer's part of it (`--layer`), one image of several
//! (`--image`), the layer changes and packages in the human output, and
//! which JSON carries the trees.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use support::{airlock, json, scratch};
use test_support::images::{Image, Layer, docker_archive, docker_save, layer_tar};

/// A name a terminal would act on: clear the screen, then green text.
const HOSTILE: &str = "opt/\u{1b}[2J\u{1b}[32mok";

fn base() -> Vec<u8> {
    layer_tar(&[
        ("etc/", b'5', 0o755, b"", ""),
        (
            "etc/os-release",
            b'0',
            0o644,
            b"ID=debian\nVERSION_ID=\"12\"\n",
            "",
        ),
        ("etc/old.conf", b'0', 0o644, b"gone later\n", ""),
        ("etc/motd", b'0', 0o644, b"hello\n", ""),
        ("bin/", b'5', 0o755, b"", ""),
        ("bin/su", b'0', 0o4755, b"\x7fELF", ""),
        ("bin/sh", b'2', 0o777, b"", "busybox"),
        ("tmp/", b'5', 0o1777, b"", ""),
    ])
}

fn top() -> Vec<u8> {
    layer_tar(&[
        ("etc/", b'5', 0o755, b"", ""),
        ("etc/.wh.old.conf", b'0', 0o644, b"", ""),
        ("etc/motd", b'0', 0o644, b"hello again\n", ""),
        ("opt/", b'5', 0o755, b"", ""),
        ("opt/app", b'0', 0o755, b"#!/bin/sh\n", ""),
        (HOSTILE, b'0', 0o644, b"", ""),
        ("opt/drop", b'0', 0o666, b"", ""),
    ])
}

fn write_bundle(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the bundle");
    path
}

/// One image, `app:1.0`, base layer then top layer.
fn one_image(dir: &Path) -> PathBuf {
    let bundle = docker_archive(
        "app:1.0",
        &[Layer::plain(base()), Layer::gzip(top())],
        json!({}),
        json!([]),
    );
    write_bundle(dir, "app.tar", &bundle)
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn run(args: &[&str]) -> (Output, String) {
    let out = airlock(args);
    let shown = text(&out);
    (out, shown)
}

/// The tree's line for the path ending in `name`, if shown.
fn line<'t>(tree: &'t str, name: &str) -> Option<&'t str> {
    tree.lines()
        .find(|l| l.ends_with(name) || l.contains(&format!("── {name}")))
}

#[test]
fn files_shows_the_final_tree_with_whiteouts_applied_and_marks() {
    let dir = scratch("inspect-files-tree");
    let bundle = one_image(&dir);
    let path = bundle.to_str().expect("utf-8");
    let (out, tree) = run(&["inspect", "--files", path]);
    assert_eq!(out.status.code(), Some(0), "{tree}");

    // The whiteout in layer 2 removed etc/old.conf; the tree never lists it.
    assert!(!tree.contains("old.conf"), "{tree}");
    let motd = line(&tree, "motd").unwrap_or_else(|| panic!("no motd:\n{tree}"));
    assert!(
        motd.contains(" L2 "),
        "motd was last written by layer 2: {motd}"
    );
    assert!(motd.contains("12 B"), "its size is layer 2's: {motd}");
    assert!(motd.starts_with("  -rw-r--r--  0:0"), "{motd}");

    let su = line(&tree, "su  [setuid]").unwrap_or_else(|| panic!("no marked su:\n{tree}"));
    assert!(su.contains("-rwsr-xr-x"), "{su}");
    assert!(su.contains(" L1 "), "{su}");
    let sh = line(&tree, "sh -> busybox").unwrap_or_else(|| panic!("no link:\n{tree}"));
    assert!(sh.contains("lrwxrwxrwx"), "{sh}");
    let drop = line(&tree, "drop  [world-writable]")
        .unwrap_or_else(|| panic!("no world-writable mark:\n{tree}"));
    assert!(drop.contains("-rw-rw-rw-"), "{drop}");
    // /tmp is world-writable but sticky: no mark.
    let tmp = line(&tree, "tmp/").unwrap_or_else(|| panic!("no tmp:\n{tree}"));
    assert!(tmp.contains("drwxrwxrwt") && !tmp.contains('['), "{tmp}");

    // Indented like `tree`: children one level in, under their directory.
    let lines: Vec<&str> = tree.lines().collect();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle}:\n{tree}"))
    };
    assert!(at("── bin/") < at("│   ├── sh") && at("│   ├── sh") < at("│   └── su"));
    assert!(at("── etc/") < at("│   ├── motd"), "{tree}");
    assert!(
        at("└── tmp/") > at("── opt/"),
        "tmp is the last top-level entry"
    );
}

#[test]
fn layer_shows_only_what_that_layer_wrote() {
    let dir = scratch("inspect-files-layer");
    let bundle = one_image(&dir);
    let path = bundle.to_str().expect("utf-8");
    let (out, tree) = run(&["inspect", "--files", "--layer", "2", path]);
    assert_eq!(out.status.code(), Some(0), "{tree}");
    for wrote in ["motd", "app", "drop"] {
        let l = line(&tree, wrote).unwrap_or_else(|| panic!("no {wrote}:\n{tree}"));
        assert!(l.contains(" L2 "), "{l}");
    }
    for other in ["su", "os-release", "tmp/", "sh -> busybox"] {
        assert!(
            line(&tree, other).is_none(),
            "{other} is layer 1's:\n{tree}"
        );
    }
    assert!(!tree.contains(" L1 "), "{tree}");

    let (out, tree) = run(&["inspect", "--files", "--layer", "1", path]);
    assert_eq!(out.status.code(), Some(0), "{tree}");
    assert!(line(&tree, "su  [setuid]").is_some(), "{tree}");
    assert!(
        line(&tree, "motd").is_none(),
        "layer 2 wrote motd over:\n{tree}"
    );

    let out = airlock(&["inspect", "--files", "--layer", "3", path]);
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("has 2 layer(s)"), "{said}");

    let out = airlock(&["inspect", "--layer", "1", path]);
    assert_eq!(out.status.code(), Some(2), "--layer needs --files");
}

#[test]
fn names_from_a_layer_are_escaped_in_the_tree() {
    let dir = scratch("inspect-files-escape");
    let bundle = one_image(&dir);
    let (_, tree) = run(&["inspect", "--files", bundle.to_str().expect("utf-8")]);
    assert!(
        !tree.contains('\u{1b}'),
        "a raw escape reached stdout:\n{tree}"
    );
    assert!(
        tree.contains("── \\u{1b}[2J\\u{1b}[32mok"),
        "the name is shown with its escapes visible:\n{tree}"
    );

    // --json keeps it exactly.
    let out = airlock(&["inspect", "--json", bundle.to_str().expect("utf-8")]);
    let report = json(&out);
    let paths: Vec<&str> = report["images"][0]["files"]
        .as_array()
        .expect("files in inspect --json")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(paths.contains(&HOSTILE), "{paths:?}");
}

#[test]
fn inspect_json_has_the_trees_and_verify_json_does_not() {
    let dir = scratch("inspect-files-json");
    let bundle = one_image(&dir);
    let path = bundle.to_str().expect("utf-8");
    let inspect = json(&airlock(&["inspect", "--json", path]));
    let files = inspect["images"][0]["files"]
        .as_array()
        .expect("inspect --json has files");
    let entry = |p: &str| files.iter().find(|f| f["path"] == p);
    assert_eq!(
        entry("bin/su").map(|f| f["mode"].clone()),
        Some(json!(0o4755))
    );
    assert!(entry("etc/old.conf").is_none(), "whited out");
    assert!(inspect["images"][0]["layers"][1]["changes"].is_object());

    let verify = json(&airlock(&["verify", "--json", path]));
    let image = &verify["images"][0];
    assert!(image.is_object(), "{verify:#}");
    assert_eq!(image.get("files"), None, "verify --json keeps no tree");
    // The layer findings are there, each naming its image and layer.
    let setuid: Vec<&Value> = verify["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "setuid-file")
        .collect();
    assert_eq!(setuid.len(), 1, "{verify:#}");
    assert_eq!(setuid[0]["image"], "docker.io/library/app:1.0");
    assert_eq!(setuid[0]["entry"], "bin/su");
    assert!(setuid[0]["layer"].is_string());
}

#[test]
fn human_inspect_shows_os_changes_and_packages() {
    let dir = scratch("inspect-details");
    let bundle = one_image(&dir);
    let (out, shown) = run(&["inspect", bundle.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(shown.contains("  os        debian 12"), "{shown}");
    assert!(shown.contains("  packages  none found"), "{shown}");
    let head = shown
        .lines()
        .find(|l| l.contains("ADDED"))
        .unwrap_or_else(|| panic!("no layer table:\n{shown}"));
    for column in ["CHANGED", "REMOVED", "WASTED"] {
        assert!(head.contains(column), "{head}");
    }
    // Layer 2: added opt/, opt/app, the hostile name and opt/drop (10 bytes
    // of content); changed etc/ and etc/motd; removed etc/old.conf (11
    // bytes). Layer 1's motd (6 bytes) and old.conf (11) were hidden.
    let row = |n: &str| {
        shown
            .lines()
            .find(|l| l.starts_with(&format!("  {n}  ")))
            .unwrap_or_else(|| panic!("no layer {n} row:\n{shown}"))
    };
    let second = row("2");
    assert!(second.contains("4 (10 B)"), "{second}");
    assert!(second.contains("1 (11 B)"), "{second}");
    let first = row("1");
    assert!(first.trim_end().ends_with("17 B"), "wasted bytes: {first}");
}

#[test]
fn image_picks_one_of_several_and_names_them_when_unknown() {
    let dir = scratch("inspect-files-image");
    let other = layer_tar(&[
        ("srv/", b'5', 0o755, b"", ""),
        ("srv/web", b'0', 0o644, b"x", ""),
    ]);
    let (base, other) = ([Layer::plain(base())], [Layer::plain(other)]);
    let bundle = docker_save(&[
        Image {
            tag: "app:1.0",
            layers: &base,
            config: json!({}),
            history: json!([]),
        },
        Image {
            tag: "example.com/team/web:2",
            layers: &other,
            config: json!({}),
            history: json!([]),
        },
    ]);
    let bundle = write_bundle(&dir, "two.tar", &bundle);
    let path = bundle.to_str().expect("utf-8");

    let (out, both) = run(&["inspect", "--files", path]);
    assert_eq!(out.status.code(), Some(0), "{both}");
    assert!(both.contains("bin/") && both.contains("srv/"), "{both}");

    for name in ["app:1.0", "docker.io/library/app:1.0"] {
        let (out, one) = run(&["inspect", "--files", "--image", name, path]);
        assert_eq!(out.status.code(), Some(0), "{name}: {one}");
        assert!(
            one.contains("── bin/") && !one.contains("srv/"),
            "{name}: {one}"
        );
    }
    let (out, web) = run(&[
        "inspect",
        "--files",
        "--image",
        "example.com/team/web:2",
        path,
    ]);
    assert_eq!(out.status.code(), Some(0), "{web}");
    assert!(web.contains("── web") && !web.contains("── bin/"), "{web}");

    // By the start of the config digest (the image ID).
    let report = json(&airlock(&["inspect", "--json", path]));
    let id = report["images"][1]["config_digest"]
        .as_str()
        .expect("a config digest")
        .trim_start_matches("sha256:")[..12]
        .to_owned();
    let (out, by_id) = run(&["inspect", "--files", "--image", &id, path]);
    assert_eq!(out.status.code(), Some(0), "{by_id}");
    assert!(
        by_id.contains("── web") && !by_id.contains("── bin/"),
        "{by_id}"
    );

    let out = airlock(&["inspect", "--files", "--image", "nope:1", path]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("`nope:1`"), "{said}");
    assert!(
        said.contains("docker.io/library/app:1.0") && said.contains("example.com/team/web:2"),
        "the error lists the images: {said}"
    );
}
