//! One connection to containerd and the lease that protects this run's work.
//!
//! containerd's API is gRPC over a unix socket; every call names its
//! namespace, and calls that create content or snapshots name the lease they
//! belong to, both as request metadata. The target's methods are synchronous,
//! so the session owns a current-thread runtime and blocks on each call.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use containerd_client::services::v1::PluginsRequest;
use containerd_client::services::v1::introspection_client::IntrospectionClient;
use containerd_client::services::v1::leases_client::LeasesClient;
use containerd_client::services::v1::namespaces_client::NamespacesClient;
use containerd_client::services::v1::{
    AddResourceRequest, CreateRequest, DeleteRequest, GetNamespaceRequest, Resource,
};
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// How long containerd keeps a lease this run could not delete (it was
/// killed): long enough for any import, short enough that a crash does not
/// pin gigabytes for good. The same as `ctr`'s leases.
const LEASE_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The label that makes containerd's GC drop a lease once its time is up.
const EXPIRE_LABEL: &str = "containerd.io/gc.expire";
/// The namespace label naming that namespace's default snapshotter.
const DEFAULT_SNAPSHOTTER_LABEL: &str = "containerd.io/defaults/snapshotter";

/// Why talking to containerd failed.
#[derive(Debug, thiserror::Error)]
pub enum ContainerdError {
    #[error("cannot start the async runtime for the containerd client: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot connect to containerd at {}: {source}", address.display())]
    Connect {
        address: PathBuf,
        #[source]
        source: tonic::transport::Error,
    },
    #[error("`{value}` cannot be sent to containerd as a {what}")]
    Header { what: &'static str, value: String },
    #[error("containerd: cannot {action}: {} ({:?})", status.message(), status.code())]
    Rpc {
        action: String,
        #[source]
        status: Status,
    },
    #[error("containerd: the upload of {path} stopped before it was committed")]
    WriterGone { path: String },
    #[error("layer {layer} unpacked to {found}, but its config says the diff_id is {expected}")]
    DiffId {
        layer: String,
        expected: String,
        found: String,
    },
    #[error("config {digest} as stored in containerd: {reason}")]
    Config { digest: String, reason: String },
}

/// Maps a failed call's status to an error that says what was attempted.
pub fn rpc(action: impl Into<String>) -> impl FnOnce(Status) -> ContainerdError {
    let action = action.into();
    move |status| ContainerdError::Rpc { action, status }
}

pub struct Session {
    runtime: tokio::runtime::Runtime,
    channel: Channel,
    namespace: AsciiMetadataValue,
    lease: Option<(String, AsciiMetadataValue)>,
}

impl Session {
    /// Connects to the socket at `address`; calls go to `namespace`.
    pub fn connect(address: &Path, namespace: &str) -> Result<Self, ContainerdError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ContainerdError::Runtime)?;
        let channel = runtime
            .block_on(containerd_client::connect(address))
            .map_err(|source| ContainerdError::Connect {
                address: address.to_owned(),
                source,
            })?;
        Ok(Self {
            runtime,
            channel,
            namespace: header("namespace", namespace)?,
            lease: None,
        })
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Where containerd's content store keeps blobs, as its content plugin
    /// exports it (`root`); `None` if containerd does not say.
    pub fn content_root(&self) -> Result<Option<PathBuf>, ContainerdError> {
        let mut introspection = IntrospectionClient::new(self.channel());
        let request = Request::new(PluginsRequest {
            filters: vec!["type==io.containerd.content.v1".to_owned()],
        });
        let plugins = self
            .block_on(introspection.plugins(request))
            .map_err(rpc("list its plugins".to_owned()))?
            .into_inner()
            .plugins;
        Ok(plugins
            .iter()
            .find_map(|p| p.exports.get("root"))
            .map(PathBuf::from))
    }

    /// A request carrying the namespace and, once there is one, the lease.
    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let metadata = request.metadata_mut();
        metadata.insert("containerd-namespace", self.namespace.clone());
        if let Some((_, lease)) = &self.lease {
            metadata.insert("containerd-lease", lease.clone());
        }
        request
    }

    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Runs `future` alongside whatever the session blocks on next.
    pub fn spawn<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.spawn(future)
    }

    /// Creates the lease every later call works under. Until it is deleted,
    /// nothing written in it is garbage-collected; if this process dies, its
    /// expiry label lets containerd drop it anyway.
    pub fn create_lease(&mut self) -> Result<(), ContainerdError> {
        let id = format!("airlock-{}-{}", std::process::id(), unique());
        let labels = HashMap::from([(
            EXPIRE_LABEL.to_owned(),
            rfc3339(SystemTime::now() + LEASE_TTL),
        )]);
        let mut leases = LeasesClient::new(self.channel());
        let request = self.request(CreateRequest {
            id: id.clone(),
            labels,
        });
        self.block_on(leases.create(request))
            .map_err(rpc("create a lease"))?;
        self.lease = Some((id.clone(), header("lease", &id)?));
        Ok(())
    }

    /// Puts content that was already there in the lease, so that a GC
    /// running before the images are tagged cannot take it.
    pub fn lease_content(&self, digest: &str) -> Result<(), ContainerdError> {
        let Some((id, _)) = &self.lease else {
            return Ok(());
        };
        let mut leases = LeasesClient::new(self.channel());
        let request = self.request(AddResourceRequest {
            id: id.clone(),
            resource: Some(Resource {
                id: digest.to_owned(),
                r#type: "content".to_owned(),
            }),
        });
        self.block_on(leases.add_resource(request))
            .map_err(rpc(format!("lease {digest}")))?;
        Ok(())
    }

    /// Deletes the lease: what it alone protected becomes garbage. With
    /// `sync`, returns only after containerd collected it.
    pub fn delete_lease(&mut self, sync: bool) -> Result<(), ContainerdError> {
        let Some((id, _)) = self.lease.take() else {
            return Ok(());
        };
        let mut leases = LeasesClient::new(self.channel());
        let request = self.request(DeleteRequest { id, sync });
        match self.block_on(leases.delete(request)) {
            Err(status) if status.code() != Code::NotFound => {
                Err(rpc("delete this run's lease")(status))
            }
            _ => Ok(()),
        }
    }

    /// The snapshotter containerd itself would pick: the namespace's
    /// default if it names one, else `overlayfs` (containerd's default on
    /// Linux).
    pub fn default_snapshotter(&self, namespace: &str) -> Result<String, ContainerdError> {
        let mut namespaces = NamespacesClient::new(self.channel());
        let request = self.request(GetNamespaceRequest {
            name: namespace.to_owned(),
        });
        let labels = match self.block_on(namespaces.get(request)) {
            Ok(response) => response
                .into_inner()
                .namespace
                .map(|n| n.labels)
                .unwrap_or_default(),
            Err(status) if status.code() == Code::NotFound => HashMap::new(),
            Err(status) => return Err(rpc(format!("look up namespace {namespace}"))(status)),
        };
        Ok(labels
            .get(DEFAULT_SNAPSHOTTER_LABEL)
            .cloned()
            .unwrap_or_else(|| "overlayfs".to_owned()))
    }
}

fn header(what: &'static str, value: &str) -> Result<AsciiMetadataValue, ContainerdError> {
    value.parse().map_err(|_| ContainerdError::Header {
        what,
        value: value.to_owned(),
    })
}

/// A time in the RFC 3339 form containerd's labels use, to the second.
pub fn rfc3339(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    prost_types::Timestamp { seconds, nanos: 0 }.to_string()
}

/// A part of a name that no other call of this process repeats.
pub fn unique() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
