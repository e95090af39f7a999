//! Reading Docker's `manifest.json` and the configs and layers it names by path.

use std::collections::BTreeSet;

use oci_spec::image::ImageConfiguration;
use serde::Deserialize;

use super::{Described, FileRecord, Resolver, platform_string};
use crate::digest::{Digest, Sha256};
use crate::image_config;
use crate::json;
use crate::paths;
use crate::reference;
use crate::report::{Finding, FindingKind, ImageReport, LayerReport};

/// One element of `manifest.json`, as `docker load` reads it.
#[derive(Debug, Deserialize)]
struct Entry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

impl<'a> Resolver<'a> {
    /// Reads `manifest.json` and every image it describes.
    pub(super) fn docker(&mut self) -> Vec<Described> {
        let Some((path, record)) = self.file("manifest.json") else {
            return Vec::new();
        };
        let Some(entries) = self.parse_json::<Vec<Entry>>(
            path,
            record,
            "manifest.json",
            json::DOCKER_MANIFEST_KEYS,
        ) else {
            return Vec::new();
        };
        if entries.is_empty() {
            self.push(
                Finding::new(FindingKind::NotABundle, "manifest.json lists no images").entry(path),
            );
        }
        entries
            .iter()
            .filter_map(|e| self.docker_image(e))
            .collect()
    }

    /// Normalizes a path named in `manifest.json` and finds its file.
    fn named_file(&mut self, raw: &str, what: &str) -> Option<(&'a str, &'a FileRecord)> {
        let path = match paths::normalize(raw.as_bytes()) {
            Ok(p) => p,
            Err(why) => {
                self.push(
                    Finding::new(
                        FindingKind::UnsafePath,
                        format!("manifest.json names {what} `{raw}`, whose path {why}"),
                    )
                    .entry("manifest.json"),
                );
                return None;
            }
        };
        let found = self.file(&path);
        if found.is_none() {
            self.push(
                Finding::new(
                    FindingKind::MissingBlob,
                    format!("manifest.json names {what} `{raw}`, which is not in the bundle"),
                )
                .entry(path),
            );
        }
        found
    }

    /// One element of `manifest.json`: its config, tags and layers.
    fn docker_image(&mut self, entry: &Entry) -> Option<Described> {
        let (config_path, config_record) = self.named_file(&entry.config, "config")?;
        let config_digest = config_record.content.sha256;
        self.check_config_name(config_path, config_record);
        let config = self.parse_json::<ImageConfiguration>(
            config_path,
            config_record,
            "image config",
            json::OCI_KEYS,
        );
        let diff_ids = config.as_ref().map(|c| c.rootfs().diff_ids().clone());
        let names = self.repo_tags(entry);
        let (layers, layer_digests) = self.docker_layers(entry, diff_ids.as_deref());
        if let Some(d) = &diff_ids
            && d.len() != entry.layers.len()
        {
            self.push(
                Finding::new(
                    FindingKind::DiffIdMismatch,
                    "manifest.json and the image config list different numbers of layers",
                )
                .entry(config_path)
                .expected_found(
                    format!("{} diff_ids", d.len()),
                    format!("{} layers", entry.layers.len()),
                ),
            );
        }
        Some(Described {
            group: None,
            names: names.clone(),
            bare_tags: BTreeSet::new(),
            layer_digests,
            report: ImageReport {
                files: None,
                // Summarized here, where the config is parsed, not again
                // by the layer pass.
                config: config.as_ref().map(image_config::summarize),
                os: None,
                packages: None,
                package_notes: Vec::new(),
                repo_tags: names.into_iter().collect(),
                manifest_digest: None,
                manifest_media_type: None,
                manifest_size: None,
                platform: config.as_ref().map(|c| {
                    platform_string(
                        &c.os().to_string(),
                        &c.architecture().to_string(),
                        c.variant().as_deref(),
                    )
                }),
                config_digest: Some(Digest::from(config_digest)),
                config_size: Some(config_record.content.size),
                created: config.as_ref().and_then(|c| c.created().clone()),
                layers,
            },
        })
    }

    /// Older layouts name the config `<sha256>.json`; the name is the image
    /// ID, so it must be the content's digest.
    fn check_config_name(&mut self, path: &str, record: &FileRecord) {
        let digest = record.content.sha256;
        if let Some(named) = path
            .strip_suffix(".json")
            .and_then(|stem| Sha256::from_hex(stem).ok())
            && named != digest
        {
            self.push(
                Finding::new(
                    FindingKind::BlobDigestMismatch,
                    "the config's content does not match the digest in its file name",
                )
                .entry(path)
                .at(record.offset)
                .expected_found(Digest::from(named), Digest::from(digest)),
            );
        }
    }

    /// The entry's `RepoTags`, normalized as Docker normalizes references;
    /// a tag Docker would refuse is reported and left out.
    fn repo_tags(&mut self, entry: &Entry) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        for tag in entry.repo_tags.iter().flatten() {
            match reference::normalize_tagged(tag) {
                Ok(n) => {
                    names.insert(n);
                }
                Err(why) => self.push(
                    Finding::new(
                        FindingKind::MalformedJson,
                        format!(
                            "manifest.json has a tag `{tag}` that is not an image reference \
                             Docker accepts: {why}"
                        ),
                    )
                    .entry("manifest.json"),
                ),
            }
        }
        names
    }

    /// The entry's layers, each checked against the config's `diff_id` at
    /// its position, and the digest of each layer file (`None` where it is
    /// missing). Without a readable config there are no `diff_id`s to check
    /// against, and no layers are reported.
    fn docker_layers(
        &mut self,
        entry: &Entry,
        diff_ids: Option<&[String]>,
    ) -> (Vec<LayerReport>, Vec<Option<Sha256>>) {
        let mut layers = Vec::new();
        let mut layer_digests = Vec::new();
        for (i, raw) in entry.layers.iter().enumerate() {
            let Some((path, record)) = self.named_file(raw, "layer") else {
                layer_digests.push(None);
                continue;
            };
            layer_digests.push(Some(record.content.sha256));
            if let Some(diff_ids) = diff_ids {
                layers.push(self.layer(path, record, None, diff_ids.get(i)));
            }
        }
        (layers, layer_digests)
    }
}
