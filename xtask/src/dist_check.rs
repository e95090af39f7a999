//! What `cargo xtask test` checks of the release `dist` wrote: each binary
//! static (Linux) and within the size budget; the aarch64 one under
//! qemu-user and the Windows one under wine giving the same answers as the
//! x86_64 Linux one; the .deb installed into a scratch root and run; the
//! sums checked by `sha256sum -c` and `airlock check`; and the x86_64
//! binary built a second time from another checkout path, byte for byte
//! the same.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::dist::{self, LINUX_AARCH64, LINUX_X86_64, Release, TARGETS, WINDOWS_X86_64};
use crate::env::{self, Step, run};

/// The largest a release binary may be.
const MAX_BINARY_BYTES: u64 = 15 << 20;

/// Bundles every face must answer alike: each format, compressed ones, and
/// bundles that fail in different ways.
const BUNDLES: &[&str] = &[
    "good/skopeo-docker-archive.tar",
    "good/podman-oci-archive.tar",
    "good/docker-save-legacy.tar.gz",
    "good/skopeo-oci-archive-zstd.tar",
    "good/containerd-export.tar",
    "bad/bitflip-layer.tar",
    "bad/path-traversal.tar",
    "bad/not-a-tar.bin",
];

/// What running an airlock gave.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    code: Option<i32>,
    stdout: Vec<u8>,
}

pub fn check(release: &Release) -> Result<(), String> {
    env::ensure_debian_tools(&[
        ("file", "file"),
        ("qemu-aarch64-static", "qemu-user-static"),
        ("wine", "wine"),
        ("sha256sum", "coreutils"),
    ])?;
    let corpus = env::corpus_dir()?;
    let dir = &release.dir;
    let linux = dir.join(LINUX_X86_64.file_name);
    sizes_and_linking(dir)?;
    sums(dir, &linux)?;
    if let Some(trust) = &release.trust {
        release_seal(dir, &linux, trust)?;
    }
    qemu_aarch64(dir, &linux, &corpus)?;
    wine::check(
        &dir.join(WINDOWS_X86_64.file_name),
        &linux,
        &corpus,
        release.trust.as_deref(),
    )?;
    deb(&release.deb)?;
    reproducible(&linux)?;
    Ok(())
}

/// Every binary within budget, the Linux ones with no dynamic loader.
fn sizes_and_linking(dir: &Path) -> Result<(), String> {
    println!("\n==> binary sizes (limit {} MiB)", MAX_BINARY_BYTES >> 20);
    for target in TARGETS {
        let path = dir.join(target.file_name);
        let size = std::fs::metadata(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .len();
        println!(
            "{:>8.2} MiB  {}",
            size as f64 / f64::from(1 << 20),
            target.file_name
        );
        if size > MAX_BINARY_BYTES {
            return Err(format!(
                "{} is {size} bytes, over the {MAX_BINARY_BYTES}-byte budget",
                target.file_name
            ));
        }
        if target.triple.contains("linux") {
            let described = output(Command::new("file").arg(&path))?;
            let described = String::from_utf8_lossy(&described.stdout).into_owned();
            // `file` says "statically linked" or "static-pie linked".
            if !described.contains("static") || described.contains("interpreter") {
                return Err(format!(
                    "{} is not a static binary: {described}",
                    target.file_name
                ));
            }
        }
    }
    Ok(())
}

/// `SHA256SUMS` names every other file, and both `sha256sum -c` and
/// `airlock check` accept it.
fn sums(dir: &Path, airlock: &Path) -> Result<(), String> {
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(dir).map_err(|e| e.to_string())? {
        let name = entry.map_err(|e| e.to_string())?.file_name();
        let name = name.to_string_lossy();
        let covered = sums.lines().any(|l| l.ends_with(&format!("  {name}")));
        if name != "SHA256SUMS" && name != SEAL && !covered {
            return Err(format!("SHA256SUMS does not cover {name}"));
        }
    }
    let mut coreutils = Command::new("sha256sum");
    coreutils
        .args(["-c", "--strict", "SHA256SUMS"])
        .current_dir(dir);
    run(coreutils, Step::new("sha256sum -c SHA256SUMS"))?;
    let mut ours = Command::new(airlock);
    ours.args(["check", "SHA256SUMS"]).current_dir(dir);
    run(ours, Step::new("airlock check SHA256SUMS"))
}

/// The release seal's file, beside SHA256SUMS and not in it.
const SEAL: &str = "SHA256SUMS.seal.sigstore.json";

/// The seal checks with the release key, and a SHA256SUMS changed after
/// sealing (a line dropped, as if a file were withdrawn) is refused before
/// any file is read.
fn release_seal(dir: &Path, airlock: &Path, trust: &Path) -> Result<(), String> {
    let mut ours = Command::new(airlock);
    ours.args(["check", "SHA256SUMS", "--trust"])
        .arg(trust)
        .current_dir(dir);
    run(
        ours,
        Step::new("airlock check SHA256SUMS --trust release.pub"),
    )?;

    let scratch = env::target_dir().join("dist-seal-tamper");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).map_err(|e| e.to_string())?;
    let fewer: String = sums.lines().skip(1).map(|l| format!("{l}\n")).collect();
    std::fs::write(scratch.join("SHA256SUMS"), fewer).map_err(|e| e.to_string())?;
    std::fs::copy(dir.join(SEAL), scratch.join(SEAL)).map_err(|e| e.to_string())?;
    let mut tampered = Command::new(airlock);
    tampered
        .args(["check", "SHA256SUMS", "--trust"])
        .arg(trust)
        .current_dir(&scratch);
    run(
        tampered,
        Step::new("airlock check --trust refuses a SHA256SUMS with a line dropped after sealing")
            .expect_status(1),
    )
}

/// The aarch64 binary under qemu-user gives the x86_64 one's answers.
fn qemu_aarch64(dir: &Path, linux: &Path, corpus: &Path) -> Result<(), String> {
    println!("\n==> the aarch64 binary under qemu-aarch64-static");
    let arm = dir.join(LINUX_AARCH64.file_name);
    for bundle in BUNDLES {
        let path = corpus.join(bundle);
        for args in [&["verify", "--json"][..], &["hash"][..]] {
            let native = answer(Command::new(linux).args(args).arg(&path))?;
            let emulated = answer(
                Command::new("qemu-aarch64-static")
                    .arg(&arm)
                    .args(args)
                    .arg(&path),
            )?;
            same(&format!("{} {bundle}", args.join(" ")), &native, &emulated)?;
        }
    }
    println!("aarch64 and x86_64 agree on {} bundles", BUNDLES.len());
    Ok(())
}

/// The .deb installed into a scratch root: the binary runs, the man pages
/// and completions are where Debian looks for them.
fn deb(deb: &Path) -> Result<(), String> {
    let scratch = env::target_dir().join("deb-root");
    let _ = std::fs::remove_dir_all(&scratch);
    let admin = scratch.join("var/lib/dpkg");
    for sub in ["info", "updates", "triggers"] {
        std::fs::create_dir_all(admin.join(sub)).map_err(|e| e.to_string())?;
    }
    std::fs::write(admin.join("status"), "").map_err(|e| e.to_string())?;
    let mut install = Command::new("dpkg");
    install
        .arg(format!("--root={}", scratch.display()))
        .args([
            "--force-not-root",
            "--force-script-chrootless",
            "--log=/dev/null",
            "-i",
        ])
        .arg(deb);
    run(install, Step::new("dpkg -i the .deb into a scratch root"))?;
    let installed = scratch.join("usr/bin/airlock");
    let version = output(Command::new(&installed).arg("--version"))?;
    let version = String::from_utf8_lossy(&version.stdout).into_owned();
    if !version.starts_with("airlock ") {
        return Err(format!("the installed airlock says {version:?}"));
    }
    let man = scratch.join("usr/share/man/man1/airlock.1.gz");
    let page = output(Command::new("gzip").arg("-dc").arg(&man))?;
    let page = String::from_utf8_lossy(&page.stdout).into_owned();
    if !page.contains(".TH airlock 1") || !page.contains("verify") {
        return Err(format!("{} is not airlock's man page", man.display()));
    }
    for needed in [
        "usr/share/man/man1/airlock-verify.1.gz",
        "usr/share/bash-completion/completions/airlock",
        "usr/share/zsh/vendor-completions/_airlock",
        "usr/share/fish/vendor_completions.d/airlock.fish",
    ] {
        if !scratch.join(needed).is_file() {
            return Err(format!("the .deb did not install /{needed}"));
        }
    }
    println!("installed {version} from {}", deb.display());
    Ok(())
}

/// The x86_64 binary built again from a copy of the checkout at another
/// path, into another target directory: same bytes. (The page's build is
/// checked the same way by the page tests.)
fn reproducible(shipped: &Path) -> Result<(), String> {
    let root = env::root();
    let work = env::target_dir().join("dist-repro");
    let checkout = work.join("checkout");
    let _ = std::fs::remove_dir_all(&checkout);
    copy_checkout(&root, &checkout)?;
    // The epoch `dist` used, so the second build is told the same.
    let epoch = dist::source_date_epoch(&root)?;
    // Another target directory but the same build directory depth would hide
    // a path leak, so the second one is nested differently.
    let again = dist::build_binary(
        &LINUX_X86_64,
        &checkout,
        &work.join("second/target"),
        &epoch,
    )?;
    let a = std::fs::read(shipped).map_err(|e| e.to_string())?;
    let b = std::fs::read(&again).map_err(|e| e.to_string())?;
    if a != b {
        return Err(format!(
            "the x86_64 binary is not reproducible: {} and {} differ",
            shipped.display(),
            again.display()
        ));
    }
    println!(
        "\nreproducible: the x86_64 binary built from {} is byte for byte the release's",
        checkout.display()
    );
    Ok(())
}

/// The files git knows of (committed or not, untracked but not ignored):
/// what a fresh clone with these changes would hold.
fn copy_checkout(root: &Path, to: &Path) -> Result<(), String> {
    let listed = output(
        Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root),
    )?;
    for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        let from = root.join(&name);
        if !from.is_file() {
            continue; // deleted in the working tree
        }
        let dest = to.join(&name);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        dist::copy(&from, &dest)?;
    }
    Ok(())
}

fn output(command: &mut Command) -> Result<std::process::Output, String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{:?} failed ({}): {}",
            command.get_program(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out)
}

fn answer(command: &mut Command) -> Result<Answer, String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    Ok(Answer {
        code: out.status.code(),
        stdout: out.stdout,
    })
}

fn same(what: &str, expected: &Answer, found: &Answer) -> Result<(), String> {
    if expected == found {
        return Ok(());
    }
    Err(format!(
        "{what}: the x86_64 Linux binary said (exit {:?})\n{}\nbut the other said (exit {:?})\n{}",
        expected.code,
        String::from_utf8_lossy(&expected.stdout),
        found.code,
        String::from_utf8_lossy(&found.stdout)
    ))
}

/// The Windows binary under wine.
mod wine {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::{Answer, BUNDLES, answer, same};
    use crate::env::{self, Step, run};

    /// `wine PROGRAM` in a prefix of its own, quiet.
    fn wine(program: &str) -> Command {
        let mut c = Command::new("wine");
        c.arg(program)
            .env("WINEPREFIX", env::target_dir().join("wine"))
            .env("WINEDEBUG", "-all")
            // No "install Mono/Gecko?" dialogs, no display needed.
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY");
        c
    }

    /// `wine airlock.exe ARGS`.
    fn exe(airlock: &Path) -> Command {
        wine(&airlock.display().to_string())
    }

    /// Rust's std on Windows 10+ takes its random keys from `ProcessPrng` in
    /// bcryptprimitives.dll, which every supported Windows has and Debian
    /// 12's wine 8 lacks: there, the prefix gets a stand-in built from this
    /// source, which asks advapi32's `RtlGenRandom` instead. Only the test
    /// harness carries it; the release does not.
    const PROCESS_PRNG_SHIM: &str = r#"#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
"#;

    /// Makes the wine prefix, with the `ProcessPrng` stand-in if needed.
    ///
    /// wineboot's own exit status is not the verdict: Debian's `wine`
    /// without the i386 `wine32` cannot start the 32-bit helpers wineboot
    /// tries (`syswow64\rundll32.exe`, STATUS_DLL_NOT_FOUND), and on some
    /// machines that failure becomes wineboot's status (53, the status's low
    /// byte) although the 64-bit prefix is complete. What the test needs is
    /// a prefix in which a 64-bit program runs, so that is what is checked.
    fn prepare_prefix() -> Result<(), String> {
        let prefix = env::target_dir().join("wine");
        println!("\n==> wineboot --init (the test's 64-bit wine prefix)");
        let booted = wine("wineboot")
            .arg("--init")
            .env("WINEARCH", "win64")
            .status()
            .map_err(|e| format!("cannot start wine: {e}"))?;
        // wineboot returns before the wineserver has written the registry.
        let _ = Command::new("wineserver")
            .env("WINEPREFIX", &prefix)
            .arg("-w")
            .status();
        let echoed = answer(wine("cmd").args(["/c", "echo", "airlock-wine-ok"]))?;
        if !String::from_utf8_lossy(&echoed.stdout).contains("airlock-wine-ok") {
            return Err(format!(
                "wine cannot run a 64-bit Windows program in {} (wineboot: {booted}; \
                 cmd /c echo: exit {:?}, {:?})",
                prefix.display(),
                echoed.code,
                String::from_utf8_lossy(&echoed.stdout)
            ));
        }
        if !booted.success() {
            println!(
                "wineboot said {booted}; the prefix runs 64-bit programs, which is all the test needs"
            );
        }
        let system32 = env::target_dir().join("wine/drive_c/windows/system32");
        let dll = system32.join("bcryptprimitives.dll");
        if dll.is_file() {
            return Ok(());
        }
        let work = env::target_dir().join("wine-shim");
        std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
        let source = work.join("bcryptprimitives.c");
        std::fs::write(&source, PROCESS_PRNG_SHIM).map_err(|e| e.to_string())?;
        let mut cc = Command::new("x86_64-w64-mingw32-gcc");
        cc.args(["-shared", "-O2", "-s", "-o"])
            .arg(&dll)
            .arg(&source)
            .arg("-ladvapi32");
        run(
            cc,
            Step::new("bcryptprimitives.dll stand-in for wine 8 (ProcessPrng)"),
        )
    }

    /// `Z:\work\…`: how a Windows program under wine sees a Linux path, with
    /// the drive letter and backslashes a Windows user types.
    fn windows_path(path: &Path) -> String {
        format!("Z:{}", path.display()).replace('/', "\\")
    }

    pub fn check(
        airlock: &Path,
        linux: &Path,
        corpus: &Path,
        trust: Option<&Path>,
    ) -> Result<(), String> {
        println!("\n==> the Windows binary under wine");
        prepare_prefix()?;
        let scratch = env::target_dir().join("wine-scratch");
        let _ = std::fs::remove_dir_all(&scratch);
        std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;

        for bundle in BUNDLES {
            let path = corpus.join(bundle);
            let native = answer(Command::new(linux).args(["verify", "--json"]).arg(&path))?;
            let windows = answer(exe(airlock).args(["verify", "--json", &windows_path(&path)]))?;
            same(&format!("verify --json {bundle}"), &native, &windows)?;
            let native = answer(Command::new(linux).args(["inspect", "--json"]).arg(&path))?;
            let windows = answer(exe(airlock).args(["inspect", "--json", &windows_path(&path)]))?;
            same(&format!("inspect --json {bundle}"), &native, &windows)?;
            hash_matches(airlock, linux, &path)?;
        }
        println!(
            "verify --json, inspect --json and hash agree with Linux on {} bundles",
            BUNDLES.len()
        );
        sboms(airlock, linux, corpus)?;
        certutil_utf16(airlock, corpus, &scratch)?;
        if let Some(trust) = trust {
            release_seal(airlock, trust)?;
        }
        no_console(airlock, corpus)?;
        unix_sockets_refused(airlock, corpus)?;
        oci_layout(airlock, linux, corpus, &scratch)?;
        push(airlock)
    }

    /// `push` to a real registry over TLS: the registry test's own
    /// fixture (Debian's docker-registry, htpasswd, a test CA) runs the
    /// `.exe` under wine in both push modes and checks the result with
    /// skopeo.
    fn push(airlock: &Path) -> Result<(), String> {
        env::ensure_debian_tools(crate::REGISTRY_TOOLS)?;
        let mut test = env::cargo([
            "test",
            "-p",
            "airlock",
            "--test",
            "registry",
            "--",
            "--ignored",
            "--exact",
            "the_windows_exe_pushes_under_wine",
        ]);
        test.env("AIRLOCK_WINDOWS_EXE", airlock)
            .env("WINEPREFIX", env::target_dir().join("wine"))
            .env("WINEDEBUG", "-all")
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env_remove("DISPLAY");
        run(
            test,
            Step::new("airlock.exe push under wine, to a TLS + htpasswd registry"),
        )
    }

    /// `sbom` writes the same SPDX and CycloneDX documents, byte for byte,
    /// with the creation time pinned by `SOURCE_DATE_EPOCH`.
    fn sboms(airlock: &Path, linux: &Path, corpus: &Path) -> Result<(), String> {
        let path = corpus.join("good/skopeo-docker-archive.tar");
        for format in ["spdx-json", "cyclonedx-json"] {
            let args = ["sbom", "--format", format];
            let native = answer(
                Command::new(linux)
                    .args(args)
                    .arg(&path)
                    .env("SOURCE_DATE_EPOCH", "1700000000"),
            )?;
            let windows = answer(
                exe(airlock)
                    .args(args)
                    .arg(windows_path(&path))
                    .env("SOURCE_DATE_EPOCH", "1700000000"),
            )?;
            if native.code != Some(0) || native.stdout.is_empty() {
                return Err(format!("sbom --format {format}: exit {:?}", native.code));
            }
            same(&format!("sbom --format {format}"), &native, &windows)?;
        }
        println!("sbom writes the same SPDX and CycloneDX documents");
        Ok(())
    }

    /// `hash` prints the same digest, and `check` reads its output back.
    fn hash_matches(airlock: &Path, linux: &Path, path: &Path) -> Result<(), String> {
        let native = answer(Command::new(linux).arg("hash").arg(path))?;
        let windows = answer(exe(airlock).args(["hash", &windows_path(path)]))?;
        let digest = |a: &Answer| a.stdout.get(..64).map(<[u8]>::to_vec);
        // Windows names the file by its Windows path; GNU's escaping marks
        // the backslashes with a leading `\`.
        let windows_digest = windows
            .stdout
            .strip_prefix(b"\\")
            .map(|rest| rest.get(..64));
        if native.code != windows.code
            || digest(&native).is_none()
            || windows_digest.flatten().map(<[u8]>::to_vec) != digest(&native)
        {
            return Err(format!(
                "hash {}: Linux said {:?}, Windows said {:?}",
                path.display(),
                String::from_utf8_lossy(&native.stdout),
                String::from_utf8_lossy(&windows.stdout)
            ));
        }
        Ok(())
    }

    /// certutil's output as PowerShell saves it (`> FILE`: UTF-16 LE with a
    /// BOM, CRLF), naming the bundle by the sender's path: `check` and
    /// `verify --sums` take it, as the Linux build does.
    fn certutil_utf16(airlock: &Path, corpus: &Path, scratch: &Path) -> Result<(), String> {
        let name = "skopeo-docker-archive.tar";
        let bundle = scratch.join(name);
        std::fs::copy(corpus.join("good").join(name), &bundle).map_err(|e| e.to_string())?;
        let ascii =
            std::fs::read_to_string(corpus.join("good").join(format!("{name}.certutil.txt")))
                .map_err(|e| e.to_string())?;
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(ascii.encode_utf16().flat_map(u16::to_le_bytes));
        let sums = scratch.join("from-windows.txt");
        std::fs::write(&sums, utf16).map_err(|e| e.to_string())?;

        let checked = answer(exe(airlock).args(["check", &windows_path(&sums)]))?;
        if checked.code != Some(0) || !String::from_utf8_lossy(&checked.stdout).contains(": OK") {
            return Err(format!(
                "airlock.exe check on UTF-16 certutil output: exit {:?}, {}",
                checked.code,
                String::from_utf8_lossy(&checked.stdout)
            ));
        }
        let verified = answer(exe(airlock).args([
            "verify",
            "--json",
            "--sums",
            &windows_path(&sums),
            &windows_path(&bundle),
        ]))?;
        let report: serde_json::Value =
            serde_json::from_slice(&verified.stdout).map_err(|e| e.to_string())?;
        if verified.code != Some(0) || report["bundle"]["sha256_matches"] != true {
            return Err(format!(
                "airlock.exe verify --sums UTF-16 certutil output: exit {:?}, {report}",
                verified.code
            ));
        }
        println!("UTF-16 LE certutil output read by check and verify --sums");
        Ok(())
    }

    /// A Windows site checks the release it carried in with the `.exe`
    /// it carried: `check SHA256SUMS --trust release.pub`, Windows paths.
    fn release_seal(airlock: &Path, trust: &Path) -> Result<(), String> {
        let dir = airlock.parent().unwrap_or(Path::new("."));
        let checked = answer(exe(airlock).args([
            "check",
            &windows_path(&dir.join("SHA256SUMS")),
            "--trust",
            &windows_path(trust),
        ]))?;
        let said = String::from_utf8_lossy(&checked.stdout);
        if checked.code != Some(0) || !said.contains("OK (sealed by key") {
            return Err(format!(
                "airlock.exe check SHA256SUMS --trust: exit {:?}, {said}",
                checked.code
            ));
        }
        println!("airlock.exe checks the release seal and every file");
        Ok(())
    }

    /// Without a console (stdout and stderr are pipes) nothing draws: no
    /// escape sequences, no carriage returns.
    fn no_console(airlock: &Path, corpus: &Path) -> Result<(), String> {
        let bundle = windows_path(&corpus.join("good/containerd-export.tar"));
        let out = exe(airlock)
            .args(["verify", &bundle])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            if bytes.iter().any(|b| *b == 0x1b || *b == b'\r') {
                return Err(format!(
                    "airlock.exe verify wrote terminal control bytes to a piped {stream}: {:?}",
                    String::from_utf8_lossy(bytes)
                ));
            }
        }
        if out.status.code() != Some(0) || out.stdout.is_empty() {
            return Err(format!(
                "airlock.exe verify without a console: {}",
                out.status
            ));
        }
        println!("no progress bar or colour without a console");
        Ok(())
    }

    /// `load --to docker` and `--to containerd` say why they cannot work.
    fn unix_sockets_refused(airlock: &Path, corpus: &Path) -> Result<(), String> {
        let bundle = windows_path(&corpus.join("good/podman-oci-archive.tar"));
        for target in ["docker", "containerd"] {
            let out = exe(airlock)
                .args(["load", "--to", target, &bundle])
                .output()
                .map_err(|e| e.to_string())?;
            let said = String::from_utf8_lossy(&out.stderr);
            if out.status.code() != Some(2) || !said.contains("unix socket") {
                return Err(format!(
                    "airlock.exe load --to {target}: exit {}, said {said}",
                    out.status
                ));
            }
        }
        println!("load --to docker / containerd refused with a reason");
        Ok(())
    }

    /// `load --to oci:` on Windows (staging, random names, locking through
    /// the Windows directory code) writes the layout Linux writes.
    fn oci_layout(
        airlock: &Path,
        linux: &Path,
        corpus: &Path,
        scratch: &Path,
    ) -> Result<(), String> {
        let bundle = corpus.join("good/podman-docker-archive-multi.tar");
        let on_linux = scratch.join("layout-linux");
        let on_windows = scratch.join("layout-windows");
        let native = answer(
            Command::new(linux)
                .args(["load", "--json", "--to"])
                .arg(format!("oci:{}", on_linux.display()))
                .arg(&bundle),
        )?;
        let windows = answer(exe(airlock).args([
            "load",
            "--json",
            "--to",
            &format!("oci:{}", windows_path(&on_windows)),
            &windows_path(&bundle),
        ]))?;
        if native.code != Some(0) || windows.code != native.code {
            return Err(format!(
                "load --to oci: Linux exit {:?}, Windows exit {:?}: {}",
                native.code,
                windows.code,
                String::from_utf8_lossy(&windows.stdout)
            ));
        }
        let (a, b) = (tree(&on_linux)?, tree(&on_windows)?);
        if a != b {
            return Err(format!(
                "the OCI layouts differ:\nLinux: {a:?}\nWindows: {b:?}"
            ));
        }
        println!("load --to oci: wrote the same layout ({} files)", a.len());
        Ok(())
    }

    /// Every file under `dir` by relative path, with its bytes.
    fn tree(dir: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
        let mut files = Vec::new();
        let mut pending = vec![dir.to_owned()];
        while let Some(at) = pending.pop() {
            for entry in std::fs::read_dir(&at).map_err(|e| format!("{}: {e}", at.display()))? {
                let path = entry.map_err(|e| e.to_string())?.path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
                    let relative = path.strip_prefix(dir).map_err(|e| e.to_string())?;
                    files.push((relative.to_owned(), bytes));
                }
            }
        }
        files.sort();
        Ok(files)
    }
}
