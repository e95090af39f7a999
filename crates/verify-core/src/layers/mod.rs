//! Reading inside the layers: each layer blob's own tar stream, read as it
//! is decompressed for its `diff_id`, and the images' file trees built from
//! what those streams held.
//!
//! Tar order is arbitrary, so when a blob streams past we do not yet know
//! whether it is a layer; every blob that starts like a tar is read, and
//! what is kept of it (one small record per entry, and the few files the
//! package catalogers need) is used only if the blob turns out to be one.

pub(crate) mod reader;
pub(crate) mod tree;

use std::collections::{HashMap, HashSet};

use crate::content::{Content, Json, Unpacked};
use crate::contents::FileType;
use crate::digest::Sha256;
use crate::formats::Archive;
use crate::image_config;
use crate::report::{Finding, FindingKind, ImageReport};

/// One entry of a layer tar, as the tree needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LayerEntry {
    /// Cleaned as Docker cleans it: relative, `/`-separated, no `.` or `..`
    /// parts, no trailing `/`. Whiteouts keep their names (`etc/.wh.foo`,
    /// `var/.wh..wh..opq`); the tree interprets them.
    pub path: Box<str>,
    pub file_type: FileType,
    /// Content bytes (regular files), 0 otherwise.
    pub size: u64,
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Symlink target as written; hard-link source cleaned like `path`.
    pub link: Option<Box<str>>,
}

/// Looks inside the layers of resolved images: reports what each layer's
/// tar holds that importers refuse or an approver should see (once per blob,
/// however many images share it), and fills in the images' trees.
pub(crate) fn examine(archive: &Archive, images: &mut [ImageReport], _files: bool) -> Vec<Finding> {
    let blobs: HashMap<Sha256, &Content> = archive
        .files
        .values()
        .map(|record| (record.content.sha256, &record.content))
        .collect();
    let mut findings = Vec::new();
    let mut reported: HashSet<Sha256> = HashSet::new();
    let mut configs_seen: HashSet<Sha256> = HashSet::new();
    for image in images.iter_mut() {
        let name = image.display_name();
        if let Some(digest) = image.config_digest.map(|d| d.sha256())
            && let Some(Content {
                json: Json::Kept(bytes),
                ..
            }) = blobs.get(&digest)
            // The resolver has reported a config that does not parse.
            && let Ok(config) = serde_json::from_slice(bytes)
        {
            let (summary, said) = image_config::summarize(&config, &name);
            if configs_seen.insert(digest) {
                findings.extend(said);
            }
            image.config = Some(summary);
        }
        for layer in &image.layers {
            let Some(digest) = layer.digest else { continue };
            // A missing or undecompressable layer has its own finding.
            let Some(content) = blobs.get(&digest) else {
                continue;
            };
            if !matches!(content.unpacked, Unpacked::Done { .. }) || !reported.insert(digest) {
                continue;
            }
            match &content.layer {
                Some(read) => findings.extend(
                    read.findings
                        .iter()
                        .map(|f| f.clone().in_layer(name.clone(), digest)),
                ),
                None => findings.push(
                    Finding::new(
                        FindingKind::LayerTarInvalid,
                        "the layer is not a tar archive: its first block is not a tar header, \
                         so no importer can unpack it",
                    )
                    .in_layer(name.clone(), digest)
                    .at(0),
                ),
            }
        }
    }
    findings
}
