//! A site's policy over a verified bundle: seals, counted approvals,
//! rejections and the rules on the report, each refusal naming its rule.

use airlock_custody::approval::Tool;
use airlock_custody::policy::ImagePatterns;
use airlock_custody::statement::PredicateKind;
use airlock_custody::{
    ApprovalPredicate, Decision, Expected, ImageSubject, ListedKey, Policy, PolicyError,
    PrivateKey, Rule, Rules, SealPredicate, SignedFile, Statement, Subject, sign_statement,
};
use verify_core::{FindingKind, Report, Sha256};

fn expected() -> Expected {
    Expected {
        bundle_sha256: Sha256::of(b"the bundle"),
        images: vec![
            ImageSubject {
                reference: "docker.io/library/postgres:16".into(),
                digest: Sha256::of(b"manifest 1"),
            },
            ImageSubject {
                reference: "localhost/airlock/app:1.0".into(),
                digest: Sha256::of(b"manifest 2"),
            },
        ],
    }
}

/// An ok report of `size` bytes with one warning of each kind in `warnings`.
fn report(size: u64, warnings: &[&str]) -> Report {
    let findings: Vec<serde_json::Value> = warnings
        .iter()
        .map(|kind| serde_json::json!({"kind": kind, "severity": "warning", "message": "m"}))
        .collect();
    serde_json::from_value(serde_json::json!({
        "verdict": "ok",
        "bundle": {"size": size, "sha256": Sha256::of(b"the bundle").to_hex(),
                   "expected_sha256": null, "sha256_matches": null,
                   "format": "oci-layout", "compression": "none", "entries": 3},
        "images": [],
        "findings": findings,
    }))
    .expect("a report")
}

fn signed<P: PredicateKind>(key: &PrivateKey, subjects: Vec<Subject>, predicate: P) -> Vec<u8> {
    sign_statement(&Statement::new(subjects, predicate), key)
        .expect("signs")
        .to_json()
        .into_bytes()
}

fn seal(key: &PrivateKey, expected: &Expected) -> Vec<u8> {
    let predicate: SealPredicate = serde_json::from_value(serde_json::json!({
        "airlockVersion": "0.1.0",
        "bundle": {"name": "b.tar", "sha256": expected.bundle_sha256.to_hex(), "size": 10,
                   "format": "oci-layout", "compression": "none"},
        "images": [],
    }))
    .expect("a seal predicate");
    signed(key, expected.subjects("b.tar"), predicate)
}

fn approval(key: &PrivateKey, decision: Decision, expected: &Expected) -> Vec<u8> {
    let predicate: ApprovalPredicate = serde_json::from_value(serde_json::json!({
        "decision": decision,
        "reason": "not this week",
        "approver": {"keyId": key.public_key().key_id().to_hex()},
        "time": "2026-01-02T03:04:05Z",
        "tool": Tool::new("airlock", "0.1.0", None),
        "verdict": "ok",
        "findingKinds": [],
    }))
    .expect("an approval predicate");
    signed(key, expected.subjects("b.tar"), predicate)
}

fn listed(key: &PrivateKey, label: &str) -> ListedKey {
    ListedKey {
        key: key.public_key().clone(),
        label: label.to_owned(),
    }
}

struct Site {
    sender: PrivateKey,
    alice: PrivateKey,
    bob: PrivateKey,
    policy: Policy,
}

fn site(rules: Rules) -> Site {
    let sender = PrivateKey::generate().expect("key");
    let alice = PrivateKey::generate().expect("key");
    let bob = PrivateKey::generate().expect("key");
    let policy = Policy::new(
        vec![listed(&sender, "keys/sender.pub")],
        vec![
            listed(&alice, "keys/alice.pub"),
            listed(&bob, "keys/bob.pub"),
        ],
        rules,
    )
    .expect("a valid policy");
    Site {
        sender,
        alice,
        bob,
        policy,
    }
}

fn file<'a>(name: &'a str, json: &'a [u8]) -> SignedFile<'a> {
    SignedFile { name, json }
}

#[test]
fn a_sealed_bundle_with_enough_approvals_is_admitted() {
    let s = site(Rules::new(2));
    let e = expected();
    let sealed = seal(&s.sender, &e);
    let a = approval(&s.alice, Decision::Approved, &e);
    let b = approval(&s.bob, Decision::Approved, &e);
    let got = s.policy.evaluate(
        &report(10, &[]),
        &e,
        Some(file("b.tar.seal.sigstore.json", &sealed)),
        &[file("a.json", &a), file("b.json", &b)],
    );
    assert!(got.admitted, "{:?}", got.refusals);
    let sealed_by = got.sealed_by.expect("sealed");
    assert_eq!(sealed_by.key_id, s.sender.public_key().key_id().to_hex());
    assert_eq!(sealed_by.key, "keys/sender.pub");
    let by: Vec<&str> = got
        .approvals
        .approved_by
        .iter()
        .map(|a| a.key.as_str())
        .collect();
    assert_eq!(by, ["keys/alice.pub", "keys/bob.pub"]);
}

#[test]
fn one_key_approving_twice_counts_once() {
    let s = site(Rules::new(2));
    let e = expected();
    let sealed = seal(&s.sender, &e);
    let a = approval(&s.alice, Decision::Approved, &e);
    let again = approval(&s.alice, Decision::Approved, &e);
    let got = s.policy.evaluate(
        &report(10, &[]),
        &e,
        Some(file("seal", &sealed)),
        &[file("a1.json", &a), file("a2.json", &again)],
    );
    assert!(!got.admitted);
    assert_eq!(got.approvals.approved_by.len(), 1);
    assert_eq!(got.refusals.len(), 1, "{:?}", got.refusals);
    let refusal = &got.refusals[0];
    assert_eq!(refusal.rule, Rule::ApprovalsRequired);
    assert!(
        refusal.message.contains("1 distinct approver key(s)"),
        "{refusal}"
    );
    assert!(refusal.message.contains("a2.json"), "{refusal}");
    assert!(refusal.message.contains("counts once"), "{refusal}");
}

#[test]
fn a_listed_rejection_refuses_whatever_others_said() {
    let s = site(Rules::new(1));
    let e = expected();
    let sealed = seal(&s.sender, &e);
    let a = approval(&s.alice, Decision::Approved, &e);
    let b = approval(&s.bob, Decision::Rejected, &e);
    let got = s.policy.evaluate(
        &report(10, &[]),
        &e,
        Some(file("seal", &sealed)),
        &[file("a.json", &a), file("b.json", &b)],
    );
    assert!(!got.admitted);
    assert_eq!(got.refusals.len(), 1, "{:?}", got.refusals);
    assert_eq!(got.refusals[0].rule, Rule::Approvers);
    assert_eq!(got.refusals[0].file.as_deref(), Some("b.json"));
    assert!(got.refusals[0].message.contains("not this week"));
    assert!(got.refusals[0].message.contains("keys/bob.pub"));
}

#[test]
fn unlisted_and_foreign_approvals_do_not_count_and_say_why() {
    let s = site(Rules::new(1));
    let e = expected();
    let sealed = seal(&s.sender, &e);
    let stranger = PrivateKey::generate().expect("key");
    let unlisted = approval(&stranger, Decision::Approved, &e);
    let mut other = expected();
    other.bundle_sha256 = Sha256::of(b"another bundle");
    let foreign = approval(&s.alice, Decision::Approved, &other);
    // A stranger's rejection does not refuse either.
    let noise = approval(&stranger, Decision::Rejected, &e);
    let got = s.policy.evaluate(
        &report(10, &[]),
        &e,
        Some(file("seal", &sealed)),
        &[
            file("stranger.json", &unlisted),
            file("old.json", &foreign),
            file("noise.json", &noise),
        ],
    );
    assert!(!got.admitted);
    assert_eq!(got.approvals.not_counted.len(), 3);
    assert_eq!(got.refusals.len(), 1, "{:?}", got.refusals);
    let message = &got.refusals[0].message;
    assert_eq!(got.refusals[0].rule, Rule::ApprovalsRequired);
    assert!(
        message.contains("stranger.json: signed by key"),
        "{message}"
    );
    assert!(
        message.contains("which is not one of the 2 trusted key(s)"),
        "{message}"
    );
    assert!(
        message.contains("old.json: the statement is for a bundle with SHA-256"),
        "{message}"
    );
}

#[test]
fn the_seal_must_be_there_and_by_a_sender_for_this_bundle() {
    let s = site(Rules::new(0));
    let e = expected();
    let none = s.policy.evaluate(&report(10, &[]), &e, None, &[]);
    assert_eq!(none.refusals.len(), 1);
    assert_eq!(none.refusals[0].rule, Rule::Senders);
    assert!(none.refusals[0].message.contains("no seal"));

    // Sealed by an approver, who is no sender.
    let by_alice = seal(&s.alice, &e);
    let got = s
        .policy
        .evaluate(&report(10, &[]), &e, Some(file("s.json", &by_alice)), &[]);
    assert_eq!(got.refusals[0].rule, Rule::Senders);
    assert_eq!(got.refusals[0].file.as_deref(), Some("s.json"));
    assert!(
        got.refusals[0]
            .message
            .contains("not one of the 1 trusted key(s)")
    );

    // A seal with an extra image.
    let mut more = expected();
    more.images.push(ImageSubject {
        reference: "docker.io/library/extra:1".into(),
        digest: Sha256::of(b"manifest 3"),
    });
    let extra = seal(&s.sender, &more);
    let got = s
        .policy
        .evaluate(&report(10, &[]), &e, Some(file("s.json", &extra)), &[]);
    assert_eq!(got.refusals[0].rule, Rule::Senders);
    assert!(
        got.refusals[0]
            .message
            .contains("docker.io/library/extra:1")
    );
    assert!(got.sealed_by.is_none());
}

#[test]
fn the_rules_on_the_report_name_themselves() {
    let mut rules = Rules::new(0);
    rules.allowed_images =
        Some(ImagePatterns::new(&["docker.io/library/postgres".to_owned()]).expect("patterns"));
    rules.max_bundle_bytes = Some(100);
    rules.fail_on = vec![FindingKind::HardlinkedFile];
    let s = site(rules);
    let e = expected();
    let sealed = seal(&s.sender, &e);
    let got = s.policy.evaluate(
        &report(101, &["hardlinked-file", "hardlinked-file", "setuid-file"]),
        &e,
        Some(file("seal", &sealed)),
        &[],
    );
    let rules: Vec<Rule> = got.refusals.iter().map(|r| r.rule).collect();
    assert_eq!(
        rules,
        [Rule::AllowedImages, Rule::MaxBundleBytes, Rule::FailOn],
        "{:?}",
        got.refusals
    );
    assert!(
        got.refusals[0]
            .message
            .contains("localhost/airlock/app:1.0")
    );
    assert!(got.refusals[1].message.contains("101 bytes"));
    assert!(got.refusals[2].message.contains("2 `hardlinked-file`"));
    // At the limit, and with the warning absent, it passes.
    let ok = s.policy.evaluate(
        &report(100, &["setuid-file"]),
        &e,
        Some(file("seal", &sealed)),
        &[],
    );
    assert_eq!(
        ok.refusals.len(),
        1,
        "only the image rule: {:?}",
        ok.refusals
    );
}

#[test]
fn policies_that_cannot_mean_anything_are_refused() {
    let k = PrivateKey::generate().expect("key");
    let no_senders = Policy::new(vec![], vec![], Rules::new(0)).expect_err("no senders");
    assert_eq!(no_senders, PolicyError::NoSenders);
    // The same key listed twice is one approver.
    let twice = Policy::new(
        vec![listed(&k, "s.pub")],
        vec![listed(&k, "a.pub"), listed(&k, "a-again.pub")],
        Rules::new(2),
    )
    .expect_err("one distinct approver");
    assert!(
        twice.to_string().contains("rules.approvals_required"),
        "{twice}"
    );
    let mut rules = Rules::new(0);
    rules.fail_on = vec![FindingKind::MissingBlob];
    let error_kind =
        Policy::new(vec![listed(&k, "s.pub")], vec![], rules).expect_err("an error kind");
    assert!(
        error_kind.to_string().contains("missing-blob"),
        "{error_kind}"
    );
}
