//! Go's `archive/tar` test files (`src/archive/tar/testdata`), the spec for
//! what the importers' tar reader accepts and rejects. BSD-licensed, so not
//! in the repository: `cargo xtask test` fetches them from Debian's Go
//! source package into `target/go-tar-testdata` and names that directory
//! in `$AIRLOCK_GO_TAR_TESTDATA`.

use std::path::{Path, PathBuf};

/// The directory; a test without it fails saying how to get it.
pub fn testdata() -> PathBuf {
    let dir = std::env::var_os("AIRLOCK_GO_TAR_TESTDATA").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/go-tar-testdata"),
        PathBuf::from,
    );
    assert!(
        dir.join("gnu.tar").is_file(),
        "Go's archive/tar testdata is not at {}: run `cargo xtask test`, or unpack \
         `*/archive/tar/testdata/*` from Debian's golang-*-src package there",
        dir.display()
    );
    dir
}

/// Every file of [`testdata`] whose name ends in `.tar` or `.tar.bz2`,
/// sorted by name.
pub fn archives() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(testdata())
        .expect("the Go testdata directory reads")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".tar") || n.ends_with(".tar.bz2"))
        })
        .collect();
    out.sort();
    out
}
