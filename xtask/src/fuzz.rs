//! `cargo xtask fuzz [--seconds N]`: every cargo-fuzz target in `fuzz/`,
//! seeded from the shared corpus, for a bounded time each. A crash fails
//! the run and its input is kept under `fuzz/regressions/TARGET/`, where
//! `crates/verify-core/tests/fuzz_regressions.rs` replays it forever after.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env::{self, Step, run};

/// The targets and the largest input each is given.
const TARGETS: &[(&str, usize)] = &[
    ("verify_chunked", 128 << 10),
    ("bundle_documents", 64 << 10),
    ("sums", 4 << 10),
];
const CARGO_FUZZ_VERSION: &str = "0.13.2";

pub fn run_fuzz(seconds: u32) -> Result<(), String> {
    ensure_tools()?;
    let root = env::root();
    let corpus = env::corpus_dir()?;
    let work = root.join("target/fuzz");
    let mut results = Vec::new();
    let mut crashed = Vec::new();
    for (target, max_len) in TARGETS {
        let seeds = work.join("seeds").join(target);
        let grown = work.join("corpus").join(target);
        std::fs::create_dir_all(&grown).map_err(|e| e.to_string())?;
        write_seeds(target, &corpus, &seeds)?;
        let artifacts = work.join("artifacts").join(target);
        std::fs::create_dir_all(&artifacts).map_err(|e| e.to_string())?;
        println!("\n==> fuzz {target} for {seconds} s");
        let out = Command::new("cargo")
            .args(["+nightly", "fuzz", "run", "-O", target])
            .arg(&grown)
            .arg(&seeds)
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-max_len={max_len}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-print_final_stats=1")
            .current_dir(root.join("fuzz"))
            .output()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        let log = String::from_utf8_lossy(&out.stderr);
        let execs = stat(&log, "stat::number_of_executed_units:");
        let crashes = keep_crashes(target, &artifacts, &root)?;
        if !out.status.success() || !crashes.is_empty() {
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            eprintln!("{}", tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            crashed.push(format!("{target}: {}", crashes.join(", ")));
        }
        results.push((*target, execs, crashes.len()));
    }
    println!("\n{:<18} {:>12} {:>8}", "target", "execs", "crashes");
    for (target, execs, crashes) in &results {
        println!("{target:<18} {execs:>12} {crashes:>8}");
    }
    if crashed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzzing found crashes, kept as regression inputs: {}",
            crashed.join("; ")
        ))
    }
}

fn ensure_tools() -> Result<(), String> {
    let has_nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_nightly {
        let mut c = Command::new("rustup");
        c.args(["toolchain", "install", "nightly", "--profile", "minimal"]);
        run(
            c,
            Step::new("install the nightly toolchain (cargo fuzz needs it)"),
        )?;
    }
    let has_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_fuzz {
        let mut c = Command::new("cargo");
        c.args(["install", "cargo-fuzz", "--version", CARGO_FUZZ_VERSION]);
        run(c, Step::new("install cargo-fuzz"))?;
    }
    Ok(())
}

/// Seeds from the shared corpus, shaped for each target's input format.
fn write_seeds(target: &str, corpus: &Path, dir: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut files: Vec<PathBuf> = ["good", "bad"]
        .iter()
        .filter_map(|d| std::fs::read_dir(corpus.join(d)).ok())
        .flat_map(|d| d.flatten().map(|e| e.path()))
        .collect();
    files.sort();
    let mut n = 0;
    let mut seed = |bytes: Vec<u8>| -> Result<(), String> {
        n += 1;
        std::fs::write(dir.join(format!("seed-{n}")), bytes).map_err(|e| e.to_string())
    };
    for file in files {
        let name = file.to_string_lossy();
        let is_sums = name.ends_with(".sha256") || name.ends_with(".txt");
        match target {
            "sums" if is_sums => seed(read(&file)?)?,
            "verify_chunked" if !is_sums && !name.ends_with(".json") => {
                let bytes = read(&file)?;
                if bytes.len() < 128 << 10 {
                    // The first byte chooses the piece size.
                    seed([&[7u8][..], &bytes].concat())?;
                }
            }
            "bundle_documents" if name.ends_with(".tar") => {
                let member = |m: &str| {
                    Command::new("tar")
                        .args(["-xOf"])
                        .arg(&file)
                        .arg(m)
                        .output()
                        .ok()
                        .filter(|o| o.status.success())
                        .map(|o| o.stdout)
                };
                if let (Some(m), Some(i)) = (member("manifest.json"), member("index.json")) {
                    seed([m, vec![0], i, vec![0]].concat())?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn stat(log: &str, key: &str) -> u64 {
    log.lines()
        .filter_map(|l| l.strip_prefix(key))
        .filter_map(|v| v.trim().parse().ok())
        .next_back()
        .unwrap_or(0)
}

/// Moves crash inputs into the committed regression directory.
fn keep_crashes(target: &str, artifacts: &Path, root: &Path) -> Result<Vec<String>, String> {
    let keep = root.join("fuzz/regressions").join(target);
    let mut kept = Vec::new();
    for entry in std::fs::read_dir(artifacts)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("crash-") || name.starts_with("oom-") || name.starts_with("timeout-") {
            std::fs::create_dir_all(&keep).map_err(|e| e.to_string())?;
            std::fs::rename(entry.path(), keep.join(&name)).map_err(|e| e.to_string())?;
            kept.push(name);
        }
    }
    Ok(kept)
}
