//! The report as people read it in a terminal.
//!
//! Every string that came from the bundle, a sums file or the target (tags,
//! platforms, entry names, messages quoting them, file names) is written
//! through [`Untrusted`]; only digests, numbers and our own words are not.

mod files;
mod policy;

pub use policy::policy;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use verify_core::contents::{ImageConfig, LayerChanges};
use verify_core::{BundleFormat, Compression, ImageReport, Platform, Report, Severity, Verdict};

use crate::import::ImportSummary;
use crate::sidecar::Recorded;
use crate::untrusted::Untrusted;

/// Whether to use colour (a terminal, and `NO_COLOR` unset).
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Binary units, as file managers show sizes.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn short(hex: &str) -> &str {
    let hex = hex.strip_prefix("sha256:").unwrap_or(hex);
    hex.get(..12).unwrap_or(hex)
}

fn format_name(f: BundleFormat) -> &'static str {
    match f {
        BundleFormat::DockerArchive => "docker-archive (manifest.json)",
        BundleFormat::OciLayout => "OCI layout (index.json)",
        BundleFormat::DockerAndOci => "docker save >= 25 / ctr export (manifest.json + index.json)",
        BundleFormat::Unknown => "unknown",
        _ => "another layout",
    }
}

/// The header lines: what file, which hash, which layout.
fn bundle_lines(
    out: &mut String,
    name: &str,
    report: &Report,
    recorded: Option<&Recorded>,
    hashing: Hashing,
    style: Style,
) {
    let b = &report.bundle();
    let skipped = hashing == Hashing::Skipped;
    // Unless told it skipped the hash, the CLI hashes every file it reads to
    // the end; no hash means reading stopped once the verdict was settled,
    // and `size` counts what was read.
    let read = if b.sha256.is_none() && !skipped {
        "read: "
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "bundle    {} ({read}{})",
        Untrusted(name),
        size(b.size)
    );
    if let Some(sha) = b.sha256 {
        let _ = writeln!(out, "sha256    {sha}");
    } else if skipped {
        let _ = writeln!(
            out,
            "sha256    not computed: no recorded hash, policy or audit log needs it \
             (give --sha256 or a sidecar to have the file checked)"
        );
    }
    match (b.sha256_matches, recorded) {
        (Some(true), Some(r)) => {
            let _ = writeln!(
                out,
                "recorded  {} (from {})",
                style.paint("32", "matches"),
                Untrusted(&r.source)
            );
        }
        (Some(false), Some(r)) => {
            let _ = writeln!(
                out,
                "recorded  {} {} (from {})",
                style.paint("31;1", "DIFFERENT:"),
                r.sha256,
                Untrusted(&r.source)
            );
        }
        (None, Some(r)) => {
            let _ = writeln!(
                out,
                "recorded  {} not compared: reading stopped at a finding that fails the \
                 bundle (--full-report reads it all) (from {})",
                r.sha256,
                Untrusted(&r.source)
            );
        }
        (_, None) => {
            let _ = writeln!(
                out,
                "recorded  none given: the whole-file hash was not compared"
            );
        }
    }
    let compression = match b.compression {
        Compression::None => "",
        Compression::Gzip => ", gzip-compressed",
        Compression::Zstd => ", zstd-compressed",
        _ => ", compressed",
    };
    let _ = writeln!(
        out,
        "format    {}{compression}, {} entries",
        format_name(b.format),
        b.entries
    );
}

/// One line per image.
fn image_table(out: &mut String, report: &Report) {
    if report.images().is_empty() {
        return;
    }
    let rows: Vec<[String; 5]> = report
        .images()
        .iter()
        .map(|i| {
            let total: u64 = i.layers.iter().filter_map(|l| l.size).sum();
            [
                names(&i.repo_tags),
                platform(i.platform.as_ref()),
                i.config_digest
                    .map(|d| short(&d.to_string()).to_owned())
                    .unwrap_or_default(),
                i.layers.len().to_string(),
                size(total),
            ]
        })
        .collect();
    table(out, ["IMAGE", "PLATFORM", "ID", "LAYERS", "SIZE"], &rows);
}

/// Tags or image names as one cell, or `<untagged>`.
fn names(names: &[String]) -> String {
    if names.is_empty() {
        return "<untagged>".to_owned();
    }
    let shown: Vec<String> = names.iter().map(|n| Untrusted(n).to_string()).collect();
    shown.join(", ")
}

fn platform(platform: Option<&Platform>) -> String {
    platform.map_or_else(|| "?".to_owned(), |p| Untrusted(p).to_string())
}

fn table<const N: usize>(out: &mut String, head: [&str; N], rows: &[[String; N]]) {
    let mut widths = head.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: &[&str]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                s.push_str(cell);
            } else {
                let _ = write!(s, "{cell:<w$}  ");
            }
        }
        let _ = writeln!(out, "{}", s.trim_end());
    };
    line(out, &head);
    for row in rows {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        line(out, &cells);
    }
}

fn findings(out: &mut String, report: &Report, style: Style) {
    for f in report.findings() {
        let sev = match f.severity {
            Severity::Error => style.paint("31", "error  "),
            Severity::Warning => style.paint("33", "warning"),
            _ => style.paint("2", "note   "),
        };
        let mut place = String::new();
        if let Some(layer) = f.layer {
            let _ = write!(place, "layer {} ", short(&layer.to_hex()));
        } else if let Some(image) = &f.image {
            let _ = write!(place, "image {} ", Untrusted(image));
        }
        if let Some(e) = &f.entry {
            let _ = write!(place, "{}", Untrusted(e));
        }
        if let Some(o) = f.offset {
            let _ = write!(place, " @ byte {o}");
        }
        let _ = writeln!(out, "{sev} {}  {}", f.kind, place.trim());
        let _ = writeln!(out, "        {}", Untrusted(&f.message));
        if let (Some(e), Some(x)) = (&f.expected, &f.found) {
            let _ = writeln!(out, "        expected {}", Untrusted(e));
            let _ = writeln!(out, "        found    {}", Untrusted(x));
        }
    }
}

/// Findings, then the verdict.
fn conclusion(out: &mut String, report: &Report, style: Style) {
    findings(out, report, style);
    if !report.findings().is_empty() {
        out.push('\n');
    }
    verdict_line(out, report, style);
}

fn verdict_line(out: &mut String, report: &Report, style: Style) {
    let errors = report
        .findings()
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = report.findings().len() - errors;
    let images = report.images().len();
    let line = match report.verdict() {
        Verdict::Ok => style.paint(
            "32;1",
            &format!("VERIFIED: {images} image(s), {warnings} warning(s)"),
        ),
        Verdict::Fail => style.paint(
            "31;1",
            &format!("FAILED: {errors} error(s), {warnings} warning(s): do not import this bundle"),
        ),
    };
    let _ = writeln!(out, "{line}");
}

/// `airlock verify`: header, images, findings, verdict.
pub fn verify(name: &str, report: &Report, recorded: Option<&Recorded>, style: Style) -> String {
    verify_read(name, report, recorded, Hashing::Whole, style)
}

/// Whether the whole-file hash was computed for a file read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashing {
    /// It was: a report without one stopped reading early.
    Whole,
    /// The file was read to its end, and nothing needed its hash (`load`
    /// or `push` without a recorded hash, policy or audit log).
    Skipped,
}

/// [`verify`], for a read that may have skipped the whole-file hash.
pub fn verify_read(
    name: &str,
    report: &Report,
    recorded: Option<&Recorded>,
    hashing: Hashing,
    style: Style,
) -> String {
    let mut out = String::new();
    bundle_lines(&mut out, name, report, recorded, hashing, style);
    out.push('\n');
    image_table(&mut out, report);
    if !report.images().is_empty() {
        out.push('\n');
    }
    conclusion(&mut out, report, style);
    out
}

/// What `airlock inspect` shows of each image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Config, OS, packages, layers and what each changed, history.
    Details,
    /// The final file tree (`--files`), or only what one layer (0-based)
    /// added or changed (`--layer`).
    Files { only_layer: Option<usize> },
}

/// `airlock inspect`: the images given (all of the report's, or the one
/// `--image` chose), then the findings and the verdict.
pub fn inspect(
    name: &str,
    report: &Report,
    images: &[&ImageReport],
    view: View,
    recorded: Option<&Recorded>,
    style: Style,
) -> String {
    let mut out = String::new();
    bundle_lines(&mut out, name, report, recorded, Hashing::Whole, style);
    for image in images {
        out.push('\n');
        let _ = writeln!(out, "{}", style.paint("1", &names(&image.repo_tags)));
        match view {
            View::Details => image_details(&mut out, image, style),
            View::Files { only_layer } => match &image.files {
                Some(tree) => files::tree(&mut out, tree, only_layer, style),
                None => {
                    let _ = writeln!(
                        out,
                        "  no file tree: a layer of this image could not be read (see the findings)"
                    );
                }
            },
        }
    }
    out.push('\n');
    conclusion(&mut out, report, style);
    out
}

fn image_details(out: &mut String, image: &ImageReport, style: Style) {
    let _ = writeln!(out, "  platform  {}", platform(image.platform.as_ref()));
    if let Some(c) = &image.created {
        let _ = writeln!(out, "  created   {}", Untrusted(c));
    }
    if let Some(d) = image.config_digest {
        let _ = writeln!(out, "  config    {d}");
    }
    if let Some(d) = image.manifest_digest {
        let _ = writeln!(out, "  manifest  {d}");
    }
    if let Some(os) = &image.os {
        let named = os.pretty_name.clone().unwrap_or_else(|| {
            [Some(os.id.as_str()), os.version_id.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        });
        let _ = writeln!(out, "  os        {}", Untrusted(&named));
    }
    if let Some(config) = &image.config {
        config_lines(out, config, style);
    }
    package_lines(out, image);
    layer_table(out, image);
    if let Some(config) = &image.config
        && !config.history.is_empty()
    {
        out.push('\n');
        for step in &config.history {
            let made = step
                .layer
                .map_or_else(|| "  -".to_owned(), |l| format!("{:>3}", l + 1));
            let by = step.created_by.as_deref().unwrap_or("");
            let _ = writeln!(out, "  {made}  {}", Untrusted(by));
        }
    }
}

/// Packages counted by type (`12 deb, 3 pypi`), then the files the
/// catalogers could not read.
fn package_lines(out: &mut String, image: &ImageReport) {
    match &image.packages {
        None => {
            let _ = writeln!(
                out,
                "  packages  not listed: a layer of this image could not be read"
            );
        }
        Some(packages) if packages.is_empty() => {
            let _ = writeln!(out, "  packages  none found");
        }
        Some(packages) => {
            let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
            for p in packages {
                *by_type.entry(p.ecosystem.purl_type()).or_default() += 1;
            }
            let counts: Vec<String> = by_type.iter().map(|(t, n)| format!("{n} {t}")).collect();
            let _ = writeln!(out, "  packages  {}", counts.join(", "));
        }
    }
    for note in &image.package_notes {
        let _ = writeln!(
            out,
            "  note      {} (layer {}): {}",
            Untrusted(&note.file),
            note.layer + 1,
            Untrusted(&note.message)
        );
    }
}

/// One row per layer: what it is, and what it did to the tree below it.
fn layer_table(out: &mut String, image: &ImageReport) {
    let rows: Vec<[String; 9]> = image
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let [added, changed, removed, wasted] = change_cells(l.changes.as_ref());
            [
                format!("  {}", i + 1),
                l.digest
                    .map(|d| short(&d.to_hex()).to_owned())
                    .unwrap_or_default(),
                {
                    let media_type = l.media_type.to_string();
                    let short = media_type.rsplit('.').next().unwrap_or(&media_type);
                    Untrusted(short).to_string()
                },
                l.size.map(size).unwrap_or_default(),
                l.uncompressed_size.map(size).unwrap_or_else(|| "?".into()),
                added,
                changed,
                removed,
                wasted,
            ]
        })
        .collect();
    table(
        out,
        [
            "  #", "LAYER", "TYPE", "SIZE", "UNPACKED", "ADDED", "CHANGED", "REMOVED", "WASTED",
        ],
        &rows,
    );
}

/// `count (bytes)` for added, changed and removed paths, and the bytes a
/// later layer hid; `?` when the image's layers could not all be read.
fn change_cells(changes: Option<&LayerChanges>) -> [String; 4] {
    let Some(c) = changes else {
        return [
            "?".to_owned(),
            "?".to_owned(),
            "?".to_owned(),
            "?".to_owned(),
        ];
    };
    let cell = |count: u64, bytes: u64| {
        if count == 0 {
            "0".to_owned()
        } else {
            format!("{count} ({})", size(bytes))
        }
    };
    [
        cell(c.added, c.added_bytes),
        cell(c.changed, c.changed_bytes),
        cell(c.removed, c.removed_bytes),
        if c.wasted_bytes == 0 {
            "-".to_owned()
        } else {
            size(c.wasted_bytes)
        },
    ]
}

/// What the image runs and as whom, its environment (secrets marked),
/// ports and volumes.
fn config_lines(out: &mut String, config: &ImageConfig, style: Style) {
    let argv = |words: &Option<Vec<String>>| {
        words
            .as_ref()
            .map_or_else(|| "-".to_owned(), |w| Untrusted(&w.join(" ")).to_string())
    };
    let _ = writeln!(
        out,
        "  runs      {} {}",
        argv(&config.entrypoint),
        argv(&config.cmd)
    );
    let user = if config.runs_as_root {
        let who = if config.user.is_empty() {
            "(no User set)".to_owned()
        } else {
            Untrusted(&config.user).to_string()
        };
        format!("{} {who}", style.paint("33", "runs as root"))
    } else {
        Untrusted(&config.user).to_string()
    };
    let _ = writeln!(out, "  user      {user}");
    if !config.working_dir.is_empty() {
        let _ = writeln!(out, "  workdir   {}", Untrusted(&config.working_dir));
    }
    for var in &config.env {
        let mark = if var.secret {
            style.paint("33", "  (secret?)")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  env       {}={}{mark}",
            Untrusted(&var.name),
            Untrusted(&var.value)
        );
    }
    if !config.exposed_ports.is_empty() {
        let ports: Vec<String> = config
            .exposed_ports
            .iter()
            .map(|p| Untrusted(p).to_string())
            .collect();
        let _ = writeln!(out, "  ports     {}", ports.join(", "));
    }
    if !config.volumes.is_empty() {
        let volumes: Vec<String> = config
            .volumes
            .iter()
            .map(|v| Untrusted(v).to_string())
            .collect();
        let _ = writeln!(out, "  volumes   {}", volumes.join(", "));
    }
    for (key, value) in &config.labels {
        let _ = writeln!(out, "  label     {}={}", Untrusted(key), Untrusted(value));
    }
}

/// `airlock load`/`push`: what the target now shows.
pub fn imported(summary: &ImportSummary, style: Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.paint(
            "32;1",
            &format!(
                "IMPORTED into {}: {} image(s), {} blob(s) written, {} already there",
                Untrusted(&summary.target),
                summary.images.len(),
                summary.blobs_written,
                summary.blobs_present
            )
        )
    );
    for image in &summary.images {
        let _ = writeln!(out, "  {}  {}", names(&image.names), image.manifest_digest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(5 << 30), "5.0 GiB");
    }
}
