//! Reading JSON documents the way the Go importers will.
//!
//! docker, containerd, skopeo and podman decode with Go's `encoding/json`,
//! which matches object keys without regard to case and lets the last of
//! several matches win. serde matches exactly and ignores the rest. A
//! document with `"Config"` and `"config"`, or with `"layers"` where the
//! schema says `"Layers"`, would therefore mean one thing to Airlock and
//! another to the importer. Such documents are refused here, before any
//! typed parsing, so the typed view is the one every importer shares.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Keys of Docker's `manifest.json` entries.
pub(crate) const DOCKER_MANIFEST_KEYS: &[&str] = &["Config", "RepoTags", "Layers", "LayerSources"];

/// Keys of the OCI documents (index, manifest, descriptor, platform, config).
pub(crate) const OCI_KEYS: &[&str] = &[
    "schemaVersion",
    "mediaType",
    "artifactType",
    "config",
    "layers",
    "manifests",
    "subject",
    "annotations",
    "digest",
    "size",
    "urls",
    "platform",
    "architecture",
    "os",
    "os.version",
    "os.features",
    "variant",
    "features",
    "rootfs",
    "diff_ids",
    "type",
    "history",
    "created",
    "author",
    "imageLayoutVersion",
];

/// Objects whose keys are data, not field names (Go decodes them into maps,
/// which are case-sensitive).
const MAP_VALUED: &[&str] = &[
    "annotations",
    "Labels",
    "LayerSources",
    "ExposedPorts",
    "Volumes",
];

/// Parses `bytes` into `T`, refusing keys a Go reader would match differently.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8], schema: &[&str]) -> Result<T, String> {
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    check_keys(&value, schema, "")?;
    fill_omitted(&mut value);
    serde_json::from_value(value).map_err(|e| e.to_string())
}

fn check_keys(value: &Value, schema: &[&str], at: &str) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            check_object(map, schema, at)?;
            for (key, child) in map {
                if !MAP_VALUED.contains(&key.as_str()) {
                    check_keys(child, schema, &format!("{at}/{key}"))?;
                }
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_keys(v, schema, &format!("{at}/{i}"))),
        _ => Ok(()),
    }
}

fn check_object(map: &Map<String, Value>, schema: &[&str], at: &str) -> Result<(), String> {
    let mut seen: Vec<(String, &str)> = Vec::with_capacity(map.len());
    for key in map.keys() {
        let folded = key.to_lowercase();
        if let Some((_, other)) = seen.iter().find(|(f, _)| *f == folded) {
            return Err(format!(
                "keys `{other}` and `{key}` at `{at}/` differ only in case; Go readers \
                 (docker, containerd) take whichever comes last"
            ));
        }
        if let Some(canonical) = schema
            .iter()
            .find(|c| c.eq_ignore_ascii_case(key) && **c != key)
        {
            return Err(format!(
                "key `{key}` at `{at}/` would be read as `{canonical}` by Go readers \
                 (docker, containerd) but not by others"
            ));
        }
        seen.push((folded, key));
    }
    Ok(())
}

/// Fields Go writers omit when empty but oci-spec requires: a `FROM scratch`
/// image with no layers has no `diff_ids`.
fn fill_omitted(value: &mut Value) {
    if let Some(rootfs) = value.get_mut("rootfs").and_then(Value::as_object_mut) {
        let missing = rootfs.get("diff_ids").is_none_or(Value::is_null);
        if missing {
            rootfs.insert("diff_ids".to_owned(), Value::Array(Vec::new()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Entry {
        #[serde(rename = "Config")]
        config: String,
    }

    #[test]
    fn case_games_are_refused() {
        let ok: Vec<Entry> =
            parse(br#"[{"Config":"a.json","Other":1}]"#, DOCKER_MANIFEST_KEYS).expect("plain");
        assert_eq!(ok[0].config, "a.json");
        let both = parse::<Vec<Entry>>(
            br#"[{"Config":"a.json","config":"evil.json"}]"#,
            DOCKER_MANIFEST_KEYS,
        );
        assert!(both.expect_err("collision").contains("differ only in case"));
        let lower = parse::<Vec<Entry>>(br#"[{"Config":"a","layers":[]}]"#, DOCKER_MANIFEST_KEYS);
        assert!(lower.expect_err("case variant").contains("`Layers`"));
        let annotations: Value = parse(br#"{"annotations":{"Foo":"1","foo":"2"}}"#, OCI_KEYS)
            .expect("map keys are data");
        assert_eq!(annotations["annotations"]["foo"], "2");
    }

    #[test]
    fn zero_layer_configs_parse() {
        let config: oci_spec::image::ImageConfiguration = parse(
            br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}"#,
            OCI_KEYS,
        )
        .expect("omitted diff_ids");
        assert!(config.rootfs().diff_ids().is_empty());
    }
}
