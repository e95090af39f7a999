//! What a verification concludes: the typed report every face shows.
//!
//! The JSON shape (`serde`) is the contract between the CLI's `--json`, the
//! page's `window.airlockReport` and the edge verifier, so field names here
//! are stable: add fields, never rename them. The same types read that JSON
//! back (`Deserialize`), so a client of the edge can use them too; a report
//! read back is for showing, though: only a [`Verifier`](crate::Verifier)'s
//! own report can become an [`ImportPlan`](crate::ImportPlan).
//!
//! The structs are `#[non_exhaustive]`, so fields can be added without
//! breaking callers. [`Report`] keeps its fields private: its verdict
//! follows from its findings, and an ok report must only come from a
//! verifier. The parts it hands out by reference keep public fields; a copy
//! changed outside cannot be put back into a report.

use oci_spec::image::MediaType;
use serde::{Deserialize, Serialize};

use crate::contents::{FileEntry, ImageConfig, LayerChanges, OsInfo, Package, PackageNote};
use crate::digest::{Digest, Sha256};
use crate::limits::LimitName;
use crate::platform::Platform;

/// The overall outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// No finding of severity error.
    Ok,
    /// At least one error: the bundle must not be imported.
    Fail,
}

/// Where a [`Report`] came from. Not serialized: a report read from JSON
/// is always [`Origin::Elsewhere`], whatever its verdict says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Origin {
    /// Deserialized, or otherwise not concluded by this process's verifier.
    #[default]
    Elsewhere,
    /// Concluded by [`Verifier`](crate::Verifier) from the bytes it was fed.
    Verifier,
}

/// The full result of one verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct Report {
    verdict: Verdict,
    bundle: BundleReport,
    images: Vec<ImageReport>,
    findings: Vec<Finding>,
    #[serde(skip)]
    origin: Origin,
}

impl Report {
    /// The verifier's report: the verdict is ok exactly when no finding has
    /// severity error.
    pub(crate) fn from_verifier(
        bundle: BundleReport,
        images: Vec<ImageReport>,
        findings: Vec<Finding>,
    ) -> Self {
        let verdict = if findings.iter().any(|f| f.severity == Severity::Error) {
            Verdict::Fail
        } else {
            Verdict::Ok
        };
        Self {
            verdict,
            bundle,
            images,
            findings,
            origin: Origin::Verifier,
        }
    }

    /// Ok exactly when no finding has severity error (for a report read
    /// from JSON: as the JSON says).
    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    /// Size, hashes, layout and compression of the file as a whole.
    pub fn bundle(&self) -> &BundleReport {
        &self.bundle
    }

    /// The images an importer would create; empty when the input is not a
    /// bundle.
    pub fn images(&self) -> &[ImageReport] {
        &self.images
    }

    /// Errors and warnings, each once; a file digest mismatch comes first.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// Whether a [`Verifier`](crate::Verifier) in this process concluded
    /// this report; `false` for one read from JSON. Only such a report can
    /// become an [`ImportPlan`](crate::ImportPlan).
    pub fn is_from_verifier(&self) -> bool {
        self.origin == Origin::Verifier
    }

    /// Whether any finding has the given kind.
    pub fn has(&self, kind: FindingKind) -> bool {
        self.findings.iter().any(|f| f.kind == kind)
    }

    /// Findings of severity error.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

/// Facts about the bundle file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct BundleReport {
    /// Bytes fed to the verifier (the file size when fed a whole file).
    pub size: u64,
    /// SHA-256 of every byte fed, compressed or not.
    pub sha256: Option<Sha256>,
    /// The value the sender recorded, when one was given.
    pub expected_sha256: Option<Sha256>,
    /// `true`/`false` when an expected value was given, absent otherwise.
    pub sha256_matches: Option<bool>,
    /// Which layout the archive uses.
    pub format: BundleFormat,
    /// Compression of the bundle as a whole (`docker save | gzip`).
    pub compression: Compression,
    /// Number of tar entries read, metadata headers not counted.
    pub entries: u64,
}

/// Archive layouts Airlock understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
#[serde(rename_all = "kebab-case")]
pub enum BundleFormat {
    /// `manifest.json` only: `docker save` before 25, skopeo/podman docker-archive.
    DockerArchive,
    /// `index.json` + `blobs/` only: OCI archive or tarred OCI layout.
    OciLayout,
    /// Both: Docker >= 25 `docker save`, `ctr export`.
    DockerAndOci,
    /// Neither could be found.
    Unknown,
}

/// Compression of a byte stream, detected from its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// Not compressed (a plain tar stream).
    None,
    /// gzip (`1f 8b`); concatenated members are read as one stream, as
    /// `gzip -d` does.
    Gzip,
    /// Zstandard (`28 b5 2f fd`).
    Zstd,
}

/// One image a load would create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct ImageReport {
    /// Names as the importer would tag them, normalized (`docker.io/library/x:tag`).
    pub repo_tags: Vec<String>,
    /// The OCI manifest's digest, absent for docker-archive-only bundles.
    pub manifest_digest: Option<Digest>,
    /// The manifest's media type, as its descriptor states it.
    pub manifest_media_type: Option<MediaType>,
    /// The manifest's size in bytes, from its descriptor; absent with the
    /// digest.
    pub manifest_size: Option<u64>,
    /// From the config (or, without one, the index entry); written
    /// `os/architecture[/variant]`.
    pub platform: Option<Platform>,
    /// The image config digest (the image ID docker shows).
    pub config_digest: Option<Digest>,
    /// The config's size in bytes.
    pub config_size: Option<u64>,
    /// The config's `created` timestamp, as written.
    pub created: Option<String>,
    /// In the order the manifest lists them, base layer first.
    pub layers: Vec<LayerReport>,
    /// The file tree the image unpacks to, all layers applied, sorted by
    /// path; present when asked for ([`crate::Options`]) and every layer
    /// could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileEntry>>,
    /// What the image runs and how, from its config; absent when the
    /// config could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ImageConfig>,
    /// The operating system the image says it is (`etc/os-release`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<OsInfo>,
    /// Packages found in the final tree (dpkg, apk, Python, npm, Go);
    /// absent when some layer could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<Vec<Package>>,
    /// Package files present but not read (an rpm database) or not
    /// readable, each naming the file and layer.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub package_notes: Vec<PackageNote>,
}

impl ImageReport {
    /// What findings call the image: its first name, else its manifest or
    /// config digest.
    pub fn display_name(&self) -> String {
        if let Some(name) = self.repo_tags.first() {
            return name.clone();
        }
        match (&self.manifest_digest, &self.config_digest) {
            (Some(d), _) | (None, Some(d)) => d.to_string(),
            (None, None) => "(unnamed image)".to_owned(),
        }
    }
}

/// One layer of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct LayerReport {
    /// Digest of the layer blob as stored in the bundle.
    pub digest: Option<Sha256>,
    /// Media type from the manifest, or the one implied by the content.
    pub media_type: MediaType,
    /// Size as stored (compressed).
    pub size: Option<u64>,
    /// Size after decompression.
    pub uncompressed_size: Option<u64>,
    /// The config's `diff_id` for this layer.
    pub diff_id: Option<String>,
    /// What the layer did to the tree below it; absent when some layer of
    /// the image could not be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<LayerChanges>,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the bundle: it must not be imported.
    Error,
    /// Worth a reviewer's look; does not change the verdict.
    Warning,
}

// The kinds are listed once, here: the enum, its serde names, `as_str` and
// `ALL` are all generated from this list, so a kind cannot be added to one
// and forgotten in another. `tests/faces_agree.rs` then checks the page's
// words and the README against `ALL`.
macro_rules! finding_kinds {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// Stable, machine-readable finding kinds. Their kebab-case names are part of
        /// the report contract; tests and sites key on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
        #[non_exhaustive]
        pub enum FindingKind {
            $($(#[$doc])* #[serde(rename = $name)] $variant,)*
        }

        impl FindingKind {
            /// Every kind, in declaration order.
            pub const ALL: &[FindingKind] = &[$(Self::$variant,)*];

            /// The stable name used in JSON and tests.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)*
                }
            }
        }
    };
}

finding_kinds! {
    /// The whole file's SHA-256 differs from the recorded value.
    FileDigestMismatch = "file-digest-mismatch",
    /// A blob's bytes do not hash to the digest it is named or referenced by.
    BlobDigestMismatch = "blob-digest-mismatch",
    /// A blob's size differs from the size its descriptor states.
    BlobSizeMismatch = "blob-size-mismatch",
    /// A layer's uncompressed digest differs from the config's `diff_ids`.
    DiffIdMismatch = "diff-id-mismatch",
    /// A referenced blob or file is not in the archive.
    MissingBlob = "missing-blob",
    /// The archive ends early.
    Truncated = "truncated",
    /// An entry path or link escapes the archive root or passes through a link.
    UnsafePath = "unsafe-path",
    /// The same path appears twice, or a file is also used as a directory.
    DuplicateEntry = "duplicate-entry",
    /// A tar header is corrupt or ambiguous (checksum, PAX vs ustar size, …).
    TarHeaderInvalid = "tar-header-invalid",
    /// Bytes other than zero padding follow the end-of-archive marker.
    TrailingData = "trailing-data",
    /// An entry type that has no place in an image bundle (device, fifo, …).
    UnexpectedEntry = "unexpected-entry",
    /// `manifest.json` and `index.json` describe different images or tags.
    ManifestIndexDisagree = "manifest-index-disagree",
    /// A JSON document does not parse or does not have the required shape.
    MalformedJson = "malformed-json",
    /// A layer's media type disagrees with its content.
    MediaTypeMismatch = "media-type-mismatch",
    /// A layer cannot be decompressed.
    LayerCorrupt = "layer-corrupt",
    /// A size, ratio or count limit was exceeded; checking stopped there.
    LimitExceeded = "limit-exceeded",
    /// The input is not an image bundle at all.
    NotABundle = "not-a-bundle",
    /// A reference uses a digest Airlock cannot check.
    UnsupportedDigest = "unsupported-digest",
    /// A blob is present but nothing references it.
    UnreferencedBlob = "unreferenced-blob",
    /// A platform listed in an index has no manifest in the bundle.
    PlatformNotIncluded = "platform-not-included",
    /// No recorded SHA-256 was given, so the file was not compared with
    /// what the sender hashed.
    NoRecordedDigest = "no-recorded-digest",
    /// A file the images use is reached through a hard link. Docker and
    /// podman follow it; containerd's importer and containers/image (skopeo)
    /// do not, and refuse the bundle.
    HardlinkedFile = "hardlinked-file",
    /// A layer is not a tar that Go's archive/tar reads the way Docker and
    /// containerd need: a bad header, truncation, an entry type they cannot
    /// create, a name used twice.
    LayerTarInvalid = "layer-tar-invalid",
    /// A layer entry or hard-link target climbs out of the image root with
    /// `..`: Docker refuses the layer, containerd clamps the path.
    LayerUnsafePath = "layer-unsafe-path",
    /// A layer holds a setuid or setgid file.
    SetuidFile = "setuid-file",
    /// A layer holds a character or block device node.
    DeviceFile = "device-file",
    /// A layer holds a file anyone may write, or such a directory without
    /// the sticky bit.
    WorldWritable = "world-writable",
    /// An image config sets an environment variable whose name suggests a
    /// secret (PASSWORD, SECRET, TOKEN, KEY): it ships to everyone who
    /// pulls the image.
    ConfigSecretEnv = "config-secret-env",
}

impl FindingKind {
    /// The severity a finding of this kind carries.
    pub fn severity(self) -> Severity {
        match self {
            Self::UnreferencedBlob
            | Self::PlatformNotIncluded
            | Self::NoRecordedDigest
            | Self::HardlinkedFile
            | Self::SetuidFile
            | Self::DeviceFile
            | Self::WorldWritable
            | Self::ConfigSecretEnv => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

impl std::fmt::Display for FindingKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing found wrong (or worth a look), with where and what.
///
/// Built with [`Finding::new`] and the methods that follow it; the fields
/// are public to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[non_exhaustive]
pub struct Finding {
    /// What was found; stable across versions.
    pub kind: FindingKind,
    /// The kind's [`FindingKind::severity`] unless overridden with
    /// [`Finding::severity`].
    pub severity: Severity,
    /// The image concerned, for findings inside its layers or config: its
    /// first name, or its manifest or config digest when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The layer blob concerned, for findings inside a layer; `entry` and
    /// `offset` are then inside the layer's uncompressed tar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<Sha256>,
    /// The tar entry (or JSON document) concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    /// Byte offset in the tar stream (after outer decompression) where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// What should have been there (a digest, a size, a limit, …), as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was there instead, in the same form as `expected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// For `limit-exceeded`: the [`Limits`](crate::Limits) field that was
    /// exceeded, when it can be raised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<LimitName>,
    /// A sentence for people.
    pub message: String,
}

impl Finding {
    /// A finding with the kind's default severity and no location.
    pub fn new(kind: FindingKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            severity: kind.severity(),
            image: None,
            layer: None,
            entry: None,
            offset: None,
            expected: None,
            found: None,
            limit: None,
            message: message.into(),
        }
    }

    /// Names the entry concerned.
    pub fn entry(mut self, entry: impl Into<String>) -> Self {
        self.entry = Some(entry.into());
        self
    }

    /// Names the image and layer blob a finding inside a layer belongs to.
    pub fn in_layer(mut self, image: impl Into<String>, layer: Sha256) -> Self {
        self.image = Some(image.into());
        self.layer = Some(layer);
        self
    }

    /// Names the image a finding about its config belongs to.
    pub fn in_image(mut self, image: impl Into<String>) -> Self {
        self.image = Some(image.into());
        self
    }

    /// Records the byte offset concerned.
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Records what was expected and what was found.
    pub fn expected_found(mut self, expected: impl ToString, found: impl ToString) -> Self {
        self.expected = Some(expected.to_string());
        self.found = Some(found.to_string());
        self
    }

    /// Names the limit that was exceeded (a field of [`crate::Limits`]).
    pub fn limit(mut self, name: LimitName) -> Self {
        self.limit = Some(name);
        self
    }

    /// Overrides the kind's default severity (policy decisions).
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON name is the contract; `as_str` is what tests and the CLI
    /// print. Both come from one list, and this keeps it so.
    #[test]
    fn kind_names_are_one_list() {
        let mut seen = std::collections::HashSet::new();
        for kind in FindingKind::ALL {
            let json = serde_json::to_string(kind).expect("a kind serializes");
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert!(seen.insert(kind.as_str()), "{kind} listed twice");
            assert!(
                kind.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{kind} is not kebab-case"
            );
        }
    }
}
