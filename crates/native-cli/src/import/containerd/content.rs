//! containerd's content store: files streamed in as the bundle is read,
//! and the lookups and labels the import needs afterwards.

use std::collections::HashMap;

use containerd_client::services::v1::content_client::ContentClient;
use containerd_client::services::v1::{
    Info, InfoRequest, ReadContentRequest, UpdateRequest, WriteAction, WriteContentRequest,
};
use prost_types::FieldMask;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};

use super::session::{ContainerdError, Session, rpc};

/// Bytes sent per write: small pieces from the reader are gathered up to
/// this, so each message carries a useful amount of data, and it stays far
/// below containerd's 16 MiB message limit.
const PIECE: usize = 1 << 20;
/// Writes queued before the importer waits for the socket.
const IN_FLIGHT: usize = 2;

/// What committing a file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    Written,
    /// containerd already had content with this digest.
    Present,
}

/// One file being written: a Content.Write stream under an ingest ref.
///
/// Requests go into a channel the stream reads; a task drains the replies
/// (one per request) so that flow control never stalls a large file, and
/// ends with the stream's status.
pub struct Ingest {
    path: String,
    reference: String,
    total: i64,
    offset: i64,
    pending: Vec<u8>,
    requests: Option<mpsc::Sender<WriteContentRequest>>,
    done: Option<JoinHandle<Result<(), Status>>>,
}

impl Ingest {
    pub fn start(session: &Session, path: &str, reference: String, size: u64) -> Self {
        let (requests, queue) = mpsc::channel(IN_FLIGHT);
        let mut client = ContentClient::new(session.channel());
        let request = session.request(ReceiverStream::new(queue));
        let done = session.spawn(async move {
            let mut replies = client.write(request).await?.into_inner();
            while replies.message().await?.is_some() {}
            Ok(())
        });
        Self {
            path: path.to_owned(),
            reference,
            total: i64::try_from(size).unwrap_or(i64::MAX),
            offset: 0,
            pending: Vec::new(),
            requests: Some(requests),
            done: Some(done),
        }
    }

    pub fn data(&mut self, session: &Session, bytes: &[u8]) -> Result<(), ContainerdError> {
        if self.pending.is_empty() {
            // One allocation per piece, no larger than what is left of the file.
            let left = usize::try_from(self.total - self.offset).unwrap_or(PIECE);
            self.pending.reserve(PIECE.min(left).max(bytes.len()));
        }
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= PIECE {
            self.send(session, WriteAction::Write, String::new())?;
        }
        Ok(())
    }

    /// Sends what is left and commits it as `digest` (`sha256:…`);
    /// containerd checks the size and digest before it accepts the blob.
    pub fn commit(mut self, session: &Session, digest: &str) -> Result<Stored, ContainerdError> {
        self.send(session, WriteAction::Commit, digest.to_owned())?;
        self.requests = None;
        match self.outcome(session) {
            Ok(()) => Ok(Stored::Written),
            Err(ContainerdError::Rpc { status, .. }) if status.code() == Code::AlreadyExists => {
                Ok(Stored::Present)
            }
            Err(e) => Err(e),
        }
    }

    fn send(
        &mut self,
        session: &Session,
        action: WriteAction,
        expected: String,
    ) -> Result<(), ContainerdError> {
        let data = std::mem::take(&mut self.pending);
        let length = i64::try_from(data.len()).unwrap_or(i64::MAX);
        // The offset must be the ingest's current one: containerd reads an
        // offset of 0 on a started ingest as "truncate and start over".
        let request = WriteContentRequest {
            action: action as i32,
            r#ref: self.reference.clone(),
            total: self.total,
            expected,
            offset: self.offset,
            data,
            labels: HashMap::new(),
        };
        self.offset += length;
        let Some(requests) = &self.requests else {
            return Err(self.gone());
        };
        if session.block_on(requests.send(request)).is_err() {
            // The stream ended early; its status says why.
            self.requests = None;
            return Err(self.outcome(session).err().unwrap_or_else(|| self.gone()));
        }
        Ok(())
    }

    fn outcome(&mut self, session: &Session) -> Result<(), ContainerdError> {
        let Some(done) = self.done.take() else {
            return Err(self.gone());
        };
        match session.block_on(done) {
            Ok(result) => result.map_err(rpc(format!("store {}", self.path))),
            Err(_) => Err(self.gone()),
        }
    }

    fn gone(&self) -> ContainerdError {
        ContainerdError::WriterGone {
            path: self.path.clone(),
        }
    }
}

/// Whether containerd has content with this digest.
pub fn exists(session: &Session, digest: &str) -> Result<bool, ContainerdError> {
    let mut client = ContentClient::new(session.channel());
    let request = session.request(InfoRequest {
        digest: digest.to_owned(),
    });
    match session.block_on(client.info(request)) {
        Ok(_) => Ok(true),
        Err(status) if status.code() == Code::NotFound => Ok(false),
        Err(status) => Err(rpc(format!("look up {digest}"))(status)),
    }
}

/// The whole of a (small) blob, such as a config.
pub fn read(session: &Session, digest: &str) -> Result<Vec<u8>, ContainerdError> {
    let mut client = ContentClient::new(session.channel());
    let request = session.request(ReadContentRequest {
        digest: digest.to_owned(),
        offset: 0,
        size: 0,
    });
    let failed = || rpc(format!("read {digest}"));
    session.block_on(async {
        let mut replies = client.read(request).await.map_err(failed())?.into_inner();
        let mut bytes = Vec::new();
        while let Some(reply) = replies.message().await.map_err(failed())? {
            bytes.extend_from_slice(&reply.data);
        }
        Ok(bytes)
    })
}

/// Sets `labels` on a blob, leaving its other labels as they are.
pub fn set_labels(
    session: &Session,
    digest: &str,
    labels: HashMap<String, String>,
) -> Result<(), ContainerdError> {
    if labels.is_empty() {
        return Ok(());
    }
    let paths = labels.keys().map(|k| format!("labels.{k}")).collect();
    let mut client = ContentClient::new(session.channel());
    let request = session.request(UpdateRequest {
        info: Some(Info {
            digest: digest.to_owned(),
            labels,
            ..Info::default()
        }),
        update_mask: Some(FieldMask { paths }),
    });
    session
        .block_on(client.update(request))
        .map_err(rpc(format!("label {digest}")))?;
    Ok(())
}
