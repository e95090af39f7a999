//! The file tree of an image with a million files stays well under the
//! CLI's 256 MiB, counting the layer records it is built from (issue 14:
//! "memory grows with files, not bytes").
//!
//! The tree module is crate-private, so this binary compiles it from its
//! sources (`src/layers/entry.rs` and `tree.rs`, and `src/contents.rs` for the types it builds);
//! it runs without the test harness so that nothing else allocates while
//! the counting allocator watches.

use peak_alloc::PeakAlloc;

#[global_allocator]
static HEAP: PeakAlloc = PeakAlloc;

#[allow(dead_code)]
#[path = "../src/contents.rs"]
mod contents;
#[path = "../src/layers/entry.rs"]
mod entry;
// Its unit tests come along and do not run here.
#[allow(dead_code)]
#[path = "../src/layers/tree.rs"]
mod tree;
// `tree.rs` reaches its record as `super::LayerEntry`.
use entry::LayerEntry;

use contents::FileType;

const MIB: usize = 1024 * 1024;
/// The CLI's budget for one image's tree (issue 14).
const BUDGET: usize = 256 * MIB;
const LAYERS: usize = 10;
const DIRS_PER_LAYER: usize = 1_000;
const FILES_PER_DIR: usize = 100;

fn record(path: String, file_type: FileType, size: u64) -> LayerEntry {
    LayerEntry {
        path: path.into_boxed_str(),
        file_type,
        size,
        mode: 0o644,
        uid: 0,
        gid: 0,
        link: None,
    }
}

/// A million files in ten layers, each with its parent directories as
/// Docker writes them, paths about as long as a Python site-packages tree.
/// The last layer also rewrites 20,000 files of the first and whites out
/// 100 of its directories (10,000 files).
fn layers() -> Vec<Vec<LayerEntry>> {
    (0..LAYERS).map(layer).collect()
}

fn layer(l: usize) -> Vec<LayerEntry> {
    let mut entries = Vec::with_capacity(DIRS_PER_LAYER * (FILES_PER_DIR + 1) + 3);
    entries.push(record("usr".into(), FileType::Dir, 0));
    entries.push(record("usr/lib".into(), FileType::Dir, 0));
    let base = format!("usr/lib/python3.12/site-packages/layer{l:02}");
    for d in 0..DIRS_PER_LAYER {
        let dir = format!("{base}/package_{d:04}");
        entries.push(record(dir.clone(), FileType::Dir, 0));
        for f in 0..FILES_PER_DIR {
            let size = ((l * 7919 + d * 104_729 + f * 31) % 9000) as u64;
            entries.push(record(
                format!("{dir}/module_{f:03}.py"),
                FileType::File,
                size,
            ));
        }
    }
    if l == LAYERS - 1 {
        for d in 0..200 {
            for f in 0..FILES_PER_DIR {
                entries.push(record(
                    format!(
                        "usr/lib/python3.12/site-packages/layer00/package_{d:04}/module_{f:03}.py"
                    ),
                    FileType::File,
                    1,
                ));
            }
        }
        for d in 900..1_000 {
            entries.push(record(
                format!("usr/lib/python3.12/site-packages/layer00/.wh.package_{d:04}"),
                FileType::File,
                0,
            ));
        }
    }
    entries
}

fn main() {
    let start = HEAP.current_usage();
    let input = layers();
    let records: usize = input.iter().map(Vec::len).sum();
    let files: usize = input
        .iter()
        .flatten()
        .filter(|e| e.file_type == FileType::File && !e.path.contains("/.wh."))
        .count();
    assert!(
        files >= 1_000_000,
        "the test needs a million files, has {files}"
    );
    let input_bytes = HEAP.current_usage() - start;

    HEAP.reset_peak_usage();
    let slices: Vec<&[LayerEntry]> = input.iter().map(Vec::as_slice).collect();
    let applied = tree::apply(&slices);
    let apply_peak = HEAP.peak_usage() - start;
    let tree_bytes = HEAP.current_usage() - start - input_bytes;

    // Every path of the final tree: 10 layers of 1,000 directories of 100
    // files, less the 100 directories whited out, plus 3 + 1 + 10 parents.
    let expected_paths =
        LAYERS * DIRS_PER_LAYER * (FILES_PER_DIR + 1) - 100 * (FILES_PER_DIR + 1) + 4 + LAYERS;
    assert!(
        applied.problems.is_empty(),
        "{:?}",
        applied.problems.first()
    );
    assert_eq!(applied.len(), expected_paths);
    let last = applied.changes.last().expect("one change record per layer");
    assert_eq!(
        (last.changed, last.removed),
        (20_000 + 2, 100 * (FILES_PER_DIR + 1) as u64)
    );

    HEAP.reset_peak_usage();
    let mut streamed = 0usize;
    let mut previous = String::new();
    for file in applied.files() {
        assert!(file.path > previous || file.path.starts_with(&previous));
        streamed += 1;
        previous = file.path;
    }
    drop(previous);
    let stream_peak = HEAP.peak_usage() - start;
    assert_eq!(streamed, expected_paths);

    drop(slices);
    drop(input);
    HEAP.reset_peak_usage();
    let listed = applied.into_files();
    let list_peak = HEAP.peak_usage() - start;
    assert_eq!(listed.len(), expected_paths);
    drop(listed);

    // A caller that has the layers in order can drop each one's records
    // once it is applied: then the tree is most of what is held.
    HEAP.reset_peak_usage();
    let mut builder = tree::TreeBuilder::with_capacity(records, 0);
    for l in 0..LAYERS {
        let entries = layer(l);
        builder.push_layer(&entries);
    }
    let applied = builder.finish();
    let layered_peak = HEAP.peak_usage() - start;
    assert_eq!(applied.len(), expected_paths);
    drop(applied);

    eprintln!(
        "{records} records for {files} files: input {} MiB; apply peak {} MiB \
         (tree kept {} MiB, {} bytes a path); streaming the tree peak {} MiB; \
         the tree as a Vec<FileEntry> after the input is dropped peak {} MiB; \
         layer by layer, each dropped once applied, peak {} MiB",
        input_bytes / MIB,
        apply_peak / MIB,
        tree_bytes / MIB,
        tree_bytes / expected_paths,
        stream_peak / MIB,
        list_peak / MIB,
        layered_peak / MIB,
    );
    // Input and tree together stay under 13/16 of the budget (measured:
    // 125 MiB of records, 64 MiB of tree, 196 MiB at the peak).
    assert!(apply_peak < BUDGET * 13 / 16, "apply peak {apply_peak}");
    assert!(stream_peak < BUDGET * 13 / 16, "stream peak {stream_peak}");
    // The tree grows by a bounded number of bytes a path (measured: 68).
    assert!(tree_bytes / expected_paths <= 80, "tree {tree_bytes} bytes");
    // Holding every path as a public FileEntry costs the most; without the
    // records beside it, that still fits.
    assert!(list_peak < BUDGET, "list peak {list_peak}");
    assert!(layered_peak < BUDGET / 2, "layered peak {layered_peak}");
}
