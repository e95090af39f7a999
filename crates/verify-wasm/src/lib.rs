//! verify-core as the npm package `@airlock/verify` (`cargo xtask pkg`
//! writes it to `pkg/`), which the approver's page uses too: a verifier and
//! a whole-file hasher that JavaScript feeds with `Uint8Array` chunks, the
//! sums-file parser, and SBOMs of a finished report. No checks live here.
//!
//! Reports cross as JavaScript objects of exactly the shape `airlock verify
//! --json` prints (see `to_js.rs`); their TypeScript declarations come from
//! verify-core's types (its `tsify` feature), so the `.d.ts` cannot drift
//! from the Rust.
#![forbid(unsafe_code)]

mod hasher;
mod options;
mod sums;
mod to_js;
mod verifier;

pub use hasher::FileHasher;
pub use options::VerifierOptions;
pub use sums::{parse_sums, recorded_sha256, sidecar_names};
pub use verifier::{BundleVerifier, Flow};
