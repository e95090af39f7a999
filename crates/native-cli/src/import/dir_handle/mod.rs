//! Directories worked through open handles, so that a second local user who
//! can write somewhere near them cannot redirect what Airlock writes.
//!
//! Names are resolved relative to a handle (`openat`, `renameat`, …) and a
//! symbolic link is never followed inside one: a planted `blobs -> /etc`
//! fails to open instead of leading elsewhere. Files are created with
//! `O_EXCL` under random names, so a name planted in advance cannot be
//! truncated through, nor guessed to block a run. [`DirHandle::ensure_private`]
//! refuses directories that users other than the one running Airlock (and
//! root) can write, unless they are sticky (like `/tmp`, where others cannot
//! rename or remove what Airlock made).

//!
//! Unix does this with directory descriptors ([`unix`]). Windows has no
//! `openat` in std and no mode bits: there ([`windows`]) the same calls
//! work by path, still refusing links inside, creating with `create_new`
//! under random names, and checking free space.

use std::io;
use std::path::Path;

use super::ImportError;

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::DirHandle;
#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::DirHandle;

/// Space an import leaves free for everyone else: 1 GiB, or a twentieth of
/// a smaller filesystem.
const RESERVE_MAX: u64 = 1 << 30;
const RESERVE_SHARE: u64 = 20;

/// Fails when writing `size` more bytes to `path`'s filesystem, with `free`
/// of its `total` bytes free, would leave less than the reserve.
fn check_room(path: &Path, free: u64, total: u64, size: u64) -> Result<(), ImportError> {
    let reserve = RESERVE_MAX.min(total / RESERVE_SHARE);
    if free.saturating_sub(reserve) < size {
        return Err(ImportError::NoSpace {
            path: path.to_owned(),
            needed: size,
            free,
            reserve,
        });
    }
    Ok(())
}

/// Calls `make` with `prefix` and 16 random hex digits (from `random`)
/// until a name is free. Random names cannot be planted in advance; a clash
/// is retried a few times and then reported, since it means someone is
/// guessing.
fn retry_names<T>(
    prefix: &str,
    random: fn(&mut [u8]) -> io::Result<()>,
    mut make: impl FnMut(&str) -> io::Result<T>,
) -> io::Result<(T, String)> {
    let mut last = io::Error::other("no attempt");
    for _ in 0..8 {
        let mut bytes = [0u8; 8];
        random(&mut bytes)?;
        let name = format!(
            "{prefix}{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        match make(&name) {
            Ok(made) => return Ok((made, name)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}
