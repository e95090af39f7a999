//! The one place that decides whether a tar entry's path is safe.
//!
//! Every entry passes through [`Namespace::admit`] before any reader looks at
//! its contents: names are normalized (`./` prefixes dropped), absolute paths
//! and `..` are refused, links may not leave the archive root, nothing may be
//! stored beneath a link, and no path may be claimed twice. Format readers
//! then look entries up by their normalized name only.

use std::collections::{HashMap, HashSet};

use crate::limits::Limits;
use crate::report::{Finding, FindingKind};
use crate::tar_stream::{EntryHeader, EntryKind};

/// How deep symlink chains are followed on lookup.
const MAX_LINK_HOPS: usize = 8;

/// A node of the archive's file tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    File,
    Dir,
    /// Resolved, normalized target inside the archive.
    Symlink(String),
    /// Normalized target path.
    Hardlink(String),
    Other,
}

/// The archive's tree as seen so far.
#[derive(Debug)]
pub(crate) struct Namespace {
    nodes: HashMap<String, (Node, u64)>,
    /// Every proper prefix of every admitted path: the implied directories.
    parents: HashSet<String>,
    max_name: usize,
    /// Bytes of names still allowed, so deep paths cannot exhaust memory.
    budget: u64,
    budget_reported: bool,
}

impl Namespace {
    pub fn new(limits: &Limits) -> Self {
        Self {
            nodes: HashMap::new(),
            parents: HashSet::new(),
            max_name: limits.max_name_bytes,
            budget: limits.max_names_total_bytes,
            budget_reported: false,
        }
    }
}

/// The outcome of admitting an entry.
pub(crate) struct Admitted {
    /// The normalized path, when the entry's data may be used.
    pub path: Option<String>,
    pub findings: Vec<Finding>,
}

/// An entry under review: its name as stored and its offset, which every
/// finding about it carries, and the findings so far.
struct Review {
    raw: String,
    at: u64,
    findings: Vec<Finding>,
}

impl Review {
    fn new(header: &EntryHeader) -> Self {
        Self {
            raw: header.display_name(),
            at: header.header_offset,
            findings: Vec::new(),
        }
    }

    /// Records a finding about this entry.
    fn found(&mut self, kind: FindingKind, message: impl Into<String>) {
        let finding = Finding::new(kind, message)
            .entry(self.raw.clone())
            .at(self.at);
        self.findings.push(finding);
    }

    fn unsafe_path(&mut self, message: String) {
        self.found(FindingKind::UnsafePath, message);
    }

    /// Whether nothing found makes the entry's path unsafe to use.
    fn path_is_safe(&self) -> bool {
        self.findings
            .iter()
            .all(|f| f.kind != FindingKind::UnsafePath)
    }
}

impl Namespace {
    /// Checks an entry and records it. Unsafe entries are recorded too, so a
    /// later entry that depends on them is also caught, but their path is not
    /// handed to readers.
    pub fn admit(&mut self, header: &EntryHeader) -> Admitted {
        let mut review = Review::new(header);
        let Some(path) = self.admissible_name(header, &mut review) else {
            return Admitted {
                path: None,
                findings: review.findings,
            };
        };
        self.check_parents(&path, &mut review);
        let node = self.node(header, &path, &mut review);
        let duplicate = self.claim(&path, node, &mut review);
        let usable = review.path_is_safe() && !duplicate;
        Admitted {
            path: usable.then_some(path),
            findings: review.findings,
        }
    }

    /// The normalized path, if the name is within the limits and is a path
    /// at all (not absolute, no `..`, UTF-8). A refused entry is not
    /// recorded: there is no path to record it under.
    fn admissible_name(&mut self, header: &EntryHeader, review: &mut Review) -> Option<String> {
        if header.name.len() > self.max_name {
            review.findings.push(
                Finding::new(
                    FindingKind::LimitExceeded,
                    format!(
                        "entry name is {} bytes long, above the limit of {}",
                        header.name.len(),
                        self.max_name
                    ),
                )
                .entry(review.raw.chars().take(200).collect::<String>())
                .at(review.at)
                .limit(crate::limits::LimitName::MaxNameBytes),
            );
            return None;
        }
        let path = match normalize(&header.name) {
            Ok(path) => path,
            Err(why) => {
                review.unsafe_path(format!("entry path {why}"));
                return None;
            }
        };
        self.charge_names(&path, review).then_some(path)
    }

    /// Takes the path and its implied directories out of the names budget,
    /// so deep paths cannot exhaust memory; false once it is spent (said
    /// once: every later entry would say it again).
    fn charge_names(&mut self, path: &str, review: &mut Review) -> bool {
        let cost: u64 = prefixes(path).map(|p| p.len() as u64).sum::<u64>() + path.len() as u64;
        if cost <= self.budget {
            self.budget -= cost;
            return true;
        }
        if !self.budget_reported {
            self.budget_reported = true;
            review.findings.push(
                Finding::new(
                    FindingKind::LimitExceeded,
                    "the entry names add up to more than the limit; later entries were not read",
                )
                .entry(review.raw.clone())
                .at(review.at)
                .limit(crate::limits::LimitName::MaxNamesTotalBytes),
            );
        }
        false
    }

    /// Something stored beneath a symlink lands wherever the link points;
    /// beneath a file it conflicts with that file.
    fn check_parents(&self, path: &str, review: &mut Review) {
        for prefix in prefixes(path) {
            match self.nodes.get(prefix) {
                Some((Node::Symlink(_), link_at)) => review.unsafe_path(format!(
                    "entry is stored beneath `{prefix}`, a symlink (at offset {link_at}); \
                     extracting it would write through the link"
                )),
                Some((Node::File | Node::Hardlink(_) | Node::Other, other_at)) => review.found(
                    FindingKind::DuplicateEntry,
                    format!(
                        "entry is stored beneath `{prefix}`, which is a file \
                             (at offset {other_at})"
                    ),
                ),
                _ => {}
            }
        }
    }

    /// What the entry puts in the tree. Entries with no place in a bundle
    /// and links that lead nowhere safe are still recorded, so what is
    /// stored beneath them is caught too.
    fn node(&self, header: &EntryHeader, path: &str, review: &mut Review) -> Node {
        match header.kind {
            EntryKind::File => Node::File,
            EntryKind::Dir => Node::Dir,
            EntryKind::Other(t) => {
                review.found(
                    FindingKind::UnexpectedEntry,
                    format!(
                        "entry type `{}` (device, fifo or unknown) has no place in an image bundle",
                        char::from(t).escape_default()
                    ),
                );
                Node::Other
            }
            EntryKind::Sparse => {
                // It still claims its path (Go extracts it as a file), but
                // its content is not what is stored, so nothing reads it.
                review.found(
                    FindingKind::TarHeaderInvalid,
                    "entry is a GNU sparse file: Go's reader (docker, podman) fills its \
                     holes with zeros, readers without sparse support take the packed \
                     bytes; its content depends on the reader",
                );
                Node::Other
            }
            EntryKind::Symlink => symlink_node(path, header.link.as_deref(), review),
            EntryKind::Hardlink => self.hardlink_node(header.link.as_deref(), review),
        }
    }

    /// A hard link may only name a regular file stored earlier: that is the
    /// only target an importer can link to without leaving the archive.
    fn hardlink_node(&self, target: Option<&[u8]>, review: &mut Review) -> Node {
        match normalize(target.unwrap_or_default()) {
            Ok(t) if self.nodes.get(&t).is_some_and(|(n, _)| *n == Node::File) => Node::Hardlink(t),
            Ok(t) => {
                review.unsafe_path(format!(
                    "hardlink to `{t}`, which is not an earlier regular file in the archive"
                ));
                Node::Hardlink(String::new())
            }
            Err(why) => {
                review.unsafe_path(format!("hardlink target {why}"));
                Node::Hardlink(String::new())
            }
        }
    }

    /// Records the entry's path and its implied directories; true if the
    /// path was already taken (by anything but a directory re-declared as
    /// one), in which case the first entry keeps it.
    fn claim(&mut self, path: &str, node: Node, review: &mut Review) -> bool {
        let is_dir = node == Node::Dir;
        if !is_dir && self.parents.contains(path) {
            review.found(
                FindingKind::DuplicateEntry,
                "entry is a file but earlier entries use it as a directory",
            );
        }
        match self.nodes.get(path) {
            // Re-declaring a directory is harmless: extraction merges them.
            Some((Node::Dir, _)) if is_dir => {}
            Some((_, first_at)) => review.found(
                FindingKind::DuplicateEntry,
                format!(
                    "`{path}` appears more than once (first at offset {first_at}); importers \
                     disagree on which copy wins"
                ),
            ),
            None => {}
        }
        let duplicate = self.nodes.contains_key(path) && !is_dir;
        if !duplicate {
            self.nodes.insert(path.to_owned(), (node, review.at));
        }
        for prefix in prefixes(path) {
            if !self.parents.contains(prefix) {
                self.parents.insert(prefix.to_owned());
            }
        }
        duplicate
    }

    /// Follows symlinks and hardlinks to the regular file a path names.
    pub fn resolve(&self, path: &str) -> Option<Resolution<'_>> {
        let mut current = path;
        let mut hardlink = None;
        for _ in 0..=MAX_LINK_HOPS {
            let (name, (node, _)) = self.nodes.get_key_value(current)?;
            match node {
                Node::File => {
                    return Some(Resolution {
                        file: name,
                        hardlink,
                    });
                }
                Node::Symlink(t) if !t.is_empty() => current = t,
                Node::Hardlink(t) if !t.is_empty() => {
                    hardlink.get_or_insert(name.as_str());
                    current = t;
                }
                _ => return None,
            }
        }
        None
    }
}

/// Where a path leads once its links are followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution<'a> {
    /// The regular file.
    pub file: &'a str,
    /// The first hard link passed on the way, if any: importers differ on
    /// those (see `FindingKind::HardlinkedFile`).
    pub hardlink: Option<&'a str>,
}

/// A symlink must resolve inside the archive root. One that does not is
/// kept as a link to nowhere, so entries stored beneath it are caught too.
fn symlink_node(path: &str, target: Option<&[u8]>, review: &mut Review) -> Node {
    let target = target.unwrap_or_default();
    match resolve_symlink(path, target) {
        Ok(resolved) => Node::Symlink(resolved),
        Err(why) => {
            review.unsafe_path(format!(
                "symlink to `{}` {why}",
                String::from_utf8_lossy(target)
            ));
            Node::Symlink(String::new())
        }
    }
}

/// Proper prefixes of a normalized path: `a/b/c` gives `a`, `a/b`.
fn prefixes(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// Normalizes an entry name: drops `.` and empty components, refuses
/// absolute paths, `..` and names that are not UTF-8.
pub(crate) fn normalize(raw: &[u8]) -> Result<String, &'static str> {
    let s = std::str::from_utf8(raw).map_err(|_| "is not valid UTF-8")?;
    if s.starts_with('/') {
        return Err("is absolute");
    }
    let mut parts = Vec::new();
    for part in s.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("contains `..`"),
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

/// Resolves a symlink target relative to the link's directory, refusing
/// targets that are absolute or climb above the archive root.
fn resolve_symlink(link_path: &str, target: &[u8]) -> Result<String, &'static str> {
    let target = std::str::from_utf8(target).map_err(|_| "is not valid UTF-8")?;
    if target.is_empty() {
        return Err("is empty");
    }
    if target.starts_with('/') {
        return Err("is absolute and points outside the archive");
    }
    let mut parts: Vec<&str> = link_path.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("climbs above the archive root");
                }
            }
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, kind: EntryKind, link: Option<&str>, at: u64) -> EntryHeader {
        EntryHeader {
            name: name.as_bytes().to_vec(),
            link: link.map(|l| l.as_bytes().to_vec()),
            kind,
            size: 0,
            header_offset: at,
            mode: 0o644,
            uid: 0,
            gid: 0,
            type_byte: b'0',
            sparse: None,
        }
    }

    fn kinds(a: &Admitted) -> Vec<FindingKind> {
        a.findings.iter().map(|f| f.kind).collect()
    }

    #[test]
    fn deep_names_are_bounded() {
        let limits = Limits {
            max_names_total_bytes: 10_000,
            ..Limits::default()
        };
        let mut ns = Namespace::new(&limits);
        let deep = "d/".repeat(2100) + "f";
        let a = ns.admit(&header(&deep, EntryKind::File, None, 0));
        assert_eq!(kinds(&a), [FindingKind::LimitExceeded], "over 4096 bytes");
        let deep = "d/".repeat(1000) + "f";
        let a = ns.admit(&header(&deep, EntryKind::File, None, 0));
        assert_eq!(kinds(&a), [FindingKind::LimitExceeded], "over the total");
        assert!(a.path.is_none());
    }

    #[test]
    fn normalizes_and_refuses_escapes() {
        assert_eq!(
            normalize(b"./blobs//sha256/./x").as_deref(),
            Ok("blobs/sha256/x")
        );
        assert!(normalize(b"/etc/evil").is_err());
        assert!(normalize(b"../../etc/evil").is_err());
        assert!(normalize(b"a/../b").is_err());
        assert!(normalize(&[0xff, b'a']).is_err());
    }

    #[test]
    fn symlinks_inside_are_followed_outside_refused() {
        let mut ns = Namespace::new(&Limits::default());
        let a = ns.admit(&header("x.tar", EntryKind::File, None, 0));
        assert_eq!(a.path.as_deref(), Some("x.tar"));
        let a = ns.admit(&header(
            "id/layer.tar",
            EntryKind::Symlink,
            Some("../x.tar"),
            512,
        ));
        assert!(a.findings.is_empty());
        assert_eq!(
            ns.resolve("id/layer.tar"),
            Some(Resolution {
                file: "x.tar",
                hardlink: None
            })
        );

        let a = ns.admit(&header(
            "blobs/escape",
            EntryKind::Symlink,
            Some("../../../etc"),
            1024,
        ));
        assert_eq!(kinds(&a), [FindingKind::UnsafePath]);
        let a = ns.admit(&header("blobs/escape/evil", EntryKind::File, None, 1536));
        assert_eq!(kinds(&a), [FindingKind::UnsafePath]);
        assert!(a.path.is_none());
    }

    #[test]
    fn duplicates_and_conflicts() {
        let mut ns = Namespace::new(&Limits::default());
        ns.admit(&header("./blobs/", EntryKind::Dir, None, 0));
        let a = ns.admit(&header("blobs", EntryKind::Dir, None, 512));
        assert!(a.findings.is_empty(), "re-declared directory is fine");
        ns.admit(&header("blobs/a", EntryKind::File, None, 1024));
        let a = ns.admit(&header("./blobs/a", EntryKind::File, None, 2048));
        assert_eq!(kinds(&a), [FindingKind::DuplicateEntry]);
        assert_eq!(a.findings[0].offset, Some(2048));
        assert!(a.path.is_none());
        let a = ns.admit(&header("blobs/a/b", EntryKind::File, None, 4096));
        assert_eq!(kinds(&a), [FindingKind::DuplicateEntry]);
        let a = ns.admit(&header("c", EntryKind::Hardlink, Some("missing"), 8192));
        assert_eq!(kinds(&a), [FindingKind::UnsafePath]);
    }
}
