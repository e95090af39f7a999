// web/tree.js without a browser: the compact tree the worker builds from a
// report's `files`, and the reads and searches the page makes on it.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { ROOT } from "../support.mjs";

const tree = vm.runInNewContext(`${fs.readFileSync(path.join(ROOT, "web/tree.js"), "utf8")}\n;airlockTree`, {
  performance,
});

const f = (p, type = "file", extra = {}) => ({ path: p, type, size: 0, mode: 0o644, uid: 0, gid: 0, layer: 0, ...extra });

// As the core writes them: sorted by path; `usr` and `usr/bin` are not
// listed (a layer tar without its parent directories).
const FILES = [
  f("bin", "symlink", { mode: 0o777, link: "usr/bin" }),
  f("dev", "dir", { mode: 0o755 }),
  f("dev/sda", "block-device", { mode: 0o660 }),
  f("etc", "dir", { mode: 0o755 }),
  f("etc/Passwd", "file", { size: 10 }),
  f("etc/ww", "file", { mode: 0o666, size: 3 }),
  f("tmp", "dir", { mode: 0o1777 }),
  f("usr/bin/su", "file", { mode: 0o4755, size: 100, layer: 1 }),
  f("usr/bin/sudo", "hardlink", { mode: 0o4755, size: 100, link: "usr/bin/su", layer: 1 }),
  f("var", "dir", { mode: 0o777 }),
];

const t = tree.compact(FILES);
const kids = (i) => [...tree.children(t, i)].map((k) => tree.path(t, k));
const at = (p) => [...Array(t.n).keys()].find((i) => tree.path(t, i) === p);

test("children by directory, with implied parents added in order", () => {
  assert.equal(t.n, FILES.length + 2);
  assert.deepEqual(kids(t.n), ["bin", "dev", "etc", "tmp", "usr", "var"]);
  assert.deepEqual(kids(at("usr")), ["usr/bin"]);
  assert.deepEqual(kids(at("usr/bin")), ["usr/bin/su", "usr/bin/sudo"]);
  assert.equal(tree.typeName(t, at("usr")), "dir");
  assert.equal(t.layer[at("usr")], -1, "no layer wrote it");
  assert.equal(tree.name(t, at("usr/bin/su")), "su");
  assert.equal(tree.link(t, at("bin")), "usr/bin");
  assert.equal(tree.link(t, at("etc")), null);
});

test("sizes and counts under a directory count a hard link once", () => {
  assert.equal(t.count[at("usr")], 3);
  assert.equal(t.bytes[at("usr")], 100);
  assert.equal(t.count[t.n], t.n);
  assert.equal(t.bytes[t.n], 113);
});

test("marks follow the core's warnings: setuid, devices, world-writable without sticky", () => {
  const marks = (p) => t.marks[at(p)];
  assert.equal(marks("usr/bin/su"), tree.SETUID);
  assert.equal(marks("usr/bin/sudo"), tree.SETUID);
  assert.equal(marks("dev/sda"), tree.DEVICE);
  assert.equal(marks("etc/ww"), tree.WORLD_WRITABLE);
  assert.equal(marks("var"), tree.WORLD_WRITABLE);
  assert.equal(marks("tmp"), 0, "sticky");
  assert.equal(marks("bin"), 0, "a symlink's mode means nothing");
  assert.equal(tree.modeString(t, at("usr/bin/su")), "-rwsr-xr-x");
  assert.equal(tree.modeString(t, at("tmp")), "drwxrwxrwt");
  assert.equal(tree.modeString(t, at("dev/sda")), "brw-rw----");
});

function run(s) {
  while (!s.step(5));
  return { paths: Array.from(s.hits, (i) => tree.path(t, i)), total: s.total };
}

test("search: substrings of one path, smart case, capped list, marks", () => {
  assert.deepEqual(run(tree.search(t, "su", 10)), { paths: ["usr/bin/su", "usr/bin/sudo"], total: 2 });
  assert.deepEqual(run(tree.search(t, "passwd", 10)).paths, ["etc/Passwd"], "lower case matches any case");
  assert.deepEqual(run(tree.search(t, "passwd".toUpperCase(), 10)).paths, [], "upper case is exact");
  assert.deepEqual(run(tree.search(t, "Passwd", 10)).paths, ["etc/Passwd"]);
  // "devdev/sda" would match across the joined paths "dev" and "dev/sda".
  assert.deepEqual(run(tree.search(t, "devdev", 10)).paths, []);
  assert.deepEqual(run(tree.search(t, "/", 2)), { paths: ["dev/sda", "etc/Passwd"], total: 6 });
  assert.deepEqual(run(tree.search(t, "e", 10, tree.WORLD_WRITABLE)).paths, ["etc/ww"]);
  assert.deepEqual(run(tree.marked(t, tree.SETUID | tree.DEVICE, 10)).paths, ["dev/sda", "usr/bin/su", "usr/bin/sudo"]);
});

test("the arrays travel as transferable buffers", () => {
  const buffers = tree.buffers(t);
  assert.ok(buffers.length >= 10);
  assert.ok(buffers.every((b) => b instanceof ArrayBuffer || Object.prototype.toString.call(b) === "[object ArrayBuffer]"));
});
