//! A report read back from JSON (how the page's custody module gets it
//! from the verifier's) names the same subjects as the verifier's own
//! report through its import plan, for every kind of bundle in the corpus.

use airlock_custody::Expected;
use test_support::cases::good;
use verify_core::{ImportPlan, Options, Report, Verifier, named_manifests};

fn verify(bytes: &[u8]) -> Report {
    let mut v = Verifier::new(Options::default());
    let _ = v.update(bytes);
    v.finish()
}

#[test]
fn a_report_read_back_expects_what_its_plan_expects() {
    for name in [
        "docker-save-legacy.tar",
        "podman-docker-archive-multi.tar",
        "podman-oci-archive.tar",
        "skopeo-docker-archive.tar",
        "oci-layout-gzip.tar",
        "containerd-export.tar",
    ] {
        let report = verify(&good(name));
        let sha = report.bundle().sha256.expect("a whole-file hash");
        let plan = ImportPlan::from_report(&report).expect("a corpus bundle plans");
        let from_plan = Expected::from_plan(sha, &plan);
        assert!(!from_plan.images.is_empty(), "{name}: no image subjects");

        let json = serde_json::to_string(&report).expect("report as JSON");
        let back: Report = serde_json::from_str(&json).expect("report read back");
        let named = named_manifests(&back).expect("a report read back names its images");
        assert_eq!(Expected::from_named(sha, &named), from_plan, "{name}");
    }
}
