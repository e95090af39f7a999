//! Generated damage on real bundles: single-bit flips at seeded positions and
//! truncation at every block boundary. Every flip inside content-addressed
//! bytes must fail the bundle even without a recorded file hash; every cut
//! must be reported as `truncated` at exactly the cut's offset.

use std::path::{Path, PathBuf};

use verify_core::{FindingKind, Options, Report, Sha256, Verdict, Verifier};

fn corpus() -> PathBuf {
    std::env::var_os("AIRLOCK_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
        PathBuf::from,
    )
}

fn verify(bytes: &[u8], expected: Option<Sha256>) -> Report {
    let mut v = Verifier::new(Options {
        expected_sha256: expected,
        ..Options::default()
    });
    v.update(bytes);
    v.finish()
}

/// Where a byte of the archive sits.
#[derive(Debug, PartialEq, Eq)]
enum Region {
    /// Data of an entry whose bytes are named by a digest (blobs, layers,
    /// configs): any change must be caught.
    Addressed,
    /// Data of an entry that is not content-addressed (index.json,
    /// manifest.json, legacy metadata): a change may be a valid edit.
    Plain,
    /// Header blocks, padding and the end-of-archive blocks.
    Framing,
}

fn regions(bytes: &[u8]) -> Vec<(u64, u64, Region)> {
    let mut archive = tar::Archive::new(bytes);
    let mut out = Vec::new();
    for entry in archive.entries().expect("corpus tar lists") {
        let entry = entry.expect("corpus entry");
        let name = entry.path().expect("path").to_string_lossy().into_owned();
        let name = name.trim_start_matches("./");
        let start = entry.raw_file_position();
        let size = entry.size();
        let base = name.rsplit('/').next().unwrap_or(name);
        let addressed = name.starts_with("blobs/sha256/")
            || base.strip_suffix(".json").is_some_and(|s| s.len() == 64)
            || base.strip_suffix(".tar").is_some_and(|s| s.len() == 64)
            || base == "layer.tar";
        if size > 0 {
            out.push((
                start,
                start + size,
                if addressed {
                    Region::Addressed
                } else {
                    Region::Plain
                },
            ));
        }
    }
    out
}

fn region_of(regions: &[(u64, u64, Region)], pos: u64) -> &Region {
    regions
        .iter()
        .find(|(s, e, _)| (*s..*e).contains(&pos))
        .map_or(&Region::Framing, |(_, _, r)| r)
}

/// A small deterministic generator (64-bit LCG), so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
}

#[test]
fn bit_flips_in_addressed_bytes_always_fail() {
    let files = [
        "good/podman-oci-archive.tar",
        "good/skopeo-oci-archive-zstd.tar",
        "good/oci-layout-gzip.tar",
        "good/docker-save-legacy.tar",
        "good/skopeo-docker-archive.tar",
    ];
    let mut rng = Lcg(0x5eed_a1b0);
    let (mut tried, mut addressed, mut framing_caught, mut framing) = (0, 0, 0, 0);
    for file in files {
        let original = std::fs::read(corpus().join(file)).expect("corpus file");
        let recorded = Sha256::of(&original);
        let map = regions(&original);
        for _ in 0..120 {
            let pos = rng.next() % original.len() as u64;
            let bit = 1u8 << (rng.next() % 8);
            let mut bytes = original.clone();
            bytes[pos as usize] ^= bit;
            tried += 1;
            let report = verify(&bytes, None);
            match region_of(&map, pos) {
                Region::Addressed => {
                    addressed += 1;
                    assert_eq!(
                        report.verdict,
                        Verdict::Fail,
                        "{file}: flip of bit {bit:#x} at {pos} not caught: {:#?}",
                        report.findings
                    );
                }
                Region::Framing => {
                    framing += 1;
                    if report.verdict == Verdict::Fail {
                        framing_caught += 1;
                    }
                }
                Region::Plain => {}
            }
            let with_hash = verify(&bytes, Some(recorded));
            assert!(
                with_hash.has(FindingKind::FileDigestMismatch),
                "{file} @ {pos}"
            );
        }
    }
    assert!(
        addressed > tried / 2,
        "most flips should land in blobs ({addressed} of {tried})"
    );
    eprintln!(
        "bit flips: {tried} tried, {addressed} in addressed bytes (all caught), \
         {framing_caught}/{framing} in tar framing caught"
    );
}

#[test]
fn every_cut_is_reported_where_it_happens() {
    for (file, step) in [
        ("good/podman-oci-archive.tar", 512),
        ("good/containerd-export.tar", 512 * 37),
    ] {
        let bytes = std::fs::read(corpus().join(file)).expect("corpus file");
        let mut cuts: Vec<usize> = (0..bytes.len()).step_by(step).collect();
        let mut rng = Lcg(7);
        cuts.extend((0..40).map(|_| (rng.next() % bytes.len() as u64) as usize));
        for cut in cuts {
            let report = verify(&bytes[..cut], None);
            assert_eq!(report.verdict, Verdict::Fail, "{file} cut at {cut}");
            if cut == 0 {
                assert!(report.has(FindingKind::NotABundle));
                continue;
            }
            let truncated = report
                .findings
                .iter()
                .find(|f| f.kind == FindingKind::Truncated)
                .unwrap_or_else(|| panic!("{file} cut at {cut}: {:#?}", report.findings));
            assert_eq!(truncated.offset, Some(cut as u64), "{file} cut at {cut}");
        }
    }
}

#[test]
fn gzip_bundle_cuts_are_truncations() {
    let bytes =
        std::fs::read(corpus().join("good/docker-save-legacy.tar.gz")).expect("corpus file");
    for cut in (1..bytes.len()).step_by(bytes.len() / 50) {
        let report = verify(&bytes[..cut], None);
        assert_eq!(report.verdict, Verdict::Fail, "cut at {cut}");
        assert!(
            report.has(FindingKind::Truncated),
            "cut at {cut}: {:#?}",
            report.findings
        );
    }
}
