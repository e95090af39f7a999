//! Differential tests against the real importers (issue #6): every
//! adversarial case of `test_support::cases` and every corpus file is
//! handed to `airlock verify` and to each importer in [`importers`], each
//! starting from empty state. Whenever Airlock says `ok`, each importer
//! must import exactly what the report lists (same names, same config
//! digests), or refuse for a reason we know and write in the table; when
//! Airlock says `fail`, anything goes. The whole picture is written to
//! `target/differential.md` (its own section there).
//!
//! Adding an importer (e.g. containerd's `ctr images import`) is one more
//! [`Importer`] and one more line in [`importers`].

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::containerd::Containerd;
use support::dockerd::Dockerd;
use test_support::cases;

/// Why containers/image (skopeo, podman) refuses `docker save | gzip`.
const GZIP_WHOLE: &str = "containers/image reads a docker-archive only uncompressed";

/// Seconds an importer gets for one bundle before it counts as refusing.
const TIMEOUT: &str = "300";

// ---------------------------------------------------------------------------
// What was imported
// ---------------------------------------------------------------------------

/// What an importer holds after one import.
#[derive(Debug, Default)]
struct Imported {
    /// Full name (`docker.io/library/x:1`) to image ID (config digest), for
    /// importers that keep the names the bundle gives.
    names: BTreeMap<String, String>,
    /// Every image ID imported, named or not.
    ids: BTreeSet<String>,
}

enum Outcome {
    Imported(Imported),
    /// The importer's most telling error line.
    Refused(String),
}

/// The bundle as GNU tar lists it: a reader other than the one under test,
/// used only to explain refusals.
struct Listing {
    names: Vec<String>,
    /// Whether the whole bundle is gzip-compressed (`docker save | gzip`).
    gzip: bool,
    /// Whether any entry is a hard link.
    hardlinks: bool,
}

impl Listing {
    fn of(bundle: &Path) -> Self {
        let out = Command::new("tar")
            .arg("-tvf")
            .arg(bundle)
            .output()
            .expect("GNU tar runs");
        let text = String::from_utf8_lossy(&out.stdout);
        // `-v` lines: mode owner size date time name [-> target | link to target]
        let names = text
            .lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .map(|n| n.trim_start_matches("./").to_owned())
            .collect();
        let head = std::fs::read(bundle).map(|b| b.get(..2) == Some(&[0x1f, 0x8b][..]));
        Self {
            names,
            gzip: head.unwrap_or(false),
            hardlinks: text.lines().any(|l| l.starts_with('h')),
        }
    }

    fn has(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }
}

trait Importer {
    fn name(&self) -> &'static str;
    /// Whether what it imports carries the names from the bundle (skopeo
    /// copies one image per reference and names it as told).
    fn keeps_names(&self) -> bool;
    /// Imports `bundle` into empty state.
    fn import(&mut self, bundle: &Path) -> Outcome;
    /// Why refusing a bundle Airlock accepts is expected, if we know.
    fn explains(&self, listing: &Listing, error: &str) -> Option<&'static str>;
}

/// The importers compared, in table order.
fn importers() -> Vec<Box<dyn Importer>> {
    vec![
        Box::new(DockerLoad(Dockerd::start("diff"))),
        Box::new(CtrImport {
            daemon: Containerd::start("diff-ctrd"),
            cases: 0,
        }),
        Box::new(SkopeoDockerArchive),
        Box::new(SkopeoOciArchive),
        Box::new(PodmanLoad),
    ]
}

/// Runs `command` under `timeout`, giving its output.
fn run(program: &str, args: &[&str], path: &Path) -> Output {
    Command::new("timeout")
        .arg(TIMEOUT)
        .arg(program)
        .args(args)
        .arg(path)
        .output()
        .expect("the importer runs")
}

/// The line of an importer's output that says why it failed.
fn error_line(out: &Output) -> String {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains("level=info"))
        .collect();
    let line = lines
        .iter()
        .find(|l| l.to_lowercase().contains("error") || l.contains("level=fatal"))
        .or(lines.first())
        .map_or_else(
            || format!("exit {:?}", out.status.code()),
            |l| (*l).to_owned(),
        );
    // skopeo logs `time="…" level=fatal msg="…"`: keep the message.
    match line.split_once("msg=") {
        Some((_, msg)) => msg.trim_matches('"').to_owned(),
        None => line,
    }
}

/// `docker images`-style `repo:tag id` lines as full names and IDs.
fn parse_images(stdout: &[u8]) -> Imported {
    let mut imported = Imported::default();
    for line in String::from_utf8_lossy(stdout).lines() {
        let Some((name, id)) = line.split_once(' ') else {
            continue;
        };
        let id = if id.starts_with("sha256:") {
            id.to_owned()
        } else {
            format!("sha256:{id}")
        };
        if !name.contains("<none>") {
            imported.names.insert(full_name(name), id.clone());
        }
        imported.ids.insert(id);
    }
    imported
}

/// Docker's familiar names (`alpine:latest`, `me/app:1`) in full.
fn full_name(name: &str) -> String {
    match name.split_once('/') {
        None => format!("docker.io/library/{name}"),
        Some((host, _)) if host.contains(['.', ':']) || host == "localhost" => name.to_owned(),
        Some(_) => format!("docker.io/{name}"),
    }
}

/// `docker load` into a private dockerd 20.10.
struct DockerLoad(Dockerd);

impl Importer for DockerLoad {
    fn name(&self) -> &'static str {
        "docker load"
    }

    fn keeps_names(&self) -> bool {
        true
    }

    fn import(&mut self, bundle: &Path) -> Outcome {
        let ids = self.0.docker(&["images", "-aq", "--no-trunc"]);
        for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
            self.0.docker(&["rmi", "-f", id]);
        }
        let host = self.0.host();
        let out = run("docker", &["-H", &host, "load", "-i"], bundle);
        if !out.status.success() {
            return Outcome::Refused(error_line(&out));
        }
        let format = "{{.Repository}}:{{.Tag}} {{.ID}}";
        let list = self
            .0
            .docker(&["images", "-a", "--no-trunc", "--format", format]);
        Outcome::Imported(parse_images(&list.stdout))
    }

    fn explains(&self, listing: &Listing, _error: &str) -> Option<&'static str> {
        (!listing.has("manifest.json"))
            .then_some("no manifest.json: dockerd 20.10 loads only docker-archive bundles")
    }
}

/// `ctr images import` (containerd 1.6's own archive reader, which keeps
/// the last copy of a duplicated entry) into a fresh namespace per case.
struct CtrImport {
    daemon: Containerd,
    cases: usize,
}

impl CtrImport {
    /// The config digest of the image a manifest or index names; for an
    /// index, of its first manifest (ctr imports this platform only).
    fn config_of(&self, namespace: &str, digest: &str) -> Option<String> {
        let doc: Value =
            serde_json::from_str(&self.daemon.ctr(namespace, &["content", "get", digest])).ok()?;
        if let Some(config) = doc["config"]["digest"].as_str() {
            return Some(config.to_owned());
        }
        let first = doc["manifests"].as_array()?.first()?["digest"]
            .as_str()?
            .to_owned();
        self.config_of(namespace, &first)
    }
}

impl Importer for CtrImport {
    fn name(&self) -> &'static str {
        "ctr import"
    }

    fn keeps_names(&self) -> bool {
        true
    }

    fn import(&mut self, bundle: &Path) -> Outcome {
        self.cases += 1;
        let namespace = format!("case{}", self.cases);
        let address = self.daemon.address().to_owned();
        let out = run(
            "ctr",
            &["-a", &address, "-n", &namespace, "images", "import"],
            bundle,
        );
        if !out.status.success() {
            return Outcome::Refused(error_line(&out));
        }
        let mut imported = Imported::default();
        for (name, target) in self.daemon.images(&namespace) {
            if let Some(id) = self.config_of(&namespace, &target) {
                imported.names.insert(name, id.clone());
                imported.ids.insert(id);
            }
        }
        Outcome::Imported(imported)
    }

    fn explains(&self, listing: &Listing, error: &str) -> Option<&'static str> {
        if listing.gzip && error.contains("invalid tar header") {
            Some("containerd 1.6's importer reads only an uncompressed tar")
        } else if listing.hardlinks && error.contains("not found") {
            Some("containerd's importer does not follow hard links in the archive")
        } else {
            None
        }
    }
}

/// The config digest of every image `skopeo copy` wrote under `dir`.
fn copied_config_ids(dir: &Path) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for image in std::fs::read_dir(dir).expect("scratch dir").flatten() {
        // A copy that failed (the one past the last image) may leave an empty dir.
        let Ok(manifest) = std::fs::read(image.path().join("manifest.json")) else {
            continue;
        };
        let manifest: Value = serde_json::from_slice(&manifest).expect("skopeo writes JSON");
        if let Some(config) = manifest["config"]["digest"].as_str() {
            ids.insert(config.to_owned());
        }
    }
    ids
}

/// `skopeo copy SOURCE dir:DIR/imgN`: one image, its manifest and config
/// kept as they are (copying into `oci:` would re-serialize a Docker config
/// and change its digest).
fn skopeo_copy(source: &str, dir: &Path, n: usize) -> Result<(), String> {
    let out = Command::new("timeout")
        .args([TIMEOUT, "skopeo", "copy", "-q", source])
        .arg(format!("dir:{}", dir.join(format!("img{n}")).display()))
        .output()
        .expect("skopeo runs");
    if out.status.success() {
        Ok(())
    } else {
        Err(error_line(&out))
    }
}

/// `skopeo copy docker-archive:F:@N oci:DIR` for every N the archive has.
struct SkopeoDockerArchive;

impl Importer for SkopeoDockerArchive {
    fn name(&self) -> &'static str {
        "skopeo docker-archive"
    }

    fn keeps_names(&self) -> bool {
        false
    }

    fn import(&mut self, bundle: &Path) -> Outcome {
        let dir = support::scratch("diff-skopeo-docker");
        let source = bundle.to_str().expect("utf-8 path");
        for n in 0..100 {
            if let Err(error) = skopeo_copy(&format!("docker-archive:{source}:@{n}"), &dir, n) {
                // Asking for one image past the last is how the list ends.
                if n > 0 && error.contains("Invalid source index") {
                    break;
                }
                return Outcome::Refused(error);
            }
        }
        Outcome::Imported(Imported {
            names: BTreeMap::new(),
            ids: copied_config_ids(&dir),
        })
    }

    fn explains(&self, listing: &Listing, error: &str) -> Option<&'static str> {
        if !listing.has("manifest.json") {
            Some("no manifest.json: not a docker-archive")
        } else if listing.gzip {
            Some(GZIP_WHOLE)
        } else if listing.hardlinks && error.contains("Digest did not match") {
            Some("skopeo 1.9 reads a hard link's own (empty) data, not its target's")
        } else {
            None
        }
    }
}

/// `skopeo copy oci-archive:F[:REF] oci:DIR`, once per `ref.name` when the
/// index has more than one image.
struct SkopeoOciArchive;

impl Importer for SkopeoOciArchive {
    fn name(&self) -> &'static str {
        "skopeo oci-archive"
    }

    fn keeps_names(&self) -> bool {
        false
    }

    fn import(&mut self, bundle: &Path) -> Outcome {
        let dir = support::scratch("diff-skopeo-oci");
        let source = format!("oci-archive:{}", bundle.to_str().expect("utf-8 path"));
        match skopeo_copy(&source, &dir, 0) {
            Ok(()) => {}
            Err(e) if e.contains("more than one image") => {
                // skopeo wants a reference: take the ref names from
                // index.json as GNU tar extracts it.
                let index = Command::new("tar")
                    .arg("-xOf")
                    .arg(bundle)
                    .args(["--no-anchored", "index.json"]) // also `./index.json`
                    .output()
                    .expect("GNU tar runs");
                let index: Value = serde_json::from_slice(&index.stdout).unwrap_or_default();
                let refs: Vec<String> = index["manifests"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d["annotations"]["org.opencontainers.image.ref.name"].as_str())
                    .map(str::to_owned)
                    .collect();
                if refs.is_empty() {
                    return Outcome::Refused(e);
                }
                for (n, r) in refs.iter().enumerate() {
                    if let Err(e) = skopeo_copy(&format!("{source}:{r}"), &dir, n) {
                        return Outcome::Refused(e);
                    }
                }
            }
            Err(e) => return Outcome::Refused(e),
        }
        Outcome::Imported(Imported {
            names: BTreeMap::new(),
            ids: copied_config_ids(&dir),
        })
    }

    fn explains(&self, listing: &Listing, _error: &str) -> Option<&'static str> {
        (!listing.has("index.json")).then_some("no index.json: not an OCI archive")
    }
}

/// `podman load` into private vfs storage, emptied for each bundle.
struct PodmanLoad;

impl PodmanLoad {
    fn podman(dir: &Path) -> Command {
        let mut c = Command::new("timeout");
        c.args([TIMEOUT, "podman", "--storage-driver", "vfs", "--root"])
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .arg("--tmpdir")
            .arg(dir.join("tmp"))
            .args(["--cgroup-manager=cgroupfs", "--events-backend=file"]);
        c
    }
}

impl Importer for PodmanLoad {
    fn name(&self) -> &'static str {
        "podman load"
    }

    fn keeps_names(&self) -> bool {
        true
    }

    fn import(&mut self, bundle: &Path) -> Outcome {
        let dir = support::scratch("diff-podman");
        let out = Self::podman(&dir)
            .args(["load", "-q", "-i"])
            .arg(bundle)
            .output()
            .expect("podman runs");
        if !out.status.success() {
            // podman tries each transport in turn and prints why each one
            // failed: the archive ones say what it made of the bundle.
            let stderr = String::from_utf8_lossy(&out.stderr);
            let archives: Vec<&str> = stderr
                .lines()
                .filter_map(|l| l.trim().strip_prefix("* "))
                .filter(|l| l.contains("-archive:"))
                .collect();
            if archives.is_empty() {
                return Outcome::Refused(error_line(&out));
            }
            return Outcome::Refused(archives.join("; ").chars().take(300).collect());
        }
        let list = Self::podman(&dir)
            .args(["images", "-a", "--no-trunc", "--format"])
            .arg("{{.Repository}}:{{.Tag}} {{.ID}}")
            .output()
            .expect("podman runs");
        Outcome::Imported(parse_images(&list.stdout))
    }

    fn explains(&self, listing: &Listing, error: &str) -> Option<&'static str> {
        if listing.gzip {
            Some(GZIP_WHOLE)
        } else if !listing.has("manifest.json") && error.contains("more than one image in oci") {
            Some("podman 4.3 loads an OCI archive only if its index holds one image")
        } else {
            None
        }
    }
}

/// `podman` exists only if `cargo xtask test` (or the user) installed it.
fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

// ---------------------------------------------------------------------------
// What Airlock says
// ---------------------------------------------------------------------------

struct Verdict {
    ok: bool,
    kinds: Vec<String>,
    /// Each image's names (empty when untagged) and config digest.
    images: Vec<(Vec<String>, String)>,
}

fn airlock_verify(bundle: &Path) -> Verdict {
    let out = support::airlock(&["verify", "--json", bundle.to_str().expect("utf-8 path")]);
    let report = support::json(&out);
    let kinds = support::finding_kinds(&report);
    let images = report["images"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            let config = i["config_digest"].as_str()?.to_owned();
            let names = i["repo_tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            Some((names, config))
        })
        .collect();
    Verdict {
        ok: report["verdict"] == "ok",
        kinds,
        images,
    }
}

/// Why `got` is not what the report lists, if it is not. Every imported
/// image must be one the report lists, under a name the report gives it
/// (the report lists every name some importer would give, e.g. both an
/// index's `ref.name` and containerd's `io.containerd.image.name`, so an
/// importer may use fewer), and every image in the report must arrive,
/// where a name the report gives several images (one per platform of an
/// index) may arrive as any one of them.
fn differs(report: &Verdict, got: &Imported, keeps_names: bool) -> Option<String> {
    let ids: BTreeSet<&String> = report.images.iter().map(|(_, c)| c).collect();
    let extra: Vec<_> = got.ids.iter().filter(|i| !ids.contains(i)).collect();
    if !extra.is_empty() {
        return Some(format!(
            "imported images the report does not list: {extra:?}"
        ));
    }
    if got.ids.is_empty() {
        return Some("imported nothing".to_owned());
    }
    if !keeps_names {
        return None;
    }
    for (name, id) in &got.names {
        let listed = report
            .images
            .iter()
            .any(|(names, c)| c == id && names.contains(name));
        if !listed {
            return Some(format!("{name} -> {id} is not in the report"));
        }
    }
    for (names, config) in &report.images {
        let arrived = got.ids.contains(config)
            || report
                .images
                .iter()
                .any(|(other, c)| got.ids.contains(c) && other.iter().any(|n| names.contains(n)));
        if !arrived {
            return Some(format!("{names:?} ({config}) did not arrive"));
        }
    }
    None
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

fn short(id: &str) -> &str {
    let hex = id.strip_prefix("sha256:").unwrap_or(id);
    &hex[..hex.len().min(12)]
}

fn cell_imported(got: &Imported, keeps_names: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    if keeps_names {
        parts.extend(got.names.iter().map(|(n, id)| format!("{n}→{}", short(id))));
    }
    let named: BTreeSet<&String> = got.names.values().collect();
    parts.extend(
        got.ids
            .iter()
            .filter(|i| !keeps_names || !named.contains(i))
            .map(|i| short(i).to_owned()),
    );
    parts.join(", ")
}

/// A table cell: one line, pipes escaped, at most 220 characters.
fn escape(s: &str) -> String {
    let s: String = s.chars().take(220).collect();
    s.replace('|', "\\|").replace('\n', " ")
}

/// The bundles: each adversarial case (written to a file) and each corpus
/// file but the 1 GiB gzip bomb, whose verdict is a policy either way.
fn bundles() -> Vec<(String, PathBuf)> {
    let dir = support::scratch("diff-cases");
    let mut out = Vec::new();
    for (name, bytes) in cases::all() {
        let path = dir.join(format!("{name}.tar"));
        std::fs::write(&path, bytes).expect("case written");
        out.push((name.to_owned(), path));
    }
    for verdict in ["ok", "fail"] {
        for row in test_support::rows_with(verdict) {
            out.push((row.file.clone(), row.path()));
        }
    }
    out
}

#[test]
fn importers_import_exactly_what_airlock_reports() {
    assert!(
        have("podman"),
        "podman is not installed; `cargo xtask test` installs it (apt: podman)"
    );
    let mut importers = importers();
    let mut table = String::from("| case | airlock |");
    for i in &importers {
        let _ = write!(table, " {} |", i.name());
    }
    table.push_str("\n|---|---|");
    table.push_str(&"---|".repeat(importers.len()));
    table.push('\n');

    let mut violations = Vec::new();
    for (case, path) in bundles() {
        let report = airlock_verify(&path);
        let listing = Listing::of(&path);
        let verdict = if report.ok { "ok" } else { "fail" };
        let _ = write!(
            table,
            "| {case} | **{verdict}** {} |",
            escape(&report.kinds.join(" "))
        );
        for importer in &mut importers {
            let cell = match importer.import(&path) {
                Outcome::Refused(error) => {
                    let why = importer.explains(&listing, &error);
                    if report.ok && why.is_none() {
                        violations.push(format!(
                            "{case}: {} refused a bundle Airlock accepts: {error}",
                            importer.name()
                        ));
                    }
                    match (report.ok, why) {
                        (true, Some(why)) => format!("refused ({why}): {error}"),
                        (true, None) => format!("**✘ refused**: {error}"),
                        (false, _) => format!("refused: {error}"),
                    }
                }
                Outcome::Imported(got) => {
                    let what = cell_imported(&got, importer.keeps_names());
                    match differs(&report, &got, importer.keeps_names()) {
                        Some(diff) if report.ok => {
                            violations.push(format!(
                                "{case}: Airlock says ok but {} imports something else: {diff}",
                                importer.name()
                            ));
                            format!("**✘ {what}** ({diff})")
                        }
                        Some(_) => format!("imported {what}"),
                        None => format!("✔ {what}"),
                    }
                }
            };
            let _ = write!(table, " {} |", escape(&cell));
        }
        table.push('\n');
        eprintln!("{case}: done");
    }

    support::write_differential_section(
        "Every adversarial case and corpus bundle: airlock verify vs the importers",
        &table,
    );
    println!("{table}");
    assert!(
        violations.is_empty(),
        "Airlock's report and the importers disagree:\n{}",
        violations.join("\n")
    );
}
