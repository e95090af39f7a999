//! A seal over a set of files: predicate type [`FILES_PREDICATE_TYPE`],
//! whose subjects are exactly the files a sums file lists, by name and
//! SHA-256. A release is sealed this way (`SHA256SUMS` and every file in
//! it), so a site can check one file with any in-toto verifier
//! (`cosign verify-blob-attestation`, sigstore-js) or the whole set with
//! `airlock check --trust`.
//!
//! ```json
//! {"airlockVersion": "0.1.0", "sumsFile": "SHA256SUMS"}
//! ```

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::key::PublicKey;
use crate::statement::{PredicateKind, Subject};
use crate::verify::{Signed, VerifyError, open};

/// The file-set seal's predicate type URI (version 1 of its schema).
pub const FILES_PREDICATE_TYPE: &str = "https://airlock.dev/files/v1";

/// What the signer said about the files beside naming them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FilesPredicate {
    /// The Airlock version that checked and sealed the files.
    pub airlock_version: String,
    /// The name of the sums file the subjects were read from.
    pub sums_file: String,
}

impl FilesPredicate {
    /// The predicate for files listed in `sums_file`, sealed by
    /// `airlock_version`.
    pub fn new(airlock_version: &str, sums_file: &str) -> Self {
        Self {
            airlock_version: airlock_version.to_owned(),
            sums_file: sums_file.to_owned(),
        }
    }
}

impl PredicateKind for FilesPredicate {
    const PREDICATE_TYPE: &'static str = FILES_PREDICATE_TYPE;
}

/// Checks a file-set seal: signed by one of `trusted`, and its subjects
/// are exactly `listed` (in any order): a file added to, dropped from or
/// changed in the sums file after sealing is refused by name.
pub fn verify_files(
    bundle_json: &[u8],
    trusted: &[PublicKey],
    listed: &[Subject],
) -> Result<Signed<FilesPredicate>, VerifyError> {
    let signed: Signed<FilesPredicate> = open(bundle_json, trusted)?;
    let sealed: BTreeSet<&Subject> = signed.subjects.iter().collect();
    let listed: BTreeSet<&Subject> = listed.iter().collect();
    if sealed.is_empty() {
        return Err(VerifyError::NoSubjects);
    }
    if let Some(extra) = sealed.difference(&listed).next() {
        return Err(VerifyError::FileNotListed {
            name: extra.name.clone(),
            digest: extra.sha256,
        });
    }
    if let Some(missing) = listed.difference(&sealed).next() {
        return Err(VerifyError::FileNotSealed {
            name: missing.name.clone(),
            digest: missing.sha256,
        });
    }
    Ok(signed)
}

#[cfg(test)]
mod tests {
    use verify_core::Sha256;

    use super::*;
    use crate::key::PrivateKey;
    use crate::sign::sign_statement;
    use crate::statement::Statement;

    fn subject(name: &str) -> Subject {
        Subject {
            name: name.to_owned(),
            sha256: Sha256::of(name.as_bytes()),
        }
    }

    fn sealed(key: &PrivateKey, subjects: Vec<Subject>) -> Vec<u8> {
        let statement = Statement::new(subjects, FilesPredicate::new("0.1.0", "SHA256SUMS"));
        sign_statement(&statement, key)
            .expect("signs")
            .to_json()
            .into_bytes()
    }

    #[test]
    fn the_sealed_set_must_be_the_listed_set() {
        let key = PrivateKey::generate().expect("key");
        let trusted = [key.public_key().clone()];
        let files = vec![subject("airlock.exe"), subject("airlock.html")];
        let seal = sealed(&key, files.clone());

        let mut reordered = files.clone();
        reordered.reverse();
        let ok = verify_files(&seal, &trusted, &reordered).expect("same set");
        assert_eq!(ok.predicate.sums_file, "SHA256SUMS");
        assert_eq!(ok.key_id, key.public_key().key_id());

        let dropped = verify_files(&seal, &trusted, &files[..1]).expect_err("one fewer listed");
        assert!(
            matches!(&dropped, VerifyError::FileNotListed { name, .. } if name == "airlock.html"),
            "{dropped}"
        );

        let mut added = files.clone();
        added.push(subject("extra.deb"));
        let more = verify_files(&seal, &trusted, &added).expect_err("one more listed");
        assert!(
            matches!(&more, VerifyError::FileNotSealed { name, .. } if name == "extra.deb"),
            "{more}"
        );

        let mut changed = files.clone();
        changed[0].sha256 = Sha256::of(b"a trojan");
        let swapped = verify_files(&seal, &trusted, &changed).expect_err("another digest");
        assert!(swapped.to_string().contains("airlock.exe"), "{swapped}");
    }

    #[test]
    fn a_bundle_seal_is_not_a_file_set_seal() {
        let key = PrivateKey::generate().expect("key");
        let statement = Statement {
            statement_type: crate::statement::STATEMENT_TYPE.to_owned(),
            subject: vec![subject("b.tar")],
            predicate_type: crate::seal::SEAL_PREDICATE_TYPE.to_owned(),
            predicate: serde_json::json!({"airlockVersion": "0.1.0"}),
        };
        let foreign = crate::bundle::SigstoreBundle::new(
            crate::dsse::Envelope::sign(
                crate::dsse::IN_TOTO_PAYLOAD_TYPE,
                serde_json::to_vec(&statement).expect("json"),
                &key,
            ),
            key.public_key().key_id().to_hex(),
        )
        .to_json();
        let refused = verify_files(
            foreign.as_bytes(),
            &[key.public_key().clone()],
            &[subject("b.tar")],
        )
        .expect_err("a seal's predicate");
        assert!(
            matches!(refused, VerifyError::PredicateType { .. }),
            "{refused}"
        );
    }
}
