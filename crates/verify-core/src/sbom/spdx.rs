//! SPDX 2.3, JSON serialization (<https://spdx.github.io/spdx-spec/v2.3/>).
//!
//! One SPDX package for the image, one for its OS, one per package found,
//! tied together by `DESCRIBES` and `CONTAINS` relationships. Licences are
//! stated as NOASSERTION, with the record's own words in
//! `licenseComments`: the records' free text ("Apache 2.0", "BSD") is not
//! an SPDX licence expression, and a document claiming it were would not
//! validate.

use serde::Serialize;

use super::{SbomFormat, SbomInput};
use crate::contents::Package;

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    license_concluded: &'static str,
    license_declared: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    license_comments: Option<String>,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    primary_package_purpose: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
}

impl SpdxPackage {
    fn new(spdx_id: String, name: String, purpose: &'static str) -> Self {
        Self {
            spdx_id,
            name,
            version_info: None,
            download_location: NOASSERTION,
            files_analyzed: false,
            license_concluded: NOASSERTION,
            license_declared: NOASSERTION,
            license_comments: None,
            copyright_text: NOASSERTION,
            source_info: None,
            description: None,
            comment: None,
            primary_package_purpose: purpose,
            external_refs: Vec::new(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

fn purl_ref(purl: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

const IMAGE_ID: &str = "SPDXRef-Image";
const OS_ID: &str = "SPDXRef-OperatingSystem";

pub(super) fn write(input: &SbomInput<'_>) -> String {
    let identity = input.identity(SbomFormat::SpdxJson);
    let hex: String = identity.iter().map(|b| format!("{b:02x}")).collect();

    let mut image = SpdxPackage::new(IMAGE_ID.to_owned(), input.image_name(), "CONTAINER");
    image.version_info = Some(input.image.manifest_digest.to_string());
    image.comment = Some(format!(
        "manifest {}, config (image ID) {}",
        input.image.manifest_digest, input.image.config_digest
    ));
    image.external_refs.extend(input.image_purl().map(purl_ref));

    let mut packages = vec![image];
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: IMAGE_ID.to_owned(),
    }];
    let contains = |id: &str, relationships: &mut Vec<Relationship>| {
        relationships.push(Relationship {
            spdx_element_id: IMAGE_ID.to_owned(),
            relationship_type: "CONTAINS",
            related_spdx_element: id.to_owned(),
        });
    };

    if let Some(os) = input.os {
        let mut p = SpdxPackage::new(OS_ID.to_owned(), os.id.clone(), "OPERATING-SYSTEM");
        p.version_info.clone_from(&os.version_id);
        p.description.clone_from(&os.pretty_name);
        p.source_info = Some(source(&os.file, os.layer));
        packages.push(p);
        contains(OS_ID, &mut relationships);
    }
    for (index, pkg) in input.packages.iter().enumerate() {
        let id = package_id(index, pkg);
        contains(&id, &mut relationships);
        packages.push(package(id, pkg));
    }

    let doc = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: input.image_name(),
        // A URI unique to this document; `.invalid` (RFC 2606) because it
        // identifies, it does not locate.
        document_namespace: format!("https://airlock.invalid/spdx/{hex}"),
        creation_info: CreationInfo {
            created: input.created.to_string(),
            creators: vec![format!("Tool: airlock-{}", input.tool_version)],
        },
        packages,
        relationships,
    };
    // Serializing plain structs of strings cannot fail.
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

fn package(id: String, pkg: &Package) -> SpdxPackage {
    let mut p = SpdxPackage::new(id, pkg.name.clone(), purpose(pkg));
    p.version_info = Some(pkg.version.clone());
    p.license_comments = pkg
        .license
        .as_ref()
        .map(|l| format!("The package record states the licence as: {l}"));
    p.source_info = Some(source(&pkg.file, pkg.layer));
    p.external_refs.push(purl_ref(pkg.purl.clone()));
    p
}

fn purpose(pkg: &Package) -> &'static str {
    // A Go main module is the program itself; everything else is a
    // library as far as the image is concerned.
    if pkg.purl.starts_with("pkg:golang/") && pkg.version == "(devel)" {
        "APPLICATION"
    } else {
        "LIBRARY"
    }
}

fn source(file: &str, layer: usize) -> String {
    format!("read from /{file} in layer {layer}")
}

/// `SPDXRef-` then letters, digits, `.` and `-` only (SPDX 2.3 §7.2); the
/// index keeps two packages of the same name apart.
fn package_id(index: usize, pkg: &Package) -> String {
    let name: String = pkg
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "SPDXRef-Package-{}-{index}-{name}",
        pkg.ecosystem.purl_type()
    )
}
