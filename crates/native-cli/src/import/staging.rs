//! A directory that holds a bundle's files by digest while it is verified.
//!
//! The directory gets a random name (and this process's ID, so a later run
//! can tell an abandoned one) and mode 0700; files in it are created with
//! `O_EXCL` and mode 0600. They are written under a counter name while they
//! stream in and renamed to their SHA-256 when they end, so a file cut short
//! never carries a digest name. Nothing here is visible to any importer; the
//! directory is removed when the staging is dropped, whether the import went
//! through or not.
//!
//! Before each file the free space is checked: a bundle that would fill the
//! disk is stopped before it does, with a reserve left for everyone else.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use verify_core::{ImportPlan, Sha256};

use super::dir_handle::DirHandle;
use super::{FileTarget, ImportError, ImportSummary};

/// A target that keeps the bundle's files in a [`Staging`] while it is read
/// and does everything else at commit (the OCI layout, the registry). Its
/// [`FileTarget`] methods are the staging's; an abort has nothing to undo
/// beyond the staging, which dropping the target removes.
pub trait Staged: Send {
    fn staging(&mut self) -> &mut Staging;
    /// [`FileTarget::commit`], with every file of the bundle staged.
    fn commit_staged(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError>;
}

impl<T: Staged> FileTarget for T {
    fn begin_file(&mut self, _path: &str, size: u64) -> Result<(), ImportError> {
        self.staging().begin(size)
    }

    fn file_data(&mut self, bytes: bytes::Bytes) -> Result<(), ImportError> {
        self.staging().data(&bytes)
    }

    fn end_file(&mut self, sha256: &Sha256) -> Result<(), ImportError> {
        self.staging().end(sha256)
    }

    fn commit(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
        self.commit_staged(plan)
    }

    fn abort(&mut self) {}
}

/// Files staged so far, by digest.
pub struct Staging {
    parent: DirHandle,
    dir: DirHandle,
    name: String,
    current: Option<(File, String)>,
    next: u64,
    staged: HashMap<Sha256, String>,
}

impl Staging {
    /// Makes `PREFIX<pid>-<random>` in `parent`, after checking that no
    /// other user can write to `parent` (unless it is sticky) and removing
    /// this user's abandoned stagings with the same prefix.
    pub fn create(parent: DirHandle, prefix: &str) -> Result<Self, ImportError> {
        parent.ensure_private()?;
        remove_abandoned(&parent, prefix);
        let (dir, name) = parent
            .create_private_dir(&format!("{prefix}{}-", std::process::id()))
            .map_err(|e| ImportError::io(parent.join(prefix), e))?;
        Ok(Self {
            parent,
            dir,
            name,
            current: None,
            next: 0,
            staged: HashMap::new(),
        })
    }

    /// Starts a file of `size` bytes, if the filesystem has room for it.
    pub fn begin(&mut self, size: u64) -> Result<(), ImportError> {
        self.dir.ensure_room(size)?;
        let name = format!("partial-{}", self.next);
        self.next += 1;
        let file = self
            .dir
            .create_file(&name, 0o600)
            .map_err(|e| ImportError::io(self.dir.join(&name), e))?;
        self.current = Some((file, name));
        Ok(())
    }

    pub fn data(&mut self, bytes: &[u8]) -> Result<(), ImportError> {
        if let Some((file, name)) = &mut self.current {
            file.write_all(bytes)
                .map_err(|e| ImportError::io(self.dir.join(name), e))?;
        }
        Ok(())
    }

    pub fn end(&mut self, sha256: &Sha256) -> Result<(), ImportError> {
        let Some((file, name)) = self.current.take() else {
            return Ok(());
        };
        drop(file);
        let io = |e| ImportError::io(self.dir.join(&name), e);
        if self.staged.contains_key(sha256) {
            // The same bytes twice (a layer shared by two images of a
            // docker-archive): one copy is enough.
            return self.dir.remove_file(&name).map_err(io);
        }
        let named = sha256.to_hex();
        self.dir.rename(&name, &self.dir, &named).map_err(io)?;
        self.staged.insert(*sha256, named);
        Ok(())
    }

    /// The staging directory, for moving files out of it by handle.
    pub fn dir(&self) -> &DirHandle {
        &self.dir
    }

    /// The name inside [`Staging::dir`] of the staged file with this digest.
    pub fn name_of(&self, sha256: &Sha256) -> Option<&str> {
        self.staged.get(sha256).map(String::as_str)
    }

    /// The staged file with this digest, for tools that take a path. The
    /// staging directory is this user's alone, so the path stays its file.
    pub fn path_of(&self, sha256: &Sha256) -> Option<PathBuf> {
        self.name_of(sha256).map(|name| self.dir.join(name))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        self.current = None;
        // By path from a parent that no one else can rename things in;
        // std's remove_dir_all does not follow links inside.
        let _ = std::fs::remove_dir_all(self.parent.join(&self.name));
    }
}

/// Removes stagings named `PREFIX<pid>-…` left by this user's runs that
/// were killed: their process is gone (no `/proc/PID`), so nothing will ever
/// finish or remove them. Another user's are left alone.
#[cfg(unix)]
fn remove_abandoned(parent: &DirHandle, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(parent.path()) else {
        return;
    };
    let me = rustix::process::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .map(|(pid, _)| pid)
        else {
            continue;
        };
        let ours = entry.metadata().is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.is_dir() && m.uid() == me
        });
        if ours && pid.parse::<u32>().is_ok() && !std::path::Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Windows has no `/proc` to tell a finished run from a live one, and std
/// cannot ask; an abandoned staging there stays for the user to remove.
#[cfg(windows)]
fn remove_abandoned(_parent: &DirHandle, _prefix: &str) {}
