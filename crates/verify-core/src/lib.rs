//! Airlock's verification core: checks a container image bundle (`docker
//! save`, `podman save`, `skopeo copy`, `ctr export`, OCI archives) as a
//! stream of bytes, in one pass and in constant memory.
//!
//! The core is sans-IO: callers feed bytes with [`Verifier::update`] in
//! pieces of any size and call [`Verifier::finish`] for a [`Report`]; each
//! piece's [`Flow`] says whether more is wanted, so a caller can stop reading
//! a bundle whose verdict is already settled. It never reads files, spawns
//! threads or looks at clocks, so the CLI, the web page (WASM) and the edge
//! verifier all drive it the same way.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod annotations;
mod content;
pub mod contents;
mod decompress;
pub mod digest;
mod formats;
mod image_config;
mod json;
mod layers;
pub mod limits;
mod packages;
mod paths;
pub mod plan;
pub mod platform;
pub mod reference;
pub mod report;
pub mod sbom;
pub mod sums;
mod tar_stream;
#[cfg(feature = "tsify")]
mod typescript;
mod verifier;

pub use digest::{Digest, DigestError, Sha256};
pub use limits::{LimitName, Limits, UnknownLimit};
pub use plan::{
    BlobRef, ImportPlan, NamedManifest, PlanError, PlannedImage, PlannedManifest, named_manifests,
};
pub use platform::{InvalidPlatform, Platform};
pub use report::{
    BundleFormat, BundleReport, Compression, Finding, FindingKind, ImageReport, LayerReport,
    Report, Severity, Verdict,
};
pub use verifier::{EntrySink, FileHasher, Flow, NotSettled, Options, Verifier};
