//! Reading inside the layers: each layer blob's own tar stream, read as it
//! is decompressed for its `diff_id`, and the images' file trees built from
//! what those streams held.
//!
//! Tar order is arbitrary, so when a blob streams past we do not yet know
//! whether it is a layer; every blob that starts like a tar is read, and
//! what is kept of it (one small record per entry, and the few files the
//! package catalogers need) is used only if the blob turns out to be one.

mod entry;
pub(crate) mod reader;
pub(crate) mod tree;

pub(crate) use entry::LayerEntry;

use std::collections::{HashMap, HashSet};

use crate::content::{Content, Unpacked};
use crate::contents::FileType;
use crate::digest::Sha256;
use crate::formats::Archive;
use crate::image_config;
use crate::packages::{self, CapturedFile};
use crate::report::{Finding, FindingKind, ImageReport};
use reader::LayerRead;

/// Looks inside the layers of resolved images: reports what each layer's
/// tar holds that importers refuse or an approver should see (once per blob,
/// however many images share it), warns of each config's secret-named
/// variables (the resolver summarized the config), and applies each
/// image's layers for its tree, the layers' changes and its packages.
pub(crate) fn examine(archive: &Archive, images: &mut [ImageReport], files: bool) -> Vec<Finding> {
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
        // The resolver summarized the config; its warnings go once per
        // config, however many images share it.
        if let (Some(summary), Some(digest)) = (&image.config, image.config_digest)
            && configs_seen.insert(digest.sha256())
        {
            findings.extend(image_config::secret_findings(summary, &name));
        }
        let mut reads = Vec::with_capacity(image.layers.len());
        for layer in &image.layers {
            let read = layer.digest.and_then(|digest| {
                let content = blobs.get(&digest)?;
                // A missing or undecompressable layer has its own finding.
                if !matches!(content.unpacked, Unpacked::Done { .. }) {
                    return None;
                }
                let first = reported.insert(digest);
                match &content.layer {
                    Some(read) => {
                        if first {
                            findings.extend(
                                read.findings
                                    .iter()
                                    .map(|f| f.clone().in_layer(name.clone(), digest)),
                            );
                        }
                        Some((digest, &**read))
                    }
                    None => {
                        if first {
                            findings.push(
                                Finding::new(
                                    FindingKind::LayerTarInvalid,
                                    "the layer is not a tar archive: its first block is not a \
                                     tar header, so no importer can unpack it",
                                )
                                .in_layer(name.clone(), digest)
                                .at(0),
                            );
                        }
                        None
                    }
                }
            });
            reads.push(read);
        }
        // A tree from some layers would show files that are not what a
        // load installs: only whole, readable images get one.
        let whole: Option<Vec<(Sha256, &LayerRead)>> = reads
            .into_iter()
            .map(|r| r.filter(|(_, read)| !read.broken))
            .collect();
        if let Some(whole) = whole {
            findings.extend(unpack(image, &whole, &name, files));
        }
    }
    findings
}

/// Applies an image's readable layers: each layer's changes, the packages
/// in the final tree, the tree itself when `files` asks for it, and a
/// finding for each entry an extractor would stop at.
fn unpack(
    image: &mut ImageReport,
    layers: &[(Sha256, &LayerRead)],
    name: &str,
    files: bool,
) -> Vec<Finding> {
    let entries: Vec<&[LayerEntry]> = layers.iter().map(|(_, r)| &r.entries[..]).collect();
    let applied = tree::apply(&entries);
    let findings = applied
        .problems
        .iter()
        .map(|problem| {
            Finding::new(
                FindingKind::LayerTarInvalid,
                format!(
                    "this entry cannot be applied over the layers below it: {}; the \
                     extractors stop the load here",
                    problem.kind
                ),
            )
            .in_layer(name, layers[problem.layer].0)
            .entry(problem.path.to_string())
        })
        .collect();
    for (report, changes) in image.layers.iter_mut().zip(&applied.changes) {
        report.changes = Some(changes.clone());
    }
    let captured: Vec<CapturedFile> = layers
        .iter()
        .enumerate()
        .flat_map(|(layer, (_, read))| {
            read.captures
                .iter()
                .map(move |(index, captured)| (layer, &read.entries[*index], captured))
        })
        // Only what the final tree still has, from the layer that wrote it last.
        .filter(|(layer, entry, _)| applied.lookup(&entry.path) == Some((FileType::File, *layer)))
        .map(|(layer, entry, captured)| CapturedFile {
            path: &entry.path,
            layer,
            size: entry.size,
            captured,
        })
        .collect();
    let catalog = packages::catalog(&captured);
    image.os = catalog.os;
    image.packages = Some(catalog.packages);
    image.package_notes = catalog.notes;
    if files {
        image.files = Some(applied.into_files());
    }
    findings
}
