//! What one `Verifier::update` call costs, by chunk size: the numbers the
//! CLI's read size and the page's batch size are picked from (issue #8).
//!
//! The input is a 128 MiB `docker save` (Docker >= 25 layout: OCI blobs,
//! `index.json`, `manifest.json`, uncompressed layers) built in memory
//! once, shaped like `make-big.sh`'s: about three quarters incompressible
//! bytes and one quarter base64 text. It is checked to verify ok before
//! anything is timed, so every sample is a full verification.
//!
//! Each chunk is first copied into one reused buffer, as the CLI's `read`
//! and the page's `File.stream()` hand the core freshly written memory; a
//! small chunk is then still in cache when the core hashes it, a large one
//! is not, and that is half of what the chunk size trades.
//!
//! `hash_file=true` is the edge (the core also hashes the whole file);
//! `hash_file=false` is the CLI and the page, which hash on another core.
//! `cargo xtask bench --micro-only` runs this and tabulates
//! `target/criterion/chunks/<hash_file=…>/<size>/new/estimates.json`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use serde_json::{Value, json};
use verify_core::{Options, Sha256, Verdict, Verifier};

const KIB: usize = 1 << 10;
const MIB: usize = 1 << 20;

/// The chunk sizes measured, with the names their result directories get.
const CHUNKS: [(usize, &str); 5] = [
    (64 * KIB, "64KiB"),
    (256 * KIB, "256KiB"),
    (MIB, "1MiB"),
    (4 * MIB, "4MiB"),
    (16 * MIB, "16MiB"),
];

/// Each layer's kind of data and size of its one file.
const LAYERS: [(Data, usize); 4] = [
    (Data::Random, 56 * MIB),
    (Data::Text, 32 * MIB),
    (Data::Random, 24 * MIB),
    (Data::Random, 16 * MIB),
];

const MTIME: u64 = 1_700_000_000;
const TAG: &str = "localhost/airlock/bench:1.0";

#[derive(Clone, Copy)]
enum Data {
    /// Incompressible, like binaries and already-compressed assets.
    Random,
    /// Base64 lines of 76 characters, like text, scripts and JSON.
    Text,
}

/// splitmix64: fast, deterministic, and good enough to defeat compression.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill(&mut self, kind: Data, out: &mut [u8]) {
        const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        match kind {
            Data::Random => {
                for word in out.chunks_mut(8) {
                    let bytes = self.next().to_le_bytes();
                    word.copy_from_slice(&bytes[..word.len()]);
                }
            }
            Data::Text => {
                for line in out.chunks_mut(77) {
                    let (last, body) = line.split_last_mut().expect("non-empty chunk");
                    for b in body.iter_mut() {
                        *b = B64[(self.next() & 63) as usize];
                    }
                    *last = b'\n';
                }
            }
        }
    }
}

fn add(tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
    let mut h = tar::Header::new_ustar();
    h.set_size(data.len() as u64);
    h.set_mode(0o444);
    h.set_mtime(MTIME);
    tar.append_data(&mut h, path, data).expect("in-memory tar");
}

fn add_dir(tar: &mut tar::Builder<Vec<u8>>, path: &str) {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(0o755);
    h.set_mtime(MTIME);
    tar.append_data(&mut h, path, std::io::empty())
        .expect("in-memory tar");
}

/// A layer: a directory and one file of `size` bytes of `kind`.
fn layer(rng: &mut Rng, i: usize, kind: Data, size: usize) -> Vec<u8> {
    let mut data = vec![0; size];
    rng.fill(kind, &mut data);
    let mut tar = tar::Builder::new(Vec::with_capacity(size + 4 * KIB));
    add_dir(&mut tar, "data/");
    add(&mut tar, &format!("data/layer-{i}.bin"), &data);
    tar.into_inner().expect("in-memory tar")
}

fn digest(blob: &[u8]) -> String {
    format!("sha256:{}", Sha256::of(blob).to_hex())
}

fn descriptor(media_type: &str, blob: &[u8]) -> Value {
    json!({"mediaType": media_type, "digest": digest(blob), "size": blob.len()})
}

fn blob_path(blob: &[u8]) -> String {
    format!("blobs/sha256/{}", Sha256::of(blob).to_hex())
}

/// What `docker save` (Docker >= 25) writes for one image.
fn bundle() -> Vec<u8> {
    let mut rng = Rng(0x00a1_7c0c);
    let layers: Vec<Vec<u8>> = LAYERS
        .iter()
        .enumerate()
        .map(|(i, &(kind, size))| layer(&mut rng, i, kind, size))
        .collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| digest(l)).collect::<Vec<_>>(),
        },
        "history": layers.iter().enumerate()
            .map(|(i, _)| json!({"created": "2023-11-14T22:13:20Z", "created_by": format!("COPY layer-{i} /data")}))
            .collect::<Vec<_>>(),
    }))
    .expect("JSON");
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
        "layers": layers.iter()
            .map(|l| descriptor("application/vnd.oci.image.layer.v1.tar", l))
            .collect::<Vec<_>>(),
    }))
    .expect("JSON");
    let mut index_entry = descriptor("application/vnd.oci.image.manifest.v1+json", &manifest);
    index_entry["annotations"] = json!({
        "io.containerd.image.name": TAG,
        "org.opencontainers.image.ref.name": "1.0",
    });
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [index_entry],
    });
    let docker_manifest = json!([{
        "Config": blob_path(&config),
        "RepoTags": [TAG],
        "Layers": layers.iter().map(|l| blob_path(l)).collect::<Vec<_>>(),
    }]);
    let repositories = json!({"localhost/airlock/bench": {"1.0": Sha256::of(&config).to_hex()}});

    let total = layers.iter().map(Vec::len).sum::<usize>() + 64 * KIB;
    let mut tar = tar::Builder::new(Vec::with_capacity(total));
    add_dir(&mut tar, "blobs/");
    add_dir(&mut tar, "blobs/sha256/");
    for blob in layers.iter().chain([&config, &manifest]) {
        add(&mut tar, &blob_path(blob), blob);
    }
    let json_files = [
        ("index.json", index),
        ("manifest.json", docker_manifest),
        ("oci-layout", json!({"imageLayoutVersion": "1.0.0"})),
        ("repositories", repositories),
    ];
    for (path, value) in json_files {
        add(&mut tar, path, &serde_json::to_vec(&value).expect("JSON"));
    }
    tar.into_inner().expect("in-memory tar")
}

/// One full verification, fed `chunk` bytes at a time through `buf`.
fn verify(bundle: &[u8], sha256: Sha256, hash_file: bool, buf: &mut [u8]) -> Verdict {
    let mut v = Verifier::new(
        Options::new()
            .with_expected_sha256(Some(sha256))
            .with_hash_file(hash_file),
    );
    for piece in bundle.chunks(buf.len()) {
        let buf = &mut buf[..piece.len()];
        buf.copy_from_slice(piece);
        // Every row reads the whole bundle, as it always has.
        let _ = v.update(black_box(buf));
    }
    let report = if hash_file {
        v.finish()
    } else {
        // The CLI and the page hash on another core and hand the result in.
        v.finish_with_file_sha256(sha256)
    };
    assert!(
        report.findings().is_empty(),
        "the bench bundle must verify cleanly: {:#?}",
        report.findings()
    );
    report.verdict()
}

fn chunks(c: &mut Criterion) {
    let bundle = bundle();
    let sha256 = Sha256::of(&bundle);
    let mut buf = vec![0; MIB];
    assert_eq!(verify(&bundle, sha256, true, &mut buf), Verdict::Ok);

    let mut group = c.benchmark_group("chunks");
    // One iteration verifies 128 MiB; flat sampling keeps the count of
    // iterations (and the run) short.
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Bytes(bundle.len() as u64));
    for hash_file in [false, true] {
        for (size, name) in CHUNKS {
            let mut buf = vec![0; size];
            group.bench_function(
                BenchmarkId::new(format!("hash_file={hash_file}"), name),
                |b| {
                    b.iter(|| verify(&bundle, sha256, hash_file, &mut buf));
                },
            );
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = chunks
}
criterion_main!(benches);
