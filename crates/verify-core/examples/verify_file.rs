//! The whole embedding of the core: open a bundle, feed it to
//! [`Verifier::update`] in 1 MiB chunks, [`Verifier::finish`], print the
//! report as the JSON `airlock verify --json` prints.
//!
//! ```sh
//! cargo run -p verify-core --example verify_file -- bundle.tar [RECORDED-SHA256-HEX]
//! ```
//!
//! Exit status as the CLI's: 0 verified, 1 a check failed, 2 bad arguments
//! or an unreadable file. The core does no I/O: opening, reading, chunk size
//! and output are the embedder's choice.

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::process::ExitCode;

use verify_core::{Options, Sha256, Verdict, Verifier};

/// The pretty JSON report on the bundle at `path`, checked against the
/// recorded SHA-256 `expected` (hex) if given, and the exit status it calls for.
pub fn run(path: &Path, expected: Option<&str>) -> Result<(String, u8), String> {
    let expected_sha256 = expected
        .map(Sha256::from_hex)
        .transpose()
        .map_err(|e| format!("recorded SHA-256: {e}"))?;
    let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let options = Options::new().with_expected_sha256(expected_sha256);
    let mut verifier = Verifier::new(options);
    let mut chunk = vec![0; 1 << 20];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => break,
            // `update` also says when the verdict is settled (`Flow`); a
            // caller that stops reading then takes `finish_settled`. This
            // one reads on, so its report is the full one.
            Ok(n) => {
                let _flow = verifier.update(&chunk[..n]);
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    let report = verifier.finish();
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    Ok((
        json,
        if report.verdict() == Verdict::Ok {
            0
        } else {
            1
        },
    ))
}

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let result = match args.as_slice() {
        [path] => run(Path::new(path), None),
        [path, hex] => run(Path::new(path), Some(&hex.to_string_lossy())),
        _ => Err("usage: verify_file BUNDLE [RECORDED-SHA256-HEX]".to_owned()),
    };
    match result {
        Ok((json, status)) => {
            println!("{json}");
            ExitCode::from(status)
        }
        Err(e) => {
            eprintln!("verify_file: {e}");
            ExitCode::from(2)
        }
    }
}
