//! `airlock push` against a real registry (Debian's docker-registry with TLS
//! and htpasswd), checked through the registry API and with skopeo.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::mount_refusing::MountRefusing;
use support::registry::{MANIFEST_TYPES, PASSWORD, Registry, USER};

/// How a push gets the bundle's blobs to the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The default: streamed into the holding repository while reading.
    Streaming,
    /// `--stage-locally`: staged on disk, nothing sent before the verdict.
    StageLocally,
}

const MODES: [Mode; 2] = [Mode::Streaming, Mode::StageLocally];

impl Mode {
    /// A repository prefix of its own, so each mode's first push writes.
    fn prefix(self, name: &str) -> String {
        match self {
            Self::Streaming => format!("stream-{name}"),
            Self::StageLocally => format!("staged-{name}"),
        }
    }
}

/// Where `--stage-locally` pushes stage: airlock names its staging
/// directory by its process id, so parallel pushes can share the parent.
fn staging_parent() -> PathBuf {
    let staging = Path::new(env!("CARGO_TARGET_TMPDIR")).join("push-staging");
    std::fs::create_dir_all(&staging).expect("staging parent");
    staging
}

/// A push command with credentials on stdin; `extra` goes before the
/// bundle so tests can add or override options.
fn push_command(
    registry_host: &str,
    mode: Mode,
    bundle: &Path,
    dest: &str,
    extra: &[&str],
) -> Command {
    push_command_of(
        Command::new(env!("CARGO_BIN_EXE_airlock")),
        &|path: &Path| path.as_os_str().to_owned(),
        registry_host,
        mode,
        bundle,
        dest,
        extra,
    )
}

/// [`push_command`] for `c`, a command that starts an airlock (perhaps
/// under wine), which takes paths as `path_arg` writes them.
fn push_command_of(
    mut c: Command,
    path_arg: &dyn Fn(&Path) -> std::ffi::OsString,
    registry_host: &str,
    mode: Mode,
    bundle: &Path,
    dest: &str,
    extra: &[&str],
) -> Command {
    c.arg("push").args(extra).args([
        "--json",
        "--no-progress",
        "--password-stdin",
        "--user",
        USER,
    ]);
    if mode == Mode::StageLocally {
        c.arg("--stage-locally");
        if !extra.contains(&"--staging") {
            c.arg("--staging").arg(path_arg(&staging_parent()));
        }
    }
    c.arg(path_arg(bundle))
        .arg(format!("{registry_host}/{dest}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn spawn_with_password(mut command: Command, password: &str) -> Child {
    let mut child = command.spawn().expect("airlock starts");
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = writeln!(stdin, "{password}");
    }
    child
}

fn push(registry: &Registry, mode: Mode, bundle: &Path, dest: &str, extra: &[&str]) -> Output {
    push_via(registry, &registry.host(), mode, bundle, dest, extra)
}

/// [`push`] to `host`, which may be a proxy in front of `registry`.
fn push_via(
    registry: &Registry,
    host: &str,
    mode: Mode,
    bundle: &Path,
    dest: &str,
    extra: &[&str],
) -> Output {
    let ca = registry.ca.to_str().expect("utf-8").to_owned();
    let mut args = vec!["--ca-cert", ca.as_str()];
    args.extend(extra);
    spawn_with_password(push_command(host, mode, bundle, dest, &args), PASSWORD)
        .wait_with_output()
        .expect("airlock runs")
}

/// Registry storage paths (relative to its root) under a repository's
/// `_manifests`: what a manifest put or a tag writes. A push that stopped
/// before its commit leaves none.
fn manifests_stored(registry: &Registry) -> Vec<PathBuf> {
    support::tree(&registry.storage)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.components().any(|c| c.as_os_str() == "_manifests"))
        .collect()
}

/// Whether the registry has blobs linked into `repo` (its `_layers`).
fn has_layers(registry: &Registry, repo: &str) -> bool {
    support::tree(&registry.storage).iter().any(|(p, _)| {
        p.to_string_lossy()
            .contains(&format!("repositories/{repo}/_layers/"))
    })
}

/// skopeo pulls every blob of `reference` and checks each digest.
fn skopeo_pull(registry: &Registry, reference: &str, scratch: &str) {
    let dir = support::scratch(scratch);
    let out = Command::new("skopeo")
        .arg("copy")
        .arg("-q")
        .arg("--src-cert-dir")
        .arg(&registry.cert_dir)
        .args(["--src-creds", &format!("{USER}:{PASSWORD}")])
        .arg(format!("docker://{reference}"))
        .arg(format!("dir:{}", dir.join("image").display()))
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "skopeo copy {reference}: {}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A corpus file name as a repository prefix: `good/podman-oci-archive.tar`
/// → `podman-oci-archive-tar`.
fn prefix_for(file: &str) -> String {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

fn skopeo_inspect(registry: &Registry, reference: &str, raw: bool) -> serde_json::Value {
    let mut c = Command::new("skopeo");
    c.arg("inspect");
    if raw {
        c.arg("--raw");
    }
    let out = c
        .arg("--cert-dir")
        .arg(&registry.cert_dir)
        .args(["--creds", &format!("{USER}:{PASSWORD}")])
        .arg(format!("docker://{reference}"))
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "skopeo inspect {reference}: {}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("skopeo prints JSON")
}

/// `host/repo:tag` → (`repo`, `tag`).
fn split_reference<'a>(registry: &Registry, reference: &'a str) -> (&'a str, &'a str) {
    let host = registry.host();
    let rest = reference
        .strip_prefix(host.as_str())
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or_else(|| panic!("{reference} is not on {host}"));
    rest.rsplit_once(':').expect("a tag")
}

/// Every pushed name resolves, by digest and by tag, to the manifest airlock
/// reported, and its config is the bundle's.
fn check_pushed(registry: &Registry, file: &str, result: &serde_json::Value) {
    let images = result["import"]["images"].as_array().expect("images");
    let reported = result["report"]["images"]
        .as_array()
        .expect("report images");
    assert_eq!(images.len(), reported.len(), "{file}");
    for (image, bundle_image) in images.iter().zip(reported) {
        let digest = image["manifest_digest"].as_str().expect("manifest digest");
        let config = image["config_digest"].as_str().expect("config digest");
        assert_eq!(bundle_image["config_digest"], config, "{file}");
        for name in image["names"].as_array().expect("names") {
            let name = name.as_str().expect("name");
            let (repo, tag) = split_reference(registry, name);
            for reference in [digest, tag] {
                let (status, stored, body) =
                    registry.get(&format!("/v2/{repo}/manifests/{reference}"), MANIFEST_TYPES);
                assert_eq!(status, 200, "{file}: {name} by {reference}");
                assert_eq!(
                    stored.as_deref(),
                    Some(digest),
                    "{file}: {name} by {reference}"
                );
                let manifest: serde_json::Value = serde_json::from_slice(&body).expect("json");
                assert_eq!(manifest["config"]["digest"], config, "{file}: {name}");
            }
            let inspected = skopeo_inspect(registry, name, false);
            assert_eq!(inspected["Digest"], digest, "{file}: skopeo sees {name}");
            let raw = skopeo_inspect(registry, name, true);
            assert_eq!(
                raw["config"]["digest"], config,
                "{file}: skopeo config of {name}"
            );
        }
    }
}

/// A push into a fresh repository: it succeeded, wrote blobs, and left
/// what [`check_pushed`] checks. Returns its JSON.
fn first_push(registry: &Registry, what: &str, out: &Output) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(0), "{what}: {}", stderr(out));
    let pushed = support::json(out);
    assert!(
        pushed["import"]["blobs_written"].as_u64() > Some(0),
        "{what}"
    );
    check_pushed(registry, what, &pushed);
    pushed
}

#[test]
fn good_bundles_are_pushed_and_a_second_push_sends_no_blob() {
    let registry = Registry::start("registry-good");
    let rows = test_support::rows_with("ok");
    assert!(!rows.is_empty());
    for mode in MODES {
        for row in &rows {
            let prefix = mode.prefix(&prefix_for(&row.file));
            let what = format!("{mode:?} {}", row.file);
            let out = push(&registry, mode, &row.path(), &prefix, &[]);
            let first = first_push(&registry, &what, &out);
            let holding = format!("{prefix}/airlock-incoming");
            // Streamed blobs went through the holding repository, which
            // is never tagged; staged ones never touched it.
            assert_eq!(
                has_layers(&registry, &holding),
                mode == Mode::Streaming,
                "{what}"
            );
            assert!(
                !manifests_stored(&registry)
                    .iter()
                    .any(|p| p.starts_with(format!("docker/registry/v2/repositories/{holding}"))),
                "{what}: the holding repository got a manifest"
            );
            let name = first["import"]["images"][0]["names"][0]
                .as_str()
                .expect("a pushed name");
            skopeo_pull(&registry, name, "registry-good-pull");

            let again = push(&registry, mode, &row.path(), &prefix, &[]);
            assert_eq!(again.status.code(), Some(0), "{what}: {}", stderr(&again));
            let second = support::json(&again);
            assert_eq!(second["import"]["blobs_written"], 0, "{what}: {second:#}");
            assert_eq!(
                second["import"]["blobs_present"], first["import"]["blobs_written"],
                "{what}"
            );
            check_pushed(&registry, &what, &second);
        }
    }
}

/// The release's Windows `.exe` pushes as the Linux binary does, in both
/// modes, over TLS with a CA given as a `Z:\` path: `cargo xtask dist
/// --check` runs this with `AIRLOCK_WINDOWS_EXE` (and the wine prefix) set.
#[test]
#[ignore = "run by `cargo xtask dist --check`, with the .exe under wine"]
fn the_windows_exe_pushes_under_wine() {
    let exe = std::env::var_os("AIRLOCK_WINDOWS_EXE")
        .expect("AIRLOCK_WINDOWS_EXE names the airlock .exe to run under wine");
    let windows_path = |path: &Path| -> std::ffi::OsString {
        format!("Z:{}", path.display()).replace('/', "\\").into()
    };
    let registry = Registry::start("registry-wine");
    let ca = windows_path(&registry.ca);
    let ca = ca.to_str().expect("utf-8");
    let row = test_support::rows_with("ok")
        .into_iter()
        .find(|row| row.file.ends_with("skopeo-docker-archive.tar"))
        .expect("the corpus has good/skopeo-docker-archive.tar");
    for mode in MODES {
        let mut wine = Command::new("wine");
        wine.arg(&exe);
        let prefix = mode.prefix("wine");
        let command = push_command_of(
            wine,
            &windows_path,
            &registry.host(),
            mode,
            &row.path(),
            &prefix,
            &["--ca-cert", ca],
        );
        let out = spawn_with_password(command, PASSWORD)
            .wait_with_output()
            .expect("wine runs");
        let what = format!("{mode:?} by airlock.exe");
        let pushed = first_push(&registry, &what, &out);
        let name = pushed["import"]["images"][0]["names"][0]
            .as_str()
            .expect("a pushed name");
        skopeo_pull(&registry, name, "registry-wine-pull");
    }
}

#[test]
fn tag_map_renames_images_and_a_typo_is_refused() {
    let registry = Registry::start("registry-tag-map");
    let bundle = test_support::corpus_dir().join("good/containerd-export.tar");
    let out = push(
        &registry,
        Mode::Streaming,
        &bundle,
        "mirror",
        &[
            "--tag-map",
            "airlock/app:1.0=prod/app:2.0",
            "--tag-map",
            "localhost/airlock/tools:2.0=tools",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result = support::json(&out);
    let names: Vec<&str> = result["import"]["images"]
        .as_array()
        .expect("images")
        .iter()
        .flat_map(|i| i["names"].as_array().expect("names"))
        .filter_map(|n| n.as_str())
        .collect();
    let host = registry.host();
    assert_eq!(
        names,
        [
            format!("{host}/mirror/prod/app:2.0"),
            format!("{host}/mirror/tools:2.0")
        ]
    );
    check_pushed(&registry, "containerd-export.tar", &result);

    let typo = push(
        &registry,
        Mode::Streaming,
        &bundle,
        "mirror",
        &["--tag-map", "nosuch:1=x"],
    );
    assert_eq!(typo.status.code(), Some(2), "{}", stderr(&typo));
    assert!(stderr(&typo).contains("nosuch:1"), "{}", stderr(&typo));
}

/// Staged locally, a bad bundle sends nothing at all; streamed, it leaves
/// only blobs in the holding repository, and no tag or manifest anywhere.
#[test]
fn bad_bundles_leave_no_tag_and_no_manifest() {
    let registry = Registry::start("registry-bad");
    let mut rows = test_support::rows_with("fail");
    rows.extend(test_support::rows_with("*"));
    assert!(!rows.is_empty());
    for mode in [Mode::StageLocally, Mode::Streaming] {
        let before = support::tree(&registry.storage);
        let catalog = registry.catalog();
        for row in &rows {
            let what = format!("{mode:?} {}", row.file);
            let out = push(&registry, mode, &row.path(), "bad", &[]);
            assert_eq!(out.status.code(), Some(1), "{what}: {}", stderr(&out));
            assert_eq!(manifests_stored(&registry), Vec::<PathBuf>::new(), "{what}");
            if mode == Mode::StageLocally {
                assert_eq!(support::tree(&registry.storage), before, "{what}");
                assert_eq!(registry.catalog(), catalog, "{what}");
            }
            for repo in registry.catalog() {
                assert_eq!(repo, "bad/airlock-incoming", "{what}");
                let (status, _, body) = registry.get(&format!("/v2/{repo}/tags/list"), "*/*");
                let tags: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                assert!(
                    status == 404 || tags["tags"].as_array().is_none_or(Vec::is_empty),
                    "{what}: {repo} has tags: {tags}"
                );
            }
        }
    }
    // The streamed run did stream: the layer with a flipped bit reached
    // the holding repository (under the digest of its bytes, not its name).
    assert!(has_layers(&registry, "bad/airlock-incoming"));
}

/// A registry that answers mounts with upload sessions (as the spec lets
/// it) still gets every blob: each goes from the holding repository through
/// airlock into the image's repository, and the image pulls whole.
#[test]
fn a_registry_that_refuses_mounts_gets_the_blobs_uploaded_from_the_holding_repository() {
    let registry = Registry::start("registry-no-mounts");
    let proxy = MountRefusing::start(&registry);
    let file = "good/podman-docker-archive-multi.tar";
    let bundle = test_support::corpus_dir().join(file);
    let out = push_via(
        &registry,
        &proxy.host,
        Mode::Streaming,
        &bundle,
        "nomount",
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(proxy.refused() > 0, "no mount was asked for");
    // The names airlock reports are the proxy's; the registry behind it is
    // checked directly.
    let text = String::from_utf8_lossy(&out.stdout).replace(&proxy.host, &registry.host());
    let result: serde_json::Value = serde_json::from_str(&text).expect("json");
    let written = result["import"]["blobs_written"].as_u64().expect("a count");
    assert!(written > 0, "{result:#}");
    check_pushed(&registry, file, &result);
    for image in result["import"]["images"].as_array().expect("images") {
        let name = image["names"][0].as_str().expect("a name");
        skopeo_pull(&registry, name, "registry-no-mounts-pull");
    }
}

#[test]
fn wrong_password_and_untrusted_certificates_are_named() {
    let registry = Registry::start("registry-errors");
    let bundle = test_support::corpus_dir().join("good/podman-oci-archive.tar");
    let ca = registry.ca.to_str().expect("utf-8").to_owned();

    let wrong = spawn_with_password(
        push_command(
            &registry.host(),
            Mode::Streaming,
            &bundle,
            "x",
            &["--ca-cert", &ca],
        ),
        "not-the-password",
    )
    .wait_with_output()
    .expect("airlock runs");
    assert_eq!(wrong.status.code(), Some(2), "{}", stderr(&wrong));
    assert!(stderr(&wrong).contains("denied"), "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains(&registry.host()),
        "{}",
        stderr(&wrong)
    );

    let untrusted = push_command(&registry.host(), Mode::Streaming, &bundle, "x", &[]);
    let untrusted = spawn_with_password(untrusted, PASSWORD)
        .wait_with_output()
        .expect("airlock runs");
    assert_eq!(untrusted.status.code(), Some(2), "{}", stderr(&untrusted));
    let message = stderr(&untrusted);
    assert!(
        message.contains("certificate") && message.contains("--ca-cert"),
        "{message}"
    );

    let anonymous = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["push", "--ca-cert", &ca])
        .arg(&bundle)
        .arg(registry.host())
        .output()
        .expect("airlock runs");
    assert_eq!(anonymous.status.code(), Some(2), "{}", stderr(&anonymous));
    assert!(
        stderr(&anonymous).contains("credentials"),
        "{}",
        stderr(&anonymous)
    );

    let refused_port = registry.port.wrapping_add(1);
    let refused = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["push", "--ca-cert", &ca])
        .arg(&bundle)
        .arg(format!("127.0.0.1:{refused_port}"))
        .output()
        .expect("airlock runs");
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("refused"), "{}", stderr(&refused));
    assert!(registry.catalog().is_empty());
}

/// A 1 GiB docker save made by the corpus's make-big.sh, kept between runs.
fn big_bundle() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("big-bundle");
    let bundle = dir.join("big-1g.tar");
    if !dir.join("big-1g.tar.sha256").is_file() {
        let out = Command::new(test_support::corpus_dir().join("make-big.sh"))
            .arg("1")
            .arg(&dir)
            .output()
            .expect("make-big.sh runs");
        assert!(out.status.success(), "make-big.sh: {}", stderr(&out));
    }
    bundle
}

/// True once the registry has an upload in progress or done in `storage`.
fn uploading(storage: &Path) -> bool {
    support::tree(storage).iter().any(|(p, _)| {
        p.components()
            .any(|c| c.as_os_str() == "_uploads" || c.as_os_str() == "blobs")
    })
}

/// Bytes the registry holds in `storage`: blobs and uploads in progress.
fn stored_bytes(storage: &Path) -> u64 {
    support::tree(storage).iter().map(|(_, len)| len).sum()
}

/// Starts a push of the 1 GiB bundle and kills it (SIGKILL) once the
/// registry holds `at` bytes of it (or, staged, once uploads began); then
/// nothing may be tagged. Returns the killed process's id.
fn kill_push_at(registry: &Registry, mode: Mode, bundle: &Path, at: u64) -> u32 {
    let ca = registry.ca.to_str().expect("utf-8").to_owned();
    let mut child = spawn_with_password(
        push_command(&registry.host(), mode, bundle, "k", &["--ca-cert", &ca]),
        PASSWORD,
    );
    let base = stored_bytes(&registry.storage);
    let start = Instant::now();
    while !uploading(&registry.storage) || stored_bytes(&registry.storage) < base + at {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "{mode:?}: the push never reached {at} bytes"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "{mode:?}: airlock ended before it was killed at {at} bytes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = child.id();
    child.kill().expect("kill airlock");
    let _ = child.wait();
    let (status, _, _) = registry.get("/v2/k/airlock/big/manifests/1g", MANIFEST_TYPES);
    assert_eq!(
        status, 404,
        "{mode:?}: a push killed at {at} bytes left a tag"
    );
    assert_eq!(
        manifests_stored(registry),
        Vec::<PathBuf>::new(),
        "{mode:?}: a push killed at {at} bytes left a manifest"
    );
    pid
}

#[test]
fn a_streaming_push_killed_at_any_point_leaves_no_tag_and_the_next_one_completes() {
    let registry = Registry::start("registry-kill-stream");
    let bundle = big_bundle();
    let size = std::fs::metadata(&bundle).expect("bundle").len();
    // As the first upload starts, then a quarter and a half of the bundle
    // later (a rerun skips what the holding repository has complete, so
    // each run has less left to send).
    for at in [0, size / 4, size / 2] {
        kill_push_at(&registry, Mode::Streaming, &bundle, at);
    }
    let out = push(&registry, Mode::Streaming, &bundle, "k", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result = support::json(&out);
    check_pushed(&registry, "big-1g.tar", &result);
}

#[test]
fn a_staged_push_killed_half_way_leaves_no_tag_and_the_next_one_completes() {
    let registry = Registry::start("registry-kill");
    let bundle = big_bundle();
    let pid = kill_push_at(&registry, Mode::StageLocally, &bundle, 0);
    // Staging is `airlock-push-PID-RANDOM`.
    let prefix = format!("airlock-push-{pid}-");
    let staged: Vec<_> = std::fs::read_dir(staging_parent())
        .expect("staging parent")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    assert_eq!(staged.len(), 1, "the killed push's staging is there");
    let killed = &staged[0];

    let out = push(&registry, Mode::StageLocally, &bundle, "k", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let result = support::json(&out);
    check_pushed(&registry, "big-1g.tar", &result);
    assert!(
        !killed.exists(),
        "the next push removed the abandoned staging"
    );
}

/// One timed run of `command` (a push), with what it used while it ran,
/// sampled every 20 ms: its peak RSS (`VmHWM`) and the peak of the bytes
/// under `tmp`, the directory given to it as TMPDIR and `--staging`.
struct Watched {
    seconds: f64,
    peak_rss_mib: f64,
    peak_disk_bytes: u64,
}

fn watched(mut command: Command, tmp: &Path) -> Watched {
    let start = Instant::now();
    let mut child = command.env("TMPDIR", tmp).spawn().expect("airlock starts");
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = writeln!(stdin, "{PASSWORD}");
    }
    let status = format!("/proc/{}/status", child.id());
    let (mut rss_kib, mut disk) = (0u64, 0u64);
    while child.try_wait().expect("wait").is_none() {
        let hwm = std::fs::read_to_string(&status)
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok());
        rss_kib = rss_kib.max(hwm.unwrap_or(0));
        disk = disk.max(support::tree(tmp).iter().map(|(_, len)| len).sum());
        std::thread::sleep(Duration::from_millis(20));
    }
    let seconds = start.elapsed().as_secs_f64();
    let out = child.wait_with_output().expect("airlock runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    Watched {
        seconds,
        peak_rss_mib: rss_kib as f64 / 1024.0,
        peak_disk_bytes: disk,
    }
}

/// `cargo xtask bench` row 6c: `airlock push` (streaming, and with
/// `--stage-locally` for comparison) beside `skopeo copy docker-archive:
/// docker://` to the same TLS + htpasswd registry, each round to a fresh
/// registry so no blob is already there.
#[test]
#[ignore = "run by `cargo xtask bench`"]
fn bench_push() {
    let Some((bundle, out, rounds)) = support::bench_setup() else {
        panic!("set AIRLOCK_BENCH_BUNDLE and AIRLOCK_BENCH_OUT (cargo xtask bench does)");
    };
    let tmp = support::scratch("bench-push-tmp");
    let ca = |r: &Registry| r.ca.to_str().expect("utf-8").to_owned();
    let (mut ours, mut staged, mut peer) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let registry = Registry::start(&format!("registry-bench-{round}"));
        let c = push_command(
            &registry.host(),
            Mode::Streaming,
            &bundle,
            "airlock",
            &["--ca-cert", &ca(&registry)],
        );
        ours.push(watched(c, &tmp));
        drop(registry);
        let registry = Registry::start(&format!("registry-bench-staged-{round}"));
        let tmp_arg = tmp.to_str().expect("utf-8");
        let c = push_command(
            &registry.host(),
            Mode::StageLocally,
            &bundle,
            "airlock",
            &["--ca-cert", &ca(&registry), "--staging", tmp_arg],
        );
        staged.push(watched(c, &tmp));
        drop(registry);
        let registry = Registry::start(&format!("registry-bench-skopeo-{round}"));
        peer.push(support::timed(
            Command::new("skopeo")
                .arg("copy")
                .arg("--dest-cert-dir")
                .arg(&registry.cert_dir)
                .args(["--dest-creds", &format!("{USER}:{PASSWORD}")])
                .arg(format!("docker-archive:{}", bundle.display()))
                .arg(format!("docker://{}/skopeo/bench:1", registry.host())),
        ));
    }
    let peak = |runs: &[Watched], f: fn(&Watched) -> f64| runs.iter().map(f).fold(0.0, f64::max);
    let seconds = |runs: &[Watched]| runs.iter().map(|w| w.seconds).collect::<Vec<_>>();
    support::record(
        &out,
        serde_json::json!({
            "row": "6c", "what": "verify + push to a TLS + htpasswd registry on loopback",
            "ours_label": "airlock push", "peer_label": "skopeo copy docker-archive: docker://",
            "ours": seconds(&ours), "peer": peer, "target_ratio_at_most": 0.8,
            "ours_peak_rss_mib": peak(&ours, |w| w.peak_rss_mib),
            "note": format!(
                "`airlock push` peaked at {:.1} MiB RSS (target <= 128) and {:.1} MiB of local \
                 disk under TMPDIR (target <= 64); `--stage-locally` took {:.2} s (min), \
                 {:.1} MiB RSS and {:.1} MiB of local disk.",
                peak(&ours, |w| w.peak_rss_mib),
                peak(&ours, |w| w.peak_disk_bytes as f64) / 1048576.0,
                seconds(&staged).into_iter().fold(f64::INFINITY, f64::min),
                peak(&staged, |w| w.peak_rss_mib),
                peak(&staged, |w| w.peak_disk_bytes as f64) / 1048576.0,
            ),
        }),
    );
}
