//! `cargo xtask dist`: the release a site carries across the air gap, in
//! `dist/release/`:
//!
//! - `airlock-x86_64-unknown-linux-musl`, `airlock-aarch64-unknown-linux-musl`:
//!   static Linux binaries;
//! - `airlock-x86_64-pc-windows-gnu.exe`;
//! - `airlock_VERSION_amd64.deb`, with man pages and shell completions;
//! - `airlock.html` and `airlock.html.sha256`, the approver's page;
//! - `SHA256SUMS` over all of them;
//! - with `--key FILE`, `SHA256SUMS.seal.sigstore.json`: `airlock seal-sums`
//!   signs the set of files SHA256SUMS lists, each by name and SHA-256, so
//!   a site checks the whole release with `airlock check SHA256SUMS --trust
//!   release.pub`, or one file with any in-toto verifier. The passphrase
//!   comes from `AIRLOCK_PASSWORD`. `dist --check` without a key seals with
//!   a throwaway key, so the seal is tested either way.
//!
//! The binaries are built with the `dist` profile (stripped, no debug info),
//! `--locked`, `SOURCE_DATE_EPOCH` from the last commit, and every absolute
//! path of the build machine remapped, so the same commit and toolchain give
//! the same bytes wherever it is checked out.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest as _, Sha256};

use crate::env::{self, Step, run};

/// A target the release has a binary for, and the C cross toolchain that
/// builds `ring` (under rustls) for it and links the result.
pub struct Target {
    pub triple: &'static str,
    /// The C compiler for ring.
    cc: &'static str,
    ar: &'static str,
    /// The linker, when rustc's default for the target will not do.
    linker: Option<&'static str>,
    /// What the file is called in the release.
    pub file_name: &'static str,
    /// Programs (or files) the build needs and the Debian packages that
    /// hold them.
    tools: &'static [(&'static str, &'static str)],
}

pub const LINUX_X86_64: Target = Target {
    triple: "x86_64-unknown-linux-musl",
    cc: "musl-gcc",
    ar: "ar",
    // rustc links its own musl start files with the host `cc` into a
    // static-pie; musl-gcc as the linker would ask for a dynamic loader.
    linker: None,
    file_name: "airlock-x86_64-unknown-linux-musl",
    tools: &[("musl-gcc", "musl-tools"), ("ar", "binutils")],
};

pub const LINUX_AARCH64: Target = Target {
    triple: "aarch64-unknown-linux-musl",
    // Rust's musl targets bring their own C library and start files; the
    // GNU cross compiler compiles ring's C (against the cross libc's
    // headers, which are all it includes) and drives the link.
    cc: "aarch64-linux-gnu-gcc",
    ar: "aarch64-linux-gnu-ar",
    linker: Some("aarch64-linux-gnu-gcc"),
    file_name: "airlock-aarch64-unknown-linux-musl",
    tools: &[
        ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
        ("aarch64-linux-gnu-ar", "binutils-aarch64-linux-gnu"),
        (
            "/usr/aarch64-linux-gnu/include/stdint.h",
            "libc6-dev-arm64-cross",
        ),
    ],
};

pub const WINDOWS_X86_64: Target = Target {
    triple: "x86_64-pc-windows-gnu",
    cc: "x86_64-w64-mingw32-gcc",
    ar: "x86_64-w64-mingw32-ar",
    linker: Some("x86_64-w64-mingw32-gcc"),
    file_name: "airlock-x86_64-pc-windows-gnu.exe",
    tools: &[
        ("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64"),
        ("x86_64-w64-mingw32-ar", "binutils-mingw-w64-x86-64"),
    ],
};

pub const TARGETS: [&Target; 3] = [&LINUX_X86_64, &LINUX_AARCH64, &WINDOWS_X86_64];

/// The page's two files, copied from `cargo xtask page`'s output.
pub const PAGE_FILES: [&str; 2] = ["airlock.html", "airlock.html.sha256"];

/// What `dist` wrote.
pub struct Release {
    pub dir: PathBuf,
    pub deb: PathBuf,
    /// The public key of the release seal, when there is one.
    pub trust: Option<PathBuf>,
}

/// Who seals `SHA256SUMS`.
pub enum Signer {
    /// Nobody: the release has SHA256SUMS only.
    Nobody,
    /// This encrypted key (`airlock keygen`, `cosign generate-key-pair`),
    /// its passphrase in `AIRLOCK_PASSWORD`; its `.pub` sits beside it.
    Key(PathBuf),
    /// A key made for this run under `target/`, for the release tests.
    Throwaway,
}

/// The throwaway key's passphrase: the key only ever signs test releases.
const THROWAWAY_PASSPHRASE: &str = "airlock dist --check";

/// Builds the whole release into `out` (normally `dist/release/`).
pub fn build(out: &Path, signer: &Signer) -> Result<Release, String> {
    let root = env::root();
    ensure_tools(&TARGETS)?;
    let epoch = source_date_epoch(&root)?;
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for target in TARGETS {
        let built = build_binary(target, &root, &env::target_dir(), &epoch)?;
        copy(&built, &out.join(target.file_name))?;
    }
    let deb = deb::build(&out.join(LINUX_X86_64.file_name), out, &epoch)?;
    let page = crate::build_page()?;
    let page_dir = page.single.parent().unwrap_or(&root);
    for name in PAGE_FILES {
        copy(&page_dir.join(name), &out.join(name))?;
    }
    write_sums(out)?;
    let trust = seal(out, signer)?;
    println!("\nthe release is in {}", out.display());
    Ok(Release {
        dir: out.to_owned(),
        deb,
        trust,
    })
}

/// Seals `SHA256SUMS` with the release's own Linux binary; returns the
/// public key that checks the seal.
fn seal(out: &Path, signer: &Signer) -> Result<Option<PathBuf>, String> {
    let airlock = out.join(LINUX_X86_64.file_name);
    let (key, passphrase) = match signer {
        Signer::Nobody => return Ok(None),
        Signer::Key(key) => (key.clone(), None),
        Signer::Throwaway => {
            let dir = env::target_dir().join("dist-throwaway-key");
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let mut keygen = Command::new(&airlock);
            keygen
                .arg("keygen")
                .arg(dir.join("release"))
                .env("AIRLOCK_PASSWORD", THROWAWAY_PASSPHRASE);
            run(keygen, Step::new("a throwaway release key (dist --check)"))?;
            (dir.join("release.key"), Some(THROWAWAY_PASSPHRASE))
        }
    };
    let key = std::path::absolute(&key).map_err(|e| format!("{}: {e}", key.display()))?;
    let mut seal = Command::new(&airlock);
    seal.args(["seal-sums", "SHA256SUMS", "--key"])
        .arg(&key)
        .current_dir(out);
    if let Some(passphrase) = passphrase {
        seal.env("AIRLOCK_PASSWORD", passphrase);
    }
    run(seal, Step::new("airlock seal-sums SHA256SUMS"))?;
    let public = key.with_extension("pub");
    if !public.is_file() {
        return Err(format!(
            "{} is missing: the release seal is checked with the key's .pub beside it",
            public.display()
        ));
    }
    Ok(Some(public))
}

/// The cross toolchains and rustup targets, installed when missing.
pub fn ensure_tools(targets: &[&Target]) -> Result<(), String> {
    env::ensure_build_tools()?;
    let mut tools: Vec<(&str, &str)> = vec![("dpkg-deb", "dpkg"), ("gzip", "gzip")];
    for target in targets {
        tools.extend_from_slice(target.tools);
    }
    env::ensure_debian_tools(&tools)?;
    let triples: Vec<&str> = targets.iter().map(|t| t.triple).collect();
    env::ensure_rust_targets(&triples)
}

/// The last commit's time, which `SOURCE_DATE_EPOCH` (if set) overrides:
/// what the .deb's timestamps and anything else that wants a date gets.
pub fn source_date_epoch(root: &Path) -> Result<String, String> {
    if let Ok(epoch) = std::env::var("SOURCE_DATE_EPOCH") {
        return Ok(epoch);
    }
    let out = Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("git is needed for SOURCE_DATE_EPOCH: {e}"))?;
    let epoch = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || epoch.parse::<u64>().is_err() {
        return Err("cannot read the last commit's time for SOURCE_DATE_EPOCH".into());
    }
    Ok(epoch)
}

/// Builds `airlock` for `target` from the checkout at `checkout`, in
/// `target_dir`, and returns the binary's path.
pub fn build_binary(
    target: &Target,
    checkout: &Path,
    target_dir: &Path,
    epoch: &str,
) -> Result<PathBuf, String> {
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{home}/.cargo"));
    let checkout_dir = checkout.display().to_string();
    let target_arg = target_dir.display().to_string();
    // Paths of this machine that would end up in panic messages and in
    // generated code's `file!()`: the checkout, the registry, the target
    // directory (build scripts' OUT_DIR). The last match wins, so the
    // target directory, which may sit inside the checkout, comes last.
    let remaps = [
        (format!("{checkout_dir}/"), "/airlock/"),
        (format!("{cargo_home}/registry/src/"), "/registry/"),
        (format!("{cargo_home}/git/checkouts/"), "/git/"),
        (format!("{target_arg}/"), "/target/"),
    ];
    let rustflags = remaps
        .iter()
        .map(|(from, to)| format!("--remap-path-prefix={from}={to}"))
        .chain(std::iter::once("-C target-feature=+crt-static".to_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let cflags = remaps
        .iter()
        .map(|(from, to)| format!("-ffile-prefix-map={from}={to}"))
        .collect::<Vec<_>>()
        .join(" ");
    let env_triple = target.triple.replace('-', "_");
    let upper = env_triple.to_uppercase();
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .args([
            "build",
            "--locked",
            "--profile",
            "dist",
            "-p",
            "airlock",
            "--target",
            target.triple,
            "--target-dir",
            &target_arg,
        ])
        .current_dir(checkout)
        .env("SOURCE_DATE_EPOCH", epoch)
        .env(format!("CC_{env_triple}"), target.cc)
        .env(format!("AR_{env_triple}"), target.ar)
        .env(format!("CFLAGS_{env_triple}"), cflags)
        .env(format!("CARGO_TARGET_{upper}_RUSTFLAGS"), rustflags)
        // A RUSTFLAGS from outside would override the per-target flags.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if let Some(linker) = target.linker {
        cargo.env(format!("CARGO_TARGET_{upper}_LINKER"), linker);
    }
    run(
        cargo,
        Step::new(&format!(
            "build airlock for {} (dist profile)",
            target.triple
        )),
    )?;
    let name = if target.triple.contains("windows") {
        "airlock.exe"
    } else {
        "airlock"
    };
    Ok(target_dir.join(target.triple).join("dist").join(name))
}

/// `SHA256SUMS` in `sha256sum` format over every file in `dir`, sorted by
/// name.
fn write_sums(dir: &Path) -> Result<(), String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name != "SHA256SUMS")
        .collect();
    names.sort();
    let mut sums = String::new();
    for name in names {
        let bytes =
            std::fs::read(dir.join(&name)).map_err(|e| format!("{}: {e}", dir.display()))?;
        sums.push_str(&format!("{}  {name}\n", hex(&Sha256::digest(&bytes))));
    }
    let path = dir.join("SHA256SUMS");
    std::fs::write(&path, sums).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copy {} to {}: {e}", from.display(), to.display()))
}

/// The Debian package, staged as a tree and packed with `dpkg-deb`.
mod deb {
    use std::os::unix::fs::PermissionsExt as _;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use crate::env::{self, Step, run};

    /// The package's control file; `{VERSION}` and `{SIZE}` (KiB) are
    /// filled in.
    const CONTROL: &str = "Package: airlock
Version: {VERSION}
Architecture: amd64
Maintainer: Airlock developers <dev@airlock>
Section: admin
Priority: optional
Installed-Size: {SIZE}
Homepage: https://github.com/airlock/airlock
Description: verify container image bundles before they cross an air gap
 airlock checks docker save / podman save / OCI archives: the whole-file
 SHA-256, every blob, manifest and layer; shows what they hold; and loads
 them into Docker, containerd or an OCI layout, or pushes them to a
 registry, only when every check passed.
";

    const COPYRIGHT: &str =
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: airlock

Files: *
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
";

    /// Where each generated completion file goes in the package.
    const COMPLETIONS: [(&str, &str); 3] = [
        (
            "airlock.bash",
            "usr/share/bash-completion/completions/airlock",
        ),
        ("_airlock", "usr/share/zsh/vendor-completions/_airlock"),
        (
            "airlock.fish",
            "usr/share/fish/vendor_completions.d/airlock.fish",
        ),
    ];

    /// Builds `airlock_VERSION_amd64.deb` in `out` around `binary` (the
    /// static x86_64 build, which also writes its own man pages and
    /// completions).
    pub fn build(binary: &Path, out: &Path, epoch: &str) -> Result<PathBuf, String> {
        let root = env::root();
        let version = workspace_version(&root)?;
        let work = env::target_dir().join("deb");
        let _ = std::fs::remove_dir_all(&work);
        let generated = work.join("generated");
        let mut generate = Command::new(binary);
        generate.arg("__generate").arg(&generated);
        run(
            generate,
            Step::new("generate the man pages and completions from the CLI"),
        )?;

        let stage = work.join("airlock");
        let place = |from: &Path, to: &str, mode: u32| -> Result<(), String> {
            let dest = stage.join(to);
            if let Some(parent) = dest.parent() {
                mkdir(parent)?;
            }
            super::copy(from, &dest)?;
            set_mode(&dest, mode)
        };
        place(binary, "usr/bin/airlock", 0o755)?;
        let man_dir = generated.join("man");
        let mut pages: Vec<String> = std::fs::read_dir(&man_dir)
            .map_err(|e| format!("{}: {e}", man_dir.display()))?
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        pages.sort();
        for page in &pages {
            place(
                &man_dir.join(page),
                &format!("usr/share/man/man1/{page}"),
                0o644,
            )?;
            // Debian compresses man pages; -n keeps the name and time out.
            let mut gzip = Command::new("gzip");
            gzip.args(["-9n"])
                .arg(stage.join(format!("usr/share/man/man1/{page}")));
            run(gzip, Step::new(&format!("gzip {page}")))?;
        }
        for (name, to) in COMPLETIONS {
            place(&generated.join("completions").join(name), to, 0o644)?;
        }
        let doc = stage.join("usr/share/doc/airlock/copyright");
        mkdir(doc.parent().unwrap_or(&stage))?;
        write(&doc, COPYRIGHT, 0o644)?;

        let size_kib = tree_size(&stage)?.div_ceil(1024);
        let debian = stage.join("DEBIAN");
        mkdir(&debian)?;
        write(
            &debian.join("control"),
            &CONTROL
                .replace("{VERSION}", &version)
                .replace("{SIZE}", &size_kib.to_string()),
            0o644,
        )?;
        // Same bytes on every run: fixed modes (not the umask's), every
        // timestamp the commit's, root as owner (dpkg-deb's option).
        normalize(&stage, epoch)?;
        let deb = out.join(format!("airlock_{version}_amd64.deb"));
        let mut pack = Command::new("dpkg-deb");
        pack.args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&stage)
            .arg(&deb)
            .env("SOURCE_DATE_EPOCH", epoch);
        run(pack, Step::new("dpkg-deb --build"))?;
        Ok(deb)
    }

    /// `version` of `[workspace.package]` in the root Cargo.toml.
    fn workspace_version(root: &Path) -> Result<String, String> {
        let toml = std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| e.to_string())?;
        let section = toml
            .split("[workspace.package]")
            .nth(1)
            .ok_or("no [workspace.package] in Cargo.toml")?;
        section
            .lines()
            .take_while(|l| !l.starts_with('['))
            .find_map(|l| {
                let (key, value) = l.split_once('=')?;
                (key.trim() == "version").then(|| value.trim().trim_matches('"').to_owned())
            })
            .ok_or_else(|| "no version in [workspace.package]".to_owned())
    }

    fn mkdir(dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
    }

    fn write(path: &Path, text: &str, mode: u32) -> Result<(), String> {
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        set_mode(path, mode)
    }

    fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Bytes of the regular files under `dir`.
    fn tree_size(dir: &Path) -> Result<u64, String> {
        let mut total = 0;
        for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
            let entry = entry.map_err(|e| e.to_string())?;
            let meta = entry.metadata().map_err(|e| e.to_string())?;
            total += if meta.is_dir() {
                tree_size(&entry.path())?
            } else {
                meta.len()
            };
        }
        Ok(total)
    }

    /// Directories 0755, every timestamp `epoch`.
    fn normalize(stage: &Path, epoch: &str) -> Result<(), String> {
        let mut dirs = Command::new("find");
        dirs.arg(stage)
            .args(["-type", "d", "-exec", "chmod", "0755", "{}", "+"]);
        run(dirs, Step::new("directory modes of the package"))?;
        let mut touch = Command::new("find");
        touch.arg(stage).args([
            "-exec",
            "touch",
            "-h",
            "-d",
            &format!("@{epoch}"),
            "{}",
            "+",
        ]);
        run(touch, Step::new("timestamps of the package"))
    }
}
