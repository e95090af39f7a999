// Compiled with `tsc --noEmit` against the installed package: the lines
// marked @ts-expect-error must be type errors, which they are only if the
// declarations are precise (an `any` anywhere would let them through).
import { Verifier, parseSums, type Flow, type Report, type Verdict } from "@airlock/verify";

const verifier = new Verifier({ hashFile: true, limits: { max_entries: 10 } });
const flow: Flow = verifier.update(new Uint8Array(0));
const report: Report = verifier.finish();
const verdict: Verdict = report.verdict;
const kinds: string[] = report.findings.map((f) => f.kind);
console.log(flow, verdict, kinds, parseSums(new Uint8Array(0)).length);

// @ts-expect-error: a verdict is "ok" or "fail", nothing else
const maybe: "maybe" = report.verdict;
// @ts-expect-error: a misspelt option is caught before it runs
new Verifier({ hashFiles: true });
// @ts-expect-error: update takes bytes, not text
verifier.update("bytes");
// @ts-expect-error: the settled signal is a closed union
const stopped: "stopped" = flow;
console.log(maybe, stopped);
