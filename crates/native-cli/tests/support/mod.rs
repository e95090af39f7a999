//! What the import tests share: the binary, and a scratch directory per
//! test; the corpus and its `expected.tsv` come from `test_support`. Each
//! daemon's harness lives in its own module here.
#![allow(dead_code)] // each test crate uses a different part

pub mod containerd;
pub mod dockerd;
pub mod fake_registry;
pub mod mount_refusing;
pub mod registry;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// A command's exit status and both streams, for assertion messages.
pub fn said(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The distinct finding kinds of a `--json` report, in report order.
pub fn finding_kinds(report: &serde_json::Value) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for f in report["findings"].as_array().into_iter().flatten() {
        let kind = f["kind"].as_str().unwrap_or("?").to_owned();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
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

/// An `airlock` run reading `bundle` through a FIFO that has been fed only
/// the first half, so the run is surely mid-import. Kill it with
/// [`HalfFed::kill`].
pub struct HalfFed {
    child: std::process::Child,
    writer: std::fs::File,
}

impl HalfFed {
    /// `args` are the airlock arguments before the bundle path.
    pub fn start(args: &[&str], bundle: &Path, fifo: &Path) -> Self {
        use std::io::Write as _;
        let bytes = std::fs::read(bundle).expect("bundle");
        assert!(
            Command::new("mkfifo")
                .arg(fifo)
                .status()
                .expect("mkfifo")
                .success()
        );
        let child = Command::new(env!("CARGO_BIN_EXE_airlock"))
            .args(args)
            .arg(fifo)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("airlock starts");
        let mut writer = std::fs::OpenOptions::new()
            .write(true)
            .open(fifo)
            .expect("fifo opens");
        writer
            .write_all(&bytes[..bytes.len() / 2])
            .expect("first half written");
        std::thread::sleep(std::time::Duration::from_millis(400));
        Self { child, writer }
    }

    /// Kills the run, asserting it was still going.
    pub fn kill(mut self) {
        assert!(
            self.child.try_wait().expect("status").is_none(),
            "airlock ended before it was killed"
        );
        self.child.kill().expect("kill");
        let _ = self.child.wait();
        drop(self.writer);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// Writes `table` as the section `title` of `target/differential.md`,
/// replacing that section if a previous run wrote it and keeping the
/// others: each differential test (one binary each) owns one section.
pub fn write_differential_section(title: &str, table: &str) {
    let md = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("differential.md");
    let old = std::fs::read_to_string(&md).unwrap_or_default();
    let heading = format!("## {title}");
    // Sections start at `## ` lines; anything before the first is from a
    // run that wrote a bare table, and goes.
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in old.lines() {
        if line.starts_with("## ") {
            sections.push((line.to_owned(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    let body = format!("\n{}\n", table.trim_end());
    match sections.iter_mut().find(|(h, _)| *h == heading) {
        Some((_, old_body)) => *old_body = body,
        None => sections.push((heading, body)),
    }
    let text: String = sections
        .iter()
        .map(|(h, b)| format!("{h}\n{}\n", b.trim_end()))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&md, text).expect("differential.md written");
}

/// For `cargo xtask bench`: the bundle to time imports with, where to write
/// the timings, and how many rounds. `None` outside a bench run.
pub fn bench_setup() -> Option<(PathBuf, PathBuf, usize)> {
    let bundle = std::env::var_os("AIRLOCK_BENCH_BUNDLE")?;
    let out = std::env::var_os("AIRLOCK_BENCH_OUT")?;
    let rounds = std::env::var("AIRLOCK_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    Some((bundle.into(), out.into(), rounds))
}

/// Wall time of one command that must succeed.
pub fn timed(command: &mut Command) -> f64 {
    let start = std::time::Instant::now();
    let out = command.output().expect("command runs");
    assert!(
        out.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed().as_secs_f64()
}

/// Appends one bench row (a JSON line) for `cargo xtask bench` to collect.
pub fn record(out: &Path, row: serde_json::Value) {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .expect("bench output");
    writeln!(file, "{row}").expect("bench row written");
}

/// Stops a daemon this harness started: SIGTERM first, so it closes its
/// databases cleanly, SIGKILL after `grace`; then removes its data, which
/// takes gigabytes after bench runs.
pub fn stop_daemon(child: &mut std::process::Child, grace: std::time::Duration, dir: &Path) {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline && !matches!(child.try_wait(), Ok(Some(_))) {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dir);
}

/// Mounts a tmpfs of `size` (`mount -o size=`) at `dir`, creating it: a
/// small disk that fills. The tests run as root.
pub fn mount_tmpfs(dir: &Path, size: &str) {
    std::fs::create_dir_all(dir).expect("mount point");
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size},mode=0755"),
            "tmpfs",
        ])
        .arg(dir)
        .status()
        .expect("mount runs (the tests run as root)");
    assert!(
        mounted.success(),
        "cannot mount a tmpfs at {}",
        dir.display()
    );
}

/// Unmounts `dir` if something is mounted there (lazily: a daemon that
/// has just died may still hold it).
pub fn unmount(dir: &Path) {
    let _ = Command::new("umount").arg("-l").arg(dir).output();
}
