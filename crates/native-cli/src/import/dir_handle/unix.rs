//! [`DirHandle`] on Unix: names resolved against an open directory
//! descriptor with rustix (`openat`, `renameat`, `O_NOFOLLOW`, `flock`,
//! `fstatvfs`).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, FlockOperation, Mode, OFlags};

use super::{ImportError, check_room, retry_names};

/// The sticky bit: in such a directory only an entry's owner may rename or
/// remove it.
const STICKY: u32 = 0o1000;
/// Write permission for the group and for others.
const SHARED_WRITE: u32 = 0o022;

/// An open directory and the path it was opened at (for messages).
pub struct DirHandle {
    fd: OwnedFd,
    path: PathBuf,
}

impl DirHandle {
    /// Opens `path`. Links in the path itself are followed: the user chose
    /// it, and [`DirHandle::ensure_private`] is what says whether others
    /// could have changed it.
    pub fn open(path: &Path) -> io::Result<Self> {
        let fd = rustix::fs::open(path, dir_flags(), Mode::empty())?;
        Ok(Self {
            fd,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path of `name` inside, for messages and for tools that take paths.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// A second handle on the same directory.
    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            fd: self.fd.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// Opens the directory `name` inside, refusing a symbolic link.
    pub fn open_dir(&self, name: &str) -> io::Result<Self> {
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            dir_flags() | OFlags::NOFOLLOW,
            Mode::empty(),
        )
        .map_err(|e| match e {
            // Linux says ENOTDIR or ELOOP for a link, depending on flags.
            rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR if self.is_link(name) => {
                io::Error::other(
                    "it is a symbolic link, and Airlock follows none inside a directory it \
                     imports to",
                )
            }
            e => e.into(),
        })?;
        Ok(Self {
            fd,
            path: self.join(name),
        })
    }

    /// Opens the directory `name` inside, creating it with `mode` first if
    /// it is not there; never through a symbolic link.
    pub fn create_dir(&self, name: &str, mode: u32) -> io::Result<Self> {
        match rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(mode)) {
            Ok(()) => {
                let dir = self.open_dir(name)?;
                // mkdir's mode is cut by the umask, as open's is.
                rustix::fs::fchmod(&dir.fd, Mode::from_raw_mode(mode))?;
                Ok(dir)
            }
            Err(rustix::io::Errno::EXIST) => self.open_dir(name),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes a new directory named `prefix` and random characters, readable
    /// by its owner alone; `mkdir` fails rather than reuse what is there.
    pub fn create_private_dir(&self, prefix: &str) -> io::Result<(Self, String)> {
        retry_names(prefix, random, |name| {
            rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o700))?;
            self.open_dir(name)
        })
    }

    /// Creates the file `name` with `mode`; fails if anything, a link
    /// included, is there already.
    pub fn create_file(&self, name: &str, mode: u32) -> io::Result<File> {
        let flags =
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(mode))?;
        // The mode given to open is cut by the umask; the layout's files
        // must be readable by the importers that read them.
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode))?;
        Ok(File::from(fd))
    }

    /// Creates a new file named `prefix` and random characters.
    pub fn create_temp_file(&self, prefix: &str, mode: u32) -> io::Result<(File, String)> {
        retry_names(prefix, random, |name| self.create_file(name, mode))
    }

    /// Reads the regular file `name`, at most `limit` bytes; `None` if it
    /// does not exist. A link, a FIFO or a device is an error, not followed.
    pub fn read_file(&self, name: &str, limit: u64) -> io::Result<Option<Vec<u8>>> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(rustix::io::Errno::NOENT) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let stat = rustix::fs::fstat(&fd)?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Err(io::Error::other("not a regular file"));
        }
        let mut bytes = Vec::new();
        File::from(fd).take(limit).read_to_end(&mut bytes)?;
        Ok(Some(bytes))
    }

    /// Whether `name` is a regular file (a link to one is not).
    pub fn has_file(&self, name: &str) -> io::Result<bool> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(FileType::from_raw_mode(stat.st_mode) == FileType::RegularFile),
            Err(rustix::io::Errno::NOENT) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn is_link(&self, name: &str) -> bool {
        rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink)
    }

    /// Moves `name` to `to/new_name`, replacing what is there; the entries
    /// are renamed, never what a link points at.
    pub fn rename(&self, name: &str, to: &DirHandle, new_name: &str) -> io::Result<()> {
        Ok(rustix::fs::renameat(&self.fd, name, &to.fd, new_name)?)
    }

    /// Sets the mode of `name`, which must be this user's own file in a
    /// directory no one else can write (Linux cannot refuse links here).
    pub fn set_mode(&self, name: &str, mode: u32) -> io::Result<()> {
        Ok(rustix::fs::chmodat(
            &self.fd,
            name,
            Mode::from_raw_mode(mode),
            AtFlags::empty(),
        )?)
    }

    pub fn remove_file(&self, name: &str) -> io::Result<()> {
        Ok(rustix::fs::unlinkat(&self.fd, name, AtFlags::empty())?)
    }

    /// Waits for, then holds, the exclusive lock on this directory until the
    /// handle is dropped: two loads into one layout take turns.
    pub fn lock(&self) -> io::Result<()> {
        Ok(rustix::fs::flock(&self.fd, FlockOperation::LockExclusive)?)
    }

    /// Bytes free for an unprivileged writer, and the filesystem's size.
    fn space(&self) -> io::Result<(u64, u64)> {
        let vfs = rustix::fs::fstatvfs(&self.fd)?;
        Ok((
            vfs.f_bavail.saturating_mul(vfs.f_frsize),
            vfs.f_blocks.saturating_mul(vfs.f_frsize),
        ))
    }

    /// Fails when writing `size` more bytes here would leave less than the
    /// reserve free, before any of them is written.
    pub fn ensure_room(&self, size: u64) -> Result<(), ImportError> {
        let (free, total) = self.space().map_err(|e| ImportError::io(&self.path, e))?;
        check_room(&self.path, free, total, size)
    }

    /// Refuses a directory that another user could change under Airlock:
    /// owned by someone other than this user or root, or writable by group
    /// or others without the sticky bit. For a directory Airlock only makes
    /// new, randomly named entries in (where staging goes).
    pub fn ensure_private(&self) -> Result<(), ImportError> {
        self.ensure_owned(true)
    }

    /// Like [`DirHandle::ensure_private`], with no sticky exception: for a
    /// directory whose fixed names (`index.json`, `blobs/sha256/HEX`)
    /// Airlock reads and trusts, where another user's planted entry would be
    /// taken as Airlock's own.
    pub fn ensure_exclusive(&self) -> Result<(), ImportError> {
        self.ensure_owned(false)
    }

    /// Whether a user other than this one (or root) owns this directory or
    /// may write to it, sticky or not: then a name in it may be a link or a
    /// file someone else planted.
    pub fn others_may_write(&self) -> io::Result<bool> {
        let stat = rustix::fs::fstat(&self.fd)?;
        let me = rustix::process::geteuid().as_raw();
        Ok((stat.st_uid != me && stat.st_uid != 0) || stat.st_mode & SHARED_WRITE != 0)
    }

    fn ensure_owned(&self, sticky_allowed: bool) -> Result<(), ImportError> {
        let stat =
            rustix::fs::fstat(&self.fd).map_err(|e| ImportError::io(&self.path, e.into()))?;
        let me = rustix::process::geteuid().as_raw();
        let why = if stat.st_uid != me && stat.st_uid != 0 {
            Some(format!(
                "it belongs to uid {}, not to the user running Airlock (uid {me}) or root",
                stat.st_uid
            ))
        } else if stat.st_mode & SHARED_WRITE != 0
            && (stat.st_mode & STICKY == 0 || !sticky_allowed)
        {
            Some(format!(
                "other users may write to it (mode {:o}); `chmod go-w` it or choose another",
                stat.st_mode & 0o7777
            ))
        } else {
            None
        };
        match why {
            Some(why) => Err(ImportError::Unsafe {
                path: self.path.clone(),
                why,
            }),
            None => Ok(()),
        }
    }
}

impl AsFd for DirHandle {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC
}

/// Fills `bytes` from the kernel's random source.
fn random(bytes: &mut [u8]) -> io::Result<()> {
    rustix::rand::getrandom(bytes, rustix::rand::GetRandomFlags::empty())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> DirHandle {
        let path =
            std::env::temp_dir().join(format!("airlock-dir-handle-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).expect("scratch");
        DirHandle::open(&path).expect("open")
    }

    #[test]
    fn links_inside_are_never_followed() {
        let dir = scratch("links");
        let victim = dir.join("victim");
        std::fs::write(&victim, "keep").expect("victim");
        std::os::unix::fs::symlink(&victim, dir.join("planted")).expect("link");
        std::os::unix::fs::symlink(dir.path(), dir.join("loop")).expect("link");
        assert!(dir.create_file("planted", 0o644).is_err());
        assert!(dir.open_dir("loop").is_err());
        assert!(dir.create_dir("loop", 0o755).is_err());
        assert!(dir.read_file("planted", 10).is_err());
        assert!(!dir.has_file("planted").expect("stat"));
        assert_eq!(std::fs::read_to_string(&victim).expect("victim"), "keep");
        let _ = std::fs::remove_dir_all(dir.path());
    }

    #[test]
    fn temp_names_are_random_and_files_take_the_mode_asked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("temp");
        let (_, a) = dir.create_temp_file("x-", 0o600).expect("a");
        let (_, b) = dir.create_temp_file("x-", 0o644).expect("b");
        assert_ne!(a, b);
        assert_eq!(a.len(), "x-".len() + 16);
        let mode = |n: &str| {
            std::fs::metadata(dir.join(n))
                .expect("meta")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(&a), 0o600);
        assert_eq!(mode(&b), 0o644);
        let (_, d) = dir.create_private_dir("d-").expect("dir");
        assert_eq!(mode(&d), 0o700);
        let _ = std::fs::remove_dir_all(dir.path());
    }

    #[test]
    fn shared_directories_are_refused_unless_sticky() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("shared");
        let set = |mode| {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode))
                .expect("chmod")
        };
        set(0o755);
        assert!(dir.ensure_private().is_ok());
        for shared in [0o777, 0o775, 0o757] {
            set(shared);
            let err = dir
                .ensure_private()
                .expect_err("shared dir refused")
                .to_string();
            assert!(err.contains("other users may write"), "{err}");
        }
        set(0o1777);
        assert!(dir.ensure_private().is_ok());
        assert!(dir.ensure_exclusive().is_err());
        set(0o755);
        let _ = std::fs::remove_dir_all(dir.path());
    }
}
