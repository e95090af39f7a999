//! `--audit-log FILE`: one JSON line per run, appended, so a site keeps a
//! record of what was imported or refused, when, and on whose signatures.
//!
//! The log is opened before the bundle is read (a log that cannot be
//! written stops the run before anything is imported), created 0600 if
//! missing. In a directory another user may write (`/tmp`), the name is
//! never followed as a symbolic link and the file must be this user's own:
//! otherwise a planted link or file would receive (or forge) the record.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use verify_core::sbom::Timestamp;

use crate::error::CliError;

/// What happened to the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Loaded or pushed.
    Imported,
    /// `verify` with a policy: the policy would admit it.
    Admitted,
    /// The bundle failed verification, or the policy refused it.
    Refused,
    /// The import failed on a bundle that was admitted.
    Error,
}

/// One line of the log.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// RFC 3339, UTC, to the second.
    pub time: String,
    /// `load`, `push` or `verify`.
    pub command: &'static str,
    /// The bundle's path as given.
    pub bundle: String,
    /// SHA-256 of the bundle's bytes as read, when it was read whole.
    pub bundle_sha256: Option<String>,
    /// The image references the bundle holds (empty when it failed).
    pub images: Vec<String>,
    /// Where it went: `oci:DIR`, `docker`, `containerd`, a registry.
    pub target: Option<String>,
    /// The policy file, when one was used.
    pub policy: Option<String>,
    /// The key that sealed the bundle, when the seal verified.
    pub seal_key_id: Option<String>,
    /// The distinct approver keys whose approvals counted.
    pub approver_key_ids: Vec<String>,
    pub result: Outcome,
    /// Why it was refused, or the import's error.
    pub reason: Option<String>,
}

/// Now, as the log writes it.
pub fn now() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp::from_unix_seconds(seconds).map_or_else(|_| seconds.to_string(), |t| t.to_string())
}

/// The open log.
pub struct AuditLog {
    file: File,
    path: PathBuf,
}

impl AuditLog {
    /// Opens (or creates) the log for appending.
    pub fn open(path: &Path) -> Result<Self, CliError> {
        let file = open_append(path).map_err(|e| CliError::io(path, e))?;
        Ok(Self {
            file,
            path: path.to_owned(),
        })
    }

    /// Appends `entry` as one line, in one write (so lines of runs that
    /// share the log do not interleave), and flushes it to disk.
    pub fn append(&mut self, entry: &Entry) -> Result<(), CliError> {
        let mut line = serde_json::to_vec(entry)
            .map_err(|e| CliError::Usage(format!("cannot write the audit line: {e}")))?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| CliError::io(&self.path, e))
    }
}

#[cfg(unix)]
fn open_append(path: &Path) -> std::io::Result<File> {
    use rustix::fs::{FileType, Mode, OFlags};

    use crate::import::dir_handle::DirHandle;

    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the audit log must be a file name"))?;
    let dir = DirHandle::open(dir)?;
    let shared = dir.others_may_write()?;
    // NONBLOCK: a FIFO planted under the name fails instead of hanging.
    let mut flags =
        OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::CLOEXEC | OFlags::NONBLOCK;
    if shared {
        flags |= OFlags::NOFOLLOW;
    }
    let fd = rustix::fs::openat(&dir, name, flags, Mode::from_raw_mode(0o600))
        .map_err(std::io::Error::from)?;
    let stat = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(std::io::Error::other("not a regular file"));
    }
    let me = rustix::process::geteuid().as_raw();
    if shared && stat.st_uid != me {
        return Err(std::io::Error::other(format!(
            "it belongs to uid {}, in a directory other users may write; \
             choose a log in a directory of your own",
            stat.st_uid
        )));
    }
    Ok(File::from(fd))
}

#[cfg(not(unix))]
fn open_append(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;

    use super::AuditLog;

    #[test]
    fn a_new_log_is_private_and_lines_are_appended() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        for _ in 0..2 {
            let mut log = AuditLog::open(&path).expect("opens");
            log.file.write_all(b"x\n").expect("writes");
        }
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(&path).expect("reads"), "x\nx\n");
    }

    #[test]
    fn a_link_in_a_shared_directory_is_not_followed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "untouched").expect("writes");
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).expect("mkdir");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        std::os::unix::fs::symlink(&victim, shared.join("audit.jsonl")).expect("link");
        assert!(AuditLog::open(&shared.join("audit.jsonl")).is_err());
        // In a private directory a link is the owner's choice.
        let private = dir.path().join("private");
        std::fs::create_dir(&private).expect("mkdir");
        std::os::unix::fs::symlink(&victim, private.join("audit.jsonl")).expect("link");
        AuditLog::open(&private.join("audit.jsonl")).expect("followed");
        assert_eq!(
            std::fs::read_to_string(&victim).expect("reads"),
            "untouched"
        );
    }
}
