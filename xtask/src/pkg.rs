//! Builds `pkg/`, the npm package `@airlock/verify`, from `crates/verify-wasm`:
//!
//! - `airlock_verify.js`, `.d.ts`, `_bg.wasm`: wasm-bindgen `--target web`
//!   glue and the wasm (through `wasm-opt -O3`); the `.d.ts` carries the
//!   report types tsify derives from verify-core's own;
//! - `index.js`/`index.d.ts`: the helpers (`verifyFile`, `verifyStream`),
//!   compiled with tsc from `crates/verify-wasm/js/index.ts`;
//! - `node.js`: Node's entry, which compiles the wasm at import;
//! - `package.json` (version from Cargo) and `README.md` (from
//!   `crates/verify-wasm/README.md`, with the examples the tests run and the
//!   sizes of this build).
//!
//! The page (`page.rs`) bundles the same `index.js`, so there is one wasm face.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env::{self, Step, run};

/// What a build wrote.
pub struct Pkg {
    pub dir: PathBuf,
    pub wasm: PathBuf,
}

/// The glue's base name: `airlock_verify.js`, `airlock_verify_bg.wasm`.
const NAME: &str = "airlock_verify";

/// Files of the package that come from `crates/verify-wasm/js` as they are.
const COPIED: &[&str] = &["node.js", "node.d.ts"];

/// Builds the package into `out`, compiling in `target_dir`.
pub fn build(out: &Path, target_dir: &Path) -> Result<Pkg, String> {
    crate::page::ensure_tools()?;
    let root = env::root();
    let raw = build_wasm("verify-wasm", target_dir)?;

    let bindgen_dir = target_dir.join("pkg-bindgen");
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let wasm = out.join(format!("{NAME}_bg.wasm"));
    bindgen_and_opt(&raw, &["--target", "web"], NAME, &bindgen_dir, &wasm)?;

    let js = root.join("crates/verify-wasm/js");
    for name in [format!("{NAME}.js"), format!("{NAME}.d.ts")] {
        copy(&bindgen_dir.join(&name), &out.join(&name))?;
    }
    for name in COPIED {
        copy(&js.join(name), &out.join(name))?;
    }
    // tsc compiles index.ts beside the glue's declarations it imports.
    copy(&js.join("index.ts"), &bindgen_dir.join("index.ts"))?;
    let mut tsc = Command::new(root.join("node_modules/.bin/tsc"));
    tsc.args([
        "--strict",
        "--declaration",
        "--target",
        "es2022",
        "--module",
        "es2022",
        "--moduleResolution",
        "bundler",
        "--lib",
        "es2022,dom,dom.iterable",
        "--newLine",
        "lf",
        "--outDir",
    ])
    .arg(out)
    .arg(bindgen_dir.join("index.ts"));
    run(tsc, Step::new("tsc: the package's helpers"))?;

    let version = env!("CARGO_PKG_VERSION");
    write(&out.join("package.json"), package_json(version).as_bytes())?;
    let wasm_bytes = std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))?;
    let readme = readme(version, &wasm_bytes)?;
    write(&out.join("README.md"), readme.as_bytes())?;
    Ok(Pkg {
        dir: out.to_path_buf(),
        wasm,
    })
}

/// A wasm-bindgen crate of the workspace (`verify-wasm`, `custody-wasm`)
/// for wasm32, release, with the flags the page has always used; returns
/// the wasm as rustc wrote it.
pub fn build_wasm(package: &str, target_dir: &Path) -> Result<PathBuf, String> {
    let root = env::root();
    let target_arg = target_dir.display().to_string();
    let mut cargo = env::cargo([
        "build",
        "--release",
        "-p",
        package,
        "--target",
        "wasm32-unknown-unknown",
        "--target-dir",
        &target_arg,
    ]);
    // Absolute paths would otherwise end up in panic messages inside the wasm.
    let home = std::env::var("HOME").unwrap_or_default();
    cargo.env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
        format!(
            "-C target-feature=+simd128 --remap-path-prefix={home}/.cargo/registry/src/=/registry/ \
             --remap-path-prefix={}/=/airlock/",
            root.display()
        ),
    );
    run(
        cargo,
        Step::new(&format!("build {package} (release, wasm32)")),
    )?;
    Ok(target_dir.join(format!(
        "wasm32-unknown-unknown/release/{}.wasm",
        package.replace('-', "_")
    )))
}

/// wasm-bindgen (`bindgen_args`, e.g. `--target web`) of the wasm `raw`
/// into a fresh `bindgen_dir` as `name.js` and `name_bg.wasm`, then that
/// wasm through `wasm-opt -O3` into `wasm_out`.
pub fn bindgen_and_opt(
    raw: &Path,
    bindgen_args: &[&str],
    name: &str,
    bindgen_dir: &Path,
    wasm_out: &Path,
) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(bindgen_dir);
    let mut bindgen = Command::new("wasm-bindgen");
    bindgen
        .args(bindgen_args)
        .args(["--out-name", name, "--out-dir"])
        .arg(bindgen_dir)
        .arg(raw);
    run(
        bindgen,
        Step::new(&format!("wasm-bindgen {}", bindgen_args.join(" "))),
    )?;
    let mut opt = Command::new(env::root().join("node_modules/.bin/wasm-opt"));
    opt.args(["-O3", "--strip-debug", "--strip-producers"])
        .arg(bindgen_dir.join(format!("{name}_bg.wasm")))
        .arg("-o")
        .arg(wasm_out);
    run(opt, Step::new("wasm-opt -O3"))
}

/// Written as text, not with `serde_json::json!`: its map sorts keys, and
/// the order of the export conditions is their priority ("types" first,
/// "default" last).
fn package_json(version: &str) -> String {
    format!(
        r#"{{
  "name": "@airlock/verify",
  "version": "{version}",
  "description": "Checks a container image bundle (docker save, OCI archive) in the browser or Node before it crosses an air gap: streaming, constant memory, typed report",
  "license": "Apache-2.0",
  "type": "module",
  "main": "./node.js",
  "module": "./index.js",
  "types": "./index.d.ts",
  "exports": {{
    ".": {{
      "types": "./index.d.ts",
      "node": "./node.js",
      "default": "./index.js"
    }},
    "./airlock_verify_bg.wasm": "./airlock_verify_bg.wasm",
    "./package.json": "./package.json"
  }},
  "files": [
    "airlock_verify.js",
    "airlock_verify.d.ts",
    "airlock_verify_bg.wasm",
    "index.js",
    "index.d.ts",
    "node.js",
    "node.d.ts",
    "README.md"
  ],
  "sideEffects": ["./node.js"]
}}
"#
    )
}

/// The README: the committed text with the examples the tests run and the
/// sizes of this build filled in.
fn readme(version: &str, wasm: &[u8]) -> Result<String, String> {
    let crate_dir = env::root().join("crates/verify-wasm");
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let template = read(&crate_dir.join("README.md"))?;
    let examples = crate_dir.join("js/examples");
    let filled = template
        .replace("{{VERSION}}", version)
        .replace("{{WASM_BYTES}}", &thousands(wasm.len()))
        .replace("{{WASM_GZIP_BYTES}}", &thousands(gzip_len(wasm)?))
        .replace(
            "{{BROWSER_EXAMPLE}}",
            read(&examples.join("browser.js"))?.trim_end(),
        )
        .replace(
            "{{NODE_EXAMPLE}}",
            read(&examples.join("verify.mjs"))?.trim_end(),
        );
    if let Some(at) = filled.find("{{") {
        return Err(format!(
            "README template: unknown placeholder at `{}`",
            &filled[at..filled.len().min(at + 30)]
        ));
    }
    Ok(filled)
}

/// Size after `gzip -9`, as a web server would send it.
fn gzip_len(bytes: &[u8]) -> Result<usize, String> {
    use std::io::Write as _;
    let mut gzip = Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("gzip: {e}"))?;
    let mut stdin = gzip.stdin.take().ok_or("gzip: no stdin")?;
    // Written from another thread: gzip's output would fill its pipe while
    // this one still writes, and both would wait for ever.
    let out = std::thread::scope(|scope| {
        let writer = scope.spawn(move || stdin.write_all(bytes));
        let out = gzip.wait_with_output();
        let written = writer
            .join()
            .map_err(|_| "gzip: the writer panicked".to_owned())?;
        written.map_err(|e| format!("gzip: {e}"))?;
        out.map_err(|e| format!("gzip: {e}"))
    })?;
    if !out.status.success() {
        return Err(format!("gzip: {}", out.status));
    }
    Ok(out.stdout.len())
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}
