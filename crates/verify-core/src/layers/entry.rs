//! The record a layer reader keeps per entry and the tree is built from.

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
