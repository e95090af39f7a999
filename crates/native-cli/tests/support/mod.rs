//! What the import tests share: the corpus, the binary, and a scratch
//! directory per test. Each daemon's harness lives in its own module here.
#![allow(dead_code)] // each test crate uses a different part

pub mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared corpus (`AIRLOCK_CORPUS` overrides where it is).
pub fn corpus() -> PathBuf {
    std::env::var_os("AIRLOCK_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    )
}

/// One row of `expected.tsv`.
pub struct Row {
    pub file: String,
    pub verdict: String,
}

impl Row {
    pub fn path(&self) -> PathBuf {
        corpus().join(&self.file)
    }
}

/// The corpus rows with the given verdict (`ok`, `fail` or `*`).
pub fn rows(verdict: &str) -> Vec<Row> {
    let table = std::fs::read_to_string(corpus().join("expected.tsv")).expect("expected.tsv");
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Row {
                file: cols[0].to_owned(),
                verdict: cols[1].to_owned(),
            }
        })
        .filter(|r| r.verdict == verdict)
        .collect()
}

pub fn airlock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .output()
        .expect("the airlock binary runs")
}

pub fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// A fresh directory under the target dir, removed first if a previous run
/// left it.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Every file under `dir` with its size, sorted: a cheap picture of a
/// directory to compare before and after a refused import.
pub fn tree(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                out.push((p.strip_prefix(dir).unwrap_or(&p).to_path_buf(), len));
            }
        }
    }
    out.sort();
    out
}
