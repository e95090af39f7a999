//! The commit of a push, once the bundle verified: blobs into each image's
//! repositories, then each manifest by digest, and only then the tags.
//!
//! That order is what keeps a registry consistent for its readers. A run
//! that is killed or refused half-way leaves unreferenced blobs (and perhaps
//! untagged manifests), never a tag pointing at something incomplete; the
//! next run finds those blobs with HEAD and skips them. Where a blob's bytes
//! come from (a staged file, the holding repository) is the [`BlobBytes`]
//! of the mode.

use std::collections::{BTreeSet, HashMap, HashSet};

use verify_core::{BlobRef, ImportPlan, PlannedImage, Sha256};

use super::RegistryError;
use super::client::{Client, Upload};
use super::naming::{Destination, PushTarget, TagMap, target_for};
use crate::import::{ImportError, ImportSummary, ImportedImage};

/// Where the bytes of the plan's blobs and manifests are, for a registry
/// that does not have them yet.
pub trait BlobBytes {
    /// A repository of this registry already holding the blob, to mount
    /// it from, besides those this commit pushed it to.
    fn holder(&self, blob: &BlobRef) -> Option<&str>;
    /// Sends the blob's bytes into an upload session of `repo` and closes
    /// it with the blob's digest.
    fn upload(
        &mut self,
        client: &mut Client,
        repo: &str,
        session: &str,
        blob: &BlobRef,
    ) -> Result<(), ImportError>;
    /// The bytes of a manifest the bundle holds as a blob.
    fn manifest(&mut self, client: &mut Client, blob: &BlobRef) -> Result<Vec<u8>, ImportError>;
}

/// Blob uploads of one run, so that each (repository, blob) is handled once
/// and a blob already sent to one repository is mounted into the next.
#[derive(Default)]
struct BlobLedger {
    handled: HashSet<(String, Sha256)>,
    /// A repository of this registry that holds the blob.
    holder: HashMap<Sha256, String>,
    written: usize,
    present: usize,
}

/// Makes a verified plan's images visible in the registry.
pub struct Publisher<'a> {
    pub client: &'a mut Client,
    pub destination: &'a Destination,
    pub tag_map: &'a TagMap,
}

impl Publisher<'_> {
    pub fn publish(
        &mut self,
        plan: &ImportPlan,
        bytes: &mut dyn BlobBytes,
    ) -> Result<ImportSummary, ImportError> {
        let pushes = targets(plan, self.destination, self.tag_map)?;
        let mut ledger = BlobLedger::default();
        for (image, targets) in &pushes {
            for repo in repositories(targets) {
                for blob in image.blobs() {
                    self.push_blob(repo, blob, &mut ledger, bytes)?;
                }
            }
        }
        // Manifests by digest, then tags: a tag is the last thing written,
        // so a reader who sees one can pull all of it.
        let mut manifests = Vec::new();
        for (image, targets) in &pushes {
            let blob = &image.manifest.blob;
            let manifest = match &image.manifest.synthesized {
                Some(synthesized) => synthesized.clone(),
                None => bytes.manifest(self.client, blob)?,
            };
            let digest = blob.digest_string();
            for repo in repositories(targets) {
                self.client.put_manifest(
                    repo,
                    &digest,
                    blob.media_type.as_ref(),
                    &manifest,
                    &digest,
                )?;
            }
            manifests.push(manifest);
        }
        let mut imported = Vec::new();
        let mut tagged: Vec<String> = Vec::new();
        for ((image, targets), manifest) in pushes.iter().zip(&manifests) {
            let blob = &image.manifest.blob;
            let digest = blob.digest_string();
            for target in targets {
                self.client
                    .put_manifest(
                        &target.repository,
                        &target.tag,
                        blob.media_type.as_ref(),
                        manifest,
                        &digest,
                    )
                    .map_err(|e| ImportError::from(e).after(&tagged))?;
                tagged.push(target.reference(self.destination));
            }
            imported.push(ImportedImage {
                names: targets
                    .iter()
                    .map(|t| t.reference(self.destination))
                    .collect(),
                manifest_digest: digest,
                config_digest: image.config.digest_string(),
            });
        }
        let mut shown = self.destination.host.clone();
        if !self.destination.prefix.is_empty() {
            shown = format!("{shown}/{}", self.destination.prefix);
        }
        Ok(ImportSummary {
            target: shown,
            images: imported,
            blobs_written: ledger.written,
            blobs_present: ledger.present,
        })
    }

    /// Gets `blob` into `repo`: already there, mounted from a repository
    /// that holds it, or uploaded where the registry will not mount (it
    /// answers a mount with an upload session, as the spec allows).
    fn push_blob(
        &mut self,
        repo: &str,
        blob: &BlobRef,
        ledger: &mut BlobLedger,
        bytes: &mut dyn BlobBytes,
    ) -> Result<(), ImportError> {
        if !ledger.handled.insert((repo.to_owned(), blob.digest)) {
            return Ok(());
        }
        let digest = blob.digest_string();
        if self.client.has_blob(repo, &digest)? {
            ledger.present += 1;
        } else {
            let from = bytes
                .holder(blob)
                .or_else(|| ledger.holder.get(&blob.digest).map(String::as_str))
                .filter(|from| *from != repo);
            match self
                .client
                .start_upload(repo, from.map(|f| (digest.as_str(), f)))?
            {
                Upload::Mounted => {}
                Upload::Session(session) => bytes.upload(self.client, repo, &session, blob)?,
            }
            ledger.written += 1;
        }
        ledger
            .holder
            .entry(blob.digest)
            .or_insert_with(|| repo.to_owned());
        Ok(())
    }
}

/// The repositories of an image's targets, each once.
fn repositories(targets: &[PushTarget]) -> BTreeSet<&str> {
    targets.iter().map(|t| t.repository.as_str()).collect()
}

/// Where each image goes, checked as a whole before anything is sent.
fn targets<'p>(
    plan: &'p ImportPlan,
    destination: &Destination,
    tag_map: &TagMap,
) -> Result<Vec<(&'p PlannedImage, Vec<PushTarget>)>, RegistryError> {
    let names: Vec<&str> = plan
        .images()
        .iter()
        .flat_map(|i| i.names.iter().map(String::as_str))
        .collect();
    if let Some(old) = tag_map.unused(&names).first() {
        return Err(RegistryError::Usage(format!(
            "--tag-map {old}=… names no image of the bundle (it has {})",
            names.join(", ")
        )));
    }
    let mut claimed: HashMap<PushTarget, Sha256> = HashMap::new();
    let mut out = Vec::new();
    for image in plan.images() {
        if image.names.is_empty() {
            return Err(RegistryError::Usage(format!(
                "image {} has no name in the bundle, so there is no repository to push it to",
                image.manifest.blob.digest_string()
            )));
        }
        let mut targets = Vec::new();
        for name in &image.names {
            let target = target_for(name, destination, tag_map)?;
            let digest = image.manifest.blob.digest;
            if claimed
                .insert(target.clone(), digest)
                .is_some_and(|d| d != digest)
            {
                return Err(RegistryError::Usage(format!(
                    "two images would be pushed as {}",
                    target.reference(destination)
                )));
            }
            targets.push(target);
        }
        out.push((image, targets));
    }
    Ok(out)
}
