//! `--to docker`: the Docker Engine API's `POST /images/load`, fed while the
//! bundle is verified.
//!
//! Docker reads an upload as a docker-archive: files, then a `manifest.json`
//! that says which of them make which image. Airlock sends each file of the
//! bundle as it is verified, under a neutral name, and writes its own
//! `manifest.json` and the end-of-archive only once every check has passed.
//! Without them Docker has no image to create, and on failure the upload is
//! broken off mid-stream (no final chunk), which Docker treats as a failed
//! load; either way a bad bundle is never completed inside Docker. Docker
//! unpacks the upload into a temporary directory, which it removes.
//!
//! Writing the archive ourselves also lets Docker 20.10, which reads only
//! `manifest.json`, load OCI archives.

use std::collections::HashMap;
use std::path::PathBuf;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::channel::{self, Channel};
use hyper::client::conn::http1;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::UnixStream;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;
use verify_core::{ImportPlan, Sha256};

use super::dir_handle::DirHandle;
use super::{FileTarget, ImportError, ImportSummary, ImportedImage};

/// Docker's default socket.
const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// Tar block size.
const BLOCK: usize = 512;
/// Upload pieces queued before the verifier waits on Docker. Each holds one
/// of the pipeline's read buffers: few in flight stay in the cache, and
/// Docker, not the queue, sets the pace.
const QUEUE: usize = 2;

type Body = Channel<Bytes, std::io::Error>;
/// The upload's streamed body, or nothing for the small requests.
type RequestBody = http_body_util::Either<Body, http_body_util::Empty<Bytes>>;
type Sender = http1::SendRequest<RequestBody>;
type Reply = Result<(StatusCode, Bytes), String>;

/// Where Docker listens: `--docker-host`, else `DOCKER_HOST`, else the default.
pub fn socket_path(flag: Option<&str>) -> Result<PathBuf, ImportError> {
    let env = std::env::var("DOCKER_HOST").ok();
    let host = flag.or(env.as_deref()).unwrap_or(DEFAULT_SOCKET);
    match host.strip_prefix("unix://") {
        Some(path) => Ok(PathBuf::from(path)),
        None if host.starts_with('/') => Ok(PathBuf::from(host)),
        None => Err(ImportError::Target(format!(
            "Docker host `{host}` is not supported: Airlock talks to Docker over its unix \
             socket (unix:///var/run/docker.sock)"
        ))),
    }
}

pub struct DockerLoad {
    runtime: Runtime,
    socket: PathBuf,
    body: Option<channel::Sender<Bytes, std::io::Error>>,
    reply: Option<JoinHandle<Reply>>,
    /// Name in the upload of each file sent, by digest.
    sent: HashMap<Sha256, String>,
    files: u64,
    /// Bytes of the current file still to come, for padding.
    current_size: u64,
    /// Docker's data root, where it keeps the upload while it reads it, when
    /// it is on this machine: its free space is checked before each file.
    root: Option<DirHandle>,
}

impl DockerLoad {
    /// Connects to Docker and opens the upload; nothing is loaded until
    /// [`FileTarget::commit`].
    pub fn open(socket: PathBuf) -> Result<Self, ImportError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| ImportError::Target(format!("cannot start the I/O runtime: {e}")))?;
        let root = runtime.block_on(data_root(&socket))?;
        let (body, reply) = runtime.block_on(start_load(&socket))?;
        Ok(Self {
            runtime,
            socket,
            body: Some(body),
            reply: Some(reply),
            sent: HashMap::new(),
            files: 0,
            current_size: 0,
            root,
        })
    }

    fn send(&mut self, bytes: Bytes) -> Result<(), ImportError> {
        let Some(body) = &mut self.body else {
            return Ok(());
        };
        if self.runtime.block_on(body.send_data(bytes)).is_err() {
            // Docker closed the upload early; its answer says why.
            self.body = None;
            let why = self.finish_reply().err().unwrap_or_else(|| {
                ImportError::Target("Docker closed the upload before it was complete".into())
            });
            return Err(why);
        }
        Ok(())
    }

    /// Waits for Docker's answer to the upload.
    fn finish_reply(&mut self) -> Result<Bytes, ImportError> {
        let Some(reply) = self.reply.take() else {
            return Err(ImportError::Target("the upload was already ended".into()));
        };
        let (status, body) = self
            .runtime
            .block_on(reply)
            .map_err(|e| ImportError::Target(format!("the upload task failed: {e}")))?
            .map_err(|e| docker_error(&self.socket, &e))?;
        if !status.is_success() {
            return Err(ImportError::Target(format!(
                "Docker refused the load ({status}): {}",
                String::from_utf8_lossy(&body).trim()
            )));
        }
        // Docker answers 200 and reports failures inside its message stream.
        for line in body.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            if let Ok(message) = serde_json::from_slice::<serde_json::Value>(line)
                && let Some(error) = message.get("error").and_then(|e| e.as_str())
            {
                return Err(ImportError::Target(format!(
                    "Docker refused the load: {error}"
                )));
            }
        }
        Ok(body)
    }

    /// The image ID Docker now has for `name`.
    fn image_id(&self, name: &str) -> Result<String, ImportError> {
        let path = format!("/images/{name}/json");
        let (status, body) = self
            .runtime
            .block_on(get(&self.socket, &path))
            .map_err(|e| docker_error(&self.socket, &e))?;
        if status != StatusCode::OK {
            return Err(ImportError::Target(format!(
                "Docker reported the load as done but has no image {name} ({status})"
            )));
        }
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| ImportError::Target(format!("Docker's image inspect is not JSON: {e}")))?;
        Ok(value
            .get("Id")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned())
    }
}

fn docker_error(socket: &std::path::Path, e: &str) -> ImportError {
    ImportError::Target(format!("Docker at {}: {e}", socket.display()))
}

async fn connect(socket: &std::path::Path) -> Result<Sender, String> {
    let stream = UnixStream::connect(socket)
        .await
        .map_err(|e| format!("cannot connect ({e}); is Docker running, and may you use it?"))?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Docker's `DockerRootDir`, opened if this machine can see it (a daemon
/// in another mount namespace or a VM has its own, which is not checked).
async fn data_root(socket: &std::path::Path) -> Result<Option<DirHandle>, ImportError> {
    let (status, body) = get(socket, "/info")
        .await
        .map_err(|e| docker_error(socket, &e))?;
    if status != StatusCode::OK {
        return Ok(None);
    }
    let info: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    Ok(info
        .get("DockerRootDir")
        .and_then(|d| d.as_str())
        .and_then(|d| DirHandle::open(std::path::Path::new(d)).ok()))
}

async fn start_load(
    socket: &std::path::Path,
) -> Result<(channel::Sender<Bytes, std::io::Error>, JoinHandle<Reply>), ImportError> {
    let mut sender = connect(socket)
        .await
        .map_err(|e: String| docker_error(socket, &e))?;
    let (tx, body) = Channel::new(QUEUE);
    let request = Request::post("/images/load?quiet=1")
        .header("Host", "docker")
        .header("Content-Type", "application/x-tar")
        .body(http_body_util::Either::Left(body))
        .map_err(|e| ImportError::Target(e.to_string()))?;
    let reply = tokio::spawn(async move { exchange(&mut sender, request).await });
    Ok((tx, reply))
}

async fn get(socket: &std::path::Path, path: &str) -> Reply {
    let mut sender = connect(socket).await?;
    let request = Request::get(path)
        .header("Host", "docker")
        .body(http_body_util::Either::Right(http_body_util::Empty::new()))
        .map_err(|e| e.to_string())?;
    exchange(&mut sender, request).await
}

/// Sends a request and reads the whole (small) answer.
async fn exchange(sender: &mut Sender, request: Request<RequestBody>) -> Reply {
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok((status, body))
}

/// One entry of Docker's `manifest.json`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry<'a> {
    config: &'a str,
    repo_tags: &'a [String],
    layers: Vec<&'a str>,
}

fn tar_header(name: &str, size: u64) -> Result<Bytes, ImportError> {
    let mut header = tar::Header::new_ustar();
    header
        .set_path(name)
        .map_err(|e| ImportError::Target(format!("cannot name upload entry {name}: {e}")))?;
    header.set_size(size);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    Ok(Bytes::copy_from_slice(header.as_bytes()))
}

fn padding(size: u64) -> Bytes {
    let rem = (size % BLOCK as u64) as usize;
    Bytes::from(vec![0u8; if rem == 0 { 0 } else { BLOCK - rem }])
}

impl FileTarget for DockerLoad {
    fn begin_file(&mut self, _path: &str, size: u64) -> Result<(), ImportError> {
        if let Some(root) = &self.root {
            root.ensure_room(size)?;
        }
        self.files += 1;
        self.current_size = size;
        let header = tar_header(&format!("airlock/{}", self.files), size)?;
        self.send(header)
    }

    fn file_data(&mut self, bytes: Bytes) -> Result<(), ImportError> {
        self.send(bytes)
    }

    fn end_file(&mut self, sha256: &Sha256) -> Result<(), ImportError> {
        self.sent
            .entry(*sha256)
            .or_insert_with(|| format!("airlock/{}", self.files));
        let pad = padding(self.current_size);
        self.send(pad)
    }

    fn commit(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
        let name_of = |digest: &Sha256| {
            self.sent
                .get(digest)
                .map(String::as_str)
                .ok_or_else(|| ImportError::NotStaged {
                    digest: verify_core::Digest::from(*digest).to_string(),
                })
        };
        let entries = plan
            .images()
            .iter()
            .map(|image| {
                Ok(ManifestEntry {
                    config: name_of(&image.config.digest)?,
                    repo_tags: &image.names,
                    layers: image
                        .layers
                        .iter()
                        .map(|l| name_of(&l.digest))
                        .collect::<Result<_, ImportError>>()?,
                })
            })
            .collect::<Result<Vec<_>, ImportError>>()?;
        let manifest = serde_json::to_vec(&entries)
            .map_err(|e| ImportError::Target(format!("cannot encode manifest.json: {e}")))?;
        self.send(tar_header("manifest.json", manifest.len() as u64)?)?;
        let pad = padding(manifest.len() as u64);
        self.send(Bytes::from(manifest))?;
        self.send(pad)?;
        self.send(Bytes::from(vec![0u8; 2 * BLOCK]))?;
        // Dropping the sender ends the body with its final chunk.
        self.body = None;
        self.finish_reply()?;

        // Docker has loaded and tagged everything by now: a failure from
        // here on says so.
        let loaded: Vec<String> = plan.images().iter().flat_map(|i| i.names.clone()).collect();
        let mut images = Vec::new();
        for image in plan.images() {
            let expected = image.config.digest_string();
            for name in &image.names {
                let id = self.image_id(name).map_err(|e| e.after(&loaded))?;
                if id != expected {
                    return Err(ImportError::Target(format!(
                        "after the load Docker's {name} is image {id}, not {expected}"
                    ))
                    .after(&loaded));
                }
            }
            images.push(ImportedImage {
                names: image.names.clone(),
                manifest_digest: image.manifest.blob.digest_string(),
                config_digest: expected,
            });
        }
        Ok(ImportSummary {
            target: format!("docker (unix://{})", self.socket.display()),
            images,
            blobs_written: self.sent.len(),
            blobs_present: 0,
        })
    }

    fn abort(&mut self) {
        if let Some(body) = self.body.take() {
            // Breaks the connection off without the final chunk, so Docker
            // sees an incomplete upload rather than a short archive.
            body.abort(std::io::Error::other("the bundle did not verify"));
        }
        if let Some(reply) = self.reply.take() {
            let _ = self.runtime.block_on(reply);
        }
    }
}
