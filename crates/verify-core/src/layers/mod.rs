//! Reading inside the layers: each layer blob's own tar stream, read as it
//! is decompressed for its `diff_id`, and the images' file trees built from
//! what those streams held.
//!
//! Tar order is arbitrary, so when a blob streams past we do not yet know
//! whether it is a layer; every blob that starts like a tar is read, and
//! what is kept of it (one small record per entry, and the few files the
//! package catalogers need) is used only if the blob turns out to be one.

// Until the layer reader feeds it (issue 14), nothing outside tests reads this.
#![allow(dead_code)]

pub(crate) mod reader;
pub(crate) mod tree;

use crate::contents::FileType;

/// One entry of a layer tar, as the tree needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LayerEntry {
    /// Cleaned as Docker cleans it: relative, `/`-separated, no `.` or `..`
    /// parts, no trailing `/`. Whiteouts keep their names (`etc/.wh.foo`,
    /// `var/.wh..wh..opq`); the tree interprets them.
    pub path: Box<str>,
    pub file_type: FileType,
    /// Content bytes (regular files), 0 otherwise.
    pub size: u64,
    /// Permission bits with setuid, setgid and sticky.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// Symlink target as written; hard-link source cleaned like `path`.
    pub link: Option<Box<str>>,
}
