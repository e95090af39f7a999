//! Reading `index.json` and the manifests, indexes and configs it leads to.

use std::collections::BTreeSet;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest};

use super::{Described, FileRecord, Resolver, platform_string};
use crate::annotations::{CONTAINERD_IMAGE_NAME, DOCKER_REFERENCE_TYPE, OCI_REF_NAME};
use crate::digest::{Digest, Sha256};
use crate::image_config;
use crate::json;
use crate::reference;
use crate::report::{Finding, FindingKind, ImageReport, LayerReport};

const INDEX_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];
const MANIFEST_TYPES: [&str; 2] = [
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// The names an index entry gives its image.
#[derive(Debug, Clone, Default)]
struct Names {
    full: BTreeSet<String>,
    bare: BTreeSet<String>,
}

impl Names {
    /// The names `desc` adds to those it inherits. A name annotation that
    /// Docker would refuse is reported: importing under it would fail after
    /// the images before it were already tagged.
    fn of(desc: &Descriptor, inherited: &Names, entry: &str, findings: &mut Vec<Finding>) -> Names {
        let mut names = inherited.clone();
        let Some(annotations) = desc.annotations() else {
            return names;
        };
        let mut add = |key: &str, name: &str| match reference::normalize(name) {
            Ok(n) => {
                names.full.insert(n);
            }
            Err(why) => findings.push(
                Finding::new(
                    FindingKind::MalformedJson,
                    format!(
                        "annotation {key} `{name}` is not an image reference Docker accepts: {why}"
                    ),
                )
                .entry(entry),
            ),
        };
        if let Some(n) = annotations.get(CONTAINERD_IMAGE_NAME) {
            add(CONTAINERD_IMAGE_NAME, n);
        }
        if let Some(r) = annotations.get(OCI_REF_NAME) {
            if r.contains('/') || r.contains(':') {
                add(OCI_REF_NAME, r);
            } else if !r.is_empty() {
                names.bare.insert(r.clone());
            }
        }
        names
    }
}

/// Where a descriptor sits, for messages and for the missing-platform rule.
struct Parent<'p> {
    entry: &'p str,
    /// Inside a multi-platform index, where absent platforms are normal.
    multi_platform: bool,
    /// Position in index.json of the entry this descriptor descends from.
    top: usize,
}

impl<'a> Resolver<'a> {
    /// Reads `index.json` and every image it describes.
    pub(super) fn oci(&mut self) -> Vec<Described> {
        let Some((path, record)) = self.file("index.json") else {
            return Vec::new();
        };
        let Some(index) = self.parse_json::<ImageIndex>(path, record, "index.json", json::OCI_KEYS)
        else {
            return Vec::new();
        };
        let mut out: Vec<Described> = Vec::new();
        for (top, desc) in index.manifests().iter().enumerate() {
            let parent = Parent {
                entry: path,
                multi_platform: false,
                top,
            };
            let names = Names::of(desc, &Names::default(), path, &mut self.findings);
            self.walk(desc, &names, 0, &parent, &mut out);
        }
        // Two index entries may tag one manifest (app:1.0 and app:latest):
        // one image with both names.
        let mut merged: Vec<Described> = Vec::with_capacity(out.len());
        for image in out {
            match merged
                .iter_mut()
                .find(|m| m.report.manifest_digest == image.report.manifest_digest)
            {
                Some(m) => {
                    m.names.extend(image.names);
                    m.bare_tags.extend(image.bare_tags);
                    m.report.repo_tags = m.names.iter().cloned().collect();
                }
                None => merged.push(image),
            }
        }
        merged
    }

    /// The blob a descriptor names, with its size checked.
    fn descriptor_blob(
        &mut self,
        desc: &Descriptor,
        parent: &Parent<'_>,
        what: &str,
    ) -> Option<(Digest, Option<(&'a str, &'a FileRecord)>)> {
        let digest = match Digest::parse(desc.digest().as_ref()) {
            Ok(d) => d,
            Err(e) => {
                self.push(
                    Finding::new(
                        FindingKind::UnsupportedDigest,
                        format!("{what} `{}` cannot be checked: {e}", desc.digest()),
                    )
                    .entry(parent.entry),
                );
                return None;
            }
        };
        let found = self.file(&digest.blob_path());
        match found {
            None if parent.multi_platform => self.push(
                Finding::new(
                    FindingKind::PlatformNotIncluded,
                    format!(
                        "{what} {digest} for platform {} is listed but not included; only the \
                         included platforms can be loaded",
                        desc.platform()
                            .as_ref()
                            .map(|p| platform_string(
                                &p.os().to_string(),
                                &p.architecture().to_string(),
                                p.variant().as_deref()
                            )
                            .to_string())
                            .unwrap_or_else(|| "unknown".to_owned())
                    ),
                )
                .entry(digest.blob_path()),
            ),
            None => self.push(
                Finding::new(
                    FindingKind::MissingBlob,
                    format!(
                        "{} refers to {what} {digest}, which is not in the bundle",
                        parent.entry
                    ),
                )
                .entry(digest.blob_path()),
            ),
            Some((path, record)) if record.content.size != desc.size() => self.push(
                Finding::new(
                    FindingKind::BlobSizeMismatch,
                    format!("{what} size differs from the size {} states", parent.entry),
                )
                .entry(path)
                .at(record.offset)
                .expected_found(desc.size(), record.content.size),
            ),
            Some(_) => {}
        }
        Some((digest, found))
    }

    /// Follows one descriptor: into an index, or to the image a manifest
    /// describes. `names` are what the index entries above it call it.
    fn walk(
        &mut self,
        desc: &Descriptor,
        names: &Names,
        depth: u32,
        parent: &Parent<'_>,
        out: &mut Vec<Described>,
    ) {
        let media_type = desc.media_type().to_string();
        let is_index = INDEX_TYPES.contains(&media_type.as_str());
        let is_manifest = MANIFEST_TYPES.contains(&media_type.as_str());
        let what = if is_index { "index" } else { "manifest" };
        if !self.count_walk() {
            return;
        }
        let Some((digest, Some((path, record)))) = self.descriptor_blob(desc, parent, what) else {
            return;
        };
        if is_index {
            self.walk_index((path, record), names, depth, parent, out);
        } else if is_manifest {
            self.walk_manifest(desc, digest, (path, record), names, parent, out);
        } else {
            self.push(
                Finding::new(
                    FindingKind::MalformedJson,
                    format!("{} lists content of media type `{media_type}`, which is neither an image nor an index", parent.entry),
                )
                .entry(path)
                .at(record.offset),
            );
        }
    }

    /// Every entry of an index, as deep as `max_index_depth` allows.
    fn walk_index(
        &mut self,
        (path, record): (&'a str, &'a FileRecord),
        names: &Names,
        depth: u32,
        parent: &Parent<'_>,
        out: &mut Vec<Described>,
    ) {
        if depth >= self.limits.max_index_depth {
            self.push(
                Finding::new(
                    FindingKind::LimitExceeded,
                    format!(
                        "indexes nest more than {} deep",
                        self.limits.max_index_depth
                    ),
                )
                .entry(path)
                .limit(crate::limits::LimitName::MaxIndexDepth),
            );
            return;
        }
        let Some(index) = self.parse_json::<ImageIndex>(path, record, "index", json::OCI_KEYS)
        else {
            return;
        };
        let child_parent = Parent {
            entry: path,
            multi_platform: index.manifests().len() > 1,
            top: parent.top,
        };
        for child in index.manifests() {
            let child_names = Names::of(child, names, path, &mut self.findings);
            self.walk(child, &child_names, depth + 1, &child_parent, out);
        }
    }

    /// The image a manifest describes; an attestation's blobs are only
    /// checked to be intact.
    fn walk_manifest(
        &mut self,
        desc: &Descriptor,
        digest: Digest,
        (path, record): (&'a str, &'a FileRecord),
        names: &Names,
        parent: &Parent<'_>,
        out: &mut Vec<Described>,
    ) {
        let attestation = is_attestation(desc, parent);
        let Some(manifest) =
            self.parse_json::<ImageManifest>(path, record, "manifest", json::OCI_KEYS)
        else {
            return;
        };
        let group = parent.multi_platform.then_some(parent.top);
        let parent = Parent {
            entry: path,
            multi_platform: false,
            top: parent.top,
        };
        if attestation {
            // Provenance and SBOM blobs are in-toto JSON, not image configs
            // and layers: check they are intact, show no image for them.
            self.descriptor_blob(manifest.config(), &parent, "attestation config");
            for layer in manifest.layers() {
                self.descriptor_blob(layer, &parent, "attestation layer");
            }
            return;
        }
        if let Some(mut image) = self.image(&manifest, digest, names, desc, &parent) {
            image.group = group;
            out.push(image);
        }
    }

    /// The image of a manifest: its config, layers and platform.
    fn image(
        &mut self,
        manifest: &ImageManifest,
        manifest_digest: Digest,
        names: &Names,
        desc: &Descriptor,
        parent: &Parent<'_>,
    ) -> Option<Described> {
        let (config_digest, config_file) =
            self.descriptor_blob(manifest.config(), parent, "config")?;
        let config = match config_file {
            Some((path, record)) => {
                self.parse_json::<ImageConfiguration>(path, record, "image config", json::OCI_KEYS)
            }
            None => None,
        };
        let diff_ids = config.as_ref().map(|c| c.rootfs().diff_ids().clone());
        let (layers, layer_digests) = self.manifest_layers(manifest, parent, diff_ids.as_deref());
        if let Some(d) = &diff_ids
            && d.len() != manifest.layers().len()
        {
            self.push(
                Finding::new(
                    FindingKind::DiffIdMismatch,
                    "the manifest and its config list different numbers of layers",
                )
                .entry(parent.entry)
                .expected_found(
                    format!("{} diff_ids", d.len()),
                    format!("{} layers", manifest.layers().len()),
                ),
            );
        }
        Some(Described {
            group: None,
            names: names.full.clone(),
            bare_tags: names.bare.clone(),
            layer_digests,
            report: ImageReport {
                files: None,
                // Summarized here, where the config is parsed, not again
                // by the layer pass.
                config: config.as_ref().map(image_config::summarize),
                os: None,
                packages: None,
                package_notes: Vec::new(),
                repo_tags: names.full.iter().cloned().collect(),
                manifest_digest: Some(manifest_digest),
                manifest_media_type: Some(desc.media_type().clone()),
                manifest_size: Some(desc.size()),
                platform: image_platform(config.as_ref(), desc),
                config_digest: Some(config_digest),
                config_size: Some(manifest.config().size()),
                created: config.as_ref().and_then(|c| c.created().clone()),
                layers,
            },
        })
    }

    /// The manifest's layers, each checked against the config's `diff_id`
    /// at its position when both the blob and the config are there, and
    /// described from the descriptor alone when not; and the digest each
    /// descriptor names (`None` where it cannot be read).
    fn manifest_layers(
        &mut self,
        manifest: &ImageManifest,
        parent: &Parent<'_>,
        diff_ids: Option<&[String]>,
    ) -> (Vec<LayerReport>, Vec<Option<Sha256>>) {
        let mut layers = Vec::new();
        let mut layer_digests = Vec::new();
        for (i, layer) in manifest.layers().iter().enumerate() {
            let Some((digest, file)) = self.descriptor_blob(layer, parent, "layer") else {
                layer_digests.push(None);
                continue;
            };
            layer_digests.push(Some(digest.sha256()));
            let diff_id = diff_ids.and_then(|d| d.get(i));
            match file {
                Some((path, record)) if diff_ids.is_some() => {
                    layers.push(self.layer(
                        path,
                        record,
                        Some(layer.media_type().to_string()),
                        diff_id,
                    ));
                }
                _ => layers.push(LayerReport {
                    changes: None,
                    digest: Some(digest.sha256()),
                    media_type: layer.media_type().clone(),
                    size: Some(layer.size()),
                    uncompressed_size: None,
                    diff_id: diff_id.cloned(),
                }),
            }
        }
        (layers, layer_digests)
    }
}

/// containerd ignores BuildKit's annotation and would import any manifest;
/// only a real attestation (inside a platform index, for platform
/// unknown/unknown) may be passed over.
fn is_attestation(desc: &Descriptor, parent: &Parent<'_>) -> bool {
    parent.multi_platform
        && desc
            .annotations()
            .as_ref()
            .and_then(|a| a.get(DOCKER_REFERENCE_TYPE))
            .is_some_and(|v| v == "attestation-manifest")
        && desc.platform().as_ref().is_some_and(|p| {
            p.os().to_string() == "unknown" && p.architecture().to_string() == "unknown"
        })
}

/// The platform the config states, else the one its index entry states.
fn image_platform(
    config: Option<&ImageConfiguration>,
    desc: &Descriptor,
) -> Option<crate::platform::Platform> {
    config
        .map(|c| {
            platform_string(
                &c.os().to_string(),
                &c.architecture().to_string(),
                c.variant().as_deref(),
            )
        })
        .or_else(|| {
            desc.platform().as_ref().map(|p| {
                platform_string(
                    &p.os().to_string(),
                    &p.architecture().to_string(),
                    p.variant().as_deref(),
                )
            })
        })
}
