//! `--to containerd`: containerd's content store, image records and
//! snapshotter, over its gRPC socket, the way `ctr images import` fills them.
//!
//! At open, a lease is created (expiring after 24 hours). While the bundle
//! is read, each file of the archive is streamed into the content store under
//! that lease and committed with the digest the verifier computed, which
//! containerd checks again. Nothing is tagged yet, and the lease is the only
//! thing keeping the new content from containerd's garbage collector.
//!
//! On commit the manifests get the GC labels that tie config and layers to
//! them (`containerd.io/gc.ref.content.*`), docker-archive manifests written
//! by the plan are stored, each image is unpacked into the snapshotter, and
//! only then are the image records created (or retargeted); last, the lease
//! is deleted, so what an image references stays and the rest (the
//! archive's own `manifest.json`, `index.json`, …) is collected.
//!
//! A failed check deletes the lease at once and waits for the collection, so
//! the namespace is as it was: content that was there before stays (it was
//! never ours to remove), nothing new remains. A run that is killed leaves
//! its lease: its content and partial uploads stay invisible (no image names
//! them) and containerd removes them when the lease expires, or sooner with
//! `ctr leases rm airlock-PID-…`. A rerun finds the blobs the killed run
//! completed: where the archive names files by digest (OCI layouts, docker
//! save since 25) they are not sent again; otherwise containerd answers
//! "already exists" when the upload is committed.

mod content;
mod session;
mod unpack;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::SystemTime;

use containerd_client::services::v1::images_client::ImagesClient;
use containerd_client::services::v1::{CreateImageRequest, Image, UpdateImageRequest};
use containerd_client::types::Descriptor;
use prost_types::FieldMask;
use tonic::Code;
use verify_core::{BlobRef, Digest, ImportPlan, PlannedImage, Sha256};

use self::content::{Ingest, Stored};
pub use self::session::ContainerdError;
use self::session::{Session, rfc3339, rpc};
use super::dir_handle::DirHandle;
use super::{FileTarget, ImportError, ImportSummary, ImportedImage};

/// Where `ctr` and containerd look when nothing else is said.
const DEFAULT_ADDRESS: &str = "/run/containerd/containerd.sock";

/// How to reach containerd; each `None` falls back to the variable `ctr`
/// reads (`CONTAINERD_ADDRESS`, `CONTAINERD_NAMESPACE`,
/// `CONTAINERD_SNAPSHOTTER`), then to containerd's own default.
#[derive(Debug, Clone, Default)]
pub struct ContainerdOptions {
    pub address: Option<PathBuf>,
    pub namespace: Option<String>,
    pub snapshotter: Option<String>,
}

pub struct Containerd {
    session: Session,
    address: PathBuf,
    namespace: String,
    snapshotter: String,
    files: u64,
    current: Option<Current>,
    stored: HashMap<Sha256, Stored>,
    /// The content store's directory, when it is on this machine: its free
    /// space is checked before each file is sent.
    content_root: Option<DirHandle>,
}

/// The file being read.
enum Current {
    Uploading(Ingest),
    /// Named by its digest and already in containerd: not sent again.
    AlreadyThere(Sha256),
}

impl Containerd {
    /// Connects and creates this run's lease.
    pub fn open(options: &ContainerdOptions) -> Result<Self, ImportError> {
        let env = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        let address = options
            .address
            .clone()
            .or_else(|| env("CONTAINERD_ADDRESS").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_ADDRESS));
        // `ctr` accepts the socket as a path or as a unix:// URL.
        let address = match address.to_str().and_then(|a| a.strip_prefix("unix://")) {
            Some(path) => PathBuf::from(path),
            None => address,
        };
        let namespace = options
            .namespace
            .clone()
            .or_else(|| env("CONTAINERD_NAMESPACE"))
            .unwrap_or_else(|| "default".to_owned());
        let mut session = Session::connect(&address, &namespace)?;
        let snapshotter = match options
            .snapshotter
            .clone()
            .or_else(|| env("CONTAINERD_SNAPSHOTTER"))
        {
            Some(name) => name,
            None => session.default_snapshotter(&namespace)?,
        };
        let content_root = session
            .content_root()?
            .and_then(|root| DirHandle::open(&root).ok());
        session.create_lease()?;
        Ok(Self {
            session,
            address,
            namespace,
            snapshotter,
            files: 0,
            current: None,
            stored: HashMap::new(),
            content_root,
        })
    }

    /// Whether `blob` is in containerd: written or found by this run.
    fn stored(&self, blob: &BlobRef) -> Result<Stored, ImportError> {
        self.stored
            .get(&blob.digest)
            .copied()
            .ok_or_else(|| ImportError::NotStaged {
                digest: blob.digest_string(),
            })
    }

    /// Stores a manifest the plan wrote (docker-archive bundles have none).
    fn store_manifest(&mut self, blob: &BlobRef, bytes: &[u8]) -> Result<(), ImportError> {
        if self.stored.contains_key(&blob.digest) {
            return Ok(());
        }
        let reference = self.next_ref();
        let mut ingest = Ingest::start(&self.session, "manifest", reference, blob.size);
        ingest.data(&self.session, bytes)?;
        let stored = ingest.commit(&self.session, &blob.digest_string())?;
        self.stored.insert(blob.digest, stored);
        Ok(())
    }

    fn next_ref(&mut self) -> String {
        self.files += 1;
        format!("airlock-{}-{}", std::process::id(), self.files)
    }

    /// Points `name` at the image's manifest, creating the record or
    /// retargeting an existing one (as `ctr images import` does).
    fn tag(&self, name: &str, image: &PlannedImage) -> Result<(), ImportError> {
        let blob = &image.manifest.blob;
        let record = Image {
            name: name.to_owned(),
            labels: HashMap::new(),
            target: Some(Descriptor {
                media_type: blob.media_type.to_string(),
                digest: blob.digest_string(),
                size: i64::try_from(blob.size).unwrap_or(i64::MAX),
                annotations: HashMap::new(),
            }),
            created_at: None,
            updated_at: None,
        };
        let mut images = ImagesClient::new(self.session.channel());
        let create = self.session.request(CreateImageRequest {
            image: Some(record.clone()),
            source_date_epoch: None,
        });
        match self.session.block_on(images.create(create)) {
            Ok(_) => return Ok(()),
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => return Err(rpc(format!("create image {name}"))(status).into()),
        }
        let update = self.session.request(UpdateImageRequest {
            image: Some(record),
            update_mask: Some(FieldMask {
                paths: vec!["target".to_owned()],
            }),
            source_date_epoch: None,
        });
        self.session
            .block_on(images.update(update))
            .map_err(rpc(format!("retarget image {name}")))?;
        Ok(())
    }
}

/// The labels containerd's GC follows from a manifest to its config and
/// layers, keyed as containerd's `images.SetChildrenLabels` keys them.
fn gc_labels(image: &PlannedImage) -> HashMap<String, String> {
    let mut labels = HashMap::from([(
        "containerd.io/gc.ref.content.config".to_owned(),
        image.config.digest_string(),
    )]);
    for (i, layer) in image.layers.iter().enumerate() {
        labels.insert(
            format!("containerd.io/gc.ref.content.l.{i}"),
            layer.digest_string(),
        );
    }
    labels
}

/// The names an image is tagged with. An image the bundle names nothing
/// gets the name `ctr images import --digests` gives it:
/// `import-YYYY-MM-DD@sha256:…`.
fn image_names(image: &PlannedImage) -> Vec<String> {
    if !image.names.is_empty() {
        return image.names.clone();
    }
    let today = rfc3339(SystemTime::now());
    let date = today.get(..10).unwrap_or("unknown");
    vec![format!(
        "import-{date}@{}",
        image.manifest.blob.digest_string()
    )]
}

impl FileTarget for Containerd {
    fn begin_file(&mut self, path: &str, size: u64) -> Result<(), ImportError> {
        if let Some(digest) = Sha256::from_blob_path(path) {
            let digest_string = Digest::from(digest).to_string();
            if content::exists(&self.session, &digest_string)? {
                // If the file does not hash to its name the bundle fails,
                // and then nothing is imported anyway.
                self.session.lease_content(&digest_string)?;
                self.current = Some(Current::AlreadyThere(digest));
                return Ok(());
            }
        }
        if let Some(root) = &self.content_root {
            root.ensure_room(size)?;
        }
        let reference = self.next_ref();
        self.current = Some(Current::Uploading(Ingest::start(
            &self.session,
            path,
            reference,
            size,
        )));
        Ok(())
    }

    fn file_data(&mut self, bytes: bytes::Bytes) -> Result<(), ImportError> {
        if let Some(Current::Uploading(ingest)) = &mut self.current {
            ingest.data(&self.session, &bytes)?;
        }
        Ok(())
    }

    fn end_file(&mut self, sha256: &Sha256) -> Result<(), ImportError> {
        let stored = match self.current.take() {
            Some(Current::Uploading(ingest)) => {
                ingest.commit(&self.session, &Digest::from(*sha256).to_string())?
            }
            Some(Current::AlreadyThere(digest)) if digest == *sha256 => Stored::Present,
            Some(Current::AlreadyThere(_)) | None => return Ok(()),
        };
        let entry = self.stored.entry(*sha256).or_insert(stored);
        if stored == Stored::Written {
            *entry = Stored::Written;
        }
        Ok(())
    }

    fn commit(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
        for image in plan.images() {
            if let Some(bytes) = &image.manifest.synthesized {
                self.store_manifest(&image.manifest.blob, bytes)?;
            }
            for blob in image.blobs().chain([&image.manifest.blob]) {
                self.stored(blob)?;
            }
            let manifest = image.manifest.blob.digest_string();
            content::set_labels(&self.session, &manifest, gc_labels(image))?;
        }
        // Unpacked before any name is set: an image is never visible
        // without its snapshots.
        for image in plan.images() {
            unpack::unpack(&self.session, &self.snapshotter, image)?;
        }
        let mut imported = Vec::new();
        let mut counted = HashSet::new();
        let (mut written, mut present) = (0, 0);
        let mut tagged: Vec<String> = Vec::new();
        for image in plan.images() {
            let names = image_names(image);
            for name in &names {
                self.tag(name, image).map_err(|e| e.after(&tagged))?;
                tagged.push(name.clone());
            }
            for blob in image.blobs().chain([&image.manifest.blob]) {
                if counted.insert(blob.digest) {
                    match self.stored(blob)? {
                        Stored::Written => written += 1,
                        Stored::Present => present += 1,
                    }
                }
            }
            imported.push(ImportedImage {
                names,
                manifest_digest: image.manifest.blob.digest_string(),
                config_digest: image.config.digest_string(),
            });
        }
        // The images now hold what they need; the rest (the archive's own
        // manifest.json, index.json, …) is collected before we return, so
        // the namespace is settled when the command ends.
        self.session.delete_lease(true)?;
        Ok(ImportSummary {
            target: format!(
                "containerd {} (namespace {}, snapshotter {})",
                self.address.display(),
                self.namespace,
                self.snapshotter
            ),
            images: imported,
            blobs_written: written,
            blobs_present: present,
        })
    }

    fn abort(&mut self) {
        // Closing the upload leaves a partial ingest; it is in the lease.
        self.current = None;
        // Waiting for the collection means that once airlock exits, the
        // namespace lists exactly what it listed before.
        let _ = self.session.delete_lease(true);
    }
}
