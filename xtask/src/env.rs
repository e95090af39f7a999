//! Locating things and running commands, installing what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The shared test corpus: `$AIRLOCK_CORPUS`, else `../shared/corpus` beside the checkout.
pub fn corpus_dir() -> Result<PathBuf, String> {
    let dir = std::env::var_os("AIRLOCK_CORPUS")
        .map_or_else(|| root().join("../shared/corpus"), PathBuf::from);
    if dir.join("expected.tsv").is_file() {
        Ok(dir)
    } else {
        Err(format!(
            "the test corpus is not at {} (set AIRLOCK_CORPUS)",
            dir.display()
        ))
    }
}

/// `$CARGO_TARGET_DIR`, else `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

pub fn release_binary(name: &str) -> PathBuf {
    target_dir().join("release").join(name)
}

pub fn cargo<const N: usize>(args: [&str; N]) -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.args(args).current_dir(root());
    c
}

/// A named step and the exit status it must end with.
pub struct Step {
    name: String,
    status: i32,
}

impl Step {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            status: 0,
        }
    }

    pub fn expect_status(mut self, status: i32) -> Self {
        self.status = status;
        self
    }
}

pub fn run(mut command: Command, step: Step) -> Result<(), String> {
    println!("\n==> {}", step.name);
    let status = command.status().map_err(|e| {
        format!(
            "{}: cannot start {:?}: {e}",
            step.name,
            command.get_program()
        )
    })?;
    if status.code() == Some(step.status) {
        Ok(())
    } else {
        Err(format!(
            "{}: exited with {status}, expected {}",
            step.name, step.status
        ))
    }
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The cargo-deny version CI installs.
const CARGO_DENY_VERSION: &str = "0.20.2";

/// `cargo deny`, installed with its locked dependencies when missing.
pub fn ensure_cargo_deny() -> Result<(), String> {
    if succeeds("cargo", &["deny", "--version"]) {
        return Ok(());
    }
    let mut c = Command::new("cargo");
    c.args([
        "install",
        "cargo-deny",
        "--locked",
        "--version",
        CARGO_DENY_VERSION,
    ]);
    run(c, Step::new("install cargo-deny"))
}

/// What building the CLI needs beyond cargo: `protoc`, because the
/// containerd client generates its gRPC bindings at build time.
pub fn ensure_build_tools() -> Result<(), String> {
    ensure_debian_tools(&[("protoc", "protobuf-compiler")])
}

/// rustfmt, clippy and the wasm target, installed through rustup when
/// missing, and the build tools.
pub fn ensure_rust_tools() -> Result<(), String> {
    ensure_build_tools()?;
    ensure_rust_targets(&["wasm32-unknown-unknown"])?;
    for (component, probe) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        if !succeeds("cargo", &[probe, "--version"]) {
            let mut c = Command::new("rustup");
            c.args(["component", "add", component]);
            run(c, Step::new(&format!("install {component}")))?;
        }
    }
    Ok(())
}

/// The rustup targets `triples`, added when missing.
pub fn ensure_rust_targets(triples: &[&str]) -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup is needed: {e}"))?;
    let installed = String::from_utf8_lossy(&installed.stdout).into_owned();
    let missing: Vec<&str> = triples
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|line| line.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut c = Command::new("rustup");
    c.args(["target", "add"]).args(&missing);
    run(
        c,
        Step::new(&format!("add the rust targets {}", missing.join(" "))),
    )
}

/// Installs the Debian packages that provide `programs` (names on PATH, or
/// absolute paths of files or directories) when any is missing.
pub fn ensure_debian_tools(programs: &[(&str, &str)]) -> Result<(), String> {
    let missing: Vec<&str> = programs
        .iter()
        .filter(|(program, _)| {
            if program.starts_with('/') {
                !Path::new(program).exists()
            } else {
                !succeeds("sh", &["-c", &format!("command -v {program}")])
            }
        })
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

/// `apt-get update`, quietly.
fn apt_update() -> Result<(), String> {
    let mut update = Command::new("apt-get");
    update.arg("update").arg("-qq");
    run(update, Step::new("apt-get update"))
}

/// `apt-get install` of `packages`, after an `apt-get update`.
fn apt_install(packages: &[&str]) -> Result<(), String> {
    apt_update()?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(
        install,
        Step::new(&format!("install {}", packages.join(" "))),
    )
}

/// The virtualenv holding the official SBOM validators the tests run.
pub fn sbom_venv() -> PathBuf {
    root().join("target/sbom-venv")
}

/// The SBOM validators (`pyspdxtools` and cyclonedx-python-lib, pinned in
/// `xtask/sbom-validators.txt`) in [`sbom_venv`], installed from PyPI when
/// missing or when the pins changed since they were.
pub fn ensure_sbom_validators() -> Result<PathBuf, String> {
    let venv = sbom_venv();
    let requirements = root().join("xtask/sbom-validators.txt");
    let pins = std::fs::read_to_string(&requirements)
        .map_err(|e| format!("cannot read {}: {e}", requirements.display()))?;
    // A copy of the pins it was installed from, to notice when they change.
    let stamp = venv.join("airlock-pins.txt");
    if venv.join("bin/pyspdxtools").is_file()
        && std::fs::read_to_string(&stamp).is_ok_and(|s| s == pins)
    {
        return Ok(venv);
    }
    ensure_debian_tools(&[("python3", "python3")])?;
    let shown = venv.display().to_string();
    if !venv.join("bin/pip").is_file() && !succeeds("python3", &["-m", "venv", &shown]) {
        // Debian ships the venv module (and ensurepip) separately.
        apt_install(&["python3-venv"])?;
        let mut create = Command::new("python3");
        create.args(["-m", "venv", &shown]);
        run(create, Step::new("create the SBOM validators' virtualenv"))?;
    }
    let mut install = Command::new(venv.join("bin/pip"));
    install
        .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&requirements);
    run(
        install,
        Step::new("install the SBOM validators (spdx-tools, cyclonedx-python-lib)"),
    )?;
    std::fs::write(&stamp, pins).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(venv)
}

/// The npm packages in package.json (wasm-opt, esbuild, workerd,
/// playwright-core, hash-wasm as the page's speed yardstick, sigstore-js,
/// which the signature tests verify Airlock's seals with, and TypeScript
/// for the npm package),
/// installed when missing.
pub fn ensure_npm() -> Result<(), String> {
    if root().join("node_modules/.bin/wasm-opt").is_file()
        && root().join("node_modules/.bin/esbuild").is_file()
        && root()
            .join("node_modules/@cloudflare/workerd-linux-64/bin/workerd")
            .is_file()
        && root().join("node_modules/playwright-core").is_dir()
        && root().join("node_modules/.bin/tsc").is_file()
        && root().join("node_modules/@types/node").is_dir()
        && root()
            .join("node_modules/hash-wasm/dist/sha256.umd.min.js")
            .is_file()
        && root().join("node_modules/@sigstore/verify").is_dir()
        && root().join("node_modules/@sigstore/bundle").is_dir()
    {
        return Ok(());
    }
    ensure_debian_tools(&[("npm", "npm")])?;
    // Not `npm ci`: the lock lists workerd's builds for other platforms,
    // which the reachable registry does not serve, and `npm ci` insists on
    // every locked package. The versions are exact in package.json.
    let mut install = Command::new("npm");
    install
        .args(["install", "--no-audit", "--no-fund"])
        .current_dir(root());
    run(
        install,
        Step::new(
            "npm install (wasm-opt, esbuild, workerd, playwright-core, hash-wasm, sigstore-js, typescript)",
        ),
    )
}

/// Where [`ensure_go_tar_testdata`] keeps Go's `archive/tar` test files.
pub fn go_tar_testdata() -> PathBuf {
    root().join("target/go-tar-testdata")
}

/// Go's `src/archive/tar/testdata` (BSD licence, so fetched, never
/// committed) in [`go_tar_testdata`], for the test that loads each file as
/// a layer into dockerd. Taken from Debian's Go source package, the one
/// `golang-src` depends on, with `apt-get download` (no install) and
/// `dpkg-deb`; kept until removed, with the package it came from in
/// `airlock-source.txt`.
pub fn ensure_go_tar_testdata() -> Result<PathBuf, String> {
    let dir = go_tar_testdata();
    let stamp = dir.join("airlock-source.txt");
    if stamp.is_file() {
        return Ok(dir);
    }
    // A machine that never ran `apt-get update` has no package lists.
    let package = match go_source_package() {
        Ok(package) => package,
        Err(_) => {
            apt_update()?;
            go_source_package()?
        }
    };
    let work = root().join("target/go-tar-download");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let download = || {
        let mut c = Command::new("apt-get");
        c.args(["download", "-qq", &package]).current_dir(&work);
        c
    };
    if run(
        download(),
        Step::new(&format!("apt-get download {package}")),
    )
    .is_err()
    {
        // Lists older than the archive name a .deb it no longer has.
        apt_update()?;
        run(
            download(),
            Step::new(&format!("apt-get download {package}")),
        )?;
    }
    let deb = std::fs::read_dir(&work)
        .map_err(|e| format!("cannot read {}: {e}", work.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or_else(|| format!("apt-get download {package} left no .deb"))?;
    let mut unpack = Command::new("sh");
    unpack
        .args([
            "-c",
            "dpkg-deb --fsys-tarfile \"$1\" | tar -x --wildcards '*/archive/tar/testdata/*'",
            "sh",
        ])
        .arg(&deb)
        .current_dir(&work);
    run(unpack, Step::new("unpack archive/tar/testdata"))?;
    let found = find_dir(&work, "testdata")
        .ok_or_else(|| format!("{} holds no archive/tar/testdata", deb.display()))?;
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&found, &dir).map_err(|e| format!("cannot move {}: {e}", found.display()))?;
    let _ = std::fs::remove_dir_all(&work);
    let name = deb.file_name().map(|n| n.to_string_lossy().into_owned());
    std::fs::write(&stamp, format!("{}\n", name.unwrap_or(package)))
        .map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(dir)
}

/// The Go source package `golang-src` depends on (`golang-1.19-src` on
/// bookworm), as `apt-cache depends` names it.
fn go_source_package() -> Result<String, String> {
    let out = Command::new("apt-cache")
        .args(["depends", "golang-src"])
        .output()
        .map_err(|e| format!("apt-cache is needed: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .map(str::trim)
        .find(|p| p.starts_with("golang-") && p.ends_with("-src"))
        .map(str::to_owned)
        .ok_or_else(|| "apt-cache depends golang-src names no golang-*-src package".to_owned())
}

/// The first directory called `name` under `dir`, depth first.
fn find_dir(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if entry.file_name() == name {
            return Some(path);
        }
        if let Some(found) = find_dir(&path, name) {
            return Some(found);
        }
    }
    None
}
