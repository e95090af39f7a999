// What is inside an image, as the page shows it: what it runs and as whom,
// what each layer changed, its packages, and its final file tree. The
// tree is never put into the page whole: a directory's children are made
// when it is opened (a page at a time), and the filter lists a capped
// number of matches, so an image of 200,000 files stays responsive.
// Long walks (the filter, a package table) run in slices between frames.
"use strict";

/* global airlockTree, airlockVisible */

// `ctx`: { el, t, size } from app.js. Every text from the bundle passes
// through `el`, which shows it with airlockVisible.
function airlockContents(ctx) {
  const { el, t, size } = ctx;

  // Rows of one directory, or of filter matches, made at a time.
  const PAGE = 200;
  // Filter matches listed; the rest are counted.
  const SHOWN_MATCHES = 200;
  // Work per slice before the page gets a frame.
  const SLICE_MS = 10;
  const FILTER_DELAY_MS = 120;

  /// Runs `step(ms)` (true when done) in slices until done; returns a
  /// function that stops it.
  function sliced(step, onDone) {
    let stopped = false;
    const run = () => {
      if (stopped) return;
      if (step(SLICE_MS)) onDone();
      else setTimeout(run, 0);
    };
    setTimeout(run, 0);
    return () => {
      stopped = true;
    };
  }

  // "1 entry", "2 entries": `key_1` is the word for one.
  const plural = (n, key) => `${n.toLocaleString()} ${t(n === 1 ? `${key}_1` : key)}`;

  // An argv as written: ["nginx", "-g", "daemon off;"].
  const argv = (list) => `[${list.map((a) => `"${a}"`).join(", ")}]`;

  function mark(cls, key) {
    return el("span", { class: `mark ${cls}`, title: t(`${key}_title`) }, t(key));
  }

  // --- config -----------------------------------------------------------------

  function renderConfig(image) {
    const c = image.config;
    const block = el("div", { class: "config" }, el("h4", {}, t("config")));
    if (!c) {
      block.append(el("p", { class: "empty" }, t("config_unread")));
      return block;
    }
    const rows = [];
    const row = (key, ...value) => rows.push(el("dt", {}, t(key)), el("dd", {}, ...value));
    const notSet = () => el("span", { class: "empty" }, t("not_set"));
    row("cfg_entrypoint", c.entrypoint ? el("code", {}, argv(c.entrypoint)) : notSet());
    row("cfg_cmd", c.cmd ? el("code", {}, argv(c.cmd)) : notSet());
    row(
      "cfg_user",
      c.user ? el("code", {}, c.user) : notSet(),
      c.runs_as_root ? mark("root", "runs_as_root") : "",
    );
    row("cfg_workdir", c.working_dir ? el("code", {}, c.working_dir) : notSet());
    row("cfg_ports", c.exposed_ports.length ? el("code", {}, c.exposed_ports.join(", ")) : t("none"));
    row("cfg_volumes", c.volumes.length ? el("code", {}, c.volumes.join(", ")) : t("none"));
    if (image.os) {
      const os = image.os;
      row("cfg_os", os.pretty_name || [os.name || os.id, os.version_id].filter(Boolean).join(" "));
    }
    block.append(el("dl", { class: "kv" }, ...rows));

    const secrets = c.env.filter((e) => e.secret).length;
    block.append(
      el("h5", {}, `${t("cfg_env")} (${c.env.length})`, secrets ? mark("secret", "env_secret") : ""),
      c.env.length
        ? el(
            "table",
            { class: "env" },
            ...c.env.map((e) =>
              el(
                "tr",
                { class: e.secret ? "secret" : "" },
                el("th", { class: "mono" }, e.name),
                el("td", { class: "mono" }, e.value),
                el("td", {}, e.secret ? mark("secret", "env_secret") : ""),
              ),
            ),
          )
        : el("p", { class: "empty" }, t("none")),
    );

    const labels = Object.entries(c.labels);
    if (labels.length) {
      block.append(
        el(
          "details",
          { class: "labels" },
          el("summary", {}, `${t("cfg_labels")} (${labels.length})`),
          el("table", {}, ...labels.map(([k, v]) => el("tr", {}, el("th", { class: "mono" }, k), el("td", { class: "mono" }, v)))),
        ),
      );
    }
    if (c.history.length) {
      block.append(
        el(
          "details",
          { class: "history" },
          el("summary", {}, `${t("cfg_history")} (${c.history.length})`),
          el(
            "ol",
            {},
            ...c.history.map((h) =>
              el(
                "li",
                {},
                el("code", {}, h.created_by || ""),
                h.layer != null ? ` · ${t("layer")} ${h.layer + 1}` : ` · ${t("empty_layer")}`,
                h.comment ? ` · ${h.comment}` : "",
              ),
            ),
          ),
        ),
      );
    }
    return block;
  }

  // --- layers -----------------------------------------------------------------

  /// The cells a layer row adds: added, changed, removed, wasted.
  function changeCells(layer) {
    const c = layer.changes;
    if (!c) return [el("td", {}, "–"), el("td", {}, "–"), el("td", {}, "–"), el("td", {}, "–")];
    const both = (n, bytes) => `${n.toLocaleString()} · ${size(bytes)}`;
    return [
      el("td", { class: "num" }, both(c.added, c.added_bytes)),
      el("td", { class: "num" }, both(c.changed, c.changed_bytes)),
      el("td", { class: "num" }, both(c.removed, c.removed_bytes)),
      el("td", { class: `num${c.wasted_bytes ? " wasted" : ""}` }, size(c.wasted_bytes)),
    ];
  }

  function changeHeads() {
    return ["added", "changed", "removed", "wasted"].map((k) => el("th", { title: t(`${k}_title`) }, t(k)));
  }

  /// What made each layer: the history step that names it.
  function layerCommands(image) {
    const byLayer = new Map();
    for (const h of image.config ? image.config.history : []) {
      if (h.layer != null && h.created_by) byLayer.set(h.layer, h.created_by);
    }
    return byLayer;
  }

  // --- packages ---------------------------------------------------------------

  function renderPackages(image, saveSbom) {
    const block = el("div", { class: "packages" }, el("h4", {}, t("packages")));
    const list = image.packages;
    if (!list) {
      block.append(el("p", { class: "empty" }, t("packages_unread")));
    } else {
      const byType = new Map();
      for (const p of list) byType.set(p.type, (byType.get(p.type) || 0) + 1);
      const types = [...byType].map(([k, n]) => `${k} ${n.toLocaleString()}`).join(" · ");
      block.append(
        el("p", { class: "pkg-count" }, `${plural(list.length, "packages_n")}${types ? ` (${types})` : ""}`),
      );
      if (list.length) block.append(packageTable(list));
      block.append(
        el(
          "div",
          { class: "sbom-actions" },
          sbomButton("spdx-json", "save_sbom_spdx", saveSbom),
          sbomButton("cyclonedx-json", "save_sbom_cdx", saveSbom),
        ),
      );
    }
    // Absent from the report when empty.
    const notes = image.package_notes || [];
    if (notes.length) {
      block.append(
        el("h5", {}, t("package_notes")),
        el(
          "ul",
          { class: "notes" },
          ...notes.map((n) => el("li", {}, el("code", {}, n.file), ` (${t("layer")} ${n.layer + 1}): `, n.message)),
        ),
      );
    }
    return block;
  }

  function sbomButton(format, key, saveSbom) {
    const b = el("button", { type: "button", class: "save-sbom", "data-format": format }, t(key));
    b.addEventListener("click", () => saveSbom(format, b));
    return b;
  }

  // A table of every package, made when first opened, in slices.
  function packageTable(list) {
    const body = el("tbody", {});
    const details = el(
      "details",
      { class: "pkg-table" },
      el("summary", {}, t("package_table")),
      el(
        "table",
        { class: "pkgs" },
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["pkg_name", "pkg_version", "pkg_arch", "pkg_type", "pkg_license", "layer", "pkg_file"].map((k) => el("th", {}, t(k))),
          ),
        ),
        body,
      ),
    );
    let made = 0;
    details.addEventListener("toggle", () => {
      if (!details.open || made) return;
      made = -1;
      let next = 0;
      sliced(
        (ms) => {
          const until = performance.now() + ms;
          while (next < list.length && performance.now() < until) {
            const rows = [];
            for (const end = Math.min(list.length, next + 50); next < end; next++) {
              const p = list[next];
              rows.push(
                el(
                  "tr",
                  { title: airlockVisible(p.purl) },
                  el("td", {}, p.name),
                  el("td", { class: "mono" }, p.version),
                  el("td", {}, p.arch || ""),
                  el("td", {}, p.type),
                  el("td", {}, p.license || ""),
                  el("td", { class: "num" }, p.layer + 1),
                  el("td", { class: "mono" }, p.file),
                ),
              );
            }
            body.append(...rows);
          }
          return next >= list.length;
        },
        () => {
          made = list.length;
          details.dataset.rows = String(made);
        },
      );
    });
    return details;
  }

  // --- files --------------------------------------------------------------------

  /// The file tree of one image. `view` keeps what the viewer opened and
  /// typed across re-renders (a language switch).
  function renderFiles(tree, view) {
    const block = el("div", { class: "files" }, el("h4", {}, t("files")));
    if (!tree) {
      block.append(el("p", { class: "empty" }, t("files_unread")));
      return block;
    }
    block.append(
      el("p", { class: "files-count" }, `${plural(tree.n, "entries_n")} · ${size(tree.bytes[tree.n])}`),
    );
    const filter = el("input", {
      type: "search",
      class: "filter",
      spellcheck: "false",
      autocomplete: "off",
      placeholder: t("filter_placeholder"),
      "aria-label": t("filter_placeholder"),
    });
    filter.value = view.query;
    const onlyMarked = el("input", { type: "checkbox", class: "only-marked" });
    onlyMarked.checked = view.onlyMarked;
    const legend = el(
      "span",
      { class: "legend" },
      mark("setuid", "mark_setuid"),
      mark("device", "mark_device"),
      mark("writable", "mark_writable"),
    );
    block.append(
      el("div", { class: "tree-controls" }, filter, el("label", {}, onlyMarked, t("only_marked")), legend),
    );
    const rootList = el("ul", { class: "tree", role: "tree" });
    const results = el("div", { class: "matches", hidden: "" });
    block.append(rootList, results);
    fillChildren(tree, view, rootList, tree.n);

    let stop = null;
    let timer = 0;
    const refilter = () => {
      if (stop) stop();
      stop = null;
      view.query = filter.value;
      view.onlyMarked = onlyMarked.checked;
      const mask = view.onlyMarked ? airlockTree.SETUID | airlockTree.DEVICE | airlockTree.WORLD_WRITABLE : 0;
      if (!view.query && !mask) {
        results.hidden = true;
        results.replaceChildren();
        rootList.hidden = false;
        delete results.dataset.total;
        return;
      }
      results.dataset.state = "searching";
      const s = view.query
        ? airlockTree.search(tree, view.query, SHOWN_MATCHES, mask)
        : airlockTree.marked(tree, mask, SHOWN_MATCHES);
      stop = sliced(s.step, () => {
        stop = null;
        showMatches(tree, results, s);
        rootList.hidden = true;
        results.hidden = false;
      });
    };
    filter.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refilter, FILTER_DELAY_MS);
    });
    onlyMarked.addEventListener("change", refilter);
    if (view.query || view.onlyMarked) refilter();
    return block;
  }

  function showMatches(tree, results, s) {
    const list = el("ul", { class: "tree flat" });
    list.append(...s.hits.map((i) => nodeItem(tree, null, i, true)));
    const summary = el("p", { class: "match-count" }, plural(s.total, "matches_n"));
    results.replaceChildren(summary, list);
    if (s.total > s.hits.length) {
      results.append(el("p", { class: "more" }, plural(s.total - s.hits.length, "more_n")));
    }
    results.dataset.total = String(s.total);
    results.dataset.state = "done";
  }

  // Adds directory `dir`'s children to `list`, PAGE at a time.
  function fillChildren(tree, view, list, dir, from = 0) {
    const kids = airlockTree.children(tree, dir);
    const end = Math.min(kids.length, from + PAGE);
    const items = [];
    for (let k = from; k < end; k++) items.push(nodeItem(tree, view, kids[k], false));
    list.append(...items);
    if (end < kids.length) {
      const more = el("button", { type: "button", class: "show-more" }, `${t("show_more")} (${plural(kids.length - end, "more_n")})`);
      const li = el("li", { class: "more" }, more);
      more.addEventListener("click", () => {
        li.remove();
        fillChildren(tree, view, list, dir, end);
      });
      list.append(li);
    }
  }

  // One row: a toggle for a directory, its name (or whole path in a list
  // of matches), marks, size, mode, owner, layer and link target.
  function nodeItem(tree, view, i, flat) {
    const dir = airlockTree.isDir(tree, i);
    const p = airlockTree.path(tree, i);
    const li = el("li", { class: dir ? "node dir" : "node", role: "treeitem", "data-path": p });
    const m = tree.marks[i];
    const kids = dir ? tree.childStart[i + 1] - tree.childStart[i] : 0;
    const toggle =
      dir && kids && !flat
        ? el("button", { type: "button", class: "toggle", "aria-label": t("expand") }, "▸")
        : el("span", { class: "toggle" }, "");
    const link = airlockTree.link(tree, i);
    const row = el(
      "div",
      { class: "row" },
      toggle,
      el("span", { class: "name" }, flat ? p : airlockTree.name(tree, i)),
      m & airlockTree.SETUID ? mark("setuid", "mark_setuid") : "",
      m & airlockTree.DEVICE ? mark("device", "mark_device") : "",
      m & airlockTree.WORLD_WRITABLE ? mark("writable", "mark_writable") : "",
      link !== null ? el("span", { class: "link" }, `${tree.type[i] === 3 ? "⇒" : "→"} ${link}`) : "",
      el("span", { class: "size" }, dir ? plural(tree.count[i], "entries_n") : size(tree.size[i])),
      el("span", { class: "mode mono" }, airlockTree.modeString(tree, i)),
      el("span", { class: "owner mono" }, `${tree.uid[i]}:${tree.gid[i]}`),
      el("span", { class: "where" }, tree.layer[i] >= 0 ? `${t("layer")} ${tree.layer[i] + 1}` : ""),
    );
    li.append(row);
    if (m) li.dataset.marks = String(m);
    if (toggle.tagName === "BUTTON") {
      li.setAttribute("aria-expanded", "false");
      const open = () => {
        const sub = el("ul", { role: "group" });
        fillChildren(tree, view, sub, i);
        li.append(sub);
        li.setAttribute("aria-expanded", "true");
        toggle.textContent = "▾";
        view.open.add(i);
      };
      toggle.addEventListener("click", () => {
        if (li.getAttribute("aria-expanded") === "true") {
          li.lastChild.remove();
          li.setAttribute("aria-expanded", "false");
          toggle.textContent = "▸";
          view.open.delete(i);
        } else {
          open();
        }
      });
      if (view && view.open.has(i)) open();
    }
    return li;
  }

  /// What a tree view keeps across re-renders.
  const newView = () => ({ open: new Set(), query: "", onlyMarked: false });

  return { renderConfig, changeCells, changeHeads, layerCommands, renderPackages, renderFiles, newView };
}
