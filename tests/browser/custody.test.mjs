// Seals and approvals in the page (issue #15, part 3): keys made and a
// corpus bundle sealed with the CLI; the page built with `cargo xtask page
// --trust` of the sender's key shows "Sealed by sender", the page built
// without keys shows the seal as untrusted, a seal of another bundle as a
// mismatch; then an approval signed in the page is the one `airlock load
// --policy` needs to import the bundle.
//
// Environment: as page.test.mjs (AIRLOCK_DIST: the page built without
// keys; AIRLOCK_BIN: the CLI; AIRLOCK_CORPUS). The trusted page is built
// here, into a temporary directory, with `cargo xtask page --trust`.

import { createHash } from "node:crypto";
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { ROOT, CORPUS, AIRLOCK } from "../support.mjs";
import { openPage } from "./open.mjs";

const DIST = process.env.AIRLOCK_DIST || path.join(ROOT, "dist");
const PASSWORD = "correct horse battery staple";
const BUNDLE = "podman-docker-archive-multi.tar";
const OTHER = "containerd-export.tar";

const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-breakpad"];

let browser;
let site; // a temporary directory: keys/, the bundles and their seals, the trusted page
let trustedPage;

/// The CLI in `site`, with the keys' passphrase; returns the result.
function airlock(args) {
  return spawnSync(AIRLOCK, args, {
    cwd: site,
    encoding: "utf8",
    env: { ...process.env, AIRLOCK_PASSWORD: PASSWORD, NO_COLOR: "1" },
  });
}

function ok(args) {
  const out = airlock(args);
  assert.equal(out.status, 0, `airlock ${args.join(" ")}: ${out.stdout}${out.stderr}`);
  return out;
}

before(async () => {
  site = fs.mkdtempSync(path.join(os.tmpdir(), "airlock-custody-"));
  fs.mkdirSync(path.join(site, "keys"));
  fs.mkdirSync(path.join(site, "trusted"));
  for (const name of [BUNDLE, OTHER]) fs.copyFileSync(path.join(CORPUS, "good", name), path.join(site, name));
  for (const name of ["sender", "approver"]) ok(["keygen", `keys/${name}`]);
  ok(["seal", BUNDLE, "--key", "keys/sender.key"]);
  ok(["seal", OTHER, "--key", "keys/sender.key"]);
  // The page trusts the sender's public key only: the directory `--trust`
  // reads holds nothing else.
  fs.copyFileSync(path.join(site, "keys/sender.pub"), path.join(site, "trusted/sender.pub"));
  const out = path.join(site, "page");
  const build = spawnSync(process.env.CARGO || "cargo", ["xtask", "page", "--trust", path.join(site, "trusted"), "--out", out], {
    cwd: ROOT,
    encoding: "utf8",
  });
  assert.equal(build.status, 0, `cargo xtask page --trust: ${build.stdout}${build.stderr}`);
  assert.match(build.stdout, /trusting sender \(key id [0-9a-f]{64}\)/);
  trustedPage = path.join(out, "airlock.html");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (site) fs.rmSync(site, { recursive: true, force: true });
});

/// Opens a page from disk, recording requests and errors.
function open(file) {
  return openPage(browser, pathToFileURL(file).href, { downloads: true });
}

/// Verifies `bundle` with `seal` picked beside it; returns the seal state.
async function verifyWithSeal(page, bundle, seal) {
  await page.setInputFiles("#sums", path.join(site, `${bundle}.sha256`));
  await page.setInputFiles("#seal", path.join(site, seal));
  await page.setInputFiles("#bundle", path.join(site, bundle));
  await page.waitForSelector("body[data-verdict]", { timeout: 120_000 });
  assert.equal(await page.getAttribute("body", "data-verdict"), "ok");
  await page.waitForSelector("body[data-seal]", { timeout: 60_000 });
  return page.getAttribute("body", "data-seal");
}

/// How often the page's workers instantiated the custody module (each
/// worker counts its own in `self.airlockCustodyLoads`); null when no
/// worker has the counter.
async function custodyLoads(page) {
  let total = null;
  for (const worker of page.workers()) {
    const n = await worker.evaluate(() => self.airlockCustodyLoads).catch(() => undefined);
    if (typeof n === "number") total = (total || 0) + n;
  }
  return total;
}

/// The page's self-digest recomputed as README says: the value of its
/// `airlock-self-sha256` meta put back to 64 zeros, the file hashed.
function selfDigest(file) {
  const html = fs.readFileSync(file, "utf8");
  const slot = /(<meta name="airlock-self-sha256" content=")([0-9a-f]{64})(">)/g;
  const found = [...html.matchAll(slot)];
  assert.equal(found.length, 1, `${file}: one self-digest slot`);
  const zeroed = html.replace(slot, (_, a, _digest, b) => a + "0".repeat(64) + b);
  return { recorded: found[0][2], computed: createHash("sha256").update(zeroed).digest("hex") };
}

/// The statement inside a Sigstore bundle's DSSE envelope.
const statementOf = (json) => JSON.parse(Buffer.from(JSON.parse(json).dsseEnvelope.payload, "base64").toString("utf8"));

/// Nothing but the page's own file, Blob URLs and data URLs was asked for.
function assertStayedHome(requests, errors) {
  const outside = requests.filter((u) => !u.startsWith("file://") && !u.startsWith("blob:") && !u.startsWith("data:"));
  assert.deepEqual(outside, [], "requests left the page");
  assert.deepEqual(errors, [], "page errors");
}

test("a seal by a key built into the page: Sealed by sender, in both languages", { timeout: 180_000 }, async () => {
  const { context, page, requests, errors } = await open(trustedPage);
  assert.equal(await page.locator("#trusted-keys").textContent(), "sender");
  assert.equal(await verifyWithSeal(page, BUNDLE, `${BUNDLE}.seal.sigstore.json`), "sealed");
  assert.equal(await page.locator("#seal-status .seal-title").textContent(), "Sealed by sender");
  assert.equal(await page.getAttribute("#seal-status", "class"), "seal sealed");
  await page.click("#lang-ko");
  assert.equal(await page.locator("#seal-status .seal-title").textContent(), "봉인한 사람 sender");
  assert.deepEqual(await page.evaluate(() => window.airlockMissingStrings), []);
  assert.equal(await page.locator("#approve").isVisible(), true, "an ok verdict offers approval");
  assertStayedHome(requests, errors);
  await context.close();
});

test("the same seal in a page built without keys is untrusted", { timeout: 180_000 }, async () => {
  const { context, page, requests, errors } = await open(path.join(DIST, "airlock.html"));
  assert.equal(await verifyWithSeal(page, BUNDLE, `${BUNDLE}.seal.sigstore.json`), "untrusted");
  assert.equal(await page.locator("#seal-status .seal-title").textContent(), "SEALED BY AN UNTRUSTED KEY");
  assert.equal(await page.getAttribute("#seal-status", "class"), "seal untrusted");
  const hint = JSON.parse(fs.readFileSync(path.join(site, `${BUNDLE}.seal.sigstore.json`), "utf8")).verificationMaterial.publicKey.hint;
  assert.match(await page.locator("#seal-status .mono").textContent(), new RegExp(hint));
  assertStayedHome(requests, errors);
  await context.close();
});

test("a seal of another bundle is a mismatch, a garbled one invalid", { timeout: 180_000 }, async () => {
  const { context, page, requests, errors } = await open(trustedPage);
  assert.equal(await verifyWithSeal(page, BUNDLE, `${OTHER}.seal.sigstore.json`), "mismatch");
  assert.equal(await page.locator("#seal-status .seal-title").textContent(), "SEAL OF ANOTHER BUNDLE");
  // A seal whose signature no longer matches its payload.
  const seal = JSON.parse(fs.readFileSync(path.join(site, `${BUNDLE}.seal.sigstore.json`), "utf8"));
  const payload = Buffer.from(seal.dsseEnvelope.payload, "base64").toString("utf8").replace(BUNDLE, `x${BUNDLE}`);
  seal.dsseEnvelope.payload = Buffer.from(payload).toString("base64");
  fs.writeFileSync(path.join(site, "tampered.seal.sigstore.json"), JSON.stringify(seal));
  await page.setInputFiles("#seal", path.join(site, "tampered.seal.sigstore.json"));
  await page.waitForSelector("body[data-seal=invalid]", { timeout: 60_000 });
  assert.equal(await page.locator("#seal-status .seal-title").textContent(), "INVALID SEAL");
  assertStayedHome(requests, errors);
  await context.close();
});

test("an approval signed in the page is what airlock load --policy needs", { timeout: 300_000 }, async () => {
  fs.writeFileSync(
    path.join(site, "policy.toml"),
    '[keys]\nsenders = ["keys/sender.pub"]\napprovers = ["keys/approver.pub"]\n[rules]\napprovals_required = 1\n',
  );
  const load = (layout) => airlock(["load", BUNDLE, "--to", `oci:${layout}`, "--policy", "policy.toml"]);
  fs.mkdirSync(path.join(site, "before"));
  const refused = load("before");
  assert.equal(refused.status, 1, `without an approval the policy refuses: ${refused.stdout}${refused.stderr}`);

  const { context, page, requests, errors } = await open(trustedPage);
  assert.equal(await verifyWithSeal(page, BUNDLE, `${BUNDLE}.seal.sigstore.json`), "sealed");
  await page.setInputFiles("#approve-key", path.join(site, "keys/approver.key"));

  // A wrong passphrase signs nothing and says why.
  await page.fill("#approve-passphrase", "not the passphrase");
  await page.click("#approve-yes");
  await page.waitForSelector("body[data-approval=failed]");
  assert.match(await page.locator("#approve-status").textContent(), /could not be signed/);

  await page.fill("#approve-passphrase", PASSWORD);
  await page.fill("#approve-name", "Approver One");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#approve-yes")]);
  assert.equal(download.suggestedFilename(), `${BUNDLE}.approval.sigstore.json`);
  assert.equal(await page.inputValue("#approve-passphrase"), "", "the passphrase field is emptied");
  const approval = fs.readFileSync(await download.path(), "utf8");
  fs.writeFileSync(path.join(site, `${BUNDLE}.approval.sigstore.json`), approval);
  const statement = statementOf(approval);
  assert.equal(statement.predicate.decision, "approved");
  assert.equal(statement.predicate.approver.name, "Approver One");
  assert.equal(statement.predicate.tool.name, "airlock-page");
  const { recorded, computed } = selfDigest(trustedPage);
  assert.equal(recorded, computed, "the trusted page's self-digest recomputes");
  assert.equal(statement.predicate.tool.sha256, computed, "the approval names the page that made it");
  assertStayedHome(requests, errors);
  await context.close();

  fs.mkdirSync(path.join(site, "layout"));
  const loaded = load("layout");
  assert.equal(loaded.status, 0, `the page's approval is accepted: ${loaded.stdout}${loaded.stderr}`);
  assert.ok(fs.existsSync(path.join(site, "layout/index.json")), "the images were imported");
});

test("dropped together, the bundle, its sidecar and its seal pair by name", { timeout: 180_000 }, async () => {
  const { context, page, requests, errors } = await open(trustedPage);
  // The other bundle's seal is dropped too: the one named for the bundle wins.
  const names = [`${OTHER}.seal.sigstore.json`, `${BUNDLE}.seal.sigstore.json`, `${BUNDLE}.sha256`, BUNDLE];
  const files = names.map((name) => ({ name, base64: fs.readFileSync(path.join(site, name)).toString("base64") }));
  await page.evaluate((files) => {
    const dt = new DataTransfer();
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name));
    }
    document.getElementById("drop").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, files);
  await page.waitForSelector("body[data-seal]", { timeout: 120_000 });
  assert.equal(await page.getAttribute("body", "data-verdict"), "ok");
  assert.equal(await page.getAttribute("body", "data-seal"), "sealed");
  assert.equal(await page.locator("#seal-status .seal-title").textContent(), "Sealed by sender");
  const report = await page.evaluate(() => window.airlockReport);
  assert.equal(report.bundle.sha256_matches, true, "the sidecar was paired too");
  assertStayedHome(requests, errors);
  await context.close();
});

test("without a seal the custody module is never instantiated; a seal or a decision loads it once", { timeout: 300_000 }, async () => {
  const { context, page, requests, errors } = await open(path.join(DIST, "airlock.html"));
  await page.setInputFiles("#sums", path.join(site, `${BUNDLE}.sha256`));
  await page.setInputFiles("#bundle", path.join(site, BUNDLE));
  await page.waitForSelector("body[data-seal]", { timeout: 120_000 });
  assert.equal(await page.getAttribute("body", "data-verdict"), "ok");
  assert.equal(await page.getAttribute("body", "data-seal"), "none");
  assert.equal(await custodyLoads(page), 0, "a check without a seal leaves the custody module alone");

  // A decision needs it: a rejection signed in the page built without
  // keys (dist/airlock.html), whose approval names that page's self-digest.
  await page.setInputFiles("#approve-key", path.join(site, "keys/approver.key"));
  await page.fill("#approve-passphrase", PASSWORD);
  await page.fill("#approve-reason", "not needed here");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#approve-no")]);
  const statement = statementOf(fs.readFileSync(await download.path(), "utf8"));
  assert.equal(statement.predicate.decision, "rejected");
  const { recorded, computed } = selfDigest(path.join(DIST, "airlock.html"));
  assert.equal(recorded, computed, "dist/airlock.html's self-digest recomputes");
  assert.equal(statement.predicate.tool.sha256, computed);
  // The published hash stays the hash of the file as shipped.
  const published = fs.readFileSync(path.join(DIST, "airlock.html.sha256"), "utf8").split(/\s+/)[0];
  assert.equal(published, createHash("sha256").update(fs.readFileSync(path.join(DIST, "airlock.html"))).digest("hex"));
  assert.notEqual(published, computed);
  assert.equal(await custodyLoads(page), 1, "signing instantiated the custody module");

  // Then a seal: the same instance checks it.
  await page.setInputFiles("#seal", path.join(site, `${BUNDLE}.seal.sigstore.json`));
  await page.waitForSelector("body[data-seal=untrusted]", { timeout: 60_000 });
  assert.equal(await custodyLoads(page), 1, "instantiated once per worker");
  assertStayedHome(requests, errors);
  await context.close();
});

test("a seal picked with the bundle instantiates the custody module", { timeout: 180_000 }, async () => {
  const { context, page, requests, errors } = await open(path.join(DIST, "airlock.html"));
  assert.equal(await verifyWithSeal(page, BUNDLE, `${BUNDLE}.seal.sigstore.json`), "untrusted");
  assert.equal(await custodyLoads(page), 1);
  assertStayedHome(requests, errors);
  await context.close();
});
