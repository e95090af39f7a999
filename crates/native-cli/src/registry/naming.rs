//! Where each image of a bundle lands in the registry.
//!
//! A bundle names its images with full references (`docker.io/library/
//! alpine:3.19`, `localhost/airlock/app:1.0`). Pushed to `REGISTRY[/prefix]`,
//! an image keeps its path and tag but loses its original host, which the
//! internal registry replaces: `localhost/airlock/app:1.0` becomes
//! `REGISTRY/prefix/airlock/app:1.0`. For Docker Hub's official images the
//! implicit `library/` goes too, so `alpine:3.19` is found as
//! `REGISTRY/alpine:3.19`, the way people wrote it when they pulled it.
//! `--tag-map OLD=NEW` renames single images on the way.

use std::fmt;

use super::RegistryError;

/// `REGISTRY[/prefix]` as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// `host[:port]`.
    pub host: String,
    /// Repository path prefix without slashes at either end; may be empty.
    pub prefix: String,
}

impl Destination {
    /// Parses `host[:port][/prefix]`; an `https://` in front is allowed,
    /// plain `http://` is not (blobs and credentials would travel in clear).
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        let bad = |why: &str| RegistryError::Usage(format!("`{s}` is not a registry: {why}"));
        if s.starts_with("http://") {
            return Err(bad("airlock pushes over HTTPS only"));
        }
        let rest = s
            .strip_prefix("https://")
            .unwrap_or(s)
            .trim_end_matches('/');
        let (host, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty() || host.contains(['@', '?', '#', ' ']) {
            return Err(bad("expected HOST[:PORT][/PREFIX]"));
        }
        if !prefix.is_empty() && !is_repository(prefix) {
            return Err(bad(
                "the prefix must be lowercase path components ([a-z0-9] joined by . _ - /)",
            ));
        }
        Ok(Self {
            host: host.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// `path` under the prefix.
    pub fn under_prefix(&self, path: &str) -> String {
        if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.prefix)
        }
    }
}

/// One place an image is pushed to: a repository of the destination and a tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PushTarget {
    pub repository: String,
    pub tag: String,
}

impl PushTarget {
    /// The full reference, `host/repository:tag`.
    pub fn reference(&self, destination: &Destination) -> String {
        format!("{}/{}:{}", destination.host, self.repository, self.tag)
    }
}

impl fmt::Display for PushTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.repository, self.tag)
    }
}

/// `--tag-map OLD=NEW` entries.
#[derive(Debug, Clone, Default)]
pub struct TagMap {
    entries: Vec<(String, String)>,
}

impl TagMap {
    /// Parses the `OLD=NEW` pairs. OLD is a bundle's reference in full
    /// (`localhost/airlock/app:1.0`) or as it would be pushed without a
    /// prefix (`airlock/app:1.0`, `alpine:3.19`); NEW is `repo[:tag]` under
    /// the destination (the tag is kept when NEW has none).
    pub fn parse(pairs: &[String]) -> Result<Self, RegistryError> {
        let entries = pairs
            .iter()
            .map(|pair| {
                let bad = |why: &str| {
                    RegistryError::Usage(format!("--tag-map `{pair}`: {why} (use OLD=NEW)"))
                };
                let (old, new) = pair.split_once('=').ok_or_else(|| bad("no `=`"))?;
                if old.is_empty() || split_tag(new).is_none() {
                    return Err(bad(
                        "NEW must be a lowercase repository with an optional :tag",
                    ));
                }
                Ok((old.to_owned(), new.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { entries })
    }

    /// The entries that `names` did not use, so that a typo fails loudly
    /// instead of pushing under the unmapped name.
    pub fn unused<'a>(&'a self, names: &[&str]) -> Vec<&'a str> {
        self.entries
            .iter()
            .filter(|(old, _)| !names.iter().any(|n| matches(old, n)))
            .map(|(old, _)| old.as_str())
            .collect()
    }

    fn lookup(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(old, _)| matches(old, name))
            .map(|(_, new)| new.as_str())
    }
}

/// Where the image named `name` (a normalized reference) is pushed.
pub fn target_for(
    name: &str,
    destination: &Destination,
    map: &TagMap,
) -> Result<PushTarget, RegistryError> {
    let (path, tag) = short_form(name)
        .and_then(|short| split_tag(short).map(|(p, t)| (p, t.unwrap_or("latest"))))
        .ok_or_else(|| RegistryError::Usage(format!("`{name}` is not a tagged reference")))?;
    let (path, tag) = match map.lookup(name) {
        // `parse` checked NEW already.
        Some(new) => split_tag(new).map_or((path, tag), |(p, t)| (p, t.unwrap_or(tag))),
        None => (path, tag),
    };
    Ok(PushTarget {
        repository: destination.under_prefix(path),
        tag: tag.to_owned(),
    })
}

/// `name` without its registry host (and `library/` for Docker Hub).
fn short_form(name: &str) -> Option<&str> {
    let (host, rest) = name.split_once('/')?;
    if host == "docker.io" {
        Some(rest.strip_prefix("library/").unwrap_or(rest))
    } else {
        Some(rest)
    }
}

fn matches(old: &str, name: &str) -> bool {
    old == name || short_form(name) == Some(old)
}

/// `repo[:tag]` split and checked; `None` when either part is not valid.
fn split_tag(reference: &str) -> Option<(&str, Option<&str>)> {
    let (path, tag) = match reference.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, Some(tag)),
        _ => (reference, None),
    };
    let tag_ok = tag.is_none_or(|t| {
        t.len() <= 128
            && !t.starts_with(['.', '-'])
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    });
    (tag_ok && !tag.is_some_and(str::is_empty) && is_repository(path)).then_some((path, tag))
}

/// The distribution spec's repository grammar, loosely: lowercase
/// alphanumeric components joined by `.`, `_`, `-` and separated by `/`.
pub fn is_repository(path: &str) -> bool {
    path.split('/').all(|component| {
        let bytes = component.as_bytes();
        matches!((bytes.first(), bytes.last()), (Some(a), Some(z)) if a.is_ascii_alphanumeric() && z.is_ascii_alphanumeric())
            && bytes.iter().all(|&b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dest(s: &str) -> Destination {
        Destination::parse(s).expect("destination")
    }

    fn push(name: &str, to: &str, map: &[&str]) -> String {
        let map = TagMap::parse(&map.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            .expect("tag map");
        let d = dest(to);
        target_for(name, &d, &map).expect("target").reference(&d)
    }

    #[test]
    fn the_original_host_is_replaced_and_docker_hub_loses_library() {
        assert_eq!(
            push("docker.io/library/alpine:3.19", "10.10.10.5:5000", &[]),
            "10.10.10.5:5000/alpine:3.19"
        );
        assert_eq!(
            push("docker.io/bitnami/redis:7", "reg.example:5000/mirror", &[]),
            "reg.example:5000/mirror/bitnami/redis:7"
        );
        assert_eq!(
            push("localhost/airlock/app:1.0", "https://reg/team/x/", &[]),
            "reg/team/x/airlock/app:1.0"
        );
    }

    #[test]
    fn tag_map_accepts_full_and_short_forms_and_keeps_the_tag_when_none_is_given() {
        let name = "localhost/airlock/app:1.0";
        assert_eq!(
            push(name, "r", &["localhost/airlock/app:1.0=prod/app:2"]),
            "r/prod/app:2"
        );
        assert_eq!(push(name, "r/p", &["airlock/app:1.0=app"]), "r/p/app:1.0");
        assert_eq!(
            push(
                "docker.io/library/alpine:3.19",
                "r",
                &["alpine:3.19=base/alpine"]
            ),
            "r/base/alpine:3.19"
        );
        assert_eq!(push(name, "r", &["other:1=x"]), "r/airlock/app:1.0");
    }

    #[test]
    fn unused_tag_map_entries_are_reported() {
        let map = TagMap::parse(&["app:1=x".into(), "airlock/app:1.0=y".into()]).expect("map");
        assert_eq!(map.unused(&["localhost/airlock/app:1.0"]), vec!["app:1"]);
    }

    #[test]
    fn bad_input_is_refused() {
        for s in ["http://r:5000", "", "/x", "r/UPPER", "r/a//b"] {
            assert!(Destination::parse(s).is_err(), "{s}");
        }
        for s in ["noequals", "=x", "a=B", "a=x:", "a=x:-bad", "a=/x"] {
            assert!(TagMap::parse(&[s.to_owned()]).is_err(), "{s}");
        }
    }
}
