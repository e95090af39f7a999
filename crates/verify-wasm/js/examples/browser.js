// Check the bundle a user picks before it goes anywhere; nothing is uploaded.
import init, { verifyFile, recordedSha256 } from "@airlock/verify";

const ready = init(); // loads the wasm once; recordedSha256 needs it, verifyFile waits for it

const bundle = /** @type {HTMLInputElement} */ (document.querySelector("#bundle"));
const sums = /** @type {HTMLInputElement} */ (document.querySelector("#sums"));
const out = /** @type {HTMLElement} */ (document.querySelector("#out"));

bundle.addEventListener("change", async () => {
  const file = bundle.files?.[0];
  const sumsFile = sums.files?.[0];
  if (!file) return;
  await ready;
  const expectedSha256 = sumsFile && recordedSha256(new Uint8Array(await sumsFile.arrayBuffer()), file.name);
  const report = await verifyFile(file, {
    expectedSha256,
    onProgress: ({ bytes, total }) => (out.textContent = `${Math.round((100 * bytes) / (total || 1))} %`),
  });
  out.textContent = `${report.verdict} ${report.findings.map((f) => f.kind).join(" ")}`;
  out.dataset.verdict = report.verdict;
});
