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
    /// A policy file that cannot be used: `rule` is empty when the
    /// message names it (or the file is not TOML).
    #[error("{}: {}{message}", path.display(), rule_prefix(rule))]
    Policy {
        path: PathBuf,
        rule: String,
        message: String,
    },
    #[error("import failed{note}: {0}", note = unchanged_note(.0))]
    Import(#[from] crate::import::ImportError),
    #[error("push failed, no image was tagged: {0}")]
    Push(crate::registry::RegistryError),
}

fn rule_prefix(rule: &str) -> String {
    if rule.is_empty() {
        String::new()
    } else {
        format!("{rule}: ")
    }
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
