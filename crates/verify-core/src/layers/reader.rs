//! One blob's decompressed bytes read as a layer tar, the way Go's
//! archive/tar reads it for Docker's and containerd's extractors.
//!
//! The outer [`TarStream`] does the header work; this sink turns its entries
//! into [`LayerEntry`] records and notes what an extractor would refuse
//! (escaping paths, entry types it cannot create) or an approver should see
//! (setuid files, devices, world-writable paths). Findings carry offsets
//! inside the uncompressed layer; the blob's digest and image are added once
//! the archive is resolved and the blob is known to be a layer.

use crate::contents::FileType;
use crate::limits::Limits;
use crate::packages::{self, Capture, Captured};
use crate::report::{Finding, FindingKind};
use crate::tar_stream::{EntryHeader, EntryKind, SparseKind, TarSink, TarStream};

use super::LayerEntry;

/// Warnings of one kind listed per layer before the rest are only counted:
/// a hostile layer of a million setuid files must not make a million
/// findings.
const LISTED_PER_KIND: usize = 100;

/// What the layers read before this one left of the bundle-wide bounds
/// on what layer readers keep: every layer's paths stay until the trees
/// are built, and its captured files until the packages are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LayerBudget {
    /// Of [`Limits::max_layer_names_total_bytes`].
    pub names_bytes: u64,
    /// Of [`Limits::max_captured_bytes`].
    pub captured_bytes: u64,
}

impl LayerBudget {
    /// The whole of both bounds, before any layer.
    pub fn of(limits: &Limits) -> Self {
        Self {
            names_bytes: limits.max_layer_names_total_bytes,
            captured_bytes: limits.max_captured_bytes,
        }
    }

    /// What is left once `read` has kept what it kept.
    pub fn after(self, read: &LayerRead) -> Self {
        Self {
            names_bytes: self.names_bytes.saturating_sub(read.names_bytes),
            captured_bytes: self.captured_bytes.saturating_sub(read.captured_bytes),
        }
    }
}

/// What reading one blob as a layer tar left behind.
#[derive(Debug, Clone, Default)]
pub(crate) struct LayerRead {
    /// Entries in tar order, paths cleaned; escaping or unreadable ones are
    /// not here (they are findings).
    pub entries: Vec<LayerEntry>,
    /// Findings with `entry` and `offset` inside the layer.
    pub findings: Vec<Finding>,
    /// The tar could not be read to its end: the entries stop early.
    pub broken: bool,
    /// Files the package catalogers asked for: the index of the entry in
    /// `entries`, and what was kept of its bytes.
    pub captures: Vec<(usize, Captured)>,
    /// Bytes held in `captures`, against the bundle's capture budget.
    pub captured_bytes: u64,
    /// Bytes of paths and link targets held in `entries`.
    pub names_bytes: u64,
}

/// Reads a blob as a layer tar while it is decompressed.
#[derive(Debug)]
pub(crate) struct LayerReader {
    tar: TarStream,
    sink: Sink,
}

#[derive(Debug)]
struct Sink {
    read: LayerRead,
    max_name_bytes: usize,
    /// Bytes the sparse entries expand to, beyond what the stream holds.
    sparse_bytes: u64,
    sparse_cap: u64,
    /// Path bytes this layer may still keep, of the bundle's budget.
    names_budget: u64,
    warned: [usize; 3],
    /// The file being captured, with its entry index.
    capture: Option<(usize, Capture)>,
    /// Bytes still allowed in captures, shared by the whole bundle.
    capture_budget: u64,
    /// Set once the stream is known not to be a layer at all (its first
    /// block is not a tar header): nothing more is kept.
    not_a_tar: bool,
}

impl LayerReader {
    /// Starts on a blob of `stored_size` bytes (compressed size, for the
    /// expansion limit on sparse files).
    /// `budget` is what the bundle's earlier layers left of the bounds on
    /// what readers keep.
    pub fn new(stored_size: u64, limits: &Limits, budget: LayerBudget) -> Self {
        Self {
            tar: TarStream::for_layer(limits),
            sink: Sink {
                read: LayerRead::default(),
                max_name_bytes: limits.max_name_bytes,
                sparse_bytes: 0,
                sparse_cap: stored_size
                    .saturating_mul(limits.max_expansion_ratio)
                    .max(limits.ratio_floor_bytes)
                    .min(limits.max_layer_uncompressed_bytes),
                names_budget: budget.names_bytes,
                warned: [0; 3],
                capture: None,
                capture_budget: budget.captured_bytes,
                not_a_tar: false,
            },
        }
    }

    /// Whether anything more is worth feeding: false once the stream is not
    /// a tar, or broke.
    pub fn wants_more(&self) -> bool {
        !self.sink.not_a_tar && !self.tar.is_failed()
    }

    /// Feeds the next decompressed bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        if self.wants_more() {
            self.tar.update(bytes, &mut self.sink);
        }
    }

    /// Ends the stream. `None` when it was not a tar at all (a config, a
    /// manifest, junk): whether that matters is decided once the archive
    /// says what the blob is.
    pub fn finish(mut self) -> Option<LayerRead> {
        // Go's reader takes the end of the stream at a block boundary as the
        // end of the archive, marker or not, and never looks past a marker.
        if !self.tar.at_block_boundary() {
            self.tar.finish(&mut self.sink);
        }
        if self.sink.not_a_tar {
            return None;
        }
        let mut read = self.sink.read;
        read.broken |= self.tar.is_failed();
        if let Some(finding) = duplicate(&read.entries) {
            read.findings.push(finding);
        }
        for (kind, listed) in WARNINGS.iter().zip(self.sink.warned) {
            if listed > LISTED_PER_KIND {
                read.findings.push(Finding::new(
                    *kind,
                    format!(
                        "{} more entries of this layer are {kind} as well; the first \
                         {LISTED_PER_KIND} are listed",
                        listed - LISTED_PER_KIND
                    ),
                ));
            }
        }
        Some(read)
    }
}

/// The first path a layer writes twice, other than a directory written
/// again as a directory. Extractors apply the later entry over the earlier
/// one, so what a reviewer reads first is not what is installed.
fn duplicate(entries: &[LayerEntry]) -> Option<Finding> {
    let mut order: Vec<u32> = (0..entries.len() as u32).collect();
    order.sort_by(|&a, &b| {
        entries[a as usize]
            .path
            .cmp(&entries[b as usize].path)
            .then(a.cmp(&b))
    });
    let first = order.windows(2).find_map(|pair| {
        let (a, b) = (&entries[pair[0] as usize], &entries[pair[1] as usize]);
        let both_dirs = a.file_type == FileType::Dir && b.file_type == FileType::Dir;
        (a.path == b.path && !both_dirs).then_some(b)
    })?;
    Some(
        Finding::new(
            FindingKind::LayerTarInvalid,
            "the layer writes this path twice; the later entry replaces the earlier one, so \
             a listing shows content that is not what gets installed",
        )
        .entry(first.path.to_string()),
    )
}

/// The warning kinds counted per layer, in `Sink::warned` order.
const WARNINGS: [FindingKind; 3] = [
    FindingKind::SetuidFile,
    FindingKind::DeviceFile,
    FindingKind::WorldWritable,
];

impl TarSink for Sink {
    fn entry(&mut self, header: &EntryHeader) {
        if self.read.broken {
            return;
        }
        let name = match &header.sparse {
            Some(SparseKind::Pax {
                name: Some(name), ..
            }) => name.as_slice(),
            _ => header.name.as_slice(),
        };
        let shown = String::from_utf8_lossy(name).into_owned();
        let at = header.header_offset;
        if name.len() > self.max_name_bytes {
            return self.fail(
                Finding::new(
                    FindingKind::LimitExceeded,
                    format!(
                        "an entry name is {} bytes long; the longest a path can be is {}",
                        name.len(),
                        self.max_name_bytes
                    ),
                )
                .entry(truncated(&shown))
                .at(at)
                .limit(crate::limits::LimitName::MaxNameBytes),
            );
        }
        let Some(file_type) = self.file_type(header, &shown) else {
            return;
        };
        let Some(path) = clean(name) else {
            return self.escape(&shown, "its name", at);
        };
        if path.is_empty() {
            // The root itself: extractors set its metadata at most; it is
            // not a path of the tree.
            return;
        }
        let link = match (file_type, &header.link) {
            (FileType::Hardlink, Some(target)) => match clean(target) {
                Some(target) if !target.is_empty() => Some(target),
                _ => {
                    return self.escape(
                        &shown,
                        &format!("its hard-link target `{}`", String::from_utf8_lossy(target)),
                        at,
                    );
                }
            },
            (FileType::Symlink, Some(target)) => Some(
                String::from_utf8_lossy(target)
                    .into_owned()
                    .into_boxed_str(),
            ),
            _ => None,
        };
        let size = match (&header.sparse, file_type) {
            (Some(SparseKind::Pax { real_size, .. }), _) => {
                match self.sparse_size(*real_size, header.size, &shown, at) {
                    Some(size) => size,
                    None => return,
                }
            }
            (_, FileType::File) => header.size,
            _ => 0,
        };
        let name_cost = (path.len() + link.as_ref().map_or(0, |l| l.len())) as u64;
        if name_cost > self.names_budget {
            return self.fail(
                Finding::new(
                    FindingKind::LimitExceeded,
                    format!(
                        "the layers' paths exceed the bytes kept for the file trees \
                         (max_layer_names_total_bytes, {} bytes were left); the trees are not \
                         built past this entry",
                        self.names_budget
                    ),
                )
                .entry(shown)
                .at(at)
                .limit(crate::limits::LimitName::MaxLayerNamesTotalBytes),
            );
        }
        self.names_budget -= name_cost;
        self.read.names_bytes += name_cost;
        self.warn(file_type, header.mode, &shown, at);
        // Sparse files' data is not handed on; what they hold is no package
        // database anyway.
        if file_type == FileType::File && header.sparse.is_none() {
            self.start_capture(&path, header.size, header.mode);
        }
        self.read.entries.push(LayerEntry {
            path,
            file_type,
            size,
            mode: header.mode,
            uid: header.uid,
            gid: header.gid,
            link,
        });
    }

    fn data(&mut self, bytes: &[u8]) {
        if let Some((_, capture)) = &mut self.capture
            && capture.wants_more()
        {
            let before = capture.held_bytes();
            capture.update(bytes);
            let grown = capture.held_bytes().saturating_sub(before) as u64;
            self.capture_budget = self.capture_budget.saturating_sub(grown);
        }
    }

    fn entry_end(&mut self) {
        if let Some((index, capture)) = self.capture.take() {
            let held = capture.held_bytes() as u64;
            self.read.captured_bytes += held;
            self.read.captures.push((index, capture.finish()));
        }
    }

    fn finding(&mut self, finding: Finding) {
        if self.read.broken {
            return;
        }
        match finding.kind {
            // The first block is not a tar header: this blob is not a layer
            // (or is one that is not a tar, which the resolver reports).
            FindingKind::NotABundle => self.not_a_tar = true,
            // Go's reader stops at the marker and extractors drain the rest.
            FindingKind::TrailingData => {}
            FindingKind::LimitExceeded => self.fail(finding),
            _ => {
                let mut finding = finding;
                finding.kind = FindingKind::LayerTarInvalid;
                finding.severity = FindingKind::LayerTarInvalid.severity();
                self.fail(finding);
            }
        }
    }
}

impl Sink {
    /// Starts keeping the bytes of a file the catalogers want, within the
    /// bundle's budget; past it the file is noted as not read.
    fn start_capture(&mut self, path: &str, size: u64, mode: u32) {
        let Some(want) = packages::wanted(path, size, mode) else {
            return;
        };
        let index = self.read.entries.len();
        let fits = match want {
            packages::Want::Whole { max_bytes } => {
                (max_bytes as u64).min(size) <= self.capture_budget
            }
            _ => true,
        };
        if fits {
            self.capture = Some((index, want.start()));
        } else {
            self.read.captures.push((
                index,
                Captured::Whole {
                    bytes: Vec::new(),
                    complete: false,
                },
            ));
        }
    }

    /// A finding after which nothing more of the layer is kept.
    fn fail(&mut self, finding: Finding) {
        self.read.findings.push(finding);
        self.read.broken = true;
    }

    fn escape(&mut self, shown: &str, what: &str, at: u64) {
        self.read.findings.push(
            Finding::new(
                FindingKind::LayerUnsafePath,
                format!(
                    "{what} leaves the image root through `..`: Docker refuses the layer, \
                     containerd clamps the path, so importers would disagree"
                ),
            )
            .entry(shown)
            .at(at),
        );
    }

    /// The tree's type for an entry, or `None` (with a finding) for types
    /// Docker's and containerd's extractors refuse.
    fn file_type(&mut self, header: &EntryHeader, shown: &str) -> Option<FileType> {
        let refused = |what: String| {
            Finding::new(
                FindingKind::LayerTarInvalid,
                format!("{what}; Docker's extractor refuses it and stops the load"),
            )
            .entry(shown)
            .at(header.header_offset)
        };
        let file_type = match header.kind {
            EntryKind::File if header.type_byte == b'7' => {
                self.fail(refused(format!(
                    "entry type {} has no place in a layer",
                    type_name(b'7')
                )));
                return None;
            }
            EntryKind::File => FileType::File,
            EntryKind::Dir => FileType::Dir,
            EntryKind::Symlink => FileType::Symlink,
            EntryKind::Hardlink => FileType::Hardlink,
            EntryKind::Sparse => match header.sparse {
                Some(SparseKind::Pax { .. }) => FileType::File,
                _ => {
                    self.fail(refused(
                        "an old GNU sparse entry (type `S`) keeps its type through Go's \
                         reader"
                            .into(),
                    ));
                    return None;
                }
            },
            EntryKind::Other(b'3') => FileType::CharDevice,
            EntryKind::Other(b'4') => FileType::BlockDevice,
            EntryKind::Other(b'6') => FileType::Fifo,
            EntryKind::Other(other) => {
                self.fail(refused(format!(
                    "entry type {} has no place in a layer",
                    type_name(other)
                )));
                return None;
            }
        };
        if matches!(file_type, FileType::Symlink | FileType::Hardlink) && header.link.is_none() {
            self.fail(refused("a link without a target".into()));
            return None;
        }
        Some(file_type)
    }

    /// The size Go expands a PAX sparse file to, within the expansion limit.
    fn sparse_size(&mut self, real: Option<i64>, stored: u64, shown: &str, at: u64) -> Option<u64> {
        let Some(real) = real.and_then(|r| u64::try_from(r).ok()) else {
            self.fail(
                Finding::new(
                    FindingKind::LayerTarInvalid,
                    "a sparse file states no size Go can read (GNU.sparse.realsize or \
                     GNU.sparse.size)",
                )
                .entry(shown)
                .at(at),
            );
            return None;
        };
        self.sparse_bytes = self
            .sparse_bytes
            .saturating_add(real.saturating_sub(stored));
        if self.sparse_bytes > self.sparse_cap {
            self.fail(
                Finding::new(
                    FindingKind::LimitExceeded,
                    format!(
                        "sparse files expand to {} bytes beyond what the layer stores; \
                         an extractor would write them out in full (more than {} bytes)",
                        self.sparse_bytes, self.sparse_cap
                    ),
                )
                .entry(shown)
                .at(at)
                .limit(crate::limits::LimitName::MaxExpansionRatio),
            );
            return None;
        }
        Some(real)
    }

    /// Warnings for what an approver should see; never failing alone.
    fn warn(&mut self, file_type: FileType, mode: u32, shown: &str, at: u64) {
        let mut note = |index: usize, message: String| {
            self.warned[index] += 1;
            if self.warned[index] <= LISTED_PER_KIND {
                self.read
                    .findings
                    .push(Finding::new(WARNINGS[index], message).entry(shown).at(at));
            }
        };
        let is_dir = file_type == FileType::Dir;
        if !is_dir && file_type != FileType::Symlink && mode & 0o6000 != 0 {
            let bits = match mode & 0o6000 {
                0o6000 => "setuid and setgid",
                0o4000 => "setuid",
                _ => "setgid",
            };
            note(
                0,
                format!("{bits} (mode {mode:04o}): runs with its owner's rights"),
            );
        }
        if matches!(file_type, FileType::CharDevice | FileType::BlockDevice) {
            note(
                1,
                "a device node: gives access to hardware when the container may use it".into(),
            );
        }
        // A device node is listed as one already; `/dev/null` is 0666 by
        // design.
        let plain = !matches!(
            file_type,
            FileType::Symlink | FileType::CharDevice | FileType::BlockDevice
        );
        if plain && mode & 0o002 != 0 && mode & 0o1000 == 0 {
            let what = if is_dir {
                "a directory anyone can write, without the sticky bit"
            } else {
                "a file anyone can write"
            };
            note(2, format!("{what} (mode {mode:04o})"));
        }
    }
}

/// A path cleaned as Docker cleans it before extracting (`filepath.Clean`
/// of the name, then joined under the root): `None` when `..` climbs above
/// the root of a relative name. A leading `/` makes the name rooted, and Go
/// drops `..` at a root, so `/../etc` is `etc`. The root itself is `""`.
pub(crate) fn clean(name: &[u8]) -> Option<Box<str>> {
    let rooted = name.first() == Some(&b'/');
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in name.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                if parts.pop().is_none() && !rooted {
                    return None;
                }
            }
            _ => parts.push(part),
        }
    }
    let joined = parts.join(&b'/');
    Some(
        String::from_utf8_lossy(&joined)
            .into_owned()
            .into_boxed_str(),
    )
}

fn type_name(byte: u8) -> String {
    match byte {
        b'D' => "`D` (a GNU incremental directory dump)".into(),
        b'7' => "`7` (contiguous file)".into(),
        b'V' => "`V` (a GNU volume label)".into(),
        b'M' => "`M` (a GNU multi-volume continuation)".into(),
        b if b.is_ascii_graphic() => format!("`{}`", b as char),
        b => format!("0x{b:02x}"),
    }
}

/// A name for a message, cut to a length people can read.
fn truncated(name: &str) -> String {
    match name.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &name[..i]),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use test_support::images::layer_tar;

    /// The size of the end-of-archive marker `layer_tar` writes.
    const END: usize = 1024;

    fn read(bytes: &[u8], chunk: usize) -> Option<LayerRead> {
        let mut r = LayerReader::new(
            bytes.len() as u64,
            &Limits::default(),
            LayerBudget::of(&Limits::default()),
        );
        for piece in bytes.chunks(chunk.max(1)) {
            r.update(piece);
        }
        r.finish()
    }

    fn kinds(read: &LayerRead) -> Vec<FindingKind> {
        read.findings.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn paths_are_cleaned_as_docker_cleans_them() {
        assert_eq!(clean(b"./etc//passwd").as_deref(), Some("etc/passwd"));
        assert_eq!(clean(b"/usr/bin/../lib/").as_deref(), Some("usr/lib"));
        assert_eq!(clean(b"/../../etc").as_deref(), Some("etc"));
        assert_eq!(clean(b"./").as_deref(), Some(""));
        assert_eq!(clean(b"a/../../b"), None);
        assert_eq!(clean(b"../x"), None);
    }

    #[test]
    fn a_plain_layer_gives_its_entries_for_any_chunking() {
        let bytes = layer_tar(&[
            ("./", b'5', 0o755, b"", ""),
            ("etc/", b'5', 0o755, b"", ""),
            ("etc/hostname", b'0', 0o644, b"airlock\n", ""),
            ("etc/link", b'2', 0o777, b"", "/etc/hostname"),
            ("etc/hard", b'1', 0o644, b"", "./etc/hostname"),
        ]);
        let whole = read(&bytes, bytes.len()).expect("a tar");
        let paths: Vec<&str> = whole.entries.iter().map(|e| &*e.path).collect();
        assert_eq!(paths, ["etc", "etc/hostname", "etc/link", "etc/hard"]);
        assert_eq!(whole.entries[1].size, 8);
        assert_eq!(whole.entries[2].link.as_deref(), Some("/etc/hostname"));
        assert_eq!(whole.entries[3].link.as_deref(), Some("etc/hostname"));
        assert!(whole.findings.is_empty(), "{:?}", whole.findings);
        for chunk in [1, 511, 513, 4099] {
            let again = read(&bytes, chunk).expect("a tar");
            assert_eq!(again.entries, whole.entries, "chunk {chunk}");
        }
    }

    #[test]
    fn escaping_names_and_hard_links_are_unsafe_but_symlinks_are_not() {
        let bytes = layer_tar(&[
            ("../../../../tmp/x", b'0', 0o644, b"x", ""),
            ("/../etc/ok", b'0', 0o644, b"", ""),
            ("h", b'1', 0o644, b"", "../../etc/shadow"),
            ("s", b'2', 0o777, b"", "../../../../etc/shadow"),
        ]);
        let read = read(&bytes, 700).expect("a tar");
        assert_eq!(
            kinds(&read),
            [FindingKind::LayerUnsafePath, FindingKind::LayerUnsafePath]
        );
        assert_eq!(read.findings[0].entry.as_deref(), Some("../../../../tmp/x"));
        assert_eq!(read.findings[0].offset, Some(0));
        assert_eq!(read.findings[1].offset, Some(1536));
        let paths: Vec<&str> = read.entries.iter().map(|e| &*e.path).collect();
        assert_eq!(paths, ["etc/ok", "s"]);
    }

    #[test]
    fn risky_entries_are_warnings() {
        let bytes = layer_tar(&[
            ("usr/bin/su", b'0', 0o4755, b"", ""),
            ("dev/sda", b'4', 0o660, b"", ""),
            ("dev/null", b'3', 0o666, b"", ""),
            ("tmp", b'5', 0o1777, b"", ""),
            ("srv/drop", b'5', 0o777, b"", ""),
            ("var/mail", b'5', 0o2775, b"", ""),
            ("bin/sh", b'2', 0o777, b"", "dash"),
        ]);
        let read = read(&bytes, 512).expect("a tar");
        assert_eq!(
            kinds(&read),
            [
                FindingKind::SetuidFile,
                FindingKind::DeviceFile,
                FindingKind::DeviceFile,
                FindingKind::WorldWritable
            ]
        );
        assert!(
            read.findings
                .iter()
                .all(|f| f.severity == crate::Severity::Warning)
        );
        assert_eq!(read.findings[3].entry.as_deref(), Some("srv/drop"));
    }

    #[test]
    fn warnings_past_the_listed_number_are_counted() {
        let names: Vec<String> = (0..LISTED_PER_KIND + 5)
            .map(|i| format!("bin/s{i}"))
            .collect();
        let rows: Vec<(&str, u8, u32, &[u8], &str)> = names
            .iter()
            .map(|n| (n.as_str(), b'0', 0o4755, &b""[..], ""))
            .collect();
        let read = read(&layer_tar(&rows), 4096).expect("a tar");
        assert_eq!(read.findings.len(), LISTED_PER_KIND + 1);
        let last = read.findings.last().expect("a summary");
        assert!(
            last.message.starts_with("5 more entries"),
            "{}",
            last.message
        );
        assert_eq!(read.entries.len(), LISTED_PER_KIND + 5);
    }

    #[test]
    fn types_docker_cannot_extract_are_invalid() {
        for (kind, named) in [(b'D', "`D`"), (b'7', "`7`"), (b'V', "`V`")] {
            let bytes = layer_tar(&[("a", b'0', 0o644, b"", ""), ("x", kind, 0o644, b"", "")]);
            let read = read(&bytes, 512).expect("a tar");
            assert_eq!(
                kinds(&read),
                [FindingKind::LayerTarInvalid],
                "{}",
                kind as char
            );
            assert!(
                read.findings[0].message.contains(named),
                "{}",
                read.findings[0].message
            );
            assert!(read.broken);
        }
    }

    #[test]
    fn duplicate_paths_are_invalid_but_repeated_directories_are_not() {
        let ok = layer_tar(&[("d/", b'5', 0o755, b"", ""), ("./d", b'5', 0o700, b"", "")]);
        assert!(read(&ok, 512).expect("a tar").findings.is_empty());
        let twice = layer_tar(&[
            ("etc/passwd", b'0', 0o644, b"root", ""),
            ("x", b'0', 0o644, b"", ""),
            ("./etc/passwd", b'0', 0o644, b"evil", ""),
        ]);
        let read = read(&twice, 512).expect("a tar");
        assert_eq!(kinds(&read), [FindingKind::LayerTarInvalid]);
        assert_eq!(read.findings[0].entry.as_deref(), Some("etc/passwd"));
    }

    #[test]
    fn ends_as_go_reads_them() {
        let whole = layer_tar(&[("a", b'0', 0o644, b"hello", "")]);
        let body = &whole[..whole.len() - END];
        // No end marker at a block boundary, or junk after it: Go reads on
        // happily.
        let read_ok = |bytes: &[u8]| read(bytes, 100).expect("a tar");
        assert!(read_ok(body).findings.is_empty());
        let mut trailing = whole.clone();
        trailing.extend_from_slice(b"junk");
        assert!(read_ok(&trailing).findings.is_empty());
        assert!(read_ok(&[]).entries.is_empty());
        // Cut inside the data: truncated, at the cut.
        let cut = &body[..600];
        let broken = read_ok(cut);
        assert_eq!(kinds(&broken), [FindingKind::LayerTarInvalid]);
        assert!(broken.broken);
        // Not a tar at all.
        assert!(read(br#"{"architecture":"amd64"}"#, 7).is_some_and(|r| r.broken));
        assert!(read(&[b'{'; 2048], 7).is_none());
    }

    #[test]
    fn too_many_entries_name_the_layer_limit() {
        let rows: Vec<(String, u8)> = (0..5).map(|i| (format!("f{i}"), b'0')).collect();
        let rows: Vec<(&str, u8, u32, &[u8], &str)> = rows
            .iter()
            .map(|(n, k)| (n.as_str(), *k, 0o644, &b""[..], ""))
            .collect();
        let bytes = layer_tar(&rows);
        let limits = Limits {
            max_layer_entries: 3,
            ..Limits::default()
        };
        let mut r = LayerReader::new(bytes.len() as u64, &limits, LayerBudget::of(&limits));
        r.update(&bytes);
        let read = r.finish().expect("a tar");
        assert_eq!(kinds(&read), [FindingKind::LimitExceeded]);
        assert_eq!(
            read.findings[0].limit,
            Some(crate::limits::LimitName::MaxLayerEntries)
        );
        assert_eq!(read.entries.len(), 3);
    }

    #[test]
    fn sparse_files_count_at_their_expanded_size() {
        fn pax_sparse(real: u64) -> Vec<u8> {
            let mut b = tar::Builder::new(Vec::new());
            let real = real.to_string();
            b.append_pax_extensions([
                ("GNU.sparse.major", &b"1"[..]),
                ("GNU.sparse.minor", b"0"),
                ("GNU.sparse.name", b"big/sparse"),
                ("GNU.sparse.realsize", real.as_bytes()),
            ])
            .expect("in-memory tar");
            let mut h = tar::Header::new_ustar();
            h.set_size(512);
            h.set_mode(0o644);
            h.set_cksum();
            let map = {
                let mut m = b"1\n0\n0\n".to_vec();
                m.resize(512, 0);
                m
            };
            b.append_data(&mut h, "GNUSparseFile.0/sparse", &map[..])
                .expect("in-memory tar");
            b.into_inner().expect("in-memory tar")
        }
        let small = pax_sparse(4096);
        let read_small = read(&small, 512).expect("a tar");
        assert!(read_small.findings.is_empty(), "{:?}", read_small.findings);
        assert_eq!(&*read_small.entries[0].path, "big/sparse");
        assert_eq!(read_small.entries[0].size, 4096);
        let huge = pax_sparse(60 << 30);
        let read_huge = read(&huge, 512).expect("a tar");
        assert_eq!(kinds(&read_huge), [FindingKind::LimitExceeded]);
        assert_eq!(
            read_huge.findings[0].limit,
            Some(crate::limits::LimitName::MaxExpansionRatio)
        );
    }
}
