//! Command-line surface.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Check container image bundles before they are imported.
///
/// Exit status: 0 when every check passed, 1 when a check failed, 2 on a
/// usage or I/O error.
#[derive(Debug, Parser)]
#[command(name = "airlock", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify a bundle: whole-file hash, every blob, every manifest and layer.
    Verify(VerifyArgs),
    /// Show the images a bundle would load: tags, platforms, config, OS,
    /// packages, layers and what each changed, or (--files) their file
    /// trees (verifying the bundle on the way).
    Inspect(InspectArgs),
    /// Verify a bundle and, in the same read, import it: nothing becomes
    /// visible in the target unless every check passed.
    Load(LoadArgs),
    /// Verify a bundle and push its images to an OCI registry: the bundle is
    /// staged on local disk while it is read, and nothing is sent unless
    /// every check passed.
    Push(PushArgs),
    /// Verify a bundle and write a software bill of materials for one of its
    /// images: the OS and packages found in its layers, as SPDX 2.3 or
    /// CycloneDX 1.6 JSON. A bundle that fails verification gets none.
    Sbom(SbomArgs),
    /// Print SHA-256 sums in `sha256sum` format.
    Hash {
        /// Files to hash (`-` for standard input).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Check files against a sums file, like `sha256sum -c` (also reads
    /// Windows `certutil -hashfile` output).
    Check(CheckArgs),
    /// Make a signing key pair: NAME.key (ECDSA P-256, encrypted with a
    /// passphrase in cosign's format) and NAME.pub. Neither is overwritten.
    Keygen(KeygenArgs),
    /// Verify a bundle and seal it: write BUNDLE.sha256 and
    /// BUNDLE.seal.sigstore.json, a Sigstore bundle signing the file's
    /// SHA-256, its images and what the check found. A failing bundle is
    /// not sealed.
    Seal(SealArgs),
    /// Check every file a sums file lists, then seal the set: write
    /// SUMS.seal.sigstore.json, a Sigstore bundle whose subjects are those
    /// files (how a release is signed; `airlock check SUMS --trust KEY.pub`
    /// checks it).
    SealSums(SealSumsArgs),
    /// Verify a bundle and record a signed decision about it:
    /// BUNDLE.approval.sigstore.json (or, when another approver's file is
    /// there, BUNDLE.approval-KEYID.sigstore.json).
    Approve(ApproveArgs),
}

/// The passphrase of a key file.
#[derive(Debug, Args)]
pub struct Passphrase {
    /// Read the key's passphrase from the first line of standard input
    /// (else it comes from AIRLOCK_PASSWORD).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write: NAME.key and NAME.pub.
    pub name: PathBuf,
    #[command(flatten)]
    pub passphrase: Passphrase,
}

#[derive(Debug, Args)]
pub struct SealArgs {
    #[command(flatten)]
    pub source: Source,
    /// The sender's encrypted key (`airlock keygen` or `cosign generate-key-pair`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    #[command(flatten)]
    pub passphrase: Passphrase,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The sums file: `sha256sum` output, `SHA256SUMS` or certutil text.
    pub sums: PathBuf,
    /// Require a seal over the sums file (`airlock seal-sums`) signed by
    /// one of these public keys, naming exactly the files it lists;
    /// repeatable.
    #[arg(long, value_name = "KEY.pub")]
    pub trust: Vec<PathBuf>,
    /// The seal, when it is not SUMS.seal.sigstore.json beside the sums
    /// file.
    #[arg(long, value_name = "FILE", requires = "trust")]
    pub seal: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SealSumsArgs {
    /// The sums file whose files are sealed (each line must name its file).
    pub sums: PathBuf,
    /// The signer's encrypted key (`airlock keygen` or `cosign generate-key-pair`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    #[command(flatten)]
    pub passphrase: Passphrase,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    #[command(flatten)]
    pub source: Source,
    /// The approver's encrypted key.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Record a rejection, with this reason, instead of an approval.
    #[arg(long, value_name = "REASON")]
    pub reject: Option<String>,
    /// The approver's name, recorded beside the key id.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub passphrase: Passphrase,
}

#[derive(Debug, Args)]
pub struct Source {
    /// The bundle (`docker save` / `podman save` / OCI archive, optionally gzip-compressed).
    pub bundle: PathBuf,
    /// The SHA-256 the sender recorded (64 hex digits).
    #[arg(long, value_name = "HEX", conflicts_with = "sums")]
    pub sha256: Option<String>,
    /// A sums file holding the recorded SHA-256 (sha256sum or certutil output).
    /// Without this or --sha256, a sidecar next to the bundle is used
    /// (`BUNDLE.sha256`, `BUNDLE.certutil.txt`, `SHA256SUMS`, …).
    #[arg(long, value_name = "FILE")]
    pub sums: Option<PathBuf>,
    /// Never show a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Raise (or lower) one of the verifier's limits, e.g.
    /// `--limit max_json_bytes=64MiB`; repeatable. VALUE is an integer,
    /// optionally with KiB, MiB, GiB or TiB. NAME is one of: max_json_bytes,
    /// max_json_total_bytes, max_entries, max_tar_metadata_bytes,
    /// max_expansion_ratio, ratio_floor_bytes, max_layer_uncompressed_bytes,
    /// max_index_depth, max_descriptors, max_name_bytes, max_names_total_bytes.
    #[arg(long = "limit", value_name = "NAME=VALUE", value_parser = parse_limit)]
    pub limits: Vec<(String, u64)>,
}

/// `NAME=VALUE` for `--limit`: a known limit and a count or byte size.
fn parse_limit(s: &str) -> Result<(String, u64), String> {
    let names = || verify_core::Limits::NAMES.join(", ");
    let Some((name, value)) = s.split_once('=') else {
        return Err(format!("expected NAME=VALUE; NAME is one of {}", names()));
    };
    let name = name.trim();
    if verify_core::Limits::default().get(name).is_err() {
        return Err(format!(
            "no limit is called `{name}`; use one of {}",
            names()
        ));
    }
    parse_bytes(value).map(|n| (name.to_owned(), n))
}

/// A count or byte size: an integer (`_` allowed between digits),
/// optionally followed by KiB, MiB, GiB or TiB.
pub fn parse_bytes(value: &str) -> Result<u64, String> {
    let value = value.trim();
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit() && c != '_') {
        Some(at) => value.split_at(at),
        None => (value, ""),
    };
    let shift = match unit.trim() {
        "" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        "TiB" => 40,
        other => {
            return Err(format!(
                "`{other}` is not a unit; write a plain integer or use KiB, MiB, GiB or TiB"
            ));
        }
    };
    digits
        .replace('_', "")
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("`{value}` is not a whole number that fits in 64 bits"))
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub source: Source,
    /// Print the report as one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
    /// Read the whole bundle even after a finding that settles the verdict
    /// (tar framing broken, a corrupt compressed stream, an entry or header
    /// limit): the report then lists every finding and compares the file's
    /// SHA-256. Without it reading stops there, and the report has the
    /// findings so far.
    #[arg(long)]
    pub full_report: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// Without --policy: check only the seal (--seal, or
    /// BUNDLE.seal.sigstore.json beside the bundle), which must be signed by
    /// one of these public keys for exactly this file and its images;
    /// repeatable.
    #[arg(long, value_name = "KEY.pub", conflicts_with = "policy")]
    pub trust: Vec<PathBuf>,
}

/// A site's policy, the signed files it reads and the audit log.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Admit the bundle only as this site policy (TOML) says: sealed by a
    /// listed sender, approved by enough listed approvers, only allowed
    /// images, and so on. A refusal exits 1 and imports nothing.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The seal to check, instead of BUNDLE.seal.sigstore.json beside the
    /// bundle.
    #[arg(long, value_name = "FILE")]
    pub seal: Option<PathBuf>,
    /// An approval to count, instead of the BUNDLE.approval*.sigstore.json
    /// files beside the bundle; repeatable.
    #[arg(long = "approval", value_name = "FILE")]
    pub approvals: Vec<PathBuf>,
    /// Append one JSON line about this run (time, bundle SHA-256, images,
    /// target, seal and approver keys, result) to FILE, created 0600 if
    /// missing.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub source: Source,
    /// Print the report as one JSON object on stdout, with each image's
    /// whole file tree (`images[].files`).
    #[arg(long, conflicts_with_all = ["files", "image"])]
    pub json: bool,
    /// Show each image's file tree, all layers applied: mode, uid:gid, size,
    /// the layer that last wrote each path (`L2`), `-> target` for a
    /// symlink, `=> path` for a hard link, and marks for setuid/setgid
    /// files, device nodes and world-writable paths.
    #[arg(long)]
    pub files: bool,
    /// Show only this image: one of its names (`app:1.0` or
    /// `docker.io/library/app:1.0`) or the start of its manifest or config
    /// digest.
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// With --files: show only what layer N (numbered from 1, as the layer
    /// table shows) added or changed and the final image still has; the
    /// directories above them are shown by name for context. What the layer
    /// removed is counted in the layer table.
    #[arg(long, value_name = "N", requires = "files", value_parser = clap::value_parser!(u32).range(1..))]
    pub layer: Option<u32>,
    /// Read the whole bundle even after a finding that settles the verdict
    /// (tar framing broken, a corrupt compressed stream, an entry or header
    /// limit): the report then lists every finding and compares the file's
    /// SHA-256. Without it reading stops there, and the report has the
    /// findings so far.
    #[arg(long)]
    pub full_report: bool,
}

#[derive(Debug, Args)]
pub struct SbomArgs {
    #[command(flatten)]
    pub source: Source,
    /// The image to describe: one of its names (`app:1.0` or
    /// `docker.io/library/app:1.0`) or the start of its manifest or config
    /// digest. Needed when the bundle holds more than one image.
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// The document to write: `spdx-json` (SPDX 2.3) or `cyclonedx-json`
    /// (CycloneDX 1.6). Its creation time is `SOURCE_DATE_EPOCH` when set,
    /// else now.
    #[arg(long, value_name = "FORMAT", value_parser = parse_sbom_format)]
    pub format: verify_core::sbom::SbomFormat,
    /// Write the document to FILE (replaced whole, never left half-written)
    /// instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_sbom_format(s: &str) -> Result<verify_core::sbom::SbomFormat, String> {
    s.parse()
        .map_err(|e: verify_core::sbom::UnknownSbomFormat| e.to_string())
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    #[command(flatten)]
    pub source: Source,
    /// Where to import: `oci:DIR` (an OCI image layout, no daemon needed),
    /// `docker` (the Docker Engine API) or `containerd`.
    #[arg(long, value_name = "TARGET", value_parser = parse_target)]
    pub to: TargetSpec,
    /// Docker's socket for `--to docker` (default: `DOCKER_HOST`, else
    /// unix:///var/run/docker.sock).
    #[arg(long, value_name = "unix://PATH")]
    pub docker_host: Option<String>,
    /// containerd's socket [default: $CONTAINERD_ADDRESS, else
    /// /run/containerd/containerd.sock].
    #[arg(long, value_name = "SOCKET")]
    pub address: Option<PathBuf>,
    /// containerd namespace [default: $CONTAINERD_NAMESPACE, else default].
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Snapshotter to unpack into [default: $CONTAINERD_SNAPSHOTTER, else
    /// containerd's default].
    #[arg(long, value_name = "NAME")]
    pub snapshotter: Option<String>,
    /// Print the report and the import summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// An import target as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    OciLayout(PathBuf),
    Docker,
    /// containerd, reached with `--address`, `--namespace`, `--snapshotter`.
    Containerd,
}

fn parse_target(s: &str) -> Result<TargetSpec, String> {
    match (s, s.split_once(':')) {
        ("docker", _) => Ok(TargetSpec::Docker),
        ("containerd", _) => Ok(TargetSpec::Containerd),
        (_, Some(("oci", dir))) if !dir.is_empty() => Ok(TargetSpec::OciLayout(PathBuf::from(dir))),
        _ => Err(format!(
            "`{s}` is not a target; use oci:DIR, docker or containerd"
        )),
    }
}

#[derive(Debug, Args)]
pub struct PushArgs {
    #[command(flatten)]
    pub source: Source,
    /// `HOST[:PORT][/PREFIX]`. `docker.io/library/alpine:3.19` is pushed as
    /// `HOST/PREFIX/alpine:3.19`, `localhost/airlock/app:1.0` as
    /// `HOST/PREFIX/airlock/app:1.0`: the original registry host (and
    /// Docker Hub's `library/`) is dropped.
    pub registry: String,
    /// Push the image named OLD (`localhost/airlock/app:1.0`, or `airlock/app:1.0`)
    /// as NEW (`team/app:2.0`, or `team/app` to keep the tag), under the registry
    /// and prefix. Repeatable.
    #[arg(long = "tag-map", value_name = "OLD=NEW")]
    pub tag_map: Vec<String>,
    /// Registry user; the password comes from --password-stdin or
    /// AIRLOCK_REGISTRY_PASSWORD.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, requires = "user")]
    pub password_stdin: bool,
    /// A PEM file with the CA (or CAs) that signed the registry's certificate,
    /// trusted besides the system's.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Blobs stream into this repository of the registry while the bundle is
    /// read and are mounted into their images' repositories once it verified;
    /// `PREFIX/airlock-incoming` by default. Nothing in it is tagged or
    /// referenced: what a failed bundle leaves there is removed by the
    /// registry's garbage collection.
    #[arg(long, value_name = "REPO", conflicts_with = "stage_locally")]
    pub holding_repo: Option<String>,
    /// Stage the bundle on local disk while it is verified and send nothing to
    /// the registry before the verdict (for sites where unverified bytes must
    /// not reach the registry at all); needs room for the unpacked bundle.
    #[arg(long)]
    pub stage_locally: bool,
    /// Where --stage-locally stages the bundle's files; the system's temporary
    /// directory by default.
    #[arg(long, value_name = "DIR", requires = "stage_locally")]
    pub staging: Option<PathBuf>,
    /// Print the report and the push summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

#[cfg(test)]
mod tests {
    use super::parse_limit;

    #[test]
    fn limits_parse_with_units() {
        assert_eq!(
            parse_limit("max_json_bytes=64MiB"),
            Ok(("max_json_bytes".to_owned(), 64 << 20))
        );
        assert_eq!(
            parse_limit("max_entries=2_000_000"),
            Ok(("max_entries".to_owned(), 2_000_000))
        );
        assert!(parse_limit("max_entries").is_err());
        assert!(parse_limit("max_entries=lots").is_err());
        assert!(parse_limit("max_entries=5MB").is_err());
        assert!(parse_limit("max_entries=99999999999TiB").is_err());
        let unknown = parse_limit("max_bombs=1").expect_err("unknown name");
        assert!(unknown.contains("max_index_depth"), "{unknown}");
    }
}
