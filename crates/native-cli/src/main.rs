//! `airlock`: verify container image bundles before they are imported.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod error;
mod import;
mod pipeline;
mod policy;
mod progress;
mod registry;
mod render;
mod sidecar;
mod small_file;
mod untrusted;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::commands::{custody, generate, inspect, load, push, sbom, sums, verify};
use crate::untrusted::Untrusted;

/// Exit statuses, as documented in `--help`.
const EXIT_FAILED_CHECK: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let result = match generate::requested() {
        Some(dir) => generate::run(&dir),
        None => run(Cli::parse()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_FAILED_CHECK),
        Err(e) => {
            // Errors carry names from the bundle, paths from the stick and
            // the bodies of a registry's or daemon's answers.
            eprintln!("airlock: {}", Untrusted(&e));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run(cli: Cli) -> Result<bool, error::CliError> {
    match cli.command {
        Command::Verify(args) => verify::run(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Sbom(args) => sbom::run(&args),
        Command::Load(args) => load::run(&args),
        Command::Push(args) => push::run(&args),
        Command::Hash { files } => sums::hash(&files),
        Command::Check(args) => sums::check(&args),
        Command::Keygen(args) => custody::keygen(&args),
        Command::Seal(args) => custody::seal(&args),
        Command::SealSums(args) => custody::seal_sums(&args),
        Command::Approve(args) => custody::approve(&args),
    }
}
