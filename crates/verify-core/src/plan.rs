//! What an importer must write for a verified bundle: per image, its names,
//! its manifest and the blobs that manifest references.
//!
//! The report says what the bundle holds; the plan turns that into the
//! content-addressed objects every target (an OCI layout, containerd, a
//! registry) stores. Bundles written by `docker save` before version 25 have
//! no manifest blob at all, only `manifest.json`, so the plan writes the OCI
//! manifest a registry or containerd needs, the way `skopeo copy` does.

use oci_spec::image::{DescriptorBuilder, ImageManifestBuilder, MediaType};
use thiserror::Error;

use crate::digest::{Digest, Sha256};
use crate::platform::Platform;
use crate::report::{ImageReport, Report, Verdict};

/// The objects to import for a bundle that verified.
///
/// Only [`ImportPlan::from_report`] makes one, from a report a
/// [`Verifier`](crate::Verifier) concluded ok; importers take a plan, so
/// what they write has been verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportPlan {
    images: Vec<PlannedImage>,
}

/// One image: what to tag, and the manifest the tags point at.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedImage {
    /// Normalized references (`docker.io/library/alpine:3.19`); may be empty
    /// for an OCI archive whose index names nothing.
    pub names: Vec<String>,
    /// The platform, when the config says.
    pub platform: Option<Platform>,
    /// The manifest the names point at.
    pub manifest: PlannedManifest,
    /// The image config (`application/vnd.oci.image.config.v1+json`).
    pub config: BlobRef,
    /// In the manifest's order, base layer first, with their stored
    /// (possibly compressed) digests, sizes and media types.
    pub layers: Vec<BlobRef>,
}

impl PlannedImage {
    /// The config, then the layers: every blob the manifest references.
    pub fn blobs(&self) -> impl Iterator<Item = &BlobRef> {
        std::iter::once(&self.config).chain(&self.layers)
    }
}

/// A manifest: either a blob of the bundle, or one the plan wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PlannedManifest {
    /// The manifest's digest, size and media type, for a descriptor or a tag.
    pub blob: BlobRef,
    /// The manifest's bytes when the bundle had none (docker-archive); when
    /// `None` the bytes are the bundle's file with digest `blob.digest`.
    pub synthesized: Option<Vec<u8>>,
}

/// A content-addressed object and how it is described.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BlobRef {
    /// SHA-256 of the bytes as stored.
    pub digest: Sha256,
    /// Bytes as stored.
    pub size: u64,
    /// The media type its descriptor carries: the manifest's own, the OCI
    /// config type, or a layer's
    /// [`LayerReport::media_type`](crate::LayerReport::media_type).
    pub media_type: MediaType,
}

impl BlobRef {
    /// The digest in its `sha256:<hex>` form.
    pub fn digest_string(&self) -> String {
        Digest::from(self.digest).to_string()
    }
}

/// Why a report cannot be imported.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanError {
    /// The report's verdict is not ok.
    #[error("the bundle did not verify; nothing may be imported from it")]
    NotVerified,
    /// The report was not concluded by a [`Verifier`](crate::Verifier) in
    /// this process (it was read from JSON): its verdict is a claim, not a
    /// check.
    #[error(
        "the report did not come from a verifier here; only a bundle verified here may be imported"
    )]
    NotFromVerifier,
    /// An image lacks a digest, size or media type the plan needs.
    #[error("image {image} has no {what} in the report")]
    Incomplete {
        /// The image's index in [`Report::images`].
        image: usize,
        /// What is missing, in words (`"layer digest"`).
        what: &'static str,
    },
    /// One name would be given to two different manifests.
    #[error(
        "{name} names more than one image (a multi-platform bundle); importing several \
         platforms under one name is not supported yet"
    )]
    NameClash {
        /// The normalized reference.
        name: String,
    },
}

impl ImportPlan {
    /// The plan for a report whose verdict is ok, concluded by a
    /// [`Verifier`](crate::Verifier); a report read from JSON is refused
    /// whatever its verdict says.
    pub fn from_report(report: &Report) -> Result<Self, PlanError> {
        if !report.is_from_verifier() {
            return Err(PlanError::NotFromVerifier);
        }
        Ok(Self {
            images: plan_images(report)?,
        })
    }

    /// One per image of the report, in the report's order.
    pub fn images(&self) -> &[PlannedImage] {
        &self.images
    }
}

/// One image as a seal or approval names it: its names and the digest of
/// the manifest they point at (for a docker-archive image, of the manifest
/// its import writes).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamedManifest {
    /// Normalized references; may be empty.
    pub names: Vec<String>,
    /// The manifest's SHA-256.
    pub digest: Sha256,
}

/// The images of an ok report as [`NamedManifest`]s, with the same
/// refusals as [`ImportPlan::from_report`] except one: the report may have
/// been read back from JSON. Naming images imports nothing, so a report
/// handed from one wasm module to another (the approver's page checks seals
/// in a module apart from the verifier's) can say what a seal must name;
/// what is imported still needs the verifier's own report.
pub fn named_manifests(report: &Report) -> Result<Vec<NamedManifest>, PlanError> {
    Ok(plan_images(report)?
        .into_iter()
        .map(|image| NamedManifest {
            names: image.names,
            digest: image.manifest.blob.digest,
        })
        .collect())
}

/// Every image's plan, for a report whose verdict is ok, with no name
/// given to two manifests; whoever concluded the report.
fn plan_images(report: &Report) -> Result<Vec<PlannedImage>, PlanError> {
    if report.verdict() != Verdict::Ok {
        return Err(PlanError::NotVerified);
    }
    let images = report
        .images()
        .iter()
        .enumerate()
        .map(|(i, image)| plan_image(i, image))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = std::collections::HashMap::new();
    for image in &images {
        for name in &image.names {
            if let Some(other) = seen.insert(name.as_str(), image.manifest.blob.digest)
                && other != image.manifest.blob.digest
            {
                return Err(PlanError::NameClash { name: name.clone() });
            }
        }
    }
    Ok(images)
}

/// One image's plan; `index` names it in errors.
pub(crate) fn plan_image(index: usize, image: &ImageReport) -> Result<PlannedImage, PlanError> {
    let missing = |what| PlanError::Incomplete { image: index, what };
    let config = BlobRef {
        digest: image
            .config_digest
            .ok_or(missing("config digest"))?
            .sha256(),
        size: image.config_size.ok_or(missing("config size"))?,
        media_type: MediaType::ImageConfig,
    };
    let layers = image
        .layers
        .iter()
        .map(|l| {
            Ok(BlobRef {
                digest: l.digest.ok_or(missing("layer digest"))?,
                size: l.size.ok_or(missing("layer size"))?,
                media_type: l.media_type.clone(),
            })
        })
        .collect::<Result<Vec<_>, PlanError>>()?;
    let manifest = match image.manifest_digest {
        Some(digest) => PlannedManifest {
            blob: BlobRef {
                digest: digest.sha256(),
                size: image.manifest_size.ok_or(missing("manifest size"))?,
                media_type: image
                    .manifest_media_type
                    .clone()
                    .ok_or(missing("manifest media type"))?,
            },
            synthesized: None,
        },
        None => synthesize(&config, &layers).ok_or(missing("manifest"))?,
    };
    Ok(PlannedImage {
        names: image.repo_tags.clone(),
        platform: image.platform.clone(),
        manifest,
        config,
        layers,
    })
}

/// Writes the OCI manifest for an image that `manifest.json` alone describes.
fn synthesize(config: &BlobRef, layers: &[BlobRef]) -> Option<PlannedManifest> {
    let descriptor = |b: &BlobRef| {
        DescriptorBuilder::default()
            .media_type(b.media_type.clone())
            .digest(oci_spec::image::Digest::try_from(b.digest_string()).ok()?)
            .size(b.size)
            .build()
            .ok()
    };
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(config)?)
        .layers(layers.iter().map(descriptor).collect::<Option<Vec<_>>>()?)
        .build()
        .ok()?;
    let bytes = serde_json::to_vec(&manifest).ok()?;
    Some(PlannedManifest {
        blob: BlobRef {
            digest: Sha256::of(&bytes),
            size: bytes.len() as u64,
            media_type: MediaType::ImageManifest,
        },
        synthesized: Some(bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Finding, FindingKind, LayerReport};

    fn docker_only_image() -> ImageReport {
        ImageReport {
            files: None,
            config: None,
            os: None,
            packages: None,
            package_notes: Vec::new(),
            repo_tags: vec!["docker.io/library/app:1.0".into()],
            manifest_digest: None,
            manifest_media_type: None,
            manifest_size: None,
            platform: Some(Platform::new("linux", "amd64", None::<String>)),
            config_digest: Some(Digest::from(Sha256::of(b"config"))),
            config_size: Some(6),
            created: None,
            layers: vec![LayerReport {
                changes: None,
                digest: Some(Sha256::of(b"layer")),
                media_type: MediaType::ImageLayer,
                size: Some(5),
                uncompressed_size: Some(5),
                diff_id: None,
            }],
        }
    }

    fn report(images: Vec<ImageReport>, verdict: Verdict) -> Report {
        let findings = match verdict {
            Verdict::Ok => Vec::new(),
            Verdict::Fail => vec![Finding::new(FindingKind::Truncated, "cut")],
        };
        Report::from_verifier(
            crate::report::BundleReport {
                size: 0,
                sha256: None,
                expected_sha256: None,
                sha256_matches: None,
                format: crate::report::BundleFormat::DockerArchive,
                compression: crate::report::Compression::None,
                entries: 0,
            },
            images,
            findings,
        )
    }

    #[test]
    fn a_failed_report_has_no_plan() {
        let r = report(vec![docker_only_image()], Verdict::Fail);
        assert_eq!(ImportPlan::from_report(&r), Err(PlanError::NotVerified));
    }

    #[test]
    fn docker_archive_images_get_a_manifest_that_references_their_blobs() {
        let r = report(vec![docker_only_image()], Verdict::Ok);
        let plan = ImportPlan::from_report(&r).expect("plan");
        let manifest = &plan.images[0].manifest;
        let bytes = manifest.synthesized.as_ref().expect("synthesized");
        assert_eq!(manifest.blob.digest, Sha256::of(bytes));
        let parsed: serde_json::Value = serde_json::from_slice(bytes).expect("json");
        assert_eq!(
            parsed["config"]["digest"],
            Digest::from(Sha256::of(b"config")).to_string()
        );
        assert_eq!(parsed["config"]["size"], 6);
        assert_eq!(
            parsed["layers"][0]["digest"],
            Digest::from(Sha256::of(b"layer")).to_string()
        );
        assert_eq!(
            parsed["mediaType"],
            "application/vnd.oci.image.manifest.v1+json"
        );
    }

    #[test]
    fn one_name_on_two_images_is_refused() {
        let a = docker_only_image();
        let mut b = docker_only_image();
        b.config_digest = Some(Digest::from(Sha256::of(b"other config")));
        let r = report(vec![a, b], Verdict::Ok);
        assert_eq!(
            ImportPlan::from_report(&r),
            Err(PlanError::NameClash {
                name: "docker.io/library/app:1.0".into()
            })
        );
    }

    #[test]
    fn a_report_read_back_names_the_manifests_its_plan_would_write_but_has_no_plan() {
        let r = report(vec![docker_only_image()], Verdict::Ok);
        let plan = ImportPlan::from_report(&r).expect("plan");
        let json = serde_json::to_string(&r).expect("report as JSON");
        let back: Report = serde_json::from_str(&json).expect("report read back");
        assert_eq!(
            ImportPlan::from_report(&back),
            Err(PlanError::NotFromVerifier)
        );
        let named = named_manifests(&back).expect("named");
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].names, plan.images[0].names);
        assert_eq!(named[0].digest, plan.images[0].manifest.blob.digest);
        let failed = report(vec![docker_only_image()], Verdict::Fail);
        let failed: Report =
            serde_json::from_str(&serde_json::to_string(&failed).expect("json")).expect("back");
        assert_eq!(named_manifests(&failed), Err(PlanError::NotVerified));
    }
}
