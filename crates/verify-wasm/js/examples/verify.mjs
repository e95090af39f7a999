// node verify.mjs BUNDLE [SUMS]: prints the verdict and the finding kinds;
// exits 0 for ok, 1 for fail.
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { verifyStream, recordedSha256 } from "@airlock/verify";

const [bundle, sums] = process.argv.slice(2);
const expectedSha256 = sums ? recordedSha256(await readFile(sums), basename(bundle)) : undefined;
const stream = /** @type {ReadableStream<Uint8Array>} */ (Readable.toWeb(createReadStream(bundle)));
const report = await verifyStream(stream, { expectedSha256 });

// Kinds are fixed words; names and messages come from the bundle and are
// not printed raw to a terminal.
console.log(report.verdict, report.findings.map((f) => f.kind).join(","), `images=${report.images.length}`);
process.exitCode = report.verdict === "ok" ? 0 : 1;
