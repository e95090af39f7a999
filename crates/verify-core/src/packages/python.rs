//! Python distributions: the `METADATA` file of each installed
//! `*.dist-info` directory (core metadata, email-header format: `Name`,
//! `Version`, `License` or PEP 639's `License-Expression`, then a blank
//! line and the long description, which is not read).

use super::purl::Fields;
use super::{Found, fields};
use crate::contents::Ecosystem;

/// `.../<name>-<version>.dist-info/METADATA`, wherever the site-packages is.
pub(super) fn is_metadata(path: &str) -> bool {
    let Some(dir) = path.strip_suffix("/METADATA") else {
        return false;
    };
    let last = dir.rsplit('/').next().unwrap_or(dir);
    last.len() > ".dist-info".len() && last.ends_with(".dist-info")
}

/// Reads the header; `complete` is false when the capture was cut, which
/// is fine if the header ended before the cut.
pub(super) fn read(bytes: &[u8], complete: bool, found: &mut Found<'_>) {
    let text = super::text(bytes);
    let (header, ended) = fields::header(&text);
    if !complete && !ended {
        found.note(format!(
            "could not read: the metadata header goes on past the {} bytes Airlock keeps",
            bytes.len()
        ));
        return;
    }
    if let Some(line) = header.bad_line {
        found.note(format!(
            "could not read: line {line} of the metadata header is not a `Name: value` field"
        ));
        return;
    }
    let (Some(name), Some(version)) = (
        header.get("Name").filter(|s| !s.is_empty()),
        header.get("Version").filter(|s| !s.is_empty()),
    ) else {
        found.note("could not read: the metadata has no Name or no Version");
        return;
    };
    let license = header
        .get("License-Expression")
        .or_else(|| header.get("License"))
        // setuptools writes UNKNOWN when no licence was given; a long
        // licence text is not a licence name.
        .filter(|l| !l.is_empty() && *l != "UNKNOWN" && !l.contains('\n') && l.len() <= 200)
        .map(str::to_owned);
    found.package(Fields::new(Ecosystem::Pypi, name, version), license);
}

#[cfg(test)]
mod tests {
    use super::super::Origin;
    use super::*;
    use crate::contents::Package;

    fn parse(text: &[u8], complete: bool) -> (Vec<Package>, Vec<String>) {
        let mut found = Found::new(Origin {
            file: "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            layer: 3,
        });
        read(text, complete, &mut found);
        (
            found.packages,
            found.notes.into_iter().map(|n| n.message).collect(),
        )
    }

    #[test]
    fn paths() {
        assert!(is_metadata(
            "usr/local/lib/python3.12/site-packages/Django-5.0.dist-info/METADATA"
        ));
        assert!(is_metadata("x-1.dist-info/METADATA"));
        assert!(!is_metadata(".dist-info/METADATA"));
        assert!(!is_metadata("usr/lib/foo.egg-info/PKG-INFO"));
        assert!(!is_metadata("a/b.dist-info/RECORD"));
    }

    #[test]
    fn a_real_shaped_metadata() {
        let text = "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nSummary: Python HTTP for Humans.\n\
Home-page: https://requests.readthedocs.io\nAuthor: Kenneth Reitz\nLicense: Apache 2.0\n\
Classifier: License :: OSI Approved :: Apache Software License\nRequires-Python: >=3.7\n\
Requires-Dist: charset-normalizer (<4,>=2)\n\n# Requests\n\nName: not-this\n";
        let (pkgs, notes) = parse(text.as_bytes(), true);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(pkgs.len(), 1);
        assert_eq!(
            (pkgs[0].name.as_str(), pkgs[0].version.as_str()),
            ("requests", "2.31.0")
        );
        assert_eq!(pkgs[0].license.as_deref(), Some("Apache 2.0"));
        assert_eq!(pkgs[0].purl, "pkg:pypi/requests@2.31.0");
        assert_eq!(pkgs[0].layer, 3);
    }

    #[test]
    fn license_expression_and_long_license_text() {
        let (pkgs, _) = parse(
            b"Name: Foo_Bar\nVersion: 1.0\nLicense: MIT License\n  Copyright (c) someone\nLicense-Expression: MIT\n\n",
            true,
        );
        assert_eq!(pkgs[0].license.as_deref(), Some("MIT"));
        assert_eq!(pkgs[0].purl, "pkg:pypi/foo-bar@1.0");
        let (pkgs, _) = parse(
            b"Name: x\nVersion: 1\nLicense: line one\n   line two\n\n",
            true,
        );
        assert_eq!(pkgs[0].license, None);
    }

    #[test]
    fn a_cut_file_counts_only_if_its_header_ended() {
        let (pkgs, _) = parse(b"Name: x\nVersion: 1\n\nlong description...", false);
        assert_eq!(pkgs.len(), 1);
        let (pkgs, notes) = parse(b"Name: x\nVersion: 1\nSummary: ...", false);
        assert!(pkgs.is_empty());
        assert!(notes[0].contains("could not read"));
    }

    #[test]
    fn malformed() {
        for bad in [
            &b"Name: x\nthis is not a header\nVersion: 1\n\n"[..],
            b"Name: x\n\n",
            b"Version: 1\n",
            b"",
            b"\xff\xff\xff",
        ] {
            let (pkgs, notes) = parse(bad, true);
            assert!(pkgs.is_empty(), "{bad:?}");
            assert_eq!(notes.len(), 1, "{bad:?}");
            assert!(notes[0].starts_with("could not read"), "{notes:?}");
        }
    }
}
