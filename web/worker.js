// The page's worker. The build prepends the npm package @airlock/verify
// (pkg/, bundled into one script that defines `airlockVerify`: the same API
// other web apps embed) and `AIRLOCK_WASM_BASE64`, so the worker never
// fetches anything: the page's CSP forbids every connection.
//
// Two instances run per check, one per core. The "read" worker reads the
// File once and hashes it whole, exactly as the bare-hash yardstick does,
// and hands the bytes on in large batches to the "verify" worker, which
// feeds verify-core. The verify worker never waits on the disk, and the
// reader never waits on the verifier except when it is a full batch window
// ahead.
"use strict";

/* global airlockVerify, AIRLOCK_WASM_BASE64, airlockCustody, AIRLOCK_CUSTODY_WASM_BASE64, airlockTree */

// Batches handed to the verify worker and not yet taken in; past this the
// reader waits, so memory stays flat when verifying is the slower side.
const MAX_IN_FLIGHT = 4;
const PROGRESS_EVERY_MS = 100;
// Bytes gathered from the file before they go to the verify worker.
const BATCH_BYTES = 4 << 20;

let ready = null;
let wasmMemory = null;

function fromBase64(text64) {
  const text = atob(text64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function loadWasm() {
  if (!ready) {
    const exports = airlockVerify.initSync({ module: fromBase64(AIRLOCK_WASM_BASE64) });
    wasmMemory = exports.memory;
    ready = airlockVerify;
  }
  return ready;
}

// The custody module (seal check, approval signing: crates/custody-wasm)
// is a second wasm, instantiated only when a seal is to be checked or the
// approver signs; a check without either never decodes or compiles it.
// `airlockCustodyLoads` counts its instantiations (the page's tests read it).
let custodyReady = null;
self.airlockCustodyLoads = 0;

function loadCustody() {
  if (!custodyReady) {
    airlockCustody.initSync({ module: fromBase64(AIRLOCK_CUSTODY_WASM_BASE64) });
    self.airlockCustodyLoads++;
    custodyReady = airlockCustody;
  }
  return custodyReady;
}

// --- read role: the File, its whole-file SHA-256, batches to the verifier ---

function runRead(file, port) {
  const { FileHasher } = loadWasm();
  const hasher = new FileHasher();
  let inFlight = 0;
  let wake = null;
  port.onmessage = (event) => {
    if (event.data.ack) {
      inFlight--;
      if (wake) {
        const w = wake;
        wake = null;
        w();
      }
    }
  };
  // File.stream() yields small pieces (64 KiB in Chromium). Each is hashed
  // as it comes, then gathered into a batch: one message and one crossing
  // into the verifier's wasm per batch instead of per piece.
  let batch = new Uint8Array(BATCH_BYTES);
  let filled = 0;
  const send = async () => {
    while (inFlight >= MAX_IN_FLIGHT) await new Promise((resolve) => (wake = resolve));
    inFlight++;
    port.postMessage({ chunk: batch.buffer, length: filled }, [batch.buffer]);
    batch = new Uint8Array(BATCH_BYTES);
    filled = 0;
  };
  (async () => {
    const reader = file.stream().getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      hasher.update(value);
      let offset = 0;
      while (offset < value.length) {
        const take = Math.min(value.length - offset, BATCH_BYTES - filled);
        batch.set(value.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === BATCH_BYTES) await send();
      }
    }
    if (filled > 0) await send();
    port.postMessage({ end: true, sha256: hasher.finish() });
  })().catch((e) => port.postMessage({ error: String(e && e.message ? e.message : e) }));
}

// --- digest role: the whole-file SHA-256 alone -------------------------------
// The yardstick the full check is measured against (same reading loop, same
// hash implementation, nothing else).

async function runDigest(file) {
  const { FileHasher } = loadWasm();
  const hasher = new FileHasher();
  const started = performance.now();
  const reader = file.stream().getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    hasher.update(value);
  }
  postMessage({ type: "digest", sha256: hasher.finish(), elapsedMs: performance.now() - started });
}

// --- verify role ----------------------------------------------------------

async function runVerify({ file, sums, sumsName, pasted, port }) {
  const airlock = loadWasm();
  let expected = null;
  try {
    if (sums) {
      expected = airlock.recordedSha256(new Uint8Array(sums), file.name);
    } else if (pasted && pasted.trim()) {
      expected = airlock.recordedSha256(new TextEncoder().encode(pasted), file.name);
    }
  } catch (e) {
    postMessage({ type: "sums-error", message: String(e && e.message ? e.message : e), source: sumsName || "" });
    return;
  }

  // The whole-file hash is the read worker's; the verifier does the rest,
  // and the page shows each image's file tree.
  const verifier = new airlock.Verifier({ expectedSha256: expected, hashFile: false, files: true });
  const started = performance.now();
  let lastProgress = 0;
  let done = 0;
  const progress = () =>
    postMessage({
      type: "progress",
      bytes: done,
      total: file.size,
      elapsedMs: performance.now() - started,
      wasmBytes: memoryBytes(),
    });
  await new Promise((resolve, reject) => {
    port.onmessage = (event) => {
      const msg = event.data;
      if (msg.chunk) {
        verifier.update(new Uint8Array(msg.chunk, 0, msg.length));
        // The batch is spent once it is in wasm memory; the reader may read on.
        port.postMessage({ ack: true });
        done += msg.length;
        const now = performance.now();
        if (now - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = now;
          progress();
        }
      } else if (msg.end) {
        progress();
        const report = verifier.finish(msg.sha256);
        postReport(report, verifier, performance.now() - started);
        resolve();
      } else if (msg.error) {
        reject(new Error(msg.error));
      }
    };
  });
}

// --- the finished report --------------------------------------------------

// The verifier whose report the page shows; it keeps that report, so the
// page's "Save SBOM" asks it without sending the report back.
let finishedVerifier = null;
// The same report as this worker keeps it (each image's file tree taken
// out), for the custody module: it crosses to that module as JSON.
let finishedReport = null;

// The report with each image's file tree taken out and sent apart in the
// compact form of airlockTree (web/tree.js): 200,000 entries as objects
// would cost the page's main thread a long pause to receive, and the
// report itself then stays the one `airlock verify --json` gives.
function postReport(report, verifier, elapsedMs) {
  finishedVerifier = verifier;
  finishedReport = report;
  const trees = [];
  const transfer = [];
  for (const image of report.images) {
    if (Array.isArray(image.files)) {
      const tree = airlockTree.compact(image.files);
      trees.push(tree);
      transfer.push(...airlockTree.buffers(tree));
    } else {
      trees.push(null);
    }
    delete image.files;
  }
  postMessage({ type: "report", report, trees, elapsedMs }, transfer);
}

function runSbom({ image, format, unixSeconds, id }) {
  try {
    if (!finishedVerifier) throw new Error("no finished verification");
    postMessage({ type: "sbom", id, json: finishedVerifier.sbom(image, format, unixSeconds) });
  } catch (e) {
    postMessage({ type: "sbom", id, error: String(e && e.message ? e.message : e) });
  }
}

// The seal picked with the bundle, checked against the kept report and
// the keys built into the page.
function runSeal({ id, seal, trusted }) {
  try {
    if (!finishedReport) throw new Error("no finished verification");
    const custody = loadCustody();
    const answer = custody.verifySeal(JSON.stringify(finishedReport), new Uint8Array(seal), JSON.stringify(trusted));
    postMessage({ type: "seal", id, result: JSON.parse(answer) });
  } catch (e) {
    postMessage({ type: "seal", id, error: String(e && e.message ? e.message : e) });
  }
}

// The approver's decision, signed here: the key is decrypted and dropped
// inside the wasm call, and the bytes this side holds are overwritten.
// (The passphrase also lived as a JavaScript string, which cannot be
// wiped; it is dropped as soon as it is encoded.) `pageSha256` is the
// page's self-digest, recorded as the tool's hash.
function runApprove(msg) {
  const { id, key, decision, reason, name, bundleName, unixSeconds, pageSha256 } = msg;
  const passphrase = new TextEncoder().encode(msg.passphrase);
  msg.passphrase = null;
  const keyBytes = new Uint8Array(key);
  try {
    if (!finishedReport) throw new Error("no finished verification");
    const custody = loadCustody();
    const pem = new TextDecoder().decode(keyBytes);
    const json = custody.approve(
      JSON.stringify(finishedReport),
      pem,
      passphrase,
      decision,
      reason,
      name,
      bundleName,
      unixSeconds,
      pageSha256 || null,
    );
    postMessage({ type: "approve", id, json });
  } catch (e) {
    postMessage({ type: "approve", id, error: String(e && e.message ? e.message : e) });
  } finally {
    passphrase.fill(0);
    keyBytes.fill(0);
  }
}

// Size of this worker's wasm linear memory: the part of its heap that
// could grow with the bundle if anything were buffered.
function memoryBytes() {
  return wasmMemory ? wasmMemory.buffer.byteLength : 0;
}

onmessage = (event) => {
  const msg = event.data;
  try {
    if (msg.role === "read") {
      runRead(msg.file, msg.port);
    } else if (msg.role === "digest") {
      runDigest(msg.file).catch((e) => postMessage({ type: "error", message: String(e && e.message ? e.message : e) }));
    } else if (msg.role === "sbom") {
      runSbom(msg);
    } else if (msg.role === "seal") {
      runSeal(msg);
    } else if (msg.role === "approve") {
      runApprove(msg);
    } else if (msg.role === "verify") {
      runVerify(msg).catch((e) => postMessage({ type: "error", message: String(e && e.message ? e.message : e) }));
    }
  } catch (e) {
    postMessage({ type: "error", message: String(e && e.message ? e.message : e) });
  }
};
