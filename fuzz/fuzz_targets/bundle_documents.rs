//! Arbitrary bytes as the documents of an otherwise well-formed bundle:
//! `manifest.json`, `index.json` and one blob they may name. This reaches
//! the JSON readers and the cross-checks without the fuzzer having to
//! invent tar framing first.
#![no_main]

use libfuzzer_sys::fuzz_target;
use verify_core::{Options, Verifier};

fn entry(builder: &mut tar::Builder<Vec<u8>>, name: &str, body: &[u8]) {
    let mut header = tar::Header::new_ustar();
    header.set_size(body.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, name, body)
        .expect("in-memory tar");
}

fuzz_target!(|data: &[u8]| {
    // Three documents separated by NUL bytes; missing ones are left out.
    let mut parts = data.splitn(3, |&b| b == 0);
    let manifest = parts.next();
    let index = parts.next();
    let blob = parts.next().unwrap_or_default();
    let mut builder = tar::Builder::new(Vec::new());
    let digest = verify_core::Sha256::of(blob);
    entry(&mut builder, &format!("blobs/sha256/{digest}"), blob);
    if let Some(m) = manifest {
        entry(&mut builder, "manifest.json", m);
    }
    if let Some(i) = index {
        entry(&mut builder, "index.json", i);
        entry(
            &mut builder,
            "oci-layout",
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        );
    }
    let bundle = builder.into_inner().expect("in-memory tar");
    let mut v = Verifier::new(Options::default());
    let _ = v.update(&bundle);
    let report = v.finish();
    // Whatever the documents say, a plan exists exactly for verified bundles.
    let plan = verify_core::ImportPlan::from_report(&report);
    if report.verdict == verify_core::Verdict::Fail {
        assert!(plan.is_err());
    }
});
