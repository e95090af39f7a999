//! The push target of `--stage-locally`: the bundle is staged on local disk
//! while it is verified, and nothing reaches the registry until the report
//! says it is good; then the staged files are pushed (see [`super::publish`]).

use std::path::PathBuf;

use verify_core::{BlobRef, ImportPlan};

use super::auth::Credentials;
use super::client::Client;
use super::naming::{Destination, TagMap};
use super::publish::{BlobBytes, Publisher};
use super::tls::TlsRoots;
use crate::import::dir_handle::DirHandle;
use crate::import::staging::{Staged, Staging};
use crate::import::{ImportError, ImportSummary};

/// What `airlock push` was asked to do, apart from the bundle.
pub struct PushOptions {
    pub destination: Destination,
    pub tag_map: TagMap,
    pub credentials: Option<Credentials>,
    pub ca_cert: Option<PathBuf>,
}

impl PushOptions {
    /// Connects to the registry, so that a wrong password or an untrusted
    /// certificate is reported before the bundle is read.
    pub fn connect(&self) -> Result<Client, ImportError> {
        let roots = TlsRoots::load(self.ca_cert.as_deref())?;
        let mut client = Client::new(&self.destination.host, &roots, self.credentials.clone())?;
        client.ping()?;
        Ok(client)
    }
}

pub struct RegistryTarget {
    staging: Staging,
    client: Client,
    destination: Destination,
    tag_map: TagMap,
}

impl RegistryTarget {
    /// Connects to the registry and makes the staging directory in
    /// `staging_parent`.
    pub fn open(options: PushOptions, staging_parent: PathBuf) -> Result<Self, ImportError> {
        let client = options.connect()?;
        // A killed push leaves its staging behind; the next one clears it.
        let parent =
            DirHandle::open(&staging_parent).map_err(|e| ImportError::io(&staging_parent, e))?;
        let staging = Staging::create(parent, "airlock-push-")?;
        Ok(Self {
            staging,
            client,
            destination: options.destination,
            tag_map: options.tag_map,
        })
    }
}

/// The staged files, by digest.
struct StagedBytes<'a> {
    staging: &'a Staging,
}

impl StagedBytes<'_> {
    fn path(&self, blob: &BlobRef) -> Result<PathBuf, ImportError> {
        self.staging
            .path_of(&blob.digest)
            .ok_or_else(|| ImportError::NotStaged {
                digest: blob.digest_string(),
            })
    }
}

impl BlobBytes for StagedBytes<'_> {
    fn holder(&self, _blob: &BlobRef) -> Option<&str> {
        None
    }

    fn upload(
        &mut self,
        client: &mut Client,
        repo: &str,
        session: &str,
        blob: &BlobRef,
    ) -> Result<(), ImportError> {
        let path = self.path(blob)?;
        client.upload(repo, session, &blob.digest_string(), blob.size, &path)?;
        Ok(())
    }

    fn manifest(&mut self, _client: &mut Client, blob: &BlobRef) -> Result<Vec<u8>, ImportError> {
        let path = self.path(blob)?;
        std::fs::read(&path).map_err(|e| ImportError::io(path, e))
    }
}

impl Staged for RegistryTarget {
    fn staging(&mut self) -> &mut Staging {
        &mut self.staging
    }

    fn commit_staged(&mut self, plan: &ImportPlan) -> Result<ImportSummary, ImportError> {
        let mut bytes = StagedBytes {
            staging: &self.staging,
        };
        Publisher {
            client: &mut self.client,
            destination: &self.destination,
            tag_map: &self.tag_map,
        }
        .publish(plan, &mut bytes)
    }
}
