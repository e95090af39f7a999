//! The core's per-chunk cost: runs the criterion benchmark
//! `crates/verify-core/benches/chunks.rs` with short timings, reads what it
//! wrote under `target/criterion/chunks/`, and says which chunk size the
//! numbers support, for the CLI's reads and the page's batches.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};

use crate::env::{self, Step, run};

/// The criterion group the benchmark writes.
const GROUP: &str = "chunks";
/// Kept short: about 45 s for the ten cells on 2 cores.
const TIMING: [&str; 6] = [
    "--warm-up-time",
    "1",
    "--measurement-time",
    "2",
    "--sample-size",
    "10",
];
/// A chunk whose rate may be this close to the best is as good as the
/// best: on a shared machine one run cannot tell them apart.
const WITHIN: f64 = 0.02;

/// One cell: a mode (`hash_file=…`), a chunk size and its rate.
struct Cell {
    mode: String,
    chunk: String,
    chunk_bytes: u64,
    /// From the mean time.
    mib_per_s: f64,
    /// From the ends of the mean's 95% confidence interval.
    low: f64,
    high: f64,
}

/// The measured table.
pub struct Micro {
    cells: Vec<Cell>,
}

/// Runs the benchmark and reads its results.
pub fn run_micro() -> Result<Micro, String> {
    let results = env::target_dir().join("criterion").join(GROUP);
    // Cells of an earlier run with other sizes must not reappear.
    let _ = std::fs::remove_dir_all(&results);
    let mut c = env::cargo(["bench", "-p", "verify-core", "--bench", "chunks", "--"]);
    c.args(TIMING);
    run(c, Step::new("the core's per-chunk cost (criterion)"))?;
    read(&results)
}

/// `<mode>/<chunk>/new/{benchmark,estimates}.json` below `results`.
fn read(results: &Path) -> Result<Micro, String> {
    let json = |p: &Path| -> Result<Value, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let mut cells = Vec::new();
    for mode in dirs(results)? {
        for chunk in dirs(&mode)? {
            let new = chunk.join("new");
            let id = json(&new.join("benchmark.json"))?;
            let estimates = json(&new.join("estimates.json"))?;
            let mean = &estimates["mean"];
            let interval = &mean["confidence_interval"];
            let (Some(bytes), Some(mean_ns), Some(low_ns), Some(high_ns)) = (
                id["throughput"]["Bytes"].as_u64(),
                mean["point_estimate"].as_f64(),
                interval["lower_bound"].as_f64(),
                interval["upper_bound"].as_f64(),
            ) else {
                return Err(format!("{}: no throughput or mean", new.display()));
            };
            let rate = |ns: f64| bytes as f64 / f64::from(1 << 20) / (ns / 1e9);
            let name = id["value_str"].as_str().unwrap_or_default().to_owned();
            cells.push(Cell {
                mode: id["function_id"].as_str().unwrap_or_default().to_owned(),
                chunk_bytes: size_of(&name)
                    .ok_or_else(|| format!("{}: chunk size {name:?}", new.display()))?,
                chunk: name,
                mib_per_s: rate(mean_ns),
                low: rate(high_ns),
                high: rate(low_ns),
            });
        }
    }
    if cells.is_empty() {
        return Err(format!("no results under {}", results.display()));
    }
    cells.sort_by(|a, b| (&a.mode, a.chunk_bytes).cmp(&(&b.mode, b.chunk_bytes)));
    Ok(Micro { cells })
}

fn dirs(parent: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let entries = std::fs::read_dir(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let mut dirs: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "report"))
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// `64KiB` or `16MiB` in bytes.
fn size_of(name: &str) -> Option<u64> {
    let (number, shift) = if let Some(n) = name.strip_suffix("KiB") {
        (n, 10)
    } else {
        (name.strip_suffix("MiB")?, 20)
    };
    number.parse::<u64>().ok().map(|n| n << shift)
}

/// A mode's best rate, and the smallest chunk whose interval reaches
/// within [`WITHIN`] of it.
struct Pick<'a> {
    mode: &'a str,
    best: &'a Cell,
    smallest: &'a Cell,
}

impl Micro {
    fn modes(&self) -> Vec<&str> {
        let modes: BTreeSet<&str> = self.cells.iter().map(|c| c.mode.as_str()).collect();
        modes.into_iter().collect()
    }

    fn picks(&self) -> Vec<Pick<'_>> {
        self.modes()
            .into_iter()
            .filter_map(|mode| {
                let cells: Vec<&Cell> = self.cells.iter().filter(|c| c.mode == mode).collect();
                let best = cells
                    .iter()
                    .copied()
                    .max_by(|a, b| a.mib_per_s.total_cmp(&b.mib_per_s))?;
                let smallest = cells
                    .iter()
                    .copied()
                    .find(|c| c.high >= best.mib_per_s * (1.0 - WITHIN))?;
                Some(Pick {
                    mode,
                    best,
                    smallest,
                })
            })
            .collect()
    }

    /// The section of `bench/RESULTS.md`, its heading included.
    pub fn markdown(&self, date: &str, commit: &str) -> String {
        let modes = self.modes();
        let mut md = String::new();
        let _ = writeln!(md, "{HEADING}\n");
        let _ = writeln!(
            md,
            "`cargo bench -p verify-core --bench chunks -- {}` on {date}, commit {commit}: \
             one full verification of a 128 MiB `docker save` held in memory, fed to \
             `Verifier::update` in chunks of each size (each copied into a reused buffer \
             first, as a read would); MiB/s from the mean time, in brackets from the ends \
             of its 95% confidence interval. \
             `hash_file=false` is how the CLI and the page drive the core (the file hash \
             runs on another core), `hash_file=true` how the edge does.\n",
            TIMING.join(" ")
        );
        let _ = writeln!(md, "| chunk | {} |", modes.join(" MiB/s | ") + " MiB/s");
        let _ = writeln!(md, "|---|{}", "---:|".repeat(modes.len()));
        let mut chunks: Vec<(u64, &str)> = self
            .cells
            .iter()
            .map(|c| (c.chunk_bytes, c.chunk.as_str()))
            .collect();
        chunks.sort_unstable();
        chunks.dedup();
        for (bytes, name) in chunks {
            let rates: Vec<String> = modes
                .iter()
                .map(|mode| {
                    self.cells
                        .iter()
                        .find(|c| c.mode == *mode && c.chunk_bytes == bytes)
                        .map_or_else(
                            || "-".to_owned(),
                            |c| format!("{:.0} ({:.0}–{:.0})", c.mib_per_s, c.low, c.high),
                        )
                })
                .collect();
            let _ = writeln!(md, "| {} | {} |", spaced(name), rates.join(" | "));
        }
        let picks: Vec<String> = self
            .picks()
            .iter()
            .map(|p| {
                format!(
                    "with `{}` the best mean is {} at {:.0} MiB/s, and the smallest chunk \
                     whose interval reaches within {:.0}% of it is **{}** ({:.0} MiB/s)",
                    p.mode,
                    spaced(&p.best.chunk),
                    p.best.mib_per_s,
                    WITHIN * 100.0,
                    spaced(&p.smallest.chunk),
                    p.smallest.mib_per_s
                )
            })
            .collect();
        let _ = writeln!(md, "\nChunk size: {}.", picks.join("; "));
        md
    }

    pub fn json(&self) -> Value {
        let cells: Vec<Value> = self
            .cells
            .iter()
            .map(|c| {
                json!({"mode": c.mode, "chunk": c.chunk, "chunk_bytes": c.chunk_bytes,
                       "mib_per_s": c.mib_per_s, "mib_per_s_95": [c.low, c.high]})
            })
            .collect();
        let picks: Vec<Value> = self
            .picks()
            .iter()
            .map(|p| {
                json!({"mode": p.mode, "best": p.best.chunk,
                       "smallest_within": p.smallest.chunk, "within": WITHIN})
            })
            .collect();
        json!({"cells": cells, "picks": picks})
    }
}

/// `64KiB` as `64 KiB`.
fn spaced(name: &str) -> String {
    name.replace("KiB", " KiB").replace("MiB", " MiB")
}

/// The heading that starts the section in `bench/RESULTS.md`.
pub const HEADING: &str = "## The core's per-chunk cost";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size_of("64KiB"), Some(64 << 10));
        assert_eq!(size_of("16MiB"), Some(16 << 20));
        assert_eq!(size_of("16"), None);
    }

    #[test]
    fn the_pick_is_the_smallest_chunk_that_may_be_as_fast_as_the_best() {
        let cell = |chunk: &str, mib_per_s: f64, spread: f64| Cell {
            mode: "m".into(),
            chunk: chunk.into(),
            chunk_bytes: size_of(chunk).expect("a size"),
            mib_per_s,
            low: mib_per_s - spread,
            high: mib_per_s + spread,
        };
        let micro = Micro {
            cells: vec![
                cell("64KiB", 900.0, 10.0),
                cell("1MiB", 970.0, 12.0),
                cell("4MiB", 1000.0, 5.0),
            ],
        };
        let picks = micro.picks();
        assert_eq!(picks[0].best.chunk, "4MiB");
        assert_eq!(picks[0].smallest.chunk, "1MiB");
    }
}
