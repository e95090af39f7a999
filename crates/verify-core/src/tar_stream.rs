//! A push-fed tar reader: bytes in, entry events out.
//!
//! Names and link targets come from the `tar` crate's header accessors.
//! Numbers, PAX records and sparse maps are parsed here (`numeric`, `pax`,
//! `sparse`), because the crate reads them differently from Go's
//! `archive/tar`, which is what docker, containerd, skopeo and podman use.
//! This module also accepts input in arbitrary pieces, never buffers entry
//! data, and refuses ambiguities that real importers resolve differently
//! (PAX size vs ustar size, data on header-only entries, a lone zero block,
//! two long names for one entry). Where Go and other readers differ we
//! report the entry as invalid and follow Go, since Go imports the bundle;
//! where Go stops with "invalid tar header", so does this reader.

mod numeric;
mod pax;
mod sparse;

use crate::limits::Limits;
use crate::report::{Finding, FindingKind};
use pax::{Malformed, Overrides};
use sparse::SparseMap;

const BLOCK: usize = 512;
/// The header's checksum field, summed as spaces.
const CKSUM_RANGE: std::ops::Range<usize> = 148..156;
const MODE_FIELD: std::ops::Range<usize> = 100..108;
const UID_FIELD: std::ops::Range<usize> = 108..116;
const GID_FIELD: std::ops::Range<usize> = 116..124;

/// What an entry is, reduced to what matters for an image bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    /// A GNU sparse file (type `S`, or `GNU.sparse.*` PAX records): Go
    /// fills its holes with zeros, so its content is not the bytes stored.
    Sparse,
    /// Devices, fifos and anything else with no place in a bundle.
    Other(u8),
}

/// How a sparse entry says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SparseKind {
    /// Type `S`: Go reads it but keeps the type, which Docker's and
    /// containerd's extractors do not handle.
    OldGnu,
    /// `GNU.sparse.*` PAX records on a regular file: Go expands the holes
    /// and hands the extractor a regular file of `real_size` bytes.
    Pax {
        /// `GNU.sparse.name`, which names the entry over everything else.
        name: Option<Vec<u8>>,
        /// The expanded size, when the records state one Go can read.
        real_size: Option<i64>,
    },
}

/// A tar entry's header, with PAX and GNU long-name overrides applied.
#[derive(Debug, Clone)]
pub(crate) struct EntryHeader {
    /// The raw name bytes (not yet checked or normalized).
    pub name: Vec<u8>,
    /// Link target for symlinks and hardlinks.
    pub link: Option<Vec<u8>>,
    pub kind: EntryKind,
    /// Data bytes that follow (always 0 for header-only kinds).
    pub size: u64,
    /// Offset of the first header block of this entry (PAX/GNU headers included).
    pub header_offset: u64,
    // Read by the layer reader (issue 14), which lands next.
    #[allow(dead_code)]
    /// Permission bits with setuid, setgid and sticky (`0o7777`); the
    /// header's file-type bits are dropped, as Go's `FileInfo` drops them.
    pub mode: u32,
    /// Owner, PAX `uid`/`gid` applied. Go reads them as `int`; ids beyond
    /// `u32` do not exist on Linux and are clamped.
    #[allow(dead_code)]
    pub uid: u32,
    #[allow(dead_code)]
    pub gid: u32,
    /// The header's type byte, for readers stricter than `kind` (Docker's
    /// extractor refuses type `7`, which Go reads as a regular file).
    #[allow(dead_code)]
    pub type_byte: u8,
    /// Set exactly when `kind` is [`EntryKind::Sparse`].
    #[allow(dead_code)]
    pub sparse: Option<SparseKind>,
}

impl EntryHeader {
    /// The name for messages.
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// Receives what the reader finds, in archive order.
pub(crate) trait TarSink {
    /// A new entry starts; its data (if any) follows through `data`.
    fn entry(&mut self, header: &EntryHeader);
    /// The next piece of the current entry's data.
    fn data(&mut self, bytes: &[u8]);
    /// The current entry's data is complete.
    fn entry_end(&mut self);
    /// Something is wrong with the archive itself.
    fn finding(&mut self, finding: Finding);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetaKind {
    Pax,
    GlobalPax,
    LongName,
    LongLink,
}

#[derive(Debug)]
enum State {
    /// Assembling a header block; `zero_seen` after one all-zero block.
    Header { zero_seen: bool },
    /// Assembling an extension block of an old GNU sparse map.
    SparseMap(SparseMap),
    /// Inside a regular file's data.
    Data { remaining: u64, pad: u64 },
    /// Inside a PAX or GNU metadata entry, whose data we keep (bounded).
    Meta {
        kind: MetaKind,
        remaining: u64,
        pad: u64,
    },
    /// Padding or data nobody needs.
    Skip { remaining: u64 },
    /// The end-of-archive marker has been read.
    End { trailing_reported: bool },
    /// The archive cannot be read further; everything else is ignored.
    Failed,
}

/// Overrides collected from PAX and GNU headers for the next entry.
#[derive(Debug, Default)]
struct Pending {
    /// The last `x` header, with its offset: Go keeps only the latest.
    pax: Option<(u64, Overrides)>,
    /// The last GNU long name and long link as stored, perhaps empty.
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    first_offset: Option<u64>,
    /// Findings about the coming entry, reported once its name is known.
    notes: Vec<Finding>,
}

impl Pending {
    fn pax(&self) -> Option<&Overrides> {
        self.pax.as_ref().map(|(_, o)| o)
    }

    /// Go applies a long name only when it is not empty.
    fn gnu_name(&self) -> Option<&[u8]> {
        self.long_name.as_deref().filter(|n| !n.is_empty())
    }

    fn gnu_link(&self) -> Option<&[u8]> {
        self.long_link.as_deref().filter(|n| !n.is_empty())
    }

    /// Whether anything pending would rename or resize the next entry.
    fn names_next_entry(&self) -> bool {
        self.gnu_name().is_some()
            || self.gnu_link().is_some()
            || self.pax().is_some_and(Overrides::names_or_sizes)
    }
}

/// The push-fed tar state machine.
#[derive(Debug)]
pub(crate) struct TarStream {
    offset: u64,
    block: [u8; BLOCK],
    fill: usize,
    state: State,
    pending: Pending,
    meta: Vec<u8>,
    /// Offset of the extended header whose data `meta` holds.
    meta_at: u64,
    /// Name of the entry whose data is being read, for truncation messages.
    current: Option<(String, u64, u64)>,
    entries: u64,
    max_entries: u64,
    /// The [`Limits`] field `max_entries` came from, for its finding.
    entries_limit: crate::limits::LimitName,
    max_meta: u64,
}

impl TarStream {
    pub fn new(limits: &Limits) -> Self {
        Self {
            offset: 0,
            block: [0; BLOCK],
            fill: 0,
            state: State::Header { zero_seen: false },
            pending: Pending::default(),
            meta: Vec::new(),
            meta_at: 0,
            current: None,
            entries: 0,
            max_entries: limits.max_entries,
            entries_limit: crate::limits::LimitName::MaxEntries,
            max_meta: limits.max_tar_metadata_bytes,
        }
    }

    /// A reader for a layer's own tar, counting its entries against
    /// `max_layer_entries`.
    pub fn for_layer(limits: &Limits) -> Self {
        Self {
            max_entries: limits.max_layer_entries,
            entries_limit: crate::limits::LimitName::MaxLayerEntries,
            ..Self::new(limits)
        }
    }

    /// Whether the stream so far ends where a header could start: Go's
    /// reader takes the end of input there as the end of the archive.
    pub fn at_block_boundary(&self) -> bool {
        matches!(self.state, State::Header { .. } | State::End { .. }) && self.fill == 0
    }

    /// Entries seen so far (metadata headers not counted).
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Whether the archive broke and everything after is being ignored.
    /// Only [`Self::fail`] (with an error finding) and `finish` get here.
    pub fn is_failed(&self) -> bool {
        matches!(self.state, State::Failed)
    }

    /// Feeds the next bytes of the tar stream.
    pub fn update<S: TarSink>(&mut self, mut input: &[u8], sink: &mut S) {
        while !input.is_empty() {
            // Each step takes what its state can use and says how much.
            let used = match self.state {
                State::Header { .. } | State::SparseMap(_) => self.block_bytes(input, sink),
                State::Data { remaining, pad } => self.file_bytes(input, remaining, pad, sink),
                State::Meta {
                    kind,
                    remaining,
                    pad,
                } => self.meta_bytes(input, kind, remaining, pad, sink),
                State::Skip { remaining } => self.skipped_bytes(input, remaining),
                State::End { trailing_reported } => {
                    self.bytes_after_end(input, trailing_reported, sink)
                }
                State::Failed => {
                    self.offset += input.len() as u64;
                    input.len()
                }
            };
            input = &input[used..];
        }
    }

    /// Bytes of a header block (or a sparse map's extension block); a
    /// complete block is read at once.
    fn block_bytes<S: TarSink>(&mut self, input: &[u8], sink: &mut S) -> usize {
        let take = (BLOCK - self.fill).min(input.len());
        self.block[self.fill..self.fill + take].copy_from_slice(&input[..take]);
        self.fill += take;
        if self.fill == BLOCK {
            self.fill = 0;
            let at = self.offset;
            self.offset += BLOCK as u64;
            self.block_done(at, sink);
        }
        take
    }

    /// Bytes of a regular file's data, passed to the sink as they come.
    fn file_bytes<S: TarSink>(
        &mut self,
        input: &[u8],
        remaining: u64,
        pad: u64,
        sink: &mut S,
    ) -> usize {
        let take = available(remaining, input);
        sink.data(&input[..take]);
        self.offset += take as u64;
        let remaining = remaining - take as u64;
        if remaining == 0 {
            self.current = None;
            sink.entry_end();
            self.state = skip_then_header(pad);
        } else {
            self.state = State::Data { remaining, pad };
        }
        take
    }

    /// Bytes of a PAX or GNU metadata entry, kept until it is complete.
    fn meta_bytes<S: TarSink>(
        &mut self,
        input: &[u8],
        kind: MetaKind,
        remaining: u64,
        pad: u64,
        sink: &mut S,
    ) -> usize {
        let take = available(remaining, input);
        self.meta.extend_from_slice(&input[..take]);
        self.offset += take as u64;
        let remaining = remaining - take as u64;
        if remaining == 0 {
            self.state = skip_then_header(pad);
            self.meta_done(kind, sink);
        } else {
            self.state = State::Meta {
                kind,
                remaining,
                pad,
            };
        }
        take
    }

    /// Padding, or data nobody reads.
    fn skipped_bytes(&mut self, input: &[u8], remaining: u64) -> usize {
        let take = available(remaining, input);
        self.offset += take as u64;
        let remaining = remaining - take as u64;
        self.state = if remaining == 0 {
            State::Header { zero_seen: false }
        } else {
            State::Skip { remaining }
        };
        take
    }

    /// Bytes after the end-of-archive marker, which Go's reader never
    /// reads: tar pads archives to its record size with zeros, and anything
    /// else there is invisible to importers, so it is reported once.
    fn bytes_after_end<S: TarSink>(
        &mut self,
        input: &[u8],
        trailing_reported: bool,
        sink: &mut S,
    ) -> usize {
        if !trailing_reported && let Some(pos) = input.iter().position(|&b| b != 0) {
            self.state = State::End {
                trailing_reported: true,
            };
            sink.finding(
                Finding::new(
                    FindingKind::TrailingData,
                    "data follows the end-of-archive marker; importers ignore it, \
                         so it may hide content from a reviewer",
                )
                .at(self.offset + pos as u64),
            );
        }
        self.offset += input.len() as u64;
        input.len()
    }

    /// Ends the stream; reports truncation if the archive did not end cleanly.
    pub fn finish<S: TarSink>(&mut self, sink: &mut S) {
        let message = match &self.state {
            State::End { .. } | State::Failed => return,
            State::Header { zero_seen } if self.fill == 0 => {
                if *zero_seen {
                    "the archive ends after one end-of-archive block; the second is missing"
                        .to_owned()
                } else if self.offset == 0 {
                    sink.finding(Finding::new(FindingKind::NotABundle, "the file is empty"));
                    self.state = State::Failed;
                    return;
                } else {
                    "the archive ends without its end-of-archive marker (two zero blocks); \
                     it may have been cut at an entry boundary"
                        .to_owned()
                }
            }
            State::Header { .. } => format!(
                "the archive ends inside a header block ({} of 512 bytes present)",
                self.fill
            ),
            State::SparseMap(_) => format!(
                "the archive ends inside the sparse map of an old GNU sparse entry ({} of 512 \
                 bytes of an extension block present)",
                self.fill
            ),
            State::Data { remaining, .. } => match &self.current {
                Some((name, size, _)) => format!(
                    "the archive ends inside entry `{name}`: {} of {size} bytes present",
                    size - remaining
                ),
                None => "the archive ends inside an entry".to_owned(),
            },
            State::Meta { .. } => "the archive ends inside an extended header".to_owned(),
            State::Skip { .. } => "the archive ends inside the padding of an entry".to_owned(),
        };
        let mut finding =
            Finding::new(FindingKind::Truncated, message).at(self.offset + self.fill as u64);
        if let Some((name, _, _)) = &self.current {
            finding = finding.entry(name.clone());
        }
        sink.finding(finding);
        self.state = State::Failed;
    }

    fn fail<S: TarSink>(&mut self, sink: &mut S, finding: Finding) {
        sink.finding(finding);
        self.state = State::Failed;
    }

    /// A whole block has arrived: a header, or the next piece of a sparse map.
    fn block_done<S: TarSink>(&mut self, at: u64, sink: &mut S) {
        if let State::SparseMap(map) = self.state {
            self.sparse_extension(map, at, sink);
        } else {
            self.header_block(at, sink);
        }
    }

    /// A header block: half of the end-of-archive marker, a PAX or GNU
    /// header about the next entry, or an entry.
    fn header_block<S: TarSink>(&mut self, at: u64, sink: &mut S) {
        if self.end_marker(at, sink) {
            return;
        }
        let stored_size = match self.readable_size(at) {
            Ok(size) => size,
            Err(finding) => return self.fail(sink, *finding),
        };
        // The raw byte: the tar crate folds the pre-POSIX NUL type into `0`; Go does not.
        let type_byte = self.block[156];
        if let Some(finding) = self.negative_raw_size(type_byte, stored_size, at) {
            return self.fail(sink, finding);
        }
        match meta_kind(type_byte) {
            // Not negative: metadata types are not header-only.
            Some(kind) => self.meta_header(kind, stored_size.unsigned_abs(), at, sink),
            None => self.entry_header(type_byte, stored_size, at, sink),
        }
    }

    /// The size field of a block that reads as a tar header. Go's
    /// `Reader.readHeader` stops with `ErrHeader` on a checksum that matches
    /// neither the unsigned nor the signed sum, and on a size field it cannot
    /// parse; so does this reader, with the finding returned.
    fn readable_size(&self, at: u64) -> Result<i64, Box<Finding>> {
        if !checksum_ok(&self.block) {
            return Err(Box::new(if at == 0 {
                Finding::new(FindingKind::NotABundle, not_a_tar_message(&self.block)).at(0)
            } else {
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    "tar header checksum does not match; the archive is corrupt from here on",
                )
                .at(at)
            }));
        }
        numeric::header_size(&self.block).map_err(|bad| {
            Box::new(
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    format!("tar header field `{}` {}; {GO_STOPS}", bad.name, bad.why),
                )
                .entry(ustar_name(&self.block))
                .at(at)
                .expected_found(
                    "octal digits, or a base-256 number within 64 bits",
                    bad.found,
                ),
            )
        })
    }

    /// Go's `Reader.next` calls `handleRegularFile` on every header as it is
    /// read, metadata headers included, before any extended header applies:
    /// a negative size is `ErrHeader` there, except on the header-only types
    /// (`1` to `6`), whose size Go ignores. The finding, if Go stops.
    fn negative_raw_size(&self, type_byte: u8, stored_size: i64, at: u64) -> Option<Finding> {
        (stored_size < 0 && !matches!(type_byte, b'1'..=b'6'))
            .then(|| negative_size(ustar_name(&self.block), stored_size, at))
    }

    /// Handles an all-zero block (or a block after one); true if consumed.
    fn end_marker<S: TarSink>(&mut self, at: u64, sink: &mut S) -> bool {
        let zero_seen = matches!(self.state, State::Header { zero_seen: true });
        if self.block.iter().all(|&b| b == 0) {
            self.state = if zero_seen {
                State::End {
                    trailing_reported: false,
                }
            } else {
                State::Header { zero_seen: true }
            };
            return true;
        }
        if zero_seen {
            // Go's archive/tar rejects this; GNU tar skips the lone block and reads on.
            self.fail(
                sink,
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    "a single zero block is followed by more entries; readers disagree on \
                     whether the archive ended there",
                )
                .at(at - BLOCK as u64),
            );
        }
        zero_seen
    }

    /// A PAX or GNU header whose data describes the next entry.
    fn meta_header<S: TarSink>(&mut self, kind: MetaKind, size: u64, at: u64, sink: &mut S) {
        if size > self.max_meta {
            return self.fail(
                sink,
                Finding::new(
                    FindingKind::LimitExceeded,
                    format!(
                        "extended tar header of {size} bytes exceeds the limit of {} bytes",
                        self.max_meta
                    ),
                )
                .at(at)
                .expected_found(self.max_meta, size)
                .limit(crate::limits::LimitName::MaxTarMetadataBytes),
            );
        }
        self.pending.first_offset.get_or_insert(at);
        self.meta.clear();
        self.meta_at = at;
        if size == 0 {
            self.state = State::Header { zero_seen: false };
            self.meta_done(kind, sink);
        } else {
            self.state = State::Meta {
                kind,
                remaining: size,
                pad: padding(size),
            };
        }
    }

    /// A header that starts an entry, with what earlier headers said about it.
    fn entry_header<S: TarSink>(&mut self, type_byte: u8, stored_size: i64, at: u64, sink: &mut S) {
        self.entries += 1;
        if self.entries > self.max_entries {
            return self.fail(
                sink,
                Finding::new(
                    FindingKind::LimitExceeded,
                    format!("the archive has more than {} entries", self.max_entries),
                )
                .at(at)
                .limit(self.entries_limit),
            );
        }
        let pending = std::mem::take(&mut self.pending);
        match self.resolve_entry(&pending, type_byte, stored_size, at, sink) {
            Ok((entry, sparse_map)) => self.begin_entry(&entry, sparse_map, sink),
            Err(finding) => self.fail(sink, *finding),
        }
    }

    /// The entry as Go's `Reader.next` hands it to an importer: the header
    /// with the pending PAX and GNU overrides merged (`mergePAX`, then the
    /// GNU long name and link), its type settled and its data size counted
    /// as `handleRegularFile` counts it. Disagreements between readers go to
    /// the sink as findings; `Err` is where Go stops with `ErrHeader`
    /// (boxed: it is built once, when the archive fails).
    fn resolve_entry<S: TarSink>(
        &self,
        pending: &Pending,
        type_byte: u8,
        stored_size: i64,
        at: u64,
        sink: &mut S,
    ) -> Result<(EntryHeader, Option<SparseMap>), Box<Finding>> {
        let header_offset = pending.first_offset.unwrap_or(at);
        if let Some(why) = ambiguous_name(&self.block, pending) {
            sink.finding(
                Finding::new(FindingKind::TarHeaderInvalid, why)
                    .entry(ustar_name(&self.block))
                    .at(header_offset),
            );
        }
        let (name, link) = overridden_name_and_link(&self.block, pending);
        let display = String::from_utf8_lossy(&name).into_owned();
        for note in &pending.notes {
            sink.finding(note.clone().entry(display.clone()));
        }
        if let Some(finding) = invalid_pax_value(pending, &display) {
            return Err(Box::new(finding));
        }
        let pax = pending.pax();
        let mut kind = entry_kind(type_byte, &name);
        let pax_size = pax.and_then(|p| p.size);
        let size = data_size(sink, kind, stored_size, pax_size, &display, header_offset).map_err(
            |negative| Box::new(negative_size(display.clone(), negative, header_offset)),
        )?;
        if pax.is_some_and(|p| p.sparse) {
            kind = EntryKind::Sparse;
        }
        let sparse_map = if type_byte == b'S' {
            let map = SparseMap::from_header(&self.block, size);
            Some(map.map_err(|why| Box::new(sparse_refused(why, at).entry(display)))?)
        } else {
            None
        };
        let entry = EntryHeader {
            name,
            link,
            kind,
            size,
            header_offset,
            mode: permission_bits(&self.block),
            uid: owner_id(&self.block, UID_FIELD, pax.and_then(|p| p.uid)),
            gid: owner_id(&self.block, GID_FIELD, pax.and_then(|p| p.gid)),
            type_byte,
            sparse: match (kind, pax) {
                (EntryKind::Sparse, Some(p)) if p.sparse => Some(SparseKind::Pax {
                    name: p.sparse_name.clone(),
                    real_size: p.sparse_real_size,
                }),
                (EntryKind::Sparse, _) => Some(SparseKind::OldGnu),
                _ => None,
            },
        };
        Ok((entry, sparse_map))
    }

    /// Announces the entry and moves past its header: into a regular file's
    /// data, which the sink is shown, or over anything else's (after an old
    /// GNU sparse map's extension blocks, which are read as they come).
    fn begin_entry<S: TarSink>(
        &mut self,
        entry: &EntryHeader,
        sparse_map: Option<SparseMap>,
        sink: &mut S,
    ) {
        sink.entry(entry);
        let size = entry.size;
        if entry.kind == EntryKind::File && size > 0 {
            self.current = Some((entry.display_name(), size, entry.header_offset));
            self.state = State::Data {
                remaining: size,
                pad: padding(size),
            };
            return;
        }
        sink.entry_end();
        self.state = match sparse_map {
            Some(map) if map.more => State::SparseMap(map),
            _ => skip_entry(size),
        };
    }

    /// One extension block of an old GNU sparse map.
    fn sparse_extension<S: TarSink>(&mut self, mut map: SparseMap, at: u64, sink: &mut S) {
        if let Err(why) = map.extension(&self.block) {
            return self.fail(sink, sparse_refused(why, at));
        }
        if map.extension_bytes > self.max_meta {
            let finding = Finding::new(
                FindingKind::LimitExceeded,
                format!(
                    "an old GNU sparse map runs past {} bytes of extension blocks",
                    self.max_meta
                ),
            )
            .at(at)
            .limit(crate::limits::LimitName::MaxTarMetadataBytes);
            return self.fail(sink, finding);
        }
        self.state = if map.more {
            State::SparseMap(map)
        } else {
            skip_entry(map.data)
        };
    }

    fn meta_done<S: TarSink>(&mut self, kind: MetaKind, sink: &mut S) {
        // Where the extended header's data began, for record offsets.
        let data_at = self.offset - self.meta.len() as u64;
        match kind {
            MetaKind::LongName | MetaKind::LongLink => self.long_name_done(kind),
            MetaKind::GlobalPax => self.global_pax_done(data_at, sink),
            MetaKind::Pax => self.pax_done(data_at, sink),
        }
        self.meta.clear();
    }

    /// A GNU long name or link. Go keeps the last of several, Python's
    /// tarfile the first: more than one is a disagreement.
    fn long_name_done(&mut self, kind: MetaKind) {
        let value = trim_nul(&self.meta);
        let (slot, what) = if kind == MetaKind::LongLink {
            (&mut self.pending.long_link, "long-link")
        } else {
            (&mut self.pending.long_name, "long-name")
        };
        let Some(previous) = slot.replace(value.clone()) else {
            return;
        };
        self.pending.notes.push(
            Finding::new(
                FindingKind::TarHeaderInvalid,
                format!(
                    "two GNU {what} headers precede this entry; Go's reader (docker, podman) \
                     takes the last, Python's tarfile the first"
                ),
            )
            .at(self.meta_at)
            .expected_found(
                format!("one {what} header"),
                format!("`{}`, then `{}`", pax::shown(&previous), pax::shown(&value)),
            ),
        );
    }

    fn global_pax_done<S: TarSink>(&mut self, data_at: u64, sink: &mut S) {
        let at = self.meta_at;
        let Some(records) = self.pax_records(data_at, sink) else {
            return;
        };
        // Go hands a global header to its caller as an entry and forgets
        // names pending from earlier headers; other readers carry them to
        // the next entry.
        if self.pending.names_next_entry() {
            sink.finding(
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    "a global PAX header separates an extended name from its entry; \
                     readers disagree on which entry it names",
                )
                .at(at),
            );
        }
        self.pending = Pending {
            first_offset: self.pending.first_offset,
            ..Pending::default()
        };
        // Global records apply to every later entry; Go ignores them for
        // paths and sizes, so one that sets either is ambiguous.
        if records.iter().any(|r| r.key == b"path" || r.key == b"size") {
            sink.finding(
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    "a global PAX header sets a path or size; readers disagree on it",
                )
                .at(at),
            );
        }
    }

    fn pax_done<S: TarSink>(&mut self, data_at: u64, sink: &mut S) {
        let Some(records) = self.pax_records(data_at, sink) else {
            return;
        };
        let overrides = Overrides::from_records(&records);
        if self
            .pending
            .pax
            .replace((self.meta_at, overrides))
            .is_some()
        {
            // Go drops the first header; Python's tarfile applies both,
            // the first last.
            self.pending.notes.push(
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    "two PAX headers precede this entry; Go's reader (docker, podman) uses \
                     only the last, other readers merge them",
                )
                .at(self.meta_at),
            );
        }
    }

    /// The records of the extended header just read; on a malformed one
    /// the archive fails where Go's reader stops.
    fn pax_records<S: TarSink>(&mut self, data_at: u64, sink: &mut S) -> Option<Vec<pax::Record>> {
        match pax::parse(&self.meta) {
            Ok(records) => Some(records),
            Err(Malformed { at, why }) => {
                let finding = Finding::new(
                    FindingKind::TarHeaderInvalid,
                    format!("a PAX header record {why}; {GO_STOPS}"),
                )
                .at(data_at + at as u64);
                self.fail(sink, finding);
                None
            }
        }
    }
}

/// Why an entry fails where Go's reader does.
const GO_STOPS: &str = "Go's reader (docker, podman) stops here with \"invalid tar header\"";

fn meta_kind(type_byte: u8) -> Option<MetaKind> {
    match type_byte {
        b'x' => Some(MetaKind::Pax),
        b'g' => Some(MetaKind::GlobalPax),
        b'L' => Some(MetaKind::LongName),
        b'K' => Some(MetaKind::LongLink),
        _ => None,
    }
}

/// The entry's kind from its type byte, as Go's `Reader.next` settles it.
fn entry_kind(type_byte: u8, name: &[u8]) -> EntryKind {
    match type_byte {
        // Go reads a pre-POSIX regular file whose name ends in `/` as a directory.
        b'\0' if name.ends_with(b"/") => EntryKind::Dir,
        b'0' | b'\0' | b'7' => EntryKind::File,
        b'5' => EntryKind::Dir,
        b'2' => EntryKind::Symlink,
        b'1' => EntryKind::Hardlink,
        b'S' => EntryKind::Sparse,
        other => EntryKind::Other(other),
    }
}

/// The entry's name and link target as Go's `Reader.next` sets them: a PAX
/// `path` or `linkpath` replaces the header's (`mergePAX`), and then a GNU
/// long name or link that is not empty replaces that, whatever order the
/// headers came in.
fn overridden_name_and_link(block: &[u8; BLOCK], pending: &Pending) -> (Vec<u8>, Option<Vec<u8>>) {
    let header = tar::Header::from_byte_slice(block);
    let pax = pending.pax();
    let name = pending
        .gnu_name()
        .or(pax.and_then(|p| p.path.as_deref()))
        .map_or_else(|| header.path_bytes().into_owned(), <[u8]>::to_vec);
    let link = pending
        .gnu_link()
        .or(pax.and_then(|p| p.linkpath.as_deref()))
        .map(<[u8]>::to_vec)
        .or_else(|| header.link_name_bytes().map(|l| l.into_owned()));
    (name, link)
}

/// Permission bits with setuid, setgid and sticky; the file-type bits some
/// writers put in the mode field are dropped, as Go's `Header.FileInfo`
/// drops them. A field Go cannot parse reads as 0.
fn permission_bits(block: &[u8; BLOCK]) -> u32 {
    numeric::parse_numeric(&block[MODE_FIELD]).map_or(0, |m| (m & 0o7777) as u32)
}

/// An owner id: the PAX `uid`/`gid` record if there is one (Go's
/// `mergePAX`), else the header field. Go reads it as an `int`; ids below
/// 0 or beyond `u32` do not exist on Linux and are clamped.
fn owner_id(block: &[u8; BLOCK], field: std::ops::Range<usize>, pax: Option<i64>) -> u32 {
    let id = pax
        .or_else(|| numeric::parse_numeric(&block[field]))
        .unwrap_or(0);
    u32::try_from(id.max(0)).unwrap_or(u32::MAX)
}

/// The name in the header block itself, for findings before overrides apply.
fn ustar_name(block: &[u8; BLOCK]) -> String {
    String::from_utf8_lossy(&tar::Header::from_byte_slice(block).path_bytes()).into_owned()
}

/// The bytes of data that follow an entry, as Go counts them, after
/// reporting sizes that readers disagree on; `Err(size)` for a negative
/// size Go refuses.
fn data_size<S: TarSink>(
    sink: &mut S,
    kind: EntryKind,
    stored: i64,
    pax: Option<i64>,
    entry: &str,
    at: u64,
) -> Result<u64, i64> {
    let mut size = stored;
    if let Some(pax) = pax {
        // ustar size 0 (Go) or the octal maximum (GNU tar) beside a larger
        // PAX size is how > 8 GiB entries are written; anything else means
        // PAX-aware and PAX-blind readers see different archives.
        let legit =
            stored == pax || (stored == 0 && pax > 0) || (stored == 0o77777777777 && pax > stored);
        if !legit {
            sink.finding(
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    "PAX header size and ustar header size disagree; readers that ignore \
                     PAX (CVE-2025-62518) see different entries than those that honour it",
                )
                .entry(entry)
                .at(at)
                .expected_found(format!("ustar size {stored}"), format!("PAX size {pax}")),
            );
        }
        size = pax;
    }
    let header_only = matches!(
        kind,
        EntryKind::Dir | EntryKind::Symlink | EntryKind::Hardlink
    ) || matches!(kind, EntryKind::Other(b'3' | b'4' | b'6'));
    if size < 0 && !header_only {
        return Err(size);
    }
    if header_only && size != 0 {
        sink.finding(
            Finding::new(
                FindingKind::TarHeaderInvalid,
                format!(
                    "a link, directory or device entry declares {size} data bytes; Go readers \
                     skip none of them, other readers skip them all"
                ),
            )
            .entry(entry)
            .at(at),
        );
        size = 0;
    }
    // Not negative: refused or zeroed above.
    Ok(size.unsigned_abs())
}

/// Go refuses an entry whose PAX header holds a number it cannot parse.
fn invalid_pax_value(pending: &Pending, entry: &str) -> Option<Finding> {
    let (pax_at, overrides) = pending.pax.as_ref()?;
    let invalid = overrides.invalid.as_ref()?;
    Some(
        Finding::new(
            FindingKind::TarHeaderInvalid,
            format!(
                "the PAX `{}` record of this entry is not a number; {GO_STOPS}",
                invalid.key
            ),
        )
        .entry(entry)
        .at(*pax_at)
        .expected_found(invalid.expected, &invalid.value),
    )
}

fn sparse_refused(why: &str, at: u64) -> Finding {
    Finding::new(
        FindingKind::TarHeaderInvalid,
        format!("old GNU sparse entry: {why}; {GO_STOPS}"),
    )
    .at(at)
}

fn negative_size(entry: String, size: i64, at: u64) -> Finding {
    Finding::new(
        FindingKind::TarHeaderInvalid,
        format!("entry declares a negative size ({size} bytes); {GO_STOPS}"),
    )
    .entry(entry)
    .at(at)
    .expected_found("a size of 0 or more", size)
}

/// Names that Go's archive/tar and the `tar` crate (or GNU tar) would read
/// differently. Returns why, or `None` when every reader agrees.
fn ambiguous_name(block: &[u8; BLOCK], pending: &Pending) -> Option<&'static str> {
    let pax = pending.pax();
    if pending.gnu_name().is_some() && pax.is_some_and(|p| p.path.is_some()) {
        return Some(
            "both a GNU long name and a PAX path name this entry; readers pick different ones",
        );
    }
    if pending.gnu_link().is_some() && pax.is_some_and(|p| p.linkpath.is_some()) {
        return Some(
            "both a GNU long link and a PAX linkpath are given; readers pick different ones",
        );
    }
    let magic = &block[257..263];
    let version = &block[263..265];
    let prefix_used = block[345] != 0;
    if magic == b"ustar\0" && &block[508..512] == b"tar\0" && prefix_used {
        // Go reads this as star(1)'s format: a 131-byte prefix, then times.
        return Some(
            "a ustar header with a star trailer uses the name prefix field; readers disagree on its length",
        );
    }
    if magic == b"ustar\0" && version != b"00" && prefix_used {
        // Go applies the ustar prefix for any version; the tar crate only for "00".
        return Some(
            "a ustar header with a non-standard version uses the name prefix field; readers disagree on the name",
        );
    }
    if magic == b"ustar " && version == b" \0" {
        // Go treats a GNU header whose time fields do not parse as ustar and
        // then reads the prefix field as part of the name.
        if !go_time_field_parses(&block[345..357]) || !go_time_field_parses(&block[357..369]) {
            return Some(
                "a GNU header's access/change time fields are not numbers; Go then reads them as a name prefix",
            );
        }
    }
    None
}

/// Whether Go's `Reader.readHeader` parses a GNU access or change time
/// field (`parseNumeric`; when it fails, Go reads the fields as a ustar
/// prefix): empty, base-256 within 64 bits when the high bit is set, else
/// octal digits with spaces and NULs allowed only around them.
fn go_time_field_parses(field: &[u8]) -> bool {
    if field.first().is_none_or(|&b| b == 0) {
        return true;
    }
    // Base-256 must also fit in 64 bits, or Go's parse fails too.
    if field.first().is_some_and(|&b| b & 0x80 != 0) {
        return numeric::parse_numeric(field).is_some();
    }
    let is_pad = |b: &u8| *b == b' ' || *b == 0;
    let start = field.iter().position(|b| !is_pad(b)).unwrap_or(field.len());
    let end = field
        .iter()
        .rposition(|b| !is_pad(b))
        .map_or(start, |e| e + 1);
    field[start..end].iter().all(|b| (b'0'..=b'7').contains(b))
}

fn skip_then_header(pad: u64) -> State {
    if pad == 0 {
        State::Header { zero_seen: false }
    } else {
        State::Skip { remaining: pad }
    }
}

/// Past an entry's data (and padding) that nobody reads.
fn skip_entry(size: u64) -> State {
    if size == 0 {
        State::Header { zero_seen: false }
    } else {
        State::Skip {
            remaining: size + padding(size),
        }
    }
}

/// How much of `input` belongs to a stretch with `remaining` bytes left.
fn available(remaining: u64, input: &[u8]) -> usize {
    usize::try_from(remaining)
        .unwrap_or(usize::MAX)
        .min(input.len())
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn trim_nul(bytes: &[u8]) -> Vec<u8> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes[..end].to_vec()
}

/// Whether the header checksum matches, summed unsigned or (historic tars) signed.
fn checksum_ok(block: &[u8; BLOCK]) -> bool {
    // Parsed as Go parses it (see `numeric`), not as the tar crate does.
    let Some(stored) = numeric::parse_octal(&block[CKSUM_RANGE]) else {
        return false;
    };
    let mut unsigned: u64 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in block.iter().enumerate() {
        let b = if CKSUM_RANGE.contains(&i) { b' ' } else { b };
        unsigned += u64::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::try_from(stored).is_ok_and(|s| s == signed)
}

/// Names common non-tar formats so the message says what the file is.
fn not_a_tar_message(block: &[u8; BLOCK]) -> String {
    let what = match block {
        [b'P', b'K', 3, 4, ..] | [b'P', b'K', 5, 6, ..] => "a ZIP archive",
        [0xfd, b'7', b'z', b'X', b'Z', 0, ..] => "an xz stream",
        [b'B', b'Z', b'h', ..] => "a bzip2 stream",
        [b'7', b'z', 0xbc, 0xaf, ..] => "a 7-Zip archive",
        _ => "",
    };
    if what.is_empty() {
        "the file is not a tar archive (the first header block is not valid)".to_owned()
    } else {
        format!("the file is {what}, not a tar archive")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Log {
        events: Vec<String>,
        findings: Vec<Finding>,
    }

    impl TarSink for Log {
        fn entry(&mut self, h: &EntryHeader) {
            self.events.push(format!(
                "entry {} {:?} {}",
                h.display_name(),
                h.kind,
                h.size
            ));
        }
        fn data(&mut self, bytes: &[u8]) {
            self.events.push(format!("data {}", bytes.len()));
        }
        fn entry_end(&mut self) {
            self.events.push("end".into());
        }
        fn finding(&mut self, f: Finding) {
            self.findings.push(f);
        }
    }

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_ustar();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).expect("in-memory tar");
        }
        b.into_inner().expect("in-memory tar")
    }

    fn run(bytes: &[u8], chunk: usize) -> Log {
        let mut log = Log::default();
        let mut t = TarStream::new(&Limits::default());
        for piece in bytes.chunks(chunk) {
            t.update(piece, &mut log);
        }
        t.finish(&mut log);
        // Data events depend on chunking; compare their sums instead.
        let mut merged: Vec<String> = Vec::new();
        let mut acc = 0usize;
        for e in log.events.drain(..) {
            if let Some(n) = e.strip_prefix("data ") {
                acc += n.parse::<usize>().unwrap_or(0);
            } else {
                if acc > 0 {
                    merged.push(format!("data {acc}"));
                    acc = 0;
                }
                merged.push(e);
            }
        }
        log.events = merged;
        log
    }

    /// The layer reader shows owners and modes; a PAX `uid` wins over the
    /// ustar field, as Go merges it, and file-type bits are dropped.
    #[test]
    fn mode_and_owner_with_pax_override() {
        struct Heads(Vec<(u32, u32, u32)>);
        impl TarSink for Heads {
            fn entry(&mut self, h: &EntryHeader) {
                self.0.push((h.mode, h.uid, h.gid));
            }
            fn data(&mut self, _: &[u8]) {}
            fn entry_end(&mut self) {}
            fn finding(&mut self, f: Finding) {
                panic!("unexpected finding {f:?}");
            }
        }
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(0);
        h.set_mode(0o104755);
        h.set_uid(7);
        h.set_gid(8);
        h.set_cksum();
        b.append_data(&mut h, "su", &[][..]).expect("in-memory tar");
        b.append_pax_extensions([("uid", &b"3000000000"[..])])
            .expect("in-memory tar");
        b.append_data(&mut h, "big", &[][..])
            .expect("in-memory tar");
        let bytes = b.into_inner().expect("in-memory tar");
        let mut heads = Heads(Vec::new());
        let mut t = TarStream::new(&Limits::default());
        t.update(&bytes, &mut heads);
        t.finish(&mut heads);
        assert_eq!(heads.0, [(0o4755, 7, 8), (0o4755, 3_000_000_000, 8)]);
    }

    #[test]
    fn same_events_for_any_chunking() {
        let bytes = archive(&[("a.txt", b"hello"), ("b/c", &[7u8; 1500])]);
        let whole = run(&bytes, bytes.len());
        assert_eq!(
            whole.events,
            [
                "entry a.txt File 5",
                "data 5",
                "end",
                "entry b/c File 1500",
                "data 1500",
                "end"
            ]
        );
        assert!(whole.findings.is_empty(), "{:?}", whole.findings);
        for chunk in [1, 3, 511, 512, 513, 4096] {
            let log = run(&bytes, chunk);
            assert_eq!(log.events, whole.events, "chunk size {chunk}");
            assert!(log.findings.is_empty());
        }
    }

    #[test]
    fn reports_truncation_with_offset_and_entry() {
        let bytes = archive(&[("layer", &[1u8; 2000])]);
        let log = run(&bytes[..1000], 100);
        let f = &log.findings[0];
        assert_eq!(f.kind, FindingKind::Truncated);
        assert_eq!(f.offset, Some(1000));
        assert_eq!(f.entry.as_deref(), Some("layer"));
        assert!(f.message.contains("488 of 2000"), "{}", f.message);

        // Entries complete, end-of-archive blocks missing.
        let cut = 512 + 2048;
        let log = run(&bytes[..cut], 512);
        assert_eq!(log.findings.len(), 1);
        assert_eq!(log.findings[0].kind, FindingKind::Truncated);
        assert_eq!(log.findings[0].offset, Some(cut as u64));
    }

    #[test]
    fn bad_checksum_and_non_tar() {
        let mut bytes = archive(&[("a", b"x"), ("b", b"y")]);
        bytes[1024 + 10] ^= 1; // second header's name
        let log = run(&bytes, 64);
        assert_eq!(log.findings[0].kind, FindingKind::TarHeaderInvalid);
        assert_eq!(log.findings[0].offset, Some(1024));

        let mut zip = vec![b'P', b'K', 3, 4];
        zip.resize(600, 0);
        let log = run(&zip, 600);
        assert_eq!(log.findings[0].kind, FindingKind::NotABundle);
        assert!(log.findings[0].message.contains("ZIP"));
    }

    #[test]
    fn trailing_garbage_after_end_marker() {
        let mut bytes = archive(&[("a", b"x")]);
        let end = bytes.len();
        bytes.extend_from_slice(&[0, 0, 9]);
        let log = run(&bytes, 7);
        assert_eq!(log.findings.len(), 1);
        assert_eq!(log.findings[0].kind, FindingKind::TrailingData);
        assert_eq!(log.findings[0].offset, Some(end as u64 + 2));
    }

    /// A header `tar::Header` builds, then `edit` pokes bytes it will not
    /// write, then the checksum.
    fn raw_header(
        header: tar::Header,
        name: &str,
        size: u64,
        kind: tar::EntryType,
        edit: impl FnOnce(&mut [u8; BLOCK]),
    ) -> Vec<u8> {
        let mut h = header;
        h.set_path(name).expect("short name");
        h.set_size(size);
        h.set_mode(0o644);
        h.set_entry_type(kind);
        edit(h.as_mut_bytes());
        h.set_cksum();
        h.as_bytes().to_vec()
    }

    /// `blocks`, padded, then `tail` (a whole archive) after them.
    fn prepend(blocks: &[&[u8]], tail: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for block in blocks {
            out.extend_from_slice(block);
            out.resize(out.len().next_multiple_of(BLOCK), 0);
        }
        out.extend_from_slice(tail);
        out
    }

    /// `blocks`, then an archive of one file, `b.txt`.
    fn then_b_txt(blocks: &[&[u8]]) -> Vec<u8> {
        prepend(blocks, &archive(&[("b.txt", b"x")]))
    }

    fn pax_header(body: &[u8]) -> Vec<u8> {
        let h = raw_header(
            tar::Header::new_ustar(),
            "PaxHeaders/x",
            body.len() as u64,
            tar::EntryType::XHeader,
            |_| {},
        );
        [h.as_slice(), body].concat()
    }

    /// Every chunking gives `whole`'s events and findings.
    fn run_all_ways(bytes: &[u8]) -> Log {
        let whole = run(bytes, bytes.len());
        for chunk in [1, 7, 511, 513] {
            let log = run(bytes, chunk);
            assert_eq!(log.events, whole.events, "chunk size {chunk}");
            assert_eq!(
                format!("{:?}", log.findings),
                format!("{:?}", whole.findings),
                "chunk size {chunk}"
            );
        }
        whole
    }

    #[test]
    fn a_numeric_field_go_cannot_parse_stops_the_archive() {
        let bad = raw_header(
            tar::Header::new_ustar(),
            "a.txt",
            0,
            tar::EntryType::Regular,
            |b| b[100..108].copy_from_slice(b"rw-r--r-"),
        );
        let log = run_all_ways(&then_b_txt(&[&bad]));
        assert!(log.events.is_empty(), "{:?}", log.events);
        let f = &log.findings[0];
        assert_eq!(f.kind, FindingKind::TarHeaderInvalid);
        assert!(f.message.contains("`mode`"), "{}", f.message);
        assert_eq!(
            (f.entry.as_deref(), f.found.as_deref()),
            (Some("a.txt"), Some("rw-r--r-"))
        );
    }

    #[test]
    fn a_negative_size_on_a_directory_reads_no_data_as_go_does() {
        let dir = raw_header(
            tar::Header::new_gnu(),
            "d/",
            0,
            tar::EntryType::Directory,
            |b| b[124..136].copy_from_slice(&[0xff; 12]),
        );
        let log = run_all_ways(&then_b_txt(&[&dir]));
        assert_eq!(
            log.events,
            [
                "entry d/ Dir 0",
                "end",
                "entry b.txt File 1",
                "data 1",
                "end"
            ]
        );
        assert_eq!(log.findings.len(), 1);
        assert!(
            log.findings[0].message.contains("declares -1 data bytes"),
            "{}",
            log.findings[0].message
        );
    }

    #[test]
    fn pax_records_merge_as_go_merges_them() {
        // An empty value after a path restores the ustar name.
        let emptied = pax_header(b"12 path=abc\n8 path=\n");
        let log = run_all_ways(&then_b_txt(&[&emptied]));
        assert_eq!(log.events[0], "entry b.txt File 1");
        assert!(log.findings.is_empty(), "{:?}", log.findings);

        // A second `x` header replaces the first: its path no longer applies.
        let first = pax_header(b"12 path=abc\n");
        let second = pax_header(b"16 linkpath=xyz\n");
        let log = run_all_ways(&then_b_txt(&[&first, &second]));
        assert_eq!(log.events[0], "entry b.txt File 1");
        let f = &log.findings[0];
        assert!(f.message.contains("two PAX headers"), "{}", f.message);
        assert_eq!((f.entry.as_deref(), f.offset), (Some("b.txt"), Some(1024)));
    }

    #[test]
    fn gnu_dumpdir_data_is_stepped_over() {
        // Go reads `D` as an entry with data, like any type but 1 to 6.
        let dumpdir = raw_header(
            tar::Header::new_gnu(),
            "d/",
            14,
            tar::EntryType::new(b'D'),
            |_| {},
        );
        let with_data = [dumpdir.as_slice(), b"Ya\0Yb\0Nc\0\0\0\0\0\0"].concat();
        let log = run_all_ways(&then_b_txt(&[&with_data]));
        assert_eq!(
            log.events,
            [
                "entry d/ Other(68) 14",
                "end",
                "entry b.txt File 1",
                "data 1",
                "end"
            ]
        );
    }

    #[test]
    fn the_archive_may_end_inside_a_sparse_map() {
        let sparse = raw_header(
            tar::Header::new_gnu(),
            "s",
            0,
            tar::EntryType::GNUSparse,
            |b| {
                b[482] = 1;
                b[483..494].copy_from_slice(b"00000001000");
            },
        );
        let bytes = prepend(&[&sparse], &[0; 100]);
        let log = run_all_ways(&bytes);
        assert_eq!(log.events, ["entry s Sparse 0", "end"]);
        let f = &log.findings[0];
        assert_eq!(f.kind, FindingKind::Truncated);
        assert!(f.message.contains("sparse map"), "{}", f.message);
        assert_eq!(f.offset, Some(612));
    }
}
