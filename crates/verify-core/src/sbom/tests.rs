use super::*;
use crate::contents::Ecosystem;

fn digest(byte: u8) -> Digest {
    Digest::from(crate::Sha256::from_bytes([byte; 32]))
}

fn packages() -> Vec<Package> {
    serde_json::from_str(
        r#"[
        {"name": "libc6", "version": "2.36-9+deb12u4", "arch": "amd64", "type": "deb",
         "purl": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
         "file": "var/lib/dpkg/status", "layer": 0},
        {"name": "@babel/core", "version": "7.24.0", "type": "npm", "license": "MIT",
         "purl": "pkg:npm/%40babel/core@7.24.0", "file": "app/node_modules/@babel/core/package.json", "layer": 2}
    ]"#,
    )
    .expect("packages")
}

fn input<'a>(packages: &'a [Package], reference: Option<&'a str>) -> SbomInput<'a> {
    SbomInput {
        image: SbomImage {
            reference,
            manifest_digest: digest(1),
            config_digest: digest(2),
        },
        os: None,
        packages,
        created: Timestamp::parse("2024-05-01T12:00:00Z").expect("time"),
        tool_version: "0.1.0",
    }
}

#[test]
fn timestamps() {
    let t = Timestamp::parse("2024-02-29T23:59:59Z").expect("leap day");
    assert_eq!(t.to_string(), "2024-02-29T23:59:59Z");
    for bad in [
        "2023-02-29T00:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-01-01T24:00:00Z",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00+00:00",
        "2024-1-01T00:00:00Z",
        "２０２４-01-01T00:00Z",
        "",
    ] {
        assert!(Timestamp::parse(bad).is_err(), "{bad}");
    }
    // Known instants: the epoch, the 2000 leap day, the 2038 rollover.
    for (secs, text) in [
        (0, "1970-01-01T00:00:00Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (2_147_483_647, "2038-01-19T03:14:07Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ] {
        let t = Timestamp::from_unix_seconds(secs).expect("in range");
        assert_eq!(t.to_string(), text);
        assert_eq!(Timestamp::parse(text), Ok(t));
    }
    assert!(Timestamp::from_unix_seconds(253_402_300_800).is_err());
}

#[test]
fn formats_by_name() {
    assert_eq!("spdx-json".parse(), Ok(SbomFormat::SpdxJson));
    assert_eq!("cyclonedx-json".parse(), Ok(SbomFormat::CycloneDxJson));
    assert!("spdx".parse::<SbomFormat>().is_err());
}

#[test]
fn deterministic_and_tied_to_the_image() {
    let pkgs = packages();
    for format in [SbomFormat::SpdxJson, SbomFormat::CycloneDxJson] {
        let a = format.write(&input(&pkgs, Some("docker.io/library/app:1.0")));
        let b = format.write(&input(&pkgs, Some("docker.io/library/app:1.0")));
        assert_eq!(a, b);
        let mut other = input(&pkgs, Some("docker.io/library/app:1.0"));
        other.image.manifest_digest = digest(3);
        assert_ne!(format.write(&other), a);
    }
}

#[test]
fn spdx_shape() {
    let pkgs = packages();
    let doc: serde_json::Value = serde_json::from_str(
        &SbomFormat::SpdxJson.write(&input(&pkgs, Some("docker.io/library/app:1.0"))),
    )
    .expect("json");
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["creationInfo"]["created"], "2024-05-01T12:00:00Z");
    let ids: Vec<&str> = doc["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| p["SPDXID"].as_str().expect("id"))
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.iter()
            .all(|id| id.strip_prefix("SPDXRef-").is_some_and(|rest| rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')))
    );
    let image_purl: packageurl::PackageUrl<'_> =
        doc["packages"][0]["externalRefs"][0]["referenceLocator"]
            .as_str()
            .expect("image purl")
            .parse()
            .expect("a valid purl");
    assert_eq!(image_purl.ty(), "oci");
    assert_eq!(image_purl.name(), "app");
    assert_eq!(image_purl.version(), Some(&*digest(1).to_string()));
    let q = image_purl.qualifiers();
    assert_eq!(
        q.get("repository_url").map(|v| &**v),
        Some("docker.io/library/app")
    );
    assert_eq!(q.get("tag").map(|v| &**v), Some("1.0"));
    assert_eq!(
        doc["packages"][2]["externalRefs"][0]["referenceLocator"],
        "pkg:npm/%40babel/core@7.24.0"
    );
    assert_eq!(doc["relationships"].as_array().map(Vec::len), Some(3));
}

#[test]
fn cyclonedx_shape() {
    let pkgs = packages();
    let bom: serde_json::Value =
        serde_json::from_str(&SbomFormat::CycloneDxJson.write(&input(&pkgs, None))).expect("json");
    assert_eq!(bom["specVersion"], "1.6");
    let serial = bom["serialNumber"].as_str().expect("serial");
    assert_eq!(serial.len(), "urn:uuid:".len() + 36);
    assert_eq!(&serial[23..24], "5", "version 5 layout: {serial}");
    assert_eq!(
        bom["metadata"]["component"]["name"],
        format!("sha256:{}", "01".repeat(32))
    );
    assert_eq!(
        bom["components"][1]["licenses"][0]["license"]["name"],
        "MIT"
    );
    assert_eq!(bom["components"][0]["purl"], pkgs[0].purl);
    assert!(matches!(pkgs[1].ecosystem, Ecosystem::Npm));
    assert_eq!(
        bom["dependencies"][0]["dependsOn"],
        serde_json::json!(["pkg-0", "pkg-1"])
    );
}

fn docker_only_image(packages: Option<Vec<Package>>) -> crate::ImageReport {
    crate::ImageReport {
        files: None,
        config: None,
        os: None,
        packages,
        package_notes: Vec::new(),
        repo_tags: vec!["docker.io/library/app:1.0".into()],
        manifest_digest: None,
        manifest_media_type: None,
        manifest_size: None,
        platform: Some(crate::Platform::new("linux", "amd64", None::<String>)),
        config_digest: Some(digest(2)),
        config_size: Some(6),
        created: None,
        layers: vec![crate::LayerReport {
            changes: None,
            digest: Some(crate::Sha256::of(b"layer")),
            media_type: "application/vnd.oci.image.layer.v1.tar".into(),
            size: Some(5),
            uncompressed_size: Some(5),
            diff_id: None,
        }],
    }
}

#[test]
fn from_image_names_the_manifest_an_import_writes() {
    let image = docker_only_image(Some(packages()));
    let created = Timestamp::parse("2024-05-01T12:00:00Z").expect("time");
    let input = SbomInput::from_image(&image, created, "0.1.0").expect("input");
    let report = crate::Report::from_verifier(
        crate::BundleReport {
            size: 0,
            sha256: None,
            expected_sha256: None,
            sha256_matches: None,
            format: crate::BundleFormat::DockerArchive,
            compression: crate::Compression::None,
            entries: 0,
        },
        vec![image.clone()],
        Vec::new(),
    );
    let plan = crate::ImportPlan::from_report(&report).expect("plan");
    assert_eq!(
        input.image.manifest_digest.sha256(),
        plan.images()[0].manifest.blob.digest
    );
    assert_eq!(input.image.config_digest, digest(2));
    assert_eq!(input.image.reference, Some("docker.io/library/app:1.0"));
    assert_eq!(input.packages.len(), 2);

    let mut oci = image.clone();
    oci.manifest_digest = Some(digest(7));
    oci.manifest_size = Some(100);
    oci.manifest_media_type = Some("application/vnd.oci.image.manifest.v1+json".into());
    let input = SbomInput::from_image(&oci, created, "0.1.0").expect("input");
    assert_eq!(input.image.manifest_digest, digest(7));
}

#[test]
fn from_image_refuses_an_image_whose_packages_were_not_read() {
    let created = Timestamp::parse("2024-05-01T12:00:00Z").expect("time");
    let image = docker_only_image(None);
    assert_eq!(
        SbomInput::from_image(&image, created, "0.1.0").err(),
        Some(NoSbom::PackagesNotRead)
    );
    let mut image = docker_only_image(Some(Vec::new()));
    image.layers[0].digest = None;
    assert_eq!(
        SbomInput::from_image(&image, created, "0.1.0").err(),
        Some(NoSbom::Incomplete("layer digest"))
    );
}
