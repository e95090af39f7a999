// web/visible.js without a browser: the page shows control and bidi
// characters from a bundle as escapes, the same ones `airlock` prints in a
// terminal (crates/native-cli/src/untrusted.rs), and printable text as it is.

import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { ROOT } from "../support.mjs";

const page = {};
vm.runInNewContext(fs.readFileSync(path.join(ROOT, "web/visible.js"), "utf8"), page);
const visible = page.airlockVisible;

const ATTACK = "app:1\r\u001b[2K\u001b[1A\u001b[32mVERIFIED\u001b[8m\u202e";

test("the terminal attack shows as text, as the CLI shows it", () => {
  assert.equal(
    visible(ATTACK),
    "app:1\\r\\u{1b}[2K\\u{1b}[1A\\u{1b}[32mVERIFIED\\u{1b}[8m\\u{202e}",
  );
});

test("C0, DEL and C1 controls are escaped", () => {
  assert.equal(visible("a\u0000b\u0007\n\t"), "a\\u{0}b\\u{7}\\n\\t");
  assert.equal(visible("\u007f\u0080\u0085\u009b\u009f"), "\\u{7f}\\u{80}\\u{85}\\u{9b}\\u{9f}");
  assert.equal(visible("\u00a0"), "\u00a0");
});

test("bidi controls and separators are escaped", () => {
  const bidi = [0x061c, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];
  for (const cp of bidi) assert.equal(visible(`x${String.fromCodePoint(cp)}y`), `x\\u{${cp.toString(16)}}y`);
  assert.equal(visible("invoice\u202egpj.exe"), "invoice\\u{202e}gpj.exe");
});

test("a backslash is doubled; printable text in any script is unchanged", () => {
  assert.equal(visible("C:\\dl\\a.tar"), "C:\\\\dl\\\\a.tar");
  for (const text of ["레지스트리/앱:1.0", "Zoë bündel-📦.tar", "linux/amd64", "1.5 KiB"]) assert.equal(visible(text), text);
  assert.equal(visible(42), "42");
});
