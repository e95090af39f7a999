// The package's entry in Node: the wasm is read from beside this file and
// compiled at import, so everything is ready without `await init()`.
import { readFileSync } from "node:fs";
import { initSync } from "./airlock_verify.js";

initSync({ module: readFileSync(new URL("./airlock_verify_bg.wasm", import.meta.url)) });

export * from "./index.js";
export { default } from "./index.js";
