//! The push target by default: no local copy. Files stream into the
//! holding repository during the single read ([`super::holding`]); once the
//! bundle verified, each blob an image needs is mounted from there into
//! the image's repository, then manifests and tags follow
//! ([`super::publish`]). Until then nothing is tagged or referenced.

use std::collections::HashMap;

use verify_core::{BlobRef, FileHasher, ImportPlan, Sha256};

use super::client::Client;
use super::holding::{Held, Holding};
use super::publish::{BlobBytes, Publisher};
use super::target::PushOptions;
use crate::import::{FileTarget, ImportError, ImportSummary};

/// Files up to this size are also kept in memory, since one of them may
/// be a manifest the commit puts (manifests are small; a larger one is
/// fetched back from the holding repository).
const KEEP_FILE: u64 = 4 << 20;
/// What all kept files may take together.
const KEEP_TOTAL: u64 = 16 << 20;

pub struct StreamingTarget {
    /// `None` once reading is over.
    holding: Option<Holding>,
    holding_repo: String,
    options: PushOptions,
    /// Small files by digest, and the one being read if it is kept.
    kept: HashMap<Sha256, Vec<u8>>,
    kept_bytes: u64,
    keeping: Option<Vec<u8>>,
}

impl StreamingTarget {
    /// Connects to the registry and starts the uploads into `holding_repo`.
    pub fn open(options: PushOptions, holding_repo: String) -> Result<Self, ImportError> {
        let client = options.connect()?;
        Ok(Self {
            holding: Some(Holding::start(client, holding_repo.clone())),
            holding_repo,
            options,
            kept: HashMap::new(),
            kept_bytes: 0,
            keeping: None,
        })
    }

    fn holding(&mut self) -> Result<&mut Holding, ImportError> {
        self.holding
            .as_mut()
            .ok_or_else(|| ImportError::Target("the push has ended".into()))
    }
}

impl FileTarget for StreamingTarget {
    fn begin_file(&mut self, path: &str, size: u64) -> Result<(), ImportError> {
        self.keeping = (size <= KEEP_FILE && self.kept_bytes + size <= KEEP_TOTAL)
            .then(|| Vec::with_capacity(usize::try_from(size).unwrap_or(0)));
        let named = Sha256::from_blob_path(path);
        Ok(self.holding()?.begin(named, size)?)
    }

    fn file_data(&mut self, bytes: bytes::Bytes) -> Result<(), ImportError> {
        if let Some(kept) = &mut self.keeping {
            kept.extend_from_slice(&bytes);
        }
        // The holding upload owns its pieces: copied here, as before.
        Ok(self.holding()?.data(Vec::from(bytes))?)
    }

    fn end_file(&mut self, sha256: &Sha256) -> Result<(), ImportError> {
        if let Some(kept) = self.keeping.take() {
            self.kept_bytes += kept.len() as u64;
            self.kept.insert(*sha256, kept);
        }
        Ok(self.holding()?.end(*sha256)?)
    }

    fn commit(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
        let holding = self
            .holding
            .take()
            .ok_or_else(|| ImportError::Target("the push has ended".into()))?;
        let Held { mut client, blobs } = holding.finish()?;
        let mut bytes = HeldBytes {
            repo: &self.holding_repo,
            blobs: &blobs,
            kept: &self.kept,
        };
        Publisher {
            client: &mut client,
            destination: &self.options.destination,
            tag_map: &self.options.tag_map,
        }
        .publish(plan, &mut bytes)
    }

    fn abort(&mut self) {
        // Dropping the holding stops the upload in flight; what reached the
        // holding repository stays there unreferenced.
        self.holding = None;
    }
}

/// The blobs of the holding repository, and the small files kept.
struct HeldBytes<'a> {
    repo: &'a str,
    blobs: &'a std::collections::HashSet<Sha256>,
    kept: &'a HashMap<Sha256, Vec<u8>>,
}

impl HeldBytes<'_> {
    fn held(&self, blob: &BlobRef) -> Result<(), ImportError> {
        if self.blobs.contains(&blob.digest) {
            Ok(())
        } else {
            Err(ImportError::NotStaged {
                digest: blob.digest_string(),
            })
        }
    }
}

impl BlobBytes for HeldBytes<'_> {
    fn holder(&self, blob: &BlobRef) -> Option<&str> {
        self.blobs.contains(&blob.digest).then_some(self.repo)
    }

    /// The registry would not mount: the blob goes from the holding
    /// repository through here into the session, and the registry checks
    /// its digest again.
    fn upload(
        &mut self,
        client: &mut Client,
        repo: &str,
        session: &str,
        blob: &BlobRef,
    ) -> Result<(), ImportError> {
        self.held(blob)?;
        let digest = blob.digest_string();
        let mut source = Some(client.get_blob(self.repo, &digest)?);
        let session = client.patch(repo, session, &digest, blob.size, || {
            source.take().ok_or_else(|| {
                std::io::Error::other("the registry refused a streamed upload after its bytes")
            })
        })?;
        client.finish_upload(repo, &session, &digest)?;
        Ok(())
    }

    fn manifest(&mut self, client: &mut Client, blob: &BlobRef) -> Result<Vec<u8>, ImportError> {
        if let Some(kept) = self.kept.get(&blob.digest) {
            return Ok(kept.clone());
        }
        self.held(blob)?;
        // Too large to have been kept: read back, and checked here, since
        // these bytes are put as they are.
        let digest = blob.digest_string();
        let mut bytes = Vec::new();
        let reader = client.get_blob(self.repo, &digest)?;
        std::io::Read::read_to_end(&mut std::io::Read::take(reader, blob.size + 1), &mut bytes)
            .map_err(|e| ImportError::Target(format!("reading {digest} back: {e}")))?;
        let mut hasher = FileHasher::new();
        hasher.update(&bytes);
        if bytes.len() as u64 != blob.size || hasher.finish() != blob.digest {
            return Err(ImportError::Target(format!(
                "the holding repository {} returned other bytes for {digest}",
                self.repo
            )));
        }
        Ok(bytes)
    }
}
