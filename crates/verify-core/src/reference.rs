//! Image names in the fully qualified form importers store them in, so that
//! `app:1.0` in `manifest.json` and `docker.io/library/app:1.0` in
//! `index.json` compare equal, as docker and containerd treat them.

/// Normalizes a reference like Docker's `ParseNormalizedNamed` + default tag:
/// adds `docker.io/`, `library/` and `:latest` where they are implied.
/// Returns `None` for strings that are not references (empty, spaces, …).
pub fn normalize(reference: &str) -> Option<String> {
    let reference = reference.trim();
    if reference.is_empty()
        || reference
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return None;
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
    if name.is_empty() || tag.is_some_and(str::is_empty) {
        return None;
    }
    let (domain, path) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest.to_owned())
        }
        _ => ("docker.io", name.to_owned()),
    };
    let domain = if domain == "index.docker.io" {
        "docker.io"
    } else {
        domain
    };
    let path = if domain == "docker.io" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
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
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::normalize;

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
        assert_eq!(normalize(""), None);
        assert_eq!(normalize("a b"), None);
        assert_eq!(normalize("app:"), None);
    }
}
