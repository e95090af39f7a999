//! `airlock push` keeps the registry's credentials for the registry (issue
//! #13, item 3). Fake registries on loopback perform each attack and log
//! the `Authorization` headers that reached them: the registry on
//! 127.0.0.1, its storage and token service on 127.0.0.2, and a plain-HTTP
//! listener that must never be sent a password.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use support::fake_registry::{Reply, Seen, Server, tls_config};
use support::registry::{PASSWORD, USER, basic};

const SERVICE: &str = "fake-registry";

/// How the fake registry asks for credentials.
#[derive(Clone)]
enum Asks {
    Basic {
        expected: String,
    },
    /// A Bearer challenge naming `realm`; a token it issued (`tok-…`) is
    /// accepted.
    Bearer {
        realm: String,
    },
}

impl Asks {
    fn accepts(&self, authorization: Option<&str>) -> bool {
        match (self, authorization) {
            (Self::Basic { expected }, Some(given)) => given == expected,
            (Self::Bearer { .. }, Some(given)) => given.starts_with("Bearer tok-"),
            (_, None) => false,
        }
    }

    fn refuse(&self, message: &str) -> Reply {
        let challenge = match self {
            Self::Basic { .. } => r#"Basic realm="fake""#.to_owned(),
            // As distribution says it when a token does not cover the
            // request: for a HEAD, the only words there are.
            Self::Bearer { realm } => {
                format!(r#"Bearer realm="{realm}",service="{SERVICE}",error="insufficient_scope""#)
            }
        };
        Reply::status(401)
            .header("WWW-Authenticate", &challenge)
            .header("Content-Type", "application/json")
            .body(&format!(
                r#"{{"errors":[{{"code":"UNAUTHORIZED","message":"{message}"}}]}}"#
            ))
    }
}

fn path_of(seen: &Seen) -> &str {
    seen.path.split('?').next().unwrap_or_default()
}

/// A registry that keeps its blobs on `storage`: a blob's HEAD is
/// redirected there, and an upload's `Location` points there. A mount
/// (from the holding repository a streaming push uploaded to) is granted.
fn registry_with_storage_at(asks: Asks, storage: String) -> impl Fn(&Seen) -> Reply {
    let uploads = AtomicUsize::new(0);
    move |seen| {
        if !asks.accepts(seen.authorization.as_deref()) {
            return asks.refuse("authentication required");
        }
        let path = path_of(seen);
        match seen.method.as_str() {
            "GET" if path == "/v2/" => Reply::status(200),
            "HEAD" if path.contains("/blobs/") => {
                let digest = path.rsplit('/').next().unwrap_or_default();
                Reply::status(307).header("Location", &format!("{storage}/blobs/{digest}"))
            }
            "POST" if path.ends_with("/blobs/uploads/") && seen.path.contains("mount=") => {
                Reply::status(201)
            }
            "POST" if path.ends_with("/blobs/uploads/") => {
                let n = uploads.fetch_add(1, Ordering::SeqCst);
                Reply::status(202).header("Location", &format!("{storage}/upload/{n}"))
            }
            "PUT" if path.contains("/manifests/") => Reply::status(201),
            _ => Reply::status(404),
        }
    }
}

/// Storage for blobs: it has none, takes uploads, and names the next step
/// of a session relative to itself.
fn storage(seen: &Seen) -> Reply {
    match seen.method.as_str() {
        "HEAD" => Reply::status(404),
        "PATCH" => {
            Reply::status(202).header("Location", &format!("{}?state=patched", path_of(seen)))
        }
        "PUT" if seen.path.contains("state=patched") => Reply::status(201),
        _ => Reply::status(400),
    }
}

/// A token service that checks the password and hands out a new token
/// each time (`tok-1`, `tok-2`, …), up to `limit` of them.
fn token_service(limit: usize) -> impl Fn(&Seen) -> Reply {
    let expected = basic(USER, PASSWORD);
    let issued = AtomicUsize::new(0);
    move |seen| {
        if seen.authorization.as_deref() != Some(expected.as_str()) {
            return Reply::status(401);
        }
        let n = issued.fetch_add(1, Ordering::SeqCst) + 1;
        if n > limit {
            return Reply::status(503).body("no more tokens");
        }
        Reply::status(200).body(&format!(r#"{{"token":"tok-{n}","expires_in":300}}"#))
    }
}

/// `airlock push` of a small good bundle to `registry` (streamed through
/// the holding repository), trusting the CA in `dir`, with the password on
/// stdin.
fn push(dir: &Path, registry: &Server) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["push", "--json", "--no-progress", "--user", USER])
        .arg("--password-stdin")
        .arg("--ca-cert")
        .arg(dir.join("ca.crt"))
        .arg(test_support::corpus_dir().join("good/podman-oci-archive.tar"))
        .arg(format!("{}/creds", registry.authority))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("airlock starts");
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        let _ = writeln!(stdin, "{PASSWORD}");
    }
    child.wait_with_output().expect("airlock runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn methods(seen: &[Seen]) -> Vec<&str> {
    seen.iter().map(|s| s.method.as_str()).collect()
}

/// Attack: the registry sends a blob's HEAD by redirect, and its uploads by
/// `Location`, to storage on another host. The push completes, and storage
/// never sees the password or a token.
#[test]
fn basic_credentials_reach_the_registry_but_never_storage_elsewhere() {
    credentials_stay_off_storage(false);
}

/// The same with a token service: the password goes to it alone, the
/// registry sees only tokens, and storage neither.
#[test]
fn bearer_tokens_reach_the_registry_but_never_storage_elsewhere() {
    credentials_stay_off_storage(true);
}

fn credentials_stay_off_storage(bearer: bool) {
    let dir = support::scratch(&format!("push-credentials-storage-{bearer}"));
    let tls = tls_config(&dir);
    let storage = Server::https("127.0.0.2", &tls, storage);
    let tokens = Server::https("127.0.0.2", &tls, token_service(usize::MAX));
    let asks = if bearer {
        Asks::Bearer {
            realm: format!("{}/token", tokens.url()),
        }
    } else {
        Asks::Basic {
            expected: basic(USER, PASSWORD),
        }
    };
    let registry = Server::https(
        "127.0.0.1",
        &tls,
        registry_with_storage_at(asks, storage.url()),
    );

    let out = push(&dir, &registry);
    let stored = storage.seen();
    for seen in &stored {
        assert_eq!(
            seen.authorization, None,
            "bearer={bearer}: credentials reached storage on another host: {seen:?}"
        );
    }
    assert_eq!(
        out.status.code(),
        Some(0),
        "bearer={bearer}: {}",
        stderr(&out)
    );
    // The attack was made: storage was asked for each step.
    for method in ["HEAD", "PATCH", "PUT"] {
        assert!(
            methods(&stored).contains(&method),
            "bearer={bearer}: storage saw no {method}: {stored:#?}"
        );
    }

    let at_registry = registry.seen();
    let given: Vec<&str> = at_registry
        .iter()
        .filter_map(|s| s.authorization.as_deref())
        .collect();
    assert!(!given.is_empty(), "bearer={bearer}: {at_registry:#?}");
    let scheme = if bearer { "Bearer " } else { "Basic " };
    assert!(
        given.iter().all(|a| a.starts_with(scheme)),
        "bearer={bearer}: {at_registry:#?}"
    );

    // The commit mounted the blobs from the holding repository.
    assert!(
        at_registry.iter().any(|s| s.method == "POST"
            && s.path
                .starts_with("/v2/creds/airlock/micro/blobs/uploads/?mount=sha256%3A")
            && s.path.ends_with("&from=creds%2Fairlock-incoming")),
        "bearer={bearer}: {at_registry:#?}"
    );
    let asked = tokens.seen();
    if bearer {
        let password = basic(USER, PASSWORD);
        assert!(
            asked
                .iter()
                .all(|s| s.authorization.as_deref() == Some(&password)),
            "{asked:#?}"
        );
        // The scopes of the push, percent-encoded, for the service named.
        let scoped = format!(
            "/token?service={SERVICE}&scope=repository%3Acreds%2Fairlock%2Fmicro%3Apull%2Cpush"
        );
        assert!(asked.iter().any(|s| s.path == scoped), "{asked:#?}");
        // The holding repository is pushed to while reading, and the
        // mounts from it need pull on it besides push on the target.
        let holding = "repository%3Acreds%2Fairlock-incoming";
        let streamed = format!("/token?service={SERVICE}&scope={holding}%3Apull%2Cpush");
        assert!(asked.iter().any(|s| s.path == streamed), "{asked:#?}");
        let mounted = format!(
            "/token?service={SERVICE}&scope=repository%3Acreds%2Fairlock%2Fmicro%3Apull%2Cpush\
             &scope={holding}%3Apull"
        );
        assert!(asked.iter().any(|s| s.path == mounted), "{asked:#?}");
    } else {
        assert!(asked.is_empty(), "{asked:#?}");
    }
}

/// Attack: the registry's Bearer challenge names a token service on plain
/// HTTP. The push stops, saying so, before anything is sent there.
#[test]
fn a_token_realm_over_plain_http_is_refused_and_never_sent_the_password() {
    let dir = support::scratch("push-credentials-http-realm");
    let tls = tls_config(&dir);
    let plain = Server::http("127.0.0.1", |_| {
        Reply::status(200).body(r#"{"token":"stolen"}"#)
    });
    let realm = format!("{}/token", plain.url());
    let asks = Asks::Bearer {
        realm: realm.clone(),
    };
    let registry = Server::https(
        "127.0.0.1",
        &tls,
        registry_with_storage_at(asks, "https://127.0.0.2:9".into()),
    );

    let out = push(&dir, &registry);
    assert!(plain.seen().is_empty(), "{:#?}", plain.seen());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains(&realm) && message.contains("not an https:// URL"),
        "{message}"
    );
}

/// Attack: a token service hands out a fresh token on every request, and
/// the registry refuses every token but for its ping. Each request
/// re-authenticates once, then the push fails with the registry's words
/// (a HEAD's are in its challenge); the password went out once for the
/// ping and once for the first blob.
#[test]
fn a_token_service_handing_out_fresh_tokens_gets_one_reauthentication_per_request() {
    let dir = support::scratch("push-credentials-fresh-tokens");
    let tls = tls_config(&dir);
    // The limit ends the endless loop of a client without one.
    let tokens = Server::https("127.0.0.2", &tls, token_service(20));
    let asks = Asks::Bearer {
        realm: format!("{}/token", tokens.url()),
    };
    let registry = Server::https("127.0.0.1", &tls, move |seen| {
        if seen.method == "GET"
            && path_of(seen) == "/v2/"
            && asks.accepts(seen.authorization.as_deref())
        {
            return Reply::status(200);
        }
        asks.refuse("token not accepted")
    });

    let out = push(&dir, &registry);
    let asked = tokens.seen();
    assert_eq!(asked.len(), 2, "{asked:#?}");
    let heads = registry.seen();
    let heads: Vec<&Seen> = heads.iter().filter(|s| s.method == "HEAD").collect();
    assert_eq!(heads.len(), 2, "{heads:#?}");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains("denied") && message.contains("it says: insufficient_scope"),
        "{message}"
    );
}

/// Attack: the registry redirects a blob's HEAD to "storage", which answers
/// 401 with a Bearer challenge naming its own token service. A challenge
/// from a host a redirect led to is not the registry's: the password must
/// not go to the realm it names.
#[test]
fn a_challenge_from_a_redirected_host_is_never_answered_with_the_password() {
    let dir = support::scratch("push-credentials-redirected-challenge");
    let tls = tls_config(&dir);
    let thief = Server::https("127.0.0.2", &tls, token_service(usize::MAX));
    let realm = format!("{}/token", thief.url());
    let storage = Server::https("127.0.0.2", &tls, move |_seen: &Seen| {
        Reply::status(401).header(
            "WWW-Authenticate",
            &format!(r#"Bearer realm="{realm}",service="{SERVICE}""#),
        )
    });
    let registry = Server::https(
        "127.0.0.1",
        &tls,
        registry_with_storage_at(
            Asks::Basic {
                expected: basic(USER, PASSWORD),
            },
            storage.url(),
        ),
    );

    let out = push(&dir, &registry);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // The attack was made: storage was asked and answered with its challenge.
    assert!(methods(&storage.seen()).contains(&"HEAD"));
    assert!(
        thief.seen().is_empty(),
        "the password went to the realm a redirected host named: {:#?}",
        thief.seen()
    );
}
