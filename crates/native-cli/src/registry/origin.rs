//! Where a URL points, so that credentials go only where they belong.
//!
//! A registry names other places in its answers: the token service of a
//! Bearer challenge, and an upload session's `Location`, which may be
//! storage on another host. The user's password and the tokens it buys are
//! for the registry (and the password, once per token, for the token
//! service); a URL whose origin differs gets no `Authorization` at all.

use ureq::http::Uri;

/// The host and port of an `https://` URL. The scheme is not stored: only
/// HTTPS URLs have an origin here, so a plain-HTTP URL never equals one.
#[derive(Debug, Clone)]
pub struct Origin {
    /// The authority as written (`reg.example`, `127.0.0.1:5000`), so that
    /// URLs built on it say what the user said.
    authority: String,
    /// Lowercased: host names compare without case (RFC 3986 §3.2.2).
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an absolute `https://` URL; `None` for anything else
    /// (plain HTTP, a relative reference, an unparseable string).
    pub fn of_https(url: &str) -> Option<Self> {
        let uri: Uri = url.parse().ok()?;
        if uri.scheme_str() != Some("https") {
            return None;
        }
        let authority = uri.authority()?;
        if authority.host().is_empty() {
            return None;
        }
        Some(Self {
            // A user:password@ part would be sent on by no one; it is not
            // part of where the URL points.
            authority: match authority.port() {
                Some(port) => format!("{}:{port}", authority.host()),
                None => authority.host().to_owned(),
            },
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(443),
        })
    }

    /// `https://` and the authority as written, with no path.
    pub fn base(&self) -> String {
        format!("https://{}", self.authority)
    }
}

/// Same scheme (HTTPS), host and port; `reg.example` and `reg.example:443`
/// are one origin.
impl PartialEq for Origin {
    fn eq(&self, other: &Self) -> bool {
        self.host == other.host && self.port == other.port
    }
}

impl Eq for Origin {}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(url: &str) -> Origin {
        Origin::of_https(url).unwrap_or_else(|| panic!("{url} has an origin"))
    }

    #[test]
    fn origins_compare_host_and_port_and_need_https() {
        let registry = origin("https://127.0.0.1:5000/v2/");
        assert_eq!(registry.base(), "https://127.0.0.1:5000");
        assert_eq!(
            registry,
            origin("https://127.0.0.1:5000/v2/a/blobs/uploads/x?y=z")
        );
        assert_ne!(registry, origin("https://127.0.0.1:5001/v2/"));
        assert_ne!(registry, origin("https://127.0.0.2:5000/v2/"));
        assert_ne!(registry, origin("https://localhost:5000/v2/"));
        // The user part does not move the host: this goes to evil.example.
        assert_ne!(registry, origin("https://127.0.0.1:5000@evil.example/"));
        assert_eq!(
            origin("https://Reg.Example/x"),
            origin("https://reg.example:443/y")
        );
        assert_eq!(
            origin("https://Reg.Example/x").base(),
            "https://Reg.Example"
        );
        for not_https in [
            "http://127.0.0.1:5000/v2/",
            "/v2/a/blobs/uploads/x",
            "//127.0.0.1:5000/v2/",
            "127.0.0.1:5000",
            "ftp://127.0.0.1/",
            "https://",
            "not a url",
        ] {
            assert!(Origin::of_https(not_https).is_none(), "{not_https}");
        }
    }
}
