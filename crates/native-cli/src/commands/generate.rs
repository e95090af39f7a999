//! `airlock __generate DIR`: the man pages and shell completions, made from
//! the clap definition the binary itself parses with, so the packaged
//! documentation cannot drift from the command line. It is packaging's hook,
//! not part of that command line: it is recognised before clap parses, so
//! the pages and completions it writes do not list it.

use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::CliError;

const COMMAND: &str = "__generate";

/// The shells whose completions are written: those Debian packages carry
/// completions for, and PowerShell for the Windows build.
const SHELLS: [Shell; 4] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell];

/// `DIR` when the command line is exactly `airlock __generate DIR`.
pub fn requested() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    let (command, dir) = (args.next()?, args.next()?);
    (command == COMMAND && args.next().is_none()).then(|| PathBuf::from(dir))
}

/// Writes `DIR/man/airlock.1` (and one page per subcommand,
/// `airlock-verify.1`, …) and `DIR/completions/`.
pub fn run(dir: &Path) -> Result<bool, CliError> {
    let man = dir.join("man");
    let completions = dir.join("completions");
    for sub in [&man, &completions] {
        std::fs::create_dir_all(sub).map_err(|e| CliError::io(sub, e))?;
    }
    clap_mangen::generate_to(Cli::command(), &man).map_err(|e| CliError::io(&man, e))?;
    let mut command = Cli::command();
    for shell in SHELLS {
        clap_complete::generate_to(shell, &mut command, "airlock", &completions)
            .map_err(|e| CliError::io(&completions, e))?;
    }
    Ok(true)
}
