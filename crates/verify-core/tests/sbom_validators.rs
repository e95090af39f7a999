//! The SBOMs pass the official validators: `pyspdxtools -i` (PyPI
//! `spdx-tools`) for SPDX 2.3, and cyclonedx-python-lib's strict JSON
//! schema validator for CycloneDX 1.6. Both run from the virtualenv that
//! `cargo xtask test` installs (`xtask/sbom-validators.txt`): at
//! `$AIRLOCK_SBOM_VENV`, else `target/sbom-venv` in the workspace.

use std::path::{Path, PathBuf};

use test_support::sbom_validators::{cyclonedx_valid, spdx_valid, venv};
use verify_core::Digest;
use verify_core::contents::{OsInfo, Package};
use verify_core::sbom::{SbomFormat, SbomImage, SbomInput, Timestamp};

/// Every ecosystem, scoped and odd names, licences free text and none, a
/// Go main module at `(devel)`, and an OS.
fn sample() -> (OsInfo, Vec<Package>) {
    let os = serde_json::from_str(
        r#"{"id": "debian", "version_id": "12", "pretty_name": "Debian GNU/Linux 12 (bookworm)",
            "name": "Debian GNU/Linux", "version_codename": "bookworm",
            "file": "etc/os-release", "layer": 0}"#,
    )
    .expect("os");
    let packages = serde_json::from_str(
        r#"[
        {"name": "libc6", "version": "2.36-9+deb12u4", "arch": "amd64", "type": "deb",
         "purl": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
         "file": "var/lib/dpkg/status", "layer": 0},
        {"name": "openssh-client", "version": "1:9.2p1-2+deb12u2", "arch": "amd64", "type": "deb",
         "purl": "pkg:deb/debian/openssh-client@1:9.2p1-2%2Bdeb12u2?arch=amd64&distro=debian-12",
         "file": "var/lib/dpkg/status", "layer": 0},
        {"name": "musl", "version": "1.2.4_git20230717-r4", "arch": "x86_64", "type": "apk",
         "license": "MIT", "purl": "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64",
         "file": "lib/apk/db/installed", "layer": 1},
        {"name": "Foo_Bar", "version": "1.0", "type": "pypi", "license": "Apache 2.0",
         "purl": "pkg:pypi/foo-bar@1.0",
         "file": "usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info/METADATA", "layer": 2},
        {"name": "@babel/core", "version": "7.24.0", "type": "npm", "license": "MIT OR (Apache-2.0 AND BSD)",
         "purl": "pkg:npm/%40babel/core@7.24.0",
         "file": "app/node_modules/@babel/core/package.json", "layer": 3},
        {"name": "stdlib", "version": "go1.22.1", "arch": "arm64", "type": "golang",
         "purl": "pkg:golang/stdlib@1.22.1?arch=arm64", "file": "usr/local/bin/app", "layer": 4},
        {"name": "example.com/app", "version": "(devel)", "arch": "arm64", "type": "golang",
         "purl": "pkg:golang/example.com/app?arch=arm64", "file": "usr/local/bin/app", "layer": 4},
        {"name": "github.com/spf13/cobra", "version": "v1.8.0", "arch": "arm64", "type": "golang",
         "purl": "pkg:golang/github.com/spf13/cobra@v1.8.0?arch=arm64", "file": "usr/local/bin/app", "layer": 4}
    ]"#,
    )
    .expect("packages");
    (os, packages)
}

fn digest(byte: u8) -> Digest {
    Digest::from(verify_core::Sha256::from_bytes([byte; 32]))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the document");
    path
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sbom-validators");
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn input<'a>(
    os: Option<&'a OsInfo>,
    packages: &'a [Package],
    reference: Option<&'a str>,
) -> SbomInput<'a> {
    SbomInput {
        image: SbomImage {
            reference,
            manifest_digest: digest(0xab),
            config_digest: digest(0xcd),
        },
        os,
        packages,
        created: Timestamp::parse("2024-05-01T12:00:00Z").expect("time"),
        tool_version: env!("CARGO_PKG_VERSION"),
    }
}

#[test]
fn both_formats_pass_the_official_validators() {
    let venv = venv();
    let dir = out_dir();
    let (os, packages) = sample();
    let cases = [
        (
            "full",
            input(Some(&os), &packages, Some("docker.io/library/app:1.0")),
        ),
        ("bare", input(None, &[], None)),
    ];
    for (name, input) in cases {
        let spdx = write(
            &dir,
            &format!("{name}.spdx.json"),
            &SbomFormat::SpdxJson.write(&input),
        );
        spdx_valid(&venv, &spdx).unwrap_or_else(|e| panic!("{name}: pyspdxtools refused it:\n{e}"));
        let cdx = write(
            &dir,
            &format!("{name}.cdx.json"),
            &SbomFormat::CycloneDxJson.write(&input),
        );
        cyclonedx_valid(&venv, &cdx)
            .unwrap_or_else(|e| panic!("{name}: the CycloneDX 1.6 schema refused it:\n{e}"));
    }
}

/// The validators do refuse: a document with one required field broken
/// fails, so the test above can fail.
#[test]
fn broken_documents_fail_the_validators() {
    let venv = venv();
    let dir = out_dir();
    let (os, packages) = sample();
    let input = input(Some(&os), &packages, None);

    let mut spdx: serde_json::Value =
        serde_json::from_str(&SbomFormat::SpdxJson.write(&input)).expect("json");
    spdx["packages"][1]["SPDXID"] = "SPDXRef-not_allowed_here".into();
    let file = write(&dir, "broken.spdx.json", &spdx.to_string());
    assert!(
        spdx_valid(&venv, &file).is_err(),
        "pyspdxtools accepted a bad SPDXID"
    );

    let mut cdx: serde_json::Value =
        serde_json::from_str(&SbomFormat::CycloneDxJson.write(&input)).expect("json");
    cdx["components"][0]["type"] = "not-a-component-type".into();
    let file = write(&dir, "broken.cdx.json", &cdx.to_string());
    assert!(
        cyclonedx_valid(&venv, &file).is_err(),
        "the CycloneDX schema accepted a bad component type"
    );
}
