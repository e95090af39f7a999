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

impl Namespace {
    /// Checks an entry and records it. Unsafe entries are recorded too, so a
    /// later entry that depends on them is also caught, but their path is not
    /// handed to readers.
    pub fn admit(&mut self, header: &EntryHeader) -> Admitted {
        let raw = header.display_name();
        let at = header.header_offset;
        let mut findings = Vec::new();
        let unsafe_path = |msg: String| {
            Finding::new(FindingKind::UnsafePath, msg)
                .entry(raw.clone())
                .at(at)
        };

        if header.name.len() > self.max_name {
            findings.push(
                Finding::new(
                    FindingKind::LimitExceeded,
                    format!(
                        "entry name is {} bytes long, above the limit of {}",
                        header.name.len(),
                        self.max_name
                    ),
                )
                .entry(raw.chars().take(200).collect::<String>())
                .at(at)
                .limit(crate::limits::LimitName::MaxNameBytes),
            );
            return Admitted {
                path: None,
                findings,
            };
        }
        let path = match normalize(&header.name) {
            Ok(p) => p,
            Err(why) => {
                findings.push(unsafe_path(format!("entry path {why}")));
                return Admitted {
                    path: None,
                    findings,
                };
            }
        };

        let cost: u64 = prefixes(&path).map(|p| p.len() as u64).sum::<u64>() + path.len() as u64;
        if cost > self.budget {
            if !self.budget_reported {
                self.budget_reported = true;
                findings.push(
                    Finding::new(
                        FindingKind::LimitExceeded,
                        "the entry names add up to more than the limit; later entries were not read",
                    )
                    .entry(raw.clone())
                    .at(at)
                    .limit(crate::limits::LimitName::MaxNamesTotalBytes),
                );
            }
            return Admitted {
                path: None,
                findings,
            };
        }
        self.budget -= cost;

        // Something stored beneath a symlink lands wherever the link points;
        // beneath a file it conflicts with that file.
        for prefix in prefixes(&path) {
            match self.nodes.get(prefix) {
                Some((Node::Symlink(_), link_at)) => findings.push(unsafe_path(format!(
                    "entry is stored beneath `{prefix}`, a symlink (at offset {link_at}); \
                     extracting it would write through the link"
                ))),
                Some((Node::File | Node::Hardlink(_) | Node::Other, other_at)) => findings.push(
                    Finding::new(
                        FindingKind::DuplicateEntry,
                        format!(
                            "entry is stored beneath `{prefix}`, which is a file \
                                 (at offset {other_at})"
                        ),
                    )
                    .entry(raw.clone())
                    .at(at),
                ),
                _ => {}
            }
        }

        let node = match header.kind {
            EntryKind::File => Node::File,
            EntryKind::Dir => Node::Dir,
            EntryKind::Other(t) => {
                findings.push(
                    Finding::new(
                        FindingKind::UnexpectedEntry,
                        format!(
                            "entry type `{}` (device, fifo or unknown) has no place in an image bundle",
                            char::from(t).escape_default()
                        ),
                    )
                    .entry(raw.clone())
                    .at(at),
                );
                Node::Other
            }
            EntryKind::Sparse => {
                // It still claims its path (Go extracts it as a file), but
                // its content is not what is stored, so nothing reads it.
                findings.push(
                    Finding::new(
                        FindingKind::TarHeaderInvalid,
                        "entry is a GNU sparse file: Go's reader (docker, podman) fills its \
                         holes with zeros, readers without sparse support take the packed \
                         bytes; its content depends on the reader",
                    )
                    .entry(raw.clone())
                    .at(at),
                );
                Node::Other
            }
            EntryKind::Symlink => {
                let target = header.link.as_deref().unwrap_or_default();
                match resolve_symlink(&path, target) {
                    Ok(resolved) => Node::Symlink(resolved),
                    Err(why) => {
                        findings.push(unsafe_path(format!(
                            "symlink to `{}` {why}",
                            String::from_utf8_lossy(target)
                        )));
                        // Keep it as a link so entries beneath it are caught too.
                        Node::Symlink(String::new())
                    }
                }
            }
            EntryKind::Hardlink => {
                let target = header.link.as_deref().unwrap_or_default();
                match normalize(target) {
                    Ok(t) if self.nodes.get(&t).is_some_and(|(n, _)| *n == Node::File) => {
                        Node::Hardlink(t)
                    }
                    Ok(t) => {
                        findings.push(unsafe_path(format!(
                            "hardlink to `{t}`, which is not an earlier regular file in the archive"
                        )));
                        Node::Hardlink(String::new())
                    }
                    Err(why) => {
                        findings.push(unsafe_path(format!("hardlink target {why}")));
                        Node::Hardlink(String::new())
                    }
                }
            }
        };

        let is_dir = node == Node::Dir;
        if !is_dir && self.parents.contains(&path) {
            findings.push(
                Finding::new(
                    FindingKind::DuplicateEntry,
                    "entry is a file but earlier entries use it as a directory",
                )
                .entry(raw.clone())
                .at(at),
            );
        }
        match self.nodes.get(&path) {
            // Re-declaring a directory is harmless: extraction merges them.
            Some((Node::Dir, _)) if is_dir => {}
            Some((_, first_at)) => findings.push(
                Finding::new(
                    FindingKind::DuplicateEntry,
                    format!(
                        "`{path}` appears more than once (first at offset {first_at}); importers \
                         disagree on which copy wins"
                    ),
                )
                .entry(raw.clone())
                .at(at),
            ),
            None => {}
        }
        let duplicate = self.nodes.contains_key(&path) && !is_dir;
        if !duplicate {
            self.nodes.insert(path.clone(), (node, at));
        }
        for prefix in prefixes(&path) {
            if !self.parents.contains(prefix) {
                self.parents.insert(prefix.to_owned());
            }
        }
        let usable = findings.iter().all(|f| f.kind != FindingKind::UnsafePath) && !duplicate;
        Admitted {
            path: usable.then_some(path),
            findings,
        }
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
