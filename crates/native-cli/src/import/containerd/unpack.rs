//! Unpacking an image's layers into a snapshotter, as `ctr images import`
//! does (containerd's `image.Unpack`): one committed snapshot per layer,
//! named by the chain ID of the layers up to it, each made by applying the
//! layer's blob onto a snapshot prepared from its parent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use containerd_client::services::v1::ApplyRequest;
use containerd_client::services::v1::diff_client::DiffClient;
use containerd_client::services::v1::snapshots::snapshots_client::SnapshotsClient;
use containerd_client::services::v1::snapshots::{
    CommitSnapshotRequest, PrepareSnapshotRequest, RemoveSnapshotRequest, StatSnapshotRequest,
};
use containerd_client::types::{Descriptor, Mount};
use tonic::Code;
use verify_core::{BlobRef, Digest, PlannedImage, Sha256};

use super::content;
use super::session::{ContainerdError, Session, rpc, unique};

/// Set on a layer blob once it was unpacked: its uncompressed digest.
const UNCOMPRESSED_LABEL: &str = "containerd.io/uncompressed";

/// Unpacks `image` into `snapshotter`, then labels its config so that
/// containerd's GC keeps the top snapshot as long as the image exists.
pub fn unpack(
    session: &Session,
    snapshotter: &str,
    image: &PlannedImage,
) -> Result<(), ContainerdError> {
    let diff_ids = diff_ids(session, &image.config)?;
    if diff_ids.len() != image.layers.len() {
        return Err(ContainerdError::Config {
            digest: image.config.digest_string(),
            reason: format!(
                "it lists {} diff_ids for {} layers",
                diff_ids.len(),
                image.layers.len()
            ),
        });
    }
    let snapshots = Snapshots {
        session,
        snapshotter,
    };
    let mut parent: Option<String> = None;
    for (layer, diff_id) in image.layers.iter().zip(&diff_ids) {
        let chain = chain_id(parent.as_deref(), diff_id);
        if !snapshots.exists(&chain)? {
            snapshots.apply(layer, diff_id, parent.as_deref(), &chain)?;
            let label = HashMap::from([(UNCOMPRESSED_LABEL.to_owned(), diff_id.clone())]);
            content::set_labels(session, &layer.digest_string(), label)?;
        }
        parent = Some(chain);
    }
    if let Some(top) = parent {
        let label = HashMap::from([(format!("containerd.io/gc.ref.snapshot.{snapshotter}"), top)]);
        content::set_labels(session, &image.config.digest_string(), label)?;
    }
    Ok(())
}

/// The config's `rootfs.diff_ids`, read back from containerd (the config
/// was verified on the way in; the plan carries only its digest).
fn diff_ids(session: &Session, config: &BlobRef) -> Result<Vec<String>, ContainerdError> {
    let digest = config.digest_string();
    let bad = |reason: String| ContainerdError::Config {
        digest: digest.clone(),
        reason,
    };
    let bytes = content::read(session, &digest)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    let list = value
        .pointer("/rootfs/diff_ids")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| bad("it has no rootfs.diff_ids".into()))?;
    list.iter()
        .map(|d| {
            d.as_str()
                .and_then(|s| Digest::parse(s).ok())
                .map(|d| d.to_string())
                .ok_or_else(|| bad(format!("{d} is not a sha256 digest")))
        })
        .collect()
}

/// The OCI chain ID: the first diff ID, then sha256("<parent> <diff_id>").
fn chain_id(parent: Option<&str>, diff_id: &str) -> String {
    match parent {
        None => diff_id.to_owned(),
        Some(parent) => {
            Digest::from(Sha256::of(format!("{parent} {diff_id}").as_bytes())).to_string()
        }
    }
}

struct Snapshots<'a> {
    session: &'a Session,
    snapshotter: &'a str,
}

impl Snapshots<'_> {
    fn client(&self) -> SnapshotsClient<tonic::transport::Channel> {
        SnapshotsClient::new(self.session.channel())
    }

    fn exists(&self, key: &str) -> Result<bool, ContainerdError> {
        let request = self.session.request(StatSnapshotRequest {
            snapshotter: self.snapshotter.to_owned(),
            key: key.to_owned(),
        });
        match self.session.block_on(self.client().stat(request)) {
            Ok(_) => Ok(true),
            Err(status) if status.code() == Code::NotFound => Ok(false),
            Err(status) => Err(rpc(format!("look up snapshot {key}"))(status)),
        }
    }

    /// Prepares a snapshot on `parent`, applies `layer` to it and commits
    /// it as `chain`; a half-made snapshot is removed.
    fn apply(
        &self,
        layer: &BlobRef,
        diff_id: &str,
        parent: Option<&str>,
        chain: &str,
    ) -> Result<(), ContainerdError> {
        let key = format!("extract-{} {chain}", unique_key());
        let request = self.session.request(PrepareSnapshotRequest {
            snapshotter: self.snapshotter.to_owned(),
            key: key.clone(),
            parent: parent.unwrap_or_default().to_owned(),
            labels: HashMap::new(),
        });
        let mounts = self
            .session
            .block_on(self.client().prepare(request))
            .map_err(rpc(format!(
                "prepare a {} snapshot for layer {}",
                self.snapshotter,
                layer.digest_string()
            )))?
            .into_inner()
            .mounts;
        let result = self.apply_and_commit(layer, diff_id, mounts, &key, chain);
        if result.is_err() {
            self.remove(&key);
        }
        result
    }

    fn apply_and_commit(
        &self,
        layer: &BlobRef,
        diff_id: &str,
        mounts: Vec<Mount>,
        key: &str,
        chain: &str,
    ) -> Result<(), ContainerdError> {
        let request = self.session.request(ApplyRequest {
            diff: Some(Descriptor {
                media_type: layer.media_type.to_string(),
                digest: layer.digest_string(),
                size: i64::try_from(layer.size).unwrap_or(i64::MAX),
                annotations: HashMap::new(),
            }),
            mounts,
            payloads: HashMap::new(),
            sync_fs: false,
        });
        let applied = self
            .session
            .block_on(DiffClient::new(self.session.channel()).apply(request))
            .map_err(rpc(format!("unpack layer {}", layer.digest_string())))?
            .into_inner()
            .applied
            .map(|d| d.digest)
            .unwrap_or_default();
        if applied != diff_id {
            return Err(ContainerdError::DiffId {
                layer: layer.digest_string(),
                expected: diff_id.to_owned(),
                found: applied,
            });
        }
        let request = self.session.request(CommitSnapshotRequest {
            snapshotter: self.snapshotter.to_owned(),
            name: chain.to_owned(),
            key: key.to_owned(),
            labels: HashMap::new(),
        });
        match self.session.block_on(self.client().commit(request)) {
            Ok(_) => Ok(()),
            // Another import committed the same layers first: theirs will do.
            Err(status) if status.code() == Code::AlreadyExists => {
                self.remove(key);
                Ok(())
            }
            Err(status) => Err(rpc(format!("commit snapshot {chain}"))(status)),
        }
    }

    /// Best effort: an active snapshot left behind belongs to the lease and
    /// goes with it.
    fn remove(&self, key: &str) {
        let request = self.session.request(RemoveSnapshotRequest {
            snapshotter: self.snapshotter.to_owned(),
            key: key.to_owned(),
        });
        let _ = self.session.block_on(self.client().remove(request));
    }
}

/// A key prefix no other extraction uses, even in parallel imports.
fn unique_key() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        unique()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_ids_follow_the_oci_definition() {
        let a = format!("sha256:{}", "a".repeat(64));
        let b = format!("sha256:{}", "b".repeat(64));
        assert_eq!(chain_id(None, &a), a);
        let expected = Digest::from(Sha256::of(format!("{a} {b}").as_bytes())).to_string();
        assert_eq!(chain_id(Some(&a), &b), expected);
    }
}
