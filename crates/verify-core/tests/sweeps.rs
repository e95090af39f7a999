//! Generated damage on real bundles: single-bit flips at seeded positions and
//! truncation at every block boundary. Every flip inside content-addressed
//! bytes must fail the bundle even without a recorded file hash; every cut
//! must be reported as `truncated` at exactly the cut's offset.

use test_support::corpus_dir;
use verify_core::{FindingKind, Options, Report, Sha256, Verdict, Verifier};

fn verify(bytes: &[u8], expected: Option<Sha256>) -> Report {
    let mut v = Verifier::new(Options::new().with_expected_sha256(expected));
    // Fed whole: the report of the whole file, settled or not.
    let _ = v.update(bytes);
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

/// Offsets of the ustar header block of every entry.
fn header_blocks(bytes: &[u8]) -> Vec<u64> {
    let mut archive = tar::Archive::new(bytes);
    archive
        .entries()
        .expect("corpus tar lists")
        .map(|e| e.expect("corpus entry").raw_header_position())
        .collect()
}

/// ustar header fields by their first byte.
const HEADER_FIELDS: [(u64, &str); 17] = [
    (0, "name"),
    (100, "mode"),
    (108, "uid"),
    (116, "gid"),
    (124, "size"),
    (136, "mtime"),
    (148, "chksum"),
    (156, "typeflag"),
    (157, "linkname"),
    (257, "magic"),
    (263, "version"),
    (265, "uname"),
    (297, "gname"),
    (329, "devmajor"),
    (337, "devminor"),
    (345, "prefix"),
    (500, "header padding"),
];

/// Framing bytes whose value no importer acts on. Go's `archive/tar` skips
/// the padding after an entry's data unread, and parses the checksum up to
/// its first NUL after trimming spaces and NULs: Go writes six digits, NUL,
/// space, so the last two bytes may become NUL/space or anything after a NUL.
/// Any other header byte changes the sum the checksum must match.
const IGNORED_BY_IMPORTERS: [&str; 2] = ["data padding", "chksum terminator"];

/// Which part of the tar framing `pos` is in, for flips the verifier let pass.
fn framing_part(regions: &[(u64, u64, Region)], headers: &[u64], pos: u64) -> &'static str {
    if regions
        .iter()
        .any(|(_, end, _)| (*end..end.next_multiple_of(512)).contains(&pos))
    {
        return "data padding";
    }
    let block = pos / 512 * 512;
    if !headers.contains(&block) {
        return "other framing (extended header or end of archive)";
    }
    let field = pos - block;
    if (154..156).contains(&field) {
        return "chksum terminator";
    }
    HEADER_FIELDS
        .iter()
        .rev()
        .find(|(start, _)| *start <= field)
        .map_or("header", |(_, name)| name)
}

fn region_of(regions: &[(u64, u64, Region)], pos: u64) -> &Region {
    regions
        .iter()
        .find(|(s, e, _)| (*s..*e).contains(&pos))
        .map_or(&Region::Framing, |(_, _, r)| r)
}

/// The byte ranges outside every entry's data: headers, padding and the
/// end-of-archive blocks.
fn framing(regions: &[(u64, u64, Region)], len: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut at = 0;
    for (start, end, _) in regions {
        if *start > at {
            out.push((at, *start));
        }
        at = *end;
    }
    if len > at {
        out.push((at, len));
    }
    out
}

/// The `n`th byte of the framing ranges.
fn nth_framing_byte(framing: &[(u64, u64)], mut n: u64) -> u64 {
    for (start, end) in framing {
        if n < end - start {
            return start + n;
        }
        n -= end - start;
    }
    unreachable!("n is below the framing's total length")
}

/// What an importer would create from a report: every image's names, manifest
/// and config digests and layers, as JSON so a difference prints readably.
fn images(report: &Report) -> serde_json::Value {
    serde_json::to_value(report.images()).expect("images serialize")
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

/// Single-bit flips over every uncompressed corpus bundle: two of three at
/// uniformly drawn positions (mostly blob bytes), one of three in the tar
/// framing. A flip in content-addressed bytes must fail the bundle with no
/// recorded hash to lean on; a flip in the framing must fail it too, or be
/// harmless: it landed in bytes no importer reads (data padding, the
/// checksum's terminator) and the images a load would create are exactly
/// the unflipped bundle's (names, manifest, config and layer digests). Counts per file are weighted against file size to
/// keep the sweep near half a minute in the unoptimized test profile.
#[test]
fn bit_flips_in_addressed_bytes_always_fail() {
    let files = [
        ("good/podman-oci-archive.tar", 1000),
        ("good/skopeo-oci-archive-zstd.tar", 700),
        ("good/oci-layout-gzip.tar", 700),
        ("good/docker-save-legacy.tar", 600),
        ("good/podman-docker-archive-multi.tar", 500),
        ("good/skopeo-docker-archive.tar", 300),
        ("good/containerd-export.tar", 300),
    ];
    let mut rng = Lcg(0x5eed_a1b0);
    let (mut tried, mut addressed, mut plain) = (0, 0, 0);
    let (mut framing_caught, mut framing_harmless) = (0, 0);
    let mut harmless_parts = std::collections::BTreeMap::new();
    for (file, flips) in files {
        let mut bytes = std::fs::read(corpus_dir().join(file)).expect("corpus file");
        let recorded = Sha256::of(&bytes);
        let unflipped = verify(&bytes, Some(recorded));
        assert_eq!(
            unflipped.verdict(),
            Verdict::Ok,
            "{file}: {:#?}",
            unflipped.findings()
        );
        let unflipped = images(&unflipped);
        let map = regions(&bytes);
        let header_blocks = header_blocks(&bytes);
        let framing = framing(&map, bytes.len() as u64);
        let framing_len: u64 = framing.iter().map(|(s, e)| e - s).sum();
        for i in 0..flips {
            let pos = if i % 3 == 2 {
                nth_framing_byte(&framing, rng.next() % framing_len)
            } else {
                rng.next() % bytes.len() as u64
            };
            let bit = 1u8 << (rng.next() % 8);
            bytes[pos as usize] ^= bit;
            // With the recorded hash the report is the one without it plus
            // the file-digest finding, so one run answers both questions.
            let report = verify(&bytes, Some(recorded));
            bytes[pos as usize] ^= bit;
            tried += 1;
            assert!(
                report.has(FindingKind::FileDigestMismatch),
                "{file} @ {pos}"
            );
            let caught = report
                .errors()
                .any(|f| f.kind != FindingKind::FileDigestMismatch);
            match region_of(&map, pos) {
                Region::Addressed => {
                    addressed += 1;
                    assert!(
                        caught,
                        "{file}: flip of bit {bit:#x} at {pos} not caught: {:#?}",
                        report.findings()
                    );
                }
                Region::Framing if caught => framing_caught += 1,
                Region::Framing => {
                    framing_harmless += 1;
                    let part = framing_part(&map, &header_blocks, pos);
                    assert!(
                        IGNORED_BY_IMPORTERS.contains(&part),
                        "{file}: flip of bit {bit:#x} at {pos} ({part}) passed, but \
                         importers read that byte: {:#?}",
                        report.findings()
                    );
                    *harmless_parts.entry(part).or_insert(0) += 1;
                    assert_eq!(
                        images(&report),
                        unflipped,
                        "{file}: flip of bit {bit:#x} at {pos} in the tar framing passed \
                         and changed what would be imported"
                    );
                }
                Region::Plain => plain += 1,
            }
        }
    }
    assert!(tried >= 4000, "{tried} flips");
    assert!(
        addressed > tried / 3,
        "most uniform flips should land in blobs ({addressed} of {tried})"
    );
    eprintln!(
        "bit flips: {tried} tried, {addressed} in addressed bytes (all caught), \
         {} in tar framing ({framing_caught} caught, {framing_harmless} harmless), \
         {plain} in plain JSON; harmless flips by where they landed: {harmless_parts:?}",
        framing_caught + framing_harmless
    );
}

#[test]
fn every_cut_is_reported_where_it_happens() {
    for (file, step) in [
        ("good/podman-oci-archive.tar", 512),
        ("good/containerd-export.tar", 512 * 37),
    ] {
        let bytes = std::fs::read(corpus_dir().join(file)).expect("corpus file");
        let mut cuts: Vec<usize> = (0..bytes.len()).step_by(step).collect();
        let mut rng = Lcg(7);
        cuts.extend((0..40).map(|_| (rng.next() % bytes.len() as u64) as usize));
        for cut in cuts {
            let report = verify(&bytes[..cut], None);
            assert_eq!(report.verdict(), Verdict::Fail, "{file} cut at {cut}");
            if cut == 0 {
                assert!(report.has(FindingKind::NotABundle));
                continue;
            }
            let truncated = report
                .findings()
                .iter()
                .find(|f| f.kind == FindingKind::Truncated)
                .unwrap_or_else(|| panic!("{file} cut at {cut}: {:#?}", report.findings()));
            assert_eq!(truncated.offset, Some(cut as u64), "{file} cut at {cut}");
        }
    }
}

#[test]
fn gzip_bundle_cuts_are_truncations() {
    let bytes =
        std::fs::read(corpus_dir().join("good/docker-save-legacy.tar.gz")).expect("corpus file");
    for cut in (1..bytes.len()).step_by(bytes.len() / 50) {
        let report = verify(&bytes[..cut], None);
        assert_eq!(report.verdict(), Verdict::Fail, "cut at {cut}");
        assert!(
            report.has(FindingKind::Truncated),
            "cut at {cut}: {:#?}",
            report.findings()
        );
    }
}
