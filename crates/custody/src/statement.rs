//! in-toto Statement v1 (<https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md>):
//! what is attested (subjects, each a name and a SHA-256) and what is said
//! about it (a typed predicate).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use verify_core::Sha256;

/// The statement's `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// A predicate Airlock writes and reads: its type URI names its schema.
pub trait PredicateKind: Serialize + DeserializeOwned {
    /// The `predicateType` URI.
    const PREDICATE_TYPE: &'static str;
}

/// An in-toto statement about `subject` with predicate `P`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement<P> {
    /// Always [`STATEMENT_TYPE`] for what Airlock accepts.
    #[serde(rename = "_type")]
    pub statement_type: String,
    /// What the statement is about.
    pub subject: Vec<Subject>,
    /// The predicate's type URI.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// What is said about the subjects.
    pub predicate: P,
}

impl<P: PredicateKind> Statement<P> {
    /// A v1 statement with `P`'s predicate type.
    pub fn new(subject: Vec<Subject>, predicate: P) -> Self {
        Self {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject,
            predicate_type: P::PREDICATE_TYPE.to_owned(),
            predicate,
        }
    }
}

/// One subject: a name and the SHA-256 of what it names. In JSON,
/// `{"name": …, "digest": {"sha256": "<hex>"}}`; other digest algorithms a
/// statement lists beside sha256 are ignored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawSubject", into = "RawSubject")]
pub struct Subject {
    /// A file name, or an image reference.
    pub name: String,
    /// The SHA-256 of the file, or of the image's manifest.
    pub sha256: Sha256,
}

#[derive(Serialize, Deserialize)]
struct RawSubject {
    name: String,
    digest: BTreeMap<String, String>,
}

impl TryFrom<RawSubject> for Subject {
    type Error = String;
    fn try_from(raw: RawSubject) -> Result<Self, String> {
        let hex = raw
            .digest
            .get("sha256")
            .ok_or_else(|| format!("subject `{}` has no sha256 digest", raw.name))?;
        let sha256 = Sha256::from_hex(hex)
            .map_err(|e| format!("subject `{}`: sha256 digest: {e}", raw.name))?;
        Ok(Self {
            name: raw.name,
            sha256,
        })
    }
}

impl From<Subject> for RawSubject {
    fn from(s: Subject) -> Self {
        Self {
            name: s.name,
            digest: BTreeMap::from([("sha256".to_owned(), s.sha256.to_hex())]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_read_and_write_the_in_toto_form() {
        let hex = "a".repeat(64);
        let json = format!(r#"{{"name":"b.tar","digest":{{"sha256":"{hex}","sha512":"00"}}}}"#);
        let subject: Subject = serde_json::from_str(&json).expect("parses");
        assert_eq!(subject.name, "b.tar");
        assert_eq!(subject.sha256.to_hex(), hex);
        let written = serde_json::to_string(&subject).expect("json");
        assert_eq!(
            written,
            format!(r#"{{"name":"b.tar","digest":{{"sha256":"{hex}"}}}}"#)
        );
        let no_sha = serde_json::from_str::<Subject>(r#"{"name":"x","digest":{"sha512":"00"}}"#);
        assert!(
            no_sha
                .expect_err("refused")
                .to_string()
                .contains("no sha256")
        );
    }
}
