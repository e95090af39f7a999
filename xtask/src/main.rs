//! `cargo xtask <task>`: the project's chores as one Rust program, so the
//! README, CI and a developer run exactly the same steps.
//!
//! Tasks:
//!   demo          build the CLI and the page, verify + inspect a real bundle from the
//!                 corpus, and load it into an OCI layout
//!   page          build the approver's page: dist/web/ and dist/airlock.html
//!   pkg           build the npm package @airlock/verify into pkg/
//!   dist          the release for an air-gapped site in dist/release/: static
//!                 Linux binaries (x86_64, aarch64), airlock.exe, a .deb, the
//!                 page and SHA256SUMS, sealed with `--key FILE`; `dist --check`
//!                 also runs the release tests (qemu, wine, dpkg, a second
//!                 build for reproducibility, the seal)
//!   edge          build the edge verifier (workers-rs) into crates/verify-edge/build
//!   test          everything CI checks: fmt, clippy, wasm build, unit/corpus tests,
//!                 and a generated 2 GiB bundle verified with flat memory
//!   big [GIB]     verify a generated bundle of GIB GiB (default 2) and print
//!                 throughput and peak memory beside openssl and sha256sum
//!   fuzz [--seconds N]
//!                 every cargo-fuzz target for N seconds (default 60), seeded
//!                 from the corpus; crashes are kept in fuzz/regressions/
//!   bench [--size GIB] [--rounds N] [--huge GIB] [--micro-only | --files-only]
//!         [--only registry|load_docker|containerd]
//!                 every speed and memory row of bench/RESULTS.md, as ratios
//!                 against the peer tools measured in the same run, the
//!                 core's per-chunk cost by chunk size (alone: --micro-only)
//!                 and the file-heavy bundle's rows (alone: --files-only);
//!                 --only TEST: just that daemon test's rows, printed, not written

mod bench;
mod big;
mod dist;
mod dist_check;
mod edge;
mod env;
mod files;
mod fuzz;
mod micro;
mod page;
mod pkg;

use std::process::ExitCode;

use env::{Step, cargo, run};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("page") => page_args(&args[1..])
            .and_then(|(trust, out)| build_page_into(trust.as_deref(), out.as_deref()).map(|_| ())),
        Some("pkg") => build_pkg(),
        Some("dist") => dist_command(&args[1..]),
        Some("edge") => edge::build().map(|dir| println!("built {}", dir.display())),
        Some("test") => test(),
        Some("fuzz") => {
            let seconds = match args.get(1).map(String::as_str) {
                Some("--seconds") => args.get(2).and_then(|a| a.parse().ok()).unwrap_or(60),
                _ => 60,
            };
            fuzz::run_fuzz(seconds)
        }
        Some("bench") => bench::Args::parse(&args[1..]).and_then(|a| bench::run_bench(&a)),
        Some("big") => {
            let gib = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(2);
            big::report(gib).map(|_| ())
        }
        _ => {
            eprintln!(
                "usage: cargo xtask <demo | page [--trust DIR] [--out DIR] | pkg | dist [--check] [--key FILE] | edge | test | big [GIB] | fuzz [--seconds N] | bench [--size GIB] [--rounds N] [--huge GIB] [--micro-only | --files-only] [--only TEST]>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The main job: build, then verify and inspect a real bundle.
fn demo() -> Result<(), String> {
    let corpus = env::corpus_dir()?;
    env::ensure_build_tools()?;
    run(
        cargo(["build", "--release", "-p", "airlock"]),
        Step::new("build the airlock CLI"),
    )?;
    let airlock = env::release_binary("airlock");
    let bundle = corpus.join("good/containerd-export.tar");
    let shown = bundle.display().to_string();
    let mut verify = std::process::Command::new(&airlock);
    verify.args(["verify", &shown]);
    run(
        verify,
        Step::new("airlock verify (sidecar found next to the bundle)"),
    )?;
    let mut inspect = std::process::Command::new(&airlock);
    inspect.args(["inspect", &shown]);
    run(inspect, Step::new("airlock inspect"))?;
    let bad = corpus.join("bad/manifest-index-disagree.tar");
    let mut refuse = std::process::Command::new(&airlock);
    refuse.args(["verify", &bad.display().to_string()]);
    run(
        refuse,
        Step::new("airlock verify on a bad bundle (must fail)").expect_status(1),
    )?;
    let layout = env::root().join("target/demo-layout");
    let _ = std::fs::remove_dir_all(&layout);
    let mut load = std::process::Command::new(&airlock);
    load.args(["load", "--to", &format!("oci:{}", layout.display()), &shown]);
    run(
        load,
        Step::new("airlock load into an OCI layout (verified in the same read)"),
    )?;
    let page = build_page()?;
    println!("\nThe CLI is at {}", airlock.display());
    println!(
        "The page is at {} (open it from disk) and {}/ (for a web server)",
        page.single.display(),
        page.dir.display()
    );
    Ok(())
}

/// `cargo xtask dist [--check] [--key FILE]`.
fn dist_command(args: &[String]) -> Result<(), String> {
    let mut check = false;
    let mut key = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--key" => key = Some(args.next().ok_or("dist: --key needs a FILE")?.into()),
            other => return Err(format!("dist: unknown argument `{other}`")),
        }
    }
    dist_task(check, key)
}

/// The release in `dist/release/`, timed, sealed with `key` (else, when
/// checked, with a throwaway key), and (`check`) its tests.
fn dist_task(check: bool, key: Option<std::path::PathBuf>) -> Result<(), String> {
    let started = std::time::Instant::now();
    let signer = match key {
        Some(key) => dist::Signer::Key(key),
        None if check => dist::Signer::Throwaway,
        None => dist::Signer::Nobody,
    };
    let release = dist::build(&env::root().join("dist/release"), &signer)?;
    println!("dist took {:.0?}", started.elapsed());
    if check {
        dist_check::check(&release)?;
    }
    Ok(())
}

/// `page`'s flags: `--trust DIR` (the directory whose `*.pub` keys the
/// page trusts to seal bundles) and `--out DIR` (instead of `dist/`).
type PageArgs = (Option<std::path::PathBuf>, Option<std::path::PathBuf>);

fn page_args(args: &[String]) -> Result<PageArgs, String> {
    let (mut trust, mut out) = (None, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let slot = match flag.as_str() {
            "--trust" => &mut trust,
            "--out" => &mut out,
            _ => return Err("usage: cargo xtask page [--trust DIR] [--out DIR]".into()),
        };
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a directory"))?;
        *slot = Some(std::path::PathBuf::from(value));
    }
    Ok((trust, out))
}

/// Builds `dist/`, trusting no key.
fn build_page() -> Result<page::Page, String> {
    build_page_into(None, None)
}

/// Builds the page into `out` (default `dist/`), trusting the keys in
/// `trust`, and says where it is and what it hashes to.
fn build_page_into(
    trust: Option<&std::path::Path>,
    out: Option<&std::path::Path>,
) -> Result<page::Page, String> {
    let root = env::root();
    let out = out.map_or_else(|| root.join("dist"), std::path::Path::to_path_buf);
    let page = page::build(&out, &root.join("target/page"), trust)?;
    println!("\n{}  {}", page.single_sha256, page.single.display());
    Ok(page)
}

/// What `airlock load` is tested against: Docker, containerd, and podman,
/// one more importer for the differential test; `push` needs
/// [`REGISTRY_TOOLS`] besides.
const IMPORT_TOOLS: &[(&str, &str)] = &[
    ("/usr/sbin/dockerd", "docker.io"),
    ("docker", "docker.io"),
    ("/usr/bin/containerd", "containerd"),
    ("ctr", "containerd"),
    ("podman", "podman"),
];

/// A registry with TLS and htpasswd, and skopeo, which reads what is
/// pushed: the registry tests, one of which (the `.exe`'s push) `dist
/// --check` runs on its own.
pub const REGISTRY_TOOLS: &[(&str, &str)] = &[
    ("/usr/bin/docker-registry", "docker-registry"),
    ("skopeo", "skopeo"),
    ("htpasswd", "apache2-utils"),
    ("openssl", "openssl"),
];

/// What `tests/ground-truth/build-debian-image.sh` builds its Debian image
/// and its expected values with (the ground-truth test, issue #14); podman
/// comes with [`IMPORT_TOOLS`] and skopeo with [`REGISTRY_TOOLS`].
const GROUND_TRUTH_TOOLS: &[(&str, &str)] = &[
    ("mmdebstrap", "mmdebstrap"),
    ("umoci", "umoci"),
    ("dpkg-query", "dpkg"),
    ("python3", "python3"),
    ("flock", "util-linux"),
];

/// Everything CI checks, in the order that fails fastest.
fn test() -> Result<(), String> {
    env::ensure_rust_tools()?;
    run(
        cargo(["fmt", "--all", "--check"]),
        Step::new("cargo fmt --check"),
    )?;
    run(
        cargo([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        Step::new("cargo clippy -D warnings"),
    )?;
    env::ensure_cargo_deny()?;
    // `cargo deny --offline` reads `cargo metadata` for every platform, so
    // the crates of other targets (Windows ones) must be in the local cache:
    // a fresh machine has only what the host build fetched.
    run(
        cargo(["fetch", "--locked"]),
        Step::new("cargo fetch (every target's crates, for cargo deny)"),
    )?;
    // Advisories need the RustSec database from the network; licences,
    // bans and sources are checked against the lock file alone.
    run(
        cargo(["deny", "--offline", "check", "bans", "licenses", "sources"]),
        Step::new("cargo deny: licences, bans, sources"),
    )?;
    run(
        cargo([
            "build",
            "-p",
            "verify-core",
            "--target",
            "wasm32-unknown-unknown",
        ]),
        Step::new("verify-core builds for wasm32-unknown-unknown"),
    )?;
    run(
        cargo([
            "build",
            "-p",
            "airlock-custody",
            "--target",
            "wasm32-unknown-unknown",
        ]),
        Step::new("airlock-custody builds for wasm32-unknown-unknown"),
    )?;
    // The load and push tests drive the real importers on loopback; the
    // limit tests read peak memory from GNU time; the ground-truth test
    // builds a Debian image.
    env::ensure_debian_tools(IMPORT_TOOLS)?;
    env::ensure_debian_tools(REGISTRY_TOOLS)?;
    env::ensure_debian_tools(&[("/usr/bin/time", "time")])?;
    env::ensure_debian_tools(GROUND_TRUTH_TOOLS)?;
    // The SBOM tests run the official SPDX and CycloneDX validators; the
    // signature tests run sigstore-js (npm) and Python's `cryptography` and
    // PyNaCl (the same venv).
    let sbom_venv = env::ensure_sbom_validators()?;
    // The Go-testdata test loads Go's archive/tar test files into dockerd
    // as layers; bzip2 unpacks the one stored compressed.
    let go_tar = env::ensure_go_tar_testdata()?;
    env::ensure_debian_tools(&[("bzip2", "bzip2")])?;
    env::ensure_npm()?;
    let mut tests = cargo(["test", "--workspace"]);
    tests
        .env("AIRLOCK_SBOM_VENV", &sbom_venv)
        .env("AIRLOCK_GO_TAR_TESTDATA", &go_tar);
    run(tests, Step::new("unit, corpus, CLI and import tests"))?;
    run(
        cargo(["build", "--release", "-p", "airlock"]),
        Step::new("release build"),
    )?;
    let stats = big::report(2)?;
    if stats.airlock_peak_rss_mib > big::RSS_LIMIT_MIB {
        return Err(format!(
            "airlock verify used {:.1} MiB at peak on a 2 GiB bundle; the limit is {} MiB",
            stats.airlock_peak_rss_mib,
            big::RSS_LIMIT_MIB
        ));
    }
    page_tests(&stats.bundle)?;
    pkg_tests()?;
    edge_tests(&stats.bundle)?;
    dist_task(true, None)?;
    println!("all checks passed");
    Ok(())
}

/// The page: the wasm face under wasm-bindgen-test, a reproducible build,
/// and the real page in Chromium.
fn page_tests(big_bundle: &std::path::Path) -> Result<(), String> {
    let page = build_page()?;
    let mut face = cargo([
        "test",
        "-p",
        "verify-wasm",
        "--target",
        "wasm32-unknown-unknown",
    ]);
    face.env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        "wasm-bindgen-test-runner",
    );
    run(
        face,
        Step::new("verify-wasm under wasm-bindgen-test (Node)"),
    )?;

    let root = env::root();
    let again = page::build(
        &root.join("target/page-repro/dist"),
        &root.join("target/page-repro"),
        None,
    )?;
    if again.single_sha256 != page.single_sha256 {
        return Err(format!(
            "the page build is not reproducible: {} then {}",
            page.single_sha256, again.single_sha256
        ));
    }
    println!(
        "\nreproducible: two builds of airlock.html are both {}",
        page.single_sha256
    );

    env::ensure_debian_tools(page::BROWSER_TOOLS)?;
    let mut node = std::process::Command::new("node");
    node.args(["--test", "--test-concurrency=1", "tests/browser/"])
        .current_dir(&root)
        .env("AIRLOCK_DIST", root.join("dist"))
        .env("AIRLOCK_BIN", env::release_binary("airlock"))
        .env("AIRLOCK_CORPUS", env::corpus_dir()?)
        .env("AIRLOCK_BIG", big_bundle)
        .env("AIRLOCK_SHOTS", root.join("target/screenshots"));
    run(node, Step::new("the page in Chromium (playwright-core)"))
}

/// Builds the npm package into `pkg/`.
fn build_pkg() -> Result<(), String> {
    let root = env::root();
    let pkg = pkg::build(&root.join("pkg"), &root.join("target/page"))?;
    println!("\nbuilt {}", pkg.dir.display());
    Ok(())
}

/// The npm package as a user gets it: packed, installed from the tarball
/// into a scratch project, its examples type-checked and run in Node and
/// Chromium against the corpus.
fn pkg_tests() -> Result<(), String> {
    build_pkg()?;
    env::ensure_debian_tools(page::BROWSER_TOOLS)?;
    let root = env::root();
    let mut node = std::process::Command::new("node");
    node.args(["--test", "--test-concurrency=1", "tests/pkg/"])
        .current_dir(&root)
        .env("AIRLOCK_PKG", root.join("pkg"))
        .env("AIRLOCK_PKG_SCRATCH", root.join("target/pkg-test"))
        .env("AIRLOCK_BIN", env::release_binary("airlock"))
        .env("AIRLOCK_CORPUS", env::corpus_dir()?);
    run(
        node,
        Step::new("the npm package: pack, install, examples in Node and Chromium"),
    )
}

/// The edge verifier under workerd (npm), fed every corpus bundle and a
/// large one streamed with chunked encoding.
fn edge_tests(big_bundle: &std::path::Path) -> Result<(), String> {
    let build = edge::build()?;
    env::ensure_debian_tools(&[("curl", "curl")])?;
    let root = env::root();
    let mut node = std::process::Command::new("node");
    node.args(["--test", "--test-concurrency=1", "tests/edge/"])
        .current_dir(&root)
        .env("AIRLOCK_EDGE_BUILD", build)
        .env("AIRLOCK_BIN", env::release_binary("airlock"))
        .env("AIRLOCK_CORPUS", env::corpus_dir()?)
        .env("AIRLOCK_BIG", big_bundle)
        .env("AIRLOCK_RESULTS", root.join("target/edge"));
    run(node, Step::new("the edge verifier under workerd"))
}
