//! Go's `archive/tar` test files as layers, against the real dockerd
//! (issue #14): Docker, containerd, skopeo and podman all read layers with
//! Go's reader, and its `testdata/` is the catalogue of what that reader
//! accepts and rejects. Each file becomes the single layer of a one-image
//! docker-archive; `airlock verify --json` judges it and a fresh `docker
//! load` imports it. Airlock says ok exactly when the load succeeds (and the
//! image Docker then holds is the one the report lists), or the case is in
//! [`DIVERGENCES`] with the reason. The table goes into
//! `target/differential.md` beside the importers' table.
//!
//! The files are BSD-licensed and not in the repository: `cargo xtask test`
//! fetches them (see `test_support::go_tar`).

mod support;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use support::dockerd::Dockerd;
use test_support::images::{Layer, docker_archive};

/// Files Airlock refuses on purpose though `docker load` imports them, and
/// why. Each is a tar Go reads one way and another tar reader (GNU tar 1.34
/// or Python's tarfile, as checked by hand: what a scanner or a reviewer may
/// use) another way, so the tree Airlock lists and an importer installs may
/// not be the one someone else reviewed. Airlock's tar reader refuses the
/// same ambiguities in the bundle's own tar (`verify-core/src/tar_stream.rs`);
/// a layer is read with the same rules and gets `layer-tar-invalid`.
const DIVERGENCES: &[(&str, &str)] = &[
    (
        "gnu-multi-hdrs.tar",
        "two GNU long-name and two long-link headers for one entry: Go (and GNU tar) take \
         the last (GNU2/…, GNU4/…), Python's tarfile the first (GNU1/…, GNU3/…)",
    ),
    (
        "invalid-go17.tar",
        "a GNU header whose access/change time fields are not numbers (as Go before 1.8 \
         wrote them): Go and Python read them as a ustar prefix (aaa…/foo), GNU tar lists `foo`",
    ),
    (
        "pax-global-records.tar",
        "a global PAX header setting `path`: Go (so Docker) ignores it for the entries after \
         it (file1), GNU tar and Python apply it (global1)",
    ),
    (
        "pax-multi-hdrs.tar",
        "two PAX headers for one entry: Go (and GNU tar) use only the last (`bar` -> PAX4/…), \
         Python's tarfile applies the earlier one too (PAX1/… -> PAX3/…)",
    ),
    (
        "pax-pos-size-file.tar",
        "the PAX `size` record (999) disagrees with the ustar size field: readers that ignore \
         PAX size step through the data as headers (the CVE-2025-62518 smuggling pattern)",
    ),
];

/// Files never handed to dockerd, whatever Airlock says: the finding kind
/// Airlock must refuse each with, and why. Every case Airlock refuses with
/// `limit-exceeded` must be here: such a case may make dockerd write far
/// more than the test's disk holds.
const NOT_LOADED: &[(&str, &str, &str)] = &[
    (
        "pax-sparse-big.tar",
        "limit-exceeded",
        "a 6 KiB PAX-sparse entry of 60 GB apparent size: Go expands the holes and dockerd \
         would write a fully allocated 60 GB file; Airlock refuses it by its expansion limit on \
         purpose",
    ),
    (
        "gnu-sparse-big.tar",
        "layer-tar-invalid",
        "the same 60 GB sparse entry as an old GNU sparse entry (type `S`), which Go passes \
         on as type `S` and dockerd refuses (\"unhandled tar header type 83\", as for \
         gnu-nil-sparse-*); not risked, in case a dockerd ever writes it out",
    ),
    (
        "pax-bad-hdr-large.tar.bz2",
        "limit-exceeded",
        "a PAX header over 1 MiB: Go refuses it too (ErrFieldTooLong, reader_test.go), and \
         Airlock's limit on extended headers is the same 1 MiB",
    ),
];

/// Seconds `docker load` gets for one case.
const TIMEOUT: &str = "300";

/// The file's bytes as a tar: `.tar.bz2` unpacked with bzip2.
fn layer_bytes(path: &Path) -> Vec<u8> {
    if path.extension().is_some_and(|x| x == "bz2") {
        let out = Command::new("bzip2")
            .arg("-dc")
            .arg(path)
            .output()
            .expect("bzip2 runs (`cargo xtask test` installs it)");
        assert!(out.status.success(), "bzip2 -dc {}", path.display());
        out.stdout
    } else {
        std::fs::read(path).expect("testdata file reads")
    }
}

struct Verdict {
    ok: bool,
    kinds: Vec<String>,
    config: Option<String>,
}

fn airlock_verify(bundle: &Path) -> Verdict {
    let out = support::airlock(&["verify", "--json", bundle.to_str().expect("utf-8 path")]);
    let report = support::json(&out);
    let kinds = support::finding_kinds(&report);
    Verdict {
        ok: report["verdict"] == "ok",
        kinds,
        config: report["images"][0]["config_digest"]
            .as_str()
            .map(str::to_owned),
    }
}

/// What `docker load` did: the image ID it holds under `tag`, or its error.
fn docker_load(daemon: &Dockerd, bundle: &Path, tag: &str) -> Result<String, String> {
    let ids = daemon.docker(&["images", "-aq", "--no-trunc"]);
    for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
        daemon.docker(&["rmi", "-f", id]);
    }
    let out = Command::new("timeout")
        .args([TIMEOUT, "docker", "-H", &daemon.host(), "load", "-i"])
        .arg(bundle)
        .output()
        .expect("the docker CLI runs");
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr);
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("(no message)");
        return Err(line.to_owned());
    }
    let inspect = daemon.docker(&["image", "inspect", "--format", "{{.Id}}", tag]);
    if inspect.status.success() {
        Ok(String::from_utf8_lossy(&inspect.stdout).trim().to_owned())
    } else {
        Err(format!("loaded, but {tag} is not there"))
    }
}

/// A table cell: one line, pipes escaped, at most 200 characters.
fn escape(s: &str) -> String {
    let s: String = s.chars().take(200).collect();
    s.replace('|', "\\|").replace('\n', " ")
}

/// The reason `table` gives for `name`, if it lists it.
fn reason<'a>(table: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    table.iter().find(|(n, _)| *n == name).map(|(_, why)| *why)
}

#[test]
fn airlock_says_ok_exactly_when_docker_loads_the_layer() {
    let files = test_support::go_tar::archives();
    assert!(
        files.len() >= 40,
        "Go's testdata has 45 archives; found {}",
        files.len()
    );
    let daemon = Dockerd::start("gotar");
    let dir = support::scratch("go-tar-layers");
    let mut table =
        String::from("| Go testdata file | airlock verify | docker load | |\n|---|---|---|---|\n");
    let mut violations = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 file name")
            .to_owned();
        let stem = name.trim_end_matches(".bz2").trim_end_matches(".tar");
        let tag = format!("go-tar/{}:1", stem.to_lowercase());
        let bundle = dir.join(format!("{stem}.tar"));
        let history = json!([{ "created_by": format!("Go archive/tar testdata {name}") }]);
        let bytes = docker_archive(
            &tag,
            &[Layer::plain(layer_bytes(&path))],
            json!({}),
            history,
        );
        std::fs::write(&bundle, bytes).expect("bundle written");

        let report = airlock_verify(&bundle);
        let airlock = format!(
            "**{}** {}",
            if report.ok { "ok" } else { "fail" },
            report.kinds.join(" ")
        );
        let limited = report.kinds.iter().any(|k| k == "limit-exceeded");
        let not_loaded = NOT_LOADED.iter().find(|(n, _, _)| *n == name);
        match not_loaded {
            Some((_, kind, why)) if report.ok || !report.kinds.iter().any(|k| k == kind) => {
                violations.push(format!(
                    "{name}: Airlock must refuse it with {kind} ({why}); said {airlock}"
                ));
            }
            None if limited => violations.push(format!(
                "{name}: Airlock refuses it by a limit ({airlock}); it is not handed to \
                 dockerd, so say why in NOT_LOADED"
            )),
            _ => {}
        }
        if limited || not_loaded.is_some() {
            let why = not_loaded.map_or("**✘ refused by a limit, not listed**", |(_, _, w)| w);
            let _ = writeln!(
                table,
                "| {name} | {} | not loaded | {} |",
                escape(&airlock),
                escape(why)
            );
            eprintln!("{name}: {airlock}; not loaded");
            continue;
        }

        let loaded = docker_load(&daemon, &bundle, &tag);
        let docker = match &loaded {
            Ok(id) => format!("loaded {}", &id[..id.len().min(19)]),
            Err(e) => format!("refused: {e}"),
        };
        let agree = report.ok == loaded.is_ok();
        let note = match (agree, reason(DIVERGENCES, &name)) {
            (true, Some(_)) => {
                violations.push(format!(
                    "{name}: listed as a divergence, but both say {}",
                    if report.ok { "ok" } else { "no" }
                ));
                "✘ listed as diverging, but agrees".to_owned()
            }
            (true, None) => "✔".to_owned(),
            (false, Some(why))
                if loaded.is_ok() && report.kinds.iter().any(|k| k == "layer-tar-invalid") =>
            {
                format!("diverges on purpose: {why}")
            }
            (false, Some(_)) => {
                violations.push(format!(
                    "{name}: listed as refused by Airlock (layer-tar-invalid) and loaded by \
                     docker, but Airlock {airlock}, docker {docker}"
                ));
                "**✘ diverges otherwise than listed**".to_owned()
            }
            (false, None) => {
                violations.push(format!("{name}: Airlock {airlock}, docker {docker}"));
                "**✘ disagree**".to_owned()
            }
        };
        if let (Ok(id), Some(config)) = (&loaded, &report.config)
            && report.ok
            && id != config
        {
            violations.push(format!(
                "{name}: docker holds {id}, the report lists {config}"
            ));
        }
        let _ = writeln!(
            table,
            "| {name} | {} | {} | {} |",
            escape(&airlock),
            escape(&docker),
            escape(&note)
        );
        eprintln!("{name}: {airlock}; docker {docker}");
    }
    support::write_differential_section(
        "Go's archive/tar testdata as the single layer of an image: airlock verify vs docker load",
        &table,
    );
    println!("{table}");
    assert!(
        violations.is_empty(),
        "Airlock and docker load disagree on Go's testdata:\n{}",
        violations.join("\n")
    );
}
