//! The push target: stage while verifying, push after.
//!
//! Commit order is what keeps a registry consistent for its readers: all
//! blobs first, then each manifest by digest, and only then the tags. A run
//! that is killed or refused half-way leaves unreferenced blobs (and perhaps
//! untagged manifests), never a tag pointing at something incomplete; the
//! next run finds those blobs with HEAD and skips them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use verify_core::{BlobRef, ImportPlan, PlannedImage, Sha256};

use super::RegistryError;
use super::auth::Credentials;
use super::client::{Client, Upload};
use super::naming::{Destination, PushTarget, TagMap, target_for};
use super::tls::TlsRoots;
use crate::import::dir_handle::DirHandle;
use crate::import::staging::{Staged, Staging};
use crate::import::{ImportError, ImportSummary, ImportedImage};

/// What `airlock push` was asked to do, apart from the bundle.
pub struct PushOptions {
    pub destination: Destination,
    pub tag_map: TagMap,
    pub credentials: Option<Credentials>,
    pub ca_cert: Option<PathBuf>,
    /// Where the staging directory is made (the system's temp dir if unset).
    pub staging_parent: PathBuf,
}

pub struct RegistryTarget {
    staging: Staging,
    client: Client,
    destination: Destination,
    tag_map: TagMap,
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

impl RegistryTarget {
    /// Connects to the registry (so that a wrong password or an untrusted
    /// certificate is reported before the bundle is read) and makes the
    /// staging directory.
    pub fn open(options: PushOptions) -> Result<Self, ImportError> {
        let roots = TlsRoots::load(options.ca_cert.as_deref())?;
        let mut client = Client::new(&options.destination.host, &roots, options.credentials)?;
        client.ping()?;
        // A killed push leaves its staging behind; the next one clears it.
        let parent = DirHandle::open(&options.staging_parent)
            .map_err(|e| ImportError::io(&options.staging_parent, e))?;
        let staging = Staging::create(parent, "airlock-push-")?;
        Ok(Self {
            staging,
            client,
            destination: options.destination,
            tag_map: options.tag_map,
        })
    }

    /// Where each image goes, checked as a whole before anything is sent.
    fn targets<'p>(
        &self,
        plan: &'p ImportPlan,
    ) -> Result<Vec<(&'p PlannedImage, Vec<PushTarget>)>, RegistryError> {
        let names: Vec<&str> = plan
            .images()
            .iter()
            .flat_map(|i| i.names.iter().map(String::as_str))
            .collect();
        if let Some(old) = self.tag_map.unused(&names).first() {
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
                let target = target_for(name, &self.destination, &self.tag_map)?;
                let digest = image.manifest.blob.digest;
                if claimed
                    .insert(target.clone(), digest)
                    .is_some_and(|d| d != digest)
                {
                    return Err(RegistryError::Usage(format!(
                        "two images would be pushed as {}",
                        target.reference(&self.destination)
                    )));
                }
                targets.push(target);
            }
            out.push((image, targets));
        }
        Ok(out)
    }

    fn staged(&self, blob: &BlobRef) -> Result<PathBuf, ImportError> {
        self.staging
            .path_of(&blob.digest)
            .ok_or_else(|| ImportError::NotStaged {
                digest: blob.digest_string(),
            })
    }

    fn push_blob(
        &mut self,
        repo: &str,
        blob: &BlobRef,
        ledger: &mut BlobLedger,
    ) -> Result<(), ImportError> {
        if !ledger.handled.insert((repo.to_owned(), blob.digest)) {
            return Ok(());
        }
        let digest = blob.digest_string();
        if self.client.has_blob(repo, &digest)? {
            ledger.present += 1;
        } else {
            let from = ledger.holder.get(&blob.digest).map(String::as_str);
            match self
                .client
                .start_upload(repo, from.map(|f| (digest.as_str(), f)))?
            {
                Upload::Mounted => {}
                Upload::Session(session) => {
                    let path = self.staged(blob)?;
                    self.client
                        .upload(repo, &session, &digest, blob.size, &path)?;
                }
            }
            ledger.written += 1;
        }
        ledger
            .holder
            .entry(blob.digest)
            .or_insert_with(|| repo.to_owned());
        Ok(())
    }

    fn manifest_bytes(&self, image: &PlannedImage) -> Result<Vec<u8>, ImportError> {
        match &image.manifest.synthesized {
            Some(bytes) => Ok(bytes.clone()),
            None => {
                let path = self.staged(&image.manifest.blob)?;
                std::fs::read(&path).map_err(|e| ImportError::io(path, e))
            }
        }
    }
}

impl Staged for RegistryTarget {
    fn staging(&mut self) -> &mut Staging {
        &mut self.staging
    }

    fn commit_staged(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
        let pushes = self.targets(plan)?;
        let mut ledger = BlobLedger::default();
        for (image, targets) in &pushes {
            let repos: BTreeSet<&str> = targets.iter().map(|t| t.repository.as_str()).collect();
            for repo in repos {
                for blob in image.blobs() {
                    self.push_blob(repo, blob, &mut ledger)?;
                }
            }
        }
        // Manifests by digest, then tags: a tag is the last thing written,
        // so a reader who sees one can pull all of it.
        let mut manifests = Vec::new();
        for (image, targets) in &pushes {
            let bytes = self.manifest_bytes(image)?;
            let blob = &image.manifest.blob;
            let digest = blob.digest_string();
            let repos: BTreeSet<&str> = targets.iter().map(|t| t.repository.as_str()).collect();
            for repo in repos {
                self.client.put_manifest(
                    repo,
                    &digest,
                    blob.media_type.as_ref(),
                    &bytes,
                    &digest,
                )?;
            }
            manifests.push(bytes);
        }
        let mut imported = Vec::new();
        let mut tagged: Vec<String> = Vec::new();
        for ((image, targets), bytes) in pushes.iter().zip(&manifests) {
            let blob = &image.manifest.blob;
            let digest = blob.digest_string();
            for target in targets {
                self.client
                    .put_manifest(
                        &target.repository,
                        &target.tag,
                        blob.media_type.as_ref(),
                        bytes,
                        &digest,
                    )
                    .map_err(|e| ImportError::from(e).after(&tagged))?;
                tagged.push(target.reference(&self.destination));
            }
            imported.push(ImportedImage {
                names: targets
                    .iter()
                    .map(|t| t.reference(&self.destination))
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
}
