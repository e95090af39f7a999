//! The report types read their own JSON back: clients of the edge use the
//! same types the verifier writes with. A report read back writes the same
//! bytes again, and it cannot be imported, whatever its verdict says.

use std::path::Path;

use test_support::{cases, corpus_dir, rows};
use verify_core::{
    ImportPlan, LimitName, Options, PlanError, Report, Sha256, Verdict, Verifier, sums,
};

/// The recorded hash from the sidecar next to the file, as users have it.
fn recorded(path: &Path) -> Option<Sha256> {
    let mut side = path.as_os_str().to_owned();
    side.push(".sha256");
    let text = std::fs::read(side).ok()?;
    let sums = sums::parse(&text).ok()?;
    let name = path.file_name()?.to_str()?;
    sums::find_for(&sums, name).map(|s| s.sha256)
}

fn verify(bytes: &[u8], expected: Option<Sha256>) -> Report {
    let mut v = Verifier::new(Options::new().with_expected_sha256(expected));
    let _ = v.update(bytes);
    v.finish()
}

/// Serializes, reads back, serializes again: both texts must be the same,
/// and the report read back must say what the original says.
fn round_trip(name: &str, report: &Report) -> Report {
    let json = serde_json::to_string(report).expect("a report serializes");
    let back: Report = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("{name}: its own JSON does not read back: {e}\n{json}"));
    let again = serde_json::to_string(&back).expect("a report serializes");
    assert_eq!(json, again, "{name}: JSON changed in a round trip");
    assert_eq!(back.verdict(), report.verdict(), "{name}");
    assert_eq!(back.findings(), report.findings(), "{name}");
    assert_eq!(back.images(), report.images(), "{name}");
    assert_eq!(back.bundle(), report.bundle(), "{name}");
    // Pretty-printed JSON (the CLI's `--json`) reads back the same way.
    let pretty = serde_json::to_string_pretty(report).expect("a report serializes");
    let from_pretty: Report = serde_json::from_str(&pretty).expect("pretty JSON reads back");
    assert_eq!(
        serde_json::to_string(&from_pretty).expect("json"),
        json,
        "{name}"
    );
    back
}

#[test]
fn every_corpus_report_reads_back_to_the_same_json_and_cannot_be_imported() {
    let mut reports = Vec::new();
    for row in rows() {
        let path = corpus_dir().join(&row.file);
        let bytes = std::fs::read(&path).expect("corpus file");
        reports.push((row.file.clone(), verify(&bytes, recorded(&path))));
    }
    for (name, bytes) in cases::all() {
        reports.push((name.to_owned(), verify(&bytes, None)));
    }
    let (mut ok, mut platforms, mut limits) = (0, 0, Vec::new());
    for (name, report) in &reports {
        let back = round_trip(name, report);
        assert!(report.is_from_verifier(), "{name}");
        assert!(!back.is_from_verifier(), "{name}");
        // Read back, even an ok report is only a claim.
        assert_eq!(
            ImportPlan::from_report(&back),
            Err(PlanError::NotFromVerifier),
            "{name}"
        );
        if report.verdict() == Verdict::Ok {
            ok += 1;
            // The verifier's own report of the same bundle does plan, so
            // the refusal above is the origin's doing, not the bundle's.
            // (A multi-platform bundle may still clash on names.)
            assert!(
                !matches!(
                    ImportPlan::from_report(report),
                    Err(PlanError::NotFromVerifier | PlanError::NotVerified)
                ),
                "{name}"
            );
        }
        platforms += report
            .images()
            .iter()
            .filter(|i| i.platform.is_some())
            .count();
        limits.extend(report.findings().iter().filter_map(|f| f.limit));
    }
    // The typed fields were exercised, not just absent.
    assert!(ok >= 5, "only {ok} ok reports");
    assert!(platforms >= 5, "only {platforms} platforms");
    assert!(!limits.is_empty(), "no report names a limit");
}

/// An ok report edited by hand reads back as what it says, and still
/// cannot become a plan; the JSON's `limit` is a known limit's name.
#[test]
fn json_written_by_hand_is_read_but_not_trusted() {
    let bytes =
        std::fs::read(corpus_dir().join("good/docker-save-legacy.tar.gz")).expect("corpus file");
    let report = verify(&bytes, None);
    let mut json = serde_json::to_value(&report).expect("json");
    json["verdict"] = "ok".into();
    json["findings"] = serde_json::json!([{
        "kind": "limit-exceeded",
        "severity": "warning",
        "limit": "max_entries",
        "message": "edited",
    }]);
    let edited: Report = serde_json::from_value(json.clone()).expect("reads");
    assert_eq!(edited.verdict(), Verdict::Ok);
    assert_eq!(edited.findings()[0].limit, Some(LimitName::MaxEntries));
    assert_eq!(
        ImportPlan::from_report(&edited),
        Err(PlanError::NotFromVerifier)
    );
    json["findings"][0]["limit"] = "max_everything".into();
    assert!(serde_json::from_value::<Report>(json).is_err());
}
