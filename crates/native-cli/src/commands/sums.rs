//! `airlock hash` and `airlock check`: drop-in for `sha256sum` and
//! `sha256sum -c`, reading certutil output too.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use airlock_custody::{Subject, verify_files};
use verify_core::sums::{self, RecordedSum};

use super::custody;
use crate::cli::CheckArgs;
use crate::error::CliError;
use crate::pipeline::hash_reader;
use crate::sidecar::read_limited;
use crate::untrusted::{self, Untrusted};

/// Prints `<hex>  <name>` for each file. Returns whether all could be read.
pub fn hash(files: &[PathBuf]) -> Result<bool, CliError> {
    let mut all_ok = true;
    let stdout = std::io::stdout();
    for path in files {
        let result = if path.as_os_str() == "-" {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(CliError::Usage(
                    "refusing to hash a terminal; pipe data in".into(),
                ));
            }
            hash_reader(&mut stdin.lock())
        } else {
            std::fs::File::open(path).and_then(|mut f| hash_reader(&mut f))
        };
        match result {
            Ok(sha) => {
                let (escaped, name) = line_name(path);
                let _ = writeln!(stdout.lock(), "{escaped}{sha}  {name}");
            }
            Err(e) => {
                eprintln!("airlock: {}: {e}", Untrusted(path.display()));
                all_ok = false;
            }
        }
    }
    Ok(all_ok)
}

/// `airlock check SUMS [--trust KEY.pub… [--seal FILE]]`: with keys, the
/// seal over the sums file first, then every file it names. Returns
/// whether the seal verified and all files matched.
pub fn check(args: &CheckArgs) -> Result<bool, CliError> {
    let recorded = read_sums(&args.sums)?;
    if !args.trust.is_empty() {
        let seal = args
            .seal
            .clone()
            .unwrap_or_else(|| custody::beside(&args.sums, custody::SEAL_SUFFIX));
        if !seal_verifies(&args.sums, &recorded, &seal, &args.trust)? {
            eprintln!(
                "airlock: {}: the seal did not verify; no file was checked",
                Untrusted(args.sums.display())
            );
            return Ok(false);
        }
    }
    Ok(check_files(&args.sums, &recorded))
}

/// Reads and parses a sums file.
pub fn read_sums(sums_path: &Path) -> Result<Vec<RecordedSum>, CliError> {
    let bytes = read_limited(sums_path)?;
    sums::parse(&bytes).map_err(|e| CliError::Sums {
        path: sums_path.to_owned(),
        message: e.to_string(),
    })
}

/// What a seal over `recorded` names: each file as the sums file writes
/// it. A line without a name cannot be sealed or matched.
pub fn subjects(sums_path: &Path, recorded: &[RecordedSum]) -> Result<Vec<Subject>, CliError> {
    recorded
        .iter()
        .map(|sum| match &sum.name {
            Some(name) => Ok(Subject {
                name: name.clone(),
                sha256: sum.sha256,
            }),
            None => Err(CliError::Sums {
                path: sums_path.to_owned(),
                message: "a digest without a file name cannot be sealed".into(),
            }),
        })
        .collect()
}

/// Whether `seal` is a file-set seal by one of `trust` over exactly the
/// files `recorded` lists; says which on stdout, or why not on stderr.
fn seal_verifies(
    sums_path: &Path,
    recorded: &[RecordedSum],
    seal: &Path,
    trust: &[PathBuf],
) -> Result<bool, CliError> {
    let keys = trust
        .iter()
        .map(|path| custody::public_key(path))
        .collect::<Result<Vec<_>, _>>()?;
    let listed = subjects(sums_path, recorded)?;
    let bytes = custody::read_signed_file(seal)?;
    match verify_files(&bytes, &keys, &listed) {
        Ok(signed) => {
            let _ = writeln!(
                std::io::stdout().lock(),
                "{}: OK (sealed by key {}, {} files)",
                Untrusted(seal.display()),
                signed.key_id,
                listed.len()
            );
            Ok(true)
        }
        Err(e) => {
            eprintln!("airlock: {}: {}", Untrusted(seal.display()), Untrusted(e));
            Ok(false)
        }
    }
}

/// Checks every file `recorded` names, printing `sha256sum -c`'s lines.
/// Returns whether all matched.
pub fn check_files(sums_path: &Path, recorded: &[RecordedSum]) -> bool {
    let dir = sums_path.parent().unwrap_or(Path::new("."));
    let mut failed = 0usize;
    let stdout = std::io::stdout();
    for sum in recorded {
        let Some(target) = target_for(sum.name.as_deref(), sums_path, dir) else {
            eprintln!(
                "airlock: {}: a digest without a file name, and no file to check it against",
                Untrusted(sums_path.display())
            );
            failed += 1;
            continue;
        };
        let status = match std::fs::File::open(&target).and_then(|mut f| hash_reader(&mut f)) {
            Ok(sha) if sha == sum.sha256 => "OK".to_owned(),
            Ok(_) => {
                failed += 1;
                "FAILED".to_owned()
            }
            Err(e) => {
                failed += 1;
                format!("FAILED open or read ({e})")
            }
        };
        let (escaped, name) = line_name(&target);
        let _ = writeln!(stdout.lock(), "{escaped}{name}: {status}");
    }
    if failed > 0 {
        eprintln!(
            "airlock: WARNING: {failed} of {} computed checksums did NOT match",
            recorded.len()
        );
    }
    failed == 0
}

/// A file name as `sha256sum` puts it in a line: as it is when plain;
/// otherwise escaped, with `\` starting the line to say so. For a
/// backslash, newline or CR that is GNU's own form, which `sha256sum -c`
/// and `airlock check` read back; controls and bidi characters that GNU
/// would write raw are escaped too, since the names come from whoever
/// wrote the sums file or the files.
fn line_name(path: &Path) -> (&'static str, String) {
    let name = path.display().to_string();
    if untrusted::is_plain(&name) {
        ("", name)
    } else {
        ("\\", Untrusted(&name).to_string())
    }
}

/// The file a recorded sum is for: the name as written (relative to the
/// working directory, as `sha256sum -c` does), else its base name next to
/// the sums file (certutil records Windows paths from the sender's machine),
/// else, for a nameless sum, the sums file's name minus its suffix.
fn target_for(name: Option<&str>, sums_path: &Path, dir: &Path) -> Option<PathBuf> {
    match name {
        Some(n) => {
            let as_written = PathBuf::from(n);
            if as_written.is_file() {
                return Some(as_written);
            }
            let base = n.rsplit(['/', '\\']).next().unwrap_or(n);
            Some(dir.join(base))
        }
        None => {
            let file = sums_path.file_name()?.to_str()?;
            // The sidecar names `verify` looks for, then looser ones people
            // save certutil output under.
            sums::bundle_name_of(file)
                .or_else(|| {
                    [".certutil-old.txt", ".txt"]
                        .iter()
                        .find_map(|suffix| file.strip_suffix(suffix))
                })
                .map(|stem| dir.join(stem))
        }
    }
}
