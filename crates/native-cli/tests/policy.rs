//! `--policy` on `load`, `push` and `verify` as a site runs it: keys made,
//! bundles sealed and approved with the CLI, then imported (or refused,
//! with the rule and the file named, exit 1, the target untouched) under a
//! policy file; mistakes in the policy are usage errors (exit 2) before the
//! bundle is read.

mod support;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use airlock_custody::{PrivateKey, SealPredicate, Statement, Subject, sign_statement};
use base64::Engine;
use support::registry::{PASSWORD as REGISTRY_PASSWORD, Registry, USER};
use support::said;
use test_support::corpus_dir;

const PASSWORD: &str = "correct horse battery staple";
const BUNDLE: &str = "podman-docker-archive-multi.tar";

/// A site: a directory with the bundle, `keys/` holding a sender and two
/// approvers made by `airlock keygen`, the bundle sealed by the sender,
/// and an empty OCI layout directory to import into.
struct Site {
    dir: tempfile::TempDir,
}

impl Site {
    fn new() -> Self {
        let site = Self {
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        std::fs::copy(corpus_dir().join("good").join(BUNDLE), site.path(BUNDLE))
            .expect("the shared corpus (../shared/corpus/good) must be present");
        std::fs::create_dir(site.path("keys")).expect("keys dir");
        std::fs::create_dir(site.path("layout")).expect("layout dir");
        for name in ["sender", "alice", "bob", "stranger"] {
            site.ok(&["keygen", &format!("keys/{name}")]);
        }
        site.ok(&["seal", BUNDLE, "--key", "keys/sender.key"]);
        site
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_airlock"))
            .args(args)
            .current_dir(self.dir.path())
            .env("AIRLOCK_PASSWORD", PASSWORD)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("the airlock binary runs")
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", said(&out));
        out
    }

    fn approve(&self, who: &str) {
        self.ok(&["approve", BUNDLE, "--key", &format!("keys/{who}.key")]);
    }

    /// Writes `policy.toml` with these `[rules]` lines.
    fn policy(&self, rules: &str) {
        let text = format!(
            "[keys]\nsenders = [\"keys/sender.pub\"]\n\
             approvers = [\"keys/alice.pub\", \"keys/bob.pub\"]\n[rules]\n{rules}\n"
        );
        std::fs::write(self.path("policy.toml"), text).expect("writes the policy");
    }

    /// `load BUNDLE --to oci:layout --policy policy.toml` with `extra`.
    fn load(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "load",
            BUNDLE,
            "--to",
            "oci:layout",
            "--policy",
            "policy.toml",
        ];
        args.extend(extra);
        self.run(&args)
    }

    /// A load the policy refuses: exit 1, every `words` in what it said,
    /// and the layout as it was.
    fn refused(&self, extra: &[&str], words: &[&str]) -> String {
        let before = support::tree(&self.path("layout"));
        let out = self.load(extra);
        let text = said(&out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        for word in words {
            assert!(text.contains(word), "missing {word:?} in {text}");
        }
        assert!(text.contains("nothing was imported"), "{text}");
        assert_eq!(support::tree(&self.path("layout")), before, "{text}");
        text
    }

    fn key_id(&self, name: &str) -> String {
        let pem = std::fs::read_to_string(self.path(&format!("keys/{name}.pub"))).expect("pub");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64");
        test_support::cases::sha256_hex(&der)
    }

    fn seal_file(&self) -> PathBuf {
        self.path(&format!("{BUNDLE}.seal.sigstore.json"))
    }
}

#[test]
fn a_sealed_and_approved_bundle_is_imported_and_audited() {
    let site = Site::new();
    site.approve("alice");
    site.approve("bob");
    site.policy(
        "approvals_required = 2\n\
         allowed_images = [\"localhost/airlock/*\"]\n\
         max_bundle_bytes = \"50MiB\"\nfail_on = [\"setuid-file\"]",
    );
    let out = site.load(&["--audit-log", "audit.jsonl"]);
    let text = said(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("policy policy.toml: admitted"), "{text}");
    assert!(
        text.contains(&format!(
            "sealed by {} (keys/sender.pub)",
            site.key_id("sender")
        )),
        "{text}"
    );
    assert!(text.contains("approvals: 2 of 2 required"), "{text}");
    assert!(text.contains("layout: 2 image(s)"), "{text}");
    let index = std::fs::read_to_string(site.path("layout/index.json")).expect("index.json");
    assert!(index.contains("localhost/airlock/micro:1.0"), "{index}");

    let log = std::fs::read_to_string(site.path("audit.jsonl")).expect("the audit log");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 1, "{log}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).expect("one JSON line");
    assert_eq!(line["command"], "load");
    assert_eq!(line["result"], "imported");
    assert_eq!(line["target"], "oci:layout");
    assert_eq!(line["policy"], "policy.toml");
    let sha = test_support::cases::sha256_hex(&std::fs::read(site.path(BUNDLE)).expect("bundle"));
    assert_eq!(line["bundle_sha256"], sha.as_str());
    assert_eq!(line["seal_key_id"], site.key_id("sender").as_str());
    let mut approvers: Vec<String> = line["approver_key_ids"]
        .as_array()
        .expect("approver ids")
        .iter()
        .map(|v| v.as_str().expect("hex").to_owned())
        .collect();
    approvers.sort();
    let mut want = vec![site.key_id("alice"), site.key_id("bob")];
    want.sort();
    assert_eq!(approvers, want);
    let images = line["images"].as_array().expect("images");
    assert_eq!(images.len(), 2, "{line}");
    let time = line["time"].as_str().expect("time");
    assert!(
        time.len() == 20 && time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{time}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(site.path("audit.jsonl"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A refused run appends its own line; verify --policy --json carries
    // the same answer as an object.
    site.policy("approvals_required = 2\nallowed_images = [\"docker.io/library/*\"]");
    site.refused(&["--audit-log", "audit.jsonl"], &["rules.allowed_images"]);
    let log = std::fs::read_to_string(site.path("audit.jsonl")).expect("the audit log");
    let second: serde_json::Value =
        serde_json::from_str(log.lines().nth(1).expect("a second line")).expect("json");
    assert_eq!(second["result"], "refused");
    assert!(
        second["reason"]
            .as_str()
            .is_some_and(|r| r.contains("rules.allowed_images")),
        "{second}"
    );
    let out = site.run(&["verify", BUNDLE, "--policy", "policy.toml", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["verdict"], "ok");
    assert_eq!(report["policy"]["admitted"], false);
    assert_eq!(report["policy"]["file"], "policy.toml");
    let by: Vec<&str> = report["policy"]["approvals"]["approved_by"]
        .as_array()
        .expect("approved_by")
        .iter()
        .filter_map(|a| a["key"].as_str())
        .collect();
    assert!(
        by.contains(&"keys/alice.pub") && by.contains(&"keys/bob.pub"),
        "{by:?}"
    );
    assert_eq!(
        report["policy"]["refusals"][0]["rule"],
        "rules.allowed_images"
    );
}

#[test]
fn a_seal_by_an_unlisted_key_or_for_another_bundle_is_refused() {
    let site = Site::new();
    site.approve("alice");
    site.policy("approvals_required = 1");
    // Sealed again by a key the policy does not list.
    site.ok(&["seal", BUNDLE, "--key", "keys/stranger.key"]);
    site.refused(
        &[],
        &[
            "refused by keys.senders",
            &format!("{BUNDLE}.seal.sigstore.json"),
            "not one of the 1 trusted key(s)",
        ],
    );
    // The sender's seal of another bundle, given with --seal.
    std::fs::copy(
        corpus_dir().join("good/oci-layout-gzip.tar"),
        site.path("other.tar"),
    )
    .expect("corpus");
    site.ok(&["seal", "other.tar", "--key", "keys/sender.key"]);
    site.refused(
        &["--seal", "other.tar.seal.sigstore.json"],
        &[
            "keys.senders: other.tar.seal.sigstore.json",
            "is for a bundle with SHA-256",
        ],
    );
    // No seal at all.
    std::fs::remove_file(site.seal_file()).expect("removes");
    site.refused(&[], &["keys.senders", "the bundle has no seal"]);
}

#[test]
fn a_seal_with_extra_subjects_or_another_payload_type_is_refused() {
    let site = Site::new();
    site.policy("approvals_required = 0");
    let json = std::fs::read(site.seal_file()).expect("the seal");
    let bundle: serde_json::Value = serde_json::from_slice(&json).expect("json");

    // Re-signed by the sender, with one more image than the bundle holds.
    let payload = base64::engine::general_purpose::STANDARD
        .decode(bundle["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("base64");
    let mut statement: Statement<SealPredicate> =
        serde_json::from_slice(&payload).expect("a seal statement");
    statement.subject.push(Subject {
        name: "docker.io/library/smuggled:1".to_owned(),
        sha256: verify_core::Sha256::of(b"a manifest"),
    });
    let pem = std::fs::read_to_string(site.path("keys/sender.key")).expect("key");
    let key = PrivateKey::decrypt(&pem, PASSWORD.as_bytes()).expect("opens");
    let extra = sign_statement(&statement, &key).expect("signs");
    std::fs::write(site.path("extra.json"), extra.to_json()).expect("writes");
    site.refused(
        &["--seal", "extra.json"],
        &["keys.senders: extra.json", "docker.io/library/smuggled:1"],
    );

    // The envelope's payloadType changed.
    let mut wrong = bundle.clone();
    wrong["dsseEnvelope"]["payloadType"] = "application/json".into();
    std::fs::write(site.path("type.json"), wrong.to_string()).expect("writes");
    site.refused(
        &["--seal", "type.json"],
        &["keys.senders: type.json", "application/json"],
    );
    // The original still admits it.
    let out = site.load(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}

#[test]
fn approvals_count_once_per_listed_key_for_this_bundle_and_a_rejection_refuses() {
    let site = Site::new();
    site.policy("approvals_required = 2");
    let plain = site.path(&format!("{BUNDLE}.approval.sigstore.json"));

    // Alice twice: one key, one approval.
    site.approve("alice");
    std::fs::rename(&plain, site.path("alice-1.json")).expect("renames");
    site.approve("alice");
    std::fs::rename(&plain, site.path("alice-2.json")).expect("renames");
    site.refused(
        &["--approval", "alice-1.json", "--approval", "alice-2.json"],
        &[
            "rules.approvals_required: 1 distinct approver key(s) approved this bundle; 2 required",
            "alice-2.json",
            "a key counts once",
        ],
    );

    // A stranger's approval beside the bundle does not count.
    site.ok(&["approve", BUNDLE, "--key", "keys/stranger.key"]);
    site.refused(
        &[],
        &[
            "rules.approvals_required: 0 distinct",
            "not counted",
            "not one of the 2 trusted key(s)",
        ],
    );
    std::fs::remove_file(&plain).expect("removes");

    // Bob's approval of another bundle does not count either.
    std::fs::copy(
        corpus_dir().join("good/oci-layout-gzip.tar"),
        site.path("other.tar"),
    )
    .expect("corpus");
    site.ok(&["approve", "other.tar", "--key", "keys/bob.key"]);
    site.refused(
        &[
            "--approval",
            "alice-1.json",
            "--approval",
            "other.tar.approval.sigstore.json",
        ],
        &[
            "other.tar.approval.sigstore.json",
            "is for a bundle with SHA-256",
        ],
    );

    // Bob rejects this one: refused, whoever approved.
    site.ok(&[
        "approve",
        BUNDLE,
        "--key",
        "keys/bob.key",
        "--reject",
        "wrong release",
    ]);
    std::fs::copy(
        site.path("alice-1.json"),
        site.path(&format!("{BUNDLE}.approval-alice.sigstore.json")),
    )
    .expect("copies");
    site.policy("approvals_required = 1");
    site.refused(
        &[],
        &[
            "refused by keys.approvers",
            &format!(
                "rejected by {} (keys/bob.pub): wrong release",
                site.key_id("bob")
            ),
        ],
    );
    // Without the rejection, Alice's approval found beside the bundle is enough.
    std::fs::remove_file(&plain).expect("removes");
    let out = site.load(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}

#[test]
fn rules_on_the_report_refuse_by_name() {
    let site = Site::new();
    site.policy("approvals_required = 0\nallowed_images = [\"localhost/airlock/micro\"]");
    site.refused(
        &[],
        &["refused by rules.allowed_images: image localhost/airlock/tools:2.0 is not allowed"],
    );
    site.policy("approvals_required = 0\nmax_bundle_bytes = \"1MiB\"");
    site.refused(
        &[],
        &["refused by rules.max_bundle_bytes", "at most 1048576"],
    );
    // Without the sums file the report warns that no digest was recorded.
    std::fs::remove_file(site.path(&format!("{BUNDLE}.sha256"))).expect("removes");
    site.policy("approvals_required = 0\nfail_on = [\"no-recorded-digest\"]");
    site.refused(
        &[],
        &["refused by rules.fail_on", "1 `no-recorded-digest` finding"],
    );
    site.policy("approvals_required = 0");
    let out = site.load(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}

#[test]
fn policy_mistakes_are_usage_errors_before_the_bundle_is_read() {
    let site = Site::new();
    let cases: [(&str, &str, &[&str]); 4] = [
        (
            "unknown field",
            "[keys]\nsenders = [\"keys/sender.pub\"]\n[rules]\napprovals_required = 0\napproval_required = 1\n",
            &["policy.toml", "unknown field `approval_required`"],
        ),
        (
            "missing key",
            "[keys]\nsenders = [\"keys/sender.pub\"]\napprovers = [\"keys/carol.pub\"]\n[rules]\napprovals_required = 1\n",
            &["policy.toml: keys.approvers: keys/carol.pub"],
        ),
        (
            "bad glob",
            "[keys]\nsenders = [\"keys/sender.pub\"]\n[rules]\napprovals_required = 0\nallowed_images = [\"localhost/{a,b\"]\n",
            &["policy.toml: rules.allowed_images", "localhost/{a,b"],
        ),
        ("not TOML", "[keys\n", &["policy.toml", "line 1"]),
    ];
    for (what, text, words) in cases {
        std::fs::write(site.path("policy.toml"), text).expect("writes");
        // The bundle named does not exist: a usage error about the policy
        // shows it was never opened.
        for bundle in [BUNDLE, "absent.tar"] {
            let out = site.run(&[
                "load",
                bundle,
                "--to",
                "oci:layout",
                "--policy",
                "policy.toml",
            ]);
            let said = said(&out);
            assert_eq!(out.status.code(), Some(2), "{what}: {said}");
            for word in words {
                assert!(said.contains(word), "{what}: missing {word:?} in {said}");
            }
            assert!(!said.contains("absent.tar"), "{what}: {said}");
        }
        assert_eq!(support::tree(&site.path("layout")), Vec::new(), "{what}");
    }
    // --seal and --approval mean nothing without a policy.
    let out = site.run(&["load", BUNDLE, "--to", "oci:layout", "--seal", "x.json"]);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(said(&out).contains("--policy"), "{}", said(&out));
    // A wrong passphrase makes no approval.
    let out = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["approve", BUNDLE, "--key", "keys/alice.key"])
        .current_dir(site.dir.path())
        .env("AIRLOCK_PASSWORD", "guess")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(
        said(&out).contains("keys/alice.key: wrong passphrase"),
        "{}",
        said(&out)
    );
    assert!(
        !site
            .path(&format!("{BUNDLE}.approval.sigstore.json"))
            .exists()
    );
}

#[test]
fn verify_trust_still_checks_the_seal_beside_the_bundle() {
    let site = Site::new();
    let out = site.run(&["verify", BUNDLE, "--trust", "keys/sender.pub"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert!(said(&out).contains("seal: ok, signed by"), "{}", said(&out));
    let out = site.run(&["verify", BUNDLE, "--trust", "keys/alice.pub"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("seal: REFUSED: keys.senders"),
        "{}",
        said(&out)
    );
    // The keys come from one place.
    std::fs::write(site.path("policy.toml"), "").expect("writes");
    let out = site.run(&[
        "verify",
        BUNDLE,
        "--trust",
        "keys/alice.pub",
        "--policy",
        "policy.toml",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
}

/// A push the policy refuses tags nothing in a real registry.
#[test]
fn a_refused_push_leaves_no_tag() {
    let site = Site::new();
    site.policy("approvals_required = 1");
    let registry = Registry::start("registry-policy");
    let ca = registry.ca.to_str().expect("utf-8").to_owned();
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args([
            "push",
            "--ca-cert",
            &ca,
            "--user",
            USER,
            "--password-stdin",
            "--policy",
            "policy.toml",
            "--audit-log",
            "audit.jsonl",
            BUNDLE,
        ])
        .arg(format!("{}/site", registry.host()))
        .current_dir(site.dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("airlock starts");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{REGISTRY_PASSWORD}").expect("password");
    }
    let out = child.wait_with_output().expect("airlock ends");
    let text = said(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("rules.approvals_required: 0 distinct"),
        "{text}"
    );
    for repo in registry.catalog() {
        let (status, _, body) = registry.get(&format!("/v2/{repo}/tags/list"), "*/*");
        let tags: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert!(
            status == 404 || tags["tags"].as_array().is_none_or(Vec::is_empty),
            "{repo} has tags: {tags}"
        );
    }
    let stored: Vec<PathBuf> = support::tree(&registry.storage)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.components().any(|c| c.as_os_str() == "_manifests"))
        .collect();
    assert_eq!(stored, Vec::<PathBuf>::new());
    let log = std::fs::read_to_string(site.path("audit.jsonl")).expect("log");
    let line: serde_json::Value = serde_json::from_str(log.trim()).expect("json");
    assert_eq!(line["command"], "push");
    assert_eq!(line["result"], "refused");
    assert!(
        line["target"]
            .as_str()
            .is_some_and(|t| t.ends_with("/site")),
        "{line}"
    );
}
