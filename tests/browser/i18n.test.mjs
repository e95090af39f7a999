// web/i18n.js without a browser: Korean and English hold the same keys,
// and every key the page names in its source is in both. (The browser
// tests add the keys made at run time: the page records any key the
// shown language lacks in window.airlockMissingStrings, and they assert
// it stays empty in both languages.)

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { ROOT } from "../support.mjs";

const read = (f) => fs.readFileSync(path.join(ROOT, "web", f), "utf8");
const { AIRLOCK_STRINGS, AIRLOCK_KINDS } = vm.runInNewContext(
  `${read("i18n.js")}\n;({ AIRLOCK_STRINGS, AIRLOCK_KINDS })`,
  {},
);

const LANGS = ["ko", "en"];

function sameKeys(table, name) {
  const [ko, en] = LANGS.map((l) => new Set(Object.keys(table[l])));
  const onlyKo = [...ko].filter((k) => !en.has(k));
  const onlyEn = [...en].filter((k) => !ko.has(k));
  assert.deepEqual({ onlyKo, onlyEn }, { onlyKo: [], onlyEn: [] }, `${name}: keys in one language only`);
  for (const l of LANGS) {
    for (const [k, v] of Object.entries(table[l])) assert.ok(typeof v === "string" && v.trim(), `${name}.${l}.${k} is empty`);
  }
}

test("Korean and English have the same strings and finding kinds", () => {
  assert.deepEqual(Object.keys(AIRLOCK_STRINGS).sort(), [...LANGS].sort());
  sameKeys(AIRLOCK_STRINGS, "AIRLOCK_STRINGS");
  sameKeys(AIRLOCK_KINDS, "AIRLOCK_KINDS");
});

test("every key the page's source names is in both languages", () => {
  const used = new Set();
  const add = (re, text) => {
    for (const m of text.matchAll(re)) used.add(m[1]);
  };
  for (const f of ["app.js", "contents.js"]) {
    const src = read(f);
    add(/\bt\("([a-z0-9_]+)"\)/g, src);
    // contents.js's helpers that take a key: mark(cls, key) and its
    // `_title`, row(key, …), plural(n, key) and its `_1`, sbomButton.
    for (const m of src.matchAll(/\bmark\("[a-z]+", "([a-z0-9_]+)"\)/g)) used.add(m[1]).add(`${m[1]}_title`);
    add(/\brow\(\s*"([a-z0-9_]+)"/g, src);
    for (const m of src.matchAll(/\bplural\([^,]+, "([a-z0-9_]+)"\)/g)) used.add(m[1]).add(`${m[1]}_1`);
    add(/\bsbomButton\("[a-z-]+", "([a-z0-9_]+)"/g, src);
  }
  add(/data-i18n(?:-placeholder)?="([a-z0-9_]+)"/g, read("index.html"));
  assert.ok(used.size > 60, `found the keys in the source (${used.size})`);
  for (const l of LANGS) {
    const missing = [...used].filter((k) => !(k in AIRLOCK_STRINGS[l]));
    assert.deepEqual(missing, [], `keys AIRLOCK_STRINGS.${l} lacks`);
  }
});
