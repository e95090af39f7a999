//! The sender's seal: predicate type [`SEAL_PREDICATE_TYPE`], stating that
//! the bundle verified on the sender's machine and what it held.
//!
//! ```json
//! {"airlockVersion": "0.1.0",
//!  "bundle": {"name": "app.tar", "sha256": "<hex>", "size": 1234,
//!             "format": "oci-layout", "compression": "none"},
//!  "images": [{"references": ["docker.io/library/app:1.0"],
//!              "manifestDigest": "sha256:…", "platform": "linux/amd64",
//!              "configDigest": "sha256:…", "layers": ["sha256:…"]}]}
//! ```
//!
//! The subjects carry what is bound (file and manifest digests); the
//! predicate is the human-readable record of the rest.

use serde::{Deserialize, Serialize};
use verify_core::{Digest, ImportPlan, Report};

use crate::statement::PredicateKind;

/// The seal's predicate type URI (version 1 of its schema).
pub const SEAL_PREDICATE_TYPE: &str = "https://airlock.dev/seal/v1";

/// What the sender's Airlock found in the bundle it sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SealPredicate {
    /// The Airlock version that verified and sealed the bundle.
    pub airlock_version: String,
    /// The bundle file.
    pub bundle: SealedFile,
    /// Every image the bundle would load, in the bundle's order.
    pub images: Vec<SealedImage>,
}

/// The bundle file as the sender read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SealedFile {
    /// Its file name when sealed.
    pub name: String,
    /// SHA-256 of the whole file, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Archive layout (`docker-archive`, `oci-layout`, `docker-and-oci`).
    pub format: String,
    /// Whole-file compression (`none`, `gzip`, `zstd`).
    pub compression: String,
}

/// One image of the sealed bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SealedImage {
    /// Normalized references it is tagged as.
    pub references: Vec<String>,
    /// The manifest's digest (for a docker-archive image, of the manifest
    /// its import writes).
    pub manifest_digest: String,
    /// `os/arch[/variant]`, when the config says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The config's digest (the image ID).
    pub config_digest: String,
    /// Layer blob digests, base first.
    pub layers: Vec<String>,
}

impl PredicateKind for SealPredicate {
    const PREDICATE_TYPE: &'static str = SEAL_PREDICATE_TYPE;
}

impl SealPredicate {
    /// The seal of a verified bundle: `report` as its verifier concluded
    /// it, `plan` the import plan of that report, `name` the file's name.
    /// `None` when the report has no whole-file hash (it was not read to
    /// the end).
    pub fn from_report(
        name: &str,
        report: &Report,
        plan: &ImportPlan,
        airlock_version: &str,
    ) -> Option<Self> {
        let bundle = report.bundle();
        let as_text = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        Some(Self {
            airlock_version: airlock_version.to_owned(),
            bundle: SealedFile {
                name: name.to_owned(),
                sha256: bundle.sha256?.to_hex(),
                size: bundle.size,
                format: as_text(serde_json::to_value(bundle.format).ok()?),
                compression: as_text(serde_json::to_value(bundle.compression).ok()?),
            },
            images: plan
                .images()
                .iter()
                .map(|image| SealedImage {
                    references: image.names.clone(),
                    manifest_digest: image.manifest.blob.digest_string(),
                    platform: image.platform.as_ref().map(ToString::to_string),
                    config_digest: image.config.digest_string(),
                    layers: image
                        .layers
                        .iter()
                        .map(|l| Digest::from(l.digest).to_string())
                        .collect(),
                })
                .collect(),
        })
    }
}
