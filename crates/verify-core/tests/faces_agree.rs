//! Facts the core owns that the page and the README repeat in their own
//! languages: each test fails when a face forgets (or invents) one.

use std::collections::BTreeSet;
use std::path::PathBuf;

use verify_core::FindingKind;

fn repo_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Fails unless `named` holds exactly the core's kinds.
fn assert_every_kind(named: BTreeSet<String>, place: &str) {
    let kinds: BTreeSet<String> = FindingKind::ALL
        .iter()
        .map(|k| k.as_str().to_owned())
        .collect();
    let missing: Vec<_> = kinds.difference(&named).collect();
    let unknown: Vec<_> = named.difference(&kinds).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "{place}: missing kinds {missing:?}, kinds the core does not have {unknown:?}"
    );
}

/// The text from `start` to the first `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str, what: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{what}: `{start}` not found"))
        + start.len();
    let len = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("{what}: no `{end}` after `{start}`"));
    &text[from..from + len]
}

/// The keys of one language's table in `AIRLOCK_KINDS`: lines `"kind": "…",`.
fn page_kinds(i18n: &str, lang: &str) -> BTreeSet<String> {
    let table = between(i18n, "const AIRLOCK_KINDS = {", "\n};", "web/i18n.js");
    let block = between(table, &format!("\n  {lang}: {{"), "\n  },", lang);
    block
        .lines()
        .filter_map(|line| line.trim().strip_prefix('"')?.split_once("\":"))
        .map(|(key, _)| key.to_owned())
        .collect()
}

/// Every kind has a sentence for the approver in both of the page's
/// languages; the page would otherwise show the bare kind name.
#[test]
fn page_words_every_kind_in_korean_and_english() {
    let i18n = repo_file("web/i18n.js");
    for lang in ["ko", "en"] {
        assert_every_kind(
            page_kinds(&i18n, lang),
            &format!("web/i18n.js AIRLOCK_KINDS.{lang}"),
        );
    }
}

/// The README's list of kinds is what sites key their tooling on.
#[test]
fn readme_lists_every_kind() {
    let readme = repo_file("README.md");
    let list = between(&readme, "Kinds: ", "\n\n", "README.md");
    let named: BTreeSet<String> = list
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    assert_every_kind(named, "README.md's `Kinds:` list");
}

/// The page pairs dropped files by the same sidecar names `airlock verify`
/// looks for beside a bundle, in the same order, so both use the same file.
#[test]
fn page_pairs_the_sidecars_the_cli_finds() {
    let app = repo_file("web/app.js");
    let list = between(&app, "const SIDECAR_NAMES = [", "];", "web/app.js");
    let page: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or_else(|| panic!("web/app.js SIDECAR_NAMES: `{item}` is not a string"))
        })
        .collect();
    assert_eq!(page, verify_core::sums::SIDECAR_NAMES);
}
