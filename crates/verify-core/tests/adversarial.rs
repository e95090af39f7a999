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

use std::io::Read;

use serde_json::json;
use test_support::cases::*;
use verify_core::{Finding, FindingKind, Limits, Options, Report, Sha256, Verdict, Verifier};

// ---------------------------------------------------------------------------
// Running the verifier
// ---------------------------------------------------------------------------

fn verify_with(bytes: &[u8], options: &Options, chunk: usize) -> Report {
    let mut v = Verifier::new(options.clone());
    for piece in bytes.chunks(chunk.max(1)) {
        // Fed to the end whatever the flow: the report of the whole file.
        let _ = v.update(piece);
    }
    v.finish()
}

fn verify(bytes: &[u8]) -> Report {
    verify_with(bytes, &Options::default(), bytes.len())
}

fn kind_names(r: &Report) -> Vec<&'static str> {
    r.findings().iter().map(|f| f.kind.as_str()).collect()
}

fn count(r: &Report, kind: FindingKind) -> usize {
    r.findings().iter().filter(|f| f.kind == kind).count()
}

fn assert_fails_with(r: &Report, kind: FindingKind, case: &str) {
    assert_eq!(
        r.verdict(),
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
        r.verdict(),
        Verdict::Ok,
        "{case}: must verify; findings {:#?}",
        r.findings()
    );
    assert!(!r.images().is_empty(), "{case}: no images");
}

/// Whether any image in the report carries `tag`.
fn shows_tag(r: &Report, tag: &str) -> bool {
    r.images()
        .iter()
        .any(|i| i.repo_tags.iter().any(|t| t == tag))
}

fn assert_hidden_content_not_believed(r: &Report, case: &str) {
    assert!(
        !shows_tag(r, EVIL_TAG),
        "{case}: the smuggled manifest.json must not be believed: {:#?}",
        r.images()
    );
}

/// Limits under which a few MiB of zeros are already a bomb.
fn tight_ratio() -> Options {
    let mut limits = Limits::default();
    limits.ratio_floor_bytes = 1 << 20;
    limits.max_expansion_ratio = 10;
    Options::new().with_limits(limits)
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
    let r = verify(&case_b2());
    assert_eq!(r.verdict(), Verdict::Fail, "B2: {:?}", kind_names(&r));
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
    for gnu in [true, false] {
        let r = verify(&case_c2(gnu));
        let case = if gnu { "C2 (GNU)" } else { "C2 (PAX)" };
        assert_eq!(r.verdict(), Verdict::Fail, "{case}: {:?}", kind_names(&r));
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
    let r = verify(&case_d3());
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
    let r = verify(&case_d4());
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "D4");
}

/// D5: a base-256 time too large for 64 bits is not a number to Go either.
#[test]
fn d5_gnu_time_field_base_256_overflow() {
    let r = verify(&case_d5());
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "D5");
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

/// A name Docker's reference grammar refuses (here an upper-case path
/// component) among good ones: `docker load` would tag the images before it
/// and then stop, half-importing the bundle. The core fails the bundle, so
/// nothing is loaded; the good name is still shown.
#[test]
fn a_name_docker_refuses_fails_the_bundle() {
    let r = verify(&case_bad_name());
    assert_fails_with(&r, FindingKind::MalformedJson, "bad-name");
    let finding = r
        .findings()
        .iter()
        .find(|f| f.kind == FindingKind::MalformedJson)
        .expect("finding");
    assert!(
        finding.message.contains("demo/zz/Bad:1"),
        "{}",
        finding.message
    );
    assert!(
        finding.message.contains("lower-case"),
        "{}",
        finding.message
    );
    assert!(shows_tag(&r, "docker.io/demo/app:1.0"));
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
    assert_eq!(r.images().len(), 1, "F: {:#?}", r.images());
    assert!(shows_tag(&r, EVIL_TAG), "F: {:#?}", r.images());
    assert!(
        r.images()[0]
            .layers
            .iter()
            .all(|l| l.uncompressed_size.is_some()),
        "F: layers were checked: {:#?}",
        r.images()[0].layers
    );

    let r = verify(&case_f(true));
    assert_fails_with(&r, FindingKind::DiffIdMismatch, "F2");
    assert!(!r.images().is_empty(), "F2: the image is shown");
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
        !r.images().is_empty(),
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
    let bytes = case_j(JUNK);
    let options = Options::new().with_expected_sha256(Some(Sha256::of(&bytes)));
    let r = verify_with(&bytes, &options, bytes.len());
    assert_ok(&r, "J");
    assert_eq!(
        r.findings().len(),
        JUNK,
        "J: {:?}",
        kind_names(&r).iter().take(5).collect::<Vec<_>>()
    );
    assert_eq!(count(&r, FindingKind::UnreferencedBlob), JUNK);
    let entries: std::collections::HashSet<_> = r
        .findings()
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
    assert_eq!(
        r.images()[0]
            .platform
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("linux/amd64")
    );
    assert_eq!(r.images()[0].repo_tags, ["example.com/app:1"]);

    let r = verify(&case_k2());
    assert_ok(&r, "K2");
    assert!(r.images()[0].layers.is_empty());

    let r = verify(&case_k3());
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
    assert_eq!(r.images().len(), 2, "M: {:#?}", r.images());
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
    let cases: [(&str, Vec<u8>, &Options); 16] = [
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
        ("pax-no-newline", case_pax_no_newline(), &defaults),
        ("pax-bad-mtime", case_pax_bad_mtime(), &defaults),
        ("pax-xattr-nul", case_pax_xattr_nul(), &defaults),
        ("two-long-names", case_two_long_names(), &defaults),
        ("old-gnu-sparse", case_old_gnu_sparse(), &defaults),
        ("negative-size", case_negative_size(), &defaults),
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

/// Issue #6's shapes, with the verdicts the differential test
/// (`crates/native-cli/tests/differential.rs`) checks against the real
/// importers: a second `manifest.json` or a second copy of a blob is a
/// duplicate (Go readers let the last copy win, others the first); entries
/// after the end-of-archive marker, which Go never reads, are trailing
/// data; uppercase hex is not a digest (go-digest refuses it) and sha512
/// is not supported. Shared and hard-linked layers, pretty-printed JSON and
/// an empty layer file are what docker and podman load as reported.
#[test]
fn differential_shapes_from_issue_6() {
    for (case, bytes, kind) in [
        (
            "dup-manifest",
            case_duplicate_manifest(),
            FindingKind::DuplicateEntry,
        ),
        (
            "dup-blob",
            case_duplicate_blob(),
            FindingKind::DuplicateEntry,
        ),
        ("after-eoa", case_after_eoa(), FindingKind::TrailingData),
        (
            "sha512-manifest",
            case_sha512_manifest(),
            FindingKind::UnsupportedDigest,
        ),
    ] {
        let r = verify(&bytes);
        assert_fails_with(&r, kind, case);
        assert_hidden_content_not_believed(&r, case);
    }
    let r = verify(&case_uppercase_digest());
    assert_eq!(
        r.verdict(),
        Verdict::Fail,
        "uppercase: {:?}",
        kind_names(&r)
    );
    for (case, bytes, images) in [
        ("shared-layer", case_shared_layer(), 2),
        ("hardlink-layer", case_hardlink_layer(), 2),
        ("noncanonical-json", case_noncanonical_json(), 1),
        ("zero-size-layer", case_zero_size_layer(), 1),
    ] {
        let r = verify(&bytes);
        assert_ok(&r, case);
        assert_eq!(r.images().len(), images, "{case}: {:#?}", r.images());
        // containerd's and containers/image's importers refuse hard links
        // (see the differential test): the approver is told, once per link.
        let expected = usize::from(case == "hardlink-layer");
        assert_eq!(
            count(&r, FindingKind::HardlinkedFile),
            expected,
            "{case}: {:?}",
            kind_names(&r)
        );
    }
    let r = verify(&case_hardlink_layer());
    let warning = r
        .findings()
        .iter()
        .find(|f| f.kind == FindingKind::HardlinkedFile)
        .expect("a hardlinked-file warning");
    assert_eq!(warning.entry.as_deref(), Some("b/layer.tar"));
}

// ---------------------------------------------------------------------------
// The outer tar as Go's archive/tar reads it (issue #13, item 7). Go's own
// test files (`reader_test.go`) say what it accepts and refuses; the cases
// rebuild them as headers appended to a good bundle.
// ---------------------------------------------------------------------------

/// The first finding of `kind` about `entry`, or at `offset` when the
/// entry is not known.
fn finding_about<'r>(r: &'r Report, kind: FindingKind, entry: Option<&str>) -> &'r Finding {
    r.findings()
        .iter()
        .find(|f| f.kind == kind && f.entry.as_deref() == entry)
        .unwrap_or_else(|| panic!("a {kind} finding about {entry:?}: {:#?}", r.findings()))
}

/// Where the first header appended to podman-oci-archive.tar starts.
fn appended_at() -> u64 {
    strip_eoa(&good("podman-oci-archive.tar")).len() as u64
}

/// A PAX record whose length counts a newline that is not there: the `tar`
/// crate reads it and Airlock said ok, but Go's reader stops with "invalid
/// tar header", so docker and podman refuse the bundle. It must fail at the
/// record, the first byte of the header's data.
#[test]
fn pax_record_without_its_newline_fails_where_go_stops() {
    let r = verify(&case_pax_no_newline());
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "pax-no-newline");
    let f = finding_about(&r, FindingKind::TarHeaderInvalid, None);
    assert!(f.message.contains("newline"), "{}", f.message);
    assert_eq!(f.offset, Some(appended_at() + BLOCK as u64));
}

/// A PAX `mtime` that is a date, not seconds: Airlock ignored it and said
/// ok; Go refuses the entry it belongs to. It must fail at that PAX
/// header, naming the entry and the value.
#[test]
fn pax_mtime_that_is_not_seconds_fails_where_go_stops() {
    let at = appended_at();
    let r = verify(&case_pax_bad_mtime());
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "pax-bad-mtime");
    let f = finding_about(&r, FindingKind::TarHeaderInvalid, Some("junk.txt"));
    assert!(f.message.contains("`mtime`"), "{}", f.message);
    assert_eq!(f.offset, Some(at));
    assert_eq!(f.found.as_deref(), Some("2023-11-14T22:13:20Z"));
}

/// A NUL-terminated SELinux label in `SCHILY.xattr.security.selinux`, on
/// every entry of a real docker save: Go reads NULs in any PAX value but a
/// name's, and so do docker and podman. Airlock refused the bundle ("PAX
/// header records do not parse"), a false failure on bundles from SELinux
/// hosts. It must verify, with the same images and findings as without.
#[test]
fn selinux_label_with_its_nul_verifies() {
    let r = verify(&case_pax_xattr_nul());
    assert_ok(&r, "pax-xattr-nul");
    let plain = verify(&good("docker-save-legacy.tar"));
    assert_eq!(
        serde_json::to_value(r.images()).expect("images serialize"),
        serde_json::to_value(plain.images()).expect("images serialize")
    );
    assert_eq!(kind_names(&r), kind_names(&plain));
}

/// Two GNU long names before the evil manifest: `manifest.json`, then
/// `junk/decoy`. Go (docker, podman) names the entry `junk/decoy`, Python's
/// tarfile `manifest.json`; Airlock followed Go silently and said ok. A
/// name that depends on the reader is `tar-header-invalid`, reported on the
/// entry Go sees, at the second long name, with both names.
#[test]
fn two_gnu_long_names_are_a_disagreement() {
    let r = verify(&case_two_long_names());
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "two-long-names");
    assert_hidden_content_not_believed(&r, "two-long-names");
    let f = finding_about(&r, FindingKind::TarHeaderInvalid, Some("junk/decoy"));
    assert_eq!(
        f.found.as_deref(),
        Some("`manifest.json`, then `junk/decoy`")
    );
}

/// An old GNU sparse entry whose map continues in an extension block.
/// Airlock read the extension block's place as the data and the data as
/// the next header, and reported a checksum error in the middle of the
/// packed bytes. It must report the entry by its type, step over the map
/// and the packed data as Go does, and read the entry after it.
#[test]
fn old_gnu_sparse_entries_are_reported_by_their_type() {
    let r = verify(&case_old_gnu_sparse());
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "old-gnu-sparse");
    let f = finding_about(&r, FindingKind::TarHeaderInvalid, Some("sparse.bin"));
    assert!(f.message.contains("sparse"), "{}", f.message);
    assert_eq!(f.offset, Some(appended_at()));
    assert!(
        r.findings().iter().all(|f| !f.message.contains("checksum")),
        "{:#?}",
        r.findings()
    );
    finding_about(&r, FindingKind::UnreferencedBlob, Some("junk.txt"));
    assert!(!r.images().is_empty(), "the image is still read");
}

/// A size field holding -1234 in base-256. Go refuses it; read unsigned it
/// is 2^64 - 1234 bytes, and the report said so. The finding must give the
/// negative value.
#[test]
fn negative_sizes_are_reported_as_negative() {
    let r = verify(&case_negative_size());
    assert_fails_with(&r, FindingKind::TarHeaderInvalid, "negative-size");
    let f = finding_about(&r, FindingKind::TarHeaderInvalid, Some("neg.bin"));
    assert_eq!(f.found, Some(NEGATIVE_SIZE.to_string()));
    assert!(f.message.contains("negative"), "{}", f.message);
    let wrapped = NEGATIVE_SIZE.cast_unsigned().to_string();
    assert!(
        r.findings().iter().all(|f| !f.message.contains(&wrapped)),
        "{:#?}",
        r.findings()
    );
}
