//! Importing while verifying: the targets `airlock load` and `airlock push`
//! write to, and the contract between them and the single read.
//!
//! The bundle is read once. As the verifier reads it, every file of the
//! archive is handed to the target, which stores it out of sight (a staging
//! directory, a containerd lease). Only when the report says the bundle is
//! good does [`FileTarget::commit`] make images visible (an index entry, an
//! image record, a tag); otherwise [`FileTarget::abort`] removes what was
//! staged, so a failed check leaves the target as it was.

#[cfg(unix)]
pub mod containerd;
pub mod dir_handle;
#[cfg(unix)]
pub mod docker;
pub mod oci_layout;
pub mod staging;

use std::path::PathBuf;

use bytes::Bytes;
use serde::Serialize;
use verify_core::{ImportPlan, Sha256};

/// Where files of a verified bundle go.
///
/// Methods are called from one thread, in archive order: `begin_file`,
/// any number of `file_data`, then `end_file` (missing when the archive is
/// cut short). After the last file comes exactly one of `commit` (the
/// bundle verified) or `abort`.
pub trait FileTarget: Send {
    /// A regular file of the archive starts; `path` is normalized.
    fn begin_file(&mut self, path: &str, size: u64) -> Result<(), ImportError>;
    /// The next piece of the file. It shares the pipeline's read buffer
    /// (no copy), so a target that sends it on can keep it; the buffer is
    /// reused once every holder has let go.
    fn file_data(&mut self, bytes: Bytes) -> Result<(), ImportError>;
    /// The file ended with this SHA-256, computed by the verifier.
    fn end_file(&mut self, sha256: &Sha256) -> Result<(), ImportError>;
    /// The bundle verified: make the plan's images visible.
    fn commit(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError>;
    /// The bundle failed, or reading stopped: undo whatever was staged.
    fn abort(&mut self);
}

/// What an import made visible, for `--json` and the closing line.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    /// The target as the user named it (`oci:/srv/images`, `containerd`, …).
    pub target: String,
    pub images: Vec<ImportedImage>,
    /// Blobs written by this run; the others were already there.
    pub blobs_written: usize,
    pub blobs_present: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportedImage {
    pub names: Vec<String>,
    pub manifest_digest: String,
    pub config_digest: String,
}

/// Why an import did not complete. The target is left as it was.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Target(String),
    /// Others can write the directory (Unix modes; Windows has ACLs).
    #[cfg(unix)]
    #[error("{}: refusing to import here: {why}", path.display())]
    Unsafe { path: PathBuf, why: String },
    #[error(
        "{}: not enough free space for a file of {needed} bytes: {free} bytes free, \
         and {reserve} are kept in reserve",
        path.display()
    )]
    NoSpace {
        path: PathBuf,
        needed: u64,
        free: u64,
        reserve: u64,
    },
    /// The bundle verified, but the site's policy refused it.
    #[error("refused by the site's policy")]
    NotAdmitted,
    #[error("blob {digest} is referenced but was not staged")]
    NotStaged { digest: String },
    #[error(transparent)]
    Plan(#[from] verify_core::PlanError),
    #[cfg(unix)]
    #[error(transparent)]
    Containerd(#[from] containerd::ContainerdError),
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// The import failed after part of it became visible.
    #[error("{source} (already imported before it failed: {})", tagged.join(", "))]
    Partial {
        tagged: Vec<String>,
        #[source]
        source: Box<ImportError>,
    },
}

impl ImportError {
    /// Whether the target is as it was before the import began (every
    /// failure but one after images became visible).
    pub fn left_target_unchanged(&self) -> bool {
        !matches!(self, Self::Partial { .. })
    }

    /// `self`, marked as having happened after `tagged` were made visible.
    pub fn after(self, tagged: &[String]) -> Self {
        if tagged.is_empty() {
            self
        } else {
            Self::Partial {
                tagged: tagged.to_vec(),
                source: Box::new(self),
            }
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
