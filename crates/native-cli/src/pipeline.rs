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

use verify_core::{EntrySink, FileHasher, ImportPlan, Options, Report, Sha256, Verifier};

use crate::error::CliError;
use crate::import::{FileTarget, ImportError, ImportSummary};

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
    run(reader, options, None, progress)
}

/// Verifies the file at `path` and, in the same read, hands its files to
/// `target`; the target commits only if the bundle verified.
pub fn load_file(
    path: &Path,
    options: Options,
    target: &mut dyn FileTarget,
    progress: &mut dyn FnMut(u64),
) -> Result<(Report, Result<ImportSummary, ImportError>), CliError> {
    let mut file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    let (tx, rx) = mpsc::sync_channel::<FileEvent>(DEPTH * 4);
    let (report, staged) = thread::scope(|scope| {
        let feeding = &mut *target;
        let importer = scope.spawn(move || feed_target(feeding, rx));
        let report = run(
            &mut file,
            options,
            Some(Box::new(ChannelSink(tx))),
            progress,
        );
        let staged = importer.join().map_err(|_| worker_panicked());
        (report, staged)
    });
    // A read error or a dead thread leaves no report to commit on: undo
    // what was staged before saying why.
    let (report, staged) = match (report, staged) {
        (Ok(report), Ok(staged)) => (report, staged),
        (Err(e), _) | (_, Err(e)) => {
            target.abort();
            return Err(CliError::io(path, e));
        }
    };
    let outcome = match staged {
        Err(e) => Err(e),
        Ok(()) => ImportPlan::from_report(&report)
            .map_err(ImportError::from)
            .and_then(|plan| target.commit(&plan)),
    };
    if outcome.is_err() {
        target.abort();
    }
    Ok((report, outcome))
}

/// One event of the verifier's walk over the archive's files, sent from the
/// verifying thread to the importing one so that neither waits on the other.
enum FileEvent {
    Begin(String, u64),
    Data(Vec<u8>),
    End(Sha256),
}

struct ChannelSink(SyncSender<FileEvent>);

impl EntrySink for ChannelSink {
    fn begin(&mut self, path: &str, size: u64) {
        let _ = self.0.send(FileEvent::Begin(path.to_owned(), size));
    }

    fn data(&mut self, bytes: &[u8]) {
        let _ = self.0.send(FileEvent::Data(bytes.to_vec()));
    }

    fn end(&mut self, sha256: &Sha256) {
        let _ = self.0.send(FileEvent::End(*sha256));
    }
}

/// Applies events to the target until the verifier is done; after the
/// target's first error the rest is drained and dropped.
fn feed_target(target: &mut dyn FileTarget, rx: Receiver<FileEvent>) -> Result<(), ImportError> {
    let mut status = Ok(());
    for event in rx {
        if status.is_err() {
            continue;
        }
        status = match event {
            FileEvent::Begin(path, size) => target.begin_file(&path, size),
            FileEvent::Data(bytes) => target.file_data(bytes),
            FileEvent::End(sha) => target.end_file(&sha),
        };
    }
    status
}

fn run(
    reader: &mut dyn Read,
    options: Options,
    sink: Option<Box<dyn EntrySink>>,
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
            let mut verifier = match sink {
                Some(sink) => Verifier::with_sink(options, sink),
                None => Verifier::new(options),
            };
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
