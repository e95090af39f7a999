//! Go build information, read from an ELF executable as it streams past.
//!
//! The Go linker (1.18 and later) writes a 32-byte header into the
//! `.go.buildinfo` section, aligned to 16 bytes: the 14-byte magic
//! `\xff Go buildinf:`, the pointer size, and a flags byte whose bit 1 says
//! the two strings follow inline. After the header come the toolchain
//! version and the module information, each prefixed with its length as an
//! unsigned varint. The module information is the text `go version -m`
//! prints (`path`, `mod`, `dep`, `=>` and `build` lines, tab-separated),
//! framed by two 16-byte sentinels. Before 1.18 the header held pointers to
//! the strings instead, which a stream cannot follow; that format is
//! reported, not read. See Go's `debug/buildinfo` and `runtime/debug`.
//!
//! The section's file offset is a multiple of 16 in the executables Go
//! links, so only 16-aligned blocks are compared with the magic: one in
//! sixteen positions, and the magic quoted as a string constant elsewhere
//! in the binary (by any program that imports `debug/buildinfo`) is not
//! taken for the header.

use super::Found;
use super::purl::Fields;
use crate::contents::Ecosystem;

const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const ELF_MAGIC: &[u8; 4] = b"\x7fELF";
/// Header bytes after the magic block: two pointers, unused inline.
const HEADER_REST: usize = 16;
/// Go versions are short (`go1.22.1`, `devel go1.23-abc123 Tue Jan 2
/// 15:04:05 2024 +0000`); a longer string means this was not the header.
const VERSION_MAX: usize = 128;
/// Module information of the largest Go programs (Kubernetes, Docker) is
/// tens of KiB.
pub(crate) const MODINFO_MAX: usize = 1024 * 1024;

/// What the scan of one executable found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GoScan {
    /// Not ELF, or no build information in it: not a Go program (or one
    /// linked without it).
    NotGo,
    /// Build information in the Go 1.18+ inline format.
    Found(GoBuildInfo),
    /// Build information in the pre-1.18 pointer format: a Go program
    /// whose modules are not read.
    PointerFormat,
    /// A header was found but what follows cannot be read.
    Unreadable(String),
}

/// A Go program's build information, as `go version -m` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoBuildInfo {
    /// `go1.22.1`.
    pub go_version: String,
    /// The main package's import path.
    pub path: Option<String>,
    /// The main module; absent when built outside module mode (Debian's
    /// Go packages are).
    pub main: Option<GoModule>,
    pub deps: Vec<GoModule>,
    /// The `GOARCH` build setting.
    pub goarch: Option<String>,
}

/// One `mod` or `dep` line, and the `=>` line replacing it if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoModule {
    pub path: String,
    pub version: String,
    pub sum: String,
    pub replace: Option<Box<GoModule>>,
}

/// Push-fed scanner for one executable's bytes; memory stays under
/// [`MODINFO_MAX`] plus a few hundred bytes whatever the file's size.
#[derive(Debug)]
pub(crate) struct GoScanner {
    /// File offset of the next byte fed to the state machine.
    offset: u64,
    state: State,
    pointer_format: bool,
}

#[derive(Debug)]
enum State {
    /// Checking each 16-aligned block; `block` holds the start of one that
    /// a chunk boundary cut.
    Search {
        block: Vec<u8>,
    },
    /// After an inline-format magic block at file offset `start`: the
    /// bytes that follow it, until the two strings are complete.
    Blob {
        start: u64,
        bytes: Vec<u8>,
    },
    Done(GoScan),
}

/// What the bytes after a magic block say so far.
enum Step {
    Need(usize),
    /// Not a real header after all: search on from the next block.
    Reject,
    Done(GoScan),
}

impl Default for GoScanner {
    fn default() -> Self {
        Self::new()
    }
}

impl GoScanner {
    pub(crate) fn new() -> Self {
        Self {
            offset: 0,
            state: State::Search { block: Vec::new() },
            pointer_format: false,
        }
    }

    /// Whether more bytes could change the result.
    pub(crate) fn wants_more(&self) -> bool {
        !matches!(self.state, State::Done(_))
    }

    pub(crate) fn held_bytes(&self) -> usize {
        match &self.state {
            State::Search { block } => block.len(),
            State::Blob { bytes, .. } => bytes.len(),
            State::Done(_) => 0,
        }
    }

    /// The next piece of the file.
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        self.feed(chunk);
    }

    /// The result, after the file's last byte.
    pub(crate) fn finish(self) -> GoScan {
        match self.state {
            State::Done(scan) => scan,
            // A real toolchain version was read: this is a Go program,
            // cut short.
            State::Blob { bytes, .. } if matches!(read_version(&bytes), VersionRead::Ok(..)) => {
                GoScan::Unreadable("the file ends inside its build information".into())
            }
            _ if self.pointer_format => GoScan::PointerFormat,
            _ => GoScan::NotGo,
        }
    }

    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            match &mut self.state {
                State::Done(_) => {
                    self.offset += data.len() as u64;
                    return;
                }
                State::Search { block } if block.is_empty() && data.len() >= 16 => {
                    // Whole blocks straight from the chunk.
                    let whole = data.len() / 16 * 16;
                    let mut used = whole;
                    for (i, b) in data[..whole].chunks_exact(16).enumerate() {
                        let at = self.offset + (i as u64) * 16;
                        if self.check_block(at, b) {
                            used = (i + 1) * 16;
                            break;
                        }
                    }
                    self.offset += used as u64;
                    data = &data[used..];
                }
                State::Search { block } => {
                    let take = (16 - block.len()).min(data.len());
                    block.extend_from_slice(&data[..take]);
                    self.offset += take as u64;
                    data = &data[take..];
                    if block.len() == 16 {
                        let b = std::mem::take(block);
                        self.check_block(self.offset - 16, &b);
                    }
                }
                State::Blob { start, bytes } => match step(bytes) {
                    Step::Reject => {
                        let start = *start;
                        self.reject(start);
                    }
                    Step::Need(n) => {
                        let take = n.min(data.len());
                        bytes.extend_from_slice(&data[..take]);
                        self.offset += take as u64;
                        data = &data[take..];
                    }
                    Step::Done(scan) => self.state = State::Done(scan),
                },
            }
        }
        // The last byte may have completed the strings.
        if let State::Blob { start, bytes } = &self.state {
            let start = *start;
            match step(bytes) {
                Step::Need(_) => {}
                Step::Done(scan) => self.state = State::Done(scan),
                Step::Reject => self.reject(start),
            }
        }
    }

    /// Re-reads the bytes after a false header as ordinary blocks: the real
    /// header could start among them.
    fn reject(&mut self, start: u64) {
        let replay = match std::mem::replace(&mut self.state, State::Search { block: Vec::new() }) {
            State::Blob { bytes, .. } => bytes,
            _ => Vec::new(),
        };
        self.offset = start + 16;
        // At most a few hundred bytes, each replay shorter than the last.
        self.feed(&replay);
    }

    /// Checks the aligned block at `at`; true when it changed the state.
    fn check_block(&mut self, at: u64, block: &[u8]) -> bool {
        if at == 0 && !block.starts_with(ELF_MAGIC) {
            self.state = State::Done(GoScan::NotGo);
            return true;
        }
        if !block.starts_with(MAGIC) || !matches!(block[14], 4 | 8) {
            return false;
        }
        if block[15] & 2 != 0 {
            self.state = State::Blob {
                start: at,
                bytes: Vec::new(),
            };
            return true;
        }
        self.pointer_format = true;
        false
    }
}

/// The toolchain version after a magic block, as far as `bytes` goes.
enum VersionRead<'a> {
    Need(usize),
    Reject,
    /// The version, and where the module information's length starts.
    Ok(&'a [u8], usize),
}

fn read_version(bytes: &[u8]) -> VersionRead<'_> {
    if bytes.len() < HEADER_REST {
        return VersionRead::Need(HEADER_REST - bytes.len());
    }
    let rest = &bytes[HEADER_REST..];
    let (version_len, n) = match uvarint(rest) {
        Varint::Incomplete => return VersionRead::Need(1),
        Varint::Bad => return VersionRead::Reject,
        Varint::Value(v, n) => (v, n),
    };
    if version_len == 0 || version_len > VERSION_MAX as u64 {
        return VersionRead::Reject;
    }
    let version_len = version_len as usize;
    let Some(version) = rest.get(n..n + version_len) else {
        return VersionRead::Need(n + version_len - rest.len());
    };
    let plausible = (version.starts_with(b"go") || version.starts_with(b"devel"))
        && version.iter().all(|b| (0x20..0x7f).contains(b));
    if plausible {
        VersionRead::Ok(version, HEADER_REST + n + version_len)
    } else {
        VersionRead::Reject
    }
}

/// Decodes what follows a magic block as far as `bytes` goes.
fn step(bytes: &[u8]) -> Step {
    let (version, end) = match read_version(bytes) {
        VersionRead::Need(n) => return Step::Need(n),
        VersionRead::Reject => return Step::Reject,
        VersionRead::Ok(version, end) => (version, end),
    };
    let rest = &bytes[end..];
    let (mod_len, m) = match uvarint(rest) {
        Varint::Incomplete => return Step::Need(1),
        Varint::Bad => {
            return Step::Done(GoScan::Unreadable(
                "the module information's length does not decode".into(),
            ));
        }
        Varint::Value(v, m) => (v, m),
    };
    if mod_len > MODINFO_MAX as u64 {
        return Step::Done(GoScan::Unreadable(format!(
            "module information of {mod_len} bytes, more than the {MODINFO_MAX} Airlock reads"
        )));
    }
    let mod_len = mod_len as usize;
    let Some(modinfo) = rest.get(m..m + mod_len) else {
        return Step::Need(m + mod_len - rest.len());
    };
    // `version` is printable ASCII, checked above.
    let go_version = String::from_utf8_lossy(version).into_owned();
    Step::Done(match parse_modinfo(modinfo) {
        Ok(mut info) => {
            info.go_version = go_version;
            GoScan::Found(info)
        }
        Err(e) => GoScan::Unreadable(format!("{go_version}: {e}")),
    })
}

enum Varint {
    Incomplete,
    Bad,
    Value(u64, usize),
}

/// Go's `binary.Uvarint`: little-endian base-128, at most 10 bytes.
fn uvarint(bytes: &[u8]) -> Varint {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if i == 9 && b > 1 {
            return Varint::Bad;
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Varint::Value(value, i + 1);
        }
        if i == 9 {
            return Varint::Bad;
        }
    }
    Varint::Incomplete
}

/// The module text between its sentinels, parsed as Go's
/// `debug.ParseBuildInfo` parses it (build settings other than `GOARCH`
/// are skipped, not checked).
fn parse_modinfo(raw: &[u8]) -> Result<GoBuildInfo, String> {
    let mut info = GoBuildInfo::default();
    // Go strips the framing only when it is there; without it the binary
    // was built outside module mode and has no module lines.
    let framed = raw.len() >= 33 && raw[raw.len() - 17] == b'\n';
    if !framed {
        return Ok(info);
    }
    let text = std::str::from_utf8(&raw[16..raw.len() - 16])
        .map_err(|_| "the module information is not UTF-8".to_owned())?;
    // Which module a `=>` line replaces: the main one or a dep.
    enum Last {
        None,
        Main,
        Dep,
    }
    let mut last = Last::None;
    let mut lines = text.split('\n');
    // As Go's strings.Cut loop: a last line without a newline is ignored.
    let _ = lines.next_back();
    for (index, line) in lines.enumerate() {
        let err = |what: &str| format!("line {} of the module information: {what}", index + 1);
        if let Some(path) = line.strip_prefix("path\t") {
            info.path = Some(path.to_owned());
        } else if let Some(cols) = line.strip_prefix("mod\t") {
            info.main = Some(module_line(cols).ok_or_else(|| err("expected 2 or 3 columns"))?);
            last = Last::Main;
        } else if let Some(cols) = line.strip_prefix("dep\t") {
            info.deps
                .push(module_line(cols).ok_or_else(|| err("expected 2 or 3 columns"))?);
            last = Last::Dep;
        } else if let Some(cols) = line.strip_prefix("=>\t") {
            let cols: Vec<&str> = cols.split('\t').collect();
            let [path, version, sum] = cols.as_slice() else {
                return Err(err("expected 3 columns for a replacement"));
            };
            let replace = Some(Box::new(GoModule {
                path: (*path).to_owned(),
                version: (*version).to_owned(),
                sum: (*sum).to_owned(),
                replace: None,
            }));
            let target = match last {
                Last::Main => info.main.as_mut(),
                Last::Dep => info.deps.last_mut(),
                Last::None => None,
            };
            target
                .ok_or_else(|| err("a replacement with no module before it"))?
                .replace = replace;
            last = Last::None;
        } else if let Some(arch) = line.strip_prefix("build\tGOARCH=") {
            info.goarch = Some(arch.to_owned());
        }
    }
    Ok(info)
}

fn module_line(cols: &str) -> Option<GoModule> {
    let cols: Vec<&str> = cols.split('\t').collect();
    let (path, version, sum) = match cols.as_slice() {
        [path, version] => (path, version, &""),
        [path, version, sum] => (path, version, sum),
        _ => return None,
    };
    Some(GoModule {
        path: (*path).to_owned(),
        version: (*version).to_owned(),
        sum: (*sum).to_owned(),
        replace: None,
    })
}

/// The packages a scan found: the standard library at the toolchain's
/// version, the main module and every dependency (as replaced, if it was).
pub(super) fn catalog(scan: &GoScan, found: &mut Found<'_>) {
    let info = match scan {
        GoScan::NotGo => return,
        GoScan::PointerFormat => {
            found.note(
                "a Go program whose build information is in the format before Go 1.18, \
                 which Airlock does not read: its Go version and modules are not listed",
            );
            return;
        }
        GoScan::Unreadable(why) => {
            found.note(format!("could not read the Go build information: {why}"));
            return;
        }
        GoScan::Found(info) => info,
    };
    let arch = info.goarch.as_deref();

    let mut stdlib = Fields::new(Ecosystem::Golang, "stdlib", &info.go_version);
    // `go1.22.1 X:boringcrypto` is release 1.22.1; a `devel` toolchain
    // names no release.
    stdlib.purl_version = info
        .go_version
        .split_whitespace()
        .next()
        .and_then(|v| v.strip_prefix("go"))
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()));
    stdlib.arch = arch;
    found.package(stdlib, None);

    match &info.main {
        Some(main) => module(main, arch, found),
        None => found.note(format!(
            "a Go program built without module information (main package {}): \
             only its Go version is listed",
            info.path.as_deref().unwrap_or("unknown")
        )),
    }
    for dep in &info.deps {
        module(dep, arch, found);
    }
}

fn module(m: &GoModule, arch: Option<&str>, found: &mut Found<'_>) {
    let used = match m.replace.as_deref() {
        Some(r) if r.path.starts_with(['.', '/']) => {
            found.note(format!(
                "Go module {} is replaced by the local directory {}, which has no version: left out",
                m.path, r.path
            ));
            return;
        }
        Some(r) => r,
        None => m,
    };
    if used.path.is_empty() || used.version.is_empty() {
        found.note(format!(
            "Go module {:?} has no version in the build information: left out",
            used.path
        ));
        return;
    }
    let (namespace, name) = match used.path.rsplit_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, used.path.as_str()),
    };
    let mut fields = Fields::new(Ecosystem::Golang, name, &used.version);
    fields.namespace = namespace;
    fields.full_name = Some(&used.path);
    fields.arch = arch;
    // `(devel)`: the main module built from a work tree; no release.
    if used.version == "(devel)" {
        fields.purl_version = None;
    }
    found.package(fields, None);
}

#[cfg(test)]
mod tests;
