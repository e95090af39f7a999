//! `airlock keygen`, `seal`, `seal-sums`, `approve`, `verify --seal` and
//! `check --trust` as a user runs them, and against other implementations:
//! sigstore-js verifies what Airlock signs, Airlock verifies a DSSE
//! envelope Python's `cryptography` signed, and cosign's key format written
//! by Python (hashlib.scrypt + PyNaCl) opens in Airlock and the other way
//! round.
//!
//! sigstore-js comes from the workspace's node_modules and the Python
//! packages from the venv `cargo xtask test` installs
//! (`xtask/sbom-validators.txt`).

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use base64::Engine;
use support::said;
use test_support::corpus_dir;

const PASSWORD: &str = "correct horse battery staple";

fn airlock(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .current_dir(dir)
        .env("AIRLOCK_PASSWORD", PASSWORD)
        .env("NO_COLOR", "1")
        .output()
        .expect("the airlock binary runs")
}

/// A directory holding a copy of the corpus bundle `name`.
fn workdir(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::copy(corpus_dir().join("good").join(name), dir.path().join(name))
        .expect("the shared corpus (../shared/corpus/good) must be present");
    dir
}

fn keygen(dir: &Path, name: &str) {
    let out = airlock(&["keygen", name], dir);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}

fn statement_of(signed: &Path) -> serde_json::Value {
    let bundle: serde_json::Value =
        serde_json::from_slice(&std::fs::read(signed).expect("the signed file")).expect("json");
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("base64");
    serde_json::from_slice(&payload).expect("the statement is JSON")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// sigstore-js's verdict on `signed` with `keys` trusted.
fn sigstore_js(signed: &Path, keys: &[&Path]) -> Output {
    let root = workspace();
    assert!(
        root.join("node_modules/@sigstore/verify").is_dir(),
        "sigstore-js is not installed in {}: run `cargo xtask test` or `npm install`",
        root.display()
    );
    Command::new("node")
        .arg(root.join("tests/custody/sigstore-verify.mjs"))
        .arg(signed)
        .args(keys)
        .current_dir(&root)
        .output()
        .expect("node runs")
}

/// Runs one of the Python helpers in tests/custody with `stdin` fed.
fn python(script: &str, args: &[&Path], stdin: &str) -> Output {
    let venv = test_support::sbom_validators::venv();
    let mut child = Command::new(venv.join("bin/python"))
        .arg(workspace().join("tests/custody").join(script))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("feeds stdin");
    child.wait_with_output().expect("python ends")
}

#[test]
fn keygen_writes_a_private_pair_and_never_overwrites_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    keygen(dir.path(), "sender");
    let key = std::fs::read_to_string(dir.path().join("sender.key")).expect("key");
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    let public = std::fs::read_to_string(dir.path().join("sender.pub")).expect("pub");
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join("sender.key"))
            .expect("metadata")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = airlock(&["keygen", "sender"], dir.path());
    assert_eq!(again.status.code(), Some(2), "{}", said(&again));
    assert!(
        said(&again).contains("refusing to overwrite"),
        "{}",
        said(&again)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sender.key")).expect("key"),
        key
    );
    // No passphrase anywhere: refused as a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["keygen", "nopass"])
        .current_dir(dir.path())
        .env_remove("AIRLOCK_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(!dir.path().join("nopass.key").exists());
}

#[test]
fn a_seal_verifies_in_airlock_and_in_sigstore_js() {
    let bundle = "podman-docker-archive-multi.tar";
    let dir = workdir(bundle);
    let d = dir.path();
    keygen(d, "sender");
    keygen(d, "stranger");
    let out = airlock(&["seal", bundle, "--key", "sender.key"], d);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));

    // The sums file is sha256sum's, and checks.
    let sums = std::fs::read_to_string(d.join(format!("{bundle}.sha256"))).expect("sums");
    let want = test_support::cases::sha256_hex(&std::fs::read(d.join(bundle)).expect("bundle"));
    assert_eq!(sums, format!("{want}  {bundle}\n"));
    let check = airlock(&["check", &format!("{bundle}.sha256")], d);
    assert_eq!(check.status.code(), Some(0), "{}", said(&check));

    // The statement: the file, then every image by reference and digest.
    let seal = d.join(format!("{bundle}.seal.sigstore.json"));
    let statement = statement_of(&seal);
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://airlock.dev/seal/v1");
    let subjects = statement["subject"].as_array().expect("subjects");
    assert_eq!(subjects[0]["name"], bundle);
    assert_eq!(subjects[0]["digest"]["sha256"], want.as_str());
    let report: serde_json::Value =
        serde_json::from_slice(&airlock(&["inspect", "--json", bundle], d).stdout).expect("json");
    let tags: Vec<&str> = report["images"]
        .as_array()
        .expect("images")
        .iter()
        .flat_map(|i| i["repo_tags"].as_array().expect("tags"))
        .filter_map(|t| t.as_str())
        .collect();
    let named: Vec<&str> = subjects[1..]
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(tags.len() >= 2, "a multi-image bundle: {tags:?}");
    assert_eq!(named, tags);
    assert_eq!(
        statement["predicate"]["images"]
            .as_array()
            .expect("images")
            .len(),
        report["images"].as_array().expect("images").len()
    );

    // Airlock's own check, trusted and not.
    let ok = airlock(
        &[
            "verify",
            bundle,
            "--seal",
            seal.to_str().expect("utf-8"),
            "--trust",
            "stranger.pub",
            "--trust",
            "sender.pub",
        ],
        d,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", said(&ok));
    assert!(said(&ok).contains("seal: ok, signed by"), "{}", said(&ok));
    let untrusted = airlock(
        &[
            "verify",
            bundle,
            "--seal",
            seal.to_str().expect("utf-8"),
            "--trust",
            "stranger.pub",
        ],
        d,
    );
    assert_eq!(untrusted.status.code(), Some(1), "{}", said(&untrusted));
    assert!(
        said(&untrusted).contains("not one of the 1 trusted key"),
        "{}",
        said(&untrusted)
    );

    // sigstore-js: accepted with the sender's key, refused without it.
    let js = sigstore_js(&seal, &[&d.join("sender.pub")]);
    assert_eq!(js.status.code(), Some(0), "{}", said(&js));
    let seen: serde_json::Value = serde_json::from_slice(&js.stdout).expect("json");
    assert_eq!(seen["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(seen["statement"], statement);
    let refused = sigstore_js(&seal, &[&d.join("stranger.pub")]);
    assert_eq!(refused.status.code(), Some(1), "{}", said(&refused));
}

/// A release as `cargo xtask dist` seals one: the files a SHA256SUMS
/// lists, sealed as a set; sigstore-js accepts the seal, and `check
/// --trust` refuses every change to the set made after sealing.
#[test]
fn a_sums_file_seal_covers_exactly_its_files() {
    let bundle = "oci-layout-gzip.tar";
    let dir = workdir(bundle);
    let d = dir.path();
    std::fs::write(d.join("airlock.html"), b"<!doctype html>the page").expect("writes");
    keygen(d, "release");
    keygen(d, "stranger");
    let hashed = airlock(&["hash", bundle, "airlock.html"], d);
    assert_eq!(hashed.status.code(), Some(0), "{}", said(&hashed));
    std::fs::write(d.join("SHA256SUMS"), &hashed.stdout).expect("writes");

    let out = airlock(&["seal-sums", "SHA256SUMS", "--key", "release.key"], d);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let seal = d.join("SHA256SUMS.seal.sigstore.json");
    let statement = statement_of(&seal);
    assert_eq!(statement["predicateType"], "https://airlock.dev/files/v1");
    assert_eq!(statement["predicate"]["sumsFile"], "SHA256SUMS");
    let page_sha = test_support::cases::sha256_hex(b"<!doctype html>the page");
    assert!(
        statement["subject"]
            .as_array()
            .expect("subjects")
            .iter()
            .any(|s| s["name"] == "airlock.html" && s["digest"]["sha256"] == page_sha.as_str()),
        "{statement}"
    );

    let js = sigstore_js(&seal, &[&d.join("release.pub")]);
    assert_eq!(js.status.code(), Some(0), "{}", said(&js));
    let refused = sigstore_js(&seal, &[&d.join("stranger.pub")]);
    assert_eq!(refused.status.code(), Some(1), "{}", said(&refused));

    let ok = airlock(&["check", "SHA256SUMS", "--trust", "release.pub"], d);
    assert_eq!(ok.status.code(), Some(0), "{}", said(&ok));
    assert!(said(&ok).contains("OK (sealed by key"), "{}", said(&ok));
    let stranger = airlock(&["check", "SHA256SUMS", "--trust", "stranger.pub"], d);
    assert_eq!(stranger.status.code(), Some(1), "{}", said(&stranger));
    assert!(said(&stranger).contains("no file was checked"));

    // A file swapped after sealing, with SHA256SUMS rewritten to match:
    // the sums check alone passes, the seal does not.
    std::fs::write(d.join("airlock.html"), b"<!doctype html>a trojan").expect("writes");
    let rehashed = airlock(&["hash", bundle, "airlock.html"], d);
    std::fs::write(d.join("SHA256SUMS"), &rehashed.stdout).expect("writes");
    let unsealed = airlock(&["check", "SHA256SUMS"], d);
    assert_eq!(unsealed.status.code(), Some(0), "{}", said(&unsealed));
    let swapped = airlock(&["check", "SHA256SUMS", "--trust", "release.pub"], d);
    assert_eq!(swapped.status.code(), Some(1), "{}", said(&swapped));
    assert!(
        said(&swapped).contains("airlock.html") && said(&swapped).contains("does not list"),
        "{}",
        said(&swapped)
    );

    // A file changed without rewriting SHA256SUMS is not sealed at all.
    std::fs::write(d.join("SHA256SUMS"), &hashed.stdout).expect("writes");
    std::fs::remove_file(&seal).expect("removes");
    let stale = airlock(&["seal-sums", "SHA256SUMS", "--key", "release.key"], d);
    assert_eq!(stale.status.code(), Some(1), "{}", said(&stale));
    assert!(!seal.exists());
}

/// A file name from a sums file or a seal reaches the terminal only
/// escaped: a sealed name with an escape sequence, reported when the sums
/// file no longer lists it, prints no control bytes.
#[test]
fn names_in_a_refused_file_set_seal_are_escaped() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let d = dir.path();
    let hostile = "a\u{1b}[2Jcleared";
    std::fs::write(d.join(hostile), b"one").expect("writes");
    std::fs::write(d.join("plain.txt"), b"two").expect("writes");
    keygen(d, "release");
    let hashed = airlock(&["hash", hostile, "plain.txt"], d);
    assert_eq!(hashed.status.code(), Some(0), "{}", said(&hashed));
    std::fs::write(d.join("SUMS"), &hashed.stdout).expect("writes");
    let sealed = airlock(&["seal-sums", "SUMS", "--key", "release.key"], d);
    assert_eq!(sealed.status.code(), Some(0), "{}", said(&sealed));

    let plain_only: Vec<u8> = hashed
        .stdout
        .split_inclusive(|b| *b == b'\n')
        .filter(|line| line.ends_with(b"plain.txt\n"))
        .flatten()
        .copied()
        .collect();
    std::fs::write(d.join("SUMS"), plain_only).expect("writes");
    let refused = airlock(&["check", "SUMS", "--trust", "release.pub"], d);
    assert_eq!(refused.status.code(), Some(1), "{}", said(&refused));
    assert!(
        said(&refused).contains("does not list"),
        "{}",
        said(&refused)
    );
    for stream in [&refused.stdout, &refused.stderr] {
        assert!(!stream.contains(&0x1b), "{}", said(&refused));
    }
}

#[test]
fn a_seal_for_another_bundle_is_refused() {
    let dir = workdir("oci-layout-gzip.tar");
    let d = dir.path();
    std::fs::copy(
        corpus_dir().join("good/podman-oci-archive.tar"),
        d.join("podman-oci-archive.tar"),
    )
    .expect("corpus");
    keygen(d, "sender");
    let out = airlock(&["seal", "oci-layout-gzip.tar", "--key", "sender.key"], d);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let wrong = airlock(
        &[
            "verify",
            "podman-oci-archive.tar",
            "--seal",
            "oci-layout-gzip.tar.seal.sigstore.json",
            "--trust",
            "sender.pub",
        ],
        d,
    );
    assert_eq!(wrong.status.code(), Some(1), "{}", said(&wrong));
    assert!(
        said(&wrong).contains("is for a bundle with SHA-256"),
        "{}",
        said(&wrong)
    );
}

#[test]
fn approvals_sit_beside_the_bundle_one_per_key_and_verify_in_sigstore_js() {
    let bundle = "skopeo-oci-archive-zstd.tar";
    let dir = workdir(bundle);
    let d = dir.path();
    keygen(d, "alice");
    keygen(d, "bob");
    let out = airlock(
        &["approve", bundle, "--key", "alice.key", "--name", "Alice"],
        d,
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let first = d.join(format!("{bundle}.approval.sigstore.json"));
    let statement = statement_of(&first);
    assert_eq!(
        statement["predicateType"],
        "https://airlock.dev/approval/v1"
    );
    assert_eq!(statement["predicate"]["decision"], "approved");
    assert_eq!(statement["predicate"]["approver"]["name"], "Alice");
    assert_eq!(statement["predicate"]["verdict"], "ok");

    // Bob's rejection does not replace Alice's file.
    let out = airlock(
        &[
            "approve",
            bundle,
            "--key",
            "bob.key",
            "--reject",
            "not the release we expected",
        ],
        d,
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let bob_pub = std::fs::read(d.join("bob.pub")).expect("bob.pub");
    let bob_id = bob_key_id(&bob_pub);
    let second = d.join(format!("{bundle}.approval-{}.sigstore.json", &bob_id[..12]));
    let rejected = statement_of(&second);
    assert_eq!(rejected["predicate"]["decision"], "rejected");
    assert_eq!(
        rejected["predicate"]["reason"],
        "not the release we expected"
    );
    assert_eq!(rejected["predicate"]["approver"]["keyId"], bob_id.as_str());
    assert_eq!(statement_of(&first)["predicate"]["decision"], "approved");

    let js = sigstore_js(&first, &[&d.join("bob.pub"), &d.join("alice.pub")]);
    assert_eq!(js.status.code(), Some(0), "{}", said(&js));
    let js = sigstore_js(&second, &[&d.join("bob.pub")]);
    assert_eq!(js.status.code(), Some(0), "{}", said(&js));
}

/// Hex SHA-256 of the DER inside a `PUBLIC KEY` PEM.
fn bob_key_id(pem: &[u8]) -> String {
    let text = String::from_utf8_lossy(pem);
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("base64");
    test_support::cases::sha256_hex(&der)
}

#[test]
fn an_envelope_signed_by_python_cryptography_verifies_in_airlock() {
    let bundle = "oci-layout-gzip.tar";
    let dir = workdir(bundle);
    let d = dir.path();
    keygen(d, "sender");
    let out = airlock(&["seal", bundle, "--key", "sender.key"], d);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    // Python re-signs the statement Airlock made, with a key of its own.
    let statement = d.join("statement.json");
    let seal = d.join(format!("{bundle}.seal.sigstore.json"));
    std::fs::write(
        &statement,
        serde_json::to_vec(&statement_of(&seal)).expect("json"),
    )
    .expect("writes");
    for (payload_type, want) in [("application/vnd.in-toto+json", 0), ("application/json", 1)] {
        let py_pub = d.join("python.pub");
        let signed = python(
            "dsse_sign.py",
            &[&py_pub, &statement, Path::new(payload_type)],
            "",
        );
        assert!(signed.status.success(), "{}", said(&signed));
        std::fs::write(d.join("python.sigstore.json"), &signed.stdout).expect("writes");
        let out = airlock(
            &[
                "verify",
                bundle,
                "--seal",
                "python.sigstore.json",
                "--trust",
                "python.pub",
            ],
            d,
        );
        assert_eq!(
            out.status.code(),
            Some(want),
            "{payload_type}: {}",
            said(&out)
        );
        if want == 1 {
            assert!(
                said(&out).contains("payloadType is `application/json`"),
                "{}",
                said(&out)
            );
        }
        std::fs::remove_file(&py_pub).expect("removes");
    }
}

#[test]
fn cosign_format_keys_cross_between_python_and_airlock() {
    let bundle = "containerd-export.tar";
    let dir = workdir(bundle);
    let d = dir.path();

    // Python writes (N = 65536, as current cosign does); Airlock seals with it.
    let written = python(
        "cosign_key.py",
        &[Path::new("write"), &d.join("py.key"), &d.join("py.pub")],
        &format!("{PASSWORD}\n"),
    );
    assert!(written.status.success(), "{}", said(&written));
    let out = airlock(&["seal", bundle, "--key", "py.key"], d);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let ok = airlock(
        &[
            "verify",
            bundle,
            "--seal",
            &format!("{bundle}.seal.sigstore.json"),
            "--trust",
            "py.pub",
        ],
        d,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", said(&ok));

    // Airlock writes; Python opens it to the same public key.
    keygen(d, "airlock");
    let read = python(
        "cosign_key.py",
        &[Path::new("read"), &d.join("airlock.key")],
        &format!("{PASSWORD}\n"),
    );
    assert!(read.status.success(), "{}", said(&read));
    assert_eq!(
        String::from_utf8_lossy(&read.stdout),
        std::fs::read_to_string(d.join("airlock.pub")).expect("pub")
    );
    let wrong = python(
        "cosign_key.py",
        &[Path::new("read"), &d.join("airlock.key")],
        "not the passphrase\n",
    );
    assert!(!wrong.status.success(), "{}", said(&wrong));
}

#[test]
fn bad_keys_and_bundles_are_refused_with_what_was_wrong() {
    let bundle = "docker-save-legacy.tar";
    let dir = workdir(bundle);
    let d = dir.path();
    keygen(d, "sender");

    // Wrong passphrase, from stdin.
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["seal", bundle, "--key", "sender.key", "--password-stdin"])
        .current_dir(d)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"guess\n")
        .expect("feeds");
    let out = child.wait_with_output().expect("ends");
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(
        said(&out).contains("sender.key: wrong passphrase"),
        "{}",
        said(&out)
    );
    assert!(!d.join(format!("{bundle}.seal.sigstore.json")).exists());

    // A garbled key file.
    let mut garbled = std::fs::read_to_string(d.join("sender.key")).expect("key");
    garbled.insert_str(60, "!!");
    std::fs::write(d.join("garbled.key"), garbled).expect("writes");
    let out = airlock(&["seal", bundle, "--key", "garbled.key"], d);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(
        said(&out).contains("garbled.key: not a PEM file"),
        "{}",
        said(&out)
    );

    // A failing bundle is not sealed.
    let mut broken = std::fs::read(d.join(bundle)).expect("bundle");
    let at = broken.len() / 2;
    broken[at] ^= 0xff;
    std::fs::write(d.join("broken.tar"), broken).expect("writes");
    let out = airlock(&["seal", "broken.tar", "--key", "sender.key"], d);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("failed verification; not sealed"),
        "{}",
        said(&out)
    );
    assert!(!d.join("broken.tar.seal.sigstore.json").exists());
    assert!(!d.join("broken.tar.sha256").exists());
}
