// The package's entry: the wasm-bindgen classes and functions (generated
// from crates/verify-wasm) and two helpers that stream a File or a
// ReadableStream through a Verifier. Compiled by `cargo xtask pkg` with
// tsc into pkg/index.js and pkg/index.d.ts.

import init, { Verifier } from "./airlock_verify.js";
import type { Report, VerifierOptions } from "./airlock_verify.js";

export * from "./airlock_verify.js";
export { default, default as init, initSync } from "./airlock_verify.js";

/** How far a helper has read. */
export interface VerifyProgress {
  /** Bytes fed to the verifier so far. */
  bytes: number;
  /** The whole size when known (a File's size), else `undefined`. */
  total?: number;
}

/** Options of `verifyStream` and `verifyFile`: the verifier's, and these. */
export interface VerifyStreamOptions extends VerifierOptions {
  /** Called after each chunk, at most every `progressEveryMs`. */
  onProgress?: (progress: VerifyProgress) => void;
  /** Milliseconds between two `onProgress` calls (default 100). */
  progressEveryMs?: number;
  /** Aborting stops reading and rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Stop reading once the verdict is settled (a fail no later byte can
   * change), and report without the whole-file hash (default `true`).
   * `false` reads to the end, so the report also says whether the file
   * matches its recorded hash.
   */
  stopWhenSettled?: boolean;
  /** The stream's size in bytes, when known, for `onProgress`. */
  total?: number;
}

/**
 * Verifies the bundle a stream yields, chunk by chunk in constant memory.
 * Loads the wasm first if `init` has not run (in Node it has).
 */
export async function verifyStream(
  stream: ReadableStream<Uint8Array>,
  options: VerifyStreamOptions = {},
): Promise<Report> {
  const { onProgress, progressEveryMs = 100, signal, stopWhenSettled = true, total, ...verifierOptions } = options;
  signal?.throwIfAborted();
  await init();
  const verifier = new Verifier(verifierOptions);
  const reader = stream.getReader();
  const onAbort = () => {
    reader.cancel(signal?.reason).catch(() => {});
  };
  signal?.addEventListener("abort", onAbort);
  try {
    let last = 0;
    for (;;) {
      const { value, done } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      const flow = verifier.update(value);
      if (onProgress) {
        const now = Date.now();
        if (now - last >= progressEveryMs) {
          last = now;
          onProgress({ bytes: verifier.bytesFed, total });
        }
      }
      if (flow === "settled" && stopWhenSettled) {
        await reader.cancel("the verdict is settled");
        onProgress?.({ bytes: verifier.bytesFed, total });
        return verifier.finishSettled();
      }
    }
    onProgress?.({ bytes: verifier.bytesFed, total });
    return verifier.finish();
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
    verifier.free();
  }
}

/**
 * Verifies a bundle the user picked or dropped (`File`) or any `Blob`,
 * streamed with `Blob.stream()`: a multi-gigabyte file is never in memory.
 */
export function verifyFile(file: Blob, options: VerifyStreamOptions = {}): Promise<Report> {
  return verifyStream(file.stream(), { total: file.size, ...options });
}
