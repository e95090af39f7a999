//! CycloneDX 1.6, JSON serialization (<https://cyclonedx.org/docs/1.6/json/>).
//!
//! The image is the BOM's subject (`metadata.component`, type `container`);
//! its OS and packages are `components`, and one `dependencies` entry says
//! the image holds them all. Where each package was found is kept in
//! `airlock:`-named properties.

use serde::Serialize;

use super::{SbomFormat, SbomInput};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    #[serde(rename = "$schema")]
    schema: &'static str,
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct LicenseChoice {
    license: License,
}

/// A licence by name: the records' words are free text, not necessarily
/// an SPDX identifier or expression.
#[derive(Serialize)]
struct License {
    name: String,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

const IMAGE_REF: &str = "image";
const OS_REF: &str = "os";

pub(super) fn write(input: &SbomInput<'_>) -> String {
    let image = Component {
        kind: "container",
        bom_ref: Some(IMAGE_REF.to_owned()),
        name: input.image_name(),
        version: Some(input.image.manifest_digest.to_string()),
        purl: input.image_purl(),
        properties: vec![
            Property {
                name: "airlock:manifest-digest",
                value: input.image.manifest_digest.to_string(),
            },
            Property {
                name: "airlock:config-digest",
                value: input.image.config_digest.to_string(),
            },
        ],
        ..Component::default()
    };

    let mut components = Vec::new();
    if let Some(os) = input.os {
        components.push(Component {
            kind: "operating-system",
            bom_ref: Some(OS_REF.to_owned()),
            name: os.id.clone(),
            version: os.version_id.clone(),
            description: os.pretty_name.clone(),
            properties: location(&os.file, os.layer),
            ..Component::default()
        });
    }
    for (index, pkg) in input.packages.iter().enumerate() {
        let mut properties = location(&pkg.file, pkg.layer);
        if let Some(arch) = &pkg.arch {
            properties.push(Property {
                name: "airlock:arch",
                value: arch.clone(),
            });
        }
        components.push(Component {
            kind: if pkg.purl.starts_with("pkg:golang/") && pkg.version == "(devel)" {
                "application"
            } else {
                "library"
            },
            bom_ref: Some(format!("pkg-{index}")),
            name: pkg.name.clone(),
            version: Some(pkg.version.clone()),
            licenses: pkg
                .license
                .iter()
                .map(|l| LicenseChoice {
                    license: License { name: l.clone() },
                })
                .collect(),
            purl: Some(pkg.purl.clone()),
            properties,
            ..Component::default()
        });
    }
    let depends_on = components
        .iter()
        .filter_map(|c| c.bom_ref.clone())
        .collect();

    let bom = Bom {
        schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: serial_number(&input.identity(SbomFormat::CycloneDxJson)),
        version: 1,
        metadata: Metadata {
            timestamp: input.created.to_string(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: "airlock".to_owned(),
                    version: Some(input.tool_version.to_owned()),
                    ..Component::default()
                }],
            },
            component: image,
        },
        components,
        dependencies: vec![Dependency {
            reference: IMAGE_REF.to_owned(),
            depends_on,
        }],
    };
    // Serializing plain structs of strings cannot fail.
    serde_json::to_string_pretty(&bom).unwrap_or_default()
}

fn location(file: &str, layer: usize) -> Vec<Property> {
    vec![
        Property {
            name: "airlock:file",
            value: format!("/{file}"),
        },
        Property {
            name: "airlock:layer",
            value: layer.to_string(),
        },
    ]
}

/// An RFC 4122 name-based UUID (version 5 layout) from the document's
/// identity, so the same image gets the same serial number.
fn serial_number(identity: &[u8; 32]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&identity[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
