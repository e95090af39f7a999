//! Errors that stop a command before it can give a verdict (exit status 2).

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a sums file: {message}", path.display())]
    Sums { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
    #[error("{}: {message}", path.display())]
    Key { path: PathBuf, message: String },
    #[error("import failed{note}: {0}", note = unchanged_note(.0))]
    Import(#[from] crate::import::ImportError),
    #[error("push failed, no image was tagged: {0}")]
    Push(crate::registry::RegistryError),
}

fn unchanged_note(e: &crate::import::ImportError) -> &'static str {
    if e.left_target_unchanged() {
        ", the target was left as it was"
    } else {
        ""
    }
}

impl CliError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}
