//! The push-fed verifier: the one type every face drives.

use std::ops::ControlFlow;

use sha2::{Digest as _, Sha256 as Sha256Hasher};

use crate::content::{EntryDigest, Json};
use crate::decompress::{Decoder, Output, Stop, sniff};
use crate::digest::Sha256;
use crate::formats::{self, Archive, FileRecord};
use crate::layers;
use crate::layers::reader::LayerBudget;
use crate::limits::Limits;
use crate::report::{
    BundleFormat, BundleReport, Compression, Finding, FindingKind, ImageReport, Report,
};
use crate::tar_stream::{EntryHeader, EntryKind, TarSink, TarStream};

/// How a verification runs.
///
/// ```
/// use verify_core::{Options, Sha256};
/// let recorded = Sha256::of(b"the bundle");
/// let options = Options::new().with_expected_sha256(recorded).with_hash_file(false);
/// assert_eq!(options.expected_sha256(), Some(recorded));
/// assert!(!options.hash_file());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    expected_sha256: Option<Sha256>,
    hash_file: bool,
    limits: Limits,
    files: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            expected_sha256: None,
            hash_file: true,
            limits: Limits::default(),
            files: false,
        }
    }
}

impl Options {
    /// The defaults: no recorded SHA-256, the file hashed inside the
    /// verifier, [`Limits::default`], no file trees in the report.
    pub fn new() -> Self {
        Self::default()
    }

    /// The SHA-256 the sender recorded for the whole file, if known.
    pub fn expected_sha256(&self) -> Option<Sha256> {
        self.expected_sha256
    }

    /// Compare the whole file with the SHA-256 the sender recorded.
    pub fn with_expected_sha256(self, recorded: impl Into<Option<Sha256>>) -> Self {
        Self {
            expected_sha256: recorded.into(),
            ..self
        }
    }

    /// Whether the verifier hashes the whole file itself.
    pub fn hash_file(&self) -> bool {
        self.hash_file
    }

    /// Hash the whole file inside the verifier (the default). Faces that can
    /// use a second core turn this off, hash with [`FileHasher`] in parallel
    /// and pass the result to [`Verifier::finish_with_file_sha256`].
    pub fn with_hash_file(self, hash_file: bool) -> Self {
        Self { hash_file, ..self }
    }

    /// Bounds on sizes, counts and expansion; exceeding one ends the check
    /// with a `limit-exceeded` finding.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The limits, to change one in place (`--limit NAME=VALUE`).
    pub fn limits_mut(&mut self) -> &mut Limits {
        &mut self.limits
    }

    /// Runs under `limits` instead of the defaults.
    pub fn with_limits(self, limits: Limits) -> Self {
        Self { limits, ..self }
    }

    /// Whether the report carries each image's whole file tree.
    pub fn files(&self) -> bool {
        self.files
    }

    /// Put each image's whole file tree in the report (`images[].files`).
    /// The trees are built either way, for the layers' changes and the
    /// packages; keeping them costs memory in proportion to the files.
    pub fn with_files(self, files: bool) -> Self {
        Self { files, ..self }
    }
}

/// SHA-256 of a whole file, fed in pieces: the same hash the verifier uses
/// internally, for faces that run it on another thread or worker.
#[derive(Clone, Default)]
pub struct FileHasher(Sha256Hasher);

impl FileHasher {
    /// A hasher that has seen no bytes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the next piece of the file; pieces may have any size.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// The SHA-256 of every byte passed to [`update`](Self::update).
    pub fn finish(self) -> Sha256 {
        Sha256::from_bytes(self.0.finalize().into())
    }
}

/// Sees each regular file of the archive as the verifier reads it.
///
/// A face that imports while it verifies (the CLI's `load`) writes the bytes
/// somewhere out of sight as they pass, and makes them visible only once the
/// report says the bundle is good; so a bundle is read once, not twice. Only
/// files whose path was admitted and whose name can belong to an image
/// (`blobs/ALG/ENCODED`, and a docker-archive's `NAME.json`, `NAME.tar` and
/// `DIR/layer.tar`) are shown, so junk in a hostile bundle takes no room in
/// the importer before the verdict.
///
/// Each call answers whether the sink wants more. A sink that can no longer
/// take files (its disk is full, its daemon went away) returns
/// [`ControlFlow::Break`]: it is shown nothing more, and
/// [`Verifier::update`] answers [`Flow::SinkStopped`] so the caller can stop
/// reading instead of draining the bundle for nobody. The sink keeps its own
/// error and reports it afterwards; verification itself goes on for a caller
/// that keeps feeding.
pub trait EntrySink: Send {
    /// A file starts: its normalized path and its size from the tar header.
    fn begin(&mut self, path: &str, size: u64) -> ControlFlow<()>;
    /// The next piece of the file's bytes.
    fn data(&mut self, bytes: &[u8]) -> ControlFlow<()>;
    /// The file ended; this is the SHA-256 of the bytes shown.
    fn end(&mut self, sha256: &Sha256) -> ControlFlow<()>;
}

/// What the verifier wants after a piece of input, from [`Verifier::update`].
///
/// # When a verification is settled
///
/// Settled means the core has stopped reading the archive at a point already
/// fed, so no later byte can add a finding about the archive, and the verdict
/// is [`Verdict::Fail`]. That happens when the tar framing breaks where Go's
/// reader stops too (not a tar at all, a header checksum, a size or field Go
/// cannot read, a lone zero block, a malformed PAX record, a GNU sparse
/// entry, an extended header over `max_tar_metadata_bytes`, more than
/// `max_entries` entries), or when a compressed bundle's outer stream fails
/// (corrupt, or expanded past `max_expansion_ratio`): the core discards what
/// follows either way.
///
/// Failures that leave the archive readable do not settle it: a blob digest
/// mismatch, an unsafe path or a duplicate entry fail the bundle too, but
/// reading on still finds more, and the full report lists every problem.
///
/// What later bytes could still change is the whole-file hash and, for a
/// compressed bundle whose tar broke, a finding about the outer stream; a
/// caller that stops reading ends with [`Verifier::finish_settled`], whose
/// report leaves both out.
#[must_use = "a caller that ignores the flow reads input nobody needs"]
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Feed the next piece.
    Continue,
    /// The verdict is settled (a fail); stop reading and call
    /// [`Verifier::finish_settled`], or read on and call
    /// [`Verifier::finish`] for the report of the whole file.
    Settled,
    /// The [`EntrySink`] stopped; the verdict is not known yet. The caller
    /// stops reading and reports its sink's error; no report of this
    /// verification can be trusted without the rest of the input.
    SinkStopped,
}

impl Flow {
    /// Whether the verifier wants more input.
    pub fn wants_more(self) -> bool {
        self == Flow::Continue
    }
}

/// [`Verifier::finish_settled`] was called on a verification that has not
/// settled: a report of part of a bundle could pass a bundle never checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the verification has not settled: its report needs the whole input")]
#[non_exhaustive]
pub struct NotSettled;

/// Bytes needed to tell gzip, zstd and tar apart.
const MAGIC_LEN: usize = 4;

enum Input {
    /// Fewer than [`MAGIC_LEN`] bytes seen.
    Sniffing(Vec<u8>),
    Plain(Box<Reader>),
    Compressed {
        decoder: Box<Decoder<Reader>>,
        /// Why the stream stopped; it is fed nothing more.
        error: Option<Stop>,
    },
}

/// Verifies one bundle fed as a byte stream.
///
/// ```
/// use verify_core::{Options, Verifier};
/// let mut v = Verifier::new(Options::default());
/// // Not a tar: the verdict is settled by the first header block.
/// let flow = v.update(&[b'x'; 512]);
/// assert_eq!(flow, verify_core::Flow::Settled);
/// let report = v.finish();
/// assert_eq!(report.verdict(), verify_core::Verdict::Fail);
/// ```
pub struct Verifier {
    options: Options,
    file_hasher: Option<FileHasher>,
    fed: u64,
    compression: Compression,
    input: Input,
    /// Held until the tar reader is built.
    sink: Option<Box<dyn EntrySink>>,
}

impl Verifier {
    /// A verifier at the start of a stream, before any byte is fed.
    pub fn new(options: Options) -> Self {
        Self {
            file_hasher: options.hash_file.then(FileHasher::new),
            options,
            fed: 0,
            compression: Compression::None,
            input: Input::Sniffing(Vec::with_capacity(MAGIC_LEN)),
            sink: None,
        }
    }

    /// A verifier that also shows every admitted file to `sink`.
    pub fn with_sink(options: Options, sink: Box<dyn EntrySink>) -> Self {
        let mut verifier = Self::new(options);
        verifier.sink = Some(sink);
        verifier
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> u64 {
        self.fed
    }

    /// Feeds the next piece of the bundle; pieces may have any size.
    ///
    /// Bytes fed after the answer was [`Flow::Settled`] are still taken (a
    /// caller that wants the report of the whole file reads on), and the
    /// answer stays `Settled`.
    pub fn update(&mut self, chunk: &[u8]) -> Flow {
        self.take(chunk);
        if self.is_settled() {
            Flow::Settled
        } else if self.sink_stopped() {
            Flow::SinkStopped
        } else {
            Flow::Continue
        }
    }

    /// Whether the verdict is settled: see [`Flow`] for the rule.
    pub fn is_settled(&self) -> bool {
        match &self.input {
            Input::Sniffing(_) => false,
            Input::Plain(reader) => reader.tar.is_failed(),
            // A failed outer stream is fed nothing more and ends in a
            // finding at `finish`, whatever follows.
            Input::Compressed { decoder, error } => {
                error.is_some() || decoder.get_ref().tar.is_failed()
            }
        }
    }

    /// Whether the [`EntrySink`] asked to stop.
    fn sink_stopped(&self) -> bool {
        match &self.input {
            Input::Sniffing(_) => false,
            Input::Plain(reader) => reader.collector.sink_stopped,
            Input::Compressed { decoder, .. } => decoder.get_ref().collector.sink_stopped,
        }
    }

    fn take(&mut self, chunk: &[u8]) {
        if let Some(h) = &mut self.file_hasher {
            h.update(chunk);
        }
        self.fed += chunk.len() as u64;
        let mut rest = chunk;
        if let Input::Sniffing(head) = &mut self.input {
            let take = (MAGIC_LEN - head.len()).min(rest.len());
            head.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if head.len() < MAGIC_LEN {
                return;
            }
            let head = std::mem::take(head);
            self.start(&head);
        }
        self.feed(rest);
    }

    /// Chooses how to read the stream from its first bytes.
    fn start(&mut self, head: &[u8]) {
        self.compression = sniff(head);
        let reader = Reader::new(&self.options.limits, self.sink.take());
        self.input = match Decoder::new(self.compression, reader) {
            Ok(decoder) => Input::Compressed {
                decoder: Box::new(decoder),
                error: None,
            },
            Err(reader) => Input::Plain(Box::new(reader)),
        };
        self.feed(head);
    }

    fn feed(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match &mut self.input {
            Input::Sniffing(_) => {}
            Input::Plain(reader) => reader.push(bytes),
            Input::Compressed { decoder, error } => {
                // The tar stream may be at most this large so far: zeros
                // compress 1000-fold, and reading gigabytes of them per
                // megabyte fed would let a small file occupy the verifier.
                let limits = &self.options.limits;
                decoder.get_mut().allowed = self
                    .fed
                    .saturating_mul(limits.max_expansion_ratio)
                    .max(limits.ratio_floor_bytes);
                if error.is_none()
                    && let Err(stop) = decoder.write(bytes)
                {
                    *error = Some(stop);
                }
            }
        }
    }

    /// Ends the stream and produces the report, using the internal file hash.
    pub fn finish(mut self) -> Report {
        let sha = self.file_hasher.take().map(FileHasher::finish);
        self.conclude(sha, End::Whole)
    }

    /// Ends the stream with a whole-file hash computed elsewhere.
    pub fn finish_with_file_sha256(mut self, file_sha256: Sha256) -> Report {
        self.file_hasher = None;
        self.conclude(Some(file_sha256), End::Whole)
    }

    /// Ends a settled verification whose caller stopped reading: the report
    /// has every finding about the archive (the same whatever the chunking),
    /// a fail verdict, and `size` counts the bytes fed. The file was not read
    /// to its end, so its hash is not known: the report claims neither a
    /// match nor a mismatch, and a compressed stream cut by the caller is not
    /// reported as cut.
    pub fn finish_settled(mut self) -> Result<Report, NotSettled> {
        if !self.is_settled() {
            return Err(NotSettled);
        }
        self.file_hasher = None;
        Ok(self.conclude(None, End::Settled))
    }

    /// The report: the archive's findings in the order they were found,
    /// then what the bundle's formats say, then the whole file's digest.
    fn conclude(mut self, file_sha256: Option<Sha256>, end: End) -> Report {
        self.start_if_sniffing();
        let (mut reader, stream_failed) = self.end_input(end);
        // Where a broken compressed stream stops yielding tar bytes depends
        // on the decoder's buffering, so the tar reader's own account of the
        // cut would differ with chunk sizes; the stream's failure says it.
        match stream_failed {
            None => reader.tar.finish(&mut reader.collector),
            Some(finding) => reader.collector.findings.push(finding),
        }
        let entries = reader.tar.entries();
        let Collector {
            archive,
            mut findings,
            ..
        } = reader.collector;
        let not_a_bundle = findings.iter().any(|f| f.kind == FindingKind::NotABundle);
        let (format, images) = if not_a_bundle {
            (BundleFormat::Unknown, Vec::new())
        } else {
            read_formats(&archive, &self.options, &mut findings)
        };
        let expected = self.options.expected_sha256;
        let sha256_matches = compare_file_digest(expected, file_sha256, &mut findings);
        if expected.is_none() && !not_a_bundle {
            findings.push(Finding::new(
                FindingKind::NoRecordedDigest,
                "no recorded SHA-256 was given, so the file was not compared with the hash the \
                 sender recorded",
            ));
        }
        let findings = distinct(findings);
        Report::from_verifier(
            BundleReport {
                size: self.fed,
                sha256: file_sha256,
                expected_sha256: expected,
                sha256_matches,
                format,
                compression: self.compression,
                entries,
            },
            images,
            findings,
        )
    }

    /// An input that ended before its kind could be told is read for what
    /// it is: an empty file, or a few bytes of a tar.
    fn start_if_sniffing(&mut self) {
        let Input::Sniffing(head) = &mut self.input else {
            return;
        };
        let head = std::mem::take(head);
        if head.is_empty() {
            let reader = Reader::new(&self.options.limits, self.sink.take());
            self.input = Input::Plain(Box::new(reader));
        } else {
            self.start(&head);
        }
    }

    /// Takes the tar reader out of the input. A compressed stream is ended
    /// too; if it failed (or, read whole, does not end where it should) the
    /// finding that says so comes back with the reader.
    fn end_input(&mut self, end: End) -> (Reader, Option<Finding>) {
        let limits = &self.options.limits;
        match std::mem::replace(&mut self.input, Input::Sniffing(Vec::new())) {
            Input::Plain(reader) => (*reader, None),
            Input::Sniffing(_) => (Reader::new(limits, None), None),
            Input::Compressed { mut decoder, error } => {
                let stop = match (error, end) {
                    (Some(stop), _) => Some(stop),
                    // The caller stopped feeding; the stream did not end.
                    (None, End::Settled) => None,
                    (None, End::Whole) => decoder.finish().err(),
                };
                let reader = std::mem::replace(decoder.get_mut(), Reader::new(limits, None));
                let finding = stop.map(|stop| stream_failure(stop, self.compression));
                (reader, finding)
            }
        }
    }
}

/// The finding for a compressed bundle whose stream stopped early.
fn stream_failure(stop: Stop, compression: Compression) -> Finding {
    match stop {
        Stop::Limit {
            limit: Some(limit),
            why,
        } => Finding::new(FindingKind::LimitExceeded, why).limit(limit),
        // A zstd window over the decoder's cap is no `Limits` field: the
        // bundle reads as cut where it stopped.
        Stop::Limit { limit: None, why } | Stop::Corrupt(why) => Finding::new(
            FindingKind::Truncated,
            format!(
                "the bundle's {} stream is incomplete or corrupt ({why}); nothing after that \
                 point could be read",
                compression_name(compression)
            ),
        ),
    }
}

/// The bundle's format and images, read from its files; their findings
/// join `findings`.
fn read_formats(
    archive: &Archive,
    options: &Options,
    findings: &mut Vec<Finding>,
) -> (BundleFormat, Vec<ImageReport>) {
    let truncated = findings.iter().any(|f| f.kind == FindingKind::Truncated);
    let resolved = formats::resolve(archive, &options.limits);
    // A cut bundle lacks its manifests because it was cut; saying it is not
    // a bundle would send the reader the wrong way.
    findings.extend(
        resolved
            .findings
            .into_iter()
            .filter(|f| !(truncated && f.kind == FindingKind::NotABundle)),
    );
    let mut images = resolved.images;
    findings.extend(layers::examine(archive, &mut images, options.files));
    (resolved.format, images)
}

/// Whether the whole file's SHA-256 is the one the sender recorded, when
/// both are known. A mismatch is the first finding: the file is not the
/// one that was sent, whatever else is wrong with it.
fn compare_file_digest(
    expected: Option<Sha256>,
    found: Option<Sha256>,
    findings: &mut Vec<Finding>,
) -> Option<bool> {
    let (expected, found) = (expected?, found?);
    if expected != found {
        findings.insert(
            0,
            Finding::new(
                FindingKind::FileDigestMismatch,
                "the file's SHA-256 differs from the one the sender recorded: it is not the \
                 file that was sent",
            )
            .expected_found(expected, found),
        );
    }
    Some(expected == found)
}

/// Each finding once, where it was first found.
fn distinct(findings: Vec<Finding>) -> Vec<Finding> {
    let mut seen = std::collections::HashSet::new();
    findings
        .into_iter()
        .filter(|f| seen.insert(f.clone()))
        .collect()
}

/// How the input ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The caller fed the whole file.
    Whole,
    /// The caller stopped once the verdict was settled.
    Settled,
}

fn compression_name(c: Compression) -> &'static str {
    match c {
        Compression::None => "tar",
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
    }
}

/// The tar reader and what it collects, as one writable sink so a
/// decompressor can sit in front of it.
struct Reader {
    tar: TarStream,
    collector: Collector,
    /// Tar bytes accepted so far and how many may be (for compressed input).
    written: u64,
    allowed: u64,
}

impl Reader {
    fn new(limits: &Limits, sink: Option<Box<dyn EntrySink>>) -> Self {
        Self {
            tar: TarStream::new(limits),
            collector: Collector {
                limits: limits.clone(),
                archive: Archive::new(limits),
                findings: Vec::new(),
                current: None,
                json_used: 0,
                layer_budget: LayerBudget::of(limits),
                sink,
                sink_stopped: false,
            },
            written: 0,
            allowed: u64::MAX,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.tar.update(bytes, &mut self.collector);
    }
}

impl Output for Reader {
    fn accept(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        self.written += bytes.len() as u64;
        if self.written > self.allowed {
            return Err(Stop::Limit {
                limit: Some(crate::limits::LimitName::MaxExpansionRatio),
                why: format!(
                    "the bundle expands more than {}-fold when decompressed; reading stopped",
                    self.collector.limits.max_expansion_ratio
                ),
            });
        }
        self.push(bytes);
        Ok(())
    }
}

/// The entry being read.
struct Current {
    path: String,
    offset: u64,
    digest: EntryDigest,
    /// Whether the sink sees this file (it may be part of an image).
    forwarded: bool,
}

/// Receives tar events: checks paths, digests files, keeps the results.
struct Collector {
    limits: Limits,
    archive: Archive,
    findings: Vec<Finding>,
    current: Option<Current>,
    json_used: u64,
    /// What the layer readers may still keep, bundle-wide.
    layer_budget: LayerBudget,
    sink: Option<Box<dyn EntrySink>>,
    /// The sink said it wants nothing more; it has been dropped.
    sink_stopped: bool,
}

impl Collector {
    /// Shows the sink one event if it still wants them and `forwarded` says
    /// the file is one it sees.
    fn show(&mut self, forwarded: bool, event: impl FnOnce(&mut dyn EntrySink) -> ControlFlow<()>) {
        let Some(sink) = self.sink.as_mut().filter(|_| forwarded) else {
            return;
        };
        if event(sink.as_mut()).is_break() {
            // Dropping it lets a sink that holds a channel or a connection
            // close it now rather than at the end of the bundle.
            self.sink = None;
            self.sink_stopped = true;
        }
    }
}

impl TarSink for Collector {
    fn entry(&mut self, header: &EntryHeader) {
        let admitted = self.archive.ns.admit(header);
        self.findings.extend(admitted.findings);
        self.current = match (header.kind, admitted.path) {
            (EntryKind::File, Some(path)) => {
                let forwarded = crate::formats::may_be_image_part(&path);
                self.show(forwarded, |sink| sink.begin(&path, header.size));
                let budget = self.limits.max_json_bytes.min(
                    self.limits
                        .max_json_total_bytes
                        .saturating_sub(self.json_used),
                );
                // Only a file that can be part of an image can be a layer.
                let layer_budget = forwarded.then_some(self.layer_budget);
                Some(Current {
                    path,
                    offset: header.header_offset,
                    digest: EntryDigest::new(header.size, Some(budget), layer_budget, &self.limits),
                    forwarded,
                })
            }
            _ => None,
        };
    }

    fn data(&mut self, bytes: &[u8]) {
        if let Some(current) = &mut self.current {
            current.digest.update(bytes);
            let forwarded = current.forwarded;
            self.show(forwarded, |sink| sink.data(bytes));
        }
    }

    fn entry_end(&mut self) {
        let Some(current) = self.current.take() else {
            return;
        };
        let content = current.digest.finish();
        self.show(current.forwarded, |sink| sink.end(&content.sha256));
        if let Json::Kept(bytes) = &content.json {
            self.json_used += bytes.len() as u64;
        }
        if let Some(layer) = &content.layer {
            self.layer_budget = self.layer_budget.after(layer);
        }
        if let Some(named) = Sha256::from_blob_path(&current.path)
            && named != content.sha256
        {
            self.findings.push(
                Finding::new(
                    FindingKind::BlobDigestMismatch,
                    "the blob's content does not match the digest in its name",
                )
                .entry(current.path.clone())
                .at(current.offset)
                .expected_found(
                    crate::Digest::from(named),
                    crate::Digest::from(content.sha256),
                ),
            );
        }
        self.archive.files.insert(
            current.path,
            FileRecord {
                offset: current.offset,
                content,
            },
        );
    }

    fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;
    use crate::report::Verdict;

    fn junk() -> Vec<u8> {
        (0..64 << 10).map(|i| (i % 251) as u8 | 1).collect()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).expect("in-memory gzip");
        e.finish().expect("in-memory gzip")
    }

    fn options(expected: Option<Sha256>) -> Options {
        Options {
            expected_sha256: expected,
            ..Options::default()
        }
    }

    #[test]
    fn a_file_that_is_not_a_tar_settles_on_its_first_block_and_stays_settled() {
        let bytes = junk();
        let wrong = Sha256::from_bytes([7; 32]);
        let mut v = Verifier::new(options(Some(wrong)));
        assert_eq!(v.update(&bytes[..511]), Flow::Continue);
        assert!(!v.is_settled());
        assert_eq!(v.update(&bytes[511..512]), Flow::Settled);
        assert_eq!(v.update(&bytes[512..]), Flow::Settled);
        assert_eq!(v.update(&[]), Flow::Settled);
        let early = v.finish_settled().expect("settled");
        assert_eq!(early.verdict(), Verdict::Fail);
        assert!(early.has(FindingKind::NotABundle));
        // The hash of a file not read to its end is not claimed either way.
        assert_eq!(
            (early.bundle().sha256, early.bundle().sha256_matches),
            (None, None)
        );
        assert!(!early.has(FindingKind::FileDigestMismatch));

        // Read to the end, the same verifier says what it always said.
        let mut v = Verifier::new(options(Some(wrong)));
        let _ = v.update(&bytes);
        let full = v.finish();
        assert!(full.has(FindingKind::FileDigestMismatch));
        assert_eq!(full.bundle().sha256_matches, Some(false));
    }

    #[test]
    fn a_compressed_bundle_settles_when_its_tar_or_its_stream_breaks() {
        // The tar inside breaks: settled, and the stream the caller cut is
        // not reported as cut.
        let mut compressed = gzip(&junk());
        let mut v = Verifier::new(Options::default());
        let flows: Vec<Flow> = compressed.chunks(100).map(|c| v.update(c)).collect();
        assert_eq!(flows.last(), Some(&Flow::Settled));
        let mut cut = Verifier::new(Options::default());
        for piece in compressed.chunks(100) {
            if !cut.update(piece).wants_more() {
                break;
            }
        }
        assert!(cut.bytes_fed() < compressed.len() as u64);
        let early = cut.finish_settled().expect("settled");
        assert!(early.has(FindingKind::NotABundle));
        assert!(!early.has(FindingKind::Truncated), "{:?}", early.findings());

        // The stream itself breaks: settled too, whatever follows.
        compressed.truncate(10);
        compressed.extend_from_slice(&[0xff; 64]);
        let mut v = Verifier::new(Options::default());
        assert_eq!(v.update(&compressed), Flow::Settled);
        assert_eq!(v.update(&[0; 4096]), Flow::Settled);
        let early = v.finish_settled().expect("settled");
        assert!(early.has(FindingKind::Truncated), "{:?}", early.findings());
    }

    #[test]
    fn an_unsettled_verification_gives_no_early_report() {
        let mut v = Verifier::new(Options::default());
        assert_eq!(v.update(&[0; 100]), Flow::Continue);
        assert_eq!(v.finish_settled().err(), Some(NotSettled));
        // Nothing fed is not settled either: an empty file's verdict comes
        // from `finish`.
        assert!(!Verifier::new(Options::default()).is_settled());
    }
}
