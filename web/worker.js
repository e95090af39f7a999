// The page's worker. The build prepends wasm-bindgen's glue (which defines
// `wasm_bindgen`) and `AIRLOCK_WASM_BASE64`, so the worker never fetches
// anything: the page's CSP forbids every connection.
//
// Two instances run per check. The "verify" worker reads the File once,
// feeds verify-core, and hands a copy of every chunk to the "hash" worker,
// which computes the whole-file SHA-256 on the other core.
"use strict";

/* global wasm_bindgen, AIRLOCK_WASM_BASE64 */

// Chunks handed to the hash worker and not yet acknowledged; past this the
// reader waits, so memory stays flat when hashing is the slower side.
const MAX_IN_FLIGHT = 4;
const PROGRESS_EVERY_MS = 100;
// Bytes gathered from the file before they go to wasm and the hash worker.
const BATCH_BYTES = 4 << 20;

let ready = null;
let wasmMemory = null;

function loadWasm() {
  if (!ready) {
    const text = atob(AIRLOCK_WASM_BASE64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    const exports = wasm_bindgen.initSync({ module: bytes });
    wasmMemory = exports.memory;
    ready = wasm_bindgen;
  }
  return ready;
}

// --- hash role ------------------------------------------------------------

function runHash(port) {
  const { WholeFileHasher } = loadWasm();
  const hasher = new WholeFileHasher();
  port.onmessage = (event) => {
    const msg = event.data;
    if (msg.chunk) {
      hasher.update(new Uint8Array(msg.chunk, 0, msg.length));
      port.postMessage({ ack: true });
    } else if (msg.end) {
      port.postMessage({ sha256: hasher.finish() });
    }
  };
}

// --- digest role: the whole-file SHA-256 alone -------------------------------
// The yardstick the full check is measured against (same reading loop, same
// hash implementation, nothing else).

async function runDigest(file) {
  const { WholeFileHasher } = loadWasm();
  const hasher = new WholeFileHasher();
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

async function runVerify({ file, sums, sumsName, pasted, hashPort }) {
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

  const verifier = new airlock.BundleVerifier(expected, !hashPort);
  let inFlight = 0;
  let wake = null;
  let hashDone = null;
  const hashResult = new Promise((resolve) => (hashDone = resolve));
  if (hashPort) {
    hashPort.onmessage = (event) => {
      if (event.data.ack) {
        inFlight--;
        if (wake) {
          const w = wake;
          wake = null;
          w();
        }
      } else if (event.data.sha256) {
        hashDone(event.data.sha256);
      }
    };
  }

  const started = performance.now();
  let lastProgress = 0;
  let done = 0;
  // File.stream() yields small pieces (64 KiB in Chromium); each crossing
  // into wasm and each message to the hash worker has a fixed cost, so
  // pieces are gathered into one batch first and handed over whole.
  let batch = new Uint8Array(BATCH_BYTES);
  let filled = 0;
  const flush = async () => {
    if (filled === 0) return;
    const view = batch.subarray(0, filled);
    if (hashPort) {
      while (inFlight >= MAX_IN_FLIGHT) await new Promise((resolve) => (wake = resolve));
      verifier.update(view);
      inFlight++;
      // The batch itself moves to the hash worker; a fresh one is filled.
      hashPort.postMessage({ chunk: batch.buffer, length: filled }, [batch.buffer]);
      batch = new Uint8Array(BATCH_BYTES);
    } else {
      verifier.update(view);
    }
    done += filled;
    filled = 0;
    const now = performance.now();
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now;
      postMessage({ type: "progress", bytes: done, total: file.size, elapsedMs: now - started, wasmBytes: memoryBytes() });
    }
  };
  const reader = file.stream().getReader();
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    let offset = 0;
    while (offset < value.length) {
      const take = Math.min(value.length - offset, BATCH_BYTES - filled);
      batch.set(value.subarray(offset, offset + take), filled);
      filled += take;
      offset += take;
      if (filled === BATCH_BYTES) await flush();
    }
  }
  await flush();

  let json;
  if (hashPort) {
    hashPort.postMessage({ end: true });
    json = verifier.finishWithFileSha256(await hashResult);
  } else {
    json = verifier.finish();
  }
  const elapsedMs = performance.now() - started;
  postMessage({ type: "progress", bytes: done, total: file.size, elapsedMs, wasmBytes: memoryBytes() });
  postMessage({ type: "report", json, elapsedMs });
}

// Size of this worker's wasm linear memory: the part of its heap that
// could grow with the bundle if anything were buffered.
function memoryBytes() {
  return wasmMemory ? wasmMemory.buffer.byteLength : 0;
}

onmessage = (event) => {
  const msg = event.data;
  try {
    if (msg.role === "hash") {
      runHash(msg.port);
    } else if (msg.role === "digest") {
      runDigest(msg.file).catch((e) => postMessage({ type: "error", message: String(e && e.message ? e.message : e) }));
    } else if (msg.role === "verify") {
      runVerify(msg).catch((e) => postMessage({ type: "error", message: String(e && e.message ? e.message : e) }));
    }
  } catch (e) {
    postMessage({ type: "error", message: String(e && e.message ? e.message : e) });
  }
};
