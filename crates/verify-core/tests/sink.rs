//! What an importing face is handed while the bundle is read: only files that
//! can be part of an image, so a hostile bundle's junk fills no disk before
//! the verdict.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use test_support::cases::*;
use verify_core::{EntrySink, Flow, Options, Sha256, Verdict, Verifier};

/// Records the paths and byte counts the verifier hands on.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, u64)>>>);

impl EntrySink for Seen {
    fn begin(&mut self, path: &str, _size: u64) -> ControlFlow<()> {
        if let Ok(mut seen) = self.0.lock() {
            seen.push((path.to_owned(), 0));
        }
        ControlFlow::Continue(())
    }

    fn data(&mut self, bytes: &[u8]) -> ControlFlow<()> {
        if let Ok(mut seen) = self.0.lock()
            && let Some(last) = seen.last_mut()
        {
            last.1 += bytes.len() as u64;
        }
        ControlFlow::Continue(())
    }

    fn end(&mut self, _sha256: &Sha256) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

fn forwarded(bundle: &[u8]) -> (Verdict, Vec<(String, u64)>) {
    let seen = Seen::default();
    let mut verifier = Verifier::with_sink(Options::default(), Box::new(seen.clone()));
    let _ = verifier.update(bundle);
    let verdict = verifier.finish().verdict();
    let files = seen.0.lock().map(|s| s.clone()).unwrap_or_default();
    (verdict, files)
}

#[test]
fn junk_files_are_not_handed_to_the_importer() {
    let junk = vec![0u8; 4 << 20];
    let mut b = extend(&good("podman-oci-archive.tar"));
    for name in [
        "junk.bin",
        "blobs/junk",
        "a/b/c/layer.tar",
        "manifest.json.bak",
    ] {
        append_file(&mut b, name, &junk);
    }
    let (_, files) = forwarded(&b.into_inner().expect("tar"));
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert!(
        files.iter().all(|(p, _)| p.starts_with("blobs/sha256/")),
        "{names:?}"
    );
    assert!(!files.iter().any(|(_, n)| *n == 4 << 20), "{names:?}");
}

#[test]
fn every_file_an_image_uses_is_handed_on() {
    for name in [
        "docker-save-legacy.tar",
        "podman-docker-archive-multi.tar",
        "skopeo-docker-archive.tar",
        "containerd-export.tar",
        "skopeo-oci-archive-zstd.tar",
    ] {
        let bundle = good(name);
        let (verdict, files) = forwarded(&bundle);
        assert_eq!(verdict, Verdict::Ok, "{name}");
        // The files that make images are exactly those the plan needs;
        // manifest.json, index.json, repositories and the legacy `DIR/json`
        // and `VERSION` are not among them.
        let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert!(!names.is_empty(), "{name}");
        for skipped in ["manifest.json", "index.json", "repositories", "oci-layout"] {
            assert!(!names.contains(&skipped), "{name}: {skipped} was forwarded");
        }
        assert!(
            !names
                .iter()
                .any(|n| n.ends_with("/json") || n.ends_with("/VERSION")),
            "{name}: {names:?}"
        );
        let plan = verify_core::ImportPlan::from_report(&{
            let mut v = Verifier::new(Options::default());
            let _ = v.update(&bundle);
            v.finish()
        })
        .expect("plan");
        let bundle_files = Bundle::open(&bundle);
        for image in plan.images() {
            for blob in image.blobs() {
                let hex = blob.digest.to_hex();
                let present = bundle_files
                    .members
                    .iter()
                    .any(|m| names.contains(&m.path.as_str()) && sha256_hex(&m.data) == hex);
                assert!(present, "{name}: blob {hex} was not forwarded");
            }
        }
    }
}

/// A sink that stops after `budget` bytes, as an importer whose disk filled.
struct Full {
    budget: u64,
    shown: Arc<Mutex<u64>>,
}

impl EntrySink for Full {
    fn begin(&mut self, _path: &str, _size: u64) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    fn data(&mut self, bytes: &[u8]) -> ControlFlow<()> {
        let Ok(mut shown) = self.shown.lock() else {
            return ControlFlow::Break(());
        };
        *shown += bytes.len() as u64;
        if *shown >= self.budget {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn end(&mut self, _sha256: &Sha256) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

#[test]
fn a_sink_that_stops_stops_the_read_and_is_shown_nothing_more() {
    let bundle = good("podman-oci-archive.tar");
    let shown = Arc::new(Mutex::new(0));
    let sink = Full {
        budget: 1,
        shown: Arc::clone(&shown),
    };
    let mut v = Verifier::with_sink(Options::default(), Box::new(sink));
    let mut flows = Vec::new();
    for piece in bundle.chunks(4096) {
        flows.push(v.update(piece));
    }
    let stopped_at = flows
        .iter()
        .position(|f| *f == Flow::SinkStopped)
        .expect("the sink's stop reaches the caller");
    assert!(flows[..stopped_at].iter().all(|f| f.wants_more()));
    assert!(flows[stopped_at..].iter().all(|f| *f == Flow::SinkStopped));
    // One piece of one file, then nothing: the sink was dropped.
    assert!(*shown.lock().expect("lock") <= 4096);
    // Not settled: a report of part of a bundle is refused.
    assert!(!v.is_settled());
    // A caller that read on anyway gets the report of the whole file.
    assert_eq!(v.finish().verdict(), Verdict::Ok);
    let mut early = Verifier::with_sink(
        Options::default(),
        Box::new(Full {
            budget: 1,
            shown: Arc::new(Mutex::new(0)),
        }),
    );
    for piece in bundle.chunks(4096) {
        if !early.update(piece).wants_more() {
            break;
        }
    }
    assert!(matches!(
        early.finish_settled(),
        Err(verify_core::NotSettled { .. })
    ));
}
