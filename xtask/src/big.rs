//! A generated multi-GiB bundle, verified by the release CLI beside the
//! hashers people use on the same file in the same run: throughput as
//! ratios, and peak memory (which must not grow with the bundle).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::env::{self, Step, run};

/// Peak RSS allowed for `airlock verify`, whatever the bundle size.
pub const RSS_LIMIT_MIB: f64 = 64.0;
/// Timed runs per tool; the fastest counts (the first may warm the cache).
const ROUNDS: usize = 2;

/// What one measured command did.
pub struct Measured {
    pub seconds: f64,
    pub peak_rss_mib: f64,
}

pub struct Stats {
    pub airlock_peak_rss_mib: f64,
    /// The generated bundle, for other tests to reuse.
    pub bundle: PathBuf,
}

/// Generates (or reuses) a GIB-GiB bundle and measures it.
pub fn report(gib: u32) -> Result<Stats, String> {
    env::ensure_debian_tools(&[
        ("openssl", "openssl"),
        ("python3", "python3"),
        ("/usr/bin/time", "time"),
    ])?;
    let bundle = generate(gib)?;
    let sums = PathBuf::from(format!("{}.sha256", bundle.display()));
    let airlock = env::release_binary("airlock");
    if !airlock.is_file() {
        env::ensure_build_tools()?;
        run(
            env::cargo(["build", "--release", "-p", "airlock"]),
            Step::new("release build"),
        )?;
    }

    // The verdict first: a fast wrong answer is worth nothing.
    let out = Command::new(&airlock)
        .args(["verify", "--json", "--no-progress", "--sums"])
        .arg(&sums)
        .arg(&bundle)
        .output()
        .map_err(|e| format!("cannot run airlock: {e}"))?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("airlock verify --json printed no report: {e}"))?;
    if report["verdict"] != "ok" || report["bundle"]["sha256_matches"] != true {
        return Err(format!(
            "the generated bundle did not verify: {}",
            serde_json::to_string_pretty(&report["findings"]).unwrap_or_default()
        ));
    }

    let size = std::fs::metadata(&bundle).map_err(|e| e.to_string())?.len();
    let mib = size as f64 / f64::from(1 << 20);
    let bundle_arg = bundle.display().to_string();
    let sums_arg = sums.display().to_string();
    let airlock_arg = airlock.display().to_string();
    let rows: [(&str, Vec<&str>); 3] = [
        (
            "airlock verify",
            vec![
                &airlock_arg,
                "verify",
                "--json",
                "--no-progress",
                "--sums",
                &sums_arg,
                &bundle_arg,
            ],
        ),
        (
            "openssl dgst -sha256",
            vec!["openssl", "dgst", "-sha256", &bundle_arg],
        ),
        ("sha256sum", vec!["sha256sum", &bundle_arg]),
    ];
    let mut results = Vec::new();
    for (name, argv) in &rows {
        let best = (0..ROUNDS)
            .map(|_| measure(argv))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
            .ok_or("no rounds")?;
        results.push((*name, best));
    }
    let airlock_s = results[0].1.seconds;
    println!("\n{gib} GiB bundle ({mib:.0} MiB), best of {ROUNDS}:");
    println!(
        "{:<22} {:>8} {:>10} {:>12} {:>16}",
        "tool", "seconds", "MiB/s", "peak RSS MiB", "time vs airlock"
    );
    for (name, m) in &results {
        println!(
            "{name:<22} {:>8.2} {:>10.0} {:>12.1} {:>16.2}",
            m.seconds,
            mib / m.seconds,
            m.peak_rss_mib,
            m.seconds / airlock_s
        );
    }
    Ok(Stats {
        airlock_peak_rss_mib: results[0].1.peak_rss_mib,
        bundle,
    })
}

/// Runs a command under GNU time for wall time and peak RSS.
pub fn measure(argv: &[&str]) -> Result<Measured, String> {
    let out_file = std::env::temp_dir().join(format!("airlock-time-{}", std::process::id()));
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%e %M", "-o"])
        .arg(&out_file)
        .args(argv)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", argv.join(" ")))?;
    if !status.success() {
        return Err(format!("{} exited with {status}", argv.join(" ")));
    }
    let text = std::fs::read_to_string(&out_file).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_file(&out_file);
    let mut fields = text.split_whitespace();
    let seconds: f64 = fields
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("bad time output")?;
    let kib: f64 = fields
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("bad time output")?;
    Ok(Measured {
        seconds: seconds.max(0.01),
        peak_rss_mib: kib / 1024.0,
    })
}

/// `target/big/big-Ng.tar`, made by the corpus's `make-big.sh` when missing.
pub fn generate(gib: u32) -> Result<PathBuf, String> {
    let dir = env::root().join("target/big");
    let bundle = dir.join(format!("big-{gib}g.tar"));
    let sums = dir.join(format!("big-{gib}g.tar.sha256"));
    if is_nonempty(&bundle) && is_nonempty(&sums) {
        return Ok(bundle);
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let script = env::corpus_dir()?.join("make-big.sh");
    let mut c = Command::new("bash");
    c.arg(script).arg(gib.to_string()).arg(&dir);
    run(
        c,
        Step::new(&format!("generate a {gib} GiB bundle (make-big.sh)")),
    )?;
    Ok(bundle)
}

fn is_nonempty(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
}
