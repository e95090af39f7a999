// Image bundles the page tests build for themselves (nothing committed):
// ustar layer tars and a `docker save` bundle (Docker >= 25 layout:
// blobs/sha256/… named by manifest.json), written with Node alone and fast
// enough to make one of 200,000 files during a test's setup.

import crypto from "node:crypto";
import fs from "node:fs";

const BLOCK = 512;

const sha256 = (bytes) => crypto.createHash("sha256").update(bytes).digest("hex");

/// Tar entry types (the header's typeflag).
export const T = { file: "0", hardlink: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6" };

/// A growing tar written into one buffer.
class TarWriter {
  constructor(capacity = 1 << 20) {
    this.buf = Buffer.alloc(capacity);
    this.at = 0;
  }

  room(n) {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.alloc(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }

  /// One entry: `{ name, type = file, mode, uid, gid, data, link }`.
  add({ name, type = T.file, mode = 0o644, uid = 0, gid = 0, data = "", link = "" }) {
    const body = Buffer.from(data);
    this.room(BLOCK + Math.ceil(body.length / BLOCK) * BLOCK);
    const h = this.buf.subarray(this.at, this.at + BLOCK);
    let prefix = "";
    let rest = name;
    if (Buffer.byteLength(name) > 100) {
      const cut = name.lastIndexOf("/", 155);
      prefix = name.slice(0, cut);
      rest = name.slice(cut + 1);
    }
    h.write(rest, 0, 100, "utf8");
    octal(h, 100, 8, mode);
    octal(h, 108, 8, uid);
    octal(h, 116, 8, gid);
    octal(h, 124, 12, body.length);
    octal(h, 136, 12, 1_700_000_000);
    h.write(type, 156, 1, "latin1");
    h.write(link, 157, 100, "utf8");
    h.write("ustar\u000000", 257, 8, "latin1");
    h.write("root", 265, 32, "latin1");
    h.write("root", 297, 32, "latin1");
    h.write(prefix, 345, 155, "utf8");
    h.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += h[i];
    h.write(sum.toString(8).padStart(6, "0") + "\u0000 ", 148, 8, "latin1");
    this.at += BLOCK;
    body.copy(this.buf, this.at);
    this.at += Math.ceil(body.length / BLOCK) * BLOCK;
  }

  /// The tar with its end-of-archive marker.
  finish() {
    this.room(2 * BLOCK);
    this.at += 2 * BLOCK;
    return this.buf.subarray(0, this.at);
  }
}

function octal(h, at, width, value) {
  h.write(value.toString(8).padStart(width - 1, "0") + "\u0000", at, width, "latin1");
}

/// A layer tar of `entries` (see TarWriter.add).
export function layerTar(entries, capacity) {
  const w = new TarWriter(capacity);
  for (const e of entries) w.add(e);
  return w.finish();
}

/// A `docker save` bundle of one image tagged `tag`, written to `file`.
/// `config` is the config's `config` section; history gets one step per
/// layer.
export function writeDockerArchive(file, { tag, layers, config, history }) {
  const diffIds = layers.map((l) => `sha256:${sha256(l)}`);
  const configJson = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      created: "2026-11-29T00:00:00Z",
      config,
      history: history || layers.map((_, i) => ({ created_by: `step ${i + 1}` })),
      rootfs: { type: "layers", diff_ids: diffIds },
    }),
  );
  const outer = new TarWriter(layers.reduce((n, l) => n + l.length, 0) + (1 << 20));
  const layerPaths = [];
  for (const layer of layers) {
    const p = `blobs/sha256/${sha256(layer)}`;
    if (!layerPaths.includes(p)) outer.add({ name: p, data: layer });
    layerPaths.push(p);
  }
  const configPath = `blobs/sha256/${sha256(configJson)}`;
  outer.add({ name: configPath, data: configJson });
  outer.add({
    name: "manifest.json",
    data: JSON.stringify([{ Config: configPath, RepoTags: [tag], Layers: layerPaths }]),
  });
  fs.writeFileSync(file, outer.finish());
  return file;
}

/// Debian's package database with `packages` ([name, version, arch]).
export function dpkgStatus(packages) {
  return packages
    .map(
      ([name, version, arch]) =>
        `Package: ${name}\nStatus: install ok installed\nPriority: optional\nArchitecture: ${arch}\n` +
        `Version: ${version}\nDescription: ${name} for the page test\n`,
    )
    .join("\n");
}

/// Two layers over a small Debian-like root: a dpkg database, a setuid
/// file, a device node, a world-writable file, and in the second layer a
/// whiteout, an opaque directory and a file replaced (wasted bytes).
export function writeContentsBundle(file) {
  const packages = [
    ["base-files", "12.4+deb12u5", "amd64"],
    ["libc6", "2.36-9+deb12u4", "amd64"],
    ["tzdata", "2024a-0+deb12u1", "all"],
  ];
  const base = layerTar([
    { name: "etc/", type: T.dir, mode: 0o755 },
    { name: "etc/os-release", data: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n' },
    { name: "etc/old.conf", data: "gone in layer 2\n" },
    { name: "etc/invoice\u202egpj.exe", data: "a right-to-left override in a name\n" },
    { name: "etc/shared-by-all", mode: 0o666, data: "anyone may write\n" },
    { name: "usr/", type: T.dir, mode: 0o755 },
    { name: "usr/bin/", type: T.dir, mode: 0o755 },
    { name: "usr/bin/su", mode: 0o4755, data: "\u007fELF pretend\n" },
    { name: "usr/bin/tool", mode: 0o755, data: "x".repeat(3000) },
    { name: "dev/", type: T.dir, mode: 0o755 },
    { name: "dev/sda", type: T.block, mode: 0o660 },
    { name: "tmp/", type: T.dir, mode: 0o1777 },
    { name: "var/", type: T.dir, mode: 0o755 },
    { name: "var/cache/", type: T.dir, mode: 0o755 },
    { name: "var/cache/a.bin", data: "a".repeat(2000) },
    { name: "var/cache/b.bin", data: "b".repeat(1000) },
    { name: "var/lib/", type: T.dir, mode: 0o755 },
    { name: "var/lib/dpkg/", type: T.dir, mode: 0o755 },
    { name: "var/lib/dpkg/status", data: dpkgStatus(packages) },
    { name: "bin", type: T.symlink, mode: 0o777, link: "usr/bin" },
  ]);
  const top = layerTar([
    { name: "etc/", type: T.dir, mode: 0o755 },
    { name: "etc/.wh.old.conf", data: "" },
    { name: "usr/", type: T.dir, mode: 0o755 },
    { name: "usr/bin/", type: T.dir, mode: 0o755 },
    { name: "usr/bin/tool", mode: 0o755, data: "y".repeat(100) },
    { name: "var/", type: T.dir, mode: 0o755 },
    { name: "var/cache/", type: T.dir, mode: 0o755 },
    { name: "var/cache/.wh..wh..opq", data: "" },
    { name: "var/cache/fresh", data: "new\n" },
    { name: "app/", type: T.dir, mode: 0o755 },
    { name: "app/run.sh", mode: 0o755, data: "#!/bin/sh\nexec sleep infinity\n" },
  ]);
  writeDockerArchive(file, {
    tag: "registry.example/page/contents:1.0",
    layers: [base, top],
    config: {
      Entrypoint: ["/app/run.sh"],
      Cmd: ["--serve", "8080"],
      Env: ["PATH=/usr/local/bin:/usr/bin:/bin", "DB_PASSWORD=hunter2"],
      ExposedPorts: { "8080/tcp": {} },
      WorkingDir: "/app",
      Labels: { "org.opencontainers.image.title": "contents" },
    },
    history: [
      { created_by: "ADD rootfs.tar /" },
      { created_by: "RUN rm /etc/old.conf && rebuild /var/cache" },
    ],
  });
  return { file, packages };
}

/// One layer of `count` small files: `big/` holds half of them in one
/// directory, the rest sit in 1,000 directories of `spread/`. Every 97th
/// file is setuid, so marks are spread through the tree.
export function writeManyFilesBundle(file, count) {
  const inBig = Math.floor(count / 2);
  const dirs = 1000;
  const w = new TarWriter((count + dirs + 8) * 1024);
  w.add({ name: "big/", type: T.dir, mode: 0o755 });
  for (let i = 0; i < inBig; i++) {
    w.add({ name: `big/file-${String(i).padStart(6, "0")}.txt`, mode: i % 97 === 0 ? 0o4755 : 0o644, data: i % 10 === 0 ? "x\n" : "" });
  }
  w.add({ name: "spread/", type: T.dir, mode: 0o755 });
  const rest = count - inBig;
  for (let d = 0; d < dirs; d++) {
    w.add({ name: `spread/d${d}/`, type: T.dir, mode: 0o755 });
    for (let i = d; i < rest; i += dirs) {
      w.add({ name: `spread/d${d}/item-${i}`, mode: i % 97 === 0 ? 0o4755 : 0o644, data: "" });
    }
  }
  w.add({ name: "needle-in-the-haystack.conf", data: "found\n" });
  writeDockerArchive(file, {
    tag: "registry.example/page/many:1.0",
    layers: [w.finish()],
    config: { Cmd: ["/bin/true"], User: "1000:1000" },
  });
  return file;
}
