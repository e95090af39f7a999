// The approver's page in Debian's Chromium, driven by playwright-core:
// opened as one file from disk (file://) and as a static directory over a
// loopback HTTP server, it must give exactly the report `airlock verify
// --json` gives for every corpus file, send nothing anywhere, stay
// responsive and keep its memory flat on a multi-GiB bundle.
//
// Environment (set by `cargo xtask test`): AIRLOCK_DIST, AIRLOCK_CORPUS,
// AIRLOCK_BIN (release CLI), AIRLOCK_BIG (optional large bundle),
// AIRLOCK_SHOTS (screenshot directory).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import http from "node:http";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { ROOT, CORPUS, BIG, corpusRows, sidecar, cliReport } from "../support.mjs";
import { openPage } from "./open.mjs";

const DIST = process.env.AIRLOCK_DIST || path.join(ROOT, "dist");
const SHOTS = process.env.AIRLOCK_SHOTS || path.join(ROOT, "target/screenshots");

// Flags that keep Chromium from reaching out on its own (updates, sync,
// safe browsing) so any request seen is the page's.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-default-apps",
  "--disable-breakpad",
];

const rows = corpusRows();

let browser;
let server;
let httpBase;

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" };

before(async () => {
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const rel = url.pathname === "/" ? "index.html" : url.pathname.slice(1);
    const file = path.join(DIST, "web", path.normalize(rel).replace(/^(\.\.[/\\])+/, ""));
    fs.readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
      res.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  httpBase = `http://127.0.0.1:${server.address().port}/`;
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.close();
});

const MODES = {
  file: () => pathToFileURL(path.join(DIST, "airlock.html")).href,
  http: () => httpBase,
};

/// Opens the page and records every request it (or its workers) makes.
function open(mode, { lang = "en-US" } = {}) {
  return openPage(browser, MODES[mode](), { lang });
}

async function verifyInPage(page, file) {
  const sums = sidecar(file);
  if (sums) await page.setInputFiles("#sums", sums);
  await page.setInputFiles("#bundle", file);
  await page.waitForSelector("body[data-verdict]", { timeout: 600_000 });
  return page.evaluate(() => window.airlockReport);
}

/// Requests that leave the page: anything that is not the page's own file
/// or directory, a Blob URL or a data URL.
function outside(requests, mode) {
  return requests.filter((u) => {
    if (u.startsWith("blob:") || u.startsWith("data:")) return false;
    if (mode === "file") return !u.startsWith("file://");
    return !u.startsWith(httpBase);
  });
}

/// The two workers' own scripts, loaded when a check starts: the page's
/// code, not data leaving it.
function isWorkerScript(url) {
  return url.startsWith("blob:") || url === `${httpBase}worker.js`;
}

for (const mode of Object.keys(MODES)) {
  test(`${mode}: every corpus file gets the CLI's report`, { timeout: 600_000 }, async () => {
    for (const row of rows) {
      const file = path.join(CORPUS, row.file);
      const { context, page, requests, errors } = await open(mode);
      const loaded = requests.length;
      const report = await verifyInPage(page, file);
      const expected = cliReport(file);
      assert.deepEqual(report, expected, `${mode} ${row.file}: page and CLI reports differ`);
      if (row.verdict !== "*") assert.equal(report.verdict, row.verdict, `${mode} ${row.file}`);
      const kinds = report.findings.map((f) => f.kind);
      for (const k of row.kinds) assert.ok(kinds.includes(k), `${mode} ${row.file}: no ${k} in ${kinds}`);
      const shown = await page.locator("body").getAttribute("data-verdict");
      assert.equal(shown, report.verdict);
      const listed = await page.locator("#findings li").count();
      assert.equal(listed, report.findings.length, `${mode} ${row.file}: every finding is shown`);
      assert.deepEqual(outside(requests, mode), [], `${mode} ${row.file}: requests left the page`);
      const during = requests.slice(loaded).filter((u) => !isWorkerScript(u));
      assert.deepEqual(during, [], `${mode} ${row.file}: requests during verification`);
      assert.deepEqual(errors, [], `${mode} ${row.file}: page errors`);
      await context.close();
    }
  });
}

test("language: Korean from the browser, switch to English and back; screenshots", { timeout: 120_000 }, async () => {
  const { context, page } = await open("file", { lang: "ko-KR" });
  assert.equal(await page.evaluate(() => document.documentElement.lang), "ko");
  await verifyInPage(page, path.join(CORPUS, "good/containerd-export.tar"));
  assert.equal(await page.locator(".verdict-title").textContent(), "검증 통과");
  await page.screenshot({ path: path.join(SHOTS, "verdict-ok-ko.png"), fullPage: true });
  await page.click("#lang-en");
  assert.equal(await page.locator(".verdict-title").textContent(), "VERIFIED");
  assert.equal(await page.evaluate(() => document.documentElement.lang), "en");
  await page.screenshot({ path: path.join(SHOTS, "verdict-ok.png"), fullPage: true });
  await page.click("#lang-ko");
  assert.match(await page.locator("h1").textContent(), /컨테이너 이미지/);
  await context.close();

  const bad = await open("file");
  await verifyInPage(bad.page, path.join(CORPUS, "bad/manifest-index-disagree.tar"));
  assert.equal(await bad.page.locator(".verdict-title").textContent(), "FAILED");
  assert.ok((await bad.page.locator('#findings li[data-kind="manifest-index-disagree"]').count()) > 0);
  await bad.page.screenshot({ path: path.join(SHOTS, "verdict-fail.png"), fullPage: true });
  await bad.page.emulateMedia({ media: "print" });
  await bad.page.screenshot({ path: path.join(SHOTS, "print-fail.png"), fullPage: true });
  await bad.context.close();
});

test("a wrong pasted hash fails the bundle; a garbage sums file is refused", { timeout: 60_000 }, async () => {
  const { context, page } = await open("http");
  await page.fill("#sha256", "0".repeat(64));
  await page.setInputFiles("#bundle", path.join(CORPUS, "good/podman-oci-archive.tar"));
  await page.waitForSelector("body[data-verdict]");
  const report = await page.evaluate(() => window.airlockReport);
  assert.equal(report.verdict, "fail");
  assert.equal(report.findings[0].kind, "file-digest-mismatch");

  await page.reload();
  await page.setInputFiles("#sums", path.join(CORPUS, "bad/not-a-tar.bin"));
  await page.setInputFiles("#bundle", path.join(CORPUS, "good/podman-oci-archive.tar"));
  await page.waitForSelector("#problem:not([hidden])");
  assert.match(await page.locator("#problem").textContent(), /hash file/i);
  assert.equal(await page.locator("body").getAttribute("data-verdict"), null);
  await context.close();
});

/// Rounds of the large-bundle measurement (`cargo xtask bench` asks for
/// several); the checks run in every round.
const ROUNDS = Math.max(1, Number(process.env.AIRLOCK_PAGE_ROUNDS || 1));

test("a large bundle: responsive page, flat worker memory, throughput", { skip: !BIG, timeout: 1_200_000 * ROUNDS }, async () => {
  const size = fs.statSync(BIG).size;
  const mib = size / 1048576;
  const rounds = [];
  for (let round = 0; round < ROUNDS; round++) {
    const r = await largeBundleRound();
    rounds.push(r);
    console.log(
      `large bundle, round ${round + 1}/${ROUNDS}: ${(size / 1073741824).toFixed(2)} GiB verified in ${(r.elapsedMs / 1000).toFixed(1)} s = ${(mib / (r.elapsedMs / 1000)).toFixed(0)} MiB/s; ` +
        `bare SHA-256 in the same browser ${(mib / (r.bareMs / 1000)).toFixed(0)} MiB/s; ` +
        `hash-wasm ${(mib / (r.hashWasmMs / 1000)).toFixed(0)} MiB/s (ratio ${(r.hashWasmMs / r.elapsedMs).toFixed(2)}); ` +
        `worker wasm memory ${(r.wasmPeakBytes / 1048576).toFixed(1)} MiB; longest main-thread gap ${r.maxGapMs.toFixed(0)} ms`,
    );
  }
  // Best of the rounds for each side, as `cargo xtask bench` reports.
  const best = (key) => Math.min(...rounds.map((r) => r[key]));
  fs.writeFileSync(
    path.join(SHOTS, "large-bundle.json"),
    JSON.stringify(
      {
        bytes: size,
        elapsedMs: best("elapsedMs"),
        mibPerSec: mib / (best("elapsedMs") / 1000),
        bareSha256MibPerSec: mib / (best("bareMs") / 1000),
        hashWasmElapsedMs: best("hashWasmMs"),
        hashWasmMibPerSec: mib / (best("hashWasmMs") / 1000),
        wasmPeakBytes: Math.max(...rounds.map((r) => r.wasmPeakBytes)),
        maxGapMs: Math.max(...rounds.map((r) => r.maxGapMs)),
        rounds,
      },
      null,
      2,
    ),
  );
});

/// One check of the large bundle in a fresh page, then the two yardsticks
/// on the same File: the page's own hash alone, and hash-wasm.
async function largeBundleRound() {
  const { context, page, requests } = await open("file");
  const loaded = requests.length;
  // A main-thread heartbeat: long gaps would mean the page froze.
  await page.evaluate(() => {
    window.beat = { last: performance.now(), maxGap: 0, count: 0 };
    setInterval(() => {
      const now = performance.now();
      window.beat.maxGap = Math.max(window.beat.maxGap, now - window.beat.last);
      window.beat.last = now;
      window.beat.count++;
    }, 50);
  });
  const samples = [];
  const poll = setInterval(async () => {
    try {
      const s = await page.evaluate(() => ({
        bar: Number(document.getElementById("bar").value),
        wasm: Number(document.body.dataset.wasmBytes || 0),
      }));
      samples.push(s);
    } catch {
      // the page may be busy rendering the report
    }
  }, 500);
  const report = await verifyInPage(page, BIG);
  clearInterval(poll);
  const elapsedMs = Number(await page.locator("body").getAttribute("data-elapsed-ms"));
  const beat = await page.evaluate(() => window.beat);
  assert.equal(report.verdict, "ok", JSON.stringify(report.findings));
  assert.equal(report.bundle.sha256_matches, true);
  assert.deepEqual(outside(requests, "file"), []);
  assert.deepEqual(requests.slice(loaded).filter((u) => !isWorkerScript(u)), [], "requests during verification");

  const wasm = samples.filter((s) => s.wasm > 0);
  assert.ok(wasm.length >= 4, `progress was sampled (${wasm.length} samples)`);
  const early = wasm.find((s) => s.bar >= 0.25) || wasm[0];
  const peak = Math.max(...wasm.map((s) => s.wasm));
  assert.ok(peak <= 128 * 1024 * 1024, `worker wasm memory peaked at ${peak} bytes`);
  assert.equal(peak, early.wasm, "worker wasm memory grew after the first quarter");
  assert.ok(beat.maxGap < 1000, `the page froze for ${beat.maxGap} ms`);

  // The yardstick in the same browser: the whole-file SHA-256 alone, same
  // reading loop and hash code, in one worker.
  const bare = await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const src = document.getElementById("airlock-worker").textContent;
        const w = new Worker(URL.createObjectURL(new Blob([src], { type: "text/javascript" })));
        w.onmessage = (e) => {
          if (e.data.type === "digest") resolve(e.data);
          else reject(new Error(JSON.stringify(e.data)));
          w.terminate();
        };
        w.postMessage({ role: "digest", file: document.getElementById("bundle").files[0] });
      }),
  );
  assert.equal(bare.sha256, report.bundle.sha256, "the bare hash agrees with the report");

  // The yardstick issue #8 names: hash-wasm's SHA-256 (hand-written C in
  // wasm) on the same File in the same page, fed by the fastest reading
  // loop found here (File.stream() in a worker).
  const hashWasmSource = fs.readFileSync(
    path.join(ROOT, "node_modules/hash-wasm/dist/sha256.umd.min.js"),
    "utf8",
  );
  const peer = await page.evaluate(
    (lib) =>
      new Promise((resolve, reject) => {
        const loop = `
          onmessage = async (e) => {
            const hasher = await self.hashwasm.createSHA256();
            hasher.init();
            const started = performance.now();
            const reader = e.data.stream().getReader();
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              hasher.update(value);
            }
            postMessage({ sha256: hasher.digest("hex"), elapsedMs: performance.now() - started });
          };`;
        const w = new Worker(URL.createObjectURL(new Blob([lib, loop], { type: "text/javascript" })));
        w.onmessage = (e) => {
          resolve(e.data);
          w.terminate();
        };
        w.onerror = (e) => reject(new Error(e.message));
        w.postMessage(document.getElementById("bundle").files[0]);
      }),
    hashWasmSource,
  );
  assert.equal(peer.sha256, report.bundle.sha256, "hash-wasm agrees with the report");

  await context.close();
  return {
    elapsedMs,
    bareMs: bare.elapsedMs,
    hashWasmMs: peer.elapsedMs,
    wasmPeakBytes: peak,
    maxGapMs: beat.maxGap,
  };
}
