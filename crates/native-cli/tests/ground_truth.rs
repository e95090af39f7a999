//! Ground truth, not fixtures alone (issue #14): a real Debian image, built
//! from Debian's packages by `tests/ground-truth/build-debian-image.sh`,
//! saved as a docker-archive and as an oci-archive. What `airlock inspect
//! --json` lists for each must equal what tools other than Airlock
//! find in the same image: the packages `dpkg-query -W` reads from the final
//! rootfs, and the file tree `umoci unpack` lays out, path by path (type,
//! size, mode, owner, link), after the second layer's whiteouts, opaque
//! directories and type changes.
//!
//! The image is built once into `target/ground-truth/` and reused: the
//! script keeps a finished result until the script itself changes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

/// How many differences a failure shows; the count says how many more.
const SHOWN: usize = 20;

// ---------------------------------------------------------------------------
// The ground truth
// ---------------------------------------------------------------------------

/// `target/ground-truth/`, filled by the build script (once per test
/// process; the script itself reuses a finished directory across runs).
fn truth_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target dir holds tmp/")
            .join("ground-truth");
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/ground-truth/build-debian-image.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .output()
            .expect("bash runs the ground-truth build script");
        assert!(
            out.status.success(),
            "{} failed ({}):\n{}\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// One model of a tree and a package list, read from either side
// ---------------------------------------------------------------------------

/// One path of a final tree, as the comparison sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    /// `file`, `dir`, `symlink`, `char-device`, `block-device` or `fifo`
    /// (a hard link is the file it shares content with).
    kind: String,
    /// Content bytes of a file; 0 for the others.
    size: u64,
    /// Permission bits with setuid, setgid and sticky.
    mode: u32,
    uid: u32,
    gid: u32,
    /// A symlink's target; `None` for everything else.
    link: Option<String>,
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} size {} mode {:o} owner {}:{}",
            self.kind, self.size, self.mode, self.uid, self.gid
        )?;
        if let Some(link) = &self.link {
            write!(f, " -> {link:?}")?;
        }
        Ok(())
    }
}

/// Path (relative, no `./`) to what is there.
type Tree = BTreeMap<String, Node>;

/// (name, version, architecture) of each installed Debian package.
type Packages = BTreeSet<(String, String, String)>;

/// `tree.tsv`: path, type, size, mode (octal), uid:gid, link.
fn parse_tree_tsv(text: &str) -> Result<Tree, String> {
    let mut tree = Tree::new();
    for (n, line) in text.lines().enumerate() {
        let bad = |why: &str| format!("tree.tsv line {}: {why}: {line:?}", n + 1);
        let fields: Vec<&str> = line.split('\t').collect();
        let [path, kind, size, mode, owner, link] = fields[..] else {
            return Err(bad("not six columns"));
        };
        let (uid, gid) = owner.split_once(':').ok_or_else(|| bad("owner"))?;
        let node = Node {
            kind: kind.to_owned(),
            size: size.parse().map_err(|_| bad("size"))?,
            mode: u32::from_str_radix(mode, 8).map_err(|_| bad("mode"))?,
            uid: uid.parse().map_err(|_| bad("uid"))?,
            gid: gid.parse().map_err(|_| bad("gid"))?,
            link: (kind == "symlink").then(|| link.to_owned()),
        };
        if tree.insert(path.to_owned(), node).is_some() {
            return Err(bad("path listed twice"));
        }
    }
    Ok(tree)
}

/// `packages.tsv`: name, version, architecture.
fn parse_packages_tsv(text: &str) -> Result<Packages, String> {
    text.lines()
        .map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
            [name, version, arch] => Ok((name.to_owned(), version.to_owned(), arch.to_owned())),
            _ => Err(format!("packages.tsv: not three columns: {line:?}")),
        })
        .collect()
}

/// A path as a tar entry may write it (`./usr/bin/x`, `/usr/bin/x`,
/// `usr//bin/x/`) in the form the report's `path` uses.
fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    parts.join("/")
}

/// `images[0].files[]` of an `airlock inspect --json` report (which carries the trees).
///
/// A `hardlink` is compared as the `file` it shares content with: its own
/// mode and owner, its source's size. That is what the unpacked rootfs
/// shows, where both names are one inode.
fn tree_of_report(report: &Value) -> Result<Tree, String> {
    let files = report["images"][0]["files"]
        .as_array()
        .ok_or("the report has no images[0].files array")?;
    let mut raw: BTreeMap<String, &Value> = BTreeMap::new();
    for entry in files {
        let path = entry["path"]
            .as_str()
            .ok_or_else(|| format!("a files[] entry without a path: {entry}"))?;
        if raw.insert(path.to_owned(), entry).is_some() {
            return Err(format!("files[] lists {path:?} twice"));
        }
    }
    let mut tree = Tree::new();
    for (path, entry) in &raw {
        let field = |name: &str| {
            entry[name]
                .as_u64()
                .ok_or_else(|| format!("{path:?}: {name} is not a number: {entry}"))
        };
        let number = |name: &str| {
            field(name).and_then(|n| {
                u32::try_from(n).map_err(|_| format!("{path:?}: {name} {n} is out of range"))
            })
        };
        let kind = entry["type"]
            .as_str()
            .ok_or_else(|| format!("{path:?}: no type: {entry}"))?;
        let link = entry["link"].as_str();
        let (kind, size) = match kind {
            "hardlink" => ("file", hardlink_size(&raw, path, link)?),
            "file" => ("file", field("size")?),
            _ => (kind, 0),
        };
        tree.insert(
            path.clone(),
            Node {
                kind: kind.to_owned(),
                size,
                mode: number("mode")?,
                uid: number("uid")?,
                gid: number("gid")?,
                link: (kind == "symlink").then(|| link.unwrap_or_default().to_owned()),
            },
        );
    }
    Ok(tree)
}

/// The size of the file a hard link at `path` shares content with,
/// following links to links.
fn hardlink_size(
    raw: &BTreeMap<String, &Value>,
    path: &str,
    link: Option<&str>,
) -> Result<u64, String> {
    let mut source = clean(link.ok_or_else(|| format!("{path:?}: a hardlink without link"))?);
    // A chain longer than the tree is a loop.
    for _ in 0..=raw.len() {
        let entry = raw
            .get(&source)
            .ok_or_else(|| format!("{path:?}: hard link to {source:?}, which files[] lacks"))?;
        match entry["type"].as_str() {
            Some("file") => {
                return entry["size"]
                    .as_u64()
                    .ok_or_else(|| format!("{source:?}: size is not a number"));
            }
            Some("hardlink") => {
                source = clean(entry["link"].as_str().unwrap_or_default());
            }
            other => return Err(format!("{path:?}: hard link to a {other:?}")),
        }
    }
    Err(format!("{path:?}: hard links in a loop"))
}

/// `images[0].packages[]` of type `deb`.
fn packages_of_report(report: &Value) -> Result<Packages, String> {
    let packages = report["images"][0]["packages"]
        .as_array()
        .ok_or("the report has no images[0].packages array")?;
    let text = |p: &Value, name: &str| {
        p[name]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("a package without {name}: {p}"))
    };
    packages
        .iter()
        .filter(|p| p["type"] == "deb")
        .map(|p| Ok((text(p, "name")?, text(p, "version")?, text(p, "arch")?)))
        .collect()
}

// ---------------------------------------------------------------------------
// The comparison
// ---------------------------------------------------------------------------

/// Every way `actual` (Airlock's) differs from `expected` (umoci's), one
/// line each, in path order.
fn tree_differences(expected: &Tree, actual: &Tree) -> Vec<String> {
    let paths: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    let mut out = Vec::new();
    for path in paths {
        match (expected.get(path), actual.get(path)) {
            (Some(e), None) => out.push(format!("{path:?}: missing from Airlock (umoci: {e})")),
            (None, Some(a)) => out.push(format!("{path:?}: not in the rootfs (Airlock: {a})")),
            (Some(e), Some(a)) if e != a => {
                out.push(format!("{path:?}: umoci {e}, Airlock {a}"));
            }
            _ => {}
        }
    }
    out
}

fn package_differences(expected: &Packages, actual: &Packages) -> Vec<String> {
    let missing = expected
        .difference(actual)
        .map(|p| format!("{p:?}: installed, not listed by Airlock"));
    let extra = actual
        .difference(expected)
        .map(|p| format!("{p:?}: listed by Airlock, not installed"));
    missing.chain(extra).collect()
}

fn assert_none(what: &str, differences: &[String]) {
    assert!(
        differences.is_empty(),
        "{what}: {} difference(s), the first {}:\n{}",
        differences.len(),
        differences.len().min(SHOWN),
        differences[..differences.len().min(SHOWN)].join("\n")
    );
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

#[test]
fn airlock_lists_what_dpkg_and_umoci_find() {
    let dir = truth_dir();
    let packages = parse_packages_tsv(&read(&dir.join("packages.tsv"))).expect("packages.tsv");
    let tree = parse_tree_tsv(&read(&dir.join("tree.tsv"))).expect("tree.tsv");
    assert!(
        packages.iter().any(|(name, ..)| name == "hello")
            && !packages.iter().any(|(name, ..)| name == "tzdata"),
        "the second layer installs hello and purges tzdata"
    );
    for archive in ["debian.docker.tar", "debian.oci.tar"] {
        let path = dir.join(archive);
        let out = Command::new(env!("CARGO_BIN_EXE_airlock"))
            .args(["inspect", "--json"])
            .arg(&path)
            .output()
            .expect("the airlock binary runs");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{archive}: stdout is not one JSON object ({e}; {}); stderr: {:?}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert_eq!(report["verdict"], "ok", "{archive}: {}", report["findings"]);
        let images = report["images"].as_array().expect("images[]");
        assert_eq!(images.len(), 1, "{archive}: one image");
        let listed = packages_of_report(&report).expect("the report's packages");
        assert_none(
            &format!("{archive}: packages against dpkg-query"),
            &package_differences(&packages, &listed),
        );
        let files = tree_of_report(&report).expect("the report's files");
        assert_none(
            &format!("{archive}: files against umoci unpack"),
            &tree_differences(&tree, &files),
        );
    }
}

/// The report Airlock would give if it saw exactly `tree` and `packages`:
/// the JSON shape the comparison reads, built here so the comparison can be
/// tested before (and independently of) the layer reader.
fn report_of(tree: &Tree, packages: &Packages) -> Value {
    let files: Vec<Value> = tree
        .iter()
        .map(|(path, node)| {
            let mut entry = json!({
                "path": path, "type": node.kind, "size": node.size, "mode": node.mode,
                "uid": node.uid, "gid": node.gid, "layer": 0,
            });
            if let Some(link) = &node.link {
                entry["link"] = json!(link);
            }
            entry
        })
        .collect();
    let packages: Vec<Value> = packages
        .iter()
        .map(|(name, version, arch)| {
            json!({"type": "deb", "name": name, "version": version, "arch": arch})
        })
        .collect();
    json!({"verdict": "ok", "images": [{"files": files, "packages": packages}]})
}

/// The real ground truth, turned into a report, compares equal to itself
/// (with a hard link written the way a layer writes it), and each change
/// made to it is reported, and nothing else: the comparison can fail, and
/// says where.
#[test]
fn the_comparison_notices_a_difference() {
    let dir = truth_dir();
    let packages = parse_packages_tsv(&read(&dir.join("packages.tsv"))).expect("packages.tsv");
    let tree = parse_tree_tsv(&read(&dir.join("tree.tsv"))).expect("tree.tsv");
    assert!(packages.len() > 50, "minbase has more packages than that");
    assert!(tree.len() > 5000, "minbase has more paths than that");

    let mut report = report_of(&tree, &packages);
    // Airlock lists the second name of a hard-linked file as `hardlink`
    // with no size of its own; the rootfs shows a file of the source's size.
    let hardlink = "usr/local/bin/hello-hardlink";
    let files = report["images"][0]["files"]
        .as_array_mut()
        .expect("files[]");
    let at = files
        .iter()
        .position(|f| f["path"] == hardlink)
        .expect("the second layer's hard link is in tree.tsv");
    files[at]["type"] = json!("hardlink");
    files[at]["size"] = json!(0);
    files[at]["link"] = json!("./usr/bin/hello");
    assert_none(
        "the truth against itself",
        &tree_differences(&tree, &tree_of_report(&report).expect("files")),
    );
    assert_none(
        "the packages against themselves",
        &package_differences(&packages, &packages_of_report(&report).expect("packages")),
    );

    // One change of each kind: a mode bit lost, a path missing, a path too
    // many, a symlink's target, a hard link's source.
    let files = report["images"][0]["files"]
        .as_array_mut()
        .expect("files[]");
    let index = |files: &[Value], path: &str| {
        files
            .iter()
            .position(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("{path} is in tree.tsv"))
    };
    let setuid = index(files, "usr/local/bin/hello-setuid");
    files[setuid]["mode"] = json!(0o755);
    let symlink = index(files, "usr/local/bin/hello-symlink");
    files[symlink]["link"] = json!("../../bin/bye");
    files.remove(index(files, "etc/motd/note"));
    files.push(json!({
        "path": "usr/share/zoneinfo", "type": "dir", "size": 0, "mode": 0o755,
        "uid": 0, "gid": 0, "layer": 0,
    }));
    let at = index(files, hardlink);
    files[at]["link"] = json!("usr/local/bin/hello-setuid");
    let found = tree_differences(&tree, &tree_of_report(&report).expect("files"));
    let about: Vec<&str> = found
        .iter()
        .map(|line| line.split(':').next().unwrap_or_default())
        .collect();
    assert_eq!(
        about,
        [
            "\"etc/motd/note\"",
            "\"usr/local/bin/hello-setuid\"",
            "\"usr/local/bin/hello-symlink\"",
            "\"usr/share/zoneinfo\"",
        ],
        "{found:#?}"
    );
    assert!(found[0].contains("missing from Airlock"), "{}", found[0]);
    assert!(found[1].contains("mode 4755") && found[1].contains("mode 755"));
    assert!(found[2].contains("../../bin/bye"), "{}", found[2]);
    assert!(found[3].contains("not in the rootfs"), "{}", found[3]);

    // The hard link now shares content with the setuid copy, which has the
    // same size as /usr/bin/hello: a change the tree cannot show. Point it
    // at a file of another size and it shows.
    files_mut(&mut report)[at]["link"] = json!("etc/issue");
    let found = tree_differences(&tree, &tree_of_report(&report).expect("files"));
    assert!(
        found
            .iter()
            .any(|l| l.starts_with(&format!("{hardlink:?}"))),
        "{found:#?}"
    );

    let mut fewer = packages.clone();
    let hello = packages
        .iter()
        .find(|(name, ..)| name == "hello")
        .expect("hello is installed")
        .clone();
    fewer.remove(&hello);
    let mut report = report_of(&tree, &fewer);
    report["images"][0]["packages"]
        .as_array_mut()
        .expect("packages[]")
        .push(json!({"type": "deb", "name": "tzdata", "version": "1", "arch": "all"}));
    let found = package_differences(
        &packages,
        &packages_of_report(&report).expect("the changed packages"),
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with(&format!("{hello:?}")), "{}", found[0]);
    assert!(found[1].contains("tzdata"), "{}", found[1]);
}

fn files_mut(report: &mut Value) -> &mut Vec<Value> {
    report["images"][0]["files"]
        .as_array_mut()
        .expect("files[]")
}

/// A hard link that points at nothing, or at a directory, is an error of
/// the report, not a quiet zero size.
#[test]
fn a_hardlink_to_nothing_is_an_error() {
    let report = |link: &str| {
        json!({"images": [{"files": [
            {"path": "a", "type": "dir", "size": 0, "mode": 0o755, "uid": 0, "gid": 0, "layer": 0},
            {"path": "b", "type": "hardlink", "size": 0, "mode": 0o644, "uid": 0, "gid": 0,
             "link": link, "layer": 0},
            {"path": "c", "type": "hardlink", "size": 0, "mode": 0o644, "uid": 0, "gid": 0,
             "link": "b", "layer": 0},
        ]}]})
    };
    let err = tree_of_report(&report("z")).expect_err("no z");
    assert!(err.contains("which files[] lacks"), "{err}");
    let err = tree_of_report(&report("./a")).expect_err("a is a directory");
    assert!(err.contains("hard link to a"), "{err}");
    let err = tree_of_report(&report("c")).expect_err("b and c point at each other");
    assert!(err.contains("loop"), "{err}");
}
