//! Builds the approver's page from `web/` and the npm package of
//! `crates/verify-wasm` (`pkg.rs`):
//!
//! - `dist/web/`: a static directory for an intranet web server;
//! - `dist/airlock.html`: one self-contained file that works from `file://`
//!   (a USB stick), with the worker and the wasm inlined.
//!
//! Both carry a Content-Security-Policy that allows no connection at all;
//! the wasm travels inside the worker script as base64 so nothing is fetched.
//! Two wasm modules ride there: the package's verifier, and the custody
//! module (`crates/custody-wasm`: seal check and approval signing), which
//! the worker instantiates only when a seal is picked or the approver signs.
//!
//! `airlock.html` carries its own SHA-256 in a `<meta>` slot (the hash of
//! the file with 64 zeros in the slot), which approvals record as the
//! page's hash; `airlock.html.sha256` is the hash of the final file.
//! The build is reproducible: same source and toolchain, same bytes.
//!
//! `--trust DIR` builds the sender keys `DIR/*.pub` into the page, as a
//! JSON block the page hands to its worker: the page's published hash then
//! covers the keys, so a site that checks the page's hash checks which
//! seals it accepts. Without it the page trusts no key, and every seal
//! shows as untrusted.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::env::{self, Step, run};

pub struct Page {
    pub dir: PathBuf,
    pub single: PathBuf,
    pub single_sha256: String,
}

/// What the browser tests drive the page with (and the Korean font its
/// screenshots need).
pub const BROWSER_TOOLS: &[(&str, &str)] = &[
    ("/usr/bin/chromium", "chromium"),
    ("/usr/bin/chromedriver", "chromium-driver"),
    ("/usr/share/fonts/truetype/nanum", "fonts-nanum"),
];

/// Builds both forms of the page into `out` (normally `dist/`), compiling
/// the wasm in `target_dir`, trusting the keys in `trust`.
pub fn build(out: &Path, target_dir: &Path, trust: Option<&Path>) -> Result<Page, String> {
    let root = env::root();
    let trusted = match trust {
        Some(dir) => trusted_keys(dir)?,
        None => "[]".to_owned(),
    };
    let trust_block =
        format!("<script type=\"application/json\" id=\"airlock-trust\">{trusted}</script>");
    // The page runs the npm package's own API (`pkg.rs`): its entry and
    // glue bundled by esbuild into one script that defines `airlockVerify`,
    // the wasm beside it as base64.
    let pkg = crate::pkg::build(&target_dir.join("pkg"), target_dir)?;
    let bundled = target_dir.join("page-airlock-verify.js");
    let mut esbuild = Command::new(root.join("node_modules/.bin/esbuild"));
    // Run in the package's directory: the bundle names its modules by
    // their paths from there, and a path of this build's own would make
    // two builds differ.
    esbuild
        .current_dir(&pkg.dir)
        .arg("index.js")
        .args([
            "--bundle",
            "--format=iife",
            "--global-name=airlockVerify",
            "--charset=utf8",
            // The glue finds its wasm by `import.meta.url` only when `init`
            // is given none; the worker passes the bytes to `initSync`.
            "--log-override:empty-import-meta=silent",
        ])
        .arg(format!("--outfile={}", bundled.display()));
    run(
        esbuild,
        Step::new("esbuild: the package for the page's worker"),
    )?;

    let web = root.join("web");
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let glue = read(&bundled)?;
    let wasm = std::fs::read(&pkg.wasm).map_err(|e| e.to_string())?;
    let custody = custody_module(target_dir)?;
    // tree.js goes to both: the worker makes the compact tree, the page reads it.
    let tree = read(&web.join("tree.js"))?;
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let worker = format!(
        "{glue}\nconst AIRLOCK_WASM_BASE64 = \"{}\";\n{}\nconst AIRLOCK_CUSTODY_WASM_BASE64 = \"{}\";\n{tree}\n{}",
        base64(&wasm),
        custody.glue,
        base64(&custody.wasm),
        read(&web.join("worker.js"))?
    );
    let template = read(&web.join("index.html"))?;
    let css = read(&web.join("style.css"))?;
    let app = format!(
        "{}\n{}\n{tree}\n{}\n{}",
        read(&web.join("i18n.js"))?,
        read(&web.join("visible.js"))?,
        read(&web.join("contents.js"))?,
        read(&web.join("app.js"))?
    );

    // The static directory: separate files, served by any web server.
    let dir = out.join("web");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let csp = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; \
               style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";
    let html = template
        .replace("{{CSP}}", csp)
        .replace("{{STYLE}}", "<link rel=\"stylesheet\" href=\"style.css\">")
        .replace("{{TRUST}}", &trust_block)
        // Only the single file knows its own hash (see `self_digest`).
        .replace("{{SELF_DIGEST}}", "")
        .replace("{{WORKER}}", "")
        .replace("{{SCRIPTS}}", "<script src=\"app.js\"></script>");
    for (name, text) in [
        ("index.html", html.as_str()),
        ("style.css", css.as_str()),
        ("app.js", app.as_str()),
        ("worker.js", worker.as_str()),
    ] {
        write(&dir.join(name), text.as_bytes())?;
    }

    // The single file: the worker rides in a non-executed script element and
    // starts from a Blob URL; inline script and style are allowed by hash only.
    if worker.contains("</script") || app.contains("</script") {
        return Err("a script contains `</script`, which would end its inline element".into());
    }
    let csp = format!(
        "default-src 'none'; script-src '{}' 'wasm-unsafe-eval'; worker-src blob:; style-src '{}'; \
         img-src data:; base-uri 'none'; form-action 'none'",
        csp_hash(&app),
        csp_hash(&css)
    );
    let single_html = template
        .replace("{{CSP}}", &csp)
        .replace("{{STYLE}}", &format!("<style>{css}</style>"))
        .replace("{{TRUST}}", &trust_block)
        .replace(
            "{{SELF_DIGEST}}",
            &self_digest_slot(SELF_DIGEST_PLACEHOLDER),
        )
        .replace(
            "{{WORKER}}",
            &format!("<script type=\"text/plain\" id=\"airlock-worker\">{worker}</script>"),
        )
        .replace("{{SCRIPTS}}", &format!("<script>{app}</script>"));
    let single_html = self_digest(&single_html)?;
    let single = out.join("airlock.html");
    write(&single, single_html.as_bytes())?;
    let single_sha256 = hex(&Sha256::digest(single_html.as_bytes()));
    write(
        &out.join("airlock.html.sha256"),
        format!("{single_sha256}  airlock.html\n").as_bytes(),
    )?;
    Ok(Page {
        dir,
        single,
        single_sha256,
    })
}

/// The custody module (`crates/custody-wasm`): the seal check and approval
/// signing, which the worker instantiates only when a seal is picked or the
/// approver signs. Built like the package's wasm; its glue is wasm-bindgen's
/// `no-modules` script, which defines `airlockCustody` and goes into the
/// worker as it is.
struct CustodyModule {
    glue: String,
    wasm: Vec<u8>,
}

fn custody_module(target_dir: &Path) -> Result<CustodyModule, String> {
    const NAME: &str = "airlock_custody";
    let raw = crate::pkg::build_wasm("custody-wasm", target_dir)?;
    let bindgen_dir = target_dir.join("custody-bindgen");
    let wasm_path = target_dir.join(format!("{NAME}.wasm"));
    crate::pkg::bindgen_and_opt(
        &raw,
        &[
            "--target",
            "no-modules",
            "--no-modules-global",
            "airlockCustody",
            "--no-typescript",
        ],
        NAME,
        &bindgen_dir,
        &wasm_path,
    )?;
    let glue_path = bindgen_dir.join(format!("{NAME}.js"));
    Ok(CustodyModule {
        glue: std::fs::read_to_string(&glue_path)
            .map_err(|e| format!("{}: {e}", glue_path.display()))?,
        wasm: std::fs::read(&wasm_path).map_err(|e| format!("{}: {e}", wasm_path.display()))?,
    })
}

/// What the self-digest slot holds while the page is hashed.
const SELF_DIGEST_PLACEHOLDER: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// The element that carries the single file's own SHA-256, which the page
/// records in approvals as the tool's hash (a page cannot read its own
/// bytes from `file://`). A `<meta>`, not script: the page's CSP allows its
/// scripts by hash, and a hash inside one would change what it hashes.
fn self_digest_slot(value: &str) -> String {
    format!("<meta name=\"airlock-self-sha256\" content=\"{value}\">")
}

/// The page with its self-digest filled in: the SHA-256 of the page with
/// the placeholder (64 zeros) in the slot. Anyone recomputes it by putting
/// the zeros back and hashing (README). The page's published hash
/// (`airlock.html.sha256`) is of the final file, digest included.
fn self_digest(html: &str) -> Result<String, String> {
    let slot = self_digest_slot(SELF_DIGEST_PLACEHOLDER);
    if html.matches(&slot).count() != 1 {
        return Err("the page must have exactly one self-digest slot".into());
    }
    let digest = hex(&Sha256::digest(html.as_bytes()));
    Ok(html.replacen(&slot, &self_digest_slot(&digest), 1))
}

/// The keys `dir/*.pub` as the JSON array the page reads: `{name, pem}`
/// with the file's stem as name, sorted by name (a reproducible page).
/// Each must be a P-256 public key the page can use; `<` is escaped so no
/// key file can end the script element it rides in.
fn trusted_keys(dir: &Path) -> Result<String, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("--trust {}: {e}", dir.display()))?;
    let mut keys = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("--trust {}: {e}", dir.display()))?
            .path();
        if path.extension().and_then(|e| e.to_str()) != Some("pub") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| format!("{}: the name is not UTF-8", path.display()))?
            .to_owned();
        let pem = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let key = airlock_custody::PublicKey::from_pem(&pem)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        println!("trusting {name} (key id {})", key.key_id());
        keys.push((name, key.to_pem()));
    }
    if keys.is_empty() {
        return Err(format!("--trust {}: no *.pub key files", dir.display()));
    }
    keys.sort();
    let json: Vec<serde_json::Value> = keys
        .into_iter()
        .map(|(name, pem)| serde_json::json!({ "name": name, "pem": pem }))
        .collect();
    Ok(serde_json::Value::Array(json)
        .to_string()
        .replace('<', "\\u003c"))
}

fn csp_hash(text: &str) -> String {
    format!(
        "sha256-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// wasm-bindgen-cli at exactly the version in Cargo.lock, and the npm tools.
pub fn ensure_tools() -> Result<(), String> {
    env::ensure_rust_tools()?;
    let version = locked_version("wasm-bindgen")?;
    let have = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    if have != format!("wasm-bindgen {version}") {
        let mut install = Command::new("cargo");
        // --locked fails here: one locked dependency is missing from the registry.
        install.args(["install", "wasm-bindgen-cli", "--version", &version]);
        run(
            install,
            Step::new(&format!("install wasm-bindgen-cli {version}")),
        )?;
    }
    env::ensure_npm()
}

/// The version of a package as Cargo.lock pins it.
fn locked_version(package: &str) -> Result<String, String> {
    let lock =
        std::fs::read_to_string(env::root().join("Cargo.lock")).map_err(|e| e.to_string())?;
    let needle = format!("name = \"{package}\"\nversion = \"");
    let start = lock
        .find(&needle)
        .ok_or_else(|| format!("{package} is not in Cargo.lock"))?
        + needle.len();
    let end = lock[start..].find('"').ok_or("malformed Cargo.lock")? + start;
    Ok(lock[start..end].to_owned())
}
