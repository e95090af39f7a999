//! The official SBOM validators, for the tests that check documents
//! written by the core and by `airlock sbom`: `pyspdxtools -i` (PyPI
//! `spdx-tools`) for SPDX 2.3, and cyclonedx-python-lib's strict JSON
//! schema validator for CycloneDX 1.6. Both run from the virtualenv that
//! `cargo xtask test` installs (`xtask/sbom-validators.txt`): at
//! `$AIRLOCK_SBOM_VENV`, else `target/sbom-venv` in the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The virtualenv; a test without it fails saying how to make it.
pub fn venv() -> PathBuf {
    let dir = std::env::var_os("AIRLOCK_SBOM_VENV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/sbom-venv"),
        PathBuf::from,
    );
    assert!(
        dir.join("bin/pyspdxtools").is_file(),
        "the SBOM validators are not installed at {}: run `cargo xtask test`, \
         or create that virtualenv with `pip install -r xtask/sbom-validators.txt`",
        dir.display()
    );
    dir
}

/// Runs pyspdxtools; Ok when it accepts the file.
pub fn spdx_valid(venv: &Path, file: &Path) -> Result<(), String> {
    let mut check = Command::new(venv.join("bin/pyspdxtools"));
    check.arg("-i").arg(file);
    accepted(check, "pyspdxtools runs")
}

/// Ok when the validator exits 0, else what it said.
fn accepted(mut check: Command, runs: &str) -> Result<(), String> {
    let out = check.output().expect(runs);
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

const CYCLONEDX_CHECK: &str = "
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
with open(sys.argv[1], encoding='utf-8') as f:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(f.read())
if error is not None:
    print(error)
    sys.exit(1)
";

/// Runs the CycloneDX 1.6 strict schema check; Ok when it passes.
pub fn cyclonedx_valid(venv: &Path, file: &Path) -> Result<(), String> {
    let mut check = Command::new(venv.join("bin/python"));
    check.args(["-c", CYCLONEDX_CHECK]).arg(file);
    accepted(check, "python runs")
}
