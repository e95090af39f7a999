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
