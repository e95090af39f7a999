//! One module per subcommand; `main` parses the arguments, calls one of
//! them and turns its answer into the exit status. Each returns whether
//! the bundle or files checked out (`Ok(false)`: a check failed).
//!
//! What several commands share lives beside them: the bundle a command
//! reads ([`source`]), which of its images a command is about
//! ([`select`]), how results reach stdout ([`output`]) and the
//! single read that verifies and imports ([`importing`]).

pub mod custody;
pub mod generate;
pub mod inspect;
pub mod load;
pub mod push;
pub mod sbom;
pub mod sums;
pub mod verify;

mod importing;
mod output;
mod select;
mod source;
