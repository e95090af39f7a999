//! `airlock load`: the target the arguments name, then the single read
//! that verifies and imports.

use super::importing::{Import, import_into};
use super::source::options_for;
use crate::cli::{LoadArgs, TargetSpec};
use crate::error::CliError;
use crate::import::FileTarget;
#[cfg(unix)]
use crate::import::containerd::{Containerd, ContainerdOptions};
#[cfg(unix)]
use crate::import::docker::{self, DockerLoad};
use crate::import::oci_layout::OciLayout;
use crate::policy::Checks;

pub fn run(args: &LoadArgs) -> Result<bool, CliError> {
    let (options, recorded) = options_for(&args.source)?;
    // Before the target is opened: a policy mistake touches nothing.
    let mut checks = Checks::prepare(&args.source.bundle, &args.policy, &[])?;
    let target_name = match &args.to {
        TargetSpec::OciLayout(dir) => format!("oci:{}", dir.display()),
        TargetSpec::Containerd => "containerd".to_owned(),
        TargetSpec::Docker => "docker".to_owned(),
    };
    let mut target: Box<dyn FileTarget> = match &args.to {
        TargetSpec::OciLayout(dir) => Box::new(OciLayout::open(dir)?),
        #[cfg(not(unix))]
        TargetSpec::Containerd | TargetSpec::Docker => return Err(needs_unix_socket(&args.to)),
        #[cfg(unix)]
        TargetSpec::Containerd => Box::new(Containerd::open(&ContainerdOptions {
            address: args.address.clone(),
            namespace: args.namespace.clone(),
            snapshotter: args.snapshotter.clone(),
        })?),
        #[cfg(unix)]
        TargetSpec::Docker => Box::new(DockerLoad::open(docker::socket_path(
            args.docker_host.as_deref(),
        )?)?),
    };
    let import = Import {
        source: &args.source,
        json: args.json,
        options,
        recorded,
        command: "load",
        target_name,
    };
    import_into(import, &mut checks, target.as_mut())
}

/// Docker and containerd are reached over unix sockets, which this build
/// (Windows) cannot open.
#[cfg(not(unix))]
fn needs_unix_socket(target: &TargetSpec) -> CliError {
    let name = match target {
        TargetSpec::Docker => "docker",
        _ => "containerd",
    };
    CliError::Usage(format!(
        "--to {name} talks to {name} over a unix socket, which the Windows build of Airlock \
         cannot open; use --to oci:DIR or `airlock push` here"
    ))
}
