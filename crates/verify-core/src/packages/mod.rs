//! Packages in an image (the SBOM's input), read from the few files that
//! record them, in the same pass that checks the layers.
//!
//! The layer reader drives this module in three steps:
//!
//! 1. For each regular file a layer tar holds, it asks [`wanted`] whether the
//!    catalogers need it, and if so feeds the file's bytes to the
//!    [`Capture`] that [`Want::start`] makes. A capture keeps at most its
//!    bound ([`Want::Whole`]), scans for Go build information in constant
//!    memory ([`Want::GoBinary`]) or keeps nothing ([`Want::PresenceOnly`]).
//! 2. Once the image's final tree is known, it hands the captures of the
//!    files that survive in it to [`catalog`] as [`CapturedFile`]s.
//! 3. [`catalog`] returns the OS, the packages and a note for everything it
//!    could not read, each naming the file and layer.
//!
//! Nothing here panics on hostile bytes, and no version is ever made up: a
//! record without one, or one in a file cut at its bound, becomes a note.

mod apk;
mod dpkg;
mod fields;
mod go_buildinfo;
mod npm;
mod os_release;
mod purl;
mod python;

pub(crate) use go_buildinfo::{GoScan, GoScanner};

use crate::contents::{OsInfo, Package, PackageNote};

/// `etc/os-release` and its fallback: a few hundred bytes in practice.
pub(crate) const OS_RELEASE_MAX: usize = 64 * 1024;
/// dpkg's `status` holds every installed package's control fields: about
/// 1 MiB for a 400-package Debian, 8-10 MiB for a 3000-package desktop.
pub(crate) const DPKG_STATUS_MAX: usize = 32 * 1024 * 1024;
/// A distroless `status.d/<package>` file holds one package's fields.
pub(crate) const DPKG_STATUS_D_MAX: usize = 1024 * 1024;
/// apk's `installed` also lists every file of every package (`R:`/`Z:`
/// lines), so it is larger than dpkg's status for the same package count.
pub(crate) const APK_INSTALLED_MAX: usize = 32 * 1024 * 1024;
/// Only the header of a `METADATA` file is read; the long description that
/// follows it can be hundreds of KiB, so the capture stops well before.
pub(crate) const PYTHON_METADATA_MAX: usize = 64 * 1024;
/// A `package.json` is a few KiB; old npm versions stored the readme in it.
pub(crate) const NPM_PACKAGE_JSON_MAX: usize = 1024 * 1024;
/// Executables smaller than this are not Go programs with build
/// information (the smallest stripped Go binary is several hundred KiB),
/// so scripts and small tools are not scanned.
pub(crate) const GO_BINARY_MIN: u64 = 64 * 1024;
/// Executables larger than this are not scanned, only noted; the scan is
/// constant-memory but costs time on every byte.
pub(crate) const GO_BINARY_MAX: u64 = 1024 * 1024 * 1024;

/// What the catalogers need of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Its bytes, up to `max_bytes`.
    Whole {
        /// The most to keep; a longer file is kept cut, and noted.
        max_bytes: usize,
    },
    /// A regular executable: scan its bytes for Go build information.
    GoBinary,
    /// Only that it is there (a package database Airlock does not read).
    PresenceOnly(Unread),
}

/// Why a file is noted but not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unread {
    /// An rpm database (Berkeley DB, NDB or SQLite).
    RpmDatabase,
    /// An executable larger than [`GO_BINARY_MAX`].
    ExecutableTooLarge,
}

/// The rpm databases of the three formats rpm has used: Berkeley DB
/// (`Packages`), NDB (`Packages.db`, SUSE) and SQLite (`rpmdb.sqlite`,
/// Fedora 33+, which moved it to `usr/lib/sysimage/rpm`).
const RPM_DATABASES: &[&str] = &[
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];

/// Whether the catalogers need the regular file at `path` (cleaned,
/// relative: `etc/os-release`), of `size` bytes and permission bits
/// `mode`. Call it for regular files only: a symlink's target or a hard
/// link's source is asked about under its own path.
pub(crate) fn wanted(path: &str, size: u64, mode: u32) -> Option<Want> {
    let whole = |max_bytes| Some(Want::Whole { max_bytes });
    match path {
        "etc/os-release" | "usr/lib/os-release" => return whole(OS_RELEASE_MAX),
        "var/lib/dpkg/status" => return whole(DPKG_STATUS_MAX),
        "lib/apk/db/installed" => return whole(APK_INSTALLED_MAX),
        _ => {}
    }
    if RPM_DATABASES.contains(&path) {
        return Some(Want::PresenceOnly(Unread::RpmDatabase));
    }
    if let Some(name) = path.strip_prefix("var/lib/dpkg/status.d/") {
        // Distroless keeps one stanza per package here, beside the
        // package's `.md5sums`, which lists files, not packages.
        let is_stanza = !name.contains('/')
            && !name.starts_with('.')
            && !name.ends_with(".md5sums")
            && !name.ends_with(".list");
        return is_stanza.then_some(Want::Whole {
            max_bytes: DPKG_STATUS_D_MAX,
        });
    }
    if python::is_metadata(path) {
        return whole(PYTHON_METADATA_MAX);
    }
    if npm::is_package_json(path) {
        return whole(NPM_PACKAGE_JSON_MAX);
    }
    if mode & 0o111 != 0 && size >= GO_BINARY_MIN {
        if size > GO_BINARY_MAX {
            return Some(Want::PresenceOnly(Unread::ExecutableTooLarge));
        }
        return Some(Want::GoBinary);
    }
    None
}

impl Want {
    /// A capture for one file's bytes.
    pub(crate) fn start(self) -> Capture {
        let state = match self {
            Self::Whole { max_bytes } => CaptureState::Whole {
                bytes: Vec::new(),
                max_bytes,
                complete: true,
            },
            Self::GoBinary => CaptureState::Go(GoScanner::new()),
            Self::PresenceOnly(why) => CaptureState::Present(why),
        };
        Capture { state }
    }
}

/// One file's bytes being taken as they stream past; see [`Want::start`].
#[derive(Debug)]
pub(crate) struct Capture {
    state: CaptureState,
}

#[derive(Debug)]
enum CaptureState {
    Whole {
        bytes: Vec<u8>,
        max_bytes: usize,
        complete: bool,
    },
    Go(GoScanner),
    Present(Unread),
}

impl Capture {
    /// The next piece of the file.
    pub(crate) fn update(&mut self, chunk: &[u8]) {
        match &mut self.state {
            CaptureState::Whole {
                bytes,
                max_bytes,
                complete,
            } => {
                let room = max_bytes.saturating_sub(bytes.len());
                if chunk.len() > room {
                    *complete = false;
                }
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            CaptureState::Go(scanner) => scanner.update(chunk),
            CaptureState::Present(_) => {}
        }
    }

    /// Whether more bytes could change what is captured; the reader may
    /// stop feeding (not reading the tar) once this is false.
    pub(crate) fn wants_more(&self) -> bool {
        match &self.state {
            CaptureState::Whole { complete, .. } => *complete,
            CaptureState::Go(scanner) => scanner.wants_more(),
            CaptureState::Present(_) => false,
        }
    }

    /// Bytes held now, for the reader's capture budget ([`crate::Limits::max_captured_bytes`]).
    pub(crate) fn held_bytes(&self) -> usize {
        match &self.state {
            CaptureState::Whole { bytes, .. } => bytes.len(),
            CaptureState::Go(scanner) => scanner.held_bytes(),
            CaptureState::Present(_) => 0,
        }
    }

    /// What was captured, once the file's last byte was fed.
    pub(crate) fn finish(self) -> Captured {
        match self.state {
            CaptureState::Whole {
                bytes, complete, ..
            } => Captured::Whole { bytes, complete },
            CaptureState::Go(scanner) => Captured::Go(scanner.finish()),
            CaptureState::Present(why) => Captured::Present(why),
        }
    }
}

/// What a [`Capture`] kept of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Captured {
    /// The file's bytes; `complete` is false when it was cut at its bound
    /// (or the reader's total budget ran out and `bytes` is empty).
    Whole { bytes: Vec<u8>, complete: bool },
    /// What the Go build-information scan found.
    Go(GoScan),
    /// Present, not read.
    Present(Unread),
}

/// A captured file that survives in the image's final tree, borrowed from
/// the layer read that holds it: images sharing a layer share its captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CapturedFile<'a> {
    /// Cleaned relative path, as given to [`wanted`].
    pub path: &'a str,
    /// Index of the layer that last wrote it.
    pub layer: usize,
    /// Its full size in the layer, for the note when it was cut.
    pub size: u64,
    pub captured: &'a Captured,
}

/// What the catalogers found in one image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Catalog {
    pub os: Option<OsInfo>,
    /// Sorted by ecosystem, name, version, file.
    pub packages: Vec<Package>,
    /// Sorted by file, layer.
    pub notes: Vec<PackageNote>,
}

/// Where a record came from, for the packages and notes made from it.
#[derive(Debug, Clone, Copy)]
struct Origin<'a> {
    pub file: &'a str,
    pub layer: usize,
}

/// Collects packages and notes for one file.
struct Found<'a> {
    pub origin: Origin<'a>,
    pub packages: Vec<Package>,
    pub notes: Vec<PackageNote>,
}

impl<'a> Found<'a> {
    fn new(origin: Origin<'a>) -> Self {
        Self {
            origin,
            packages: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Adds a note about this file.
    fn note(&mut self, message: impl Into<String>) {
        self.notes.push(PackageNote {
            file: self.origin.file.to_owned(),
            layer: self.origin.layer,
            message: message.into(),
        });
    }

    /// Adds a package, or a note when its package URL cannot be formed.
    fn package(&mut self, p: purl::Fields<'_>, license: Option<String>) {
        let garbled = [Some(p.name), Some(p.version), p.arch]
            .into_iter()
            .flatten()
            .any(|s| s.contains(char::REPLACEMENT_CHARACTER));
        if garbled {
            self.note(format!(
                "{} package {:?} left out: its name, version or arch is not valid UTF-8",
                p.ecosystem.purl_type(),
                p.name
            ));
            return;
        }
        match p.to_purl() {
            Ok(url) => self.packages.push(Package {
                name: p.full_name.unwrap_or(p.name).to_owned(),
                version: p.version.to_owned(),
                arch: p.arch.map(str::to_owned),
                ecosystem: p.ecosystem,
                purl: url,
                file: self.origin.file.to_owned(),
                layer: self.origin.layer,
                license,
            }),
            Err(e) => self.note(format!(
                "{} package {:?} {:?} left out: no package URL can be formed ({e})",
                p.ecosystem.purl_type(),
                p.name,
                p.version
            )),
        }
    }
}

/// The distribution the OS packages belong to, for their package URLs:
/// the namespace (`debian`) and the `distro` qualifier (`debian-12`).
#[derive(Debug, Clone, Default)]
struct Distro {
    pub id: Option<String>,
    pub distro: Option<String>,
}

impl Distro {
    fn of(os: Option<&OsInfo>) -> Self {
        os.map_or_else(Self::default, |os| Self {
            id: Some(os.id.to_ascii_lowercase()),
            distro: os
                .version_id
                .as_ref()
                .map(|v| format!("{}-{v}", os.id.to_ascii_lowercase())),
        })
    }
}

/// Catalogs the packages in `files`, the captures that survive in one
/// image's final tree.
pub(crate) fn catalog(files: &[CapturedFile<'_>]) -> Catalog {
    let mut notes = Vec::new();
    let mut packages = Vec::new();

    let os = find_os(files, &mut notes);
    let distro = Distro::of(os.as_ref());

    for file in files {
        let origin = Origin {
            file: file.path,
            layer: file.layer,
        };
        let mut found = Found::new(origin);
        match file.captured {
            Captured::Present(Unread::RpmDatabase) => found.note(
                "an rpm database is present but Airlock does not read rpm databases: \
                 the rpm packages of this image are not listed",
            ),
            Captured::Present(Unread::ExecutableTooLarge) => found.note(format!(
                "executable of {} bytes not scanned for Go build information (the bound is {GO_BINARY_MAX} bytes)",
                file.size
            )),
            Captured::Go(scan) => go_buildinfo::catalog(scan, &mut found),
            Captured::Whole { bytes, complete } => {
                read_whole(file, bytes, *complete, &distro, &mut found);
            }
        }
        packages.append(&mut found.packages);
        notes.append(&mut found.notes);
    }

    packages.sort_by(|a, b| {
        (a.ecosystem, &a.name, &a.version, &a.file, a.layer).cmp(&(
            b.ecosystem,
            &b.name,
            &b.version,
            &b.file,
            b.layer,
        ))
    });
    notes.sort();
    Catalog {
        os,
        packages,
        notes,
    }
}

/// Dispatches a whole-file capture to its parser by path. os-release files
/// were read by [`find_os`] already.
fn read_whole(
    file: &CapturedFile<'_>,
    bytes: &[u8],
    complete: bool,
    distro: &Distro,
    found: &mut Found<'_>,
) {
    let path = file.path;
    if is_os_release(path) {
        return;
    }
    if python::is_metadata(path) {
        // The header is all that is read, so a cut file is fine as long as
        // its header ended inside the capture; python::read checks that.
        python::read(bytes, complete, found);
        return;
    }
    if !complete {
        found.note(cut_message(file, bytes.len()));
        return;
    }
    if path == "var/lib/dpkg/status" {
        dpkg::read(bytes, dpkg::Kind::Status, distro, found);
    } else if path.starts_with("var/lib/dpkg/status.d/") {
        dpkg::read(bytes, dpkg::Kind::StatusD, distro, found);
    } else if path == "lib/apk/db/installed" {
        apk::read(bytes, distro, found);
    } else if npm::is_package_json(path) {
        npm::read(bytes, found);
    }
}

fn cut_message(file: &CapturedFile<'_>, kept: usize) -> String {
    if kept == 0 {
        format!(
            "could not read: the file is {} bytes and the capture budget for this image was spent; its packages are not listed",
            file.size
        )
    } else {
        format!(
            "could not read: the file is {} bytes, more than the {kept} bytes Airlock keeps of it; its packages are not listed",
            file.size
        )
    }
}

fn is_os_release(path: &str) -> bool {
    path == "etc/os-release" || path == "usr/lib/os-release"
}

/// `etc/os-release` if it reads, else `usr/lib/os-release`, as os-release(5)
/// says a reader should fall back.
fn find_os(files: &[CapturedFile<'_>], notes: &mut Vec<PackageNote>) -> Option<OsInfo> {
    let mut os = None;
    for path in ["etc/os-release", "usr/lib/os-release"] {
        let Some(file) = files.iter().find(|f| f.path == path) else {
            continue;
        };
        let mut found = Found::new(Origin {
            file: file.path,
            layer: file.layer,
        });
        match file.captured {
            Captured::Whole {
                bytes,
                complete: true,
            } if os.is_none() => os = os_release::read(bytes, &mut found),
            Captured::Whole {
                bytes,
                complete: false,
            } if os.is_none() => found.note(cut_message(file, bytes.len())),
            _ => {}
        }
        notes.append(&mut found.notes);
    }
    os
}

/// Text of a captured file. Invalid UTF-8 (an old dpkg status with a
/// Latin-1 maintainer name) is replaced rather than refused, so one bad
/// description does not hide every package; [`Found::package`] refuses a
/// name, version or arch that holds a replacement character.
fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

#[cfg(test)]
mod tests;
