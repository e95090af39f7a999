// The approver's page: picks the bundle and the recorded hash, runs the two
// workers, and shows the report. All verification happens in verify-core
// (in the workers); this file only reads inputs and renders results.
"use strict";

/* global AIRLOCK_STRINGS, AIRLOCK_KINDS, airlockVisible, airlockContents */

(function () {
  const $ = (id) => document.getElementById(id);
  let lang = pickLanguage();
  let running = null; // { workers, file, started }
  let lastReport = null;
  let lastTrees = []; // per image: its compact file tree (web/tree.js) or null
  let views = []; // per image: what its tree view keeps across re-renders
  let lastFileName = "";
  let sumsFile = null;
  let sealFile = null; // a seal dropped with the bundle
  let lastSeal = null; // the shown report's seal check: null, "none", "not-checked" or a SealCheck
  // The verify worker of the shown report, kept for "Save SBOM", the seal
  // check and signing: it holds the report in wasm, so nothing is sent
  // back to it but a request.
  let sbomWorker = null;
  const sbomWaiting = new Map();
  let sbomNext = 0;

  function pickLanguage() {
    const saved = safeStorage("airlock-lang");
    if (saved === "ko" || saved === "en") return saved;
    const langs = navigator.languages || [navigator.language || "en"];
    return langs.some((l) => String(l).toLowerCase().startsWith("ko")) ? "ko" : "en";
  }

  function safeStorage(key, value) {
    try {
      if (value === undefined) return localStorage.getItem(key);
      localStorage.setItem(key, value);
    } catch {
      // file:// pages may have no storage; the choice then lasts this visit.
    }
    return null;
  }

  // A key one language lacks is recorded (the browser tests fail on it)
  // and shown in English rather than not at all.
  window.airlockMissingStrings = [];
  const t = (key) => {
    const text = AIRLOCK_STRINGS[lang][key];
    if (text !== undefined) return text;
    window.airlockMissingStrings.push(`${lang}:${key}`);
    return AIRLOCK_STRINGS.en[key] || key;
  };
  const kindText = (kind) => AIRLOCK_KINDS[lang][kind] || kind;

  // The sender keys built into the page (`cargo xtask page --trust DIR`),
  // [{name, pem}]: part of the page's bytes, so its published hash covers
  // them. A page built without them trusts no seal.
  const TRUSTED = (() => {
    try {
      const keys = JSON.parse(($("airlock-trust") || {}).textContent || "[]");
      return Array.isArray(keys) ? keys : [];
    } catch {
      return [];
    }
  })();

  // The single file's own SHA-256, which `cargo xtask page` writes into a
  // <meta> (the hash of the page with 64 zeros there; see README): a page
  // cannot read its own bytes from file://. Approvals record it as the
  // tool's hash; the static directory has none, and records null.
  const SELF_SHA256 = (() => {
    const meta = document.querySelector('meta[name="airlock-self-sha256"]');
    const value = meta ? meta.content : "";
    return /^[0-9a-f]{64}$/.test(value) && !/^0+$/.test(value) ? value : null;
  })();

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = t("title");
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
    for (const b of document.querySelectorAll("[data-lang]")) b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    $("trusted-keys").textContent = TRUSTED.length ? airlockVisible(TRUSTED.map((k) => k.name).join(", ")) : "–";
    if (lastReport) render(lastReport);
  }

  function size(bytes) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let v = bytes;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u === 0 ? `${bytes} B` : `${v.toFixed(1)} ${units[u]}`;
  }

  function duration(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "–";
    const s = Math.round(seconds);
    const m = Math.floor(s / 60);
    return `${m}:${String(s % 60).padStart(2, "0")}`;
  }

  // Every text the page builds goes through airlockVisible: tags,
  // platforms, entry names and the messages quoting them come from the
  // bundle.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(airlockVisible(c)));
    return node;
  }

  const contents = airlockContents({ el, t, size });

  // --- workers --------------------------------------------------------------

  function makeWorker() {
    const inline = $("airlock-worker");
    if (inline) {
      // Single-file build: Chromium refuses file:// worker scripts, so the
      // worker's source travels inside the page and starts from a Blob URL.
      const url = URL.createObjectURL(new Blob([inline.textContent], { type: "text/javascript" }));
      const w = new Worker(url);
      URL.revokeObjectURL(url);
      return w;
    }
    return new Worker("worker.js");
  }

  async function start() {
    const file = $("bundle").files[0];
    if (!file) return;
    cancel(false);
    dropSbomWorker();
    lastReport = null;
    lastTrees = [];
    views = [];
    lastFileName = file.name;
    lastSeal = null;
    delete document.body.dataset.verdict;
    delete document.body.dataset.seal;
    $("approve").hidden = true;
    $("approve-status").textContent = "";
    window.airlockReport = undefined;
    $("result").hidden = true;
    $("problem").hidden = true;
    $("progress").hidden = false;
    setProgress(0, file.size, 0);

    let sums = null;
    let sumsName = "";
    const sumsPick = $("sums").files[0] || sumsFile;
    if (sumsPick) {
      sums = await sumsPick.arrayBuffer();
      sumsName = sumsPick.name;
    }
    const verifyWorker = makeWorker();
    const readWorker = makeWorker();
    const channel = new MessageChannel();
    running = { workers: [verifyWorker, readWorker], file, started: performance.now() };
    const mine = running;
    const fail = (message) => {
      if (running !== mine) return;
      cancel(false);
      showProblem(message);
    };
    verifyWorker.onerror = (e) => fail(`${t("failed_to_start")}: ${e.message || e}`);
    readWorker.onerror = verifyWorker.onerror;
    verifyWorker.onmessage = (event) => {
      if (running !== mine) return;
      const msg = event.data;
      if (msg.type === "progress") {
        setProgress(msg.bytes, msg.total, msg.elapsedMs);
        document.body.dataset.wasmBytes = String(msg.wasmBytes || 0);
      } else if (msg.type === "report") {
        // The verify worker stays, holding the report for "Save SBOM".
        mine.workers = mine.workers.filter((w) => w !== verifyWorker);
        cancel(false);
        keepForSbom(verifyWorker);
        // Receiving a large report (file trees) takes a task of its own;
        // rendering it waits for the next, so neither blocks for long.
        setTimeout(() => {
          if (sbomWorker === verifyWorker) finished(msg.report, msg.trees, msg.elapsedMs);
        }, 0);
      } else if (msg.type === "sums-error") {
        fail(`${t("sums_problem")} (${msg.source || t("paste_label")}): ${msg.message}`);
      } else if (msg.type === "error") {
        fail(`${t("failed_to_start")}: ${msg.message}`);
      }
    };
    const transfer = [channel.port2];
    if (sums) transfer.push(sums);
    verifyWorker.postMessage(
      { role: "verify", file, sums, sumsName, pasted: $("sha256").value, port: channel.port2 },
      transfer,
    );
    // Batches the reader sends before the verifier has loaded its wasm wait
    // in the port's queue, which only starts once the verifier listens.
    readWorker.postMessage({ role: "read", file, port: channel.port1 }, [channel.port1]);
  }

  function cancel(userAsked) {
    if (!running) return;
    for (const w of running.workers) w.terminate();
    running = null;
    $("progress").hidden = true;
    if (userAsked) showProblem(t("cancelled"));
  }

  function setProgress(bytes, total, elapsedMs) {
    const fraction = total > 0 ? bytes / total : 1;
    $("bar").value = fraction;
    const secs = elapsedMs / 1000;
    const rate = secs > 0 ? bytes / secs : 0;
    const eta = rate > 0 ? (total - bytes) / rate : NaN;
    $("progress-text").textContent =
      `${t("reading")} ${size(bytes)} / ${size(total)} · ${size(rate)}/s · ${t("eta")} ${duration(eta)}`;
  }

  function showProblem(message) {
    $("problem").hidden = false;
    $("problem").textContent = airlockVisible(message);
  }

  function finished(report, trees, elapsedMs) {
    lastReport = report;
    lastTrees = trees;
    views = report.images.map(() => contents.newView());
    window.airlockReport = report;
    document.body.dataset.elapsedMs = String(Math.round(elapsedMs || 0));
    render(report);
    document.body.dataset.verdict = report.verdict;
    $("approve").hidden = report.verdict !== "ok";
    checkSeal();
  }

  // --- rendering --------------------------------------------------------------

  function render(report) {
    const ok = report.verdict === "ok";
    $("result").hidden = false;
    const verdict = $("verdict");
    verdict.className = ok ? "verdict ok" : "verdict fail";
    verdict.replaceChildren(
      el("div", { class: "verdict-title" }, ok ? t("verdict_ok") : t("verdict_fail")),
      el("div", { class: "verdict-detail" }, ok ? t("verdict_ok_detail") : t("verdict_fail_detail")),
    );

    const b = report.bundle;
    let recorded = t("recorded_none");
    if (b.sha256_matches === true) recorded = `${t("recorded_match")} (${b.expected_sha256})`;
    if (b.sha256_matches === false) recorded = `${t("recorded_mismatch")}: ${b.expected_sha256}`;
    const rows = [
      [t("bundle"), lastFileName],
      [t("size"), `${size(b.size)} (${b.size.toLocaleString()} B)`],
      [t("sha256"), b.sha256 || ""],
      [t("recorded"), recorded],
      [t("format"), `${b.format}${b.compression !== "none" ? ", " + b.compression : ""}`],
      [t("entries"), String(b.entries)],
    ];
    $("summary").replaceChildren(
      ...rows.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", { class: k === t("sha256") ? "mono" : "" }, v))),
    );

    $("images").replaceChildren(...report.images.map((image, i) => renderImage(image, i)));
    $("images-empty").hidden = report.images.length > 0;

    const list = $("findings");
    list.replaceChildren(...report.findings.map(renderFinding));
    $("findings-empty").hidden = report.findings.length > 0;
    renderSeal();
  }

  // --- seal and approval ------------------------------------------------------

  // Checks the seal picked or dropped with the bundle against the shown
  // report, in the worker that holds it; a bundle that failed is not
  // checked (a seal cannot make it importable).
  async function checkSeal() {
    const pick = $("seal").files[0] || sealFile;
    const worker = sbomWorker;
    if (!lastReport || !worker) return;
    if (!pick) {
      showSeal("none");
      return;
    }
    if (lastReport.verdict !== "ok") {
      showSeal("not-checked");
      return;
    }
    const seal = await pick.arrayBuffer();
    const msg = await ask({ role: "seal", seal, trusted: TRUSTED }, [seal]);
    if (sbomWorker !== worker) return;
    if (msg.error) {
      showSeal({ state: "invalid", message: `${t("seal_failed")}: ${msg.error}` });
    } else {
      showSeal(msg.result);
    }
  }

  function showSeal(check) {
    lastSeal = check;
    document.body.dataset.seal = typeof check === "string" ? check : check.state;
    renderSeal();
  }

  function renderSeal() {
    const box = $("seal-status");
    if (lastSeal === null) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    if (typeof lastSeal === "string") {
      box.className = "seal none";
      box.replaceChildren(el("div", {}, lastSeal === "none" ? t("seal_none") : t("seal_not_checked")));
      return;
    }
    const { state, keyName, keyId, message } = lastSeal;
    box.className = `seal ${state}`;
    const title = {
      sealed: `${t("seal_by")} ${keyName || ""}`,
      untrusted: t("seal_untrusted"),
      mismatch: t("seal_mismatch"),
      invalid: t("seal_invalid"),
    }[state];
    const detail = {
      sealed: t("seal_ok"),
      untrusted: t("seal_untrusted_detail"),
      mismatch: t("seal_mismatch_detail"),
      invalid: t("seal_invalid_detail"),
    }[state];
    box.replaceChildren(
      el("div", { class: "seal-title" }, title || state),
      el("div", {}, detail || ""),
      el("div", { class: "small mono" }, keyId ? `${message} (${keyId})` : message),
    );
  }

  // Signs the approver's decision in the worker that holds the report: the
  // key file's text and the passphrase go there and nowhere else, and the
  // passphrase field is emptied whatever the outcome.
  async function decide(decision) {
    const status = $("approve-status");
    const keyFile = $("approve-key").files[0];
    const passphrase = $("approve-passphrase").value;
    const reason = $("approve-reason").value.trim();
    if (!keyFile || !passphrase) {
      status.textContent = t("approve_need_key");
      return;
    }
    if (decision === "rejected" && !reason) {
      status.textContent = t("approve_need_reason");
      return;
    }
    if (!sbomWorker || !lastReport || lastReport.verdict !== "ok") return;
    $("approve-passphrase").value = "";
    const key = await keyFile.arrayBuffer();
    for (const b of [$("approve-yes"), $("approve-no")]) b.disabled = true;
    const msg = await ask(
      {
        role: "approve",
        key,
        passphrase,
        decision,
        reason: reason || null,
        name: $("approve-name").value.trim() || null,
        bundleName: lastFileName,
        unixSeconds: Math.floor(new Date().getTime() / 1000),
        pageSha256: SELF_SHA256,
      },
      [key],
    );
    for (const b of [$("approve-yes"), $("approve-no")]) b.disabled = false;
    if (msg.error) {
      status.textContent = airlockVisible(`${t("approve_failed")}: ${msg.error}`);
      document.body.dataset.approval = "failed";
      return;
    }
    const name = `${lastFileName || "bundle"}.approval.sigstore.json`;
    download(msg.json, name);
    status.textContent = airlockVisible(`${t("approve_saved")} ${name}`);
    document.body.dataset.approval = decision;
  }

  function renderImage(image, index) {
    const tags = image.repo_tags.length ? image.repo_tags.join(", ") : t("untagged");
    const total = image.layers.reduce((n, l) => n + (l.size || 0), 0);
    const made = contents.layerCommands(image);
    const layers = el(
      "table",
      { class: "layers" },
      el(
        "tr",
        {},
        el("th", {}, "#"),
        el("th", {}, t("layer_digest")),
        el("th", {}, t("media_type")),
        el("th", {}, t("size")),
        el("th", {}, t("unpacked")),
        ...contents.changeHeads(),
        el("th", {}, t("created_by")),
      ),
      ...image.layers.map((l, i) =>
        el(
          "tr",
          {},
          el("td", {}, i + 1),
          el("td", { class: "mono", title: l.digest || "" }, (l.digest || "").slice(0, 12)),
          el("td", {}, l.media_type.split(".").pop()),
          el("td", {}, l.size != null ? size(l.size) : "?"),
          el("td", {}, l.uncompressed_size != null ? size(l.uncompressed_size) : "?"),
          ...contents.changeCells(l),
          el("td", { class: "command mono", title: airlockVisible(made.get(i) || "") }, made.get(i) || ""),
        ),
      ),
    );
    return el(
      "section",
      { class: "image", "data-image": String(index) },
      el("h3", {}, tags),
      el(
        "p",
        { class: "meta" },
        `${t("platform")}: ${image.platform || "?"} · ${t("image_id")}: `,
        el("span", { class: "mono" }, (image.config_digest || "").replace("sha256:", "").slice(0, 12)),
        ` · ${t("layers")}: ${image.layers.length} · ${size(total)}`,
        image.created ? ` · ${t("created")}: ${image.created}` : "",
      ),
      contents.renderConfig(image),
      el("h4", {}, t("layers")),
      el("div", { class: "wide" }, layers),
      contents.renderPackages(image, (format, button) => saveSbom(index, format, button)),
      contents.renderFiles(lastTrees[index] || null, views[index] || contents.newView()),
    );
  }

  // Which image and layer a layer digest names, for a finding.
  function layerName(digest) {
    for (const image of lastReport ? lastReport.images : []) {
      const at = image.layers.findIndex((l) => l.digest === digest);
      if (at >= 0) return `${t("layer")} ${at + 1} (${digest.slice(0, 19)}…)`;
    }
    return digest;
  }

  function renderFinding(f) {
    const item = el(
      "li",
      { class: `finding ${f.severity}`, "data-kind": f.kind },
      el("span", { class: "badge" }, t(f.severity)),
      el("strong", {}, kindText(f.kind)),
      el("code", { class: "kind" }, f.kind),
      el("div", { class: "message" }, f.message),
    );
    const where = [];
    if (f.image) where.push([t("image"), f.image]);
    if (f.layer) where.push([t("layer"), layerName(f.layer)]);
    if (f.entry) where.push([t("entry"), f.entry]);
    if (f.offset != null) where.push([t("offset"), f.offset.toLocaleString()]);
    if (f.expected != null) where.push([t("expected"), f.expected]);
    if (f.found != null) where.push([t("found"), f.found]);
    if (where.length) {
      item.append(el("dl", {}, ...where.flatMap(([k, v]) => [el("dt", {}, k), el("dd", { class: "mono" }, v)])));
    }
    return item;
  }

  // A download made here from a Blob URL: works from file:// and sends
  // nothing anywhere.
  function download(text, name) {
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const a = el("a", { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  // The report as `airlock verify --json` writes it (the file trees are
  // the page's own view, not part of it).
  function saveJson() {
    if (!lastReport) return;
    download(JSON.stringify(lastReport, null, 2) + "\n", `${lastFileName || "bundle"}.airlock.json`);
  }

  // --- SBOM -------------------------------------------------------------------

  function keepForSbom(worker) {
    sbomWorker = worker;
    worker.onerror = null;
    worker.onmessage = (event) => {
      const msg = event.data;
      const done = msg.id !== undefined && sbomWaiting.get(msg.id);
      if (!done) return;
      sbomWaiting.delete(msg.id);
      done(msg);
    };
  }

  function dropSbomWorker() {
    if (sbomWorker) sbomWorker.terminate();
    sbomWorker = null;
    for (const done of sbomWaiting.values()) done({ error: t("cancelled") });
    sbomWaiting.clear();
  }

  // One request to the worker that holds the report; resolves with its
  // answer ({error} when the worker is dropped first).
  function ask(request, transfer) {
    return new Promise((resolve) => {
      if (!sbomWorker) {
        resolve({ error: t("cancelled") });
        return;
      }
      const id = ++sbomNext;
      sbomWaiting.set(id, resolve);
      sbomWorker.postMessage({ ...request, id }, transfer || []);
    });
  }

  // Writes image `index`'s SBOM in the worker that holds the report, with
  // this computer's clock as its creation time, and downloads it.
  function saveSbom(index, format, button) {
    if (!sbomWorker) return;
    const id = ++sbomNext;
    button.disabled = true;
    const name = `${lastFileName || "bundle"}.image${index + 1}.${format === "spdx-json" ? "spdx" : "cdx"}.json`;
    sbomWaiting.set(id, (msg) => {
      button.disabled = false;
      if (msg.error) showProblem(`${t("sbom_failed")}: ${msg.error}`);
      else download(msg.json, name);
    });
    sbomWorker.postMessage({ role: "sbom", id, image: index, format, unixSeconds: Math.floor(new Date().getTime() / 1000) });
  }

  // --- wiring -----------------------------------------------------------------

  // Files that may record a bundle's SHA-256, most specific first; `{}` is
  // the bundle's name. The same list as verify_core::sums::SIDECAR_NAMES,
  // the files `airlock verify` looks for beside a bundle, so both find the
  // same one (crates/verify-core/tests/faces_agree.rs keeps the two equal;
  // this runs before any wasm is loaded, so it cannot ask the core).
  const SIDECAR_NAMES = [
    "{}.sha256",
    "{}.sha256sum",
    "{}.sha256.txt",
    "{}.certutil.txt",
    "SHA256SUMS",
    "SHA256SUMS.txt",
    "sha256sums.txt",
  ];

  // A function replacement, so a `$` in a file name is not a pattern.
  const sidecarName = (pattern, bundleName) => pattern.replace("{}", () => bundleName);

  // A seal beside a bundle: `BUNDLE.seal.sigstore.json`, as `airlock seal`
  // writes it and `airlock load` looks for it.
  const SEAL_SUFFIX = ".seal.sigstore.json";

  // Sigstore bundles (seals, approvals) dropped with a bundle are not it.
  const isSigstoreName = (name) => name.endsWith(".sigstore.json");

  // Whether `name` has the shape of a sidecar of some bundle.
  function isSumsName(name) {
    return SIDECAR_NAMES.some((p) =>
      p.startsWith("{}") ? name.length > p.length - 2 && name.endsWith(p.slice(2)) : name === p,
    );
  }

  // Of files dropped together: the bundle, and the sidecar `airlock verify`
  // would use beside it. A sidecar-shaped file named for no dropped bundle
  // is still taken, as the sums input would take it, so a wrong one is
  // reported rather than ignored.
  function pairDropped(files) {
    const bundle = files.find((f) => !isSumsName(f.name) && !isSigstoreName(f.name)) || null;
    const named = bundle
      ? SIDECAR_NAMES.map((p) => files.find((f) => f.name === sidecarName(p, bundle.name))).find(Boolean)
      : null;
    const seal =
      (bundle && files.find((f) => f.name === bundle.name + SEAL_SUFFIX)) ||
      files.find((f) => f.name.endsWith(SEAL_SUFFIX)) ||
      null;
    return { bundle, sums: named || files.find((f) => isSumsName(f.name)) || null, seal };
  }

  function wire() {
    $("bundle").addEventListener("change", start);
    $("sums").addEventListener("change", () => {
      sumsFile = null;
      if ($("bundle").files[0]) start();
    });
    $("sha256").addEventListener("change", () => {
      if ($("bundle").files[0]) start();
    });
    $("seal").addEventListener("change", () => {
      sealFile = null;
      checkSeal();
    });
    $("approve-yes").addEventListener("click", () => decide("approved"));
    $("approve-no").addEventListener("click", () => decide("rejected"));
    $("cancel").addEventListener("click", () => cancel(true));
    $("save-json").addEventListener("click", saveJson);
    $("print").addEventListener("click", () => window.print());
    for (const b of document.querySelectorAll("[data-lang]")) {
      b.addEventListener("click", () => {
        lang = b.dataset.lang;
        safeStorage("airlock-lang", lang);
        applyLanguage();
      });
    }
    const zone = $("drop");
    zone.addEventListener("dragover", (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      const files = [...e.dataTransfer.files];
      const { bundle, sums, seal } = pairDropped(files);
      if (sums) sumsFile = sums;
      if (seal) sealFile = seal;
      if (bundle) {
        const dt = new DataTransfer();
        dt.items.add(bundle);
        $("bundle").files = dt.files;
        start();
      }
    });
  }

  wire();
  applyLanguage();
})();
