//! dpkg's package database: `var/lib/dpkg/status` (every package dpkg knows,
//! one stanza each) and distroless's `var/lib/dpkg/status.d/<package>` (one
//! installed package per file, often without a `Status` field).

use super::purl::Fields;
use super::{Distro, Found, fields};
use crate::contents::Ecosystem;

/// Which of the two files a stanza came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Status,
    StatusD,
}

pub(super) fn read(bytes: &[u8], kind: Kind, distro: &Distro, found: &mut Found<'_>) {
    let text = super::text(bytes);
    let mut any = false;
    fields::for_each_record(&text, |record| {
        any = true;
        stanza(&record, kind, distro, found);
    });
    // An empty `status` is what a fresh dpkg has: no packages. A status.d
    // file is there for one package.
    if !any && kind == Kind::StatusD {
        found.note("could not read: no package stanza in this file");
    }
}

fn stanza(record: &fields::Record<'_>, kind: Kind, distro: &Distro, found: &mut Found<'_>) {
    if let Some(line) = record.bad_line {
        found.note(format!(
            "could not read the stanza at line {}: line {line} is neither a field nor a continuation",
            record.line
        ));
        return;
    }
    let status = record.get("Status");
    match (kind, status) {
        // Distroless writes only installed packages, without Status.
        (Kind::StatusD, None) => {}
        (_, Some(status)) if is_installed(status) => {}
        (Kind::Status, None) => {
            found.note(format!(
                "stanza at line {} has no Status field; left out",
                record.line
            ));
            return;
        }
        // Removed, config-files only, half-installed: not installed.
        (_, Some(_)) => return,
    }
    let (Some(name), Some(version)) = (
        record.get("Package").filter(|s| !s.is_empty()),
        record.get("Version").filter(|s| !s.is_empty()),
    ) else {
        found.note(format!(
            "could not read the stanza at line {}: an installed package needs Package and Version",
            record.line
        ));
        return;
    };
    let mut fields = Fields::new(Ecosystem::Deb, name, version);
    fields.arch = record.get("Architecture").filter(|s| !s.is_empty());
    fields.namespace = distro.id.as_deref();
    fields.distro = distro.distro.as_deref();
    found.package(fields, None);
}

/// dpkg's `Status: <want> <flag> <state>`: the package is on disk when
/// its state is `installed` and no error flag (`reinstreq`) is set,
/// whether it is wanted as `install` or put on `hold`.
fn is_installed(status: &str) -> bool {
    let words: Vec<&str> = status.split_whitespace().collect();
    matches!(words.as_slice(), [_, "ok", "installed"])
}

#[cfg(test)]
mod tests {
    use super::super::Origin;
    use super::*;
    use crate::contents::Package;

    const STATUS: &str = "\
Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12988
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Replaces: libc6-amd64
Depends: libgcc-s1
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.
 .
 This package includes shared versions of the standard C library.

Package: tzdata
Status: hold ok installed
Architecture: all
Version: 2024a-0+deb12u1
Description: time zone and daylight-saving time data

Package: old-thing
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: openssh-client
Status: install ok installed
Architecture: amd64
Version: 1:9.2p1-2+deb12u2
";

    fn parse(text: &[u8], kind: Kind, distro: &Distro) -> (Vec<Package>, Vec<String>) {
        let mut found = Found::new(Origin {
            file: "var/lib/dpkg/status",
            layer: 0,
        });
        read(text, kind, distro, &mut found);
        (
            found.packages,
            found.notes.into_iter().map(|n| n.message).collect(),
        )
    }

    fn debian() -> Distro {
        Distro {
            id: Some("debian".into()),
            distro: Some("debian-12".into()),
        }
    }

    #[test]
    fn installed_stanzas_only() {
        let (pkgs, notes) = parse(STATUS.as_bytes(), Kind::Status, &debian());
        assert!(notes.is_empty(), "{notes:?}");
        let got: Vec<(&str, &str, Option<&str>)> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str(), p.arch.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("libc6", "2.36-9+deb12u4", Some("amd64")),
                ("tzdata", "2024a-0+deb12u1", Some("all")),
                ("openssh-client", "1:9.2p1-2+deb12u2", Some("amd64")),
            ]
        );
        assert_eq!(
            pkgs[0].purl,
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
    }

    #[test]
    fn distroless_status_d_needs_no_status() {
        let (pkgs, notes) = parse(
            b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
            Kind::StatusD,
            &Distro::default(),
        );
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].purl, "pkg:deb/base-files@12.4%2Bdeb12u5?arch=amd64");
    }

    #[test]
    fn malformed_stanzas_are_noted_never_guessed() {
        let text = b"Package: a\nStatus: install ok installed\nVersion 1.0\n\n\
Package: b\nStatus: install ok installed\n\n\
Package: c\nVersion: 2\n\n\
Package: d\nStatus: install ok installed\nVersion: 3\n";
        let (pkgs, notes) = parse(text, Kind::Status, &debian());
        assert_eq!(pkgs.len(), 1, "{pkgs:?}");
        assert_eq!(
            (pkgs[0].name.as_str(), pkgs[0].version.as_str()),
            ("d", "3")
        );
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("line 3"), "{notes:?}");
        let (pkgs, notes) = parse(b"\xff\xfe", Kind::StatusD, &debian());
        assert!(pkgs.is_empty());
        assert!(notes[0].contains("could not read"), "{notes:?}");
    }

    #[test]
    fn invalid_utf8_in_a_description_hides_nothing_else() {
        let text =
            b"Package: a\nStatus: install ok installed\nVersion: 1\nMaintainer: J\xe9r\xf4me\n\n\
Package: b\xff\nStatus: install ok installed\nVersion: 2\n";
        let (pkgs, notes) = parse(text, Kind::Status, &debian());
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].name, "a");
        assert!(notes[0].contains("not valid UTF-8"), "{notes:?}");
    }

    /// The dpkg status of the machine running the tests, against what
    /// dpkg-query says of the same file.
    #[test]
    fn this_machines_status_matches_dpkg_query() {
        let path = std::path::Path::new("/var/lib/dpkg/status");
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("no /var/lib/dpkg/status here; skipped");
            return;
        };
        let Ok(out) = std::process::Command::new("dpkg-query")
            .args([
                "-W",
                "-f",
                "${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\n",
            ])
            .output()
        else {
            eprintln!("no dpkg-query here; skipped");
            return;
        };
        assert!(out.status.success(), "dpkg-query failed");
        let mut expected: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            // `ii `, `hi `: installed, no error.
            .filter(|l| l.get(1..3) == Some("i "))
            .map(|l| l.split_once('\t').map_or(l, |(_, rest)| rest).to_owned())
            .collect();
        let (pkgs, notes) = parse(&bytes, Kind::Status, &debian());
        assert!(notes.is_empty(), "{notes:?}");
        let mut got: Vec<String> = pkgs
            .iter()
            .map(|p| {
                format!(
                    "{}\t{}\t{}",
                    p.name,
                    p.version,
                    p.arch.as_deref().unwrap_or("")
                )
            })
            .collect();
        expected.sort();
        got.sort();
        assert!(expected.len() > 10, "dpkg-query listed {}", expected.len());
        assert_eq!(got, expected);
    }
}
