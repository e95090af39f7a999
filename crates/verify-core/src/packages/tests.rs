use super::*;

/// A [`CapturedFile`] with what it borrows, as a layer read holds it.
struct Kept {
    path: String,
    layer: usize,
    size: u64,
    captured: Captured,
}

fn catalog_of(files: &[Kept]) -> Catalog {
    let files: Vec<CapturedFile<'_>> = files
        .iter()
        .map(|k| CapturedFile {
            path: &k.path,
            layer: k.layer,
            size: k.size,
            captured: &k.captured,
        })
        .collect();
    catalog(&files)
}

fn capture(path: &str, layer: usize, bytes: &[u8], mode: u32) -> Kept {
    let want = wanted(path, bytes.len() as u64, mode).expect("wanted");
    let mut c = want.start();
    // Fed in odd pieces, as a tar stream would.
    for piece in bytes.chunks(7) {
        c.update(piece);
    }
    Kept {
        path: path.into(),
        layer,
        size: bytes.len() as u64,
        captured: c.finish(),
    }
}

#[test]
fn wanted_paths() {
    let whole = |p: &str| matches!(wanted(p, 100, 0o644), Some(Want::Whole { .. }));
    assert!(whole("etc/os-release"));
    assert!(whole("usr/lib/os-release"));
    assert!(whole("var/lib/dpkg/status"));
    assert!(whole("var/lib/dpkg/status.d/libc6"));
    assert!(whole("var/lib/dpkg/status.d/python3.11"));
    assert!(whole("lib/apk/db/installed"));
    assert!(whole(
        "usr/lib/python3/dist-packages/foo-1.0.dist-info/METADATA"
    ));
    assert!(whole("app/node_modules/@scope/x/package.json"));
    for no in [
        "var/lib/dpkg/status-old",
        "var/lib/dpkg/status.d/libc6.md5sums",
        "var/lib/dpkg/status.d/sub/x",
        "etc/os-release.d/x",
        "app/package.json",
        "usr/share/doc/README",
    ] {
        assert_eq!(wanted(no, 100, 0o644), None, "{no}");
    }
    assert_eq!(
        wanted("var/lib/rpm/rpmdb.sqlite", 1 << 20, 0o644),
        Some(Want::PresenceOnly(Unread::RpmDatabase))
    );
    assert_eq!(
        wanted("usr/lib/sysimage/rpm/Packages.db", 1, 0o644),
        Some(Want::PresenceOnly(Unread::RpmDatabase))
    );
    assert_eq!(wanted("usr/bin/app", 10 << 20, 0o755), Some(Want::GoBinary));
    assert_eq!(wanted("usr/bin/app", 10 << 20, 0o644), None);
    assert_eq!(wanted("usr/bin/script", 300, 0o755), None);
    assert_eq!(
        wanted("opt/huge", GO_BINARY_MAX + 1, 0o755),
        Some(Want::PresenceOnly(Unread::ExecutableTooLarge))
    );
}

#[test]
fn captures_keep_at_most_their_bound() {
    let mut c = Want::Whole { max_bytes: 10 }.start();
    c.update(b"0123456");
    assert!(c.wants_more());
    c.update(b"789abc");
    assert!(!c.wants_more());
    assert_eq!(c.held_bytes(), 10);
    assert_eq!(
        c.finish(),
        Captured::Whole {
            bytes: b"0123456789".to_vec(),
            complete: false
        }
    );
    let mut c = Want::Whole { max_bytes: 4 }.start();
    c.update(b"abcd");
    c.update(b"");
    assert_eq!(
        c.finish(),
        Captured::Whole {
            bytes: b"abcd".to_vec(),
            complete: true
        }
    );
}

const OS_RELEASE: &str =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n";
const STATUS: &str = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\n\nPackage: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n";

#[test]
fn a_whole_image() {
    let files = vec![
        capture("usr/lib/os-release", 0, OS_RELEASE.as_bytes(), 0o644),
        capture("var/lib/dpkg/status", 2, STATUS.as_bytes(), 0o644),
        capture(
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
            3,
            b"Name: six\nVersion: 1.16.0\nLicense: MIT\n\n",
            0o644,
        ),
        capture(
            "app/node_modules/@scope/x/package.json",
            4,
            br#"{"name":"@scope/x","version":"1.0.0"}"#,
            0o644,
        ),
        capture("app/node_modules/y/package.json", 4, b"{oops", 0o644),
        capture("var/lib/rpm/rpmdb.sqlite", 1, b"SQLite format 3\0", 0o644),
        capture("usr/bin/not-go", 1, &[0x7f; 70_000], 0o755),
    ];
    let cat = catalog_of(&files);
    let os = cat.os.expect("os from usr/lib/os-release");
    assert_eq!(
        (os.id.as_str(), os.version_id.as_deref()),
        ("debian", Some("12"))
    );
    assert_eq!((os.file.as_str(), os.layer), ("usr/lib/os-release", 0));
    let got: Vec<(&str, &str, usize)> = cat
        .packages
        .iter()
        .map(|p| (p.purl.as_str(), p.file.as_str(), p.layer))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12",
                "var/lib/dpkg/status",
                2
            ),
            (
                "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12",
                "var/lib/dpkg/status",
                2
            ),
            (
                "pkg:pypi/six@1.16.0",
                "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                3
            ),
            (
                "pkg:npm/%40scope/x@1.0.0",
                "app/node_modules/@scope/x/package.json",
                4
            ),
        ]
    );
    let notes: Vec<(&str, usize)> = cat
        .notes
        .iter()
        .map(|n| (n.file.as_str(), n.layer))
        .collect();
    assert_eq!(
        notes,
        vec![
            ("app/node_modules/y/package.json", 4),
            ("var/lib/rpm/rpmdb.sqlite", 1),
        ]
    );
    assert!(cat.notes[1].message.contains("rpm"));
}

#[test]
fn etc_os_release_wins_and_a_cut_status_is_noted() {
    let mut status = capture("var/lib/dpkg/status", 1, STATUS.as_bytes(), 0o644);
    let Captured::Whole { bytes, complete } = &mut status.captured else {
        panic!("whole");
    };
    bytes.truncate(40);
    *complete = false;
    let files = vec![
        capture(
            "etc/os-release",
            1,
            b"ID=ubuntu\nVERSION_ID=\"22.04\"\n",
            0o644,
        ),
        capture("usr/lib/os-release", 0, OS_RELEASE.as_bytes(), 0o644),
        status,
    ];
    let cat = catalog_of(&files);
    assert_eq!(cat.os.expect("os").id, "ubuntu");
    assert!(cat.packages.is_empty(), "no version from a cut file");
    assert_eq!(cat.notes.len(), 1);
    assert!(cat.notes[0].message.starts_with("could not read"));
    assert_eq!(cat.notes[0].file, "var/lib/dpkg/status");
}

#[test]
fn a_malformed_etc_os_release_falls_back() {
    let files = vec![
        capture("etc/os-release", 1, b"\x00garbage", 0o644),
        capture("usr/lib/os-release", 0, OS_RELEASE.as_bytes(), 0o644),
    ];
    let cat = catalog_of(&files);
    assert_eq!(cat.os.expect("fallback").file, "usr/lib/os-release");
    assert!(cat.notes.iter().any(|n| n.file == "etc/os-release"));
}

/// Mutated and cut samples of every format: no panic, and every version
/// listed is text that stands in the file.
#[test]
fn mutated_inputs_never_invent_versions() {
    let samples: [(&str, &[u8]); 5] = [
        ("var/lib/dpkg/status", STATUS.as_bytes()),
        (
            "var/lib/dpkg/status.d/libc6",
            b"Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n",
        ),
        (
            "lib/apk/db/installed",
            b"C:Q1x=\nP:musl\nV:1.2.4-r4\nA:x86_64\nL:MIT\n\nP:busybox\nV:1.36.1-r15\n",
        ),
        (
            "usr/lib/python3/site-packages/a-1.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: a\nVersion: 1.0\nLicense: MIT\n\nbody\n",
        ),
        (
            "node_modules/a/package.json",
            br#"{"name": "@s/a", "version": "1.2.3", "license": "MIT"}"#,
        ),
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (path, sample) in samples {
        for round in 0..400 {
            let mut bytes = sample.to_vec();
            for _ in 0..(next() % 4) {
                let at = (next() as usize) % bytes.len();
                match next() % 3 {
                    0 => bytes[at] = next() as u8,
                    1 => bytes.truncate(at),
                    _ => bytes.insert(at, b"\n: \"\\{"[(next() % 6) as usize]),
                }
                if bytes.is_empty() {
                    break;
                }
            }
            let file = capture(path, 0, &bytes, 0o644);
            let cat = catalog_of(&[file]);
            let text = String::from_utf8_lossy(&bytes);
            for p in &cat.packages {
                let escaped = path.ends_with(".json") && text.contains('\\');
                assert!(
                    escaped || text.contains(p.version.as_str()),
                    "{path} round {round}: version {:?} is not in {text:?}",
                    p.version
                );
                assert!(!p.purl.is_empty());
            }
        }
    }
}
