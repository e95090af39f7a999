//! Reads a bundle once and keeps both cores busy: one thread hashes the
//! whole file, the other runs the verifier over the same buffers.
//!
//! Buffers are shared (`Arc`) rather than copied and are recycled through a
//! pool, so a 50 GiB bundle costs a handful of allocations. An importer
//! gets the file bytes it is handed as slices of those same buffers: on a
//! two-core machine the daemon it feeds needs the CPU a copy would take.

use std::io::Read;
use std::ops::{ControlFlow, Deref};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use bytes::Bytes;

use verify_core::{EntrySink, FileHasher, Flow, ImportPlan, Options, Report, Sha256, Verifier};

use crate::error::CliError;
use crate::import::{FileTarget, ImportError, ImportSummary};

/// Size of one read. Large enough that per-chunk costs vanish, small enough
/// that buffers in flight stay in the shared cache.
pub const CHUNK: usize = 1 << 20;
/// Buffers queued per worker before the reader waits.
const DEPTH: usize = 4;

/// How much of a bundle to read once its verdict is settled (see
/// [`verify_core::Flow`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Stop there: the report has the findings so far, and no whole-file
    /// hash unless the file had already been read to its end.
    UntilSettled,
    /// Read on to the end: the report of the whole file (`--full-report`).
    ToTheEnd,
}

/// Whether the whole file is hashed while it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileHash {
    /// Hash it: the report has the file's SHA-256 (compared with the
    /// recorded one, if any).
    Compute,
    /// Nothing needs it (no recorded hash, no policy, no audit log): the
    /// report has no `sha256`, and its reader must say it was skipped. On a
    /// two-core machine the hash takes CPU the importing daemon needs.
    Skip,
}

/// Verifies the file at `path`, calling `progress` with bytes read so far.
pub fn verify_file(
    path: &Path,
    options: Options,
    reading: Reading,
    progress: &mut dyn FnMut(u64),
) -> Result<Report, CliError> {
    let mut file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    verify_reader(&mut file, options, reading, progress).map_err(|e| CliError::io(path, e))
}

/// Verifies whatever `reader` yields.
pub fn verify_reader(
    reader: &mut dyn Read,
    options: Options,
    reading: Reading,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Report> {
    match run(reader, options, None, FileHash::Compute, reading, progress)? {
        Ran::Report(report, _) => Ok(report),
        // Without a sink nothing can stop for one.
        Ran::SinkStopped => Err(std::io::Error::other(
            "verification stopped for an importer that was not there",
        )),
    }
}

/// Verifies the file at `path` and, in the same read, hands its files to
/// `target`; the target commits only if the bundle verified and `admit`,
/// asked with the report and plan once everything is staged, says yes (a
/// site's policy); otherwise what was staged is undone.
pub fn load_file(
    path: &Path,
    options: Options,
    file_hash: FileHash,
    target: &mut dyn FileTarget,
    admit: &mut dyn FnMut(&Report, &ImportPlan) -> bool,
    progress: &mut dyn FnMut(u64),
) -> Result<Loaded, CliError> {
    let mut file = std::fs::File::open(path).map_err(|e| CliError::io(path, e))?;
    // Each queued piece of file data holds a read buffer: a short queue
    // keeps the buffers in use few and cache-warm (measured: a queue of 16
    // cost more CPU than the copy it replaced).
    let (tx, rx) = mpsc::sync_channel::<FileEvent>(DEPTH);
    let (report, staged) = thread::scope(|scope| {
        let feeding = &mut *target;
        let importer = scope.spawn(move || feed_target(feeding, rx));
        // A bundle that settled as a fail imports nothing: no need to read on.
        let report = run(
            &mut file,
            options,
            Some(ChannelSink::new(tx)),
            file_hash,
            Reading::UntilSettled,
            progress,
        );
        let staged = importer.join().map_err(|_| worker_panicked());
        (report, staged)
    });
    // A read error or a dead thread leaves no report to commit on: undo
    // what was staged before saying why.
    let (report, skipped, staged) = match (report, staged) {
        (Ok(Ran::Report(report, skipped)), Ok(staged)) => (report, skipped, staged),
        // The importer failed and reading stopped for it: there is no
        // verdict, only the import's error.
        (Ok(Ran::SinkStopped), Ok(Err(e))) => {
            target.abort();
            return Err(CliError::Import(e));
        }
        (Ok(Ran::SinkStopped), Ok(Ok(()))) => {
            target.abort();
            return Err(CliError::io(
                path,
                std::io::Error::other("the importer stopped without saying why"),
            ));
        }
        (Err(e), _) | (_, Err(e)) => {
            target.abort();
            return Err(CliError::io(path, e));
        }
    };
    let outcome = match staged {
        Err(e) => Err(e),
        Ok(()) => ImportPlan::from_report(&report)
            .map_err(ImportError::from)
            .and_then(|plan| {
                if admit(&report, &plan) {
                    target.commit(&plan)
                } else {
                    Err(ImportError::NotAdmitted)
                }
            }),
    };
    if outcome.is_err() {
        target.abort();
    }
    Ok(Loaded {
        report,
        outcome,
        whole_file_hash_skipped: skipped,
    })
}

/// What [`load_file`] read and imported.
pub struct Loaded {
    pub report: Report,
    /// The import, committed only if the report verified and was admitted.
    pub outcome: Result<ImportSummary, ImportError>,
    /// The file was read to its end without hashing it ([`FileHash::Skip`]):
    /// the report's missing `sha256` means "not computed", not "stopped
    /// reading early".
    pub whole_file_hash_skipped: bool,
}

/// One event of the verifier's walk over the archive's files, sent from the
/// verifying thread to the importing one so that neither waits on the other.
enum FileEvent {
    Begin(String, u64),
    Data(Bytes),
    End(Sha256),
}

/// The chunk the verifier is being fed, if any: the sink hands out slices
/// of it instead of copies.
type Current = Arc<Mutex<Option<Arc<Chunk>>>>;

/// The importing thread's end of the channel; once that thread has given
/// up (its receiver is gone), the verifier is told to stop.
struct ChannelSink {
    tx: SyncSender<FileEvent>,
    current: Current,
}

impl ChannelSink {
    fn new(tx: SyncSender<FileEvent>) -> Self {
        Self {
            tx,
            current: Arc::default(),
        }
    }

    fn send(&self, event: FileEvent) -> ControlFlow<()> {
        match self.tx.send(event) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        }
    }
}

impl EntrySink for ChannelSink {
    fn begin(&mut self, path: &str, size: u64) -> ControlFlow<()> {
        self.send(FileEvent::Begin(path.to_owned(), size))
    }

    fn data(&mut self, bytes: &[u8]) -> ControlFlow<()> {
        let current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        // The core passes file bytes straight from the chunk it was fed;
        // bytes it assembled itself (none today) are copied.
        let shared = current
            .as_ref()
            .and_then(|chunk| Chunk::slice_of(chunk, bytes));
        drop(current);
        let bytes = shared.unwrap_or_else(|| Bytes::copy_from_slice(bytes));
        self.send(FileEvent::Data(bytes))
    }

    fn end(&mut self, sha256: &Sha256) -> ControlFlow<()> {
        self.send(FileEvent::End(*sha256))
    }
}

/// Applies events to the target until the verifier is done or the target
/// fails; returning drops the receiver, which stops the verifier's sink and
/// so the read (a full disk or a dead daemon should not cost the rest of
/// the bundle).
fn feed_target(target: &mut dyn FileTarget, rx: Receiver<FileEvent>) -> Result<(), ImportError> {
    for event in rx {
        match event {
            FileEvent::Begin(path, size) => target.begin_file(&path, size),
            FileEvent::Data(bytes) => target.file_data(bytes),
            FileEvent::End(sha) => target.end_file(&sha),
        }?;
    }
    Ok(())
}

/// One read's bytes, shared by the threads that hash, verify and import
/// them; the last one to let go returns the buffer to the reader's pool.
struct Chunk {
    bytes: Vec<u8>,
    pool: Pool,
}

impl Chunk {
    /// `part` as a `Bytes` that keeps this chunk alive, if `part` lies
    /// within it (compared by address: the same memory, so the same bytes).
    fn slice_of(chunk: &Arc<Chunk>, part: &[u8]) -> Option<Bytes> {
        let base = chunk.bytes.as_ptr() as usize;
        let start = (part.as_ptr() as usize).checked_sub(base)?;
        let end = start.checked_add(part.len())?;
        (end <= chunk.bytes.len())
            .then(|| Bytes::from_owner(Shared(Arc::clone(chunk))).slice(start..end))
    }
}

impl Deref for Chunk {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.bytes);
        self.pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(bytes);
    }
}

/// A chunk as the owner of a [`Bytes`].
struct Shared(Arc<Chunk>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// How a read ended.
enum Ran {
    /// With a report: of the whole file, or of a verdict that settled; and
    /// whether the file was read whole without being hashed.
    Report(Report, bool),
    /// Reading stopped because the sink's importer failed; it says why.
    SinkStopped,
}

/// Why the verifying thread asked the reader to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Settled,
    Sink,
}

/// How the read loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The input ended: every byte was read, hashed and verified.
    AtEof,
    /// Asked to stop (or a worker went away) before the input ended.
    Stopped,
}

fn run(
    reader: &mut dyn Read,
    options: Options,
    sink: Option<ChannelSink>,
    file_hash: FileHash,
    reading: Reading,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Ran> {
    // The core never hashes the file itself: that is the hashing thread's
    // job, when there is one.
    let options = options.with_hash_file(false);
    let (hash_tx, hash_rx) = match file_hash {
        FileHash::Compute => {
            let (tx, rx) = mpsc::sync_channel::<Arc<Chunk>>(DEPTH);
            (Some(tx), Some(rx))
        }
        FileHash::Skip => (None, None),
    };
    let (verify_tx, verify_rx) = mpsc::sync_channel::<Arc<Chunk>>(DEPTH);
    let pool = Pool::default();
    // Set by the verifying thread, read by the reader before each read.
    let stop = AtomicBool::new(false);

    thread::scope(|scope| {
        let hasher = hash_rx.map(|hash_rx| {
            scope.spawn(move || {
                let mut hasher = FileHasher::new();
                for buf in hash_rx {
                    hasher.update(&buf);
                }
                hasher.finish()
            })
        });
        let stop_reading = &stop;
        let verifier = scope.spawn(move || {
            let mut current = None;
            let mut verifier = match sink {
                Some(sink) => {
                    current = Some(Arc::clone(&sink.current));
                    Verifier::with_sink(options, Box::new(sink))
                }
                None => Verifier::new(options),
            };
            let mut why = None;
            // Everything the reader sends is fed, even after it was asked
            // to stop: then the bytes verified are the bytes hashed, and a
            // read that reached the end anyway gives the whole report.
            for buf in verify_rx {
                let flow = match &current {
                    Some(current) => {
                        set(current, Some(Arc::clone(&buf)));
                        let flow = verifier.update(&buf);
                        set(current, None);
                        flow
                    }
                    None => verifier.update(&buf),
                };
                drop(buf);
                why = why.or(match flow {
                    Flow::Settled if reading == Reading::UntilSettled => Some(Stop::Settled),
                    Flow::SinkStopped => Some(Stop::Sink),
                    _ => None,
                });
                if why.is_some() {
                    stop_reading.store(true, Ordering::Relaxed);
                }
            }
            (verifier, why)
        });

        let read = read_loop(reader, hash_tx.as_ref(), &verify_tx, &pool, &stop, progress);
        drop((hash_tx, verify_tx));
        let sha = hasher
            .map(|h| h.join().map_err(|_| worker_panicked()))
            .transpose()?;
        let (verifier, why) = verifier.join().map_err(|_| worker_panicked())?;
        match (read?, why) {
            // Read to the end: the whole file was hashed and verified.
            (Ended::AtEof, _) => Ok(match sha {
                Some(sha) => Ran::Report(verifier.finish_with_file_sha256(sha), false),
                // Read whole, hashed by no one: no `sha256` in the report.
                None => Ran::Report(verifier.finish(), true),
            }),
            // The hash is of a prefix: the report must not use it.
            (Ended::Stopped, Some(Stop::Settled)) => verifier
                .finish_settled()
                .map(|report| Ran::Report(report, false))
                .map_err(std::io::Error::other),
            (Ended::Stopped, Some(Stop::Sink)) => Ok(Ran::SinkStopped),
            (Ended::Stopped, None) => Err(worker_panicked()),
        }
    })
}

/// Sets the chunk the sink may share from.
fn set(current: &Current, chunk: Option<Arc<Chunk>>) {
    *current.lock().unwrap_or_else(PoisonError::into_inner) = chunk;
}

/// Buffers given back by the threads done with them, the latest last: the
/// reader takes that one, likely still in the cache (a queue would hand it
/// the coldest, and with an importer holding buffers that costs more CPU
/// than the copy it saves).
type Pool = Arc<Mutex<Vec<Vec<u8>>>>;

fn read_loop(
    reader: &mut dyn Read,
    hash_tx: Option<&SyncSender<Arc<Chunk>>>,
    verify_tx: &SyncSender<Arc<Chunk>>,
    pool: &Pool,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
) -> std::io::Result<Ended> {
    let mut total = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(Ended::Stopped);
        }
        let reused = pool.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let mut buf = reused.unwrap_or_default();
        buf.resize(CHUNK, 0);
        let n = fill(reader, &mut buf)?;
        if n == 0 {
            return Ok(Ended::AtEof);
        }
        buf.truncate(n);
        total += n as u64;
        let buf = Arc::new(Chunk {
            bytes: buf,
            pool: Arc::clone(pool),
        });
        // A closed channel means a worker died; its join reports why.
        let hashing = hash_tx.is_none_or(|tx| tx.send(Arc::clone(&buf)).is_ok());
        if !hashing || verify_tx.send(buf).is_err() {
            return Ok(Ended::Stopped);
        }
        progress(total);
        // A short fill is the end of the input: say so without another
        // read, so a small file that settles is still known to be whole
        // (and its hash compared) however fast the verifier is.
        if n < CHUNK {
            return Ok(Ended::AtEof);
        }
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use verify_core::{FindingKind, Options, Report, Verdict};

    use std::sync::Arc;

    use super::{CHUNK, Chunk, Pool, Reading, verify_reader};

    /// `len` bytes that are not a tar (the first header's checksum is
    /// wrong), counting how many were read.
    struct Junk {
        len: u64,
        read: u64,
    }

    impl Read for Junk {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = usize::try_from(self.len - self.read)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            buf[..n].fill(b'x');
            self.read += n as u64;
            Ok(n)
        }
    }

    const LEN: u64 = 64 << 20;

    /// The report on `len` bytes of junk, and how many were read.
    fn verify_junk(len: u64, reading: Reading) -> (Report, u64) {
        let mut junk = Junk { len, read: 0 };
        let report =
            verify_reader(&mut junk, Options::default(), reading, &mut |_| {}).expect("a report");
        (report, junk.read)
    }

    #[test]
    fn a_settled_bundle_is_not_read_to_the_end() {
        let (report, read) = verify_junk(LEN, Reading::UntilSettled);
        assert_eq!(report.verdict(), Verdict::Fail);
        assert!(report.has(FindingKind::NotABundle));
        // The reader runs a few buffers ahead of the verifier, no more.
        assert!(read <= 8 * CHUNK as u64, "read {read} bytes");
        assert_eq!(report.bundle().size, read, "every byte read was verified");
        // Not read whole, so not hashed whole: no claim about the file.
        assert_eq!(report.bundle().sha256, None);
        assert!(!report.has(FindingKind::FileDigestMismatch));
    }

    #[test]
    fn a_full_report_reads_it_all() {
        let (report, read) = verify_junk(LEN, Reading::ToTheEnd);
        assert_eq!(read, LEN);
        assert_eq!(report.bundle().size, LEN);
        assert!(report.bundle().sha256.is_some());
        assert!(report.has(FindingKind::NotABundle));
    }

    #[test]
    fn importers_get_slices_of_the_read_buffer_which_returns_to_the_pool_last() {
        let pool = Pool::default();
        let chunk = Arc::new(Chunk {
            bytes: (0..=255u8).collect(),
            pool: Arc::clone(&pool),
        });
        let part = Chunk::slice_of(&chunk, &chunk[10..20]).expect("inside the chunk");
        assert_eq!(&part[..], &chunk[10..20]);
        assert_eq!(part.as_ptr(), chunk[10..].as_ptr(), "shared, not copied");
        let elsewhere = vec![10u8; 10];
        assert!(Chunk::slice_of(&chunk, &elsewhere).is_none());

        drop(chunk);
        let pooled = || pool.lock().expect("pool").len();
        assert_eq!(pooled(), 0, "the slice still holds the buffer");
        drop(part);
        assert_eq!(pooled(), 1, "back in the pool for the next read");
    }

    #[test]
    fn a_small_file_that_settles_is_still_read_whole_and_hashed() {
        let (report, read) = verify_junk(70_000, Reading::UntilSettled);
        assert_eq!(read, 70_000);
        assert!(report.bundle().sha256.is_some());
    }
}
