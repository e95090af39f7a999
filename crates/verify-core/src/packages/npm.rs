//! npm packages: the `package.json` of each package directory under a
//! `node_modules` (`node_modules/<name>/` or `node_modules/@scope/<name>/`,
//! nested `node_modules` included). Other `package.json` files inside a
//! package (test fixtures, examples) are not packages and are not read.

use serde_json::Value;

use super::Found;
use super::purl::Fields;
use crate::contents::Ecosystem;

/// Whether `path` is the manifest of an installed package.
pub(super) fn is_package_json(path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let is_name = |s: &str| !s.is_empty() && !s.starts_with('.') && !s.starts_with('@');
    match parts.as_slice() {
        [.., "node_modules", scope, name, "package.json"]
            if scope.len() > 1 && scope.starts_with('@') && is_name(name) =>
        {
            true
        }
        [.., "node_modules", name, "package.json"] => is_name(name),
        _ => false,
    }
}

pub(super) fn read(bytes: &[u8], found: &mut Found<'_>) {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            found.note(format!("could not read: not JSON ({e})"));
            return;
        }
    };
    let Value::Object(map) = value else {
        found.note("could not read: not a JSON object");
        return;
    };
    let (name, version) = match (map.get("name"), map.get("version")) {
        (Some(Value::String(n)), Some(Value::String(v))) if !n.is_empty() && !v.is_empty() => {
            (n.as_str(), v.as_str())
        }
        // A manifest without both is a placeholder (workspace roots,
        // private packages), not a malformed one: nothing to list.
        (None, _) | (_, None) => return,
        _ => {
            found.note("could not read: `name` and `version` are not both non-empty strings");
            return;
        }
    };
    let (namespace, short) = match name.split_once('/') {
        Some((scope, short))
            if scope.len() > 1 && scope.starts_with('@') && !short.contains('/') =>
        {
            (Some(scope), short)
        }
        None => (None, name),
        Some(_) => {
            found.note(format!(
                "could not read: {name:?} is not an npm package name"
            ));
            return;
        }
    };
    let license = match map.get("license") {
        Some(Value::String(l)) if !l.is_empty() => Some(l.clone()),
        // The deprecated object form: {"type": "MIT", "url": ...}.
        Some(Value::Object(o)) => o.get("type").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let mut fields = Fields::new(Ecosystem::Npm, short, version);
    fields.namespace = namespace;
    fields.full_name = Some(name);
    found.package(fields, license);
}

#[cfg(test)]
mod tests {
    use super::super::Origin;
    use super::*;
    use crate::contents::Package;

    fn parse(text: &str) -> (Vec<Package>, Vec<String>) {
        let mut found = Found::new(Origin {
            file: "app/node_modules/x/package.json",
            layer: 1,
        });
        read(text.as_bytes(), &mut found);
        (
            found.packages,
            found.notes.into_iter().map(|n| n.message).collect(),
        )
    }

    #[test]
    fn paths() {
        for yes in [
            "app/node_modules/express/package.json",
            "node_modules/@babel/core/package.json",
            "usr/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json",
            "a/node_modules/b/node_modules/c/package.json",
        ] {
            assert!(is_package_json(yes), "{yes}");
        }
        for no in [
            "app/package.json",
            "app/node_modules/express/test/fixtures/package.json",
            "app/node_modules/.bin/package.json",
            "app/node_modules/@scope/package.json",
            "app/node_modules/@/x/package.json",
            "app/node_modules/package.json",
        ] {
            assert!(!is_package_json(no), "{no}");
        }
    }

    #[test]
    fn packages() {
        let (pkgs, notes) = parse(
            r#"{"name": "@babel/core", "version": "7.24.0", "license": "MIT", "dependencies": {}}"#,
        );
        assert!(notes.is_empty());
        assert_eq!(pkgs[0].name, "@babel/core");
        assert_eq!(pkgs[0].purl, "pkg:npm/%40babel/core@7.24.0");
        assert_eq!(pkgs[0].license.as_deref(), Some("MIT"));
        let (pkgs, _) =
            parse(r#"{"name": "JSONStream", "version": "1.3.5", "license": {"type": "MIT"}}"#);
        assert_eq!(pkgs[0].purl, "pkg:npm/jsonstream@1.3.5");
        assert_eq!(pkgs[0].license.as_deref(), Some("MIT"));
    }

    #[test]
    fn placeholders_are_not_packages_and_malformed_ones_are_noted() {
        assert_eq!(parse(r#"{"private": true}"#), (vec![], vec![]));
        assert_eq!(parse(r#"{"name": "x"}"#), (vec![], vec![]));
        for bad in [
            "{",
            "[]",
            r#"{"name": "x", "version": 1}"#,
            r#"{"name": "", "version": "1"}"#,
            r#"{"name": "a/b/c", "version": "1"}"#,
            "\u{0}",
        ] {
            let (pkgs, notes) = parse(bad);
            assert!(pkgs.is_empty(), "{bad}");
            assert_eq!(notes.len(), 1, "{bad}");
            assert!(notes[0].starts_with("could not read"), "{bad}: {notes:?}");
        }
        let deep = "[".repeat(100_000);
        let (_, notes) = parse(&deep);
        assert_eq!(notes.len(), 1);
    }
}
