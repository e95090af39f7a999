//! Seals and approvals through `verify`: what is accepted, and each way a
//! file is refused with its own error.

use airlock_custody::approval::Tool;
use airlock_custody::bundle::SigstoreBundle;
use airlock_custody::dsse::{DsseError, Envelope, pae};
use airlock_custody::seal::SealedFile;
use airlock_custody::statement::PredicateKind;
use airlock_custody::{
    ApprovalPredicate, Decision, Expected, ImageSubject, PrivateKey, SealPredicate, Statement,
    Subject, VerifyError, sign_statement, verify_approval, verify_seal,
};
use verify_core::Sha256;

fn expected() -> Expected {
    Expected {
        bundle_sha256: Sha256::of(b"the bundle"),
        images: vec![
            ImageSubject {
                reference: "docker.io/library/app:1.0".into(),
                digest: Sha256::of(b"manifest 1"),
            },
            ImageSubject {
                reference: "localhost/airlock/db:2".into(),
                digest: Sha256::of(b"manifest 2"),
            },
        ],
    }
}

fn seal_predicate() -> SealPredicate {
    serde_json::from_value(serde_json::json!({
        "airlockVersion": "0.1.0",
        "bundle": {"name": "b.tar", "sha256": Sha256::of(b"the bundle").to_hex(), "size": 10,
                   "format": "oci-layout", "compression": "none"},
        "images": [],
    }))
    .expect("a seal predicate")
}

fn approval(key: &PrivateKey, decision: Decision) -> ApprovalPredicate {
    serde_json::from_value(serde_json::json!({
        "decision": decision,
        "reason": "looked fine",
        "approver": {"keyId": key.public_key().key_id().to_hex(), "name": "alice"},
        "time": "2026-01-02T03:04:05Z",
        "tool": Tool::new("airlock", "0.1.0", None),
        "verdict": "ok",
        "findingKinds": [],
    }))
    .expect("an approval predicate")
}

fn signed<P: PredicateKind>(key: &PrivateKey, subjects: Vec<Subject>, predicate: P) -> Vec<u8> {
    let statement = Statement::new(subjects, predicate);
    sign_statement(&statement, key)
        .expect("signs")
        .to_json()
        .into_bytes()
}

#[test]
fn a_seal_verifies_and_names_its_key_and_subjects() {
    let sender = PrivateKey::generate().expect("key");
    let other = PrivateKey::generate().expect("key");
    let file = signed(&sender, expected().subjects("b.tar"), seal_predicate());
    let trusted = [other.public_key().clone(), sender.public_key().clone()];
    let verified = verify_seal(&file, &trusted, &expected()).expect("verifies");
    assert_eq!(verified.key_id, sender.public_key().key_id());
    assert_eq!(verified.key_index, 1);
    assert_eq!(verified.bundle_name, "b.tar");
    assert_eq!(verified.subjects.len(), 3);
    assert_eq!(verified.predicate, seal_predicate());
    // The images may come in any order.
    let mut reordered = expected();
    reordered.images.reverse();
    verify_seal(&file, &trusted, &reordered).expect("order is free");
    // The bundle's name is not bound: a renamed copy is the same bundle.
    let renamed = signed(
        &sender,
        expected().subjects("copy (1).tar"),
        seal_predicate(),
    );
    assert_eq!(
        verify_seal(&renamed, &trusted, &expected())
            .expect("verifies")
            .bundle_name,
        "copy (1).tar"
    );
}

#[test]
fn an_approval_verifies_and_carries_the_decision() {
    let alice = PrivateKey::generate().expect("key");
    let file = signed(
        &alice,
        expected().subjects("b.tar"),
        approval(&alice, Decision::Rejected),
    );
    let verified =
        verify_approval(&file, &[alice.public_key().clone()], &expected()).expect("verifies");
    assert_eq!(verified.predicate.decision, Decision::Rejected);
    assert_eq!(verified.predicate.approver.name.as_deref(), Some("alice"));
}

#[test]
fn a_key_that_is_not_trusted_is_refused_by_its_hint() {
    let sender = PrivateKey::generate().expect("key");
    let trusted = PrivateKey::generate().expect("key");
    let file = signed(&sender, expected().subjects("b.tar"), seal_predicate());
    let err =
        verify_seal(&file, &[trusted.public_key().clone()], &expected()).expect_err("refused");
    assert_eq!(
        err,
        VerifyError::UntrustedKey {
            hint: Some(sender.public_key().key_id().to_hex()),
            trusted: 1
        }
    );
    assert!(
        err.to_string().contains("not one of the 1 trusted key"),
        "{err}"
    );
}

#[test]
fn a_hint_naming_a_trusted_key_does_not_make_another_keys_signature_good() {
    let mallory = PrivateKey::generate().expect("key");
    let sender = PrivateKey::generate().expect("key");
    let mut bundle: SigstoreBundle = serde_json::from_slice(&signed(
        &mallory,
        expected().subjects("b.tar"),
        seal_predicate(),
    ))
    .expect("parses");
    bundle
        .verification_material
        .public_key
        .as_mut()
        .expect("hint")
        .hint = sender.public_key().key_id().to_hex();
    let err = verify_seal(
        bundle.to_json().as_bytes(),
        &[sender.public_key().clone()],
        &expected(),
    )
    .expect_err("refused");
    assert!(
        matches!(err, VerifyError::Envelope(DsseError::BadSignature { .. })),
        "{err:?}"
    );
}

#[test]
fn a_seal_for_another_bundle_is_refused() {
    let sender = PrivateKey::generate().expect("key");
    let mut other = expected();
    other.bundle_sha256 = Sha256::of(b"another bundle");
    let file = signed(&sender, other.subjects("b.tar"), seal_predicate());
    let err = verify_seal(&file, &[sender.public_key().clone()], &expected()).expect_err("refused");
    assert_eq!(
        err,
        VerifyError::BundleDigest {
            expected: Sha256::of(b"the bundle"),
            found: Sha256::of(b"another bundle"),
            name: "b.tar".into()
        }
    );
}

#[test]
fn extra_and_missing_image_subjects_are_refused() {
    let sender = PrivateKey::generate().expect("key");
    let trusted = [sender.public_key().clone()];
    let mut more = expected().subjects("b.tar");
    more.push(Subject {
        name: "docker.io/evil/miner:latest".into(),
        sha256: Sha256::of(b"miner"),
    });
    let err = verify_seal(
        &signed(&sender, more, seal_predicate()),
        &trusted,
        &expected(),
    )
    .expect_err("extra");
    assert_eq!(
        err,
        VerifyError::ExtraSubject {
            reference: "docker.io/evil/miner:latest".into(),
            digest: Sha256::of(b"miner")
        }
    );
    // Same reference, another digest: extra, not a match.
    let mut swapped = expected().subjects("b.tar");
    swapped[1].sha256 = Sha256::of(b"manifest 3");
    let err = verify_seal(
        &signed(&sender, swapped, seal_predicate()),
        &trusted,
        &expected(),
    )
    .expect_err("swapped");
    assert!(matches!(err, VerifyError::ExtraSubject { .. }), "{err:?}");
    let mut fewer = expected().subjects("b.tar");
    fewer.pop();
    let err = verify_seal(
        &signed(&sender, fewer, seal_predicate()),
        &trusted,
        &expected(),
    )
    .expect_err("missing");
    assert_eq!(
        err,
        VerifyError::MissingSubject {
            reference: "localhost/airlock/db:2".into(),
            digest: Sha256::of(b"manifest 2")
        }
    );
    let err = verify_seal(
        &signed(&sender, vec![], seal_predicate()),
        &trusted,
        &expected(),
    )
    .expect_err("none");
    assert_eq!(err, VerifyError::NoSubjects);
}

#[test]
fn a_wrong_payload_type_is_refused() {
    let sender = PrivateKey::generate().expect("key");
    let statement = Statement::new(expected().subjects("b.tar"), seal_predicate());
    let payload = serde_json::to_vec(&statement).expect("json");
    let envelope = Envelope::sign("application/json", payload, &sender);
    let file = SigstoreBundle::new(envelope, sender.public_key().key_id().to_hex()).to_json();
    let err = verify_seal(file.as_bytes(), &[sender.public_key().clone()], &expected())
        .expect_err("refused");
    assert!(
        matches!(err, VerifyError::Envelope(DsseError::PayloadType { ref found, .. }) if found == "application/json"),
        "{err:?}"
    );
}

#[test]
fn a_seal_is_not_an_approval_and_an_approver_must_be_the_signer() {
    let alice = PrivateKey::generate().expect("key");
    let bob = PrivateKey::generate().expect("key");
    let trusted = [alice.public_key().clone(), bob.public_key().clone()];
    let seal = signed(&alice, expected().subjects("b.tar"), seal_predicate());
    let err = verify_approval(&seal, &trusted, &expected()).expect_err("a seal");
    assert!(
        matches!(
            err,
            VerifyError::PredicateType {
                expected: "https://airlock.dev/approval/v1",
                ..
            }
        ),
        "{err:?}"
    );
    // Bob signs a record that says Alice approved.
    let forged = signed(
        &bob,
        expected().subjects("b.tar"),
        approval(&alice, Decision::Approved),
    );
    let err = verify_approval(&forged, &trusted, &expected()).expect_err("forged");
    assert!(
        matches!(err, VerifyError::ApproverNotSigner { .. }),
        "{err:?}"
    );
}

#[test]
fn a_changed_payload_or_garbage_is_refused() {
    let sender = PrivateKey::generate().expect("key");
    let trusted = [sender.public_key().clone()];
    let mut bundle: SigstoreBundle = serde_json::from_slice(&signed(
        &sender,
        expected().subjects("b.tar"),
        seal_predicate(),
    ))
    .expect("parses");
    let envelope = bundle.dsse_envelope.as_mut().expect("envelope");
    // Keep the signature, change a byte of what it covers.
    let at = envelope.payload.len() / 2;
    envelope.payload[at] ^= 1;
    let err = verify_seal(bundle.to_json().as_bytes(), &trusted, &expected()).expect_err("changed");
    assert!(
        matches!(err, VerifyError::Envelope(DsseError::BadSignature { .. })),
        "{err:?}"
    );
    for garbage in [&b"not json"[..], b"{}", br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.1+json","verificationMaterial":{}}"#] {
        let err = verify_seal(garbage, &trusted, &expected()).expect_err("garbage");
        assert!(matches!(err, VerifyError::Bundle(_)), "{err:?}");
    }
}

#[test]
fn the_signature_is_over_the_pae_of_the_statement() {
    // Checked by hand here, so that the envelope is what DSSE verifiers
    // (sigstore-js, cosign) recompute.
    let sender = PrivateKey::generate().expect("key");
    let file = signed(&sender, expected().subjects("b.tar"), seal_predicate());
    let bundle: SigstoreBundle = serde_json::from_slice(&file).expect("parses");
    let envelope = bundle.dsse_envelope.expect("envelope");
    let message = pae(&envelope.payload_type, &envelope.payload);
    assert!(
        sender
            .public_key()
            .verifies(&message, &envelope.signatures[0].sig)
    );
    let json: serde_json::Value = serde_json::from_slice(&file).expect("json");
    assert_eq!(
        json["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        json["verificationMaterial"]["publicKey"]["hint"],
        sender.public_key().key_id().to_hex()
    );
    let _ = SealedFile::clone;
}
