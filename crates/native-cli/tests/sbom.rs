//! `airlock sbom` (issue #14): SPDX 2.3 and CycloneDX 1.6 for one image of a
//! bundle that verified, from the dpkg database and os-release in its
//! layers; nothing at all for a bundle that failed.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::scratch;
use test_support::images::{Image, Layer, docker_archive, docker_save, layer_tar};
use test_support::sbom_validators::{cyclonedx_valid, spdx_valid, venv};

const DPKG_STATUS: &[u8] = b"Package: libfoo1
Status: install ok installed
Architecture: amd64
Version: 1.2-3

Package: bar-utils
Status: install ok installed
Architecture: all
Version: 2:4.5+dfsg-1
";

const OS_RELEASE: &[u8] = b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"
ID=debian
VERSION_ID=\"12\"
VERSION_CODENAME=bookworm
";

/// The two packages, as their purls must read (purl-spec's deb type: the
/// distro qualifier from os-release, `+` percent-encoded).
const PACKAGES: [(&str, &str, &str); 2] = [
    (
        "libfoo1",
        "1.2-3",
        "pkg:deb/debian/libfoo1@1.2-3?arch=amd64&distro=debian-12",
    ),
    (
        "bar-utils",
        "2:4.5+dfsg-1",
        "pkg:deb/debian/bar-utils@2:4.5%2Bdfsg-1?arch=all&distro=debian-12",
    ),
];

fn debian_layer() -> Vec<u8> {
    layer_tar(&[
        ("etc/", b'5', 0o755, b"", ""),
        ("etc/os-release", b'0', 0o644, OS_RELEASE, ""),
        ("var/", b'5', 0o755, b"", ""),
        ("var/lib/", b'5', 0o755, b"", ""),
        ("var/lib/dpkg/", b'5', 0o755, b"", ""),
        ("var/lib/dpkg/status", b'0', 0o644, DPKG_STATUS, ""),
    ])
}

fn app_layer() -> Vec<u8> {
    layer_tar(&[
        ("app/", b'5', 0o755, b"", ""),
        ("app/run", b'0', 0o755, b"#!", ""),
    ])
}

fn image<'a>(tag: &'a str, layers: &'a [Layer]) -> Image<'a> {
    Image {
        tag,
        layers,
        config: json!({}),
        history: json!([]),
    }
}

fn write_bundle(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write the bundle");
    path
}

/// `docker save` >= 25 of one Debian-based image.
fn debian_bundle(dir: &Path) -> PathBuf {
    let layers = [Layer::gzip(debian_layer()), Layer::plain(app_layer())];
    write_bundle(
        dir,
        "debian.tar",
        &docker_save(&[image("app:1.0", &layers)]),
    )
}

/// `airlock ARGS` with a fixed creation time.
fn sbom(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airlock"))
        .arg("sbom")
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1714564800")
        .output()
        .expect("the airlock binary runs")
}

fn document(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn said(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn spdx_lists_the_os_and_the_dpkg_packages() {
    let dir = scratch("sbom-spdx");
    let bundle = debian_bundle(&dir);
    let doc = document(&sbom(&[
        bundle.to_str().expect("utf-8"),
        "--format",
        "spdx-json",
    ]));
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2024-05-01T12:00:00Z");
    let packages = doc["packages"].as_array().expect("packages");
    let image = &packages[0];
    assert_eq!(image["name"], "docker.io/library/app:1.0");
    assert_eq!(image["primaryPackagePurpose"], "CONTAINER");
    assert!(
        packages
            .iter()
            .any(|p| p["primaryPackagePurpose"] == "OPERATING-SYSTEM"
                && p["name"] == "debian"
                && p["versionInfo"] == "12"),
        "{doc:#}"
    );
    for (name, version, purl) in PACKAGES {
        let p = packages
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name}: {doc:#}"));
        assert_eq!(p["versionInfo"], version);
        let refs = p["externalRefs"].as_array().expect("externalRefs");
        assert!(
            refs.iter()
                .any(|r| r["referenceType"] == "purl" && r["referenceLocator"] == purl),
            "{name}: {refs:?}"
        );
    }
}

#[test]
fn cyclonedx_lists_the_os_and_the_dpkg_packages() {
    let dir = scratch("sbom-cyclonedx");
    let bundle = debian_bundle(&dir);
    let out_file = dir.join("app.cdx.json");
    let out = sbom(&[
        bundle.to_str().expect("utf-8"),
        "--format",
        "cyclonedx-json",
        "-o",
        out_file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(out.stdout.is_empty(), "-o writes nothing to stdout");
    let doc: Value =
        serde_json::from_slice(&std::fs::read(&out_file).expect("the document was written"))
            .expect("one JSON document");
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["specVersion"], "1.6");
    assert_eq!(doc["metadata"]["timestamp"], "2024-05-01T12:00:00Z");
    assert_eq!(doc["metadata"]["component"]["type"], "container");
    let components = doc["components"].as_array().expect("components");
    assert!(
        components
            .iter()
            .any(|c| c["type"] == "operating-system" && c["name"] == "debian"),
        "{doc:#}"
    );
    for (name, version, purl) in PACKAGES {
        let c = components
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name}: {doc:#}"));
        assert_eq!(c["version"], version);
        assert_eq!(c["purl"], purl);
    }
    // No temporary file is left beside it.
    let left: Vec<String> = std::fs::read_dir(&dir)
        .expect("scratch dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".airlock-sbom"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_same_bundle_and_time_give_the_same_document() {
    let dir = scratch("sbom-stable");
    let bundle = debian_bundle(&dir);
    let path = bundle.to_str().expect("utf-8");
    for format in ["spdx-json", "cyclonedx-json"] {
        let first = sbom(&[path, "--format", format]);
        let again = sbom(&[path, "--format", format]);
        assert_eq!(first.status.code(), Some(0), "{}", said(&first));
        assert_eq!(first.stdout, again.stdout, "{format}");
    }
}

#[test]
fn a_failing_bundle_gets_no_sbom() {
    let dir = scratch("sbom-refused");
    let bundle = debian_bundle(&dir);
    let out_file = dir.join("app.spdx.json");
    let out = sbom(&[
        bundle.to_str().expect("utf-8"),
        "--sha256",
        &"0".repeat(64),
        "--format",
        "spdx-json",
        "-o",
        out_file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(out.stdout.is_empty());
    assert!(!out_file.exists(), "nothing written for a failing bundle");
    let said = said(&out);
    assert!(said.contains("file-digest-mismatch"), "{said}");
    assert!(said.contains("no SBOM was written"), "{said}");
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .expect("scratch dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".airlock-sbom"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[test]
fn several_images_need_image() {
    let dir = scratch("sbom-several");
    let (debian, app) = ([Layer::plain(debian_layer())], [Layer::plain(app_layer())]);
    let bundle = write_bundle(
        &dir,
        "two.tar",
        &docker_save(&[
            image("app:1.0", &debian),
            image("example.com/tools:2", &app),
        ]),
    );
    let path = bundle.to_str().expect("utf-8");
    let out = sbom(&[path, "--format", "spdx-json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let said = said(&out);
    assert!(said.contains("--image"), "{said}");
    assert!(
        said.contains("docker.io/library/app:1.0") && said.contains("example.com/tools:2 ("),
        "{said}"
    );

    let doc = document(&sbom(&[
        path,
        "--image",
        "app:1.0",
        "--format",
        "spdx-json",
    ]));
    assert_eq!(doc["packages"][0]["name"], "docker.io/library/app:1.0");
    assert!(
        doc["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .any(|p| p["name"] == "libfoo1"),
        "{doc:#}"
    );
    let doc = document(&sbom(&[
        path,
        "--image",
        "example.com/tools:2",
        "--format",
        "cyclonedx-json",
    ]));
    assert_eq!(doc["metadata"]["component"]["name"], "example.com/tools:2");
    assert_eq!(doc["components"], json!([]), "no packages: {doc:#}");

    let out = sbom(&[path, "--image", "nope", "--format", "spdx-json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// `docker save` before 25 and `podman save` write no OCI manifest: the
/// SBOM names the image by the manifest its import writes, as the page does.
#[test]
fn an_image_without_a_manifest_digest_is_named_by_its_import() {
    let dir = scratch("sbom-no-manifest");
    let layers = [Layer::plain(debian_layer())];
    let bundle = write_bundle(
        &dir,
        "old.tar",
        &docker_archive("app:1.0", &layers, json!({}), json!([])),
    );
    let path = bundle.to_str().expect("utf-8");
    let out = sbom(&[path, "--format", "cyclonedx-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let names: Vec<&str> = doc["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(
        names.contains(&"libfoo1") && names.contains(&"bar-utils"),
        "{names:?}"
    );
    // The same bundle gives the same document: nothing random names it.
    assert_eq!(
        sbom(&[path, "--format", "cyclonedx-json"]).stdout,
        out.stdout
    );
}

#[test]
fn a_bad_source_date_epoch_is_refused() {
    let dir = scratch("sbom-epoch");
    let bundle = debian_bundle(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args([
            "sbom",
            bundle.to_str().expect("utf-8"),
            "--format",
            "spdx-json",
        ])
        .env("SOURCE_DATE_EPOCH", "yesterday")
        .output()
        .expect("the airlock binary runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(said(&out).contains("SOURCE_DATE_EPOCH"), "{}", said(&out));
}

/// What the binary writes passes the official validators, as the core's
/// documents do (`crates/verify-core/tests/sbom_validators.rs`).
#[test]
fn cli_documents_pass_the_official_validators() {
    let venv = venv();
    let dir = scratch("sbom-validators");
    let bundle = debian_bundle(&dir);
    // pyspdxtools reads the format from the file name.
    for (format, name, check) in [
        (
            "spdx-json",
            "app.spdx.json",
            spdx_valid as fn(&Path, &Path) -> Result<(), String>,
        ),
        ("cyclonedx-json", "app.cdx.json", cyclonedx_valid),
    ] {
        let file = dir.join(name);
        let out = sbom(&[
            bundle.to_str().expect("utf-8"),
            "--format",
            format,
            "-o",
            file.to_str().expect("utf-8"),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
        check(&venv, &file).unwrap_or_else(|e| panic!("{format}: the validator refused it:\n{e}"));
    }
}
