//! Builds the edge verifier (`crates/verify-edge`) with worker-build, using
//! local tools: worker-build would otherwise download wasm-bindgen, wasm-opt
//! and esbuild, which cannot work offline.

use std::path::PathBuf;
use std::process::Command;

use crate::env::{self, Step, run};

/// The worker-build version the crate's `worker` dependency matches.
const WORKER_BUILD_VERSION: &str = "0.8.7";

/// Builds into `crates/verify-edge/build/` and returns that directory.
pub fn build() -> Result<PathBuf, String> {
    crate::page::ensure_tools()?;
    let installed = Command::new("cargo")
        .args(["install", "--list"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .contains(&format!("worker-build v{WORKER_BUILD_VERSION}:"))
        })
        .unwrap_or(false);
    if !installed {
        let mut install = Command::new("cargo");
        install.args(["install", "worker-build", "--version", WORKER_BUILD_VERSION]);
        run(
            install,
            Step::new(&format!("install worker-build {WORKER_BUILD_VERSION}")),
        )?;
    }
    let root = env::root();
    let crate_dir = root.join("crates/verify-edge");
    let which = |program: &str| -> Result<String, String> {
        let out = Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .map_err(|e| e.to_string())?;
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if path.is_empty() {
            Err(format!("{program} is not installed"))
        } else {
            Ok(path)
        }
    };
    let mut build = Command::new("worker-build");
    build
        .arg("--release")
        .current_dir(&crate_dir)
        .env("WASM_BINDGEN_BIN", which("wasm-bindgen")?)
        .env("WASM_OPT_BIN", root.join("node_modules/.bin/wasm-opt"))
        .env("ESBUILD_BIN", root.join("node_modules/.bin/esbuild"));
    run(build, Step::new("worker-build --release (verify-edge)"))?;
    Ok(crate_dir.join("build"))
}
