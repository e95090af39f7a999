#!/usr/bin/env python3
"""What the ground-truth test compares Airlock against, read with tools other
than Airlock's own code (issue #14, "Ground truth, not fixtures alone").

    extract.py tree ROOTFS OUT.tsv
        One line per path under ROOTFS (an `umoci unpack`ed rootfs):
        path, type, size, mode, uid:gid, link; sorted bytewise.
    extract.py layer DOCKER_ARCHIVE OUT.tsv
        Checks that the image's last layer holds every special entry the
        test is meant to exercise and lists them, one `kind<TAB>path` a line.
    extract.py same-image DOCKER_ARCHIVE OCI_LAYOUT
        Checks that both archives carry the same layers (config diff_ids).

Only the standard library: this runs before anything is installed for the
Rust side.
"""

import json
import os
import stat
import sys
import tarfile

TYPES = [
    (stat.S_ISREG, "file"),
    (stat.S_ISDIR, "dir"),
    (stat.S_ISLNK, "symlink"),
    (stat.S_ISCHR, "char-device"),
    (stat.S_ISBLK, "block-device"),
    (stat.S_ISFIFO, "fifo"),
]


def fail(message):
    print(f"extract.py: {message}", file=sys.stderr)
    sys.exit(1)


def kind_of(mode, path):
    for test, name in TYPES:
        if test(mode):
            return name
    fail(f"{path!r} is of a type the tree format has no word for (mode {mode:o})")


def tree(rootfs, out):
    root = os.fsencode(rootfs)
    lines = []
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(directory, name)
            rel = os.path.relpath(full, root)
            # The TSV has no quoting: a name that would break a line or a
            # column must stop the build rather than shift the columns.
            if b"\t" in rel or b"\n" in rel:
                fail(f"{rel!r} holds a tab or a newline")
            st = os.lstat(full)
            kind = kind_of(st.st_mode, rel)
            size = st.st_size if kind == "file" else 0
            link = os.readlink(full) if kind == "symlink" else b""
            if b"\t" in link or b"\n" in link:
                fail(f"the link target of {rel!r} holds a tab or a newline")
            fields = [
                rel,
                kind.encode(),
                str(size).encode(),
                format(stat.S_IMODE(st.st_mode), "o").encode(),
                f"{st.st_uid}:{st.st_gid}".encode(),
                link,
            ]
            lines.append(b"\t".join(fields))
        # os.walk descends into symlinked directories only when asked; it
        # is not asked, so a symlink to a directory is listed, not entered.
    lines.sort()
    with open(out, "wb") as f:
        for line in lines:
            f.write(line + b"\n")
    print(f"{len(lines)} paths in {out}")


def clean(name):
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def docker_layers(archive):
    """The layer tars of a docker-archive, lowest first, as member names."""
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        config = json.load(outer.extractfile(manifest[0]["Config"]))
        return manifest[0]["Layers"], config


def layer_entries(archive, member):
    with tarfile.open(archive) as outer:
        with tarfile.open(fileobj=outer.extractfile(member)) as layer:
            return [(clean(m.name), m) for m in layer.getmembers()]


# What the second layer must hold for the comparison to mean something:
# (kind, path) as listed in OUT.tsv. The Containerfile in
# build-debian-image.sh makes each of them.
REQUIRED = [
    ("whiteout-dir", "usr/share/.wh.zoneinfo"),
    ("whiteout-dir", "usr/share/doc/.wh.perl"),
    ("whiteout-file", "etc/.wh.timezone"),
    ("opaque", "etc/skel/.wh..wh..opq"),
    ("setuid", "usr/local/bin/hello-setuid"),
    ("world-writable", "usr/local/share/world-writable"),
    ("hardlink", "usr/local/bin/hello-hardlink"),
    ("symlink", "usr/local/bin/hello-symlink"),
    ("fifo", "usr/local/share/pipe"),
    ("changed", "etc/issue"),
    ("file-to-dir", "etc/motd"),
    ("dir-to-symlink", "usr/share/doc/gzip"),
]


def layer(archive, out):
    layers, _ = docker_layers(archive)
    if len(layers) < 2:
        fail(f"{archive} has {len(layers)} layer(s); the test needs two")
    below = {}
    for member in layers[:-1]:
        for name, m in layer_entries(archive, member):
            below[name] = m
    rows = []
    for name, m in layer_entries(archive, layers[-1]):
        base = os.path.basename(name)
        parent = os.path.dirname(name)
        if base == ".wh..wh..opq":
            rows.append(("opaque", name))
            continue
        if base.startswith(".wh."):
            hidden = os.path.join(parent, base[len(".wh."):]) if parent else base[4:]
            lower = below.get(hidden)
            if lower is None:
                rows.append(("whiteout-of-nothing", name))
            elif lower.isdir():
                rows.append(("whiteout-dir", name))
            else:
                rows.append(("whiteout-file", name))
            continue
        if m.islnk():
            rows.append(("hardlink", name))
        if m.issym():
            rows.append(("symlink", name))
        if m.isfifo():
            rows.append(("fifo", name))
        if m.ischr() or m.isblk():
            rows.append(("device", name))
        if m.mode & 0o4000:
            rows.append(("setuid", name))
        if m.mode & 0o2000:
            rows.append(("setgid", name))
        if not m.issym() and m.mode & 0o1002 == 0o002:
            rows.append(("world-writable", name))
        lower = below.get(name)
        if lower is not None:
            if lower.isfile() and m.isfile():
                rows.append(("changed", name))
            elif lower.isfile() and m.isdir():
                rows.append(("file-to-dir", name))
            elif lower.isdir() and m.issym():
                rows.append(("dir-to-symlink", name))
    missing = [r for r in REQUIRED if r not in rows]
    if missing:
        fail(f"the last layer of {archive} lacks {missing}")
    with open(out, "w") as f:
        for kind, name in sorted(rows):
            f.write(f"{kind}\t{name}\n")
    print(f"{len(rows)} special entries in the last layer, listed in {out}")


def same_image(archive, layout):
    _, docker_config = docker_layers(archive)

    def blob(digest):
        algorithm, hexdigest = digest.split(":", 1)
        with open(os.path.join(layout, "blobs", algorithm, hexdigest), "rb") as f:
            return json.load(f)

    index = json.load(open(os.path.join(layout, "index.json")))
    manifest = blob(index["manifests"][0]["digest"])
    oci_config = blob(manifest["config"]["digest"])
    a = docker_config["rootfs"]["diff_ids"]
    b = oci_config["rootfs"]["diff_ids"]
    if a != b:
        fail(f"the archives differ: docker-archive layers {a}, oci-archive layers {b}")
    print(f"both archives carry the same {len(a)} layers")


def main(argv):
    commands = {"tree": (tree, 2), "layer": (layer, 2), "same-image": (same_image, 2)}
    if len(argv) < 2 or argv[1] not in commands or len(argv) != commands[argv[1]][1] + 2:
        fail(__doc__)
    command, _ = commands[argv[1]]
    command(*argv[2:])


if __name__ == "__main__":
    main(sys.argv)
