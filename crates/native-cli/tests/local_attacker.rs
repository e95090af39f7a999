//! A second local user against `airlock load --to oci:`: links and names
//! planted where Airlock writes, shared directories, and a disk filled
//! before the verdict. The attacker's files are made by `nobody` (with
//! `runuser`), as another user on the machine would make them; Airlock runs
//! as root, as it does at a site that imports into a system-wide layout.
//! Each test performs the attack and checks that the victim is untouched.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{HalfFed, airlock, json};

/// The user the attacker is, by name and uid (Debian's `nobody`).
const ATTACKER: &str = "nobody";
const NOBODY: u32 = 65534;

fn bundle() -> PathBuf {
    test_support::corpus_dir().join("good/skopeo-docker-archive.tar")
}

/// A fresh directory in the system's temp dir, where other users can reach
/// it (the target dir may sit under a home directory they cannot enter).
fn shared_scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("airlock-attack-{name}"));
    support::unmount(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("scratch");
    chmod(&dir, 0o755);
    dir
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Runs a command as the attacker.
fn as_attacker(program: &str, args: &[&str]) {
    let out = Command::new("runuser")
        .args(["-u", ATTACKER, "--", program])
        .args(args)
        .output()
        .expect("runuser (util-linux) runs; the tests run as root");
    assert!(
        out.status.success(),
        "the attacker's command failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Plants names as the attacker, in one process so that planting takes
/// no process IDs from the range it aims at: `kind` is `link` (to
/// `target`) or `dir`, made for each pattern with `{}` replaced by each
/// number in `numbers`.
fn plant(dir: &Path, kind: &str, patterns: &[&str], numbers: std::ops::Range<u32>, target: &str) {
    let script = r#"
import os, sys
d, kind, start, end, target = sys.argv[1:6]
for n in range(int(start), int(end)):
    for p in sys.argv[6:]:
        name = os.path.join(d, p.replace("{}", str(n)))
        os.symlink(target, name) if kind == "link" else os.mkdir(name)
"#;
    let (start, end) = (numbers.start.to_string(), numbers.end.to_string());
    let mut args = vec![
        "-c",
        script,
        dir.to_str().expect("utf-8"),
        kind,
        &start,
        &end,
        target,
    ];
    args.extend(patterns);
    as_attacker("python3", &args);
}

fn load(layout: &Path) -> Output {
    airlock(&[
        "load",
        "--json",
        "--to",
        &format!("oci:{}", layout.display()),
        bundle().to_str().expect("utf-8 path"),
    ])
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A file only root may write, which the attacker wants overwritten.
fn victim(base: &Path) -> (PathBuf, String) {
    let dir = base.join("victim");
    std::fs::create_dir(&dir).expect("victim dir");
    let file = dir.join("shadow");
    let content = "root:$y$secret:19000:0:99999:7:::\n".to_owned();
    std::fs::write(&file, &content).expect("victim file");
    (file, content)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A layout in a sticky, world-writable directory, as Airlock once accepted:
/// it already holds `oci-layout` and an empty `index.json`, so that an import
/// goes as far as writing them again.
fn sticky_layout(base: &Path) -> PathBuf {
    let layout = base.join("layout");
    std::fs::create_dir(&layout).expect("layout");
    chmod(&layout, 0o1777);
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout");
    std::fs::write(
        layout.join("index.json"),
        r#"{"schemaVersion":2,"manifests":[]}"#,
    )
    .expect("index.json");
    layout
}

/// The next process IDs the kernel will hand out, give or take the other
/// tests running beside this one.
fn next_pids(count: u32) -> std::ops::Range<u32> {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .expect("ns_last_pid")
        .trim()
        .parse()
        .expect("a pid");
    last + 1..last + 1 + count
}

#[test]
fn names_planted_for_the_temp_files_are_not_written_through() {
    let base = shared_scratch("temp-names");
    let (victim, content) = victim(&base);
    let layout = sticky_layout(&base);
    // Airlock once wrote `index.airlock-tmp-PID` and `oci-layout.airlock-
    // tmp-PID` with File::create, which follows a link and truncates its
    // target: the attacker links every name the next few thousand PIDs give.
    plant(
        &layout,
        "link",
        &["index.airlock-tmp-{}", "oci-layout.airlock-tmp-{}"],
        next_pids(4000),
        victim.to_str().expect("utf-8"),
    );
    // Even sticky, a layout others can write is refused: their entries
    // under the fixed names Airlock reads (index.json, blobs) would be
    // taken for its own.
    let out = load(&layout);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("other users may write"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&victim).expect("victim"), content);
}

#[test]
fn a_link_inside_the_layout_is_not_followed() {
    let base = shared_scratch("blobs-link");
    let (victim, _) = victim(&base);
    let victim_dir = victim.parent().expect("victim dir").to_owned();
    let before = listing(&victim_dir);
    // A layout of root's whose `blobs` is a link, left from a time its
    // directory was shared. Airlock once ran create_dir_all(DIR/blobs/
    // sha256) and renamed blobs into it, through the link.
    let layout = base.join("layout");
    std::fs::create_dir(&layout).expect("layout");
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("oci-layout");
    std::os::unix::fs::symlink(&victim_dir, layout.join("blobs")).expect("link");
    let out = load(&layout);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert_eq!(
        listing(&victim_dir),
        before,
        "the victim dir was written to"
    );
    assert!(!layout.join("index.json").exists());
}

#[test]
fn a_layout_others_can_write_is_refused() {
    let base = shared_scratch("shared-layout");
    // Writable by everyone without the sticky bit: anyone could swap the
    // entries Airlock works with.
    let open = base.join("open");
    std::fs::create_dir(&open).expect("dir");
    chmod(&open, 0o777);
    let out = load(&open);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("other users may write"),
        "{}",
        stderr(&out)
    );
    assert!(listing(&open).is_empty());

    // Owned by another user, who can change it at will.
    let theirs = base.join("theirs");
    std::fs::create_dir(&theirs).expect("dir");
    std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).expect("chown");
    let out = load(&theirs);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("belongs to uid"), "{}", stderr(&out));
    assert!(listing(&theirs).is_empty());

    // The directory the layout and its staging would be made in.
    let parent = base.join("parent");
    std::fs::create_dir(&parent).expect("dir");
    chmod(&parent, 0o777);
    let out = load(&parent.join("layout"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("other users may write"),
        "{}",
        stderr(&out)
    );
    assert!(listing(&parent).is_empty(), "{:?}", listing(&parent));
}

#[test]
fn staging_names_cannot_be_taken_in_advance_and_are_private() {
    // Airlock once staged in `.DIR.airlock-staging-PID`: an attacker who
    // made those names first blocked every load with `File exists`.
    let base = shared_scratch("staging-names");
    chmod(&base, 0o1777);
    plant(
        &base,
        "dir",
        &[".layout.airlock-staging-{}"],
        next_pids(2000),
        "",
    );
    let layout = base.join("layout");
    let out = load(&layout);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The attacker's directories are not this user's to remove.
    let planted = listing(&base)
        .into_iter()
        .filter(|n| n.starts_with(".layout.airlock-staging-"))
        .count();
    assert_eq!(planted, 2000);

    // While a load runs, its staging is readable by root alone.
    let second = base.join("second");
    let run = HalfFed::start(
        &["load", "--to", &format!("oci:{}", second.display())],
        &bundle(),
        &base.join("bundle.fifo"),
    );
    let staging: Vec<PathBuf> = std::fs::read_dir(&base)
        .expect("list")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".second.airlock-staging-")
        })
        .map(|e| e.path())
        .collect();
    assert_eq!(staging.len(), 1, "{staging:?}");
    let meta = std::fs::symlink_metadata(&staging[0]).expect("staging");
    assert_eq!(meta.mode() & 0o7777, 0o700);
    let files: Vec<u32> = std::fs::read_dir(&staging[0])
        .expect("staged files")
        .flatten()
        .map(|e| e.metadata().expect("meta").mode() & 0o7777)
        .collect();
    assert!(!files.is_empty());
    assert!(files.iter().all(|&m| m == 0o600), "{files:?}");
    run.kill();
}

#[test]
fn final_layout_files_are_readable_whatever_the_umask() {
    let base = shared_scratch("umask");
    let layout = base.join("layout");
    let out = Command::new("sh")
        .args(["-c", r#"umask 077; exec "$0" load --to "oci:$1" "$2""#])
        .arg(env!("CARGO_BIN_EXE_airlock"))
        .arg(&layout)
        .arg(bundle())
        .output()
        .expect("sh");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for entry in ["index.json", "oci-layout"] {
        let mode = std::fs::metadata(layout.join(entry)).expect("meta").mode();
        assert_eq!(mode & 0o777, 0o644, "{entry}");
    }
    for blob in std::fs::read_dir(layout.join("blobs/sha256"))
        .expect("blobs")
        .flatten()
    {
        assert_eq!(blob.metadata().expect("meta").mode() & 0o777, 0o644);
    }
    for dir in ["", "blobs", "blobs/sha256"] {
        let mode = std::fs::metadata(layout.join(dir)).expect("meta").mode();
        assert_eq!(mode & 0o777, 0o755, "{dir}");
    }
}

#[test]
fn concurrent_loads_into_one_layout_keep_every_name() {
    let base = shared_scratch("concurrent");
    let layout = base.join("layout");
    let bundles = [
        "good/skopeo-docker-archive.tar",
        "good/podman-oci-archive.tar",
        "good/containerd-export.tar",
        "good/docker-save-legacy.tar",
        "good/podman-docker-archive-multi.tar",
        "good/skopeo-oci-archive-zstd.tar",
    ];
    let runs: Vec<_> = bundles
        .iter()
        .map(|b| {
            Command::new(env!("CARGO_BIN_EXE_airlock"))
                .args(["load", "--json", "--to"])
                .arg(format!("oci:{}", layout.display()))
                .arg(test_support::corpus_dir().join(b))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("airlock starts")
        })
        .collect();
    let mut names = Vec::new();
    for run in runs {
        let out = run.wait_with_output().expect("airlock ends");
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        for image in json(&out)["import"]["images"].as_array().expect("images") {
            for name in image["names"].as_array().expect("names") {
                names.push(name.as_str().expect("name").to_owned());
            }
        }
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("index.json");
    let listed: Vec<&str> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter_map(|d| d["annotations"]["io.containerd.image.name"].as_str())
        .collect();
    for name in &names {
        assert!(
            listed.contains(&name.as_str()),
            "{name} was dropped: {listed:?}"
        );
    }
}

#[test]
fn a_full_disk_stops_the_load_before_it_fills() {
    let base = shared_scratch("full-disk");
    let small = base.join("small");
    support::mount_tmpfs(&small, "2m");
    let out = load(&small.join("layout"));
    let listed = listing(&small);
    support::unmount(&small);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not enough free space"),
        "{}",
        stderr(&out)
    );
    assert!(listed.is_empty(), "left behind: {listed:?}");
}
