//! The parts of the OCI distribution API a push needs, over blocking HTTPS.
//!
//! Blobs are streamed (one PATCH carrying the whole blob, then a PUT with
//! its digest, as `containers/image` does) from a staged file, the bundle
//! as it is read, or another repository, so memory does not grow with
//! layer size. Every request goes through [`Client::send`],
//! which adds credentials only for the registry's own origin and answers its
//! 401 at most once.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use ureq::ResponseExt;
use ureq::config::RedirectAuthHeaders;
use ureq::http::Response;
use ureq::{Agent, Body, SendBody};

use super::auth::{Auth, Credentials, challenge_error, percent_encode};
use super::origin::Origin;
use super::tls::TlsRoots;
use super::{RegistryError, said};

pub struct Client {
    agent: Agent,
    /// The registry's `https://host[:port]`: the one origin that gets its
    /// credentials.
    origin: Origin,
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
        let origin = Origin::of_https(&format!("https://{host}/")).ok_or_else(|| {
            RegistryError::Usage(format!("`{host}` is not a registry host (HOST[:PORT])"))
        })?;
        let config = Agent::config_builder()
            .tls_config(roots.config())
            .http_status_as_error(false)
            // Nothing goes in clear text, not even where a redirect points.
            .https_only(true)
            // A redirect (storage behind a blob, a token service moved) is
            // followed without the Authorization header. This is ureq's
            // default, said here because credentials depend on it; its
            // `SameHost` would keep the header for another port of the host.
            .redirect_auth_headers(RedirectAuthHeaders::Never)
            .timeout_connect(Some(Duration::from_secs(30)))
            // Uploads of large layers may take long; a registry that stops
            // answering altogether is caught here.
            .timeout_recv_response(Some(Duration::from_secs(600)))
            .user_agent(concat!("airlock/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Self {
            agent: Agent::new_with_config(config),
            origin,
            host: host.to_owned(),
            auth: Auth::new(host, credentials),
        })
    }

    /// Checks that the registry answers, its certificate is trusted and the
    /// credentials are accepted, before the bundle is read.
    pub fn ping(&mut self) -> Result<(), RegistryError> {
        let url = format!("{}/v2/", self.origin.base());
        let response = self.send(&url, &[], |agent, url, auth| {
            with_auth(agent.get(url), auth).call()
        })?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            status => Err(self.unexpected("GET /v2/", response, status)),
        }
    }

    pub fn has_blob(&mut self, repo: &str, digest: &str) -> Result<bool, RegistryError> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.origin.base());
        let response = self.send(&url, &scopes(repo, None), |agent, url, auth| {
            with_auth(agent.head(url), auth).call()
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
        let mut url = format!("{}/v2/{repo}/blobs/uploads/", self.origin.base());
        if let Some((digest, from)) = mount {
            url.push_str(&format!(
                "?mount={}&from={}",
                percent_encode(digest),
                percent_encode(from)
            ));
        }
        let scopes = scopes(repo, mount.map(|(_, from)| from));
        let response = self.send(&url, &scopes, |agent, url, auth| {
            with_auth(agent.post(url), auth).send_empty()
        })?;
        match response.status().as_u16() {
            201 if mount.is_some() => Ok(Upload::Mounted),
            202 => Ok(Upload::Session(self.location(&response, &url)?)),
            status => Err(self.unexpected(&format!("POST {repo} blob upload"), response, status)),
        }
    }

    /// Streams the file at `path` into the upload session and closes it
    /// with `digest`; the registry checks the bytes against it. The session
    /// may be on another host (storage), which then gets no credentials.
    pub fn upload(
        &mut self,
        repo: &str,
        session: &str,
        digest: &str,
        size: u64,
        path: &Path,
    ) -> Result<(), RegistryError> {
        // Opened per attempt so that a retry after a 401 starts over.
        let session = self.patch(repo, session, digest, size, || File::open(path))?;
        self.finish_upload(repo, &session, digest)
    }

    /// Sends `size` bytes into the upload session in one PATCH (as
    /// `containers/image` does), reading them from what `open` gives; it is
    /// called again only if the registry asks for credentials first.
    /// Returns the session's next URL. `digest` only names the blob in
    /// errors: the bytes may still be arriving.
    pub fn patch<R: Read>(
        &mut self,
        repo: &str,
        session: &str,
        digest: &str,
        size: u64,
        mut open: impl FnMut() -> std::io::Result<R>,
    ) -> Result<String, RegistryError> {
        let response = self.send(session, &scopes(repo, None), |agent, url, auth| {
            let mut body = open()?;
            with_auth(agent.patch(url), auth)
                .header("Content-Type", "application/octet-stream")
                .header("Content-Length", size.to_string())
                .send(SendBody::from_reader(&mut body))
        })?;
        match response.status().as_u16() {
            202 => self.location(&response, session),
            status => Err(self.unexpected(
                &format!("PATCH upload of {digest} to {repo}"),
                response,
                status,
            )),
        }
    }

    /// Closes an upload session with the blob's `digest`: the registry
    /// hashes what it received and refuses the blob if it differs.
    pub fn finish_upload(
        &mut self,
        repo: &str,
        session: &str,
        digest: &str,
    ) -> Result<(), RegistryError> {
        let sep = if session.contains('?') { '&' } else { '?' };
        let url = format!("{session}{sep}digest={}", percent_encode(digest));
        let response = self.send(&url, &scopes(repo, None), |agent, url, auth| {
            with_auth(agent.put(url), auth)
                .header("Content-Length", "0")
                .send_empty()
        })?;
        match response.status().as_u16() {
            201 | 204 => Ok(()),
            status => Err(self.unexpected(
                &format!("PUT upload of {digest} to {repo}"),
                response,
                status,
            )),
        }
    }

    /// The bytes of a blob of `repo`, streamed. A redirect to storage is
    /// followed without credentials (see [`Client::new`]).
    pub fn get_blob(
        &mut self,
        repo: &str,
        digest: &str,
    ) -> Result<ureq::BodyReader<'static>, RegistryError> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.origin.base());
        let response = self.send(&url, &scopes(repo, None), |agent, url, auth| {
            with_auth(agent.get(url), auth).call()
        })?;
        match response.status().as_u16() {
            200 => Ok(response.into_body().into_reader()),
            status => Err(self.unexpected(&format!("GET {repo} blob {digest}"), response, status)),
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
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.origin.base());
        let response = self.send(&url, &scopes(repo, None), |agent, url, auth| {
            with_auth(agent.put(url), auth)
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

    /// Sends the request `build` makes for `url`, with the `Authorization`
    /// it is given. That is the registry's (Basic, or a Bearer token for
    /// `scopes`) when `url` is on the registry's origin, and nothing
    /// elsewhere. A 401 from the registry is answered by authenticating once
    /// and sending again; a second refusal is final, so that a token
    /// service that hands out a fresh, equally useless token each time
    /// cannot keep us sending the password.
    fn send(
        &mut self,
        url: &str,
        scopes: &[String],
        mut build: impl FnMut(&Agent, &str, Option<&str>) -> Result<Response<Body>, ureq::Error>,
    ) -> Result<Response<Body>, RegistryError> {
        let target = Origin::of_https(url);
        let ours = target.as_ref() == Some(&self.origin);
        // A failure to reach storage elsewhere names that host.
        let reaching = match &target {
            Some(origin) if !ours => origin.base(),
            _ => self.host.clone(),
        };
        let mut authorization = if ours { self.auth.header(scopes) } else { None };
        let mut authenticated = false;
        loop {
            let mut response = build(&self.agent, url, authorization.as_deref())
                .map_err(|e| RegistryError::from_transport(&reaching, e))?;
            // Another host's refusal is not ours to answer with credentials;
            // the caller names it as an unexpected status. That includes a
            // host a redirect led to: its challenge could name any realm.
            let answered_by = Origin::of_https(&response.get_uri().to_string());
            if !ours || answered_by.as_ref() != Some(&self.origin) {
                return Ok(response);
            }
            match response.status().as_u16() {
                401 if !authenticated => {
                    authenticated = true;
                    let challenge = header(&response, "www-authenticate");
                    let retry = self.auth.answer(
                        &self.agent,
                        challenge.as_deref(),
                        scopes,
                        authorization.as_deref(),
                    )?;
                    let next = self.auth.header(scopes);
                    if !retry || next == authorization {
                        return Err(self.auth.refused(refusal(&mut response)));
                    }
                    authorization = next;
                }
                401 | 403 => return Err(self.auth.refused(refusal(&mut response))),
                _ => return Ok(response),
            }
        }
    }

    /// The absolute URL of a response's `Location`, resolved against the
    /// `request` URL that got the response (a session on storage elsewhere
    /// names its next step relative to that host, not the registry).
    fn location(&self, response: &Response<Body>, request: &str) -> Result<String, RegistryError> {
        let refuse = |body: String| RegistryError::Status {
            registry: self.host.clone(),
            what: "upload".into(),
            status: response.status().as_u16(),
            body,
        };
        let location = header(response, "location")
            .ok_or_else(|| refuse("the answer has no Location".into()))?;
        let absolute = if let Some(rest) = location.strip_prefix("//") {
            format!("https://{rest}")
        } else if location.starts_with('/') {
            let origin = Origin::of_https(request).ok_or_else(|| {
                refuse(format!("no origin to resolve Location {location} against"))
            })?;
            format!("{}{location}", origin.base())
        } else {
            location.clone()
        };
        // Another HTTPS host may be followed (storage); whether it gets
        // credentials is decided per request, by origin.
        match Origin::of_https(&absolute) {
            Some(_) => Ok(absolute),
            None => Err(refuse(format!(
                "refusing to follow Location {location} (not an https:// URL or an absolute path)"
            ))),
        }
    }

    fn unexpected(&self, what: &str, mut response: Response<Body>, status: u16) -> RegistryError {
        RegistryError::Status {
            registry: self.host.clone(),
            what: what.to_owned(),
            status,
            body: said(&mut response),
        }
    }
}

fn with_auth<B>(request: ureq::RequestBuilder<B>, auth: Option<&str>) -> ureq::RequestBuilder<B> {
    match auth {
        Some(value) => request.header("Authorization", value),
        None => request,
    }
}

/// The registry's words in a 401 or 403: its `errors`, or for an answer
/// without a body (HEAD), the error its challenge names.
fn refusal(response: &mut Response<Body>) -> String {
    let challenge = header(response, "www-authenticate");
    let said = said(response);
    if said.is_empty() {
        challenge
            .as_deref()
            .and_then(challenge_error)
            .unwrap_or_default()
    } else {
        said
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
