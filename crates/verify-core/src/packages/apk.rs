//! apk's installed database, `lib/apk/db/installed`: one record per
//! package, records separated by blank lines, each line `X:value` with a
//! one-letter key (`P` name, `V` version, `A` arch, `L` licence, `o`
//! origin; `F`/`R`/`Z` list the package's files and are skipped).

use super::purl::Fields;
use super::{Distro, Found};
use crate::contents::Ecosystem;

#[derive(Default)]
struct Record<'a> {
    line: usize,
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    license: Option<&'a str>,
    bad_line: Option<usize>,
    lines: usize,
}

pub(super) fn read(bytes: &[u8], distro: &Distro, found: &mut Found<'_>) {
    let text = super::text(bytes);
    let mut current = Record::default();
    for (index, line) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            finish(std::mem::take(&mut current), distro, found);
            continue;
        }
        if current.lines == 0 {
            current.line = number;
        }
        current.lines += 1;
        let mut chars = line.chars();
        let (Some(key), Some(':')) = (chars.next(), chars.next()) else {
            current.bad_line.get_or_insert(number);
            continue;
        };
        let value = chars.as_str().trim();
        let slot = match key {
            'P' => &mut current.name,
            'V' => &mut current.version,
            'A' => &mut current.arch,
            'L' => &mut current.license,
            _ => continue,
        };
        slot.get_or_insert(value);
    }
    finish(current, distro, found);
}

fn finish(record: Record<'_>, distro: &Distro, found: &mut Found<'_>) {
    if record.lines == 0 {
        return;
    }
    if let Some(line) = record.bad_line {
        found.note(format!(
            "could not read the record at line {}: line {line} is not `X:value`",
            record.line
        ));
        return;
    }
    let (Some(name), Some(version)) = (
        record.name.filter(|s| !s.is_empty()),
        record.version.filter(|s| !s.is_empty()),
    ) else {
        found.note(format!(
            "could not read the record at line {}: a package needs P: and V:",
            record.line
        ));
        return;
    };
    let mut fields = Fields::new(Ecosystem::Apk, name, version);
    fields.arch = record.arch.filter(|s| !s.is_empty());
    fields.namespace = distro.id.as_deref();
    fields.distro = distro.distro.as_deref();
    found.package(
        fields,
        record.license.filter(|s| !s.is_empty()).map(str::to_owned),
    );
}

#[cfg(test)]
mod tests {
    use super::super::Origin;
    use super::*;
    use crate::contents::Package;

    const INSTALLED: &str = "\
C:Q1Hf1DGxnjpUBh+VOcAgRxJ3qkGfQ=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407134
I:667648
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Ter\u{e4}s <timo.teras@iki.fi>
t:1705857358
c:e52aa6fd4e18a8c7b4c4ca9f7d8b9d3e3e0d3d6f
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1Nd9eG7pPtN5L0z9s1LJmHh0+7dM=

C:Q1abc=
P:busybox
V:1.36.1-r15
A:x86_64
L:GPL-2.0-only
o:busybox
F:bin
R:busybox
";

    fn parse(text: &[u8]) -> (Vec<Package>, Vec<String>) {
        let mut found = Found::new(Origin {
            file: "lib/apk/db/installed",
            layer: 0,
        });
        let distro = Distro {
            id: Some("alpine".into()),
            distro: Some("alpine-3.19.1".into()),
        };
        read(text, &distro, &mut found);
        (
            found.packages,
            found.notes.into_iter().map(|n| n.message).collect(),
        )
    }

    #[test]
    fn records() {
        let (pkgs, notes) = parse(INSTALLED.as_bytes());
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].name, "musl");
        assert_eq!(pkgs[0].version, "1.2.4_git20230717-r4");
        assert_eq!(pkgs[0].license.as_deref(), Some("MIT"));
        assert_eq!(
            pkgs[0].purl,
            "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1"
        );
        assert_eq!(pkgs[1].license.as_deref(), Some("GPL-2.0-only"));
    }

    #[test]
    fn malformed_records_are_noted() {
        let (pkgs, notes) = parse(b"P:a\nV:1\nnonsense\n\nP:b\n\nV:3\n\nP:c\nV:4\n");
        assert_eq!(pkgs.len(), 1);
        assert_eq!(pkgs[0].name, "c");
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("line 3"));
        assert!(notes[1].contains("line 5"));
        assert!(notes[2].contains("line 7"));
    }
}
