//! The parts of the OCI distribution API a push needs, over blocking HTTPS.
//!
//! Blobs are streamed from their staged files (one PATCH carrying the whole
//! blob, then a PUT with its digest, as `containers/image` does), so memory
//! does not grow with layer size. Every request goes through [`Client::send`],
//! which answers a registry's 401 once and retries.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use ureq::http::Response;
use ureq::{Agent, Body, SendBody};

use super::RegistryError;
use super::auth::{Auth, Credentials, percent_encode};
use super::tls::TlsRoots;

pub struct Client {
    agent: Agent,
    /// `https://host[:port]`.
    base: String,
    host: String,
    auth: Auth,
}

/// How a blob upload started.
pub enum Upload {
    /// The registry linked a blob it already had in another repository.
    Mounted,
    /// An upload session at this URL.
    Session(String),
}

impl Client {
    pub fn new(
        host: &str,
        roots: &TlsRoots,
        credentials: Option<Credentials>,
    ) -> Result<Self, RegistryError> {
        let config = Agent::config_builder()
            .tls_config(roots.config())
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            // Uploads of large layers may take long; a registry that stops
            // answering altogether is caught here.
            .timeout_recv_response(Some(Duration::from_secs(600)))
            .user_agent(concat!("airlock/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            agent: Agent::new_with_config(config),
            base: format!("https://{host}"),
            host: host.to_owned(),
            auth: Auth::new(host, credentials),
        })
    }

    /// Checks that the registry answers, its certificate is trusted and the
    /// credentials are accepted, before the bundle is read.
    pub fn ping(&mut self) -> Result<(), RegistryError> {
        let url = format!("{}/v2/", self.base);
        let response = self.send(&[], |agent, auth| with_auth(agent.get(&url), auth).call())?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            status => Err(self.unexpected("GET /v2/", response, status)),
        }
    }

    pub fn has_blob(&mut self, repo: &str, digest: &str) -> Result<bool, RegistryError> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let response = self.send(&scopes(repo, None), |agent, auth| {
            with_auth(agent.head(&url), auth).call()
        })?;
        match response.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            status => Err(self.unexpected(&format!("HEAD {repo} blob {digest}"), response, status)),
        }
    }

    /// Starts an upload to `repo`, asking to mount `digest` from `from` (a
    /// repository this run pushed it to) when given.
    pub fn start_upload(
        &mut self,
        repo: &str,
        mount: Option<(&str, &str)>,
    ) -> Result<Upload, RegistryError> {
        let mut url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        if let Some((digest, from)) = mount {
            url.push_str(&format!(
                "?mount={}&from={}",
                percent_encode(digest),
                percent_encode(from)
            ));
        }
        let scopes = scopes(repo, mount.map(|(_, from)| from));
        let response = self.send(&scopes, |agent, auth| {
            with_auth(agent.post(&url), auth).send_empty()
        })?;
        match response.status().as_u16() {
            201 if mount.is_some() => Ok(Upload::Mounted),
            202 => Ok(Upload::Session(self.location(&response)?)),
            status => Err(self.unexpected(&format!("POST {repo} blob upload"), response, status)),
        }
    }

    /// Streams the file at `path` into the upload session and closes it
    /// with `digest`; the registry checks the bytes against it.
    pub fn upload(
        &mut self,
        repo: &str,
        session: &str,
        digest: &str,
        size: u64,
        path: &Path,
    ) -> Result<(), RegistryError> {
        let what = format!("upload of {digest} to {repo}");
        let response = self.send(&scopes(repo, None), |agent, auth| {
            // Opened per attempt so that a retry after a 401 starts over.
            let mut file = File::open(path)?;
            with_auth(agent.patch(session), auth)
                .header("Content-Type", "application/octet-stream")
                .header("Content-Length", size.to_string())
                .send(SendBody::from_reader(&mut file))
        })?;
        let session = match response.status().as_u16() {
            202 => self.location(&response)?,
            status => return Err(self.unexpected(&format!("PATCH {what}"), response, status)),
        };
        let sep = if session.contains('?') { '&' } else { '?' };
        let url = format!("{session}{sep}digest={}", percent_encode(digest));
        let response = self.send(&scopes(repo, None), |agent, auth| {
            with_auth(agent.put(&url), auth)
                .header("Content-Length", "0")
                .send_empty()
        })?;
        match response.status().as_u16() {
            201 | 204 => Ok(()),
            status => Err(self.unexpected(&format!("PUT {what}"), response, status)),
        }
    }

    /// Puts a manifest under `reference` (its digest, or a tag).
    pub fn put_manifest(
        &mut self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
        digest: &str,
    ) -> Result<(), RegistryError> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let response = self.send(&scopes(repo, None), |agent, auth| {
            with_auth(agent.put(&url), auth)
                .header("Content-Type", media_type)
                .send(bytes)
        })?;
        let what = format!("PUT {repo} manifest {reference}");
        match response.status().as_u16() {
            201 | 204 => {}
            status => return Err(self.unexpected(&what, response, status)),
        }
        // The registry names what it stored; it must be what we verified.
        match header(&response, "docker-content-digest") {
            Some(stored) if stored != digest => Err(RegistryError::Status {
                registry: self.host.clone(),
                what,
                status: 201,
                body: format!("the registry stored {stored}, not {digest}"),
            }),
            _ => Ok(()),
        }
    }

    /// Sends a request made by `build`, answering one 401 by authenticating
    /// (Basic, or a Bearer token for `scopes`) and sending it again.
    fn send(
        &mut self,
        scopes: &[String],
        mut build: impl FnMut(&Agent, Option<&str>) -> Result<Response<Body>, ureq::Error>,
    ) -> Result<Response<Body>, RegistryError> {
        let mut authorization = self.auth.header(scopes);
        loop {
            let response = build(&self.agent, authorization.as_deref())
                .map_err(|e| RegistryError::from_transport(&self.host, e))?;
            match response.status().as_u16() {
                401 => {
                    let challenge = header(&response, "www-authenticate");
                    let retry = self.auth.answer(
                        &self.agent,
                        challenge.as_deref(),
                        scopes,
                        authorization.as_deref(),
                    )?;
                    let next = self.auth.header(scopes);
                    if !retry || next == authorization {
                        return Err(RegistryError::Denied {
                            registry: self.host.clone(),
                        });
                    }
                    authorization = next;
                }
                403 => {
                    return Err(RegistryError::Denied {
                        registry: self.host.clone(),
                    });
                }
                _ => return Ok(response),
            }
        }
    }

    /// The absolute URL of a response's `Location`.
    fn location(&self, response: &Response<Body>) -> Result<String, RegistryError> {
        let location = header(response, "location").ok_or_else(|| RegistryError::Status {
            registry: self.host.clone(),
            what: "upload".into(),
            status: response.status().as_u16(),
            body: "the answer has no Location".into(),
        })?;
        if location.starts_with("https://") {
            Ok(location)
        } else if location.starts_with('/') {
            Ok(format!("{}{location}", self.base))
        } else {
            Err(RegistryError::Status {
                registry: self.host.clone(),
                what: "upload".into(),
                status: response.status().as_u16(),
                body: format!("refusing to follow Location {location} (not HTTPS on this host)"),
            })
        }
    }

    fn unexpected(&self, what: &str, mut response: Response<Body>, status: u16) -> RegistryError {
        let body = response
            .body_mut()
            .with_config()
            .limit(64 << 10)
            .read_to_string()
            .unwrap_or_default();
        RegistryError::Status {
            registry: self.host.clone(),
            what: what.to_owned(),
            status,
            body: summarize_errors(&body),
        }
    }
}

fn with_auth<B>(request: ureq::RequestBuilder<B>, auth: Option<&str>) -> ureq::RequestBuilder<B> {
    match auth {
        Some(value) => request.header("Authorization", value),
        None => request,
    }
}

fn header(response: &Response<Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The token scopes a request on `repo` needs (and on `from`, for a mount).
fn scopes(repo: &str, from: Option<&str>) -> Vec<String> {
    let mut scopes = vec![format!("repository:{repo}:pull,push")];
    if let Some(from) = from {
        scopes.push(format!("repository:{from}:pull"));
    }
    scopes
}

/// The distribution API's `{"errors":[{"code","message"}]}` as one line,
/// or the start of whatever else the body was.
fn summarize_errors(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let listed = parsed
        .as_ref()
        .and_then(|v| v.get("errors"))
        .and_then(serde_json::Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let field = |k: &str| e.get(k).and_then(serde_json::Value::as_str);
                    format!(
                        "{}: {}",
                        field("code").unwrap_or("ERROR"),
                        field("message").unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        });
    listed.unwrap_or_else(|| body.trim().chars().take(300).collect())
}
