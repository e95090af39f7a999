//! Airlock's chain of custody in formats the Sigstore ecosystem reads.
//!
//! The sender *seals* a bundle, an approver *approves* (or rejects) it, and
//! the site's importer checks both before anything is loaded. Each of these
//! is an in-toto Statement v1 ([`statement`]) whose subjects are the bundle
//! file and its images, signed as a DSSE envelope ([`dsse`]) with an ECDSA
//! P-256 key kept in cosign's encrypted format ([`key`]), and stored as a
//! Sigstore bundle v0.3 ([`bundle`]) that `cosign verify-blob-attestation`
//! and sigstore-js accept with the public key given by its hint.
//!
//! [`verify`] is the one check every face runs: a signed bundle, the keys
//! the site trusts and what the statement must be about in, a typed answer
//! (which key, which predicate) or a typed error out. [`sign`] makes the
//! files, [`subjects`] derives what a statement must name from a verified
//! bundle's import plan, so signer and verifier cannot disagree on it.
//!
//! Pure Rust, no I/O, no clock (times come from the caller); builds for
//! `wasm32-unknown-unknown` so the approver page's worker signs and checks
//! with the same code as the CLI.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod approval;
mod base64_json;
pub mod bundle;
pub mod dsse;
pub mod files;
pub mod key;
pub mod policy;
pub mod seal;
pub mod sign;
pub mod statement;
pub mod subjects;
pub mod verify;

pub use approval::{APPROVAL_PREDICATE_TYPE, ApprovalPredicate, Approver, Decision, Tool};
pub use bundle::{BUNDLE_MEDIA_TYPE, BundleError, SigstoreBundle};
pub use dsse::{DsseError, Envelope, IN_TOTO_PAYLOAD_TYPE};
pub use files::{FILES_PREDICATE_TYPE, FilesPredicate, verify_files};
pub use key::{KeyError, KeyId, PrivateKey, PublicKey};
pub use policy::{Evaluation, ListedKey, Policy, PolicyError, Refusal, Rule, Rules, SignedFile};
pub use seal::{SEAL_PREDICATE_TYPE, SealPredicate};
pub use sign::{SignError, sign_statement};
pub use statement::PredicateKind;
pub use statement::{STATEMENT_TYPE, Statement, Subject};
pub use subjects::{Expected, ImageSubject};
pub use verify::{Signed, Verified, VerifyError, verify_approval, verify_seal};
