//! `--to oci:DIR`: an OCI image layout directory, needing no daemon.
//!
//! Blobs are staged beside the layout while the bundle is read and renamed
//! into `blobs/sha256/` on commit; `index.json` is replaced in one rename at
//! the very end. A failed check, or a process killed half-way, leaves the
//! layout as it was; a killed run leaves its staging directory,
//! `.DIR.airlock-staging-PID`, beside it, and the next run removes it.
//! Loading the same bundle again writes nothing new.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use verify_core::{BlobRef, ImportPlan, PlannedImage, Sha256};

use super::staging::Staging;
use super::{FileTarget, ImportError, ImportSummary, ImportedImage};

/// Annotation containerd and nerdctl read an image's full name from.
const NAME_ANNOTATION: &str = "io.containerd.image.name";
/// The OCI annotation for an image's reference in a layout.
const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

pub struct OciLayout {
    dir: PathBuf,
    staging: Staging,
}

impl OciLayout {
    /// Prepares to import into `dir`, which may not exist yet; if it does,
    /// it must be an OCI layout (or empty).
    pub fn open(dir: &Path) -> Result<Self, ImportError> {
        let dir = std::path::absolute(dir).map_err(|e| ImportError::io(dir, e))?;
        if dir.exists() {
            let is_layout = dir.join("oci-layout").is_file();
            let is_empty = fs::read_dir(&dir)
                .map_err(|e| ImportError::io(&dir, e))?
                .next()
                .is_none();
            if !is_layout && !is_empty {
                return Err(ImportError::Target(format!(
                    "{} exists and is not an OCI image layout (it has no oci-layout file)",
                    dir.display()
                )));
            }
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "layout".into());
        let parent = dir.parent().unwrap_or(Path::new("/"));
        let prefix = format!(".{name}.airlock-staging-");
        Staging::remove_abandoned(parent, &prefix);
        let staging = Staging::create(parent.join(format!("{prefix}{}", std::process::id())))?;
        Ok(Self { dir, staging })
    }

    fn blob_path(&self, digest: &Sha256) -> PathBuf {
        self.dir.join("blobs/sha256").join(digest.to_hex())
    }

    /// Moves one blob into the layout; `true` when it was not there yet.
    fn place(&self, blob: &BlobRef, bytes: Option<&[u8]>) -> Result<bool, ImportError> {
        let target = self.blob_path(&blob.digest);
        if target.is_file() {
            return Ok(false);
        }
        match bytes {
            Some(bytes) => write_atomically(&target, bytes)?,
            None => {
                let staged =
                    self.staging
                        .path_of(&blob.digest)
                        .ok_or_else(|| ImportError::NotStaged {
                            digest: blob.digest_string(),
                        })?;
                fs::rename(staged, &target).map_err(|e| ImportError::io(staged, e))?;
            }
        }
        Ok(true)
    }

    fn update_index(&self, images: &[PlannedImage]) -> Result<(), ImportError> {
        let path = self.dir.join("index.json");
        let mut index = match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice::<Value>(&bytes).map_err(|e| {
                ImportError::Target(format!("{}: not valid JSON: {e}", path.display()))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [],
            }),
            Err(e) => return Err(ImportError::io(&path, e)),
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
                    Some(name) => annotation(d, NAME_ANNOTATION) != Some(name),
                    None => *d != wanted,
                });
                manifests.push(wanted);
            }
        }
        let bytes = serde_json::to_vec_pretty(&index)
            .map_err(|e| ImportError::Target(format!("cannot encode index.json: {e}")))?;
        write_atomically(&path, &bytes)
    }
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
        d["annotations"] = json!({ NAME_ANNOTATION: name, REF_ANNOTATION: name });
    }
    if let Some(platform) = &image.platform {
        let mut parts = platform.splitn(3, '/');
        if let (Some(os), Some(arch)) = (parts.next(), parts.next()) {
            d["platform"] = json!({ "os": os, "architecture": arch });
            if let Some(variant) = parts.next() {
                d["platform"]["variant"] = json!(variant);
            }
        }
    }
    d
}

/// Writes a file so that readers see either nothing or all of it.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ImportError> {
    let tmp = path.with_extension(format!("airlock-tmp-{}", std::process::id()));
    let mut file = File::create(&tmp).map_err(|e| ImportError::io(&tmp, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| ImportError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| ImportError::io(path, e))
}

impl FileTarget for OciLayout {
    fn begin_file(&mut self, _path: &str, _size: u64) -> Result<(), ImportError> {
        self.staging.begin()
    }

    fn file_data(&mut self, bytes: Vec<u8>) -> Result<(), ImportError> {
        self.staging.data(&bytes)
    }

    fn end_file(&mut self, sha256: &Sha256) -> Result<(), ImportError> {
        self.staging.end(sha256)
    }

    fn commit(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
        let blobs = self.dir.join("blobs/sha256");
        fs::create_dir_all(&blobs).map_err(|e| ImportError::io(&blobs, e))?;
        let layout = self.dir.join("oci-layout");
        if !layout.is_file() {
            write_atomically(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let (mut written, mut present) = (0, 0);
        let mut seen = HashSet::new();
        let mut imported = Vec::new();
        for image in &plan.images {
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
                if self.place(blob, bytes)? {
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
        self.update_index(&plan.images)?;
        Ok(ImportSummary {
            target: format!("oci:{}", self.dir.display()),
            images: imported,
            blobs_written: written,
            blobs_present: present,
        })
    }

    fn abort(&mut self) {
        // Dropping the staging removes it; the layout itself was not touched.
    }
}
