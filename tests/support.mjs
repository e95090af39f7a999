// What the browser and edge tests share: where things are, the corpus's
// verdict table, the sidecar next to a bundle, and the CLI's report to
// compare against.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const CORPUS = process.env.AIRLOCK_CORPUS || path.join(ROOT, "../shared/corpus");
export const AIRLOCK = process.env.AIRLOCK_BIN || path.join(ROOT, "target/release/airlock");
export const BIG = process.env.AIRLOCK_BIG || "";

/// The rows of expected.tsv: file, verdict (ok | fail | *), required kinds.
export function corpusRows() {
  return fs
    .readFileSync(path.join(CORPUS, "expected.tsv"), "utf8")
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("#"))
    .map((l) => {
      const [file, verdict, kinds] = l.split("\t");
      return { file, verdict, kinds: kinds && kinds !== "-" ? kinds.split(",").map((k) => k.trim()) : [] };
    });
}

/// The `.sha256` sidecar next to a bundle, if there is one.
export function sidecar(file) {
  const s = `${file}.sha256`;
  return fs.existsSync(s) ? s : null;
}

/// `airlock verify --json` on a file: the report every face must match.
export function cliReport(file) {
  const out = spawnSync(AIRLOCK, ["verify", "--json", "--no-progress", file], { encoding: "utf8", maxBuffer: 1 << 26 });
  assert.ok(out.status === 0 || out.status === 1, `airlock verify ${file}: ${out.stderr}`);
  return JSON.parse(out.stdout);
}
