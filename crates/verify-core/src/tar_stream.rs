//! A push-fed tar reader: bytes in, entry events out.
//!
//! Header parsing (ustar, GNU, PAX records) is the `tar` crate's; this module
//! only adds what that crate cannot do for us: accept input in arbitrary
//! pieces, never buffer entry data, and refuse ambiguities that real
//! importers resolve differently (PAX size vs ustar size, data on
//! header-only entries, a lone zero block). Where Go's `archive/tar`
//! (docker, containerd) and GNU tar differ we report the entry as invalid
//! and follow Go, since Go is what imports the bundle.

use crate::limits::Limits;
use crate::report::{Finding, FindingKind};

const BLOCK: usize = 512;
/// The header's checksum field, summed as spaces.
const CKSUM_RANGE: std::ops::Range<usize> = 148..156;

/// What an entry is, reduced to what matters for an image bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    Dir,
    Symlink,
    Hardlink,
    /// Devices, fifos and anything else with no place in a bundle.
    Other(u8),
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
    pax_path: Option<Vec<u8>>,
    pax_link: Option<Vec<u8>>,
    gnu_name: Option<Vec<u8>>,
    gnu_link: Option<Vec<u8>>,
    size: Option<u64>,
    first_offset: Option<u64>,
    pax_seen: bool,
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
    /// Name of the entry whose data is being read, for truncation messages.
    current: Option<(String, u64, u64)>,
    entries: u64,
    max_entries: u64,
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
            current: None,
            entries: 0,
            max_entries: limits.max_entries,
            max_meta: limits.max_tar_metadata_bytes,
        }
    }

    /// Entries seen so far (metadata headers not counted).
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// Feeds the next bytes of the tar stream.
    pub fn update<S: TarSink>(&mut self, mut input: &[u8], sink: &mut S) {
        while !input.is_empty() {
            match &mut self.state {
                State::Header { .. } => {
                    let take = (BLOCK - self.fill).min(input.len());
                    self.block[self.fill..self.fill + take].copy_from_slice(&input[..take]);
                    self.fill += take;
                    input = &input[take..];
                    if self.fill == BLOCK {
                        self.fill = 0;
                        let at = self.offset;
                        self.offset += BLOCK as u64;
                        self.header_block(at, sink);
                    }
                }
                State::Data { remaining, pad } => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    sink.data(&input[..take]);
                    *remaining -= take as u64;
                    self.offset += take as u64;
                    input = &input[take..];
                    if *remaining == 0 {
                        let pad = *pad;
                        self.current = None;
                        sink.entry_end();
                        self.state = skip_then_header(pad);
                    }
                }
                State::Meta {
                    kind,
                    remaining,
                    pad,
                } => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    self.meta.extend_from_slice(&input[..take]);
                    *remaining -= take as u64;
                    self.offset += take as u64;
                    input = &input[take..];
                    if *remaining == 0 {
                        let (kind, pad) = (*kind, *pad);
                        self.state = skip_then_header(pad);
                        self.meta_done(kind, sink);
                    }
                }
                State::Skip { remaining } => {
                    let take = usize::try_from(*remaining)
                        .unwrap_or(usize::MAX)
                        .min(input.len());
                    *remaining -= take as u64;
                    self.offset += take as u64;
                    input = &input[take..];
                    if *remaining == 0 {
                        self.state = State::Header { zero_seen: false };
                    }
                }
                State::End { trailing_reported } => {
                    // tar pads archives to its record size with zeros; anything
                    // else after the marker is invisible to importers.
                    if !*trailing_reported && let Some(pos) = input.iter().position(|&b| b != 0) {
                        *trailing_reported = true;
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
                    input = &[];
                }
                State::Failed => {
                    self.offset += input.len() as u64;
                    input = &[];
                }
            }
        }
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

    fn header_block<S: TarSink>(&mut self, at: u64, sink: &mut S) {
        let zero_seen = matches!(self.state, State::Header { zero_seen: true });
        if self.block.iter().all(|&b| b == 0) {
            if zero_seen {
                self.state = State::End {
                    trailing_reported: false,
                };
            } else {
                self.state = State::Header { zero_seen: true };
            }
            return;
        }
        if zero_seen {
            // Go's archive/tar rejects this; GNU tar skips the lone block and reads on.
            return self.fail(
                sink,
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    "a single zero block is followed by more entries; readers disagree on \
                     whether the archive ended there",
                )
                .at(at - BLOCK as u64),
            );
        }
        if !checksum_ok(&self.block) {
            let finding = if at == 0 {
                Finding::new(FindingKind::NotABundle, not_a_tar_message(&self.block)).at(0)
            } else {
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    "tar header checksum does not match; the archive is corrupt from here on",
                )
                .at(at)
            };
            return self.fail(sink, finding);
        }
        let header = tar::Header::from_byte_slice(&self.block);
        let stored_size = match header.entry_size() {
            Ok(size) => size,
            Err(_) => {
                return self.fail(
                    sink,
                    Finding::new(
                        FindingKind::TarHeaderInvalid,
                        "tar header size field is not a number",
                    )
                    .at(at),
                );
            }
        };
        // The raw byte: the tar crate folds the pre-POSIX NUL type into `0`; Go does not.
        let type_byte = self.block[156];
        let meta = match type_byte {
            b'x' => Some(MetaKind::Pax),
            b'g' => Some(MetaKind::GlobalPax),
            b'L' => Some(MetaKind::LongName),
            b'K' => Some(MetaKind::LongLink),
            _ => None,
        };
        if let Some(kind) = meta {
            if stored_size > self.max_meta {
                return self.fail(
                    sink,
                    Finding::new(
                        FindingKind::LimitExceeded,
                        format!(
                            "extended tar header of {stored_size} bytes exceeds the limit of {} bytes",
                            self.max_meta
                        ),
                    )
                    .at(at)
                    .expected_found(self.max_meta, stored_size)
                    .limit("max_tar_metadata_bytes"),
                );
            }
            self.pending.first_offset.get_or_insert(at);
            self.meta.clear();
            self.state = if stored_size == 0 {
                State::Header { zero_seen: false }
            } else {
                State::Meta {
                    kind,
                    remaining: stored_size,
                    pad: padding(stored_size),
                }
            };
            if stored_size == 0 {
                self.meta_done(kind, sink);
            }
            return;
        }

        self.entries += 1;
        if self.entries > self.max_entries {
            return self.fail(
                sink,
                Finding::new(
                    FindingKind::LimitExceeded,
                    format!("the archive has more than {} entries", self.max_entries),
                )
                .at(at)
                .limit("max_entries"),
            );
        }

        let pending = std::mem::take(&mut self.pending);
        let header_offset = pending.first_offset.unwrap_or(at);
        if let Some(why) = ambiguous_name(&self.block, &pending) {
            sink.finding(
                Finding::new(FindingKind::TarHeaderInvalid, why)
                    .entry(String::from_utf8_lossy(&header.path_bytes()).into_owned())
                    .at(header_offset),
            );
        }
        // Go's archive/tar (docker, containerd) lets a GNU long name override
        // a PAX path whatever their order; follow it.
        let name = pending
            .gnu_name
            .or(pending.pax_path)
            .unwrap_or_else(|| header.path_bytes().into_owned());
        let link = pending
            .gnu_link
            .or(pending.pax_link)
            .or_else(|| header.link_name_bytes().map(|l| l.into_owned()));
        let kind = match type_byte {
            // Go reads a pre-POSIX regular file whose name ends in `/` as a directory.
            b'\0' if name.ends_with(b"/") => EntryKind::Dir,
            b'0' | b'\0' | b'7' => EntryKind::File,
            b'5' => EntryKind::Dir,
            b'2' => EntryKind::Symlink,
            b'1' => EntryKind::Hardlink,
            other => EntryKind::Other(other),
        };
        let display = String::from_utf8_lossy(&name).into_owned();

        let mut size = stored_size;
        if let Some(pax_size) = pending.size {
            // ustar size 0 (Go) or the octal maximum (GNU tar) beside a larger
            // PAX size is how > 8 GiB entries are written; anything else means
            // PAX-aware and PAX-blind readers see different archives.
            let legit = stored_size == pax_size
                || (stored_size == 0 && pax_size > 0)
                || (stored_size == 0o77777777777 && pax_size > stored_size);
            if !legit {
                sink.finding(
                    Finding::new(
                        FindingKind::TarHeaderInvalid,
                        "PAX header size and ustar header size disagree; readers that ignore \
                         PAX (CVE-2025-62518) see different entries than those that honour it",
                    )
                    .entry(display.clone())
                    .at(header_offset)
                    .expected_found(
                        format!("ustar size {stored_size}"),
                        format!("PAX size {pax_size}"),
                    ),
                );
            }
            size = pax_size;
        }
        let header_only = matches!(
            kind,
            EntryKind::Dir | EntryKind::Symlink | EntryKind::Hardlink
        ) || matches!(kind, EntryKind::Other(b'3' | b'4' | b'6'));
        if header_only && size != 0 {
            sink.finding(
                Finding::new(
                    FindingKind::TarHeaderInvalid,
                    format!(
                        "a link, directory or device entry declares {size} data bytes; Go readers \
                         skip none of them, other readers skip them all"
                    ),
                )
                .entry(display.clone())
                .at(header_offset),
            );
            size = 0;
        }

        let entry = EntryHeader {
            name,
            link,
            kind,
            size,
            header_offset,
        };
        sink.entry(&entry);
        if size == 0 {
            sink.entry_end();
            self.state = State::Header { zero_seen: false };
        } else if kind == EntryKind::File {
            self.current = Some((display, size, header_offset));
            self.state = State::Data {
                remaining: size,
                pad: padding(size),
            };
        } else {
            sink.entry_end();
            self.state = State::Skip {
                remaining: size + padding(size),
            };
        }
    }

    fn meta_done<S: TarSink>(&mut self, kind: MetaKind, sink: &mut S) {
        let at = self.pending.first_offset.unwrap_or(self.offset);
        match kind {
            // Go applies a long name only when it is not empty.
            MetaKind::LongName => {
                self.pending.gnu_name = Some(trim_nul(&self.meta)).filter(|n| !n.is_empty())
            }
            MetaKind::LongLink => {
                self.pending.gnu_link = Some(trim_nul(&self.meta)).filter(|n| !n.is_empty())
            }
            MetaKind::GlobalPax => {
                // Go hands a global header to its caller as an entry and
                // forgets names pending from earlier headers; other readers
                // carry them to the next entry.
                let p = &self.pending;
                if p.gnu_name.is_some()
                    || p.gnu_link.is_some()
                    || p.pax_path.is_some()
                    || p.pax_link.is_some()
                    || p.size.is_some()
                {
                    sink.finding(
                        Finding::new(
                            FindingKind::TarHeaderInvalid,
                            "a global PAX header separates an extended name from its entry; \
                             readers disagree on which entry it names",
                        )
                        .at(at),
                    );
                }
                let first_offset = self.pending.first_offset;
                self.pending = Pending {
                    first_offset,
                    ..Pending::default()
                };
                // Global records apply to every later entry; Go ignores them for
                // paths and sizes, so one that sets either is ambiguous.
                if pax_records(&self.meta)
                    .is_some_and(|r| r.iter().any(|(k, _)| k == "path" || k == "size"))
                {
                    sink.finding(
                        Finding::new(
                            FindingKind::TarHeaderInvalid,
                            "a global PAX header sets a path or size; readers disagree on it",
                        )
                        .at(at),
                    );
                }
            }
            MetaKind::Pax => {
                if self.pending.pax_seen {
                    sink.finding(
                        Finding::new(
                            FindingKind::TarHeaderInvalid,
                            "two PAX headers precede one entry",
                        )
                        .at(at),
                    );
                }
                self.pending.pax_seen = true;
                let Some(records) = pax_records(&self.meta) else {
                    self.fail(
                        sink,
                        Finding::new(
                            FindingKind::TarHeaderInvalid,
                            "PAX header records do not parse",
                        )
                        .at(at),
                    );
                    return;
                };
                for (key, value) in records {
                    // POSIX: an empty value removes the record, so the ustar
                    // field applies again (Go does the same).
                    if value.is_empty() && matches!(key.as_str(), "path" | "linkpath" | "size") {
                        continue;
                    }
                    match key.as_str() {
                        "path" => self.pending.pax_path = Some(value),
                        "linkpath" => self.pending.pax_link = Some(value),
                        "size" => {
                            let parsed = std::str::from_utf8(&value)
                                .ok()
                                .and_then(|v| v.parse::<u64>().ok());
                            match parsed {
                                Some(size) => self.pending.size = Some(size),
                                None => {
                                    self.fail(
                                        sink,
                                        Finding::new(
                                            FindingKind::TarHeaderInvalid,
                                            "PAX size record is not a number",
                                        )
                                        .at(at),
                                    );
                                    return;
                                }
                            }
                        }
                        k if k.starts_with("GNU.sparse") => sink.finding(
                            Finding::new(
                                FindingKind::TarHeaderInvalid,
                                "sparse entries are not expected in an image bundle",
                            )
                            .at(at),
                        ),
                        _ => {}
                    }
                }
            }
        }
        self.meta.clear();
    }
}

/// Names that Go's archive/tar and the `tar` crate (or GNU tar) would read
/// differently. Returns why, or `None` when every reader agrees.
fn ambiguous_name(block: &[u8; BLOCK], pending: &Pending) -> Option<&'static str> {
    if pending.gnu_name.is_some() && pending.pax_path.is_some() {
        return Some(
            "both a GNU long name and a PAX path name this entry; readers pick different ones",
        );
    }
    if pending.gnu_link.is_some() && pending.pax_link.is_some() {
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
        // Go's parser: base-256 when the high bit is set, else octal digits
        // with spaces and NULs allowed only around them.
        let numeric = |field: &[u8]| {
            if field.first().is_none_or(|&b| b == 0 || b & 0x80 != 0) {
                return true;
            }
            let is_pad = |b: &u8| *b == b' ' || *b == 0;
            let start = field.iter().position(|b| !is_pad(b)).unwrap_or(field.len());
            let end = field
                .iter()
                .rposition(|b| !is_pad(b))
                .map_or(start, |e| e + 1);
            field[start..end].iter().all(|b| (b'0'..=b'7').contains(b))
        };
        if !numeric(&block[345..357]) || !numeric(&block[357..369]) {
            return Some(
                "a GNU header's access/change time fields are not numbers; Go then reads them as a name prefix",
            );
        }
    }
    None
}

fn skip_then_header(pad: u64) -> State {
    if pad == 0 {
        State::Header { zero_seen: false }
    } else {
        State::Skip { remaining: pad }
    }
}

fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

fn trim_nul(bytes: &[u8]) -> Vec<u8> {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    bytes[..end].to_vec()
}

/// PAX records as (key, value) pairs, or `None` if any record is malformed.
fn pax_records(data: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    // The tar crate stops at a NUL in the data; records never contain one.
    let end = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let mut out = Vec::new();
    for ext in tar::PaxExtensions::new(&data[..end]) {
        let ext = ext.ok()?;
        let key = ext.key().ok()?.to_owned();
        out.push((key, ext.value_bytes().to_vec()));
    }
    Some(out)
}

/// Whether the header checksum matches, summed unsigned or (historic tars) signed.
fn checksum_ok(block: &[u8; BLOCK]) -> bool {
    let header = tar::Header::from_byte_slice(block);
    let Ok(stored) = header.cksum() else {
        return false;
    };
    let mut unsigned: u32 = 0;
    let mut signed: i64 = 0;
    for (i, &b) in block.iter().enumerate() {
        let b = if CKSUM_RANGE.contains(&i) { b' ' } else { b };
        unsigned += u32::from(b);
        signed += i64::from(b as i8);
    }
    stored == unsigned || i64::from(stored) == signed
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
}
