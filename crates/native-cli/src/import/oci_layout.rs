//! `--to oci:DIR`: an OCI image layout directory, needing no daemon.
//!
//! Blobs are staged beside the layout while the bundle is read and renamed
//! into `blobs/sha256/` on commit; `index.json` is replaced in one rename at
//! the very end. A failed check, or a process killed half-way, leaves the
//! layout as it was; a killed run leaves its staging directory,
//! `.DIR.airlock-staging-PID-RANDOM`, beside it, and the next run removes it.
//! Loading the same bundle again writes nothing new.
//!
//! The layout is worked through directory handles ([`DirHandle`]): nothing
//! inside it is reached through a symbolic link, and a layout or parent
//! directory that another user could write is refused. Commits hold a lock
//! on the layout, so two loads into it do not drop each other's names.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use verify_core::annotations::{CONTAINERD_IMAGE_NAME, OCI_REF_NAME};
use verify_core::{BlobRef, ImportPlan, PlannedImage};

use super::dir_handle::DirHandle;
use super::staging::{Staged, Staging};
use super::{ImportError, ImportSummary, ImportedImage};

/// Modes of what the layout holds: readable by the tools that read it.
const DIR_MODE: u32 = 0o755;
const FILE_MODE: u32 = 0o644;
/// Largest `index.json` read back; a layout of a million images fits.
const MAX_INDEX_BYTES: u64 = 256 << 20;

pub struct OciLayout {
    /// The layout's path, links resolved, for messages and the summary.
    dir: PathBuf,
    /// The directory the layout is (or will be) in; staging sits here too.
    parent: DirHandle,
    /// The layout's name inside `parent`.
    name: String,
    staging: Staging,
}

impl OciLayout {
    /// Prepares to import into `dir`, which may not exist yet; if it does,
    /// it must be an OCI layout (or empty). Neither it nor the directory it
    /// is in may be writable by other users.
    pub fn open(dir: &Path) -> Result<Self, ImportError> {
        let dir = std::path::absolute(dir).map_err(|e| ImportError::io(dir, e))?;
        // A link the user named is theirs to choose; resolve it once, and
        // from here on go by handles only.
        let dir = match std::fs::canonicalize(&dir) {
            Ok(real) => real,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => dir,
            Err(e) => return Err(ImportError::io(&dir, e)),
        };
        let (Some(parent_path), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Err(ImportError::Target(format!(
                "{} cannot be a layout: it has no parent directory",
                dir.display()
            )));
        };
        let name = name.to_str().map(str::to_owned).ok_or_else(|| {
            ImportError::Target(format!("{}: the name is not UTF-8", dir.display()))
        })?;
        let parent = DirHandle::open(parent_path).map_err(|e| ImportError::io(parent_path, e))?;
        parent.ensure_private()?;
        if let Some(layout) = open_existing(&parent, &name)? {
            // Another load may be half-way through making this layout (its
            // blobs there, its oci-layout not yet): wait for its commit.
            layout
                .lock()
                .map_err(|e| ImportError::io(layout.path(), e))?;
            let is_layout = layout
                .has_file("oci-layout")
                .map_err(|e| ImportError::io(layout.join("oci-layout"), e))?;
            let is_empty = std::fs::read_dir(layout.path())
                .map_err(|e| ImportError::io(layout.path(), e))?
                .next()
                .is_none();
            if !is_layout && !is_empty {
                return Err(ImportError::Target(format!(
                    "{} exists and is not an OCI image layout (it has no oci-layout file)",
                    dir.display()
                )));
            }
        }
        let staging = Staging::create(
            parent
                .try_clone()
                .map_err(|e| ImportError::io(parent_path, e))?,
            &format!(".{name}.airlock-staging-"),
        )?;
        Ok(Self {
            dir,
            parent,
            name,
            staging,
        })
    }

    /// Moves one blob into `blobs`; `true` when it was not there yet.
    fn place(
        &self,
        blobs: &DirHandle,
        blob: &BlobRef,
        bytes: Option<&[u8]>,
    ) -> Result<bool, ImportError> {
        let hex = blob.digest.to_hex();
        if blobs
            .has_file(&hex)
            .map_err(|e| ImportError::io(blobs.join(&hex), e))?
        {
            return Ok(false);
        }
        match bytes {
            Some(bytes) => write_atomically(blobs, &hex, bytes)?,
            None => {
                let staged =
                    self.staging
                        .name_of(&blob.digest)
                        .ok_or_else(|| ImportError::NotStaged {
                            digest: blob.digest_string(),
                        })?;
                let staging = self.staging.dir();
                let io = |e| ImportError::io(staging.join(staged), e);
                // Staged files are private (0600); the layout's are not.
                staging.set_mode(staged, FILE_MODE).map_err(io)?;
                staging.rename(staged, blobs, &hex).map_err(io)?;
            }
        }
        Ok(true)
    }

    fn update_index(&self, layout: &DirHandle, images: &[PlannedImage]) -> Result<(), ImportError> {
        let path = layout.join("index.json");
        let existing = layout
            .read_file("index.json", MAX_INDEX_BYTES)
            .map_err(|e| ImportError::io(&path, e))?;
        let mut index = match existing {
            Some(bytes) => serde_json::from_slice::<Value>(&bytes).map_err(|e| {
                ImportError::Target(format!("{}: not valid JSON: {e}", path.display()))
            })?,
            None => json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [],
            }),
        };
        let manifests = index
            .get_mut("manifests")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| {
                ImportError::Target(format!("{}: has no manifests list", path.display()))
            })?;
        for image in images {
            let names: Vec<Option<&str>> = if image.names.is_empty() {
                vec![None]
            } else {
                image.names.iter().map(|n| Some(n.as_str())).collect()
            };
            for name in names {
                let wanted = descriptor(image, name);
                // A name points at one image: loading a newer bundle retags.
                manifests.retain(|d| match name {
                    Some(name) => annotation(d, CONTAINERD_IMAGE_NAME) != Some(name),
                    None => *d != wanted,
                });
                manifests.push(wanted);
            }
        }
        let bytes = serde_json::to_vec_pretty(&index)
            .map_err(|e| ImportError::Target(format!("cannot encode index.json: {e}")))?;
        write_atomically(layout, "index.json", &bytes)
    }
}

/// The layout directory `name` in `parent`, if it exists: never a link
/// planted there, and only one no other user can write (sticky or not).
fn open_existing(parent: &DirHandle, name: &str) -> Result<Option<DirHandle>, ImportError> {
    match parent.open_dir(name) {
        Ok(dir) => {
            dir.ensure_exclusive()?;
            Ok(Some(dir))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ImportError::io(parent.join(name), e)),
    }
}

/// Opens (creating if needed) the directory `name` inside `parent` and
/// checks that no other user can write it.
fn private_dir(parent: &DirHandle, name: &str) -> Result<DirHandle, ImportError> {
    let dir = parent
        .create_dir(name, DIR_MODE)
        .map_err(|e| ImportError::io(parent.join(name), e))?;
    dir.ensure_exclusive()?;
    Ok(dir)
}

fn annotation<'a>(descriptor: &'a Value, key: &str) -> Option<&'a str> {
    descriptor.get("annotations")?.get(key)?.as_str()
}

fn descriptor(image: &PlannedImage, name: Option<&str>) -> Value {
    let blob = &image.manifest.blob;
    let mut d = json!({
        "mediaType": blob.media_type,
        "digest": blob.digest_string(),
        "size": blob.size,
    });
    if let Some(name) = name {
        d["annotations"] = json!({ CONTAINERD_IMAGE_NAME: name, OCI_REF_NAME: name });
    }
    if let Some(platform) = &image.platform {
        d["platform"] = json!({ "os": platform.os, "architecture": platform.architecture });
        if let Some(variant) = &platform.variant {
            d["platform"]["variant"] = json!(variant);
        }
    }
    d
}

/// Writes `name` in `dir` so that readers see either nothing or all of it:
/// a new file under a random name (`O_EXCL`, so nothing planted is written
/// through), then one rename over the old entry.
fn write_atomically(dir: &DirHandle, name: &str, bytes: &[u8]) -> Result<(), ImportError> {
    let (mut file, tmp) = dir
        .create_temp_file(&format!(".{name}.airlock-tmp-"), FILE_MODE)
        .map_err(|e| ImportError::io(dir.join(name), e))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| dir.rename(&tmp, dir, name));
    if let Err(e) = written {
        let _ = dir.remove_file(&tmp);
        return Err(ImportError::io(dir.join(name), e));
    }
    Ok(())
}

impl Staged for OciLayout {
    fn staging(&mut self) -> &mut Staging {
        &mut self.staging
    }

    fn commit_staged(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
        let layout = private_dir(&self.parent, &self.name)?;
        // Held until the handle is dropped at the end of the commit.
        layout
            .lock()
            .map_err(|e| ImportError::io(layout.path(), e))?;
        let blob_dir = private_dir(&private_dir(&layout, "blobs")?, "sha256")?;
        if !layout
            .has_file("oci-layout")
            .map_err(|e| ImportError::io(layout.join("oci-layout"), e))?
        {
            write_atomically(&layout, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let (mut written, mut present) = (0, 0);
        let mut seen = HashSet::new();
        let mut imported = Vec::new();
        for image in plan.images() {
            // Manifests go last so that no manifest in the layout ever
            // references a blob that is not there yet.
            let manifest = &image.manifest;
            let blobs = image
                .blobs()
                .map(|b| (b, None))
                .chain([(&manifest.blob, manifest.synthesized.as_deref())]);
            for (blob, bytes) in blobs {
                if !seen.insert(blob.digest) {
                    continue;
                }
                if self.place(&blob_dir, blob, bytes)? {
                    written += 1;
                } else {
                    present += 1;
                }
            }
            imported.push(ImportedImage {
                names: image.names.clone(),
                manifest_digest: manifest.blob.digest_string(),
                config_digest: image.config.digest_string(),
            });
        }
        self.update_index(&layout, plan.images())?;
        Ok(ImportSummary {
            target: format!("oci:{}", self.dir.display()),
            images: imported,
            blobs_written: written,
            blobs_present: present,
        })
    }
}
