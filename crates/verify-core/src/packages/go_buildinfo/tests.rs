use super::super::{Found, Origin};
use super::*;

/// The sentinels `cmd/go` frames module information with (as found in
/// Debian's docker binary).
const INFO_START: &[u8; 16] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
const INFO_END: &[u8; 16] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";

const MODINFO: &str = "path\texample.com/app/cmd/app\n\
mod\texample.com/app\t(devel)\t\n\
dep\tgithub.com/spf13/cobra\tv1.8.0\th1:7aJaZx1B85qltLMc546zn58BxxfZdR/W22ej9CFoEf0=\n\
dep\tgolang.org/x/sys\tv0.15.0\th1:abc=\n\
=>\tgolang.org/x/sys\tv0.16.0\th1:def=\n\
dep\texample.com/local\tv0.0.0-00010101000000-000000000000\n\
=>\t../local\t\t\n\
build\t-compiler=gc\n\
build\t\"-ldflags=-s -w\"\n\
build\tGOARCH=arm64\n\
build\tGOOS=linux\n";

fn varint(mut v: usize, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// An inline-format header and its strings, as the Go 1.18+ linker lays
/// them out.
fn blob(version: &[u8], modinfo: &[u8]) -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&[8, 2]);
    b.extend_from_slice(&[0; 16]);
    varint(version.len(), &mut b);
    b.extend_from_slice(version);
    varint(modinfo.len(), &mut b);
    b.extend_from_slice(modinfo);
    b
}

fn framed(text: &str) -> Vec<u8> {
    let mut m = INFO_START.to_vec();
    m.extend_from_slice(text.as_bytes());
    m.extend_from_slice(INFO_END);
    m
}

/// An ELF-looking file with decoys before the header: the magic quoted
/// unaligned (as `debug/buildinfo` quotes it), and an aligned magic whose
/// "version" is not one, right before the real header.
fn sample_elf() -> Vec<u8> {
    let mut f = b"\x7fELF\x02\x01\x01\x00".to_vec();
    f.resize(4096 + 3, 0xff);
    f.extend_from_slice(MAGIC);
    f.extend_from_slice(b"\x08\x02 quoted, unaligned");
    f.resize(8192, 0);
    let mut decoy = MAGIC.to_vec();
    decoy.extend_from_slice(&[8, 2]);
    decoy.extend_from_slice(&[0; 16]);
    decoy.extend_from_slice(b"\x05\x01\x02\x03\x04\x05");
    decoy.resize(48, 0);
    f.extend_from_slice(&decoy);
    f.extend_from_slice(&blob(b"go1.22.1", &framed(MODINFO)));
    f.resize(f.len() + 5000, 0xab);
    f
}

fn scan(bytes: &[u8], chunk: usize) -> GoScan {
    let mut s = GoScanner::new();
    for piece in bytes.chunks(chunk) {
        s.update(piece);
        assert!(s.held_bytes() <= MODINFO_MAX + 512);
    }
    s.finish()
}

#[test]
fn the_sample_at_every_chunk_size() {
    let file = sample_elf();
    let whole = scan(&file, file.len());
    let GoScan::Found(info) = &whole else {
        panic!("not found: {whole:?}");
    };
    assert_eq!(info.go_version, "go1.22.1");
    assert_eq!(info.path.as_deref(), Some("example.com/app/cmd/app"));
    assert_eq!(info.goarch.as_deref(), Some("arm64"));
    let main = info.main.as_ref().expect("main module");
    assert_eq!(
        (main.path.as_str(), main.version.as_str()),
        ("example.com/app", "(devel)")
    );
    assert_eq!(info.deps.len(), 3);
    assert_eq!(info.deps[0].version, "v1.8.0");
    let sys = info.deps[1].replace.as_deref().expect("replaced");
    assert_eq!(
        (sys.path.as_str(), sys.version.as_str()),
        ("golang.org/x/sys", "v0.16.0")
    );
    for chunk in (1..=97).chain([1000, 4096, 8191, 8193, 65536]) {
        assert_eq!(scan(&file, chunk), whole, "chunk size {chunk}");
    }
}

#[test]
fn packages_from_the_sample() {
    let GoScan::Found(info) = scan(&sample_elf(), 7) else {
        panic!("not found");
    };
    let mut found = Found::new(Origin {
        file: "usr/local/bin/app",
        layer: 4,
    });
    catalog(&GoScan::Found(info), &mut found);
    let got: Vec<(&str, &str, &str)> = found
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("stdlib", "go1.22.1", "pkg:golang/stdlib@1.22.1?arch=arm64"),
            (
                "example.com/app",
                "(devel)",
                "pkg:golang/example.com/app?arch=arm64"
            ),
            (
                "github.com/spf13/cobra",
                "v1.8.0",
                "pkg:golang/github.com/spf13/cobra@v1.8.0?arch=arm64"
            ),
            (
                "golang.org/x/sys",
                "v0.16.0",
                "pkg:golang/golang.org/x/sys@v0.16.0?arch=arm64"
            ),
        ]
    );
    assert_eq!(found.notes.len(), 1);
    assert!(found.notes[0].message.contains("../local"));
    assert!(found.packages.iter().all(|p| p.layer == 4));
}

#[test]
fn not_elf_stops_at_once() {
    let mut s = GoScanner::new();
    s.update(b"#!/bin/sh\necho hello world\n");
    assert!(!s.wants_more());
    assert_eq!(s.finish(), GoScan::NotGo);
    assert_eq!(scan(b"\x7fEL", 1), GoScan::NotGo);
    assert_eq!(scan(b"", 1), GoScan::NotGo);
}

#[test]
fn pointer_format_is_reported() {
    let mut f = b"\x7fELF".to_vec();
    f.resize(64, 0);
    f.extend_from_slice(MAGIC);
    f.extend_from_slice(&[8, 0]);
    f.extend_from_slice(&0x4a_1000_u64.to_le_bytes());
    f.extend_from_slice(&0x4a_1010_u64.to_le_bytes());
    f.resize(256, 0);
    for chunk in [1, 5, 16, 256] {
        assert_eq!(scan(&f, chunk), GoScan::PointerFormat);
    }
    let mut found = Found::new(Origin {
        file: "bin/old",
        layer: 0,
    });
    catalog(&GoScan::PointerFormat, &mut found);
    assert!(found.packages.is_empty());
    assert!(found.notes[0].message.contains("before Go 1.18"));
}

#[test]
fn bad_module_information_is_unreadable_not_guessed() {
    let mut f = b"\x7fELF".to_vec();
    f.resize(32, 0);
    // Claims more module information than the bound.
    let mut b = MAGIC.to_vec();
    b.extend_from_slice(&[8, 2]);
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(b"\x08go1.21.0");
    varint(MODINFO_MAX + 1, &mut b);
    f.extend_from_slice(&b);
    assert!(matches!(scan(&f, 3), GoScan::Unreadable(m) if m.contains("more than")));

    // Cut short inside the module information.
    let mut f = b"\x7fELF".to_vec();
    f.resize(32, 0);
    let full = blob(b"go1.21.0", &framed(MODINFO));
    f.extend_from_slice(&full[..full.len() - 40]);
    assert!(matches!(scan(&f, 11), GoScan::Unreadable(m) if m.contains("ends inside")));

    // Cut right after the version: still a Go program, still unreadable.
    let mut f = b"\x7fELF".to_vec();
    f.resize(32, 0);
    f.extend_from_slice(&full[..HEADER_REST + 16 + 1 + 8 + 1]);
    for chunk in [1, 4, 100] {
        assert!(matches!(scan(&f, chunk), GoScan::Unreadable(m) if m.contains("ends inside")));
    }

    // A module line with too many columns.
    let mut f = b"\x7fELF".to_vec();
    f.resize(32, 0);
    f.extend_from_slice(&blob(b"go1.21.0", &framed("dep\ta\tb\tc\td\n")));
    f.push(0);
    let got = scan(&f, 2);
    assert!(
        matches!(&got, GoScan::Unreadable(m) if m.contains("line 1")),
        "{got:?}"
    );
    let mut found = Found::new(Origin {
        file: "bin/x",
        layer: 1,
    });
    catalog(&got, &mut found);
    assert!(found.packages.is_empty());
    assert!(found.notes[0].message.starts_with("could not read"));

    // Not framed: no module information at all, as Debian builds are.
    let mut f = b"\x7fELF".to_vec();
    f.resize(32, 0);
    f.extend_from_slice(&blob(b"go1.19.8", b"path\tx\n"));
    let GoScan::Found(info) = scan(&f, 5) else {
        panic!("not found");
    };
    assert_eq!(info.main, None);
    assert_eq!(info.path, None);
}

/// Random bytes with headers planted at aligned offsets: any chunking
/// gives the same answer, and nothing panics.
#[test]
fn hostile_bytes_any_chunking() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..200 {
        let len = (next() % 3000) as usize + 16;
        let mut f: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        f[..4].copy_from_slice(ELF_MAGIC);
        for _ in 0..(next() % 4) {
            let at = ((next() as usize) % len) & !15;
            let end = (at + 16).min(len);
            let mut header = MAGIC.to_vec();
            header.extend_from_slice(&[8, (next() % 4) as u8]);
            f[at..end].copy_from_slice(&header[..end - at]);
        }
        let whole = scan(&f, f.len());
        for chunk in [1, 2, 3, 15, 16, 17, 64] {
            assert_eq!(scan(&f, chunk), whole);
        }
    }
}

/// Go binaries on this machine (Debian packages them), against the
/// `.go.buildinfo` section `objcopy` extracts from each.
#[test]
fn real_binaries_match_their_buildinfo_section() {
    let candidates = [
        "/usr/bin/docker",
        "/usr/bin/skopeo",
        "/usr/bin/containerd",
        "/usr/sbin/runc",
    ];
    let mut checked = 0;
    for path in candidates {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        let section = std::env::temp_dir().join(format!(
            "airlock-buildinfo-{}-{}",
            std::process::id(),
            path.replace('/', "_")
        ));
        let status = std::process::Command::new("objcopy")
            .args(["-O", "binary", "--only-section=.go.buildinfo", path])
            .arg(&section)
            .status();
        let Ok(status) = status else {
            eprintln!("no objcopy here; skipped");
            return;
        };
        assert!(status.success(), "objcopy {path}");
        let raw = std::fs::read(&section).expect("objcopy wrote the section");
        let _ = std::fs::remove_file(&section);
        assert!(raw.starts_with(MAGIC), "{path}: section has no header");
        let text = String::from_utf8_lossy(&raw);
        let line = |prefix: &str| {
            text.split('\n')
                .find_map(|l| l.strip_prefix(prefix))
                .map(str::to_owned)
        };
        let version_at = text.find("go1.").expect("a go version");
        let expected_version: String = text[version_at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();

        let got = scan(&bytes, 65536 - 3);
        let GoScan::Found(info) = got else {
            panic!("{path}: {got:?}");
        };
        assert_eq!(info.go_version, expected_version, "{path}");
        // The path line is the first of the module text, right after the
        // sentinel, so it is found by its prefix with what precedes cut.
        let path_line = text
            .split("path\t")
            .nth(1)
            .and_then(|rest| rest.split('\n').next())
            .map(str::to_owned);
        assert_eq!(info.path, path_line, "{path}");
        assert_eq!(info.goarch, line("build\tGOARCH="), "{path}");
        assert_eq!(info.deps.len(), text.matches("\ndep\t").count(), "{path}");
        checked += 1;
    }
    eprintln!("{checked} Go binaries checked");
}
