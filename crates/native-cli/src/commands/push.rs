//! `airlock push`: the command's inputs turned into a registry target, then
//! the same single read as `load`.

use std::io::BufRead;

use super::importing::{Import, import_into};
use super::source::options_for;
use crate::cli::PushArgs;
use crate::error::CliError;
use crate::import::FileTarget;
use crate::import::ImportError;
use crate::policy::Checks;
use crate::registry::RegistryError;
use crate::registry::auth::Credentials;
use crate::registry::naming::{Destination, TagMap, is_repository};
use crate::registry::streaming::StreamingTarget;
use crate::registry::target::{PushOptions, RegistryTarget};

/// Where the password is read from when `--password-stdin` is not given.
const PASSWORD_ENV: &str = "AIRLOCK_REGISTRY_PASSWORD";
/// The holding repository's name under the destination's prefix.
const HOLDING_REPO: &str = "airlock-incoming";

pub fn run(args: &PushArgs) -> Result<bool, CliError> {
    let (options, recorded) = options_for(&args.source)?;
    let mut checks = Checks::prepare(&args.source.bundle, &args.policy, &[])?;
    let destination = Destination::parse(&args.registry).map_err(usage)?;
    let holding = holding_repo(args, &destination)?;
    let push = PushOptions {
        destination,
        tag_map: TagMap::parse(&args.tag_map).map_err(usage)?,
        credentials: credentials(args)?,
        ca_cert: args.ca_cert.clone(),
    };
    let target: Result<Box<dyn FileTarget>, ImportError> = if args.stage_locally {
        let parent = args.staging.clone().unwrap_or_else(std::env::temp_dir);
        RegistryTarget::open(push, parent).map(|t| Box::new(t) as Box<dyn FileTarget>)
    } else {
        StreamingTarget::open(push, holding).map(|t| Box::new(t) as Box<dyn FileTarget>)
    };
    let import = Import {
        source: &args.source,
        json: args.json,
        options,
        recorded,
        command: "push",
        target_name: args.registry.clone(),
    };
    let result = target
        .map_err(CliError::from)
        .and_then(|mut target| import_into(import, &mut checks, target.as_mut()));
    // A registry's own refusal reads better without `load`'s wording.
    match result {
        Err(CliError::Import(ImportError::Registry(e))) => Err(CliError::Push(e)),
        other => other,
    }
}

/// The holding repository: `--holding-repo`, else `PREFIX/airlock-incoming`.
fn holding_repo(args: &PushArgs, destination: &Destination) -> Result<String, CliError> {
    match &args.holding_repo {
        Some(repo) => {
            let repo = repo.trim_matches('/');
            if is_repository(repo) {
                Ok(repo.to_owned())
            } else {
                Err(CliError::Usage(format!(
                    "--holding-repo `{repo}`: not a repository name (lowercase [a-z0-9] \
                     components joined by . _ - and separated by /)"
                )))
            }
        }
        None => Ok(destination.under_prefix(HOLDING_REPO)),
    }
}

fn usage(e: RegistryError) -> CliError {
    CliError::Usage(e.to_string())
}

fn credentials(args: &PushArgs) -> Result<Option<Credentials>, CliError> {
    let Some(user) = &args.user else {
        return Ok(None);
    };
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::Usage(format!("cannot read the password from stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        std::env::var(PASSWORD_ENV).map_err(|_| {
            CliError::Usage(format!(
                "--user needs a password: pass --password-stdin or set {PASSWORD_ENV}"
            ))
        })?
    };
    Ok(Some(Credentials {
        user: user.clone(),
        password,
    }))
}
