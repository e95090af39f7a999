//! Image names in the fully qualified form importers store them in, so that
//! `app:1.0` in `manifest.json` and `docker.io/library/app:1.0` in
//! `index.json` compare equal, as docker and containerd treat them.
//!
//! A name is accepted only if Docker's `reference.ParseNormalizedNamed`
//! (distribution's reference grammar) accepts it. Docker checks each name
//! only when it reaches it, after it has already tagged the images before
//! it; a bundle with one bad name among good ones would be half-imported.
//! Refusing the name here fails the bundle before anything is loaded.
//!
//! The grammar is a handful of character classes, written out below rather
//! than pulled in through a regex engine, which would add more to the
//! page's wasm than the whole of this module.

/// Longest repository name (domain and path) distribution accepts.
const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Longest tag distribution accepts.
const TAG_LENGTH_MAX: usize = 128;

/// Why a string is not an image reference Docker would accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReference {
    /// Empty, or holding white space or control characters.
    #[error("it is empty or holds white space or control characters")]
    Blank,
    /// The repository path has an upper-case letter.
    #[error("the repository name `{0}` must be lower-case")]
    Uppercase(String),
    /// A path component breaks `[a-z0-9]+((.|_|__|-+)[a-z0-9]+)*`.
    #[error("`{0}` is not a valid repository path component")]
    PathComponent(String),
    /// The registry host or port is malformed.
    #[error("`{0}` is not a valid registry host")]
    Domain(String),
    /// The tag breaks `[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}`.
    #[error("`{0}` is not a valid tag")]
    Tag(String),
    /// The digest is not `algorithm:hex` with at least 32 hex digits.
    #[error("`{0}` is not a valid digest")]
    Digest(String),
    /// Domain and path together exceed 255 characters.
    #[error("the name is longer than {NAME_TOTAL_LENGTH_MAX} characters")]
    TooLong,
    /// 64 hex digits alone read as an image ID, which Docker refuses as a name.
    #[error("64 hexadecimal digits are an image ID, not a name")]
    ImageId,
    /// A `RepoTags` entry without a tag, or with a digest: `docker load`
    /// refuses it ("invalid tag") after tagging the images before it.
    #[error("a RepoTags entry needs a tag (`name:tag`) and no digest")]
    NotTagged,
}

/// Like [`normalize`], for a docker-archive's `RepoTags`: Docker's loader
/// also requires each to name a tag, and no digest.
pub fn normalize_tagged(reference: &str) -> Result<String, InvalidReference> {
    let normalized = normalize(reference)?;
    let tail = reference.rsplit('/').next().unwrap_or(reference);
    if reference.contains('@') || !tail.contains(':') {
        return Err(InvalidReference::NotTagged);
    }
    Ok(normalized)
}

/// Normalizes a reference like Docker's `ParseNormalizedNamed` + default tag:
/// adds `docker.io/`, `library/` and `:latest` where they are implied, and
/// refuses what Docker refuses.
pub fn normalize(reference: &str) -> Result<String, InvalidReference> {
    if reference.is_empty()
        || reference
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(InvalidReference::Blank);
    }
    if reference.len() == 64 && reference.bytes().all(is_lower_hex) {
        return Err(InvalidReference::ImageId);
    }
    let (name_and_tag, digest) = match reference.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (reference, None),
    };
    // A tag follows the last ':' only if no '/' comes after it (a port is not a tag).
    let (name, tag) = match name_and_tag.rfind(':') {
        Some(i) if !name_and_tag[i..].contains('/') => {
            (&name_and_tag[..i], Some(&name_and_tag[i + 1..]))
        }
        _ => (name_and_tag, None),
    };
    let (domain, path) = split_domain(name);
    check_domain(domain)?;
    check_path(&path)?;
    if domain.len() + 1 + path.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(InvalidReference::TooLong);
    }
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    if let Some(digest) = digest {
        check_digest(digest)?;
    }
    let mut out = format!("{domain}/{path}");
    match (tag, digest) {
        (Some(t), _) => {
            out.push(':');
            out.push_str(t);
        }
        (None, None) => out.push_str(":latest"),
        (None, Some(_)) => {}
    }
    if let Some(d) = digest {
        out.push('@');
        out.push_str(d);
    }
    Ok(out)
}

/// Docker's `splitDockerDomain`: the first component is a registry host if
/// it has a `.` or `:`, is `localhost`, or has an upper-case letter (path
/// components cannot); otherwise the name is on Docker Hub.
fn split_domain(name: &str) -> (&str, String) {
    let (domain, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => ("docker.io", name),
    };
    let domain = if domain == "index.docker.io" {
        "docker.io"
    } else {
        domain
    };
    if domain == "docker.io" && !path.contains('/') {
        (domain, format!("library/{path}"))
    } else {
        (domain, path.to_owned())
    }
}

/// `host[:port]`, the host a dotted name or a bracketed IPv6 address.
fn check_domain(domain: &str) -> Result<(), InvalidReference> {
    let bad = || InvalidReference::Domain(domain.to_owned());
    let (host, port) = if let Some(v6) = domain.strip_prefix('[') {
        let (address, rest) = v6.split_once(']').ok_or_else(bad)?;
        if address.is_empty() || !address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(bad());
        }
        match rest {
            "" => (None, None),
            _ => (None, Some(rest.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host
        && !host.split('.').all(is_domain_component)
    {
        return Err(bad());
    }
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(bad());
    }
    Ok(())
}

/// `[a-zA-Z0-9]` alone, or with `[a-zA-Z0-9-]*` between two of them.
fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
        }
        _ => false,
    }
}

fn check_path(path: &str) -> Result<(), InvalidReference> {
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(InvalidReference::Uppercase(path.to_owned()));
    }
    match path.split('/').find(|c| !is_path_component(c)) {
        Some(c) => Err(InvalidReference::PathComponent(c.to_owned())),
        None => Ok(()),
    }
}

/// `[a-z0-9]+` runs joined by one separator each: `.`, `_`, `__` or `-+`.
fn is_path_component(c: &str) -> bool {
    let is_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = c.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && is_alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        let sep_start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[sep_start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|s| s == b'-')) {
            return false;
        }
    }
}

fn check_tag(tag: &str) -> Result<(), InvalidReference> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = tag.len() <= TAG_LENGTH_MAX
        && tag.bytes().next().is_some_and(is_word)
        && tag.bytes().all(|b| is_word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(InvalidReference::Tag(tag.to_owned()))
    }
}

/// `[A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`.
fn check_digest(digest: &str) -> Result<(), InvalidReference> {
    let bad = || InvalidReference::Digest(digest.to_owned());
    let (algorithm, hex) = digest.split_once(':').ok_or_else(bad)?;
    let algorithm_ok = algorithm.split(['-', '_', '+', '.']).all(|part| {
        part.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && part.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if algorithm_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(bad())
    }
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

#[cfg(test)]
mod tests {
    use super::{InvalidReference, normalize, normalize_tagged};

    #[test]
    fn docker_rules() {
        let n = |s| normalize(s).unwrap_or_default();
        assert_eq!(n("app:1.0"), "docker.io/library/app:1.0");
        assert_eq!(n("postgres"), "docker.io/library/postgres:latest");
        assert_eq!(n("me/app:2"), "docker.io/me/app:2");
        assert_eq!(
            n("localhost/airlock/micro:1.0"),
            "localhost/airlock/micro:1.0"
        );
        assert_eq!(
            n("10.10.10.5:5000/team/app"),
            "10.10.10.5:5000/team/app:latest"
        );
        assert_eq!(
            n("index.docker.io/library/app:1"),
            "docker.io/library/app:1"
        );
        assert_eq!(n("[::1]:5000/a/b:x"), "[::1]:5000/a/b:x");
        // An upper-case first component is a registry host, as Docker reads it.
        assert_eq!(n("Registry/app:1"), "Registry/app:1");
        assert_eq!(
            n("me/a.b__c/d-e---f/g_h:V1.0-x_y"),
            "docker.io/me/a.b__c/d-e---f/g_h:V1.0-x_y"
        );
        let digest = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            n(&format!("app@{digest}")),
            format!("docker.io/library/app@{digest}")
        );
    }

    /// Names `docker load` refuses, each for its own rule.
    #[test]
    fn names_docker_refuses() {
        let cases = [
            ("", InvalidReference::Blank),
            ("a b", InvalidReference::Blank),
            ("app\u{1b}[32m:1", InvalidReference::Blank),
            ("app:", InvalidReference::Tag(String::new())),
            (
                "demo/zz/Bad:1",
                InvalidReference::Uppercase("demo/zz/Bad".into()),
            ),
            ("demo/a$b:1", InvalidReference::PathComponent("a$b".into())),
            (
                "demo/`id`:1",
                InvalidReference::PathComponent("`id`".into()),
            ),
            (
                "app\u{202e}gpj:1",
                InvalidReference::PathComponent("app\u{202e}gpj".into()),
            ),
            ("demo/a..b", InvalidReference::PathComponent("a..b".into())),
            (
                "demo/a___b",
                InvalidReference::PathComponent("a___b".into()),
            ),
            ("demo/-a", InvalidReference::PathComponent("-a".into())),
            ("demo//a", InvalidReference::PathComponent(String::new())),
            ("app:.x", InvalidReference::Tag(".x".into())),
            ("app:a/b", InvalidReference::Domain("app:a".into())),
            (
                "-bad.example/app",
                InvalidReference::Domain("-bad.example".into()),
            ),
            (
                "reg.example:x/app",
                InvalidReference::Domain("reg.example:x".into()),
            ),
            (
                "app@sha256:abc",
                InvalidReference::Digest("sha256:abc".into()),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input), Err(expected), "{input:?}");
        }
        assert_eq!(normalize(&"a".repeat(300)), Err(InvalidReference::TooLong));
        assert_eq!(
            normalize(&format!("app:{}", "t".repeat(129))),
            Err(InvalidReference::Tag("t".repeat(129)))
        );
        assert_eq!(normalize(&"0a".repeat(32)), Err(InvalidReference::ImageId));
        let digest = format!("b@sha256:{}", "ab".repeat(32));
        for untagged in ["app", "reg.example:5000/app", digest.as_str()] {
            assert_eq!(
                normalize_tagged(untagged),
                Err(InvalidReference::NotTagged),
                "{untagged}"
            );
        }
        assert_eq!(
            normalize_tagged("reg.example:5000/app:1").as_deref(),
            Ok("reg.example:5000/app:1")
        );
    }
}
