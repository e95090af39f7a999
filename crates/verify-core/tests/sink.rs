//! What an importing face is handed while the bundle is read: only files that
//! can be part of an image, so a hostile bundle's junk fills no disk before
//! the verdict.

use std::sync::{Arc, Mutex};

use test_support::cases::*;
use verify_core::{EntrySink, Options, Sha256, Verdict, Verifier};

/// Records the paths and byte counts the verifier hands on.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, u64)>>>);

impl EntrySink for Seen {
    fn begin(&mut self, path: &str, _size: u64) {
        if let Ok(mut seen) = self.0.lock() {
            seen.push((path.to_owned(), 0));
        }
    }

    fn data(&mut self, bytes: &[u8]) {
        if let Ok(mut seen) = self.0.lock()
            && let Some(last) = seen.last_mut()
        {
            last.1 += bytes.len() as u64;
        }
    }

    fn end(&mut self, _sha256: &Sha256) {}
}

fn forwarded(bundle: &[u8]) -> (Verdict, Vec<(String, u64)>) {
    let seen = Seen::default();
    let mut verifier = Verifier::with_sink(Options::default(), Box::new(seen.clone()));
    verifier.update(bundle);
    let verdict = verifier.finish().verdict;
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
            v.update(&bundle);
            v.finish()
        })
        .expect("plan");
        let bundle_files = Bundle::open(&bundle);
        for image in &plan.images {
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
