//! `cargo xtask bench`: Airlock beside the tools people use instead, each
//! pair measured in the same run, rounds interleaved, reported as ratios
//! against the targets in issue #8, then the core's per-chunk cost
//! ([`crate::micro`]). Writes `bench/RESULTS.md` and `bench/results.json`;
//! `--micro-only` measures only the latter and replaces just its section.
//!
//! Wall-clock numbers belong here and never in tests: they say how this
//! machine did today, and only the ratios carry over.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::big::{self, Measured};
use crate::env::{self, Step, run};
use crate::files::{self, Files};
use crate::micro::{self, Micro};
use crate::page;

pub struct Args {
    pub size_gib: u32,
    pub rounds: usize,
    /// Size of the bundle for the memory row; 0 skips it.
    pub huge_gib: u32,
    /// Only the core's per-chunk cost.
    pub micro_only: bool,
    /// Only the file-heavy bundle's rows (7a, 7b).
    pub files_only: bool,
    /// Only this one of the daemon rows' test files (`registry`,
    /// `load_docker`, `containerd`), printed and not written to RESULTS.md.
    pub only: Option<String>,
}

impl Args {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut parsed = Self {
            size_gib: 4,
            rounds: 3,
            huge_gib: 20,
            micro_only: false,
            files_only: false,
            only: None,
        };
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            if flag == "--micro-only" {
                parsed.micro_only = true;
                continue;
            }
            if flag == "--files-only" {
                parsed.files_only = true;
                continue;
            }
            if flag == "--only" {
                let test = it.next().filter(|t| IMPORT_BENCHES.contains(&t.as_str()));
                let Some(test) = test else {
                    return Err(format!("--only needs one of {}", IMPORT_BENCHES.join(", ")));
                };
                parsed.only = Some(test.clone());
                continue;
            }
            let value = it
                .next()
                .and_then(|v| v.parse::<u32>().ok())
                .ok_or_else(|| format!("{flag} needs a number"))?;
            match flag.as_str() {
                "--size" => parsed.size_gib = value,
                "--rounds" => parsed.rounds = value.max(1) as usize,
                "--huge" => parsed.huge_gib = value,
                _ => return Err(format!("unknown flag {flag}")),
            }
        }
        Ok(parsed)
    }
}

/// Min and median of several rounds, and the largest peak RSS seen.
#[derive(Clone, Copy)]
pub(crate) struct Timing {
    pub min: f64,
    pub median: f64,
    pub peak_rss_mib: f64,
}

impl Timing {
    fn of(rounds: &[Measured]) -> Self {
        let mut secs: Vec<f64> = rounds.iter().map(|m| m.seconds).collect();
        secs.sort_by(f64::total_cmp);
        Self {
            min: secs.first().copied().unwrap_or(0.0),
            median: secs.get(secs.len() / 2).copied().unwrap_or(0.0),
            peak_rss_mib: rounds.iter().map(|m| m.peak_rss_mib).fold(0.0, f64::max),
        }
    }

    /// Rounds timed elsewhere (a test, the browser), without memory readings.
    fn of_seconds(seconds: impl Iterator<Item = f64>) -> Self {
        let rounds: Vec<Measured> = seconds
            .map(|seconds| Measured {
                seconds,
                peak_rss_mib: 0.0,
            })
            .collect();
        Self::of(&rounds)
    }
}

/// What a row must show.
#[derive(Clone, Copy)]
enum Goal {
    /// Airlock's time / the peer's time at most this.
    RatioAtMost(f64),
    /// The peer's time / Airlock's time at least this.
    FasterBy(f64),
}

struct Row {
    id: String,
    what: String,
    ours_label: String,
    peer_label: String,
    ours: Timing,
    peer: Timing,
    mib: f64,
    goal: Goal,
    /// What else the row measured, said under the table.
    note: Option<String>,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.ours.min / self.peer.min
    }

    fn met(&self) -> bool {
        match self.goal {
            Goal::RatioAtMost(x) => self.ratio() <= x,
            Goal::FasterBy(x) => 1.0 / self.ratio() >= x,
        }
    }

    fn goal_text(&self) -> String {
        match self.goal {
            Goal::RatioAtMost(x) => format!("airlock/peer <= {x:.2}"),
            Goal::FasterBy(x) => format!("peer/airlock >= {x:.1}"),
        }
    }
}

/// A command to time: argv, and what to do before each round (outside the
/// timing), such as removing the previous round's output.
pub(crate) struct Job<'a> {
    argv: Vec<String>,
    before: Option<&'a dyn Fn()>,
}

pub(crate) fn job(argv: &[&str]) -> Job<'static> {
    Job {
        argv: argv.iter().map(|s| (*s).to_owned()).collect(),
        before: None,
    }
}

pub(crate) fn shell(script: &str) -> Job<'static> {
    job(&["sh", "-c", script])
}

/// Times two commands in alternation, `rounds` times each.
pub(crate) fn pair(
    ours: &Job<'_>,
    peer: &Job<'_>,
    rounds: usize,
) -> Result<(Timing, Timing), String> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (job, out) in [(ours, &mut a), (peer, &mut b)] {
            if let Some(before) = job.before {
                before();
            }
            let argv: Vec<&str> = job.argv.iter().map(String::as_str).collect();
            out.push(big::measure(&argv)?);
        }
    }
    Ok((Timing::of(&a), Timing::of(&b)))
}

pub fn run_bench(args: &Args) -> Result<(), String> {
    if args.micro_only {
        let micro = micro::run_micro()?;
        let section = micro.markdown(&date(), &commit());
        return update_section(micro::HEADING, &section, "micro", micro.json());
    }
    if args.files_only {
        let files = files::measure(&release_airlock()?, args.rounds)?;
        let section = files.markdown(&date(), &commit());
        return update_section(files::HEADING, &section, "files", files.json());
    }
    env::ensure_debian_tools(&[
        ("openssl", "openssl"),
        ("python3", "python3"),
        ("/usr/bin/time", "time"),
        ("pigz", "pigz"),
        ("skopeo", "skopeo"),
    ])?;
    let airlock = release_airlock()?;
    let bundle = big::generate(args.size_gib)?;
    let b = bundle.display().to_string();
    let mib = file_mib(&bundle)?;
    let scratch = env::root().join("target/bench-scratch");
    std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    if let Some(test) = &args.only {
        let rows = import_rows(&[test.as_str()], &bundle, &scratch, args.rounds, mib)?;
        println!("\n{}", table(&rows));
        return Ok(());
    }
    let gz = gzip_copy(&bundle, &airlock)?;
    let gz_s = gz.display().to_string();
    let n = args.rounds;
    let mut rows = Vec::new();

    let verify = job(&[&airlock, "verify", "--no-progress", &b]);
    let (ours, peer) = pair(&verify, &job(&["openssl", "dgst", "-sha256", &b]), n)?;
    rows.push(Row {
        id: "1a".into(),
        what: format!(
            "full verify vs the fastest bare hash ({} GiB tar)",
            args.size_gib
        ),
        ours_label: "airlock verify".into(),
        peer_label: "openssl dgst -sha256".into(),
        ours,
        peer,
        mib,
        goal: Goal::RatioAtMost(1.10),
        note: None,
    });
    let (ours, peer) = pair(&verify, &job(&["sha256sum", &b]), n)?;
    rows.push(Row {
        id: "1b".into(),
        what: "full verify vs what users run".into(),
        ours_label: "airlock verify".into(),
        peer_label: "sha256sum".into(),
        ours,
        peer,
        mib,
        goal: Goal::FasterBy(3.0),
        note: None,
    });

    let dir = scratch.join("skopeo-dir");
    let clear = || {
        let _ = std::fs::remove_dir_all(&dir);
    };
    let skopeo = Job {
        argv: vec![
            "skopeo".into(),
            "copy".into(),
            "-q".into(),
            format!("docker-archive:{b}"),
            format!("dir:{}", dir.display()),
        ],
        before: Some(&clear),
    };
    let (ours, peer) = pair(&verify, &skopeo, n)?;
    clear();
    rows.push(Row {
        id: "2".into(),
        what: "blob digests checked by copying out".into(),
        ours_label: "airlock verify".into(),
        peer_label: "skopeo copy docker-archive: dir:".into(),
        ours,
        peer,
        mib,
        goal: Goal::FasterBy(3.0),
        note: None,
    });

    let verify_gz = job(&[&airlock, "verify", "--no-progress", &gz_s]);
    let pigz = shell(&format!("pigz -dc '{gz_s}' | sha256sum"));
    let (ours, peer) = pair(&verify_gz, &pigz, n)?;
    rows.push(Row {
        id: "3".into(),
        what: "gzip-compressed bundle (docker save | gzip)".into(),
        ours_label: "airlock verify B.tar.gz".into(),
        peer_label: "pigz -dc | sha256sum".into(),
        ours,
        peer,
        mib: file_mib(&gz)?,
        goal: Goal::RatioAtMost(1.2),
        note: None,
    });

    let layout = scratch.join("layout");
    let clear_layout = || {
        let _ = std::fs::remove_dir_all(&layout);
    };
    let oci_target = format!("oci:{}", layout.display());
    let load_oci = Job {
        argv: vec![
            airlock.clone(),
            "load".into(),
            "--no-progress".into(),
            "--to".into(),
            oci_target,
            b.clone(),
        ],
        before: Some(&clear_layout),
    };
    let skopeo_oci = Job {
        argv: vec![
            "skopeo".into(),
            "copy".into(),
            "-q".into(),
            format!("docker-archive:{b}"),
            format!("oci:{}:big", layout.display()),
        ],
        before: Some(&clear_layout),
    };
    let (ours, peer) = pair(&load_oci, &skopeo_oci, n)?;
    clear_layout();
    rows.push(Row {
        id: "6a".into(),
        what: "verify + import into an OCI layout".into(),
        ours_label: "airlock load --to oci:".into(),
        peer_label: "skopeo copy docker-archive: oci:".into(),
        ours,
        peer,
        mib,
        goal: Goal::RatioAtMost(1.0),
        note: None,
    });

    let (page, page_memory) = page_row(&bundle, &scratch, n, mib)?;
    rows.push(page);

    rows.extend(import_rows(IMPORT_BENCHES, &bundle, &scratch, n, mib)?);

    // The memory row last, and its failure (disk space) does not lose the
    // rows already measured.
    let huge = if args.huge_gib > 0 {
        let measured = big::generate(args.huge_gib).and_then(|huge| {
            let h = huge.display().to_string();
            big::measure(&[&airlock, "verify", "--no-progress", &h])
        });
        match measured {
            Ok(m) => Some((args.huge_gib, m)),
            Err(e) => {
                eprintln!("the {} GiB memory row was not measured: {e}", args.huge_gib);
                None
            }
        }
    } else {
        None
    };

    // Like the memory row: a failure here keeps the rows above.
    let files = files::measure(&airlock, n)
        .inspect_err(|e| eprintln!("the file-heavy rows were not measured: {e}"))
        .ok();
    let micro = micro::run_micro()
        .inspect_err(|e| eprintln!("the per-chunk cost was not measured: {e}"))
        .ok();

    write_results(
        args,
        &rows,
        huge.as_ref(),
        page_memory,
        files.as_ref(),
        micro.as_ref(),
    )
}

/// The release build of the CLI, built first.
fn release_airlock() -> Result<String, String> {
    env::ensure_debian_tools(&[("/usr/bin/time", "time")])?;
    env::ensure_build_tools()?;
    run(
        env::cargo(["build", "--release", "-p", "airlock"]),
        Step::new("release build"),
    )?;
    Ok(env::release_binary("airlock").display().to_string())
}

/// `--micro-only`, `--files-only`: prints one section and puts it in place
/// of the old one in `bench/RESULTS.md`, and its measurements under `key`
/// in `bench/results.json`, leaving every other row as it was.
fn update_section(heading: &str, section: &str, key: &str, value: Value) -> Result<(), String> {
    println!("\n{section}");
    let dir = env::root().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let md_path = dir.join("RESULTS.md");
    let md = std::fs::read_to_string(&md_path).unwrap_or_else(|_| "# Benchmark results\n".into());
    std::fs::write(&md_path, replace_section(&md, heading, section))
        .map_err(|e| format!("{}: {e}", md_path.display()))?;
    let json_path = dir.join("results.json");
    let mut results: Value = std::fs::read_to_string(&json_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    results[key] = value;
    let text = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
    std::fs::write(&json_path, text).map_err(|e| format!("{}: {e}", json_path.display()))?;
    println!("updated `{heading}` in bench/RESULTS.md and `{key}` in bench/results.json");
    Ok(())
}

/// `md` with the section starting at `heading` (up to the next `## `
/// heading) replaced by `section`, or `section` appended when there is none.
fn replace_section(md: &str, heading: &str, section: &str) -> String {
    let Some(start) = md.find(heading) else {
        return format!("{}\n\n{section}", md.trim_end());
    };
    let after = start + heading.len();
    let end = md[after..]
        .find("\n## ")
        .map_or(md.len(), |i| after + i + 1);
    format!("{}{section}{}", &md[..start], &md[end..])
}

/// The test binaries whose ignored `bench_*` tests time imports against
/// the real daemons: their harnesses start and reset them.
const IMPORT_BENCHES: &[&str] = &["load_docker", "containerd", "registry"];

/// Row 6 against daemons: each bench test appends a JSON line of timings.
fn import_rows(
    tests: &[&str],
    bundle: &Path,
    scratch: &Path,
    rounds: usize,
    mib: f64,
) -> Result<Vec<Row>, String> {
    let out = scratch.join("imports.jsonl");
    let _ = std::fs::remove_file(&out);
    let mut c = env::cargo(["test", "--release", "-p", "airlock"]);
    for test in tests {
        c.args(["--test", test]);
    }
    c.args(["--", "--ignored", "--test-threads=1", "bench_"])
        .env("AIRLOCK_BENCH_BUNDLE", bundle)
        .env("AIRLOCK_BENCH_OUT", &out)
        .env("AIRLOCK_BENCH_ROUNDS", rounds.to_string());
    run(c, Step::new("imports beside the daemons' own tools"))?;
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let times = |v: &Value| -> Timing {
        Timing::of_seconds(v.as_array().into_iter().flatten().filter_map(Value::as_f64))
    };
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).map_err(|e| format!("bench row: {e}"))?;
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            Ok(Row {
                id: s("row"),
                what: s("what"),
                ours_label: s("ours_label"),
                peer_label: s("peer_label"),
                ours: Timing {
                    peak_rss_mib: v["ours_peak_rss_mib"].as_f64().unwrap_or(0.0),
                    ..times(&v["ours"])
                },
                peer: times(&v["peer"]),
                mib,
                goal: Goal::RatioAtMost(v["target_ratio_at_most"].as_f64().unwrap_or(1.0)),
                note: v["note"].as_str().map(str::to_owned),
            })
        })
        .collect()
}

/// Row 4: the page in headless Chromium against hash-wasm's SHA-256 on
/// the same File, read by the same `File.stream()` loop in a worker. The
/// browser test's large-bundle case does the rounds (and checks the report,
/// the page's responsiveness and the worker's memory in each); this reads
/// what it wrote. Also returns the worker's peak wasm memory in MiB.
fn page_row(bundle: &Path, scratch: &Path, rounds: usize, mib: f64) -> Result<(Row, f64), String> {
    let root = env::root();
    let dist = scratch.join("page-dist");
    page::build(&dist, &root.join("target/page"), None)?;
    env::ensure_npm()?;
    env::ensure_debian_tools(page::BROWSER_TOOLS)?;
    let shots = scratch.join("page");
    let mut node = Command::new("node");
    node.args([
        "--test",
        "--test-name-pattern=a large bundle",
        "tests/browser/",
    ])
    .current_dir(&root)
    .env("AIRLOCK_DIST", &dist)
    .env("AIRLOCK_BIN", env::release_binary("airlock"))
    .env("AIRLOCK_CORPUS", env::corpus_dir()?)
    .env("AIRLOCK_BIG", bundle)
    .env("AIRLOCK_SHOTS", &shots)
    .env("AIRLOCK_PAGE_ROUNDS", rounds.to_string());
    run(node, Step::new("the page beside hash-wasm in Chromium"))?;
    let out = shots.join("large-bundle.json");
    let text = std::fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", out.display()))?;
    let times = |key: &str| -> Timing {
        Timing::of_seconds(
            v["rounds"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r[key].as_f64())
                .map(|ms| ms / 1000.0),
        )
    };
    let row = Row {
        id: "4".into(),
        what: "the page (two Web Workers) vs a bare hash in the same browser".into(),
        ours_label: "page: full verify".into(),
        peer_label: "hash-wasm SHA-256, File.stream() in a worker".into(),
        ours: times("elapsedMs"),
        peer: times("hashWasmMs"),
        mib,
        goal: Goal::RatioAtMost(1.0),
        note: None,
    };
    let wasm_mib = v["wasmPeakBytes"].as_f64().unwrap_or(0.0) / f64::from(1 << 20);
    Ok((row, wasm_mib))
}

pub(crate) fn file_mib(path: &Path) -> Result<f64, String> {
    let len = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    Ok(len as f64 / f64::from(1 << 20))
}

/// `B.tar.gz` beside the bundle (pigz -6, like `gzip`), with its sidecar.
fn gzip_copy(bundle: &Path, airlock: &str) -> Result<PathBuf, String> {
    let gz = PathBuf::from(format!("{}.gz", bundle.display()));
    let sums = PathBuf::from(format!("{}.gz.sha256", bundle.display()));
    if gz.is_file() && sums.is_file() {
        return Ok(gz);
    }
    let mut c = Command::new("sh");
    c.arg("-c").arg(format!(
        "pigz -6 -c '{b}' > '{b}.gz' && '{airlock}' hash '{b}.gz' > '{b}.gz.sha256'",
        b = bundle.display()
    ));
    run(c, Step::new("gzip a copy of the bundle (pigz -6)"))?;
    Ok(gz)
}

fn machine() -> String {
    let sh = |cmd: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    format!(
        "{} cores ({}), {} memory, kernel {}, sha_ni: {}",
        sh("nproc"),
        sh("lscpu | sed -n 's/^Model name: *//p'"),
        sh("free -h | awk '/^Mem:/{print $2}'"),
        sh("uname -r"),
        if sh("grep -c sha_ni /proc/cpuinfo") == "0" {
            "no"
        } else {
            "yes"
        }
    )
}

fn date() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env::root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The page worker's wasm heap may grow to this much (issue #8, row 5).
const PAGE_HEAP_LIMIT_MIB: f64 = 128.0;

fn write_results(
    args: &Args,
    rows: &[Row],
    huge: Option<&(u32, Measured)>,
    page_wasm_mib: f64,
    files: Option<&Files>,
    micro: Option<&Micro>,
) -> Result<(), String> {
    let date = date();
    let commit = commit();
    let machine = machine();
    let mut md = String::new();
    let _ = writeln!(md, "# Benchmark results\n");
    let _ = writeln!(
        md,
        "`cargo xtask bench --size {} --rounds {} --huge {}` on {date}, commit {commit}.  ",
        args.size_gib, args.rounds, args.huge_gib
    );
    let _ = writeln!(md, "Machine: {machine}.\n");
    let _ = writeln!(
        md,
        "Each pair ran in the same run, rounds interleaved; times are min / median \
         seconds; the ratio uses the minimums (page cache warm).\n"
    );
    md.push_str(&table(rows));
    let json_rows: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "row": r.id, "what": r.what,
                "airlock": {"command": r.ours_label, "min_s": r.ours.min, "median_s": r.ours.median, "peak_rss_mib": r.ours.peak_rss_mib},
                "peer": {"command": r.peer_label, "min_s": r.peer.min, "median_s": r.peer.median, "peak_rss_mib": r.peer.peak_rss_mib},
                "mib": r.mib, "ratio": r.ratio(), "target": r.goal_text(), "met": r.met(),
                "note": r.note,
            })
        })
        .collect();
    let mut memory = json!({});
    if let Some((gib, m)) = huge {
        let met = m.peak_rss_mib <= big::RSS_LIMIT_MIB;
        let _ = writeln!(
            md,
            "\nRow 5, memory: `airlock verify` on a {gib} GiB bundle peaked at {:.1} MiB RSS \
             ({:.1} s); target <= {} MiB: {}.",
            m.peak_rss_mib,
            m.seconds,
            big::RSS_LIMIT_MIB,
            if met { "met" } else { "**not met**" }
        );
        memory =
            json!({"gib": gib, "peak_rss_mib": m.peak_rss_mib, "seconds": m.seconds, "met": met});
    }
    let page_met = page_wasm_mib <= PAGE_HEAP_LIMIT_MIB;
    let _ = writeln!(
        md,
        "\nRow 5, page: the verify worker's wasm memory peaked at {page_wasm_mib:.1} MiB \
         on the {} GiB bundle; target <= {PAGE_HEAP_LIMIT_MIB:.0} MiB: {}.",
        args.size_gib,
        if page_met { "met" } else { "**not met**" }
    );
    memory["page_worker_wasm_mib"] = json!(page_wasm_mib);
    memory["page_met"] = json!(page_met);
    let peak = rows.iter().map(|r| r.ours.peak_rss_mib).fold(0.0, f64::max);
    let _ = writeln!(
        md,
        "\nPeak RSS of any airlock command above: {peak:.1} MiB."
    );
    if let Some(files) = files {
        let _ = write!(md, "\n{}", files.markdown(&date, &commit));
    }
    if let Some(micro) = micro {
        let _ = write!(md, "\n{}", micro.markdown(&date, &commit));
    }
    println!("\n{md}");
    let dir = env::root().join("bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("RESULTS.md"), md).map_err(|e| e.to_string())?;
    let value = json!({
        "date": date, "commit": commit, "machine": machine,
        "size_gib": args.size_gib, "rounds": args.rounds,
        "rows": json_rows, "memory": memory,
        "files": files.map_or(Value::Null, Files::json),
        "micro": micro.map_or(Value::Null, Micro::json),
    });
    let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("results.json"), text).map_err(|e| e.to_string())?;
    println!("wrote bench/RESULTS.md and bench/results.json");
    Ok(())
}

/// The rows as a Markdown table, then the notes some rows carry.
fn table(rows: &[Row]) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "| row | what | airlock | s (min/med) | MiB/s | peer | s (min/med) | MiB/s | ratio airlock/peer | target | met |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
    let cell = |s: &str| s.replace('|', "\\|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | `{}` | {:.2} / {:.2} | {:.0} | `{}` | {:.2} / {:.2} | {:.0} | {:.2} | {} | {} |",
            r.id,
            cell(&r.what),
            cell(&r.ours_label),
            r.ours.min,
            r.ours.median,
            r.mib / r.ours.min,
            cell(&r.peer_label),
            r.peer.min,
            r.peer.median,
            r.mib / r.peer.min,
            r.ratio(),
            r.goal_text(),
            if r.met() { "yes" } else { "**no**" }
        );
    }
    for r in rows {
        if let Some(note) = &r.note {
            let _ = writeln!(md, "\nRow {}: {note}", r.id);
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_is_replaced_in_place() {
        let h = "## Mine";
        let old = format!("# R\n\nrows\n\n{h}\n\nold\n\n## Later\n\nkept\n");
        let new = replace_section(&old, h, &format!("{h}\n\nnew\n\n"));
        assert_eq!(
            new,
            format!("# R\n\nrows\n\n{h}\n\nnew\n\n## Later\n\nkept\n")
        );
        let appended = replace_section("# R\n\nrows\n", h, &format!("{h}\n"));
        assert_eq!(appended, format!("# R\n\nrows\n\n{h}\n"));
    }
}
