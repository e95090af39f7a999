// An image's final file tree in a compact, columnar form: one string of
// all paths, typed arrays for the rest, and the children of every
// directory as ranges of one index array. The verify worker builds it from
// the report's `files` (which may hold hundreds of thousands of entries)
// and transfers the arrays, so the page's main thread never parses,
// receives or walks 200,000 objects; it reads one directory's children
// when that directory is opened, and searches the one path string.
//
// Loaded in the worker (compact) and in the page (everything else).
"use strict";

const airlockTree = (() => {
  // The report's `type` names, by code; IMPLICIT is a directory no layer
  // wrote but a path under it needs (a layer tar without its parents).
  const TYPES = ["file", "dir", "symlink", "hardlink", "char-device", "block-device", "fifo"];
  const DIR = 1;
  const SYMLINK = 2;
  const IMPLICIT = 7;

  // Marks for an approver, the same rules as verify-core's layer warnings
  // (crates/verify-core/src/layers/reader.rs `warn`).
  const SETUID = 1;
  const DEVICE = 2;
  const WORLD_WRITABLE = 4;

  function marksOf(type, mode) {
    let marks = 0;
    const isDir = type === DIR || type === IMPLICIT;
    if (!isDir && type !== SYMLINK && mode & 0o6000) marks |= SETUID;
    if (type === 4 || type === 5) marks |= DEVICE;
    if (type !== SYMLINK && mode & 0o002 && !(mode & 0o1000)) marks |= WORLD_WRITABLE;
    return marks;
  }

  const parentPath = (p) => {
    const slash = p.lastIndexOf("/");
    return slash < 0 ? null : p.slice(0, slash);
  };

  /// The compact tree of a report's `files` (sorted by path, as the core
  /// writes them). Directories the list implies but does not hold are added.
  function compact(files) {
    const seen = new Set();
    for (const f of files) seen.add(f.path);
    const implied = [];
    for (const f of files) {
      for (let p = parentPath(f.path); p !== null && p !== "" && !seen.has(p); p = parentPath(p)) {
        seen.add(p);
        implied.push({ path: p, type: null, size: 0, mode: 0, uid: 0, gid: 0, layer: -1 });
      }
    }
    let entries = files;
    if (implied.length) {
      entries = files.concat(implied);
      entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    }

    const n = entries.length;
    const start = new Uint32Array(n + 1);
    const type = new Uint8Array(n);
    const size = new Float64Array(n);
    const mode = new Uint32Array(n);
    const uid = new Uint32Array(n);
    const gid = new Uint32Array(n);
    const layer = new Int32Array(n);
    const marks = new Uint8Array(n);
    const parent = new Int32Array(n);
    const linkOf = new Int32Array(n).fill(-1);
    const linkStart = [0];
    const links = [];
    const paths = new Array(n);
    const index = new Map();
    let offset = 0;
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      paths[i] = e.path;
      index.set(e.path, i);
      start[i] = offset;
      offset += e.path.length;
      const code = e.type === null ? IMPLICIT : TYPES.indexOf(e.type);
      type[i] = code < 0 ? 0 : code;
      size[i] = e.size || 0;
      mode[i] = e.mode >>> 0;
      uid[i] = e.uid >>> 0;
      gid[i] = e.gid >>> 0;
      layer[i] = e.layer;
      marks[i] = marksOf(type[i], mode[i]);
      if (typeof e.link === "string") {
        linkOf[i] = links.length;
        links.push(e.link);
        linkStart.push(linkStart[linkStart.length - 1] + e.link.length);
      }
    }
    start[n] = offset;

    // Children as ranges of one array (the root is node n), in path order.
    const childCount = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) {
      const p = parentPath(paths[i]);
      const at = p === null || p === "" ? n : index.get(p);
      parent[i] = at === undefined ? n : at;
      childCount[parent[i]]++;
    }
    const childStart = new Uint32Array(n + 2);
    for (let i = 0; i <= n; i++) childStart[i + 1] = childStart[i] + childCount[i];
    const fill = childStart.slice(0, n + 1);
    const children = new Uint32Array(n);
    for (let i = 0; i < n; i++) children[fill[parent[i]]++] = i;

    // Entries and content bytes under each directory. A parent's path is a
    // prefix of its child's, so it sorts first: one pass from the end adds
    // every child before its parent passes its sums on.
    const count = new Uint32Array(n + 1);
    const bytes = new Float64Array(n + 1);
    for (let i = n - 1; i >= 0; i--) {
      // A hard link shares its source's bytes: counted once, at the file.
      if (type[i] === 0) bytes[i] += size[i];
      count[parent[i]] += count[i] + 1;
      bytes[parent[i]] += bytes[i];
    }

    const text = paths.join("");
    // Lower-cased for a filter typed in lower case; only when lower-casing
    // keeps every offset (some letters grow, like U+0130).
    const lower = text.toLowerCase();
    return {
      n,
      text,
      lower: lower.length === text.length ? lower : null,
      start,
      type,
      size,
      mode,
      uid,
      gid,
      layer,
      marks,
      parent,
      childStart,
      children,
      count,
      bytes,
      linkOf,
      linkText: links.join(""),
      linkStart: Uint32Array.from(linkStart),
    };
  }

  /// The arrays to transfer rather than copy.
  function buffers(tree) {
    return Object.values(tree)
      .filter((v) => ArrayBuffer.isView(v))
      .map((v) => v.buffer);
  }

  const path = (t, i) => t.text.slice(t.start[i], t.start[i + 1]);
  const name = (t, i) => {
    const p = path(t, i);
    return p.slice(p.lastIndexOf("/") + 1);
  };
  const link = (t, i) => {
    const k = t.linkOf[i];
    return k < 0 ? null : t.linkText.slice(t.linkStart[k], t.linkStart[k + 1]);
  };
  const isDir = (t, i) => i === t.n || t.type[i] === DIR || t.type[i] === IMPLICIT;
  const typeName = (t, i) => (t.type[i] === IMPLICIT ? "dir" : TYPES[t.type[i]]);
  const children = (t, i) => t.children.subarray(t.childStart[i], t.childStart[i + 1]);

  // `ls -l`'s mode column: type letter, rwx triples, s/S, t/T.
  const LETTER = { file: "-", dir: "d", symlink: "l", hardlink: "h", "char-device": "c", "block-device": "b", fifo: "p" };
  function modeString(t, i) {
    const m = t.mode[i];
    const bit = (mask, c) => (m & mask ? c : "-");
    const special = (x, s, on, off) => (m & s ? (m & x ? on : off) : bit(x, "x"));
    return (
      LETTER[typeName(t, i)] +
      bit(0o400, "r") + bit(0o200, "w") + special(0o100, 0o4000, "s", "S") +
      bit(0o040, "r") + bit(0o020, "w") + special(0o010, 0o2000, "s", "S") +
      bit(0o004, "r") + bit(0o002, "w") + special(0o001, 0o1000, "t", "T")
    );
  }

  // The node whose path holds text offset `pos`.
  function nodeAt(t, pos) {
    let lo = 0;
    let hi = t.n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (t.start[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /// A search for paths containing `query`, done in slices: `step(ms)`
  /// works for about `ms` milliseconds and returns whether it is done, so
  /// the page never blocks on 200,000 paths. Keeps the first `keep`
  /// matches and counts all of them. A query in lower case matches any case
  /// (as ripgrep's smart case). A non-zero `mask` keeps only nodes with one
  /// of its marks.
  function search(t, query, keep, mask = 0) {
    const lowerOnly = query === query.toLowerCase() && t.lower !== null;
    const hay = lowerOnly ? t.lower : t.text;
    const q = query;
    const s = { hits: [], total: 0, done: q.length === 0 || t.n === 0, from: 0 };
    s.step = (ms) => {
      const until = performance.now() + ms;
      let k = 0;
      while (!s.done) {
        const at = hay.indexOf(q, s.from);
        if (at < 0) {
          s.done = true;
          break;
        }
        const i = nodeAt(t, at);
        if (at + q.length <= t.start[i + 1]) {
          if (!mask || t.marks[i] & mask) {
            s.total++;
            if (s.hits.length < keep) s.hits.push(i);
          }
          s.from = t.start[i + 1];
        } else {
          // The match runs into the next path: not a match of either.
          s.from = at + 1;
        }
        if (++k % 512 === 0 && performance.now() >= until) break;
      }
      return s.done;
    };
    return s;
  }

  /// Nodes carrying any of `mask`'s marks, in slices like `search`.
  function marked(t, mask, keep) {
    const s = { hits: [], total: 0, done: false, from: 0 };
    s.step = (ms) => {
      const until = performance.now() + ms;
      while (s.from < t.n) {
        const end = Math.min(t.n, s.from + 8192);
        for (let i = s.from; i < end; i++) {
          if (t.marks[i] & mask) {
            s.total++;
            if (s.hits.length < keep) s.hits.push(i);
          }
        }
        s.from = end;
        if (performance.now() >= until) break;
      }
      s.done = s.from >= t.n;
      return s.done;
    };
    return s;
  }

  return {
    TYPES,
    SETUID,
    DEVICE,
    WORLD_WRITABLE,
    compact,
    buffers,
    path,
    name,
    link,
    isDir,
    typeName,
    children,
    modeString,
    search,
    marked,
  };
})();
