//! Turning the entries of a fully read archive into images, and checking
//! that every document agrees with the bytes and with the others.
//!
//! Two descriptions of a bundle exist: Docker's `manifest.json` (what
//! `docker load` reads) and OCI's `index.json` (what containerd, skopeo and
//! podman read for OCI archives). Each has its reader here; when both are
//! present they must describe the same images, since different tools would
//! otherwise import different things from one approved file.

mod docker;
mod oci;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::de::DeserializeOwned;

use crate::content::{Content, Json, Unpacked};
use crate::digest::{Digest, Sha256};
use crate::limits::Limits;
use crate::paths::Namespace;
use crate::report::{BundleFormat, Compression, Finding, FindingKind, ImageReport, LayerReport};

/// A regular file of the archive, as kept after its bytes went by.
#[derive(Debug)]
pub(crate) struct FileRecord {
    pub offset: u64,
    pub content: Content,
}

/// Everything kept from reading the archive.
#[derive(Debug)]
pub(crate) struct Archive {
    pub ns: Namespace,
    pub files: HashMap<String, FileRecord>,
}

impl Archive {
    pub fn new(limits: &Limits) -> Self {
        Self {
            ns: Namespace::new(limits),
            files: HashMap::new(),
        }
    }

    /// The file a (normalized) path names, following links.
    fn file(&self, path: &str) -> Option<(&str, &FileRecord)> {
        self.file_via(path).map(|(name, record, _)| (name, record))
    }

    /// [`Self::file`], and the first hard link passed on the way there.
    fn file_via(&self, path: &str) -> Option<(&str, &FileRecord, Option<&str>)> {
        let resolved = self.ns.resolve(path)?;
        self.files
            .get_key_value(resolved.file)
            .map(|(k, v)| (k.as_str(), v, resolved.hardlink))
    }
}

/// The outcome of resolving an archive.
pub(crate) struct Resolved {
    pub format: BundleFormat,
    pub images: Vec<ImageReport>,
    pub findings: Vec<Finding>,
}

/// One image as one of the two descriptions sees it.
#[derive(Debug, Clone)]
struct Described {
    /// For images of a multi-platform index: which index.json entry they
    /// belong to. Docker writes one manifest.json entry per such index.
    group: Option<usize>,
    /// Normalized full references.
    names: BTreeSet<String>,
    /// Tags given without a repository (OCI `ref.name` like `1.0`).
    bare_tags: BTreeSet<String>,
    layer_digests: Vec<Option<Sha256>>,
    report: ImageReport,
}

/// Walks the documents of an archive, collecting findings.
struct Resolver<'a> {
    archive: &'a Archive,
    limits: &'a Limits,
    findings: Vec<Finding>,
    referenced: HashSet<&'a str>,
    /// Hard links already warned about: a shared layer is looked up once
    /// per image that uses it.
    hardlinks_seen: HashSet<&'a str>,
    /// Descriptors followed so far, against fan-out bombs.
    walks: u64,
}

/// Resolves the images of a completely read archive.
pub(crate) fn resolve(archive: &Archive, limits: &Limits) -> Resolved {
    let mut r = Resolver {
        archive,
        limits,
        findings: Vec::new(),
        referenced: HashSet::new(),
        hardlinks_seen: HashSet::new(),
        walks: 0,
    };
    let has_docker = archive.file("manifest.json").is_some();
    let has_oci = archive.file("index.json").is_some();
    let format = match (has_docker, has_oci) {
        (true, true) => BundleFormat::DockerAndOci,
        (true, false) => BundleFormat::DockerArchive,
        (false, true) => BundleFormat::OciLayout,
        (false, false) => BundleFormat::Unknown,
    };
    if format == BundleFormat::Unknown {
        let why = if archive.file("repositories").is_some() {
            "the archive has a `repositories` file but no manifest.json: the pre-2016 \
             docker save format is not supported"
        } else {
            "the archive has neither manifest.json (docker save) nor index.json (OCI); \
             it is not an image bundle"
        };
        r.findings.push(Finding::new(FindingKind::NotABundle, why));
        return Resolved {
            format,
            images: Vec::new(),
            findings: r.findings,
        };
    }

    let docker_images = if has_docker { r.docker() } else { Vec::new() };
    let oci_images = if has_oci { r.oci() } else { Vec::new() };
    if has_oci {
        r.oci_layout();
    }
    if archive.file("repositories").is_some() {
        r.mark("repositories");
    }
    if has_oci && !has_docker && oci_images.is_empty() {
        r.findings.push(
            Finding::new(
                FindingKind::NotABundle,
                "index.json describes no image that could be loaded",
            )
            .entry("index.json"),
        );
    }
    let images = if has_docker && has_oci {
        r.cross_check(&docker_images, &oci_images);
        merge(oci_images, &docker_images)
    } else if has_oci {
        oci_images.into_iter().map(|d| d.report).collect()
    } else {
        docker_images.into_iter().map(|d| d.report).collect()
    };
    r.unreferenced();
    Resolved {
        format,
        images,
        findings: r.findings,
    }
}

/// The report for a bundle with both descriptions: the OCI images, with the
/// tags docker would add.
fn merge(oci: Vec<Described>, docker: &[Described]) -> Vec<ImageReport> {
    oci.into_iter()
        .map(|d| {
            let mut report = d.report;
            let mut tags: BTreeSet<String> = report.repo_tags.drain(..).collect();
            for other in docker {
                if other.report.config_digest == report.config_digest {
                    tags.extend(other.names.iter().cloned());
                }
            }
            report.repo_tags = tags.into_iter().collect();
            report
        })
        .collect()
}

/// Whether a file at `path` (normalized) can be part of an image, by the
/// names the tools that write bundles give them: `blobs/ALG/ENCODED` (OCI),
/// and for docker-archives a top-level `NAME.json` config, a `NAME.tar`,
/// `.tar.gz`, `.tgz` or `.tar.zst` layer (skopeo, podman, crane, jib), an
/// `ALG:HEX` blob (go-containerregistry) or `DIR/layer.tar` (docker).
/// Anything else is never referenced by a real bundle, so importers need not
/// receive it: a bundle of junk files then fills no disk before its verdict.
pub(crate) fn may_be_image_part(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["blobs", algorithm, encoded] => {
            !algorithm.is_empty()
                && !encoded.is_empty()
                && algorithm
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+._-".contains(&b))
                && encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"=_-".contains(&b))
        }
        [name] => {
            const LAYER_ENDINGS: [&str; 4] = [".tar", ".tar.gz", ".tgz", ".tar.zst"];
            (name.ends_with(".json") && !matches!(*name, "manifest.json" | "index.json"))
                || LAYER_ENDINGS.iter().any(|end| name.ends_with(end))
                || name.split_once(':').is_some_and(|(algorithm, hex)| {
                    !algorithm.is_empty()
                        && algorithm.bytes().all(|b| b.is_ascii_alphanumeric())
                        && !hex.is_empty()
                        && hex.bytes().all(|b| b.is_ascii_hexdigit())
                })
        }
        [_, "layer.tar"] => true,
        _ => false,
    }
}

impl<'a> Resolver<'a> {
    fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    fn mark(&mut self, path: &str) {
        if let Some((resolved, _)) = self.archive.file(path) {
            self.referenced.insert(resolved);
        }
    }

    /// Looks a file up and marks it as used.
    fn file(&mut self, path: &str) -> Option<(&'a str, &'a FileRecord)> {
        let found = self.archive.file_via(path);
        if let Some((resolved, record, hardlink)) = found {
            self.referenced.insert(resolved);
            if let Some(link) = hardlink
                && self.hardlinks_seen.insert(link)
            {
                self.push(
                    Finding::new(
                        FindingKind::HardlinkedFile,
                        format!(
                            "`{link}` is a hard link to `{resolved}`: docker and podman load it, \
                             but `ctr images import` and skopeo refuse the bundle"
                        ),
                    )
                    .entry(link),
                );
            }
            // A blob reached through a link was never checked against the
            // name it is referenced by (only the link's target was).
            let named = Sha256::from_blob_path(path);
            if let Some(named) = named.filter(|n| resolved != path && *n != record.content.sha256) {
                self.push(
                    Finding::new(
                        FindingKind::BlobDigestMismatch,
                        format!("`{path}` is a link to `{resolved}`, whose content has a different digest"),
                    )
                    .entry(path)
                    .expected_found(Digest::from(named), Digest::from(record.content.sha256)),
                );
            }
        }
        found.map(|(name, record, _)| (name, record))
    }

    /// Counts one more descriptor followed; false once the limit is reached.
    fn count_walk(&mut self) -> bool {
        self.walks += 1;
        if self.walks == self.limits.max_descriptors + 1 {
            self.push(Finding::new(
                FindingKind::LimitExceeded,
                format!(
                    "the indexes reference more than {} manifests and indexes; the rest were not read",
                    self.limits.max_descriptors
                ),
            )
            .limit(crate::limits::LimitName::MaxDescriptors));
        }
        self.walks <= self.limits.max_descriptors
    }

    /// Parses a kept JSON document into `T`, reporting why it cannot be.
    fn parse_json<T: DeserializeOwned>(
        &mut self,
        path: &str,
        record: &FileRecord,
        what: &str,
        schema: &[&str],
    ) -> Option<T> {
        match &record.content.json {
            Json::Kept(bytes) => match crate::json::parse(bytes, schema) {
                Ok(v) => Some(v),
                Err(e) => {
                    self.push(
                        Finding::new(
                            FindingKind::MalformedJson,
                            format!("{what} does not parse: {e}"),
                        )
                        .entry(path)
                        .at(record.offset),
                    );
                    None
                }
            },
            Json::TooLarge => {
                // The budget an entry gets is the smaller of the two.
                let finding = if record.content.size > self.limits.max_json_bytes {
                    Finding::new(
                        FindingKind::LimitExceeded,
                        format!(
                            "{what} is {} bytes, above the JSON limit of {} bytes",
                            record.content.size, self.limits.max_json_bytes
                        ),
                    )
                    .expected_found(self.limits.max_json_bytes, record.content.size)
                    .limit(crate::limits::LimitName::MaxJsonBytes)
                } else {
                    Finding::new(
                        FindingKind::LimitExceeded,
                        format!(
                            "{what} is {} bytes, beyond what is left of the total JSON budget of \
                             {} bytes",
                            record.content.size, self.limits.max_json_total_bytes
                        ),
                    )
                    .limit(crate::limits::LimitName::MaxJsonTotalBytes)
                };
                self.push(finding.entry(path).at(record.offset));
                None
            }
            Json::Other => {
                self.push(
                    Finding::new(
                        FindingKind::MalformedJson,
                        format!("{what} is not a JSON document"),
                    )
                    .entry(path)
                    .at(record.offset),
                );
                None
            }
        }
    }

    /// Checks one layer against its `diff_id` and describes it.
    fn layer(
        &mut self,
        path: &str,
        record: &FileRecord,
        media_type: Option<String>,
        diff_id: Option<&String>,
    ) -> LayerReport {
        let content = &record.content;
        let unpacked = self.unpacked(path, record);
        self.check_diff_id(path, record, diff_id, unpacked.map(|(digest, _)| digest));
        let implied = implied_media_type(content.compression);
        if let Some(declared) = &media_type {
            self.check_media_type(path, record, declared, implied);
        }
        LayerReport {
            changes: None,
            digest: Some(content.sha256),
            media_type: oci_spec::image::MediaType::from(media_type.as_deref().unwrap_or(implied)),
            size: Some(content.size),
            uncompressed_size: unpacked.map(|(_, size)| size),
            diff_id: diff_id.cloned(),
        }
    }

    /// The digest and size of the layer's uncompressed content, or the
    /// finding that says why they are not known.
    fn unpacked(&mut self, path: &str, record: &FileRecord) -> Option<(Sha256, u64)> {
        let finding = match &record.content.unpacked {
            Unpacked::Done { sha256, size } => return Some((*sha256, *size)),
            Unpacked::Corrupt(why) => Finding::new(
                FindingKind::LayerCorrupt,
                format!("the layer cannot be decompressed: {why}"),
            ),
            Unpacked::Limit { limit, why } => {
                let mut finding = Finding::new(FindingKind::LimitExceeded, why.clone());
                finding.limit = *limit;
                finding
            }
        };
        self.push(finding.entry(path).at(record.offset));
        None
    }

    /// The uncompressed content must be what the config's `diff_id` says:
    /// that is the digest importers check when they unpack the layer.
    fn check_diff_id(
        &mut self,
        path: &str,
        record: &FileRecord,
        diff_id: Option<&String>,
        unpacked: Option<Sha256>,
    ) {
        match (diff_id, unpacked) {
            (Some(expected), Some(found)) => {
                let matches = Digest::parse(expected).is_ok_and(|d| d.sha256() == found);
                if !matches {
                    self.push(
                        Finding::new(
                            FindingKind::DiffIdMismatch,
                            "the layer's uncompressed content does not match the config's diff_id",
                        )
                        .entry(path)
                        .at(record.offset)
                        .expected_found(expected, Digest::from(found)),
                    );
                }
            }
            (None, _) => self.push(
                Finding::new(
                    FindingKind::DiffIdMismatch,
                    "the config has no diff_id for this layer",
                )
                .entry(path)
                .at(record.offset),
            ),
            (Some(_), None) => {}
        }
    }

    /// containerd trusts OCI layer media types when unpacking; Docker's own
    /// types make it sniff, so only OCI types must name the compression the
    /// content has.
    fn check_media_type(&mut self, path: &str, record: &FileRecord, declared: &str, implied: &str) {
        let compression = if !declared.starts_with("application/vnd.oci.image.layer.") {
            None
        } else if declared.ends_with("+gzip") {
            Some(Compression::Gzip)
        } else if declared.ends_with("+zstd") {
            Some(Compression::Zstd)
        } else {
            Some(Compression::None)
        };
        if compression.is_some_and(|c| c != record.content.compression) {
            self.push(
                Finding::new(
                    FindingKind::MediaTypeMismatch,
                    "the layer's media type names a different compression than its content has",
                )
                .entry(path)
                .at(record.offset)
                .expected_found(declared, implied),
            );
        }
    }

    /// Both descriptions must name the same images, tags and layers.
    fn cross_check(&mut self, docker: &[Described], oci: &[Described]) {
        let docker_map = by_config(docker);
        let oci_map = by_config(oci);
        for (config, d) in &docker_map {
            let Some(o) = oci_map.get(config) else {
                self.push(
                    Finding::new(
                        FindingKind::ManifestIndexDisagree,
                        format!(
                            "manifest.json lists an image (config {config}, tags {}) that index.json does not",
                            join(d.iter().flat_map(|x| x.names.iter()))
                        ),
                    )
                    .entry("manifest.json"),
                );
                continue;
            };
            self.compare_names(config, d, o);
            let docker_layers = d.first().map(|x| &x.layer_digests);
            if !o.iter().any(|x| Some(&x.layer_digests) == docker_layers) {
                self.push(
                    Finding::new(
                        FindingKind::ManifestIndexDisagree,
                        format!(
                            "the image with config {config} has different layers in manifest.json and in its OCI manifest"
                        ),
                    )
                    .entry("manifest.json"),
                );
            }
        }
        self.only_in_index(&docker_map, &oci_map);
    }

    /// `docker load` tags an image with manifest.json's names, containerd
    /// with index.json's: they must agree. Bare OCI tags (`ref.name` of
    /// `1.0`) only need to be among the docker tags.
    fn compare_names(&mut self, config: &str, docker: &[&Described], oci: &[&Described]) {
        let docker_names: BTreeSet<&String> = docker.iter().flat_map(|x| x.names.iter()).collect();
        let oci_names: BTreeSet<&String> = oci.iter().flat_map(|x| x.names.iter()).collect();
        let oci_bare: BTreeSet<&String> = oci.iter().flat_map(|x| x.bare_tags.iter()).collect();
        let agree = if !oci_names.is_empty() {
            docker_names == oci_names
        } else if !oci_bare.is_empty() {
            let docker_tags: BTreeSet<&str> = docker_names
                .iter()
                .filter_map(|n| n.rsplit_once(':').map(|(_, t)| t))
                .collect();
            oci_bare.iter().all(|t| docker_tags.contains(t.as_str()))
        } else {
            docker_names.is_empty()
        };
        if agree {
            return;
        }
        let index_names = if oci_names.is_empty() {
            join(oci_bare.iter().copied())
        } else {
            join(oci_names.iter().copied())
        };
        self.push(
            Finding::new(
                FindingKind::ManifestIndexDisagree,
                format!(
                    "the image with config {config} has different names in manifest.json \
                     (read by docker load) and index.json (read by containerd)"
                ),
            )
            .entry("manifest.json")
            .expected_found(
                format!("index.json: {index_names}"),
                format!("manifest.json: {}", join(docker_names.iter().copied())),
            ),
        );
    }

    /// Images index.json lists and manifest.json does not. A multi-platform
    /// index has one manifest.json entry, for one platform: its other
    /// platforms are not missing.
    fn only_in_index(
        &mut self,
        docker_map: &BTreeMap<String, Vec<&Described>>,
        oci_map: &BTreeMap<String, Vec<&Described>>,
    ) {
        let matched_groups: BTreeSet<usize> = oci_map
            .iter()
            .filter(|(config, _)| docker_map.contains_key(*config))
            .flat_map(|(_, o)| o.iter().filter_map(|x| x.group))
            .collect();
        for (config, o) in oci_map {
            let other_platform = o
                .iter()
                .all(|x| x.group.is_some_and(|g| matched_groups.contains(&g)));
            if !docker_map.contains_key(config) && !other_platform {
                self.push(
                    Finding::new(
                        FindingKind::ManifestIndexDisagree,
                        format!(
                            "index.json lists an image (config {config}, names {}) that manifest.json does not",
                            join(o.iter().flat_map(|x| x.names.iter()))
                        ),
                    )
                    .entry("index.json"),
                );
            }
        }
    }

    fn oci_layout(&mut self) {
        #[derive(serde::Deserialize)]
        struct Layout {
            #[serde(rename = "imageLayoutVersion")]
            version: String,
        }
        let Some((path, record)) = self.file("oci-layout") else {
            return;
        };
        if let Some(layout) =
            self.parse_json::<Layout>(path, record, "oci-layout", crate::json::OCI_KEYS)
            && layout.version != "1.0.0"
        {
            self.push(
                Finding::new(
                    FindingKind::MalformedJson,
                    format!("unknown OCI layout version `{}`", layout.version),
                )
                .entry(path)
                .expected_found("1.0.0", layout.version),
            );
        }
    }

    /// Files nothing refers to: harmless for importers, but a reviewer should
    /// know the bundle carries them.
    fn unreferenced(&mut self) {
        let mut extra: Vec<(&str, &FileRecord)> = self
            .archive
            .files
            .iter()
            .filter(|(path, _)| {
                !self.referenced.contains(path.as_str()) && !is_legacy_metadata(path)
            })
            .map(|(p, r)| (p.as_str(), r))
            .collect();
        extra.sort_by_key(|(_, r)| r.offset);
        for (path, record) in extra {
            self.push(
                Finding::new(
                    FindingKind::UnreferencedBlob,
                    format!(
                        "{} bytes that no manifest or index refers to",
                        record.content.size
                    ),
                )
                .entry(path)
                .at(record.offset),
            );
        }
    }
}

/// The OCI media type that names a layer's actual compression.
fn implied_media_type(compression: Compression) -> &'static str {
    match compression {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// Images grouped by config digest: the identity both descriptions share.
fn by_config(list: &[Described]) -> BTreeMap<String, Vec<&Described>> {
    let mut map: BTreeMap<String, Vec<&Described>> = BTreeMap::new();
    for d in list {
        let key = d
            .report
            .config_digest
            .map(|c| c.to_string())
            .unwrap_or_default();
        map.entry(key).or_default().push(d);
    }
    map
}

/// Per-layer metadata of the legacy docker format (`<id>/json`, `<id>/VERSION`).
fn is_legacy_metadata(path: &str) -> bool {
    matches!(path.split_once('/'), Some((id, rest)) if id.len() == 64 && (rest == "json" || rest == "VERSION"))
}

fn join<'s>(items: impl Iterator<Item = &'s String>) -> String {
    let v: Vec<&str> = items.map(String::as_str).collect();
    if v.is_empty() {
        "(none)".to_owned()
    } else {
        v.join(", ")
    }
}

/// The platform a config or descriptor states; it is written
/// `os/arch[/variant]`.
fn platform_string(os: &str, arch: &str, variant: Option<&str>) -> crate::platform::Platform {
    crate::platform::Platform::new(os, arch, variant)
}
