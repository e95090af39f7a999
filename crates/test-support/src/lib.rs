//! What the test suites of `verify-core` and `airlock` share: where the
//! shared corpus is, the rows of its `expected.tsv`, and the adversarial
//! bundles ([`cases`]) built from it. A dev-dependency only.

pub mod cases;
pub mod go_tar;
pub mod images;
pub mod sbom_validators;

use std::path::{Path, PathBuf};

/// The shared corpus: `$AIRLOCK_CORPUS`, else `../shared/corpus` beside the
/// checkout.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("AIRLOCK_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    )
}

/// One row of `expected.tsv`: a corpus file, its verdict (`ok`, `fail` or
/// `*` for either) and the finding kinds its report must contain.
pub struct Row {
    pub file: String,
    pub verdict: String,
    pub kinds: Vec<String>,
}

impl Row {
    pub fn path(&self) -> PathBuf {
        corpus_dir().join(&self.file)
    }
}

/// Every row of `expected.tsv`, in order.
pub fn rows() -> Vec<Row> {
    let table = std::fs::read_to_string(corpus_dir().join("expected.tsv"))
        .expect("the shared corpus (../shared/corpus/expected.tsv) must be present");
    table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Row {
                file: cols[0].to_owned(),
                verdict: cols[1].to_owned(),
                kinds: cols
                    .get(2)
                    .filter(|k| **k != "-")
                    .map(|k| k.split(',').map(|s| s.trim().to_owned()).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// The rows with the given verdict (`ok`, `fail` or `*`).
pub fn rows_with(verdict: &str) -> Vec<Row> {
    rows()
        .into_iter()
        .filter(|r| r.verdict == verdict)
        .collect()
}
