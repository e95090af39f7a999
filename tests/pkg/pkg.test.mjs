// The npm package as a user gets it: `npm pack`, installed from the tarball
// (offline, as across the air gap) into a scratch project, then the README's
// examples run there: the Node one on every corpus bundle, the browser one
// in Chromium, and both type-checked with tsc. Run by `cargo xtask test`
// after `cargo xtask pkg` (AIRLOCK_PKG, AIRLOCK_PKG_SCRATCH).

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { before, test } from "node:test";
import { chromium } from "playwright-core";
import { CORPUS, ROOT, cliReport, corpusRows, sidecar } from "../support.mjs";

const PKG = process.env.AIRLOCK_PKG || path.join(ROOT, "pkg");
const SCRATCH = process.env.AIRLOCK_PKG_SCRATCH || path.join(ROOT, "target/pkg-test");
const EXAMPLES = path.join(ROOT, "crates/verify-wasm/js/examples");
const INSTALLED = path.join(SCRATCH, "node_modules/@airlock/verify");

function sh(cmd, args, opts = {}) {
  const out = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 26, ...opts });
  assert.equal(out.error, undefined, `${cmd}: ${out.error}`);
  return out;
}

let tarball;

before(() => {
  fs.rmSync(SCRATCH, { recursive: true, force: true });
  fs.mkdirSync(SCRATCH, { recursive: true });
  const packed = sh("npm", ["pack", PKG, "--pack-destination", SCRATCH, "--json"]);
  assert.equal(packed.status, 0, packed.stderr);
  tarball = path.join(SCRATCH, JSON.parse(packed.stdout)[0].filename);
  fs.writeFileSync(path.join(SCRATCH, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }));
  const installed = sh("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], { cwd: SCRATCH });
  assert.equal(installed.status, 0, installed.stderr);
  for (const name of ["verify.mjs", "browser.js"]) {
    fs.copyFileSync(path.join(EXAMPLES, name), path.join(SCRATCH, name));
  }
});

test("the tarball holds the package, versioned as the workspace", () => {
  const list = sh("tar", ["-tzf", tarball]).stdout.split("\n").filter(Boolean);
  for (const f of ["package.json", "index.js", "index.d.ts", "node.js", "airlock_verify_bg.wasm", "README.md"]) {
    assert.ok(list.includes(`package/${f}`), `${f} missing from ${list.join(" ")}`);
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(INSTALLED, "package.json"), "utf8"));
  const cargo = fs.readFileSync(path.join(ROOT, "Cargo.toml"), "utf8");
  const version = /\[workspace\.package\][^[]*?^version\s*=\s*"([^"]+)"/ms.exec(cargo)?.[1];
  assert.ok(version, "workspace version in Cargo.toml");
  assert.equal(manifest.version, version);
  // Resolution takes the first condition that matches: types, then Node's
  // entry, then the browser's.
  assert.deepEqual(Object.keys(manifest.exports["."]), ["types", "node", "default"]);
  // Issue #19: no growth over the page's wasm before the package (909,173
  // bytes after wasm-opt) beyond 10%.
  const wasm = fs.statSync(path.join(INSTALLED, "airlock_verify_bg.wasm")).size;
  assert.ok(wasm <= 909_173 * 1.1, `the wasm is ${wasm} bytes, over 110% of 909,173`);
  // Seals and approvals (issue #15) live in the page's own custody module,
  // not in the package: its glue exports no signature functions.
  const glue = fs.readFileSync(path.join(INSTALLED, "airlock_verify.js"), "utf8");
  for (const name of ["verifySeal", "approve"]) {
    assert.ok(!new RegExp(`\\b${name}\\b`).test(glue), `the package exports ${name}`);
  }
});

test("the Node example gives every corpus bundle its expected verdict, as the CLI does", () => {
  const rows = corpusRows();
  assert.ok(rows.length > 5, "the corpus has rows");
  for (const row of rows) {
    const file = path.join(CORPUS, row.file);
    const sums = sidecar(file);
    const out = sh("node", ["verify.mjs", file, ...(sums ? [sums] : [])], { cwd: SCRATCH });
    const [verdict, kinds] = out.stdout.trim().split(" ");
    assert.equal(out.status, verdict === "ok" ? 0 : 1, `${row.file}: ${out.stderr}`);
    if (row.verdict !== "*") assert.equal(verdict, row.verdict, row.file);
    const seen = kinds ? kinds.split(",") : [];
    for (const k of row.kinds) assert.ok(seen.includes(k), `${row.file}: ${k} not in ${seen}`);
    assert.equal(verdict, cliReport(file).verdict, `${row.file}: the package and the CLI disagree`);
  }
});

test("read to the end, the package's report equals airlock verify --json", () => {
  const script = `
    import { createReadStream } from "node:fs";
    import { Readable } from "node:stream";
    import { verifyStream } from "@airlock/verify";
    const report = await verifyStream(Readable.toWeb(createReadStream(process.argv[1])), { stopWhenSettled: false });
    process.stdout.write(JSON.stringify(report));
  `;
  for (const row of corpusRows()) {
    const file = path.join(CORPUS, row.file);
    if (sidecar(file)) continue; // the CLI reads the sidecar by itself; the script does not
    const out = sh("node", ["--input-type=module", "-e", script, file], { cwd: SCRATCH });
    assert.equal(out.status, 0, `${row.file}: ${out.stderr}`);
    assert.deepEqual(JSON.parse(out.stdout), cliReport(file), row.file);
  }
});

test("the examples type-check against the package's declarations", () => {
  fs.copyFileSync(path.join(ROOT, "tests/pkg/typing.ts"), path.join(SCRATCH, "typing.ts"));
  const tsc = path.join(ROOT, "node_modules/.bin/tsc");
  const common = ["--noEmit", "--strict", "--skipLibCheck", "false", "--target", "es2022", "--lib", "es2022,dom,dom.iterable"];
  const node = sh(tsc, [...common, "--allowJs", "--checkJs", "--module", "nodenext", "--moduleResolution", "nodenext",
    "--types", "node", "--typeRoots", path.join(ROOT, "node_modules/@types"), "verify.mjs", "typing.ts"], { cwd: SCRATCH });
  assert.equal(node.status, 0, node.stdout + node.stderr);
  const browser = sh(tsc, [...common, "--allowJs", "--checkJs", "--module", "es2022", "--moduleResolution", "bundler",
    "browser.js"], { cwd: SCRATCH });
  assert.equal(browser.status, 0, browser.stdout + browser.stderr);
});

test("the browser example verifies a picked bundle in Chromium, with no request leaving the page", async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage();
    const outside = [];
    const types = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };
    const html = `<!doctype html><script type="importmap">{"imports":{"@airlock/verify":"/pkg/index.js"}}</script>
      <input type="file" id="bundle"><input type="file" id="sums"><output id="out"></output>
      <script type="module" src="/browser.js"></script>`;
    await page.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.host !== "pkg.test") {
        outside.push(url.href);
        return route.abort();
      }
      const file = url.pathname === "/" ? null
        : url.pathname.startsWith("/pkg/") ? path.join(INSTALLED, url.pathname.slice(5))
        : path.join(SCRATCH, url.pathname.slice(1));
      if (!file) return route.fulfill({ body: html, contentType: "text/html" });
      return route.fulfill({ body: fs.readFileSync(file), contentType: types[path.extname(file)] || "application/octet-stream" });
    });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto("http://pkg.test/");
    const rows = corpusRows();
    const picks = [...rows.filter((r) => r.verdict === "ok").slice(0, 3), ...rows.filter((r) => r.verdict === "fail").slice(0, 3)];
    assert.equal(picks.length, 6, "the corpus has good and bad bundles");
    for (const row of picks) {
      const file = path.join(CORPUS, row.file);
      await page.evaluate(() => delete document.querySelector("#out").dataset.verdict);
      await page.setInputFiles("#sums", sidecar(file) ? [sidecar(file)] : []);
      await page.setInputFiles("#bundle", file);
      await page.waitForSelector("#out[data-verdict]", { timeout: 60_000 });
      const verdict = await page.getAttribute("#out", "data-verdict");
      assert.equal(verdict, row.verdict, row.file);
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(outside, []);
  } finally {
    await browser.close();
  }
});
