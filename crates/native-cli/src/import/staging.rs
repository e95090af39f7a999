//! A directory that holds a bundle's files by digest while it is verified.
//!
//! Files are written under a counter name while they stream in and renamed
//! to their SHA-256 when they end, so a file cut short never carries a digest
//! name. Nothing here is visible to any importer; the directory is removed
//! when the staging is dropped, whether the import went through or not.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use verify_core::Sha256;

use super::ImportError;

/// Files staged so far, by digest.
pub struct Staging {
    dir: PathBuf,
    current: Option<(File, PathBuf)>,
    next: u64,
    staged: HashMap<Sha256, PathBuf>,
}

impl Staging {
    /// Creates `dir`, which must not exist yet.
    pub fn create(dir: PathBuf) -> Result<Self, ImportError> {
        fs::create_dir(&dir).map_err(|e| ImportError::io(&dir, e))?;
        Ok(Self {
            dir,
            current: None,
            next: 0,
            staged: HashMap::new(),
        })
    }

    /// Removes staging directories named `PREFIX<pid>` under `parent` left
    /// by runs that were killed: their process is gone (no `/proc/PID`), so
    /// nothing will ever finish or remove them.
    pub fn remove_abandoned(parent: &Path, prefix: &str) {
        let Ok(entries) = fs::read_dir(parent) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
                continue;
            };
            if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    pub fn begin(&mut self) -> Result<(), ImportError> {
        let path = self.dir.join(format!("partial-{}", self.next));
        self.next += 1;
        let file = File::create(&path).map_err(|e| ImportError::io(&path, e))?;
        self.current = Some((file, path));
        Ok(())
    }

    pub fn data(&mut self, bytes: &[u8]) -> Result<(), ImportError> {
        if let Some((file, path)) = &mut self.current {
            file.write_all(bytes)
                .map_err(|e| ImportError::io(path.as_path(), e))?;
        }
        Ok(())
    }

    pub fn end(&mut self, sha256: &Sha256) -> Result<(), ImportError> {
        let Some((file, path)) = self.current.take() else {
            return Ok(());
        };
        drop(file);
        if self.staged.contains_key(sha256) {
            // The same bytes twice (a layer shared by two images of a
            // docker-archive): one copy is enough.
            return fs::remove_file(&path).map_err(|e| ImportError::io(&path, e));
        }
        let named = self.dir.join(sha256.to_hex());
        fs::rename(&path, &named).map_err(|e| ImportError::io(&path, e))?;
        self.staged.insert(*sha256, named);
        Ok(())
    }

    /// The staged file with this digest.
    pub fn path_of(&self, sha256: &Sha256) -> Option<&Path> {
        self.staged.get(sha256).map(PathBuf::as_path)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        self.current = None;
        let _ = fs::remove_dir_all(&self.dir);
    }
}
