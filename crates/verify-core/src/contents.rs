//! What is inside the images: the file tree each image unpacks to, what
//! each layer changed, the config an approver reads, and the packages found.
//!
//! These are read from the layers' own tar streams in the same pass that
//! checks their digests; nothing here needs a second read of the bundle.
//! The types are `#[non_exhaustive]`: read their fields, but only the core
//! builds them, so a report always describes bytes that were read.

use serde::{Deserialize, Serialize};

/// What a path in the unpacked image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum FileType {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link; its target is in `link`, unresolved.
    Symlink,
    /// A hard link to the path in `link`, which an earlier entry wrote.
    Hardlink,
    /// A character device node.
    CharDevice,
    /// A block device node.
    BlockDevice,
    /// A named pipe.
    Fifo,
}

/// One path of an image's final file tree (all layers applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct FileEntry {
    /// Relative to the image root, `/`-separated, cleaned as Docker cleans
    /// it (`etc/passwd`, never `./etc/passwd`, `/etc/passwd` or `etc/`).
    pub path: String,
    /// What it is.
    #[serde(rename = "type")]
    pub file_type: FileType,
    /// Bytes of content (regular files; 0 for the others). A hard link
    /// shares its source's inode, so it shows the source's size, mode and
    /// owner as they were when the link was made.
    pub size: u64,
    /// Permission bits with setuid (`0o4000`), setgid and sticky.
    pub mode: u32,
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Symlink target or hard-link source, as written in the layer.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub link: Option<String>,
    /// Index in the image's `layers` of the layer that last wrote this path.
    pub layer: usize,
}

/// What one layer did to the tree below it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct LayerChanges {
    /// Paths this layer created that no lower layer had.
    pub added: u64,
    /// Content bytes of the added paths.
    pub added_bytes: u64,
    /// Paths this layer wrote over.
    pub changed: u64,
    /// Content bytes this layer wrote over them.
    pub changed_bytes: u64,
    /// Paths this layer removed (whiteouts, opaque directories, a directory
    /// replaced by a file), counting everything under a removed directory.
    pub removed: u64,
    /// Content bytes the removed paths had.
    pub removed_bytes: u64,
    /// Content bytes this layer wrote that a later layer replaced or
    /// removed: they are shipped and stored but never seen (dive's "wasted").
    pub wasted_bytes: u64,
}

/// What an image runs and how, from its config: what an approver reads
/// before letting it in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct ImageConfig {
    /// `Entrypoint`, as written.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub entrypoint: Option<Vec<String>>,
    /// `Cmd`, as written.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cmd: Option<Vec<String>>,
    /// `User`, as written (empty when unset).
    pub user: String,
    /// True when `User` is empty, `0` or `root` (with any group): the
    /// process runs as root unless the runtime says otherwise.
    pub runs_as_root: bool,
    /// `WorkingDir`, as written (empty when unset).
    pub working_dir: String,
    /// `Env`, in order.
    pub env: Vec<EnvVar>,
    /// `ExposedPorts` keys (`80/tcp`), sorted.
    pub exposed_ports: Vec<String>,
    /// `Volumes` keys, sorted.
    pub volumes: Vec<String>,
    /// `Labels`, sorted by key.
    pub labels: std::collections::BTreeMap<String, String>,
    /// `history`, one step per entry, empty layers included.
    pub history: Vec<HistoryStep>,
}

/// One `Env` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct EnvVar {
    /// The part before the first `=`.
    pub name: String,
    /// The rest, shown as written: the approver should see it.
    pub value: String,
    /// The name suggests a secret (`config-secret-env`).
    pub secret: bool,
}

/// One step of the image's build history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct HistoryStep {
    /// The command that made the step (`created_by`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created_by: Option<String>,
    /// When, as written.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub created: Option<String>,
    /// A comment, as written.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comment: Option<String>,
    /// True when the step made no layer (`ENV`, `CMD`, …).
    pub empty_layer: bool,
    /// Index in the image's `layers` of the layer the step made.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub layer: Option<usize>,
}

/// Which package manager or language ecosystem a [`Package`] belongs to;
/// it is also the package-url type of its `purl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Ecosystem {
    /// A Debian package, from `var/lib/dpkg/status` or distroless
    /// `var/lib/dpkg/status.d/`.
    Deb,
    /// An Alpine package, from `lib/apk/db/installed`.
    Apk,
    /// A Python distribution, from a `*.dist-info/METADATA` file.
    Pypi,
    /// An npm package, from `node_modules/**/package.json`.
    Npm,
    /// A Go module (or the Go standard library) compiled into a Go binary,
    /// from the binary's build information.
    Golang,
}

impl Ecosystem {
    /// The package-url type (`deb`, `apk`, `pypi`, `npm`, `golang`).
    pub const fn purl_type(self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::Apk => "apk",
            Self::Pypi => "pypi",
            Self::Npm => "npm",
            Self::Golang => "golang",
        }
    }
}

/// One package installed in an image, as its package database or metadata
/// file records it. Versions are copied from that record, never guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct Package {
    /// The name the record gives (`libc6`, `Django`, `@babel/core`,
    /// `github.com/spf13/cobra`).
    pub name: String,
    /// The version the record gives (`2.36-9+deb12u4`, `1:9.2p1-2`,
    /// `v1.8.0`); for the Go standard library, the toolchain (`go1.22.1`);
    /// for a Go main module built from a work tree, Go's `(devel)`.
    pub version: String,
    /// The architecture the record names (`amd64`, `x86_64`, `all`), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub arch: Option<String>,
    /// The ecosystem, which is also the purl type.
    #[serde(rename = "type")]
    pub ecosystem: Ecosystem,
    /// The package URL (<https://github.com/package-url/purl-spec>).
    pub purl: String,
    /// The file it was read from, relative to the image root.
    pub file: String,
    /// Index in the image's `layers` of the layer that wrote that file.
    pub layer: usize,
    /// The licence as the record states it (free text, not checked against
    /// the SPDX licence list), if it states one; dpkg records state none.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub license: Option<String>,
}

/// The operating system an image says it is, from `etc/os-release` (or
/// `usr/lib/os-release` when that is absent), see os-release(5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct OsInfo {
    /// `ID` (`debian`, `alpine`, `ubuntu`); `linux` when the file has no
    /// `ID`, as os-release(5) specifies.
    pub id: String,
    /// `VERSION_ID` (`12`, `3.19.1`), if given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version_id: Option<String>,
    /// `PRETTY_NAME`, if given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub pretty_name: Option<String>,
    /// `NAME`, if given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
    /// `VERSION_CODENAME` (`bookworm`), if given.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub version_codename: Option<String>,
    /// `ID_LIKE`, split on spaces (`["debian"]` for Ubuntu).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub id_like: Vec<String>,
    /// The file it was read from.
    pub file: String,
    /// Index in the image's `layers` of the layer that wrote that file.
    pub layer: usize,
}

/// Something the package catalogers could not do with a file: a package
/// database present but not read (rpm), a file cut at its bound, a record
/// that does not parse. Each names the file and layer, so nothing in the
/// package list is missing without a word.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct PackageNote {
    /// The file, relative to the image root.
    pub file: String,
    /// Index in the image's `layers` of the layer that wrote that file.
    pub layer: usize,
    /// What happened, in words (`could not read: line 12 is not a field`).
    pub message: String,
}
