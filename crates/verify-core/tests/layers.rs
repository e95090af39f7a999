//! What the core finds inside the layers of a bundle whose outer tar and
//! digests are all correct: the hostile layer tar the issue describes
//! (`../../../../tmp/x` in a last layer), entry types Docker cannot
//! extract, and the warnings an approver should see.

use serde_json::{Value, json};
use test_support::images::{Layer, docker_archive, layer_tar};
use verify_core::{Finding, FindingKind, Options, Report, Verdict, Verifier};

fn verify(bundle: &[u8], chunk: usize) -> Report {
    let mut v = Verifier::new(Options::default());
    for piece in bundle.chunks(chunk) {
        let _ = v.update(piece);
    }
    v.finish()
}

fn base() -> Vec<u8> {
    layer_tar(&[
        ("etc/", b'5', 0o755, b"", ""),
        ("etc/os-release", b'0', 0o644, b"ID=debian\n", ""),
        ("bin/", b'5', 0o755, b"", ""),
        ("bin/sh", b'0', 0o755, b"#!", ""),
    ])
}

fn layer_findings(report: &Report) -> Vec<&Finding> {
    report
        .findings()
        .iter()
        .filter(|f| f.layer.is_some())
        .collect()
}

fn no_history() -> Value {
    json!([])
}

#[test]
fn a_last_layer_that_climbs_out_fails_and_says_where() {
    let evil = layer_tar(&[
        ("tmp/", b'5', 0o1777, b"", ""),
        ("../../../../tmp/x", b'0', 0o644, b"owned", ""),
    ]);
    let evil_digest = test_support::cases::digest_of(&test_support::cases::gzip(&evil));
    let bundle = docker_archive(
        "app:1.0",
        &[Layer::plain(base()), Layer::gzip(evil)],
        json!({}),
        no_history(),
    );
    for chunk in [bundle.len(), 4099, 511] {
        let report = verify(&bundle, chunk);
        assert_eq!(report.verdict(), Verdict::Fail, "chunk {chunk}");
        let found = layer_findings(&report);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = found[0];
        assert_eq!(f.kind, FindingKind::LayerUnsafePath);
        assert_eq!(f.entry.as_deref(), Some("../../../../tmp/x"));
        assert_eq!(f.offset, Some(512), "the offset inside the layer");
        assert_eq!(f.image.as_deref(), Some("docker.io/library/app:1.0"));
        assert_eq!(
            f.layer.map(|d| format!("sha256:{d}")),
            Some(evil_digest.clone())
        );
    }
}

#[test]
fn layer_findings_are_reported_once_per_blob() {
    let setuid = layer_tar(&[("usr/bin/passwd", b'0', 0o4755, b"elf", "")]);
    // The same blob twice in one image: one warning, not two.
    let bundle = docker_archive(
        "app:1.0",
        &[Layer::plain(setuid.clone()), Layer::plain(setuid)],
        json!({}),
        no_history(),
    );
    let report = verify(&bundle, 1000);
    assert_eq!(report.verdict(), Verdict::Ok, "{:?}", report.findings());
    let kinds: Vec<FindingKind> = layer_findings(&report).iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FindingKind::SetuidFile]);
}

#[test]
fn a_layer_docker_cannot_extract_fails_the_bundle() {
    for (name, kind) in [("dumpdir", b'D'), ("contiguous", b'7')] {
        let odd = layer_tar(&[("x", b'0', 0o644, b"", ""), (name, kind, 0o644, b"", "")]);
        let bundle = docker_archive("app:1.0", &[Layer::gzip(odd)], json!({}), no_history());
        let report = verify(&bundle, 4096);
        assert_eq!(report.verdict(), Verdict::Fail, "{name}");
        let found = layer_findings(&report);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, FindingKind::LayerTarInvalid);
        assert_eq!(found[0].entry.as_deref(), Some(name));
        assert_eq!(found[0].offset, Some(512));
    }
}

#[test]
fn a_layer_that_is_not_a_tar_fails() {
    let junk = vec![b'{'; 4096];
    let bundle = docker_archive("app:1.0", &[Layer::gzip(junk)], json!({}), no_history());
    let report = verify(&bundle, 4096);
    assert_eq!(report.verdict(), Verdict::Fail);
    let found = layer_findings(&report);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].kind, FindingKind::LayerTarInvalid);
    assert!(
        found[0].message.contains("not a tar"),
        "{}",
        found[0].message
    );
}

#[test]
fn the_config_is_summarized_for_the_approver() {
    let bundle = docker_archive(
        "app:1.0",
        &[Layer::plain(base())],
        json!({
            "Entrypoint": ["/bin/sh", "-c"],
            "Cmd": ["serve"],
            "Env": ["PATH=/bin", "AWS_SECRET_ACCESS_KEY=abc"],
            "ExposedPorts": {"8080/tcp": {}},
        }),
        json!([
            {"created_by": "ADD base.tar /"},
            {"created_by": "CMD [\"serve\"]", "empty_layer": true},
        ]),
    );
    let report = verify(&bundle, 777);
    assert_eq!(report.verdict(), Verdict::Ok, "{:?}", report.findings());
    let config = report.images()[0].config.as_ref().expect("a summary");
    assert!(config.runs_as_root);
    assert_eq!(config.cmd.as_deref(), Some(&["serve".to_owned()][..]));
    assert_eq!(config.exposed_ports, ["8080/tcp"]);
    assert_eq!(config.history.len(), 2);
    assert_eq!(config.history[0].layer, Some(0));
    assert!(config.history[1].empty_layer);
    let secret: Vec<&Finding> = report
        .findings()
        .iter()
        .filter(|f| f.kind == FindingKind::ConfigSecretEnv)
        .collect();
    assert_eq!(secret.len(), 1);
    assert_eq!(secret[0].found.as_deref(), Some("AWS_SECRET_ACCESS_KEY"));
    assert_eq!(
        secret[0].image.as_deref(),
        Some("docker.io/library/app:1.0")
    );
    // The JSON carries it for the faces.
    let json = serde_json::to_value(&report).expect("a report serializes");
    assert_eq!(json["images"][0]["config"]["env"][1]["secret"], true);
}

/// The paths kept for the trees are bounded for the whole bundle, not per
/// layer: many layers cannot each take the whole budget.
#[test]
fn the_path_budget_is_shared_by_every_layer() {
    let first = layer_tar(&[("aaaaaaaaaa", b'0', 0o644, b"", "")]);
    let second = layer_tar(&[("bbbbbbbbbb", b'0', 0o644, b"", "")]);
    let bundle = docker_archive(
        "app:1.0",
        &[Layer::plain(first), Layer::plain(second)],
        json!({}),
        no_history(),
    );
    let mut limits = verify_core::Limits::default();
    // Room for one ten-byte path, not two.
    limits.max_layer_names_total_bytes = 15;
    let mut v = Verifier::new(Options::new().with_limits(limits));
    let _ = v.update(&bundle);
    let report = v.finish();
    assert_eq!(report.verdict(), Verdict::Fail);
    let limited: Vec<&Finding> = report
        .findings()
        .iter()
        .filter(|f| f.kind == FindingKind::LimitExceeded)
        .collect();
    assert_eq!(limited.len(), 1, "{limited:?}");
    assert_eq!(limited[0].entry.as_deref(), Some("bbbbbbbbbb"));
    assert_eq!(
        limited[0].limit,
        Some(verify_core::LimitName::MaxLayerNamesTotalBytes)
    );
}
