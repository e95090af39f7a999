#!/usr/bin/env bash
# Builds a real Debian image from Debian's own packages and writes down what
# tools other than Airlock say is inside it (issue #14, "Ground truth, not
# fixtures alone"). crates/native-cli/tests/ground_truth.rs compares
# `airlock inspect --files` of both archives against it.
#
#   tests/ground-truth/build-debian-image.sh OUT_DIR
#
# OUT_DIR then holds:
#   debian.docker.tar  the image as `podman save --format docker-archive`
#   debian.oci.tar     the same image as `skopeo copy ... oci-archive:` (gzip layers)
#   packages.tsv       dpkg-query -W of the final rootfs: name, version, arch
#   tree.tsv           the final rootfs as `umoci unpack` of the OCI archive
#                      lays it out: path, type, size, mode (octal), uid:gid, link
#   layer.tsv          the special entries of the second layer (kind, path)
#
# The image: `mmdebstrap --variant=minbase bookworm`, with this machine's apt
# sources file as the mirror, imported with `podman import` as the base
# layer; then one `podman build` step that installs `hello`, purges
# `tzdata` and makes every kind of entry a layer reader must get right:
# whiteouts of files and of whole trees, an opaque directory, a setuid file,
# a world-writable file, a hard link, a symlink, a fifo, a changed file, a
# file that becomes a directory and a directory that becomes a symlink.
#
# Needs root (mmdebstrap's root mode, device nodes, podman's overlay
# storage) and Debian's mirror. Idempotent: a finished OUT_DIR made by this
# same script is reused as it is; anything else is rebuilt from scratch.
# Podman's storage is private to the run and removed at the end, so the
# machine's own images are never touched.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

# Two test processes may ask at once; the second waits and then reuses.
exec 9>"$out/.lock"
flock 9

# The stamp names this script and its extractor: editing either rebuilds.
stamp=$(cat "$here/build-debian-image.sh" "$here/extract.py" | sha256sum | cut -d' ' -f1)
outputs=(debian.docker.tar debian.oci.tar packages.tsv tree.tsv layer.tsv)
complete=1
for f in "${outputs[@]}"; do
    [[ -s "$out/$f" ]] || complete=0
done
if [[ $complete == 1 && -f "$out/.complete" && "$(cat "$out/.complete")" == "$stamp" ]]; then
    echo "ground truth in $out is complete; reusing it"
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "$0 needs root: mmdebstrap's root mode, device nodes, podman's storage" >&2
    exit 1
fi
for tool in mmdebstrap:mmdebstrap podman:podman skopeo:skopeo umoci:umoci \
    dpkg-query:dpkg python3:python3 flock:util-linux; do
    if ! command -v "${tool%%:*}" >/dev/null; then
        echo "$0 needs ${tool%%:*} (apt-get install ${tool#*:}; cargo xtask test installs it)" >&2
        exit 1
    fi
done

sources=${AIRLOCK_TRUTH_SOURCES:-}
if [[ -z $sources ]]; then
    for candidate in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        if [[ -s $candidate ]]; then
            sources=$candidate
            break
        fi
    done
fi
if [[ -z $sources ]]; then
    echo "$0: no apt sources file found; set AIRLOCK_TRUTH_SOURCES" >&2
    exit 1
fi

rm -f "$out/.complete" "${outputs[@]/#/$out/}"
work="$out/work"
storage="$work/storage"
runroot="$work/run"
podman=(podman --root "$storage" --runroot "$runroot" --storage-driver overlay)
cleanup() {
    # Removing the images first lets podman unmount what it mounted; the
    # rm then only meets plain files.
    "${podman[@]}" rmi --all --force >/dev/null 2>&1 || true
    # The overlay driver bind-mounts its own directory; a podman or skopeo
    # that did not shut down cleanly leaves that mount behind.
    if mountpoint -q "$storage/overlay" 2>/dev/null; then
        umount "$storage/overlay"
    fi
    rm -rf "$work"
}
cleanup
trap cleanup EXIT
mkdir -p "$work/context"

started=$SECONDS
step() { echo "== $* ($((SECONDS - started)) s)"; }

step "mmdebstrap --variant=minbase bookworm (mirror: $sources)"
mmdebstrap --quiet --variant=minbase bookworm "$work/rootfs.tar" "$sources"

step "podman import (the base layer)"
"${podman[@]}" import --quiet "$work/rootfs.tar" localhost/airlock/debian-base:truth >/dev/null
rm -f "$work/rootfs.tar"

# One RUN, so one layer holds every change. Each line says which special
# entry it makes; extract.py's REQUIRED checks that the layer has them all.
cat >"$work/context/Containerfile" <<'EOF'
FROM localhost/airlock/debian-base:truth
RUN set -eux; \
    apt-get update -qq; \
    # new files from a package, and a package's files removed (whiteouts,
    # /usr/share/zoneinfo as a whole tree)
    apt-get install -y -qq --no-install-recommends hello; \
    apt-get purge -y -qq tzdata; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin; \
    # a directory emptied and refilled: overlay marks it opaque
    rm -rf /etc/skel; mkdir /etc/skel; echo fresh > /etc/skel/.profile; \
    # a tree deleted by hand
    rm -rf /usr/share/doc/perl; \
    # a hard link, a symlink, a setuid copy, a world-writable file, a fifo
    ln /usr/bin/hello /usr/local/bin/hello-hardlink; \
    ln -s ../../bin/hello /usr/local/bin/hello-symlink; \
    cp /usr/bin/hello /usr/local/bin/hello-setuid; \
    chmod 4755 /usr/local/bin/hello-setuid; \
    echo anyone > /usr/local/share/world-writable; \
    chmod 0666 /usr/local/share/world-writable; \
    mkfifo -m 0640 /usr/local/share/pipe; \
    echo 'name with spaces' > '/usr/local/share/name with spaces'; \
    # a file of the base changed, a file turned into a directory, a
    # directory turned into a symlink
    echo 'Airlock ground truth' > /etc/issue; \
    rm /etc/motd; mkdir /etc/motd; echo inside > /etc/motd/note; \
    rm -rf /usr/share/doc/gzip; ln -s bash /usr/share/doc/gzip
EOF

step "podman build (the second layer)"
"${podman[@]}" build --quiet --pull=never --network host \
    -t localhost/airlock/debian:truth "$work/context" >/dev/null

step "podman save --format docker-archive"
"${podman[@]}" save --quiet --format docker-archive \
    -o "$work/debian.docker.tar" localhost/airlock/debian:truth

step "skopeo copy to oci-archive"
skopeo copy --quiet \
    "containers-storage:[overlay@$storage+$runroot]localhost/airlock/debian:truth" \
    "oci-archive:$work/debian.oci.tar:truth"

step "check the second layer and that both archives are one image"
mkdir -p "$work/oci"
tar -xf "$work/debian.oci.tar" -C "$work/oci"
python3 "$here/extract.py" layer "$work/debian.docker.tar" "$work/layer.tsv"
python3 "$here/extract.py" same-image "$work/debian.docker.tar" "$work/oci"

# The OCI layout unpacked is the oci-archive's own bytes: umoci reads the
# very file Airlock reads.
step "umoci unpack"
umoci unpack --image "$work/oci:truth" "$work/bundle" >/dev/null

step "dpkg-query and the tree of the final rootfs"
dpkg-query --admindir="$work/bundle/rootfs/var/lib/dpkg" -W \
    -f '${Package}\t${Version}\t${Architecture}\n' | LC_ALL=C sort >"$work/packages.tsv"
python3 "$here/extract.py" tree "$work/bundle/rootfs" "$work/tree.tsv"

for f in "${outputs[@]}"; do
    mv "$work/$f" "$out/$f"
done
echo "$stamp" >"$out/.complete"
step "done: $(wc -l <"$out/packages.tsv") packages, $(wc -l <"$out/tree.tsv") paths in $out"
