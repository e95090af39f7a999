//! Reads a bundle once and keeps both cores busy: one thread hashes the
//! whole file, the other runs the verifier over the same buffers.
//!
//! Buffers are shared (`Arc`) rather than copied and are recycled through a
//! pool, so a 50 GiB bundle costs a handful of allocations.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;

use verify_core::{FileHasher, Options, Report, Verifier};

use crate::error::CliError;

/// Size of one read. Large enough that per-chunk costs vanish, small enough
/// that buffers in flight stay in the shared cache.
pub const CHUNK: usize = 1 << 20;
/// Buffers queued per worker before the reader waits.
const DEPTH: usize = 4;

/// Verifies the file at `path`, calling `progress` with bytes read so far.
pub fn verify_file(
    path: &Path,
    options: Options,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, CliError> {
    let mut file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    verify_reader(&mut file, options, progress).map_err(|e| CliError::io(path, e))
}

/// Verifies whatever `reader` yields.
pub fn verify_reader(
    reader: &mut dyn Read,
    options: Options,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Report> {
    let options = Options {
        hash_file: false,
        ..options
    };
    let (hash_tx, hash_rx) = mpsc::sync_channel::<Arc<Vec<u8>>>(DEPTH);
    let (verify_tx, verify_rx) = mpsc::sync_channel::<Arc<Vec<u8>>>(DEPTH);
    let (pool_tx, pool_rx) = mpsc::channel::<Vec<u8>>();

    thread::scope(|scope| {
        let pool = pool_tx.clone();
        let hasher = scope.spawn(move || {
            let mut hasher = FileHasher::new();
            for buf in hash_rx {
                hasher.update(&buf);
                recycle(buf, &pool);
            }
            hasher.finish()
        });
        let pool = pool_tx;
        let verifier = scope.spawn(move || {
            let mut verifier = Verifier::new(options);
            for buf in verify_rx {
                verifier.update(&buf);
                recycle(buf, &pool);
            }
            verifier
        });

        let read = read_loop(reader, &hash_tx, &verify_tx, &pool_rx, progress);
        drop((hash_tx, verify_tx));
        let sha = hasher.join().map_err(|_| worker_panicked())?;
        let verifier = verifier.join().map_err(|_| worker_panicked())?;
        read?;
        Ok(verifier.finish_with_file_sha256(sha))
    })
}

fn read_loop(
    reader: &mut dyn Read,
    hash_tx: &SyncSender<Arc<Vec<u8>>>,
    verify_tx: &SyncSender<Arc<Vec<u8>>>,
    pool: &Receiver<Vec<u8>>,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<()> {
    let mut total = 0u64;
    loop {
        let mut buf = pool.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        let n = fill(reader, &mut buf)?;
        if n == 0 {
            return Ok(());
        }
        buf.truncate(n);
        total += n as u64;
        let buf = Arc::new(buf);
        // A closed channel means a worker died; its join reports why.
        if hash_tx.send(Arc::clone(&buf)).is_err() || verify_tx.send(buf).is_err() {
            return Ok(());
        }
        progress(total);
    }
}

/// Reads until `buf` is full or the input ends.
fn fill(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Returns a buffer to the pool once its last user is done with it.
fn recycle(buf: Arc<Vec<u8>>, pool: &Sender<Vec<u8>>) {
    if let Some(buf) = Arc::into_inner(buf) {
        let _ = pool.send(buf);
    }
}

fn worker_panicked() -> std::io::Error {
    std::io::Error::other("a verification thread panicked")
}

/// SHA-256 of everything `reader` yields, read in large pieces.
pub fn hash_reader(reader: &mut dyn Read) -> std::io::Result<verify_core::Sha256> {
    let mut hasher = FileHasher::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = fill(reader, &mut buf)?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(&buf[..n]);
    }
}
