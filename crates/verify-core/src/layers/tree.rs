//! Layers applied in order, OCI whiteouts included: the final tree and what
//! each layer changed.
//!
//! The rules are the image-spec's (`layer.md`, "Applying Changesets" and
//! "Whiteouts") as umoci's `oci/layer/tar_extract.go` carries them out, since
//! the tree we report must be the one `umoci unpack` leaves on disk:
//!
//! - Entries of a layer apply in tar order; a later entry for a path
//!   replaces an earlier one, in the same layer or below.
//! - A directory entry over an existing directory changes its mode and owner
//!   and keeps its children. Any other entry over an existing path removes
//!   that path, with everything under it, and writes the new one.
//! - `.wh.NAME` removes `NAME` of the lower layers, with its subtree, and
//!   never appears itself. What this layer wrote is kept, wherever the
//!   whiteout stands in the tar: the spec says whiteouts apply to lower
//!   layers only, and umoci keeps the paths it extracted from the same layer
//!   (and their parents) for that reason. containerd's `applyNaive` deletes
//!   a same-layer path that came before the whiteout; we follow the spec.
//! - `.wh..wh..opq` removes every lower child of its directory (and below),
//!   keeping the directory and whatever this layer put in it.
//! - Whiteouts of paths that do not exist do nothing.
//! - Parent directories an entry needs but no layer wrote are created as
//!   umoci, containerd and Docker create them: mode `0755`, owner `0:0`
//!   (the unpacking process; all three run as root), written by this layer.
//! - Symbolic links among an entry's parents are followed inside the image
//!   root, as umoci (`securejoin`) and containerd (`fs.RootPath`) do: `..`
//!   stops at the root, absolute targets start at the root, more than 255
//!   links is a loop. So `lib -> usr/lib` and an entry `lib/x` write
//!   `usr/lib/x`. The entry's own last component is never followed: a
//!   symlink there is replaced.
//! - A hard link shares its source's inode, so it takes the source's size,
//!   mode and owner as they are when the link is made (umoci applies no
//!   metadata of its own to a hard link); a later rewrite of the source
//!   makes a new inode and leaves the link as it was. A hard link found
//!   among an entry's parents counts as a file, even one whose source is a
//!   symlink (umoci would follow that; no image builder makes one).
//!
//! Where an unpacker would stop with an error (a parent that is a file, a
//! hard link to nothing or to a directory, a symlink loop, a whiteout that
//! names no file, the root made into a file), the entry is left out, the
//! tree stays as it was, and a [`TreeProblem`] says why; the caller turns
//! problems into findings.
//!
//! Each layer's changes compare the tree before and after it: a path it
//! made is added, one it wrote that was there before is changed (a
//! directory entry over a directory too, with 0 bytes), one it took away is
//! removed, with what it had. Wasted bytes are dive's idea, per layer: the
//! bytes a layer shipped that a later entry replaced or removed, so they are
//! stored but never seen; a duplicate later in the same layer counts too.
//! (dive's image total also counts the surviving copy of a path written
//! twice; ours does not.) Hard links ship no bytes of their own.
//!
//! Memory grows with paths, not bytes: one 44-byte node per path ever
//! created, its name once in a shared string, and a 4-byte-a-slot hash
//! index from (parent, name) to node. Nodes are never freed: a removed path keeps its
//! node (marked dead) so that writing it again reuses it, which bounds the
//! nodes by the number of entries and their parents.

use std::borrow::Cow;
use std::hash::{BuildHasher, RandomState};

use super::LayerEntry;
use crate::contents::{FileEntry, FileType, LayerChanges};

/// No node: the end of a list, or no link text.
const NONE: u32 = u32::MAX;
/// The image root; it is never reported and never removed.
const ROOT: u32 = 0;
/// securejoin's limit on links followed while resolving one path.
const MAX_SYMLINKS: u32 = 255;
const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";
/// Mode and owner of a parent directory no entry wrote (see module docs).
const IMPLICIT_DIR_MODE: u16 = 0o755;
/// Mode bits a path keeps: permissions with setuid, setgid and sticky.
const MODE_BITS: u32 = 0o7777;

/// The path exists in the tree (nodes of removed paths stay, dead).
const ALIVE: u8 = 1;
/// Its state before the current layer is already in `Tree::before`.
const TOUCHED: u8 = 2;
/// The current layer wrote it or something below it: whiteouts of this
/// layer leave it (umoci's `upperPaths`).
const UPPER: u8 = 4;

/// An image's layers applied: its final tree, and each layer's changes.
#[derive(Debug)]
pub(crate) struct Applied {
    tree: Tree,
    /// One per layer, in the order given.
    pub changes: Vec<LayerChanges>,
    /// Entries left out, in the order met.
    pub problems: Vec<TreeProblem>,
}

/// An entry that could not be applied, and was left out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("layer {layer}, entry {entry} (`{path}`): {kind}")]
pub(crate) struct TreeProblem {
    /// Index of the layer in the image.
    pub layer: usize,
    /// Index of the entry in its layer's entries.
    pub entry: usize,
    /// The entry's path as the layer has it.
    pub path: Box<str>,
    /// What went wrong.
    pub kind: TreeProblemKind,
}

/// Why an entry could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TreeProblemKind {
    /// A parent on the way is a file, device or hard link.
    #[error("`{blocker}` is in the way and is not a directory")]
    NotADirectory {
        /// The path (symlinks resolved) that is not a directory.
        blocker: String,
    },
    /// Resolving a parent followed more than 255 symbolic links.
    #[error("more than {MAX_SYMLINKS} symbolic links on the way (a loop)")]
    SymlinkLoop,
    /// A hard link whose source does not exist when it is made.
    #[error("hard link to `{target}`, which does not exist")]
    HardlinkTargetMissing {
        /// The source as the entry names it.
        target: Box<str>,
    },
    /// A hard link to a directory, which no filesystem makes.
    #[error("hard link to directory `{target}`")]
    HardlinkToDirectory {
        /// The source as the entry names it.
        target: Box<str>,
    },
    /// `.wh.`, `.wh..` or `.wh...`: a whiteout naming no file but its own
    /// directory or above (umoci and containerd would remove those).
    #[error("whiteout names no file")]
    MalformedWhiteout,
    /// An entry for the root that is not a directory.
    #[error("the root directory cannot become a {0:?}")]
    RootNotDirectory(FileType),
    /// Over 4 GiB of names or 4 billion paths: beyond what a tree holds.
    #[error("the tree is too large")]
    TooLarge,
}

/// Applies `layers` (bottom first) to an empty root.
pub(crate) fn apply(layers: &[&[LayerEntry]]) -> Applied {
    let entries = layers.iter().map(|l| l.len()).sum();
    let name_bytes = layers
        .iter()
        .flat_map(|l| l.iter())
        .map(|e| e.path.rsplit('/').next().map_or(0, str::len) + 1)
        .sum();
    let mut builder = TreeBuilder::with_capacity(entries, name_bytes);
    for layer in layers {
        builder.push_layer(layer);
    }
    builder.finish()
}

/// Applies layers one at a time, bottom first, so that a caller holding
/// them in order can drop each layer's records once it is applied.
#[derive(Debug)]
pub(crate) struct TreeBuilder {
    tree: Tree,
    changes: Vec<LayerChanges>,
    /// Per layer so far: bytes it wrote that were replaced or removed since.
    wasted: Vec<u64>,
    problems: Vec<TreeProblem>,
}

impl TreeBuilder {
    /// An empty root. `paths` (the entries to come) and `name_bytes` (their
    /// last components' lengths, plus one each) only spare regrowing the
    /// tree's tables; 0 for either is fine.
    pub fn with_capacity(paths: usize, name_bytes: usize) -> Self {
        TreeBuilder {
            tree: Tree::with_capacity(paths, name_bytes),
            changes: Vec::new(),
            wasted: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Applies the next layer up.
    pub fn push_layer(&mut self, entries: &[LayerEntry]) {
        let index = self.changes.len();
        let layer = u32::try_from(index).unwrap_or(u32::MAX);
        self.wasted.push(0);
        for (entry_index, entry) in entries.iter().enumerate() {
            if let Err(kind) = self.tree.apply_entry(layer, entry, &mut self.wasted) {
                self.problems.push(TreeProblem {
                    layer: index,
                    entry: entry_index,
                    path: entry.path.clone(),
                    kind,
                });
            }
        }
        self.changes.push(self.tree.end_layer());
    }

    /// The tree with every layer pushed so far.
    pub fn finish(mut self) -> Applied {
        for (change, wasted) in self.changes.iter_mut().zip(self.wasted) {
            change.wasted_bytes = wasted;
        }
        Applied {
            tree: self.tree,
            changes: self.changes,
            problems: self.problems,
        }
    }
}

impl Applied {
    /// The final tree, one entry per path (the root left out), each
    /// directory followed by its contents and siblings in byte order of
    /// their names: sorted by path compared component by component, so
    /// `a`, `a/b`, `a.b`. Entries are built as they are read, so the tree
    /// can be written out without holding all of them.
    pub fn files(&self) -> Files<'_> {
        Files {
            tree: &self.tree,
            stack: vec![(self.tree.sorted_children(ROOT), 0)],
            path: String::new(),
        }
    }

    /// The final tree as [`Applied::files`] reads it.
    pub fn into_files(self) -> Vec<FileEntry> {
        let mut files = Vec::with_capacity(self.len());
        files.extend(self.files());
        files
    }

    /// The live path written as `path` (its parents taken as written, not
    /// through symlinks): its type and the layer that last wrote it.
    pub fn lookup(&self, path: &str) -> Option<(FileType, usize)> {
        let mut id = ROOT;
        for part in path.split('/') {
            id = self.tree.find_alive(id, part)?;
        }
        let node = &self.tree.nodes[id as usize];
        Some((node.kind, node.layer as usize))
    }

    /// How many paths the final tree has.
    pub fn len(&self) -> usize {
        self.tree.alive_paths()
    }
}

/// The final tree's entries in order; see [`Applied::files`].
#[derive(Debug)]
pub(crate) struct Files<'a> {
    tree: &'a Tree,
    /// Per open directory: its live children, sorted, and the next to visit.
    stack: Vec<(Vec<u32>, usize)>,
    /// Path of the directory on top of `stack` (empty for the root).
    path: String,
}

impl Iterator for Files<'_> {
    type Item = FileEntry;

    fn next(&mut self) -> Option<FileEntry> {
        loop {
            let (children, next) = self.stack.last_mut()?;
            let Some(&id) = children.get(*next) else {
                self.stack.pop();
                // Back to the parent directory's path.
                let cut = self.path.rfind('/').unwrap_or(0);
                self.path.truncate(cut);
                continue;
            };
            *next += 1;
            let node = &self.tree.nodes[id as usize];
            let name = self.tree.name(id);
            let mut path = String::with_capacity(self.path.len() + 1 + name.len());
            path.push_str(&self.path);
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(name);
            let entry = FileEntry {
                path,
                file_type: node.kind,
                size: node.size(),
                mode: u32::from(node.mode),
                uid: node.uid,
                gid: node.gid,
                link: self.tree.link(id).map(str::to_owned),
                layer: node.layer as usize,
            };
            if node.kind == FileType::Dir {
                let children = self.tree.sorted_children(id);
                if !children.is_empty() {
                    self.path.clone_from(&entry.path);
                    self.stack.push((children, 0));
                }
            }
            return Some(entry);
        }
    }
}

/// One path ever created. 44 bytes: a million paths fit in 44 MB.
#[derive(Debug, Clone)]
struct Node {
    /// Content bytes, split so the node packs at 4-byte alignment.
    size_lo: u32,
    size_hi: u32,
    /// Where the name starts in `Tree::names`; a `/` ends it.
    name_start: u32,
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    /// Index in `Tree::links`, or `NONE`.
    link: u32,
    /// The layer that last wrote the path.
    layer: u32,
    uid: u32,
    gid: u32,
    mode: u16,
    kind: FileType,
    flags: u8,
}

impl Node {
    fn size(&self) -> u64 {
        (u64::from(self.size_hi) << 32) | u64::from(self.size_lo)
    }

    fn set_size(&mut self, size: u64) {
        self.size_lo = size as u32;
        self.size_hi = (size >> 32) as u32;
    }

    /// Bytes the layer shipped for this path: a hard link's content came
    /// with its source.
    fn shipped_bytes(&self) -> u64 {
        if self.kind == FileType::File {
            self.size()
        } else {
            0
        }
    }

    fn alive(&self) -> bool {
        self.flags & ALIVE != 0
    }
}

/// A path's state when the current layer first touched it.
#[derive(Debug)]
struct Before {
    node: u32,
    alive: bool,
    bytes: u64,
}

#[derive(Debug)]
struct Tree {
    nodes: Vec<Node>,
    /// Every name, each followed by `/` (which no name holds); the root's
    /// empty name first.
    names: String,
    /// Every symlink and hard-link text, back to back.
    link_text: String,
    /// Link texts: (start, len) in `link_text`.
    links: Vec<(u32, u32)>,
    /// Open addressing from (parent, name) to node: 4 bytes a slot, a
    /// power of two of them, at most 7/8 full. Nothing is ever taken out
    /// (dead nodes stay, to be written again), so linear probing needs no
    /// tombstones.
    slots: Vec<u32>,
    seed: RandomState,
    /// Paths the current layer touched, as they were before it.
    before: Vec<Before>,
    /// Nodes marked `UPPER` in the current layer.
    upper: Vec<u32>,
}

/// Why a parent could not be resolved.
enum Blocked {
    NotADirectory(u32),
    Loop,
    TooLarge,
}

impl Tree {
    /// Room for `entries` paths whose names take about `name_bytes`.
    fn with_capacity(entries: usize, name_bytes: usize) -> Self {
        let mut nodes = Vec::with_capacity(entries.saturating_add(1));
        nodes.push(Node {
            size_lo: 0,
            size_hi: 0,
            name_start: 0,
            parent: ROOT,
            first_child: NONE,
            next_sibling: NONE,
            link: NONE,
            layer: 0,
            uid: 0,
            gid: 0,
            mode: IMPLICIT_DIR_MODE,
            kind: FileType::Dir,
            flags: ALIVE,
        });
        let mut names = String::with_capacity(name_bytes.saturating_add(1));
        names.push('/');
        Tree {
            nodes,
            names,
            link_text: String::new(),
            links: Vec::new(),
            slots: vec![NONE; slots_for(entries.saturating_add(1))],
            seed: RandomState::new(),
            before: Vec::new(),
            upper: Vec::new(),
        }
    }

    fn name(&self, id: u32) -> &str {
        let rest = self
            .names
            .get(self.nodes[id as usize].name_start as usize..)
            .unwrap_or_default();
        rest.split('/').next().unwrap_or_default()
    }

    fn link(&self, id: u32) -> Option<&str> {
        let (start, len) = *self.links.get(self.nodes[id as usize].link as usize)?;
        let start = start as usize;
        self.link_text.get(start..start + len as usize)
    }

    fn hash(&self, parent: u32, name: &str) -> usize {
        self.seed.hash_one((parent, name)) as usize
    }

    /// The node for `name` in `parent`, dead or alive.
    fn find(&self, parent: u32, name: &str) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut slot = self.hash(parent, name) & mask;
        loop {
            let id = self.slots[slot];
            if id == NONE {
                return None;
            }
            if self.nodes[id as usize].parent == parent && self.name(id) == name {
                return Some(id);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// Puts `id` in the first free slot of `slots` from its hash.
    fn place(&self, slots: &mut [u32], id: u32) {
        let mask = slots.len() - 1;
        let n = &self.nodes[id as usize];
        let mut slot = self.hash(n.parent, self.name(id)) & mask;
        while slots[slot] != NONE {
            slot = (slot + 1) & mask;
        }
        slots[slot] = id;
    }

    /// Indexes node `id`, the newest; doubles the slots when 7/8 full.
    fn index(&mut self, id: u32) {
        if self.nodes.len().saturating_mul(8) > self.slots.len().saturating_mul(7) {
            let mut slots = vec![NONE; self.slots.len() * 2];
            for &old in &self.slots {
                if old != NONE {
                    self.place(&mut slots, old);
                }
            }
            self.slots = slots;
        }
        let mut slots = std::mem::take(&mut self.slots);
        self.place(&mut slots, id);
        self.slots = slots;
    }

    fn find_alive(&self, parent: u32, name: &str) -> Option<u32> {
        self.find(parent, name)
            .filter(|&id| self.nodes[id as usize].alive())
    }

    /// Appends a name (which holds no `/`) to `names`, giving its start.
    fn store_name(&mut self, name: &str) -> Option<u32> {
        let start = u32::try_from(self.names.len()).ok()?;
        u32::try_from(self.names.len() + name.len() + 1).ok()?;
        self.names.push_str(name);
        self.names.push('/');
        Some(start)
    }

    /// Appends a link text to `link_text`, giving its index in `links`.
    fn store_link(&mut self, text: &str) -> Option<u32> {
        let start = u32::try_from(self.link_text.len()).ok()?;
        let len = u32::try_from(text.len()).ok()?;
        start.checked_add(len)?;
        let index = u32::try_from(self.links.len())
            .ok()
            .filter(|&i| i != NONE)?;
        self.link_text.push_str(text);
        self.links.push((start, len));
        Some(index)
    }

    /// A new dead node for `name` in `parent`; `write` brings it to life.
    fn create(&mut self, parent: u32, name: &str) -> Result<u32, Blocked> {
        let id = u32::try_from(self.nodes.len())
            .ok()
            .filter(|&id| id != NONE)
            .ok_or(Blocked::TooLarge)?;
        let name_start = self.store_name(name).ok_or(Blocked::TooLarge)?;
        let p = &mut self.nodes[parent as usize];
        let next_sibling = p.first_child;
        p.first_child = id;
        self.nodes.push(Node {
            size_lo: 0,
            size_hi: 0,
            name_start,
            parent,
            first_child: NONE,
            next_sibling,
            link: NONE,
            layer: 0,
            uid: 0,
            gid: 0,
            mode: 0,
            kind: FileType::File,
            flags: 0,
        });
        self.index(id);
        Ok(id)
    }

    /// Records how `id` was before the current layer, once per layer.
    fn touch(&mut self, id: u32) {
        let n = &mut self.nodes[id as usize];
        if n.flags & TOUCHED == 0 {
            n.flags |= TOUCHED;
            self.before.push(Before {
                node: id,
                alive: n.alive(),
                bytes: if n.alive() { n.shipped_bytes() } else { 0 },
            });
        }
    }

    /// Marks `id` and its parents as written by the current layer.
    fn mark_upper(&mut self, mut id: u32) {
        loop {
            let n = &mut self.nodes[id as usize];
            if n.flags & UPPER != 0 {
                return;
            }
            n.flags |= UPPER;
            self.upper.push(id);
            if id == ROOT {
                return;
            }
            id = n.parent;
        }
    }

    /// Brings `id` to life with the given state, written by `layer`.
    fn write(&mut self, id: u32, layer: u32, state: NodeState<'_>) -> Result<(), Blocked> {
        self.touch(id);
        let link = match state.link {
            Some(text) => self.store_link(text).ok_or(Blocked::TooLarge)?,
            None => NONE,
        };
        let n = &mut self.nodes[id as usize];
        n.kind = state.kind;
        n.set_size(state.size);
        n.mode = (state.mode & MODE_BITS) as u16;
        n.uid = state.uid;
        n.gid = state.gid;
        n.link = link;
        n.layer = layer;
        n.flags |= ALIVE;
        self.mark_upper(id);
        Ok(())
    }

    /// Removes `id` and everything under it, charging their bytes as
    /// wasted to the layers that wrote them.
    fn remove(&mut self, id: u32, wasted: &mut [u64]) {
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            if !self.nodes[id as usize].alive() {
                continue;
            }
            self.touch(id);
            let n = &mut self.nodes[id as usize];
            n.flags &= !ALIVE;
            if let Some(w) = wasted.get_mut(n.layer as usize) {
                *w = w.saturating_add(n.shipped_bytes());
            }
            let mut child = n.first_child;
            while child != NONE {
                stack.push(child);
                child = self.nodes[child as usize].next_sibling;
            }
        }
    }

    /// Removes what lower layers left at `id` and below, keeping what the
    /// current layer wrote (and the directories holding it).
    fn whiteout(&mut self, id: u32, wasted: &mut [u64]) {
        let mut stack = vec![id];
        while let Some(id) = stack.pop() {
            let n = &self.nodes[id as usize];
            if !n.alive() {
                continue;
            }
            if n.flags & UPPER == 0 {
                self.remove(id, wasted);
                continue;
            }
            let mut child = n.first_child;
            while child != NONE {
                stack.push(child);
                child = self.nodes[child as usize].next_sibling;
            }
        }
    }

    /// Resolves the directory `comps` names, following symlinks inside the
    /// root. With `create`, missing directories are made for that layer;
    /// without, a missing one gives `None`.
    fn resolve_dir<'e>(
        &mut self,
        comps: &[&'e str],
        create: Option<u32>,
    ) -> Result<Option<u32>, Blocked> {
        let mut todo: Vec<Cow<'e, str>> = comps.iter().rev().map(|&c| Cow::Borrowed(c)).collect();
        let mut dir = ROOT;
        let mut links = 0;
        while let Some(comp) = todo.pop() {
            match &*comp {
                "" | "." => continue,
                ".." => {
                    dir = self.nodes[dir as usize].parent;
                    continue;
                }
                _ => {}
            }
            let Some(id) = self.find_alive(dir, &comp) else {
                let Some(layer) = create else {
                    return Ok(None);
                };
                let id = match self.find(dir, &comp) {
                    Some(id) => id,
                    None => self.create(dir, &comp)?,
                };
                self.write(id, layer, NodeState::implicit_dir())?;
                dir = id;
                continue;
            };
            match self.nodes[id as usize].kind {
                FileType::Dir => dir = id,
                FileType::Symlink => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Blocked::Loop);
                    }
                    let target = self.link(id).unwrap_or_default();
                    if target.starts_with('/') {
                        dir = ROOT;
                    }
                    todo.extend(target.rsplit('/').map(|c| Cow::Owned(c.to_owned())));
                }
                _ => return Err(Blocked::NotADirectory(id)),
            }
        }
        Ok(Some(dir))
    }

    /// The path of `id` with symlinks resolved, for messages.
    fn path_of(&self, mut id: u32) -> String {
        let mut names = Vec::new();
        while id != ROOT {
            names.push(self.name(id));
            id = self.nodes[id as usize].parent;
        }
        names.reverse();
        names.join("/")
    }

    fn problem(&self, blocked: Blocked) -> TreeProblemKind {
        match blocked {
            Blocked::NotADirectory(id) => TreeProblemKind::NotADirectory {
                blocker: self.path_of(id),
            },
            Blocked::Loop => TreeProblemKind::SymlinkLoop,
            Blocked::TooLarge => TreeProblemKind::TooLarge,
        }
    }

    /// Resolves a hard link's source: its parents followed, itself not.
    fn hardlink_source(&mut self, target: &str) -> Result<Option<u32>, Blocked> {
        let comps = lexical(target);
        let Some((last, dirs)) = comps.split_last() else {
            return Ok(Some(ROOT));
        };
        match self.resolve_dir(dirs, None) {
            Ok(Some(dir)) => Ok(self.find_alive(dir, last)),
            Ok(None) | Err(Blocked::NotADirectory(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// Whether `id` is `ancestor` or lies under it.
    fn is_within(&self, mut id: u32, ancestor: u32) -> bool {
        loop {
            if id == ancestor {
                return true;
            }
            if id == ROOT {
                return false;
            }
            id = self.nodes[id as usize].parent;
        }
    }

    fn apply_entry(
        &mut self,
        layer: u32,
        entry: &LayerEntry,
        wasted: &mut [u64],
    ) -> Result<(), TreeProblemKind> {
        let comps = lexical(&entry.path);
        let Some((&last, dirs)) = comps.split_last() else {
            // umoci gives the root the entry's metadata, containerd ignores
            // it; the root is not reported either way.
            return match entry.file_type {
                FileType::Dir => Ok(()),
                other => Err(TreeProblemKind::RootNotDirectory(other)),
            };
        };

        if let Some(name) = last.strip_prefix(WHITEOUT_PREFIX) {
            let opaque = last == OPAQUE_WHITEOUT;
            if !opaque && matches!(name, "" | "." | "..") {
                return Err(TreeProblemKind::MalformedWhiteout);
            }
            // A missing or blocked parent means nothing to remove, as
            // umoci's lstat of the target finds nothing there.
            let dir = match self.resolve_dir(dirs, None) {
                Ok(Some(dir)) => dir,
                Ok(None) | Err(Blocked::NotADirectory(_)) => return Ok(()),
                Err(other) => return Err(self.problem(other)),
            };
            if opaque {
                if self.nodes[dir as usize].kind != FileType::Dir {
                    return Ok(());
                }
                let mut child = self.nodes[dir as usize].first_child;
                while child != NONE {
                    let next = self.nodes[child as usize].next_sibling;
                    self.whiteout(child, wasted);
                    child = next;
                }
            } else if let Some(id) = self.find_alive(dir, name) {
                self.whiteout(id, wasted);
            }
            return Ok(());
        }

        let state = if entry.file_type == FileType::Hardlink {
            let target = entry.link.as_deref().unwrap_or_default();
            let missing = || TreeProblemKind::HardlinkTargetMissing {
                target: target.into(),
            };
            let source = match entry.link.as_deref().map(|t| self.hardlink_source(t)) {
                None | Some(Ok(None)) => return Err(missing()),
                Some(Ok(Some(source))) => source,
                Some(Err(b)) => return Err(self.problem(b)),
            };
            let src = self.nodes[source as usize].clone();
            if src.kind == FileType::Dir {
                return Err(TreeProblemKind::HardlinkToDirectory {
                    target: target.into(),
                });
            }
            // umoci removes the path before linking, so a source at or
            // under the path is gone by then.
            if let Ok(Some(dir)) = self.resolve_dir(dirs, None)
                && let Some(existing) = self.find_alive(dir, last)
                && self.is_within(source, existing)
            {
                return Err(missing());
            }
            NodeState {
                kind: FileType::Hardlink,
                size: src.size(),
                mode: u32::from(src.mode),
                uid: src.uid,
                gid: src.gid,
                link: entry.link.as_deref(),
            }
        } else {
            NodeState {
                kind: entry.file_type,
                size: if entry.file_type == FileType::File {
                    entry.size
                } else {
                    0
                },
                mode: entry.mode,
                uid: entry.uid,
                gid: entry.gid,
                link: if entry.file_type == FileType::Symlink {
                    entry.link.as_deref()
                } else {
                    None
                },
            }
        };

        let dir = match self.resolve_dir(dirs, Some(layer)) {
            Ok(Some(dir)) => dir,
            Ok(None) => return Ok(()),
            Err(b) => return Err(self.problem(b)),
        };
        let id = match self.find(dir, last) {
            Some(id) => {
                let n = &self.nodes[id as usize];
                if n.alive() && n.kind == FileType::Dir && state.kind == FileType::Dir {
                    // Merged: new mode and owner, children kept.
                    self.touch(id);
                    let n = &mut self.nodes[id as usize];
                    n.mode = (state.mode & MODE_BITS) as u16;
                    n.uid = state.uid;
                    n.gid = state.gid;
                    n.layer = layer;
                    self.mark_upper(id);
                    return Ok(());
                }
                self.remove(id, wasted);
                id
            }
            None => self.create(dir, last).map_err(|b| self.problem(b))?,
        };
        self.write(id, layer, state).map_err(|b| self.problem(b))
    }

    /// Closes the current layer: what it changed, from each touched path's
    /// state before and after.
    fn end_layer(&mut self) -> LayerChanges {
        let mut c = LayerChanges::default();
        for before in std::mem::take(&mut self.before) {
            let n = &mut self.nodes[before.node as usize];
            n.flags &= !TOUCHED;
            match (before.alive, n.alive()) {
                (false, true) => {
                    c.added += 1;
                    c.added_bytes = c.added_bytes.saturating_add(n.shipped_bytes());
                }
                (true, true) => {
                    c.changed += 1;
                    c.changed_bytes = c.changed_bytes.saturating_add(n.shipped_bytes());
                }
                (true, false) => {
                    c.removed += 1;
                    c.removed_bytes = c.removed_bytes.saturating_add(before.bytes);
                }
                (false, false) => {}
            }
        }
        for id in std::mem::take(&mut self.upper) {
            self.nodes[id as usize].flags &= !UPPER;
        }
        c
    }

    /// Live children of `id`, sorted by name bytes.
    fn sorted_children(&self, id: u32) -> Vec<u32> {
        let mut children = Vec::new();
        let mut child = self.nodes[id as usize].first_child;
        while child != NONE {
            if self.nodes[child as usize].alive() {
                children.push(child);
            }
            child = self.nodes[child as usize].next_sibling;
        }
        children.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        children
    }

    /// Live paths below the root, each counted once.
    fn alive_paths(&self) -> usize {
        // A path is in the tree when it and all its parents are alive;
        // removing a directory kills everything under it, so a live node
        // never has a dead parent.
        self.nodes.iter().skip(1).filter(|n| n.alive()).count()
    }
}

/// What `Tree::write` gives a path.
struct NodeState<'a> {
    kind: FileType,
    size: u64,
    mode: u32,
    uid: u32,
    gid: u32,
    link: Option<&'a str>,
}

impl NodeState<'_> {
    fn implicit_dir() -> Self {
        NodeState {
            kind: FileType::Dir,
            size: 0,
            mode: u32::from(IMPLICIT_DIR_MODE),
            uid: 0,
            gid: 0,
            link: None,
        }
    }
}

/// Slots for `paths` at most 7/8 full: a power of two.
fn slots_for(paths: usize) -> usize {
    (paths.saturating_mul(8) / 7 + 1)
        .checked_next_power_of_two()
        .unwrap_or(usize::MAX / 2 + 1)
        .max(16)
}

/// A path's components as `filepath.Clean` leaves them, `..` stopping at
/// the root. The layer reader already cleans paths; this keeps the tree
/// right if one slips through.
fn lexical(path: &str) -> Vec<&str> {
    let mut comps = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                comps.pop();
            }
            c => comps.push(c),
        }
    }
    comps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, file_type: FileType, size: u64, link: Option<&str>) -> LayerEntry {
        LayerEntry {
            path: path.into(),
            file_type,
            size,
            mode: if file_type == FileType::Dir {
                0o755
            } else {
                0o644
            },
            uid: 0,
            gid: 0,
            link: link.map(Into::into),
        }
    }
    fn file(path: &str, size: u64) -> LayerEntry {
        entry(path, FileType::File, size, None)
    }
    fn dir(path: &str) -> LayerEntry {
        entry(path, FileType::Dir, 0, None)
    }
    fn symlink(path: &str, target: &str) -> LayerEntry {
        entry(path, FileType::Symlink, 0, Some(target))
    }
    fn hardlink(path: &str, target: &str) -> LayerEntry {
        entry(path, FileType::Hardlink, 0, Some(target))
    }
    fn owned(mut e: LayerEntry, mode: u32, uid: u32, gid: u32) -> LayerEntry {
        e.mode = mode;
        e.uid = uid;
        e.gid = gid;
        e
    }

    fn run(layers: &[Vec<LayerEntry>]) -> Applied {
        let slices: Vec<&[LayerEntry]> = layers.iter().map(Vec::as_slice).collect();
        apply(&slices)
    }

    fn paths(a: &Applied) -> Vec<String> {
        a.files().map(|f| f.path).collect()
    }

    fn get(a: &Applied, path: &str) -> Option<FileEntry> {
        a.files().find(|f| f.path == path)
    }

    fn changes(
        added: u64,
        added_bytes: u64,
        changed: u64,
        changed_bytes: u64,
        removed: u64,
        removed_bytes: u64,
        wasted_bytes: u64,
    ) -> LayerChanges {
        LayerChanges {
            added,
            added_bytes,
            changed,
            changed_bytes,
            removed,
            removed_bytes,
            wasted_bytes,
        }
    }

    #[test]
    fn final_tree_lists_every_path_with_its_metadata_in_component_order() {
        let a = run(&[vec![
            dir("a"),
            owned(file("a/b", 5), 0o4755, 1000, 50),
            file("a.b", 3),
            symlink("s", "../a/b"),
            entry("dev", FileType::Dir, 0, None),
            entry("dev/null", FileType::CharDevice, 0, None),
            entry("dev/sda", FileType::BlockDevice, 0, None),
            entry("fifo", FileType::Fifo, 0, None),
        ]]);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert_eq!(
            paths(&a),
            ["a", "a/b", "a.b", "dev", "dev/null", "dev/sda", "fifo", "s"]
        );
        assert_eq!(a.len(), 8);
        let b = get(&a, "a/b").expect("a/b is in the tree");
        assert_eq!(
            (b.file_type, b.size, b.mode, b.uid, b.gid, b.link, b.layer),
            (FileType::File, 5, 0o4755, 1000, 50, None, 0)
        );
        let s = get(&a, "s").expect("s is in the tree");
        assert_eq!((s.file_type, s.size), (FileType::Symlink, 0));
        assert_eq!(s.link.as_deref(), Some("../a/b"));
        assert_eq!(
            get(&a, "dev/null").map(|f| f.file_type),
            Some(FileType::CharDevice)
        );
        assert_eq!(a.changes, [changes(8, 8, 0, 0, 0, 0, 0)]);
        assert_eq!(a.clone_files_for_test(), a.into_files());
    }

    impl Applied {
        fn clone_files_for_test(&self) -> Vec<FileEntry> {
            self.files().collect()
        }
    }

    #[test]
    fn a_later_layer_replaces_a_file_and_the_lower_bytes_are_wasted() {
        let a = run(&[
            vec![dir("etc"), file("etc/conf", 100)],
            vec![file("etc/conf", 40)],
        ]);
        let conf = get(&a, "etc/conf").expect("conf is in the tree");
        assert_eq!((conf.size, conf.layer), (40, 1));
        assert_eq!(
            a.changes,
            [
                changes(2, 100, 0, 0, 0, 0, 100),
                changes(0, 0, 1, 40, 0, 0, 0)
            ]
        );
    }

    #[test]
    fn a_later_duplicate_in_one_layer_replaces_the_earlier_one() {
        let a = run(&[vec![
            file("f", 10),
            file("f", 7),
            symlink("l", "x"),
            file("l", 1),
        ]]);
        assert_eq!(get(&a, "f").map(|f| f.size), Some(7));
        let l = get(&a, "l").expect("l is in the tree");
        assert_eq!((l.file_type, l.link), (FileType::File, None));
        // The first copy of `f` was shipped in this layer and never seen.
        assert_eq!(a.changes, [changes(2, 8, 0, 0, 0, 0, 10)]);
    }

    #[test]
    fn a_whiteout_removes_the_lower_path_and_its_subtree_and_never_appears() {
        let a = run(&[
            vec![
                dir("a"),
                dir("a/b"),
                file("a/b/c", 30),
                file("a/keep", 1),
                file("x", 4),
            ],
            vec![file("a/b/d", 5)],
            vec![
                entry("a/.wh.b", FileType::File, 0, None),
                file("a/.wh.x", 0),
            ],
        ]);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert_eq!(paths(&a), ["a", "a/keep", "x"]);
        // Layer 2 removed a/b, a/b/c and a/b/d; layer 0 wrote 30 of those
        // bytes and layer 1 wrote 5, now never seen.
        assert_eq!(
            a.changes,
            [
                changes(5, 35, 0, 0, 0, 0, 30),
                changes(1, 5, 0, 0, 0, 0, 5),
                changes(0, 0, 0, 0, 3, 35, 0)
            ]
        );
    }

    #[test]
    fn a_whiteout_of_a_missing_path_does_nothing() {
        let a = run(&[
            vec![file("f", 1)],
            vec![
                file(".wh.nothing", 0),
                file("no/such/.wh.dir", 0),
                file("f/.wh.under-a-file", 0),
                file("gone/.wh..wh..opq", 0),
            ],
        ]);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert_eq!(paths(&a), ["f"]);
        assert_eq!(a.changes[1], LayerChanges::default());
    }

    #[test]
    fn a_whiteout_keeps_what_its_own_layer_wrote_wherever_it_stands() {
        for whiteout_first in [true, false] {
            let mut upper = vec![dir("d"), file("d/f", 9), file("d/sub/new", 2)];
            let wh = vec![file(".wh.d", 0), file("d/.wh.f", 0)];
            if whiteout_first {
                upper.splice(0..0, wh);
            } else {
                upper.extend(wh);
            }
            let a = run(&[
                vec![
                    dir("d"),
                    file("d/f", 100),
                    file("d/old", 3),
                    dir("d/sub"),
                    file("d/sub/low", 6),
                ],
                upper,
            ]);
            assert!(a.problems.is_empty(), "{:?}", a.problems);
            assert_eq!(
                get(&a, "d/f").map(|f| f.size),
                Some(9),
                "first: {whiteout_first}"
            );
            if whiteout_first {
                // Everything lower went first; the layer then rebuilt d.
                assert_eq!(paths(&a), ["d", "d/f", "d/sub", "d/sub/new"]);
                assert_eq!(get(&a, "d/sub").map(|f| f.layer), Some(1));
            } else {
                // Applied afterwards, the whiteout of d removes the lower
                // paths under it that the layer did not write.
                assert_eq!(paths(&a), ["d", "d/f", "d/sub", "d/sub/new"]);
                // d/sub was only a parent in layer 1: it keeps layer 0's
                // metadata (umoci's upperPaths hold parents too).
                assert_eq!(get(&a, "d/sub").map(|f| f.layer), Some(0));
            }
            assert!(
                !a.files().any(|f| f.path.contains(".wh.")),
                "whiteouts never appear"
            );
        }
    }

    #[test]
    fn an_opaque_marker_hides_lower_children_and_keeps_its_own_layers() {
        for marker_first in [true, false] {
            let mut upper = vec![
                owned(dir("a"), 0o700, 1, 1),
                dir("a/b"),
                dir("a/b/c"),
                file("a/b/c/foo", 8),
            ];
            let marker = file("a/.wh..wh..opq", 0);
            if marker_first {
                upper.insert(1, marker);
            } else {
                upper.push(marker);
            }
            let a = run(&[
                vec![
                    dir("a"),
                    dir("a/b"),
                    dir("a/b/c"),
                    file("a/b/c/bar", 20),
                    file("a/top", 1),
                    file("z", 2),
                ],
                upper,
            ]);
            assert!(a.problems.is_empty(), "{:?}", a.problems);
            // layer.md's example: a/b/c/bar is gone even though the layer
            // rewrote a/b and a/b/c (an opaque directory hides all lower
            // descendants), and the order of the marker does not matter.
            assert_eq!(
                paths(&a),
                ["a", "a/b", "a/b/c", "a/b/c/foo", "z"],
                "marker first: {marker_first}"
            );
            let dir_a = get(&a, "a").expect("the opaque directory stays");
            assert_eq!((dir_a.mode, dir_a.uid, dir_a.layer), (0o700, 1, 1));
            // Either way a, a/b and a/b/c were there before and after
            // (changed; with the marker first a/b and a/b/c were removed and
            // written again), foo is new, bar and top are gone.
            assert_eq!(a.changes[1], changes(1, 8, 3, 0, 2, 21, 0));
            assert_eq!(a.changes[0].wasted_bytes, 21);
        }
    }

    #[test]
    fn a_file_over_a_directory_removes_the_subtree() {
        let a = run(&[
            vec![dir("d"), dir("d/e"), file("d/e/f", 11), file("d/g", 4)],
            vec![file("d", 2), file("d/h", 1)],
        ]);
        // d/h cannot go under the file d: an error unpackers stop at.
        assert_eq!(paths(&a), ["d"]);
        assert_eq!(
            get(&a, "d").map(|f| (f.file_type, f.size, f.layer)),
            Some((FileType::File, 2, 1))
        );
        assert_eq!(a.problems.len(), 1);
        assert_eq!(
            a.problems[0],
            TreeProblem {
                layer: 1,
                entry: 1,
                path: "d/h".into(),
                kind: TreeProblemKind::NotADirectory {
                    blocker: "d".into()
                },
            }
        );
        assert_eq!(a.changes[1], changes(0, 0, 1, 2, 3, 15, 0));
        assert_eq!(a.changes[0].wasted_bytes, 15);
    }

    #[test]
    fn a_directory_over_a_directory_updates_it_and_keeps_its_children() {
        let a = run(&[
            vec![dir("d"), file("d/f", 3)],
            vec![owned(dir("d"), 0o1777, 7, 8)],
        ]);
        assert_eq!(paths(&a), ["d", "d/f"]);
        let d = get(&a, "d").expect("d stays");
        assert_eq!((d.mode, d.uid, d.gid, d.layer), (0o1777, 7, 8, 1));
        assert_eq!(get(&a, "d/f").map(|f| f.layer), Some(0));
        assert_eq!(a.changes[1], changes(0, 0, 1, 0, 0, 0, 0));
    }

    #[test]
    fn a_directory_replaces_a_symlink_instead_of_following_it() {
        let a = run(&[
            vec![dir("real"), file("real/x", 1), symlink("link", "real")],
            vec![dir("link")],
        ]);
        assert_eq!(
            get(&a, "link").map(|f| (f.file_type, f.link)),
            Some((FileType::Dir, None))
        );
        assert_eq!(paths(&a), ["link", "real", "real/x"]);
    }

    #[test]
    fn missing_parents_are_made_0755_root_owned_by_the_layer() {
        let a = run(&[
            vec![file("x", 1)],
            vec![owned(file("p/q/r", 6), 0o600, 9, 9)],
        ]);
        for path in ["p", "p/q"] {
            let d = get(&a, path).expect("parent made");
            assert_eq!(
                (d.file_type, d.mode, d.uid, d.gid, d.layer),
                (FileType::Dir, 0o755, 0, 0, 1)
            );
        }
        assert_eq!(get(&a, "p/q/r").map(|f| f.mode), Some(0o600));
        assert_eq!(a.changes[1], changes(3, 6, 0, 0, 0, 0, 0));
    }

    #[test]
    fn hard_links_take_their_source_and_fail_without_one() {
        let a = run(&[
            vec![
                owned(file("bin/busybox", 1000), 0o4755, 0, 10),
                hardlink("bin/sh", "bin/busybox"),
                hardlink("bin/ls", "bin/sh"),
                hardlink("bin/nothing", "bin/missing"),
                dir("d"),
                hardlink("bin/dir", "d"),
            ],
            vec![
                owned(file("bin/busybox", 5), 0o755, 0, 0),
                hardlink("self", "self"),
            ],
        ]);
        for (path, layer) in [("bin/sh", 0), ("bin/ls", 0)] {
            let l = get(&a, path).expect("link made");
            // Made before layer 1 rewrote busybox: the old inode.
            assert_eq!(
                (l.file_type, l.size, l.mode, l.gid, l.layer),
                (FileType::Hardlink, 1000, 0o4755, 10, layer)
            );
        }
        assert_eq!(
            get(&a, "bin/ls").and_then(|l| l.link).as_deref(),
            Some("bin/sh")
        );
        assert!(get(&a, "bin/nothing").is_none());
        assert!(get(&a, "bin/dir").is_none());
        assert!(get(&a, "self").is_none());
        let kinds: Vec<_> = a
            .problems
            .iter()
            .map(|p| (p.layer, p.entry, p.kind.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                (
                    0,
                    3,
                    TreeProblemKind::HardlinkTargetMissing {
                        target: "bin/missing".into()
                    }
                ),
                (
                    0,
                    5,
                    TreeProblemKind::HardlinkToDirectory { target: "d".into() }
                ),
                (
                    1,
                    1,
                    TreeProblemKind::HardlinkTargetMissing {
                        target: "self".into()
                    }
                ),
            ]
        );
        // Hard links ship no bytes of their own.
        assert_eq!(a.changes[0], changes(5, 1000, 0, 0, 0, 0, 1000));
        assert!(a.problems[0].to_string().contains("bin/missing"));
    }

    #[test]
    fn a_hard_link_cannot_point_into_the_path_it_replaces() {
        let a = run(&[vec![dir("d"), file("d/f", 1)], vec![hardlink("d", "d/f")]]);
        assert_eq!(paths(&a), ["d", "d/f"]);
        assert_eq!(a.problems.len(), 1);
        assert_eq!(a.changes[1], LayerChanges::default());
    }

    #[test]
    fn symlinks_among_parents_are_followed_inside_the_root() {
        let a = run(&[
            vec![
                dir("usr"),
                dir("usr/lib"),
                symlink("lib", "usr/lib"),
                symlink("abs", "/usr/lib"),
                symlink("up", "../../../usr"),
                symlink("dangling", "made/here"),
            ],
            vec![
                file("lib/a", 1),
                file("abs/b", 2),
                file("up/lib/c", 3),
                file("dangling/d", 4),
                file("lib/.wh.a", 0),
            ],
        ]);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        assert_eq!(
            paths(&a),
            [
                "abs",
                "dangling",
                "lib",
                "made",
                "made/here",
                "made/here/d",
                "up",
                "usr",
                "usr/lib",
                "usr/lib/a",
                "usr/lib/b",
                "usr/lib/c",
            ]
        );
        assert_eq!(get(&a, "lib").map(|f| f.file_type), Some(FileType::Symlink));

        let b = run(&[
            vec![file("x", 1), symlink("x2", "x"), file("y", 1)],
            vec![file("lib/.wh.a", 0), file("x2/.wh.y", 0)],
            vec![file("x2/z", 1)],
        ]);
        // A whiteout through a symlink to a file finds nothing; a write
        // through one is an error, and the blocker is the resolved path.
        assert_eq!(paths(&b), ["x", "x2", "y"]);
        assert_eq!(
            b.problems
                .iter()
                .map(|p| p.kind.clone())
                .collect::<Vec<_>>(),
            [TreeProblemKind::NotADirectory {
                blocker: "x".into()
            }]
        );
    }

    #[test]
    fn a_symlink_loop_is_a_problem() {
        let a = run(&[vec![symlink("a", "b"), symlink("b", "a"), file("a/f", 1)]]);
        assert_eq!(paths(&a), ["a", "b"]);
        assert_eq!(
            a.problems
                .iter()
                .map(|p| p.kind.clone())
                .collect::<Vec<_>>(),
            [TreeProblemKind::SymlinkLoop]
        );
    }

    #[test]
    fn whiteouts_that_name_no_file_and_non_directory_roots_are_left_out() {
        let a = run(&[
            vec![dir("d"), file("d/f", 1)],
            vec![
                file("d/.wh.", 0),
                file("d/.wh..", 0),
                file("d/.wh...", 0),
                dir(""),
                file("", 0),
            ],
        ]);
        assert_eq!(paths(&a), ["d", "d/f"]);
        assert_eq!(
            a.problems
                .iter()
                .map(|p| p.kind.clone())
                .collect::<Vec<_>>(),
            [
                TreeProblemKind::MalformedWhiteout,
                TreeProblemKind::MalformedWhiteout,
                TreeProblemKind::MalformedWhiteout,
                TreeProblemKind::RootNotDirectory(FileType::File),
            ]
        );
    }

    #[test]
    fn removed_paths_come_back_when_written_again() {
        let a = run(&[
            vec![dir("d"), file("d/f", 10), file("d/g", 20)],
            vec![file(".wh.d", 0)],
            vec![file("d/f", 1)],
        ]);
        assert_eq!(paths(&a), ["d", "d/f"]);
        assert_eq!(get(&a, "d").map(|f| (f.mode, f.layer)), Some((0o755, 2)));
        assert_eq!(
            a.changes,
            [
                changes(3, 30, 0, 0, 0, 0, 30),
                changes(0, 0, 0, 0, 3, 30, 0),
                changes(2, 1, 0, 0, 0, 0, 0),
            ]
        );
    }

    /// dive's example of waste: a package cache written, then deleted; a
    /// file rewritten twice. Each layer's counts follow from the rules.
    #[test]
    fn wasted_bytes_and_counts_over_several_layers() {
        let a = run(&[
            vec![
                dir("var"),
                dir("var/cache"),
                file("var/cache/pkg.tar", 500),
                file("app", 50),
            ],
            vec![file("app", 60), file("var/cache/index", 7)],
            vec![file("var/.wh.cache", 0), file("app", 70)],
        ]);
        assert_eq!(paths(&a), ["app", "var"]);
        assert_eq!(get(&a, "app").map(|f| (f.size, f.layer)), Some((70, 2)));
        assert_eq!(
            a.changes,
            [
                changes(4, 550, 0, 0, 0, 0, 550),
                changes(1, 7, 1, 60, 0, 0, 67),
                changes(0, 0, 1, 70, 3, 507, 0),
            ]
        );
        let shipped: u64 = a
            .changes
            .iter()
            .map(|c| c.added_bytes + c.changed_bytes)
            .sum();
        let seen: u64 = a
            .files()
            .filter(|f| f.file_type == FileType::File)
            .map(|f| f.size)
            .sum();
        let wasted: u64 = a.changes.iter().map(|c| c.wasted_bytes).sum();
        assert_eq!(shipped, seen + wasted);
    }

    #[test]
    fn the_same_layers_give_the_same_result() {
        let layers = [
            vec![
                dir("b"),
                file("b/z", 1),
                file("b/a", 2),
                file("c", 3),
                symlink("a", "b"),
            ],
            vec![
                file("a/y", 4),
                file("b/.wh.z", 0),
                file("c/.wh..wh..opq", 0),
            ],
        ];
        let one = run(&layers);
        let two = run(&layers);
        assert_eq!(one.clone_files_for_test(), two.clone_files_for_test());
        assert_eq!((one.changes, one.problems), (two.changes, two.problems));
    }

    #[test]
    fn layers_pushed_one_at_a_time_without_hints_give_what_apply_gives() {
        // Far past the 16 slots an unhinted index starts with.
        let layers: Vec<Vec<LayerEntry>> = (0..3)
            .map(|l| {
                (0..3000)
                    .map(|i| file(&format!("d{}/f{i}", i % 7), (l * 3000 + i) as u64))
                    .chain([file(&format!("d{l}/.wh.f{l}"), 0)])
                    .collect()
            })
            .collect();
        let whole = run(&layers);
        let mut builder = TreeBuilder::with_capacity(0, 0);
        for layer in &layers {
            builder.push_layer(layer);
        }
        let pushed = builder.finish();
        assert_eq!(whole.len(), 3000 + 7);
        assert_eq!(pushed.clone_files_for_test(), whole.clone_files_for_test());
        assert_eq!(pushed.changes, whole.changes);
        assert_eq!(get(&pushed, "d3/f3000").map(|f| f.size), None);
        assert_eq!(
            get(&pushed, "d0/f2996").map(|f| (f.size, f.layer)),
            Some((8996, 2))
        );
    }

    #[test]
    fn a_node_stays_44_bytes() {
        // The memory budget of issue 14 rests on it.
        assert_eq!(std::mem::size_of::<Node>(), 44);
    }

    #[test]
    fn an_empty_image_has_an_empty_tree() {
        let a = run(&[vec![], vec![dir("")]]);
        assert_eq!(a.len(), 0);
        assert_eq!(
            a.changes,
            [LayerChanges::default(), LayerChanges::default()]
        );
    }
}
