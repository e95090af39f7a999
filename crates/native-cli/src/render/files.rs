//! An image's file tree as `inspect --files` shows it: one line per path,
//! indented like `tree`, with `ls -l` columns and marks for what an
//! approver should look at twice.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use verify_core::contents::{FileEntry, FileType};

use super::{Style, size};
use crate::untrusted::Untrusted;

const SETUID: u32 = 0o4000;
const SETGID: u32 = 0o2000;
const STICKY: u32 = 0o1000;
const OTHER_WRITE: u32 = 0o002;

/// Writes the tree of `files`, or only the paths layer `only_layer`
/// (0-based) last wrote, with the directories above them named for
/// context but without columns (the final image has them from other
/// layers, or implies them).
pub fn tree(out: &mut String, files: &[FileEntry], only_layer: Option<usize>, style: Style) {
    // Keyed by components, a parent sorts right before its children; by
    // the whole path, `a/x` would sort after `a.b`.
    let mut nodes: BTreeMap<Vec<&str>, Option<&FileEntry>> = BTreeMap::new();
    for entry in files
        .iter()
        .filter(|e| only_layer.is_none_or(|l| e.layer == l))
    {
        let parts: Vec<&str> = entry.path.split('/').collect();
        for depth in 1..parts.len() {
            nodes.entry(parts[..depth].to_vec()).or_insert(None);
        }
        nodes.insert(parts, Some(entry));
    }
    if nodes.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            if only_layer.is_some() {
                "(nothing this layer wrote is left in the final image)"
            } else {
                "(no files)"
            }
        );
        return;
    }
    let keys: Vec<&Vec<&str>> = nodes.keys().collect();
    let last = last_siblings(&keys);

    let rows: Vec<Option<[String; 4]>> = nodes.values().map(|e| e.map(columns)).collect();
    let mut widths = [0usize; 4];
    for row in rows.iter().flatten() {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let blank = widths.iter().sum::<usize>() + 2 * widths.len();

    // For each depth above the current line, whether that ancestor was the
    // last of its siblings (then no rule continues beside it).
    let mut open: Vec<bool> = Vec::new();
    for (((parts, entry), row), is_last) in nodes.iter().zip(&rows).zip(&last) {
        let depth = parts.len() - 1;
        open.truncate(depth);
        let mut line = String::new();
        match row {
            Some([mode, owner, bytes, layer]) => {
                let _ = write!(
                    line,
                    "{mode:<0$}  {owner:>1$}  {bytes:>2$}  {layer:>3$}  ",
                    widths[0], widths[1], widths[2], widths[3]
                );
            }
            None => line.push_str(&" ".repeat(blank)),
        }
        for ancestor_last in &open {
            line.push_str(if *ancestor_last { "    " } else { "│   " });
        }
        line.push_str(if *is_last { "└── " } else { "├── " });
        let name = parts.last().copied().unwrap_or_default();
        let _ = write!(line, "{}", Untrusted(name));
        match entry {
            Some(e) => describe(&mut line, e, style),
            None => line.push('/'),
        }
        let _ = writeln!(out, "  {}", line.trim_end());
        open.push(*is_last);
    }
}

/// Whether each node (in tree order) is the last child of its parent.
/// Walking backwards, a node is last when no sibling was seen after it;
/// what was seen deeper belonged to it or to a later sibling.
fn last_siblings(keys: &[&Vec<&str>]) -> Vec<bool> {
    let mut last = vec![false; keys.len()];
    let mut sibling_after: Vec<bool> = Vec::new();
    for (i, parts) in keys.iter().enumerate().rev() {
        let depth = parts.len() - 1;
        sibling_after.resize(depth + 1, false);
        last[i] = !sibling_after[depth];
        sibling_after[depth] = true;
    }
    last
}

/// Mode, `uid:gid`, size (regular files) and layer number (from 1).
fn columns(e: &FileEntry) -> [String; 4] {
    let bytes = match e.file_type {
        FileType::File | FileType::Hardlink => size(e.size),
        _ => "-".to_owned(),
    };
    [
        mode_string(e.file_type, e.mode),
        format!("{}:{}", e.uid, e.gid),
        bytes,
        format!("L{}", e.layer + 1),
    ]
}

/// A directory's `/`, a link's target, and the marks.
fn describe(line: &mut String, e: &FileEntry, style: Style) {
    match (e.file_type, &e.link) {
        (FileType::Dir, _) => line.push('/'),
        (FileType::Symlink, Some(target)) => {
            let _ = write!(line, " -> {}", Untrusted(target));
        }
        (FileType::Hardlink, Some(source)) => {
            let _ = write!(line, " => {}", Untrusted(source));
        }
        _ => {}
    }
    for mark in marks(e) {
        let _ = write!(line, "  {}", style.paint("33", &format!("[{mark}]")));
    }
}

/// What `setuid-file`, `device-file` and `world-writable` findings flag,
/// on the path itself.
fn marks(e: &FileEntry) -> Vec<&'static str> {
    let mut marks = Vec::new();
    let regular = matches!(e.file_type, FileType::File | FileType::Hardlink);
    if regular && e.mode & SETUID != 0 {
        marks.push("setuid");
    }
    if regular && e.mode & SETGID != 0 {
        marks.push("setgid");
    }
    if matches!(e.file_type, FileType::CharDevice | FileType::BlockDevice) {
        marks.push("device");
    }
    let world_writable = e.mode & OTHER_WRITE != 0
        && match e.file_type {
            FileType::Dir => e.mode & STICKY == 0,
            FileType::Symlink => false,
            _ => true,
        };
    if world_writable {
        marks.push("world-writable");
    }
    marks
}

/// `ls -l` style: `drwxr-xr-x`, `-rwsr-xr-x`, `drwxrwxrwt`.
fn mode_string(file_type: FileType, mode: u32) -> String {
    let kind = match file_type {
        FileType::Dir => 'd',
        FileType::Symlink => 'l',
        FileType::CharDevice => 'c',
        FileType::BlockDevice => 'b',
        FileType::Fifo => 'p',
        // A hard link is a regular file with a second name.
        _ => '-',
    };
    let mut s = String::with_capacity(10);
    s.push(kind);
    // (owner bits, special bit, its letter) for user, group, other.
    for (shift, special, letter) in [(6, SETUID, 's'), (3, SETGID, 's'), (0, STICKY, 't')] {
        let bits = (mode >> shift) & 0o7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        let exec = bits & 1 != 0;
        s.push(match (mode & special != 0, exec) {
            (true, true) => letter,
            (true, false) => letter.to_ascii_uppercase(),
            (false, true) => 'x',
            (false, false) => '-',
        });
    }
    s
}

#[cfg(test)]
mod tests {
    use super::{FileEntry, FileType, Style, last_siblings, mode_string, tree};

    /// Entries as the report's JSON gives them (the type is the core's to
    /// build).
    fn entries(rows: &[(&str, &str, u32, usize)]) -> Vec<FileEntry> {
        rows.iter()
            .map(|(path, kind, mode, layer)| {
                serde_json::from_value(serde_json::json!({
                    "path": path, "type": kind, "size": 3, "mode": mode,
                    "uid": 0, "gid": 0, "layer": layer,
                }))
                .expect("a file entry")
            })
            .collect()
    }

    fn shown(files: &[FileEntry], only_layer: Option<usize>) -> Vec<String> {
        let mut out = String::new();
        tree(&mut out, files, only_layer, Style { color: false });
        out.lines().map(str::to_owned).collect()
    }

    #[test]
    fn children_sit_under_their_directory_whatever_the_byte_order() {
        // By bytes, `a.b` sorts between `a` and `a/x`.
        let files = entries(&[
            ("a", "dir", 0o755, 0),
            ("a.b", "file", 0o644, 0),
            ("a/x", "file", 0o644, 0),
        ]);
        let lines = shown(&files, None);
        assert_eq!(lines.len(), 3, "{lines:#?}");
        assert!(lines[0].ends_with("├── a/"), "{lines:#?}");
        assert!(lines[1].ends_with("│   └── x"), "{lines:#?}");
        assert!(lines[2].ends_with("└── a.b"), "{lines:#?}");
    }

    #[test]
    fn one_layer_keeps_its_paths_and_names_their_directories() {
        let files = entries(&[
            ("usr", "dir", 0o755, 0),
            ("usr/bin", "dir", 0o755, 0),
            ("usr/bin/tool", "file", 0o4755, 2),
            ("usr/lib", "file", 0o644, 0),
        ]);
        let lines = shown(&files, Some(2));
        assert_eq!(lines.len(), 3, "{lines:#?}");
        // Context: no columns, only the name.
        assert_eq!(lines[0].trim_start(), "└── usr/");
        assert_eq!(lines[1].trim_start(), "└── bin/");
        assert!(lines[2].contains("-rwsr-xr-x") && lines[2].contains(" L3 "));
        assert!(lines[2].ends_with("└── tool  [setuid]"), "{lines:#?}");
        assert!(!lines.iter().any(|l| l.contains("lib")), "{lines:#?}");

        let none = shown(&files, Some(1));
        assert_eq!(
            none,
            ["  (nothing this layer wrote is left in the final image)"]
        );
    }

    #[test]
    fn modes_read_like_ls() {
        assert_eq!(mode_string(FileType::File, 0o4755), "-rwsr-xr-x");
        assert_eq!(mode_string(FileType::File, 0o2644), "-rw-r-Sr--");
        assert_eq!(mode_string(FileType::Dir, 0o1777), "drwxrwxrwt");
        assert_eq!(mode_string(FileType::Dir, 0o1776), "drwxrwxrwT");
        assert_eq!(mode_string(FileType::Symlink, 0o777), "lrwxrwxrwx");
        assert_eq!(mode_string(FileType::CharDevice, 0o600), "crw-------");
    }

    #[test]
    fn last_children_close_their_branch() {
        let paths: [&[&str]; 5] = [&["a"], &["a", "x"], &["a", "y"], &["b"], &["b", "z"]];
        let keys: Vec<Vec<&str>> = paths.iter().map(|p| p.to_vec()).collect();
        let refs: Vec<&Vec<&str>> = keys.iter().collect();
        assert_eq!(last_siblings(&refs), [false, false, true, true, true]);
    }
}
