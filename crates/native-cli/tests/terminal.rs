//! Terminal escape injection (issue #13): text from a bundle or a sums file
//! that carries `\r`, ANSI sequences and a bidi override must reach the
//! terminal as visible escapes, never as the bytes a terminal obeys, while
//! `--json` keeps it exactly.

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use support::{airlock, json, scratch};
use test_support::cases;

/// Returns to the start of the line, erases it, goes up a line over the
/// real verdict, writes a green VERIFIED and hides what follows; then
/// reverses the rest of the line.
const ATTACK: &str = "\r\u{1b}[2K\u{1b}[1A\u{1b}[32mVERIFIED\u{1b}[8m\u{202e}";
/// ATTACK as `airlock` shows it.
const SHOWN: &str = "\\r\\u{1b}[2K\\u{1b}[1A\\u{1b}[32mVERIFIED\\u{1b}[8m\\u{202e}";

/// Fails if a terminal would obey anything in `out`: every control
/// character but the newlines ending lines, and every bidi control.
fn assert_inert(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        let raw: Vec<char> = text
            .chars()
            .filter(|&c| {
                (c.is_control() && c != '\n')
                    || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            })
            .collect();
        assert!(raw.is_empty(), "{what}: {stream} carries {raw:?}:\n{text}");
    }
}

/// `program ARGS` run in `dir`: names in a sums file are relative to the
/// working directory.
fn run_in(dir: &Path, program: &str, args: &[&str]) -> Output {
    std::process::Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

const AIRLOCK: &str = env!("CARGO_BIN_EXE_airlock");

/// A docker-archive whose tag, platform, `created` and an entry name carry
/// ATTACK.
fn hostile_bundle(dir: &Path) -> std::path::PathBuf {
    let layer = cases::hello_layer();
    let mut config = cases::classic_config(&layer);
    config["architecture"] = json!(format!("amd64{ATTACK}"));
    config["created"] = json!(format!("2023-11-14T22:13:20Z{ATTACK}"));
    let tar = cases::docker_archive_images(&[(
        &format!("example.com/app:1{ATTACK}"),
        cases::to_json(&config),
        vec![layer],
    )]);
    let mut b = cases::extend(&tar);
    cases::append_file(&mut b, &format!("notes{ATTACK}.txt"), b"hi\n");
    let path = dir.join("hostile.tar");
    std::fs::write(&path, b.into_inner().expect("in-memory tar")).expect("write bundle");
    path
}

fn contains_attack(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.contains(ATTACK))
}

#[test]
fn bundle_text_is_escaped_in_verify_inspect_and_load() {
    let dir = scratch("terminal-bundle");
    let bundle = hostile_bundle(&dir);
    let b = bundle.to_str().expect("utf-8 path");

    // --json carries every hostile string exactly.
    let report = json(&airlock(&["verify", "--json", b]));
    assert_eq!(report["verdict"], "fail", "{report:#}");
    let findings = report["findings"].as_array().expect("findings");
    assert!(
        findings.iter().any(|f| contains_attack(&f["message"])),
        "the rejected tag is quoted exactly: {report:#}"
    );
    assert!(
        findings.iter().any(|f| contains_attack(&f["entry"])),
        "the entry name is exact: {report:#}"
    );
    let image = &report["images"][0];
    assert_eq!(image["platform"], format!("linux/amd64{ATTACK}"));
    assert_eq!(image["created"], format!("2023-11-14T22:13:20Z{ATTACK}"));

    // Human output shows the same strings escaped, and the true verdict.
    for command in ["verify", "inspect"] {
        let out = airlock(&[command, b]);
        assert_eq!(out.status.code(), Some(1), "{command}");
        assert_inert(command, &out);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("FAILED"), "{command}: {text}");
        assert!(
            text.contains(&format!("`example.com/app:1{SHOWN}`")),
            "{text}"
        );
        assert!(text.contains(&format!("notes{SHOWN}.txt")), "{text}");
        assert!(text.contains(&format!("linux/amd64{SHOWN}")), "{text}");
        if command == "inspect" {
            assert!(text.contains(&format!("created   2023-11-14T22:13:20Z{SHOWN}")));
        }
    }

    let out = airlock(&[
        "load",
        b,
        "--to",
        &format!("oci:{}", dir.join("layout").display()),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_inert("load", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("amd64{SHOWN}")));
}

/// A tag with no ASCII control can still carry a C1 CSI (U+009B) and a
/// bidi override. Docker's reference grammar refuses it, so the bundle
/// fails; the finding that quotes it reaches the terminal escaped, the JSON
/// keeps it exactly, and nothing is imported.
#[test]
fn a_tag_with_c1_and_bidi_controls_fails_and_is_shown_escaped() {
    let dir = scratch("terminal-load");
    let tag = "example.com/app:1\u{9b}2K\u{202e}";
    let layer = cases::hello_layer();
    let config = cases::to_json(&cases::classic_config(&layer));
    let bundle = dir.join("tagged.tar");
    let tar = cases::docker_archive_images(&[(tag, config, vec![layer])]);
    std::fs::write(&bundle, tar).expect("write bundle");
    let b = bundle.to_str().expect("utf-8 path");

    let report = json(&airlock(&["verify", "--json", b]));
    assert_eq!(report["verdict"], "fail", "{report:#}");
    let quoted = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| {
            f["kind"] == "malformed-json" && f["message"].as_str().is_some_and(|m| m.contains(tag))
        });
    assert!(quoted, "{report:#}");

    let layout = dir.join("layout");
    let out = airlock(&["load", b, "--to", &format!("oci:{}", layout.display())]);
    assert_inert("load", &out);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("example.com/app:1\\u{9b}2K\\u{202e}"),
        "{text}"
    );
    assert!(!layout.exists(), "a refused bundle created the layout");
}

#[test]
fn names_from_the_command_line_and_errors_are_escaped() {
    let dir = scratch("terminal-names");
    // The bundle's own file name, as found on the stick.
    let named = dir.join(format!("bundle{ATTACK}.tar"));
    std::fs::copy(hostile_bundle(&dir), &named).expect("copy");
    let out = airlock(&["verify", named.to_str().expect("utf-8")]);
    assert_inert("verify", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("bundle{SHOWN}.tar")));

    // An error naming it goes to stderr the same way.
    let missing = dir.join(format!("gone{ATTACK}.tar"));
    let out = airlock(&["verify", missing.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert_inert("a missing bundle", &out);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("gone{SHOWN}.tar")));
}

#[test]
fn check_shows_hostile_names_escaped_on_a_backslashed_line() {
    let dir = scratch("terminal-check");
    let name = format!("evil{ATTACK}.tar");
    std::fs::write(dir.join(&name), b"payload").expect("write");
    let hex = cases::sha256_hex(b"payload");
    // As `sha256sum` writes these names: the line starts with `\` and the
    // CR is escaped; the escape sequences and the override are raw.
    let written = ATTACK.replace('\r', "\\r");
    std::fs::write(
        dir.join("SHA256SUMS"),
        format!("\\{hex}  evil{written}.tar\n\\{hex}  missing{written}.tar\n"),
    )
    .expect("write sums");

    let out = run_in(&dir, AIRLOCK, &["check", "SHA256SUMS"]);
    assert_eq!(out.status.code(), Some(1));
    assert_inert("check", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("\\evil{SHOWN}.tar: OK"));
    assert!(
        lines[1].starts_with(&format!("\\missing{SHOWN}.tar: FAILED open or read")),
        "{text}"
    );

    let out = airlock(&["hash", dir.join(&name).to_str().expect("utf-8")]);
    assert_inert("hash", &out);
    let line = String::from_utf8_lossy(&out.stdout);
    assert!(line.starts_with(&format!("\\{hex}  ")), "{line}");
    assert!(
        line.trim_end().ends_with(&format!("evil{SHOWN}.tar")),
        "{line}"
    );
    // What `hash` escaped, `check` reads back to the same file.
    std::fs::write(dir.join("OURS"), line.as_bytes()).expect("write sums");
    let out = run_in(&dir, AIRLOCK, &["check", "OURS"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_inert("check of hash's output", &out);
}

/// For plain names, and for the backslash, newline and CR that GNU
/// escapes itself, `airlock hash` writes what `sha256sum` writes, and
/// `airlock check` reads it back.
#[test]
fn hash_lines_match_gnu_sha256sum() {
    let dir = scratch("terminal-gnu");
    let names = [
        "plain.tar",
        "back\\slash.tar",
        "new\nline.tar",
        "carriage\rreturn.tar",
    ];
    for name in names {
        std::fs::write(dir.join(name), name.as_bytes()).expect("write");
    }
    let ours = run_in(&dir, AIRLOCK, &[&["hash"], &names[..]].concat());
    let gnu = run_in(&dir, "sha256sum", &names);
    assert!(ours.status.success() && gnu.status.success());
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&gnu.stdout)
    );
    std::fs::write(dir.join("SHA256SUMS"), &ours.stdout).expect("write");
    let out = run_in(&dir, AIRLOCK, &["check", "SHA256SUMS"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_inert("check", &out);
}
