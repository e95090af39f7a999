//! Registry authentication: HTTP Basic, and the bearer-token flow that
//! Docker Hub, Harbor, GitLab and `registry:2` with a token server use.
//!
//! A registry says what it wants in `WWW-Authenticate` on a 401. For Basic
//! the user and password go with every request to the registry; for Bearer
//! they go once to the token service named in the challenge (over HTTPS
//! only), and the token it returns goes with the requests to the registry
//! for the repositories it was asked for. Which requests are "to the
//! registry" is the client's decision, by origin.

use std::collections::HashMap;

use ureq::Agent;

use super::origin::Origin;
use super::{RegistryError, said};

/// The user and password given with `--user` and `--password-stdin` (or
/// `AIRLOCK_REGISTRY_PASSWORD`).
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.user)
    }
}

impl Credentials {
    fn basic(&self) -> String {
        format!(
            "Basic {}",
            base64(format!("{}:{}", self.user, self.password).as_bytes())
        )
    }
}

/// What a registry asked for in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

impl Challenge {
    /// Parses a `WWW-Authenticate` value; `None` for schemes we do not speak.
    pub fn parse(header: &str) -> Option<Self> {
        let (scheme, params) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => Some(Self::Basic),
            "bearer" => {
                let params = parse_params(params);
                Some(Self::Bearer {
                    realm: params.get("realm")?.clone(),
                    service: params.get("service").cloned(),
                })
            }
            _ => None,
        }
    }
}

/// What a Bearer challenge says went wrong (RFC 6750 §3: `error`, and
/// `error_description` when given): the registry's only words in the
/// answer to a HEAD, which has no body.
pub fn challenge_error(www_authenticate: &str) -> Option<String> {
    let (_, params) = www_authenticate.trim().split_once(' ')?;
    let params = parse_params(params);
    let error = params.get("error")?;
    Some(match params.get("error_description") {
        Some(description) => format!("{error}: {description}"),
        None => error.clone(),
    })
}

/// `key="value", key=value` pairs; quoted values may hold commas.
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            after.split_once(',').unwrap_or((after, ""))
        };
        out.insert(key, value.trim().to_owned());
        rest = after.trim_start_matches([',', ' ']);
    }
    out
}

/// The state of authentication with one registry.
pub struct Auth {
    registry: String,
    credentials: Option<Credentials>,
    challenge: Option<Challenge>,
    /// Bearer tokens by the scopes they were asked for.
    tokens: HashMap<String, String>,
}

impl Auth {
    pub fn new(registry: &str, credentials: Option<Credentials>) -> Self {
        Self {
            registry: registry.to_owned(),
            credentials,
            challenge: None,
            tokens: HashMap::new(),
        }
    }

    /// The `Authorization` value for a request needing `scopes`, when the
    /// registry has asked for one and we have it already.
    pub fn header(&self, scopes: &[String]) -> Option<String> {
        match self.challenge.as_ref()? {
            Challenge::Basic => self.credentials.as_ref().map(Credentials::basic),
            // A token asked for more (a mount's source too) serves as well,
            // so a streamed upload is not first sent without one.
            Challenge::Bearer { .. } => self
                .tokens
                .iter()
                .find(|(granted, _)| scopes.iter().all(|s| granted.split(' ').any(|g| g == s)))
                .map(|(_, t)| format!("Bearer {t}")),
        }
    }

    /// Handles a 401: remembers what the registry wants and, for Bearer,
    /// gets a token for `scopes`. `Ok(false)` when retrying cannot help.
    pub fn answer(
        &mut self,
        agent: &Agent,
        www_authenticate: Option<&str>,
        scopes: &[String],
        tried: Option<&str>,
    ) -> Result<bool, RegistryError> {
        let challenge = www_authenticate.and_then(Challenge::parse);
        let Some(challenge) = challenge else {
            return Ok(false);
        };
        // The password goes to the realm in a Basic header, and the token
        // that comes back is a credential too: neither crosses the network
        // in clear text, not even on loopback (a proxy or another user's
        // listener may sit there).
        if let Challenge::Bearer { realm, .. } = &challenge
            && Origin::of_https(realm).is_none()
        {
            return Err(RegistryError::InsecureRealm {
                registry: self.registry.clone(),
                realm: realm.clone(),
            });
        }
        let Some(credentials) = self.credentials.clone() else {
            // Anonymous token services exist (Docker Hub pulls); pushing
            // anonymously is tried once and then denied.
            if let Challenge::Bearer { realm, service } = &challenge
                && tried.is_none()
            {
                let token = self.token(agent, realm, service.as_deref(), scopes, None)?;
                self.tokens.insert(scopes.join(" "), token);
                self.challenge = Some(challenge);
                return Ok(true);
            }
            return Err(RegistryError::NeedsCredentials {
                registry: self.registry.clone(),
            });
        };
        let retry = match &challenge {
            Challenge::Basic => tried.is_none(),
            Challenge::Bearer { realm, service } => {
                let token =
                    self.token(agent, realm, service.as_deref(), scopes, Some(&credentials))?;
                let header = format!("Bearer {token}");
                self.tokens.insert(scopes.join(" "), token);
                // A token we just got and were refused with is final.
                tried != Some(header.as_str())
            }
        };
        self.challenge = Some(challenge);
        Ok(retry)
    }

    /// The error for a registry that refused us after we authenticated:
    /// a user who gave no credentials is told to give some.
    pub fn refused(&self, said: String) -> RegistryError {
        let registry = self.registry.clone();
        match self.credentials {
            Some(_) => RegistryError::Denied { registry, said },
            None => RegistryError::NeedsCredentials { registry },
        }
    }

    fn token(
        &self,
        agent: &Agent,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        credentials: Option<&Credentials>,
    ) -> Result<String, RegistryError> {
        let mut query: Vec<String> = Vec::new();
        if let Some(service) = service {
            query.push(format!("service={}", percent_encode(service)));
        }
        query.extend(
            scopes
                .iter()
                .map(|s| format!("scope={}", percent_encode(s))),
        );
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{}", query.join("&"));
        // The Basic header goes to the realm's URL only: the agent drops it
        // on a redirect (see `Client::new`).
        let mut request = agent.get(&url);
        if let Some(c) = credentials {
            request = request.header("Authorization", c.basic());
        }
        let mut response = request
            .call()
            .map_err(|e| RegistryError::from_transport(realm, e))?;
        match response.status().as_u16() {
            200 => {}
            401 | 403 => return Err(self.refused(said(&mut response))),
            status => {
                return Err(RegistryError::Status {
                    registry: self.registry.clone(),
                    what: format!("GET token from {realm}"),
                    status,
                    body: said(&mut response),
                });
            }
        }
        let body: serde_json::Value = response
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        body.get("token")
            .or_else(|| body.get("access_token"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| RegistryError::Status {
                registry: self.registry.clone(),
                what: format!("GET token from {realm}"),
                status: 200,
                body: "the answer has no token".into(),
            })
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Standard base64 with padding, for the Basic scheme.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenges_are_parsed_with_quoted_commas() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
            })
        );
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Negotiate"), None);
        assert_eq!(Challenge::parse("Bearer service=x"), None);
    }

    #[test]
    fn a_challenge_names_its_error() {
        let refused =
            r#"Bearer realm="https://a/t",scope="repository:a:push",error="insufficient_scope""#;
        assert_eq!(
            challenge_error(refused).as_deref(),
            Some("insufficient_scope")
        );
        let described = r#"Bearer realm="https://a/t",error="invalid_token",error_description="expired, try again""#;
        assert_eq!(
            challenge_error(described).as_deref(),
            Some("invalid_token: expired, try again")
        );
        assert_eq!(challenge_error(r#"Basic realm="x""#), None);
    }

    fn with_password() -> Auth {
        Auth::new(
            "reg.example",
            Some(Credentials {
                user: "user".into(),
                password: "pass".into(),
            }),
        )
    }

    /// The password would go to the realm in a Basic header; over plain
    /// HTTP, loopback included, nothing is sent at all.
    #[test]
    fn plain_http_realms_are_refused_before_any_request() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let realm = format!("http://127.0.0.1:{port}/token");
        let challenge = format!(r#"Bearer realm="{realm}",service="reg.example""#);
        let scopes = vec!["repository:team/app:pull,push".to_owned()];
        let agent = Agent::new_with_defaults();
        for mut auth in [with_password(), Auth::new("reg.example", None)] {
            match auth.answer(&agent, Some(&challenge), &scopes, None) {
                Err(RegistryError::InsecureRealm { registry, realm: r }) => {
                    assert_eq!(
                        (registry.as_str(), r.as_str()),
                        ("reg.example", realm.as_str())
                    );
                }
                other => panic!("{other:?}"),
            }
            assert_eq!(auth.header(&scopes), None);
        }
        assert!(
            listener
                .accept()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::WouldBlock),
            "the plain-HTTP realm was connected to"
        );
    }

    #[test]
    fn a_token_serves_requests_needing_no_more_than_its_scopes() {
        let mut auth = with_password();
        let scopes = vec![
            "repository:team/app:pull,push".to_owned(),
            "repository:base:pull".to_owned(),
        ];
        auth.challenge = Some(Challenge::Bearer {
            realm: "https://auth.example/token".into(),
            service: None,
        });
        auth.tokens.insert(scopes.join(" "), "t0k3n".into());
        assert_eq!(auth.header(&scopes).as_deref(), Some("Bearer t0k3n"));
        // A request needing fewer scopes goes with the same token.
        assert_eq!(auth.header(&scopes[..1]).as_deref(), Some("Bearer t0k3n"));
        assert_eq!(auth.header(&["repository:other:pull".to_owned()]), None);
    }

    #[test]
    fn base64_matches_rfc_4648() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("user:pass", "dXNlcjpwYXNz"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn scopes_are_percent_encoded() {
        assert_eq!(
            percent_encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}
