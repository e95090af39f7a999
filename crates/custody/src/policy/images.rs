//! `allowed_images`: glob patterns on an image's full, normalized
//! reference.
//!
//! `*` and `?` stay within one path component and `**` crosses them, so
//! `localhost/airlock/*` allows `localhost/airlock/app:1.0` but not
//! `localhost/airlock/team/app:1.0`. A pattern without a tag or digest
//! allows every tag of the repository it names: it is matched against the
//! reference and against the reference's repository.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// Why a pattern was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// Not a glob (an unclosed `[` or `{`, …).
    #[error("`{pattern}` is not a glob: {detail}")]
    Glob {
        /// The pattern as written.
        pattern: String,
        /// The glob parser's message.
        detail: String,
    },
    /// A pattern that could never match: references are normalized, so they
    /// always start with a registry host.
    #[error(
        "`{pattern}` never matches: references are normalized with their registry \
         (write `docker.io/library/postgres`, not `postgres`)"
    )]
    NoRegistry {
        /// The pattern as written.
        pattern: String,
    },
}

/// A set of image patterns.
#[derive(Debug, Clone)]
pub struct ImagePatterns {
    patterns: Vec<String>,
    set: GlobSet,
}

impl ImagePatterns {
    /// Parses `patterns`; each must be a glob that can match a normalized
    /// reference.
    pub fn new(patterns: &[String]) -> Result<Self, PatternError> {
        let mut set = GlobSetBuilder::new();
        for pattern in patterns {
            if !names_a_registry(pattern) {
                return Err(PatternError::NoRegistry {
                    pattern: pattern.clone(),
                });
            }
            set.add(glob(pattern)?);
        }
        let set = set.build().map_err(|e| PatternError::Glob {
            pattern: patterns.join(", "),
            detail: e.to_string(),
        })?;
        Ok(Self {
            patterns: patterns.to_vec(),
            set,
        })
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `reference` (`docker.io/library/app:1.0`, or `sha256:HEX`
    /// for an image no name points at) is allowed.
    pub fn allows(&self, reference: &str) -> bool {
        self.set.is_match(reference)
            || repository(reference).is_some_and(|repo| self.set.is_match(repo))
    }
}

/// One pattern, with the same meaning on every platform (globset's
/// defaults for `\` differ on Windows).
fn glob(pattern: &str) -> Result<Glob, PatternError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| PatternError::Glob {
            pattern: pattern.to_owned(),
            detail: e.kind().to_string(),
        })
}

/// `reference` without its tag and digest; `None` for a nameless image's
/// digest, or a reference that has neither.
fn repository(reference: &str) -> Option<&str> {
    if reference.starts_with("sha256:") {
        return None;
    }
    let name = reference
        .split_once('@')
        .map_or(reference, |(name, _)| name);
    let tagless = match name.rfind(':') {
        Some(colon) if !name[colon..].contains('/') => &name[..colon],
        _ => name,
    };
    (tagless != reference).then_some(tagless)
}

/// Whether a pattern could match a normalized reference: it starts with a
/// glob, a registry host (`docker.io`, `localhost`, `host:5000`), or is
/// about nameless images (`sha256:…`).
fn names_a_registry(pattern: &str) -> bool {
    let first = pattern.split('/').next().unwrap_or_default();
    let has_glob = |s: &str| s.contains(['*', '?', '[', '{', '\\']);
    if pattern.starts_with("sha256:") || has_glob(first) {
        return true;
    }
    pattern.contains('/') && (first.contains(['.', ':']) || first == "localhost")
}

#[cfg(test)]
mod tests {
    use super::{ImagePatterns, PatternError, repository};

    fn patterns(p: &[&str]) -> ImagePatterns {
        let owned: Vec<String> = p.iter().map(|s| (*s).to_owned()).collect();
        ImagePatterns::new(&owned).expect("valid patterns")
    }

    #[test]
    fn a_star_stays_within_one_component() {
        let set = patterns(&["localhost/airlock/*"]);
        assert!(set.allows("localhost/airlock/app:1.0"));
        assert!(set.allows("localhost/airlock/app@sha256:00"));
        assert!(!set.allows("localhost/airlock/team/app:1.0"));
        assert!(!set.allows("localhost/other/app:1.0"));
        assert!(!set.allows("evil.example/localhost/airlock/app:1.0"));
        let deep = patterns(&["localhost/airlock/**"]);
        assert!(deep.allows("localhost/airlock/team/app:1.0"));
    }

    #[test]
    fn a_repository_allows_its_tags_and_a_tag_only_itself() {
        let set = patterns(&["docker.io/library/postgres", "docker.io/library/redis:7"]);
        assert!(set.allows("docker.io/library/postgres:16"));
        assert!(set.allows("docker.io/library/postgres@sha256:ab"));
        assert!(!set.allows("docker.io/library/postgresql:16"));
        assert!(set.allows("docker.io/library/redis:7"));
        assert!(!set.allows("docker.io/library/redis:8"));
        // A registry port is not a tag.
        let port = patterns(&["registry.local:5000/app"]);
        assert!(port.allows("registry.local:5000/app:1"));
        assert!(!port.allows("registry.local:5000/other:1"));
    }

    #[test]
    fn nameless_images_match_only_digest_patterns() {
        let hex = "sha256:".to_owned() + &"a".repeat(64);
        assert!(!patterns(&["docker.io/*/*"]).allows(&hex));
        assert!(patterns(&["sha256:*"]).allows(&hex));
        assert_eq!(repository(&hex), None);
    }

    #[test]
    fn bad_and_hopeless_patterns_are_refused() {
        let bad = ImagePatterns::new(&["localhost/[abc".to_owned()]).expect_err("unclosed class");
        assert!(matches!(bad, PatternError::Glob { .. }), "{bad}");
        assert!(bad.to_string().contains("localhost/[abc"), "{bad}");
        for hopeless in ["postgres", "library/postgres"] {
            let e = ImagePatterns::new(&[hopeless.to_owned()]).expect_err(hopeless);
            assert!(matches!(e, PatternError::NoRegistry { .. }), "{e}");
        }
        // Patterns that start with a glob may match anything.
        assert!(patterns(&["*/library/*"]).allows("docker.io/library/x:1"));
    }
}
