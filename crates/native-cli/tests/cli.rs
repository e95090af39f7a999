//! The `airlock` binary against the shared corpus: verdicts, finding kinds,
//! exit statuses and the sums commands, exactly as a user runs them.

use std::process::{Command, Output};

use test_support::{corpus_dir, rows};

fn airlock(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(args)
        .output()
        .expect("the airlock binary runs")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON object ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn every_expected_tsv_row() {
    let mut checked = 0;
    for row in rows() {
        let (file, verdict) = (row.file.as_str(), row.verdict.as_str());
        let path = row.path();
        let out = airlock(&["verify", "--json", path.to_str().expect("utf-8 path")]);
        let report = json(&out);
        let code = out.status.code();
        match verdict {
            "ok" => {
                assert_eq!(report["verdict"], "ok", "{file}: {report:#}");
                assert_eq!(code, Some(0), "{file}");
                assert_eq!(
                    report["bundle"]["sha256_matches"], true,
                    "{file}: sidecar used"
                );
            }
            "fail" => {
                assert_eq!(report["verdict"], "fail", "{file}: {report:#}");
                assert_eq!(code, Some(1), "{file}");
            }
            _ => assert!(code == Some(0) || code == Some(1), "{file}"),
        }
        let kinds: Vec<&str> = report["findings"]
            .as_array()
            .expect("findings array")
            .iter()
            .filter_map(|f| f["kind"].as_str())
            .collect();
        for want in &row.kinds {
            assert!(
                kinds.contains(&want.as_str()),
                "{file}: no {want} in {kinds:?}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 25, "only {checked} rows");
}

#[test]
fn human_output_names_images_and_problems() {
    let good = corpus_dir().join("good/containerd-export.tar");
    let out = airlock(&["verify", good.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("localhost/airlock/app:1.0"), "{text}");
    assert!(text.contains("VERIFIED"), "{text}");
    assert!(text.contains("matches"), "{text}");

    let bad = corpus_dir().join("bad/truncated-mid-layer.tar");
    let out = airlock(&["verify", bad.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAILED"), "{text}");
    assert!(
        text.contains("truncated") && text.contains("@ byte 619670"),
        "{text}"
    );

    let out = airlock(&["inspect", good.to_str().expect("utf-8")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("UNPACKED") && text.contains("linux/amd64"),
        "{text}"
    );
}

#[test]
fn recorded_hash_from_flag_and_certutil_files() {
    let bundle = corpus_dir().join("good/skopeo-docker-archive.tar");
    let b = bundle.to_str().expect("utf-8");
    let zero = "0".repeat(64);
    let out = airlock(&["verify", "--json", "--sha256", &zero, b]);
    assert_eq!(out.status.code(), Some(1));
    let report = json(&out);
    assert_eq!(report["findings"][0]["kind"], "file-digest-mismatch");
    assert_eq!(report["findings"][0]["expected"], zero);

    for sums in ["certutil.txt", "certutil-old.txt"] {
        let sums = corpus_dir().join(format!("good/skopeo-docker-archive.tar.{sums}"));
        let out = airlock(&[
            "verify",
            "--json",
            "--sums",
            sums.to_str().expect("utf-8"),
            b,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", sums.display());
        assert_eq!(json(&out)["bundle"]["sha256_matches"], true);

        let out = airlock(&["check", sums.to_str().expect("utf-8")]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).ends_with(": OK\n"));
    }

    let out = airlock(&["verify", "--sha256", "xyz", b]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a bad --sha256 is a usage error"
    );
    let out = airlock(&["verify", "/nonexistent/bundle.tar"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/bundle.tar"));
}

#[test]
fn hash_and_check_agree_with_sha256sum_files() {
    let dir = corpus_dir().join("good");
    let file = dir.join("podman-oci-archive.tar");
    let out = airlock(&["hash", file.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(0));
    let line = String::from_utf8_lossy(&out.stdout).into_owned();
    let recorded =
        std::fs::read_to_string(dir.join("podman-oci-archive.tar.sha256")).expect("sidecar");
    assert_eq!(
        line.split_whitespace().next(),
        recorded.split_whitespace().next()
    );

    let tmp = std::env::temp_dir().join(format!("airlock-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let copy = tmp.join("b.tar");
    std::fs::copy(&file, &copy).expect("copy");
    let hex = line.split_whitespace().next().expect("hex").to_owned();
    let sums = tmp.join("SHA256SUMS");
    std::fs::write(&sums, format!("{hex}  b.tar\n")).expect("write");
    let out = airlock(&["check", sums.to_str().expect("utf-8")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let mut tampered = std::fs::read(&copy).expect("read");
    tampered[100] ^= 1;
    std::fs::write(&copy, tampered).expect("write");
    let out = airlock(&["check", sums.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("b.tar: FAILED"));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// `airlock verify` on a FIFO fed 64 MiB that is not a tar: how many bytes
/// the writer got rid of before airlock closed its end, and the report.
fn verify_fifo(extra: &[&str]) -> (u64, serde_json::Value) {
    use std::io::Write;
    const LEN: u64 = 64 << 20;
    let dir = std::env::temp_dir().join(format!(
        "airlock-fifo-{}-{}",
        std::process::id(),
        extra.len()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).expect("temp dir");
    let fifo = dir.join("bundle.tar");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut pipe = std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .expect("open fifo");
            let junk = vec![b'x'; 1 << 16];
            let mut written = 0u64;
            // Rust ignores SIGPIPE: a closed reader is an error here, not death.
            while written < LEN && pipe.write_all(&junk).is_ok() {
                written += junk.len() as u64;
            }
            written
        })
    };
    let mut args = vec!["verify", "--json", "--no-progress"];
    args.extend_from_slice(extra);
    let path = fifo.to_str().expect("utf-8 path");
    args.push(path);
    let out = airlock(&args);
    let written = writer.join().expect("writer");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    (written, json(&out))
}

#[test]
fn a_settled_verdict_stops_the_read_unless_a_full_report_is_asked_for() {
    let (written, report) = verify_fifo(&[]);
    assert!(written < 32 << 20, "{written} bytes were read");
    assert_eq!(report["verdict"], "fail");
    assert_eq!(report["findings"][0]["kind"], "not-a-bundle");
    assert_eq!(report["bundle"]["sha256"], serde_json::Value::Null);

    let (written, report) = verify_fifo(&["--full-report"]);
    assert_eq!(written, 64 << 20);
    assert_eq!(report["bundle"]["size"], 64 << 20);
    assert_eq!(report["findings"][0]["kind"], "not-a-bundle");
    assert!(report["bundle"]["sha256"].is_string());
}

/// Packaging's hook writes a man page per subcommand and completions for
/// each shell, all from the clap definition; none of them lists the hook.
#[test]
fn generate_writes_man_pages_and_completions() {
    let dir = std::env::temp_dir().join(format!("airlock-generate-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = airlock(&["__generate", dir.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let page = std::fs::read_to_string(dir.join("man/airlock.1")).expect("airlock.1");
    assert!(page.starts_with(".ie"), "roff: {page}");
    assert!(page.contains(".TH airlock 1"), "{page}");
    for sub in ["verify", "inspect", "load", "push", "sbom", "hash", "check"] {
        assert!(page.contains(sub), "airlock.1 names {sub}");
        let sub_page = dir.join(format!("man/airlock-{sub}.1"));
        assert!(sub_page.is_file(), "{} written", sub_page.display());
    }
    let bash = std::fs::read_to_string(dir.join("completions/airlock.bash")).expect("bash");
    assert!(
        bash.contains("verify inspect load push sbom hash check"),
        "{bash}"
    );
    for name in ["airlock.bash", "_airlock", "airlock.fish", "_airlock.ps1"] {
        let text = std::fs::read_to_string(dir.join("completions").join(name)).expect(name);
        assert!(!text.contains("__generate"), "{name} lists the hook");
    }
    assert!(!page.contains("__generate"), "airlock.1 lists the hook");
    let _ = std::fs::remove_dir_all(&dir);
}
