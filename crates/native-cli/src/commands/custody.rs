//! `airlock keygen`, `seal` and `approve`: the CLI's face of
//! `airlock-custody`. Key files, passphrases and the files written beside
//! the bundle live here; formats and checks live in the crate, shared
//! with the page.
//!
//! Nothing here is Unix-only (the sender's laptop may run Windows): files
//! are created with `create_new` and, on Unix only, mode 0600.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use airlock_custody::bundle::MAX_BUNDLE_JSON_LEN;
use airlock_custody::{
    ApprovalPredicate, Decision, Expected, FilesPredicate, PrivateKey, PublicKey, SealPredicate,
    SigstoreBundle, Statement, Tool, sign_statement,
};
use verify_core::sbom::Timestamp;
use verify_core::{ImportPlan, Report, Verdict};
use zeroize::Zeroizing;

use super::output::{style, write_whole};
use super::source::{options_for, with_progress};
use super::sums;
use super::verify::reading;
use crate::cli::{ApproveArgs, KeygenArgs, Passphrase, SealArgs, SealSumsArgs, Source};
use crate::error::CliError;
use crate::pipeline;
use crate::render;
use crate::small_file::read_text;
use crate::untrusted::Untrusted;

/// Where the passphrase is read from without `--password-stdin`.
const PASSWORD_ENV: &str = "AIRLOCK_PASSWORD";
/// Key files are a few hundred bytes.
const MAX_KEY_FILE: u64 = 64 * 1024;
/// What a file read here is, when it is too large to be one.
const KEY_OR_SIGNATURE: &str = "a key or signature file";
/// What approvals and seals name as the program.
const TOOL_NAME: &str = "airlock";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `airlock keygen NAME`: NAME.key and NAME.pub, neither overwritten.
pub fn keygen(args: &KeygenArgs) -> Result<bool, CliError> {
    let key_path = with_suffix(&args.name, ".key");
    let pub_path = with_suffix(&args.name, ".pub");
    for path in [&key_path, &pub_path] {
        if path.exists() {
            return Err(CliError::Usage(format!(
                "{} exists; refusing to overwrite a key",
                path.display()
            )));
        }
    }
    let passphrase = passphrase(&args.passphrase)?;
    let key = PrivateKey::generate().map_err(|e| CliError::Usage(e.to_string()))?;
    let encrypted = key
        .encrypt(passphrase.as_bytes())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    create_new(&key_path, encrypted.as_bytes(), true)?;
    if let Err(e) = create_new(&pub_path, key.public_key().to_pem().as_bytes(), false) {
        // Half a pair is no use, and would block the next try.
        let _ = std::fs::remove_file(&key_path);
        return Err(e);
    }
    println!(
        "wrote {} and {} (key id {})",
        Untrusted(key_path.display()),
        Untrusted(pub_path.display()),
        key.public_key().key_id()
    );
    Ok(true)
}

/// `airlock seal BUNDLE --key K`.
pub fn seal(args: &SealArgs) -> Result<bool, CliError> {
    let key = private_key(&args.key, &args.passphrase)?;
    let Some(checked) = verified(&args.source, "sealed")? else {
        return Ok(false);
    };
    let name = file_name(&args.source.bundle);
    let predicate = SealPredicate::from_report(&name, &checked.report, &checked.plan, VERSION)
        .ok_or_else(|| CliError::Usage("the bundle was not read to its end".into()))?;
    let statement = Statement::new(checked.expected.subjects(&name), predicate);
    let signed = sign_statement(&statement, &key).map_err(|e| CliError::Usage(e.to_string()))?;

    let sums_path = beside(&args.source.bundle, ".sha256");
    let seal_path = beside(&args.source.bundle, SEAL_SUFFIX);
    let sha = checked.expected.bundle_sha256;
    write_whole(&sums_path, sums_line(&name, &sha.to_hex()).as_bytes())?;
    write_whole(&seal_path, signed.to_json().as_bytes())?;
    println!(
        "sealed {} (sha256 {sha}, {} image subject(s)) with key {}\nwrote {} and {}",
        Untrusted(&name),
        checked.expected.images.len(),
        key.public_key().key_id(),
        Untrusted(sums_path.display()),
        Untrusted(seal_path.display()),
    );
    Ok(true)
}

/// `airlock seal-sums SUMS --key K`: every listed file must match, then
/// the set is sealed in `SUMS.seal.sigstore.json`.
pub fn seal_sums(args: &SealSumsArgs) -> Result<bool, CliError> {
    let key = private_key(&args.key, &args.passphrase)?;
    let recorded = sums::read_sums(&args.sums)?;
    let subjects = sums::subjects(&args.sums, &recorded)?;
    if !sums::check_files(&args.sums, &recorded) {
        eprintln!(
            "airlock: {} does not match its files; not sealed",
            Untrusted(args.sums.display())
        );
        return Ok(false);
    }
    let predicate = FilesPredicate::new(VERSION, &file_name(&args.sums));
    let count = subjects.len();
    let statement = Statement::new(subjects, predicate);
    let signed = sign_statement(&statement, &key).map_err(|e| CliError::Usage(e.to_string()))?;
    let seal_path = beside(&args.sums, SEAL_SUFFIX);
    write_whole(&seal_path, signed.to_json().as_bytes())?;
    println!(
        "sealed the {count} files {} lists with key {}\nwrote {}",
        Untrusted(args.sums.display()),
        key.public_key().key_id(),
        Untrusted(seal_path.display()),
    );
    Ok(true)
}

/// `airlock approve BUNDLE --key K [--reject REASON] [--name NAME]`.
pub fn approve(args: &ApproveArgs) -> Result<bool, CliError> {
    let key = private_key(&args.key, &args.passphrase)?;
    let Some(checked) = verified(&args.source, "approved")? else {
        return Ok(false);
    };
    let (decision, reason) = match &args.reject {
        Some(reason) => (Decision::Rejected, Some(reason.clone())),
        None => (Decision::Approved, None),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let time = Timestamp::from_unix_seconds(now).map_err(|e| CliError::Usage(e.to_string()))?;
    let key_id = key.public_key().key_id();
    let predicate = ApprovalPredicate::new(
        decision,
        reason,
        key_id,
        args.name.clone(),
        time,
        Tool::new(TOOL_NAME, VERSION, None),
        &checked.report,
    );
    let name = file_name(&args.source.bundle);
    let statement = Statement::new(checked.expected.subjects(&name), predicate);
    let signed = sign_statement(&statement, &key).map_err(|e| CliError::Usage(e.to_string()))?;
    let path = approval_path(&args.source.bundle, &key_id.to_hex())?;
    write_whole(&path, signed.to_json().as_bytes())?;
    let said = match decision {
        Decision::Approved => "approved",
        Decision::Rejected => "rejected",
    };
    println!(
        "{said} {} with key {key_id}\nwrote {}",
        Untrusted(&name),
        Untrusted(path.display())
    );
    Ok(true)
}

/// A bundle that verified: its report, import plan and what a statement
/// about it must name.
pub struct Checked {
    pub report: Report,
    pub plan: ImportPlan,
    pub expected: Expected,
}

/// Verifies the bundle as `airlock verify` does. A failing one is shown
/// (as `verify` shows it) and `None` returned: it is not `what`.
fn verified(source: &Source, what: &str) -> Result<Option<Checked>, CliError> {
    let (options, recorded) = options_for(source)?;
    let report = with_progress(source, |path, progress, _| {
        pipeline::verify_file(path, options, reading(false), progress)
    })?;
    if report.verdict() != Verdict::Ok {
        let name = source.bundle.display().to_string();
        let text = render::verify(&name, &report, recorded.as_ref(), style());
        let _ = std::io::stdout().write_all(text.as_bytes());
        eprintln!(
            "airlock: {} failed verification; not {what}",
            Untrusted(source.bundle.display())
        );
        return Ok(None);
    }
    checked(report).map(Some)
}

/// The plan and expected subjects of a report that verified.
pub fn checked(report: Report) -> Result<Checked, CliError> {
    let plan = ImportPlan::from_report(&report)
        .map_err(|e| CliError::Usage(format!("the bundle cannot be planned: {e}")))?;
    let sha = report
        .bundle()
        .sha256
        .ok_or_else(|| CliError::Usage("the bundle was not read to its end".into()))?;
    let expected = Expected::from_plan(sha, &plan);
    Ok(Checked {
        report,
        plan,
        expected,
    })
}

/// Reads and decrypts a key file; the passphrase is dropped (and wiped)
/// once the key is open.
fn private_key(path: &Path, from: &Passphrase) -> Result<PrivateKey, CliError> {
    let text = read_text(path, MAX_KEY_FILE, KEY_OR_SIGNATURE)?;
    let passphrase = passphrase(from)?;
    PrivateKey::decrypt(&text, passphrase.as_bytes()).map_err(|e| CliError::Key {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Reads a public key file.
pub fn public_key(path: &Path) -> Result<PublicKey, CliError> {
    let text = read_text(path, MAX_KEY_FILE, KEY_OR_SIGNATURE)?;
    PublicKey::from_pem(&text).map_err(|e| CliError::Key {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// Reads a seal or approval file, refusing one larger than any can be.
pub fn read_signed_file(path: &Path) -> Result<Vec<u8>, CliError> {
    read_text(path, MAX_BUNDLE_JSON_LEN as u64, KEY_OR_SIGNATURE).map(String::into_bytes)
}

/// The passphrase from the first line of stdin (`--password-stdin`) or
/// `AIRLOCK_PASSWORD`; never from a prompt, which would echo.
fn passphrase(from: &Passphrase) -> Result<Zeroizing<String>, CliError> {
    if from.password_stdin {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            return Err(CliError::Usage(
                "--password-stdin reads a pipe, not a terminal (it would echo); \
                 pipe the passphrase in or set AIRLOCK_PASSWORD"
                    .into(),
            ));
        }
        let mut line = Zeroizing::new(String::new());
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::Usage(format!("cannot read the passphrase from stdin: {e}")))?;
        let end = line.trim_end_matches(['\r', '\n']).len();
        line.truncate(end);
        return Ok(line);
    }
    std::env::var(PASSWORD_ENV)
        .map(Zeroizing::new)
        .map_err(|_| {
            CliError::Usage(format!(
                "the key's passphrase is needed: pass --password-stdin or set {PASSWORD_ENV}"
            ))
        })
}

/// Where an approval by `key_hex` goes: `BUNDLE.approval.sigstore.json`
/// when that is free or this key's, else
/// `BUNDLE.approval-<first 12 hex of the key id>.sigstore.json`, so that
/// several approvers' files sit beside one bundle.
fn approval_path(bundle: &Path, key_hex: &str) -> Result<PathBuf, CliError> {
    let plain = beside(bundle, ".approval.sigstore.json");
    if !plain.exists() {
        return Ok(plain);
    }
    let existing = read_signed_file(&plain)?;
    let same_key = SigstoreBundle::from_json(&existing)
        .ok()
        .is_some_and(|b| b.hint() == Some(key_hex));
    if same_key {
        return Ok(plain);
    }
    Ok(beside(
        bundle,
        &format!(".approval-{}.sigstore.json", &key_hex[..12]),
    ))
}

/// What a seal's file name adds to the sealed file's.
pub const SEAL_SUFFIX: &str = ".seal.sigstore.json";

/// `BUNDLE` + `suffix` in the bundle's directory.
pub fn beside(bundle: &Path, suffix: &str) -> PathBuf {
    with_suffix(bundle, suffix)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn file_name(bundle: &Path) -> String {
    bundle
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One `sha256sum` line, escaped as GNU escapes a name with a backslash
/// or newline.
fn sums_line(name: &str, hex: &str) -> String {
    if name.contains(['\\', '\n', '\r']) {
        let escaped = name
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{hex}  {escaped}\n")
    } else {
        format!("{hex}  {name}\n")
    }
}

/// Creates `path`, failing if it exists; a private key is readable by its
/// owner only (on Unix; Windows ACLs keep a new file the user's).
fn create_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).map_err(|e| CliError::io(path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| CliError::io(path, e))
}
