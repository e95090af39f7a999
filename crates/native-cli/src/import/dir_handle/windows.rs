//! [`DirHandle`] on Windows: the same calls as on Unix, by path.
//!
//! std offers no directory-relative opens on Windows, and reading ACLs
//! would take the Win32 security API (unsafe code). What holds here:
//! a link or junction inside a directory is never followed (checked with
//! `symlink_metadata` before use), files are created with `create_new`
//! under random names, and free space is checked before each file. Modes
//! do not exist: new entries take the ACL they inherit from their
//! directory, which for the user's `%TEMP%` is private to that user.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::{ImportError, check_room, retry_names};

/// A directory, known by the path it was opened at.
pub struct DirHandle {
    path: PathBuf,
    /// The lock file held by [`DirHandle::lock`] until the handle is dropped.
    held: OnceLock<File>,
}

impl DirHandle {
    /// Opens `path`, which must be a directory; links in the path itself
    /// are followed, as the user chose it.
    pub fn open(path: &Path) -> io::Result<Self> {
        if !std::fs::metadata(path)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(Self::at(path.to_owned()))
    }

    fn at(path: PathBuf) -> Self {
        Self {
            path,
            held: OnceLock::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` inside, for messages and for tools that take paths.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// A second handle on the same directory (without its lock).
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self::at(self.path.clone()))
    }

    /// Opens the directory `name` inside, refusing a link or junction.
    pub fn open_dir(&self, name: &str) -> io::Result<Self> {
        let path = self.join(name);
        let meta = std::fs::symlink_metadata(&path)?;
        if meta.file_type().is_symlink() {
            return Err(io::Error::other(
                "it is a symbolic link, and Airlock follows none inside a directory it imports to",
            ));
        }
        if !meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(Self::at(path))
    }

    /// Opens the directory `name` inside, creating it first if it is not
    /// there; never through a link. Windows has no modes: `_mode` is for
    /// Unix.
    pub fn create_dir(&self, name: &str, _mode: u32) -> io::Result<Self> {
        match std::fs::create_dir(self.join(name)) {
            Ok(()) => self.open_dir(name),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => self.open_dir(name),
            Err(e) => Err(e),
        }
    }

    /// Makes a new directory named `prefix` and random characters; creating
    /// fails rather than reuse what is there.
    pub fn create_private_dir(&self, prefix: &str) -> io::Result<(Self, String)> {
        retry_names(prefix, random, |name| {
            std::fs::create_dir(self.join(name))?;
            self.open_dir(name)
        })
    }

    /// Creates the file `name`; fails if anything, a link included, is
    /// there already.
    pub fn create_file(&self, name: &str, _mode: u32) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.join(name))
    }

    /// Creates a new file named `prefix` and random characters.
    pub fn create_temp_file(&self, prefix: &str, mode: u32) -> io::Result<(File, String)> {
        retry_names(prefix, random, |name| self.create_file(name, mode))
    }

    /// Reads the regular file `name`, at most `limit` bytes; `None` if it
    /// does not exist. A link is an error, not followed.
    pub fn read_file(&self, name: &str, limit: u64) -> io::Result<Option<Vec<u8>>> {
        let path = self.join(name);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() => {}
            Ok(_) => return Err(io::Error::other("not a regular file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut bytes = Vec::new();
        File::open(&path)?.take(limit).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    /// Whether `name` is a regular file (a link to one is not).
    pub fn has_file(&self, name: &str) -> io::Result<bool> {
        match std::fs::symlink_metadata(self.join(name)) {
            Ok(meta) => Ok(meta.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Moves `name` to `to/new_name`, replacing what is there.
    pub fn rename(&self, name: &str, to: &DirHandle, new_name: &str) -> io::Result<()> {
        std::fs::rename(self.join(name), to.join(new_name))
    }

    /// Windows files have no mode; they keep the ACL of their directory.
    pub fn set_mode(&self, _name: &str, _mode: u32) -> io::Result<()> {
        Ok(())
    }

    pub fn remove_file(&self, name: &str) -> io::Result<()> {
        std::fs::remove_file(self.join(name))
    }

    /// Waits for, then holds, the exclusive lock on this directory until the
    /// handle is dropped: two loads into one layout take turns. std cannot
    /// lock a directory on Windows, so the lock is on a file beside it
    /// (`.NAME.airlock-lock`), which stays for the next run.
    pub fn lock(&self) -> io::Result<()> {
        let lock_path = match self.path.file_name() {
            Some(name) => self
                .path
                .with_file_name(format!(".{}.airlock-lock", name.to_string_lossy())),
            None => self.join(".airlock-lock"),
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)?;
        file.lock()?;
        // A second lock() on the same handle keeps the first file.
        let _ = self.held.set(file);
        Ok(())
    }

    /// Fails when writing `size` more bytes here would leave less than the
    /// reserve free, before any of them is written.
    pub fn ensure_room(&self, size: u64) -> Result<(), ImportError> {
        let stats = fs4::statvfs(&self.path).map_err(|e| ImportError::io(&self.path, e))?;
        check_room(
            &self.path,
            stats.available_space(),
            stats.total_space(),
            size,
        )
    }

    /// Unix refuses directories other users can write; Windows says who
    /// may write in ACLs, which std cannot read, so nothing is refused here.
    pub fn ensure_private(&self) -> Result<(), ImportError> {
        Ok(())
    }

    /// See [`DirHandle::ensure_private`].
    pub fn ensure_exclusive(&self) -> Result<(), ImportError> {
        Ok(())
    }
}

/// Random bytes without a crate or unsafe code: std's `RandomState` is keyed
/// from the operating system's random source, so the hash it gives is
/// unpredictable to anyone else.
fn random(bytes: &mut [u8]) -> io::Result<()> {
    use std::hash::{BuildHasher, Hasher};
    for chunk in bytes.chunks_mut(8) {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let word = hasher.finish().to_le_bytes();
        chunk.copy_from_slice(&word[..chunk.len()]);
    }
    Ok(())
}
