//! Hostile bundles against the verifier's limits (issue #6): a 1 GiB JSON
//! entry, a million tiny entries, indexes nested 64 deep and a layer that
//! inflates to 8 GiB of zeros. Each is generated as a stream into a FIFO
//! (nothing big is stored) and `airlock verify` must fail it with a
//! `limit-exceeded` finding naming the limit, while its peak RSS, measured
//! by `/usr/bin/time`, stays flat. `--limit` raising the limit lets the
//! bundle through that check.

mod support;

use std::io::{self, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use test_support::cases;

/// Peak RSS `airlock verify` may reach on any of these bundles.
const FLAT_RSS_KIB: u64 = 64 * 1024;

/// One `airlock verify --json` run over a generated stream.
struct Run {
    report: Value,
    seconds: f64,
    peak_rss_kib: u64,
}

type Generator = Box<dyn FnOnce(&mut dyn Write) -> io::Result<()> + Send>;

/// Runs `airlock verify --json --no-progress EXTRA… FIFO` under
/// `/usr/bin/time` while a thread writes the bundle into the FIFO.
fn verify_streamed(name: &str, extra: &[&str], generate: Generator) -> Run {
    let dir = support::scratch(&format!("limits-{name}"));
    let fifo = dir.join("bundle.tar");
    let rss = dir.join("peak-rss");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    let start = std::time::Instant::now();
    let child = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&rss)
        .arg(env!("CARGO_BIN_EXE_airlock"))
        .args(["verify", "--json", "--no-progress"])
        .args(extra)
        .arg(&fifo)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("/usr/bin/time runs airlock");
    let opened = Arc::new(AtomicBool::new(false));
    let writer = {
        let (fifo, opened) = (fifo.clone(), Arc::clone(&opened));
        std::thread::spawn(move || {
            let file = std::fs::OpenOptions::new().write(true).open(&fifo)?;
            opened.store(true, Ordering::SeqCst);
            let mut out = io::BufWriter::with_capacity(1 << 20, file);
            generate(&mut out)?;
            out.flush()
        })
    };
    let out = child.wait_with_output().expect("airlock ends");
    let seconds = start.elapsed().as_secs_f64();
    if !opened.load(Ordering::SeqCst) {
        // airlock ended without opening the FIFO: let the writer through.
        let _ = std::fs::File::open(&fifo);
    }
    match writer.join().expect("the writer thread") {
        // airlock may stop reading once a limit has ended the check.
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => panic!("writing the bundle: {e}"),
        _ => {}
    }
    let peak_rss_kib = std::fs::read_to_string(&rss)
        .ok()
        .and_then(|s| s.lines().last()?.trim().parse().ok())
        .unwrap_or_else(|| panic!("peak RSS in {}", rss.display()));
    let report = support::json(&out);
    eprintln!(
        "{name}: {seconds:.1} s, peak RSS {:.1} MiB, verdict {}",
        peak_rss_kib as f64 / 1024.0,
        report["verdict"]
    );
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        report,
        seconds,
        peak_rss_kib,
    }
}

/// The `limit-exceeded` findings of a report, by the limit they name.
fn limits_hit(report: &Value) -> Vec<&str> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["kind"] == "limit-exceeded")
        .map(|f| f["limit"].as_str().unwrap_or("(unnamed)"))
        .collect()
}

/// Fails with `limit`, in flat memory.
fn assert_stopped_by(run: &Run, limit: &str) {
    assert_eq!(
        run.report["verdict"], "fail",
        "{:#}",
        run.report["findings"]
    );
    assert!(
        limits_hit(&run.report).contains(&limit),
        "no limit-exceeded naming {limit}: {:#}",
        run.report["findings"]
    );
    assert!(
        run.peak_rss_kib < FLAT_RSS_KIB,
        "peak RSS {} KiB (limit {FLAT_RSS_KIB} KiB) after {:.1} s",
        run.peak_rss_kib,
        run.seconds
    );
}

/// A ustar header of a regular file.
fn header(path: &str, size: u64) -> [u8; cases::BLOCK] {
    let mut h = cases::file_header(size);
    h.set_path(path).expect("short path");
    h.set_cksum();
    *h.as_bytes()
}

/// The zeros after a file's data up to the next block, and the end of the archive.
fn padding(size: u64) -> Vec<u8> {
    vec![0; (size.next_multiple_of(cases::BLOCK as u64) - size) as usize]
}

#[test]
fn json_entry_of_one_gib() {
    const SIZE: u64 = 1 << 30;
    let run = verify_streamed(
        "json-1gib",
        &[],
        Box::new(|out| {
            out.write_all(&header("manifest.json", SIZE))?;
            out.write_all(b"[")?;
            let spaces = vec![b' '; 1 << 20];
            let mut left = SIZE - 2;
            while left > 0 {
                let n = left.min(spaces.len() as u64) as usize;
                out.write_all(&spaces[..n])?;
                left -= n as u64;
            }
            out.write_all(b"]")?;
            out.write_all(&padding(SIZE))?;
            out.write_all(&[0; 2 * cases::BLOCK])
        }),
    );
    assert_stopped_by(&run, "max_json_bytes");
}

#[test]
fn a_million_empty_entries() {
    let run = verify_streamed(
        "million-entries",
        &[],
        Box::new(|out| {
            for i in 0..1_000_000 {
                out.write_all(&header(&format!("e{i:07}"), 0))?;
            }
            out.write_all(&[0; 2 * cases::BLOCK])
        }),
    );
    assert_stopped_by(&run, "max_entries");
}

/// podman's OCI archive with its manifest wrapped in `depth` image indexes.
fn nested_indexes(depth: usize) -> Vec<u8> {
    let mut image = cases::podman_oci();
    let top = image.index["manifests"][0].clone();
    let mut desc = json!({
        "mediaType": top["mediaType"],
        "digest": top["digest"],
        "size": top["size"],
    });
    for _ in 0..depth {
        let index = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [desc],
        });
        let (digest, size) = image.bundle.put_blob(cases::to_json(&index));
        desc = json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest,
            "size": size,
        });
    }
    desc["annotations"] = top["annotations"].clone();
    image.index["manifests"] = json!([desc]);
    image.bundle.put("index.json", cases::to_json(&image.index));
    image.bundle.tar()
}

fn in_memory(bytes: Vec<u8>) -> Generator {
    Box::new(move |out| out.write_all(&bytes))
}

#[test]
fn indexes_nested_64_deep() {
    let run = verify_streamed("nested-64", &[], in_memory(nested_indexes(64)));
    assert_stopped_by(&run, "max_index_depth");
}

#[test]
fn raising_a_limit_lets_the_bundle_through_it() {
    let bundle = nested_indexes(12);
    let refused = verify_streamed("nested-12", &[], in_memory(bundle.clone()));
    assert_stopped_by(&refused, "max_index_depth");
    let raised = verify_streamed(
        "nested-12-raised",
        &["--limit", "max_index_depth=16"],
        in_memory(bundle),
    );
    assert_eq!(limits_hit(&raised.report), Vec::<&str>::new());
    assert_eq!(
        raised.report["verdict"], "ok",
        "{:#}",
        raised.report["findings"]
    );
    assert_eq!(raised.report["images"].as_array().map(Vec::len), Some(1));
}

#[test]
fn unknown_limits_are_usage_errors() {
    let bundle = test_support::corpus_dir().join("good/podman-oci-archive.tar");
    let bundle = bundle.to_str().expect("utf-8 path");
    for bad in [
        "max_bombs=1",
        "max_entries",
        "max_entries=many",
        "max_entries=1PB",
    ] {
        let out = support::airlock(&["verify", "--limit", bad, bundle]);
        assert_eq!(out.status.code(), Some(2), "--limit {bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--limit"), "--limit {bad}: {stderr}");
    }
    let out = support::airlock(&["verify", "--limit", "max_bombs=1", bundle]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("max_json_bytes"),
        "the valid names are listed"
    );
}

/// gzip of `pieces` × 64 MiB of zeros, made by compressing 64 MiB once: a
/// sync-flushed deflate piece that starts from empty history refers only to
/// itself, so repeating it and closing with an empty final block is one
/// valid deflate stream.
fn gzip_of_zeros(pieces: u32) -> Vec<u8> {
    let zeros = vec![0u8; 64 << 20];
    let mut deflate = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    deflate.write_all(&zeros).expect("in-memory deflate");
    deflate.flush().expect("in-memory deflate");
    let piece = deflate.get_ref().clone();
    let mut one = flate2::Crc::new();
    one.update(&zeros);
    let mut crc = flate2::Crc::new();
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for _ in 0..pieces {
        out.extend_from_slice(&piece);
        crc.combine(&one);
    }
    out.extend_from_slice(&[0x03, 0x00]); // final fixed-Huffman block, no data
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

#[test]
fn layer_inflating_to_8_gib() {
    let layer = gzip_of_zeros(128);
    let mut config = cases::classic_config(&layer);
    config["rootfs"]["diff_ids"] = json!([format!("sha256:{}", "0".repeat(64))]);
    let bundle = cases::docker_archive(&config, &[layer]);
    let run = verify_streamed("gzip-bomb-8gib", &[], in_memory(bundle));
    assert_stopped_by(&run, "max_expansion_ratio");
}

#[test]
fn the_zero_gzip_is_what_it_claims() {
    let gzip = gzip_of_zeros(2);
    let mut inflated = flate2::read::GzDecoder::new(gzip.as_slice());
    let mut count = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = io::Read::read(&mut inflated, &mut buf).expect("valid gzip");
        if n == 0 {
            break;
        }
        assert!(buf[..n].iter().all(|&b| b == 0));
        count += n as u64;
    }
    assert_eq!(count, 128 << 20);
}
