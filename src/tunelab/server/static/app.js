// The tunelab dashboard: a hash-routed page over the REST API, refreshed by polling.
// Every piece of data reaches the page through textContent (the h() helper), never innerHTML.
"use strict";

const POLL_MS = 1500;
const STATES = ["WAITING", "RUNNING", "SUCCEEDED", "FAILED", "EARLY_STOPPED", "CANCELED"];
const COLORS = Object.fromEntries(STATES.map(s => [s, getComputedStyle(document.documentElement).getPropertyValue("--" + s).trim()]));
const fmt = Charts.fmt;
let INFO = { read_only: true };
let page = null;   // the current page's state; replaced on every route change

// ---------------------------------------------------------------------- helpers
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
function clear(el, ...children) { el.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined)); return el; }

async function api(path, options = {}) {
  const init = { headers: { "Accept": "application/json" }, credentials: "same-origin", ...options };
  if (options.json !== undefined) {
    init.method = init.method || "POST";
    init.body = JSON.stringify(options.json);
    init.headers["Content-Type"] = "application/json";
  }
  const response = await fetch("api/" + path, init);
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    let detail = body && body.detail !== undefined ? body.detail : body;
    if (Array.isArray(detail)) detail = detail.map(d => (d.loc || []).slice(1).join(".") + ": " + d.msg).join("\n");
    throw new Error(String(detail || response.statusText));
  }
  return body;
}
const enc = encodeURIComponent;

function toast(text, error = false) {
  const el = document.getElementById("toast");
  el.textContent = text; el.className = "toast" + (error ? " err" : "");
  clearTimeout(toast.timer); toast.timer = setTimeout(() => el.classList.add("hidden"), error ? 6000 : 3500);
}
function setLive(state) { document.getElementById("live").className = "live" + (state ? " " + state : ""); }

function duration(s) {
  if (s === null || s === undefined) return "–";
  s = Math.max(0, s);
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  const d = Math.floor(s / 86400), hh = Math.floor(s % 86400 / 3600), mm = Math.floor(s % 3600 / 60), ss = Math.floor(s % 60);
  return d ? `${d}d ${hh}h` : hh ? `${hh}h ${mm}m` : `${mm}m ${ss}s`;
}
function when(t) { return t ? new Date(t * 1000).toLocaleString() : "–"; }
function clock(t) { return t ? new Date(t * 1000).toLocaleTimeString() : "–"; }
function badge(state) { return h("span", { class: "badge " + state }, state.replace("_", " ").toLowerCase()); }
// An experiment's phase; a RUNNING one whose engine stopped responding (the server's liveness rule) says so.
function phaseBadge(e) {
  if (e.phase !== "RUNNING" || e.engine_alive !== false) return badge(e.phase);
  return h("span", { class: "badge STALE", title: engineNote(e) }, "running · engine not responding");
}
// Every finished trial failed (whatever the phase says): a red badge beside it.
function allFailedBadge(e) {
  if (!e.finished || e.failed !== e.finished) return null;
  return h("span", { class: "badge FAILED all-failed", title: `all ${e.finished} finished trials failed` }, "all trials failed");
}
function engineNote(e) {
  const since = e.engine_silent_since ? " since " + when(e.engine_silent_since) : "";
  return `RUNNING (engine not responding${since}; \`tunelab resume ${e.id}\` continues it)`;
}
function short(v) { const s = typeof v === "string" ? v : JSON.stringify(v); return s.length > 60 ? s.slice(0, 59) + "…" : s; }
function val(v) { return typeof v === "number" ? fmt(v) : v === null || v === undefined ? "–" : short(v); }
function panel(title, ...children) { return h("section", { class: "panel" }, h("h2", {}, title), ...children); }

// ---------------------------------------------------------------------- routing
async function route() {
  if (page && page.timer) clearInterval(page.timer);
  page = { alive: true };
  const view = document.getElementById("view");
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "e" && parts[1] && parts[2] === "t" && parts[3] !== undefined) await trialPage(view, parts[1], Number(parts[3]));
    else if (parts[0] === "e" && parts[1]) await experimentPage(view, parts[1]);
    else await listPage(view);
  } catch (err) {
    clear(view, h("p", { class: "notice" }, "Could not load: " + err.message));
  }
}
function crumbs(...items) {
  clear(document.getElementById("crumbs"), items.flatMap((it, i) => [i ? h("span", {}, "›") : null, it.href ? h("a", { href: it.href }, it.text) : h("span", {}, it.text)]));
}
function poll(fn) {
  const mine = page;
  let busy = false;
  const tick = async () => {
    if (busy || !mine.alive || page !== mine) return;
    busy = true;
    try { await fn(); setLive(mine.ended ? "" : "on"); } catch (err) { setLive("err"); } finally { busy = false; }
  };
  mine.timer = setInterval(tick, POLL_MS);
}

// ---------------------------------------------------------------------- experiments list
async function listPage(view) {
  crumbs({ text: "experiments" });
  const table = h("tbody");
  clear(view, h("section", { class: "panel" }, h("h2", {}, "Experiments"),
    h("div", { class: "tablewrap" }, h("table", { id: "experiments" },
      h("thead", {}, h("tr", {}, ["id", "name", "phase", "trials", "best", "elapsed", "created", "message"].map(c => h("th", { class: "nosort" + (["trials", "best", "elapsed"].includes(c) ? " num" : "") }, c)))),
      table))));
  const load = async () => {
    const items = await api("experiments");
    page.ended = items.every(e => !["RUNNING", "PENDING"].includes(e.phase));
    clear(table, items.length ? items.map(e => h("tr", {},
      h("td", { class: "mono" }, h("a", { href: "#/e/" + enc(e.id) }, e.id)),
      h("td", {}, h("a", { href: "#/e/" + enc(e.id) }, e.name)),
      h("td", {}, phaseBadge(e), allFailedBadge(e)),
      h("td", { class: "num" }, `${e.finished}${e.max_trials ? " / " + e.max_trials : ""}`),
      h("td", { class: "num" }, val(e.best_value)),
      h("td", { class: "num" }, duration(e.elapsed)),
      h("td", {}, when(e.created_at)),
      h("td", { class: "msg" }, e.message))) : h("tr", {}, h("td", { colspan: 8, class: "empty" }, "No experiments in this storage yet.")));
  };
  await load();
  poll(load);
}

// ---------------------------------------------------------------------- experiment page
async function experimentPage(view, id) {
  if (INFO.experiment_id === undefined) INFO = await api("info");
  const st = page;
  Object.assign(st, {
    id, revision: null, overview: null, selected: new Set(), userSelected: false,
    query: { sort: "number", order: "desc", states: new Set(), q: "", ranges: [], offset: 0, limit: 50 },
    sliceParam: null, lastAnalysis: 0,
  });
  crumbs({ text: "experiments", href: "#/" }, { text: id });
  const el = st.el = {
    title: h("div", { class: "titlebar" }), stats: h("div", { class: "stats" }), notices: h("div"),
    history: h("canvas", { class: "chart", id: "history-chart" }), historyNote: h("div", { class: "legend" }),
    curves: h("canvas", { class: "chart", id: "curves-chart" }), curvesLegend: h("div", { class: "legend" }),
    toolbar: h("div", { class: "toolbar" }), filters: h("div", { class: "filters" }),
    thead: h("thead"), tbody: h("tbody"), pager: h("div", { class: "pager" }),
    parallel: h("canvas", { class: "chart tall", id: "parallel-chart" }), parallelNote: h("div", { class: "legend" }),
    importance: h("div", { class: "imp", id: "importance" }),
    sliceSelect: h("select", { id: "slice-param" }), slice: h("canvas", { class: "chart", id: "slice-chart" }),
    timeline: h("canvas", { class: "chart", id: "timeline-chart" }),
    config: h("pre", { class: "config" }), activity: h("tbody"),
  };
  el.sliceSelect.addEventListener("change", () => { st.sliceParam = el.sliceSelect.value; drawSlice(st); });
  clear(view,
    el.title, el.stats, el.notices,
    h("div", { class: "grid2" },
      panel("Best so far", el.history, el.historyNote),
      panel("Intermediate results", el.curves, el.curvesLegend)),
    h("section", { class: "panel", id: "trials" },
      h("h2", {}, "Trials", h("small", { id: "trial-count" })), el.toolbar, el.filters,
      h("div", { class: "tablewrap" }, h("table", { id: "trials-table" }, el.thead, el.tbody)), el.pager),
    h("div", { class: "grid3" }, panel("Parallel coordinates", el.parallel, el.parallelNote),
      panel("Parameter importance", el.importance)),
    h("div", { class: "grid2" },
      h("section", { class: "panel" }, h("h2", {}, "Slice ", el.sliceSelect), el.slice),
      panel("Timeline", el.timeline)),
    h("div", { class: "grid2" }, panel("Config", el.config),
      panel("Activity", h("div", { class: "tablewrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["asked", "request", "outcome"].map(c => h("th", { class: "nosort" }, c)))), el.activity)))));
  buildToolbar(st);
  await refresh(st, true);
  poll(() => refresh(st, false));
}

async function refresh(st, first) {
  const o = await api("experiments/" + enc(st.id));
  if (page !== st) return;
  st.overview = o;
  st.ended = !["RUNNING", "PENDING"].includes(o.phase);
  renderOverview(st);
  if (o.revision === st.revision && !first) return;
  st.revision = o.revision;
  const heavy = first || Date.now() - st.lastAnalysis > (o.total > 2000 ? 10000 : 3000) || st.ended;
  // The table and the history first: they are what a user looks at, and the server is small.
  await Promise.all([loadTrials(st), loadHistory(st)]);
  const jobs = [loadCurves(st), loadTimeline(st), loadActivity(st)];
  if (o.objectives) jobs.push(Pareto.refresh(st));  // several objectives: pareto.js
  if (heavy) { st.lastAnalysis = Date.now(); jobs.push(loadAnalysis(st)); }
  await Promise.all(jobs);
}

function renderOverview(st) {
  const o = st.overview, el = st.el, canAct = !INFO.read_only && ["RUNNING", "PENDING"].includes(o.phase);
  clear(el.title,
    h("h1", {}, o.name), o.name !== o.id ? h("span", { class: "id" }, o.id) : null, phaseBadge(o),
    o.message ? h("span", { class: "msg" }, o.message) : null,
    h("div", { class: "actions" },
      canAct ? h("button", { class: "danger", id: "stop-button", disabled: o.stop_requested, onclick: () => stopExperiment(st) }, o.stop_requested ? "Stopping…" : "Stop") : null,
      canAct ? h("button", { id: "limits-button", onclick: () => limitsDialog(st) }, "Limits…") : null,
      canAct ? h("button", { id: "add-trial-button", onclick: () => addTrialDialog(st) }, "Add trial…") : null,
      h("a", { class: "button", href: exportUrl(st, "csv"), download: "" }, "CSV"),
      h("a", { class: "button", href: exportUrl(st, "json"), download: "" }, "JSON")));
  const finished = ["SUCCEEDED", "FAILED", "EARLY_STOPPED", "CANCELED"].reduce((n, s) => n + o.counts[s], 0);
  const trialBar = o.max_trials ? Math.min(1, finished / o.max_trials) : null;
  const timeBar = o.max_duration ? Math.min(1, o.elapsed / o.max_duration) : null;
  const bar = f => f === null ? null : h("div", { class: "bar" }, (() => { const s = h("span"); s.style.width = (f * 100).toFixed(1) + "%"; return s; })());
  clear(el.stats,
    h("div", { class: "panel stat", id: "stat-trials" }, h("div", { class: "label" }, "Trials"),
      h("div", { class: "big" }, `${finished}${o.max_trials ? " / " + o.max_trials : ""}`), bar(trialBar),
      h("div", { class: "counts" }, STATES.filter(s => o.counts[s]).map(s => {
        const dot = h("i"); dot.style.background = COLORS[s];
        return h("span", { class: "count" }, dot, `${s.replace("_", " ").toLowerCase()} ${o.counts[s]}`);
      }))),
    h("div", { class: "panel stat" }, h("div", { class: "label" }, "Time"),
      h("div", { class: "big" }, duration(o.elapsed)), bar(timeBar),
      h("div", { class: "sub" }, o.max_duration ? `of ${duration(o.max_duration)}` + (o.remaining !== null ? ` · ${duration(o.remaining)} left` : "") : "no time limit")),
    h("div", { class: "panel stat", id: "stat-best" }, h("div", { class: "label" }, `Best ${o.metric} (${o.mode})`),
      h("div", { class: "big" }, o.best ? val(o.best.value) : "–"),
      h("div", { class: "sub", title: o.best ? JSON.stringify(o.best.params) : "" },
        o.best ? h("a", { href: `#/e/${enc(st.id)}/t/${o.best.number}` }, `trial ${o.best.number}`) : "no result yet",
        o.best ? " · " + Object.entries(o.best.params).map(([k, v]) => `${k}=${val(v)}`).join(", ") : "")),
    h("div", { class: "panel stat" }, h("div", { class: "label" }, "Concurrency"),
      h("div", { class: "big" }, `${o.counts.RUNNING} / ${o.concurrency ?? "–"}`),
      h("div", { class: "sub" }, `${o.counts.WAITING} waiting · started ${clock(o.started_at)}`)));
  const notes = [];
  if (o.waiting_reason && o.phase === "RUNNING") notes.push(h("div", { class: "notice info" }, "Waiting: " + o.waiting_reason));
  if (o.phase === "RUNNING" && !o.engine_alive) notes.push(h("div", { class: "notice", id: "engine-notice" }, engineNote(o) + (o.engine_note ? ": " + o.engine_note : "") + ". Actions wait until it resumes."));
  for (const w of o.warnings) notes.push(h("div", { class: "notice" }, w));
  clear(el.notices, notes);
  const cfg = JSON.stringify(o.config, null, 2);
  if (el.config.textContent !== cfg) el.config.textContent = cfg;
}

// ---------------------------------------------------------------------- trials table
function queryString(st, extra = {}) {
  const q = st.query, p = new URLSearchParams();
  p.set("sort", q.sort); p.set("order", q.order);
  for (const s of q.states) p.append("state", s);
  if (q.q) p.set("q", q.q);
  for (const r of q.ranges) p.append("range", `${r.key}:${r.low}:${r.high}`);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return p.toString();
}
function exportUrl(st, format) { return `api/experiments/${enc(st.id)}/export?` + queryString(st, { format }); }

function buildToolbar(st) {
  const q = st.query, el = st.el;
  const chips = STATES.map(s => h("span", { class: "chip", "data-state": s, onclick: ev => {
    q.states.has(s) ? q.states.delete(s) : q.states.add(s);
    ev.target.classList.toggle("on", q.states.has(s)); q.offset = 0; loadTrials(st);
  } }, s.replace("_", " ").toLowerCase()));
  let typing;
  const search = h("input", { type: "search", id: "trial-search", placeholder: "search params, state, message", oninput: ev => {
    clearTimeout(typing); typing = setTimeout(() => { q.q = ev.target.value; q.offset = 0; loadTrials(st); }, 200);
  } });
  const key = h("select", { id: "range-key" }), low = h("input", { class: "num", placeholder: "min", id: "range-low" }), high = h("input", { class: "num", placeholder: "max", id: "range-high" });
  const add = h("button", { onclick: () => {
    if (!key.value || (!low.value.trim() && !high.value.trim())) return;
    q.ranges.push({ key: key.value, low: low.value.trim(), high: high.value.trim() });
    low.value = high.value = ""; q.offset = 0; loadTrials(st);
  } }, "Add range");
  st.rangeKey = key;
  clear(el.toolbar, chips, search, h("span", { class: "muted small" }, "range"), key, low, high, add);
}

function columns(st, page) {
  const cols = [
    { key: "number", label: "#", num: true, get: r => r.number },
    { key: "state", label: "state", get: r => r.state },
    { key: "value", label: "value", num: true, get: r => r.value },
    { key: "duration", label: "duration", num: true, get: r => r.duration },
    ...page.params.map(p => ({ key: "param:" + p, label: p, num: true, get: r => r.params[p] })),
    ...page.metrics.map(m => ({ key: "metric:" + m, label: m, num: true, get: r => r.metrics[m] })),
    { key: "started_at", label: "started", get: r => r.started_at },
  ];
  return cols;
}

async function loadTrials(st) {
  const data = await api(`experiments/${enc(st.id)}/trials?` + queryString(st, { offset: st.query.offset, limit: st.query.limit }));
  if (page !== st) return;
  st.trialPage = data;
  const q = st.query, el = st.el, cols = columns(st, data), best = st.overview.best?.number;
  // range keys follow the columns
  const keys = ["value", "duration", ...data.params.map(p => "param:" + p), ...data.metrics.map(m => "metric:" + m)];
  if (st.rangeKey.options.length !== keys.length) clear(st.rangeKey, keys.map(k => h("option", { value: k }, k.replace(/^(param|metric):/, ""))));
  clear(el.filters, q.ranges.map((r, i) => h("span", { class: "filter" }, `${r.low || "−∞"} ≤ ${r.key.replace(/^(param|metric):/, "")} ≤ ${r.high || "∞"} `,
    h("button", { class: "mini", title: "remove", onclick: () => { q.ranges.splice(i, 1); q.offset = 0; loadTrials(st); } }, "×"))));
  clear(el.thead, h("tr", {}, h("th", { class: "nosort", title: "show in intermediate results" }, "⌁"),
    cols.map(c => h("th", {
      class: (c.num ? "num " : "") + (q.sort === c.key ? "sorted " + q.order : ""), "data-key": c.key,
      onclick: () => { q.order = q.sort === c.key && q.order === "asc" ? "desc" : "asc"; q.sort = c.key; q.offset = 0; loadTrials(st); },
    }, c.label)), h("th", { class: "nosort" }, "message"), h("th", { class: "nosort" }, "")));
  const canAct = !INFO.read_only && !st.ended;
  clear(el.tbody, data.rows.length ? data.rows.map(r => h("tr", { class: r.number === best ? "best" : "", "data-number": r.number },
    h("td", {}, h("input", { type: "checkbox", checked: st.selected.has(r.number), title: "show its intermediate results", onchange: ev => {
      st.userSelected = true; ev.target.checked ? st.selected.add(r.number) : st.selected.delete(r.number); loadCurves(st);
    } })),
    cols.map(c => {
      const v = c.get(r);
      if (c.key === "number") return h("td", { class: "num" }, h("a", { href: `#/e/${enc(st.id)}/t/${r.number}` }, String(v)));
      if (c.key === "state") return h("td", {}, badge(v));
      if (c.key === "duration") return h("td", { class: "num" }, duration(v));
      if (c.key === "started_at") return h("td", {}, clock(v));
      return h("td", { class: typeof v === "number" ? "num" : "" }, val(v));
    }),
    h("td", { class: "msg", title: r.message || r.wait_reason }, r.message || r.wait_reason),
    h("td", {}, canAct && ["RUNNING", "WAITING"].includes(r.state)
      ? h("button", { class: "mini danger cancel", title: "cancel this trial", onclick: () => cancelTrial(st, r.number) }, "cancel") : null)))
    : h("tr", {}, h("td", { colspan: cols.length + 3, class: "empty" }, data.total ? "No trial matches the filters." : "No trials yet.")));
  document.getElementById("trial-count").textContent = data.matched === data.total ? `${data.total}` : `${data.matched} of ${data.total}`;
  const last = Math.min(q.offset + q.limit, data.matched);
  clear(el.pager,
    h("button", { disabled: q.offset === 0, onclick: () => { q.offset = Math.max(0, q.offset - q.limit); loadTrials(st); } }, "‹ prev"),
    h("span", {}, data.matched ? `${q.offset + 1}–${last} of ${data.matched}` : "0"),
    h("button", { disabled: last >= data.matched, onclick: () => { q.offset += q.limit; loadTrials(st); } }, "next ›"),
    h("select", { onchange: ev => { q.limit = Number(ev.target.value); q.offset = 0; loadTrials(st); } },
      [25, 50, 100, 250].map(n => h("option", { value: n, selected: n === q.limit }, `${n} per page`))));
  mark("trials-table");
}
// Marks for benchmarks/dashboard: when each part first showed data.
function mark(name) { if (!performance.getEntriesByName(name).length) performance.mark(name); }

// ---------------------------------------------------------------------- charts
function trialTip(st, number, extra) {
  return `trial ${number}` + (extra ? "\n" + extra : "");
}
function goTrial(st) { return n => { location.hash = `#/e/${enc(st.id)}/t/${typeof n === "object" ? n.number : n}`; }; }

async function loadHistory(st) {
  const hist = await api(`experiments/${enc(st.id)}/history`);
  if (page !== st) return;
  st.history = hist;
  const el = st.el;
  if (!hist.values.length) { drawEmpty(el.history, "No finished trial yet."); el.historyNote.textContent = ""; return; }
  const idx = hist.values.map((_, i) => i + 1);
  const pts = hist.values.map((v, i) => [idx[i], v, hist.numbers[i]]);
  const positive = hist.values.every(v => v > 0), spread = positive && Math.max(...hist.values) / Math.min(...hist.values) > 1000;
  Charts.xy(el.history, {
    xLabel: "trials finished", yLabel: st.overview.metric + (spread ? " (log)" : ""), yLog: spread,
    series: [
      { name: "trials", color: "rgba(47,91,211,.45)", dots: true, radius: hist.values.length > 2000 ? 1.5 : 2.5, points: pts },
      { name: "best", color: "#d9480f", line: true, step: true, width: 2, points: hist.best.map((v, i) => [idx[i], v]).filter(p => p[1] !== null), hover: false },
    ],
    extendTo: idx.length, tip: n => trialTip(st, n, "value " + fmt(hist.values[hist.numbers.indexOf(n)])), click: goTrial(st),
  });
  const last = hist.best[hist.best.length - 1];
  el.historyNote.textContent = (last === null ? "no trial has succeeded yet" : `best ${fmt(last)}`) + ` after ${hist.values.length} finished trials (only succeeded ones count) · click a point to open its trial`;
  mark("history-chart");
}

async function loadCurves(st) {
  if (!st.userSelected && st.history) {  // by default: the five best and what is running
    const hist = st.history;  // the five best by the one rule: succeeded trials only, the earlier on a tie
    const order = hist.numbers.map((n, i) => [n, hist.values[i]]).filter((_, i) => hist.states[i] === "SUCCEEDED")
      .sort((a, b) => (hist.mode === "max" ? b[1] - a[1] : a[1] - b[1]) || a[0] - b[0]);
    st.selected = new Set(order.slice(0, 5).map(p => p[0]));
    for (const r of (st.trialPage?.rows || [])) if (r.state === "RUNNING" && st.selected.size < 10) st.selected.add(r.number);
    st.el.tbody.querySelectorAll("tr[data-number]").forEach(tr => { const cb = tr.querySelector("input"); if (cb) cb.checked = st.selected.has(Number(tr.dataset.number)); });
  }
  const numbers = [...st.selected].slice(0, 50);
  const el = st.el;
  if (!numbers.length) { drawEmpty(el.curves, "Tick trials in the table to compare their curves."); clear(el.curvesLegend); return; }
  const data = await api(`experiments/${enc(st.id)}/curves?` + numbers.map(n => "numbers=" + n).join("&"));
  if (page !== st) return;
  const entries = Object.entries(data.curves).filter(([, pts]) => pts.length);
  if (!entries.length) { drawEmpty(el.curves, "The selected trials reported no intermediate results."); clear(el.curvesLegend); return; }
  const series = entries.map(([n, pts], i) => ({ name: n, color: Charts.PALETTE[i % 10], line: true, dots: pts.length < 40, radius: 2, width: 1.5, points: pts.map(p => [p[0], p[1], Number(n)]) }));
  Charts.xy(el.curves, { xLabel: "step", yLabel: st.overview.metric, series, tip: n => trialTip(st, n), click: goTrial(st) });
  clear(el.curvesLegend, series.map(s => { const i = h("i"); i.style.background = s.color; return h("span", {}, i, "trial " + s.name); }));
}

async function loadAnalysis(st) {
  const a = await api(`experiments/${enc(st.id)}/analysis`);
  if (page !== st) return;
  st.analysis = a;
  const el = st.el;
  if (a.values.length < 2 || !a.params.length) drawEmpty(el.parallel, "Parallel coordinates appear after two finished trials.");
  else {
    const axes = a.params.map(p => ({ ...p, values: a.columns[p.name] }));
    axes.push({ name: st.overview.metric, kind: "number", log: false, categories: [], values: a.values });
    Charts.parallel(el.parallel, { axes, color: a.values, mode: a.mode });
    el.parallelNote.textContent = `${a.values.length} finished trials${a.sampled ? " (a sample, best ones kept)" : ""} · darker lines are better`;
  }
  const scores = Object.entries(a.importance).sort((x, y) => y[1] - x[1]);
  clear(el.importance, scores.length ? scores.flatMap(([name, s]) => {
    const fill = h("div", { class: "fill" }); fill.style.width = (s * 100).toFixed(1) + "%";
    return [h("span", { class: "name", title: name }, name), h("div", { class: "track" }, fill), h("span", { class: "val" }, (s * 100).toFixed(0) + "%")];
  }) : [h("span", { class: "muted small" }, "Needs at least 8 finished trials.")]);
  if (scores.length) el.importance.append(h("span", { class: "muted small", style: null }, ""), h("span", { class: "muted small" }, "share of the variance of the ranked objective explained by each parameter alone"), h("span"));
  const names = a.params.map(p => p.name);
  if (!st.sliceParam || !names.includes(st.sliceParam)) st.sliceParam = scores.length ? scores[0][0] : names[0];
  if ([...el.sliceSelect.options].map(o => o.value).join() !== names.join()) clear(el.sliceSelect, names.map(n => h("option", { value: n }, n)));
  el.sliceSelect.value = st.sliceParam || "";
  drawSlice(st);
}

function drawSlice(st) {
  const a = st.analysis, el = st.el;
  const p = a && a.params.find(x => x.name === st.sliceParam);
  if (!p || !a.values.length) { drawEmpty(el.slice, "No finished trial yet."); return; }
  const column = a.columns[p.name];
  const cats = p.kind === "category" ? p.categories : null;
  const colors = a.numbers.map((_, i) => Charts.ramp(i / Math.max(1, a.numbers.length - 1)));
  const pts = column.map((v, i) => [cats ? cats.indexOf(typeof v === "string" ? v : JSON.stringify(v)) : v, a.values[i], a.numbers[i], colors[i]]);
  Charts.xy(el.slice, {
    xLabel: p.name + (p.log ? " (log)" : ""), yLabel: st.overview.metric, xLog: p.log, xCategories: cats,
    jitter: cats ? (pt => ((pt[2] * 2654435761 % 1000) / 1000 - 0.5) * 18) : null,
    series: [{ name: p.name, color: "#2f5bd3", dots: true, radius: 3, points: pts }],
    tip: n => trialTip(st, n, `${p.name} = ${val(column[a.numbers.indexOf(n)])}\nvalue ${fmt(a.values[a.numbers.indexOf(n)])}`), click: goTrial(st),
  });
}

async function loadTimeline(st) {
  const t = await api(`experiments/${enc(st.id)}/timeline`);
  if (page !== st) return;
  if (!t.numbers.length) { drawEmpty(st.el.timeline, "No trial has started yet."); return; }
  const bars = t.numbers.map((number, i) => ({ number, slot: t.slots[i], start: t.starts[i], end: t.ends[i], state: t.states[i] }));
  Charts.timeline(st.el.timeline, { bars, colors: COLORS, click: goTrial(st),
    tip: b => `trial ${b.number} · ${b.state.toLowerCase()}\n${duration(b.end - b.start)} from ${fmt(b.start)} s` });
}

async function loadActivity(st) {
  const items = await api(`experiments/${enc(st.id)}/requests`);
  if (page !== st) return;
  clear(st.el.activity, items.length ? items.map(r => h("tr", {}, h("td", {}, clock(r.created_at)),
    h("td", { class: "mono" }, r.kind.replace("_", " ") + " " + JSON.stringify(r.payload)),
    h("td", { class: r.handled_at ? "" : "muted" }, r.handled_at ? r.outcome : "waiting for the engine…")))
    : h("tr", {}, h("td", { colspan: 3, class: "empty" }, "No requests yet: stop, cancel, limit changes and added trials show here.")));
}

function drawEmpty(canvas, text) {
  const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth || 400, hh = canvas.clientHeight || 200;
  canvas.width = w * dpr; canvas.height = hh * dpr;
  const ctx = canvas.getContext("2d"); ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = "#8a94a3"; ctx.font = "13px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.fillText(text, w / 2, hh / 2);
  canvas._hit = null;
}

// ---------------------------------------------------------------------- actions
async function act(promise, done) {
  try { const r = await promise; toast(r.message || "done"); if (done) done(r); return r; } catch (err) { toast(err.message, true); throw err; }
}
async function stopExperiment(st) {
  if (!confirm(`Stop experiment ${st.id}? Running trials are canceled.`)) return;
  await act(api(`experiments/${enc(st.id)}/stop`, { method: "POST" }));
  st.revision = null; refresh(st, false);
}
async function cancelTrial(st, number) {
  await act(api(`experiments/${enc(st.id)}/trials/${number}/cancel`, { method: "POST" }));
  st.revision = null; refresh(st, false);
}

function dialog(title, fields, submit) {
  const dlg = document.getElementById("dialog"), error = h("div", { class: "error" });
  const form = h("form", { method: "dialog" }, h("h2", {}, title), fields, error,
    h("div", { class: "row" }, h("button", { type: "button", onclick: () => dlg.close() }, "Cancel"), h("button", { class: "primary", type: "submit" }, "Apply")));
  form.addEventListener("submit", async ev => {
    ev.preventDefault(); error.textContent = "";
    try { await submit(); dlg.close(); } catch (err) { error.textContent = err.message; }
  });
  clear(dlg, form); dlg.showModal();
}
function limitsDialog(st) {
  const o = st.overview;
  const mt = h("input", { name: "max_trials", type: "number", min: 1, value: o.max_trials ?? "", placeholder: "no limit" });
  const md = h("input", { name: "max_duration", value: o.max_duration ?? "", placeholder: "no limit (e.g. 90s, 30m, 2h)" });
  const cc = h("input", { name: "concurrency", type: "number", min: 1, value: o.concurrency ?? 1 });
  dialog("Limits", [h("label", {}, "max trials", mt), h("label", {}, "max duration (seconds, or 30m, 2h)", md), h("label", {}, "concurrency", cc)], async () => {
    const body = {};
    const trials = mt.value.trim() === "" ? null : Number(mt.value);
    if (trials !== o.max_trials) body.max_trials = trials;
    const dur = md.value.trim() === "" ? null : (/^[\d.]+$/.test(md.value.trim()) ? Number(md.value) : md.value.trim());
    if (dur !== o.max_duration) body.max_duration = dur;
    if (Number(cc.value) !== o.concurrency) body.concurrency = Number(cc.value);
    if (!Object.keys(body).length) return;
    await act(api(`experiments/${enc(st.id)}/limits`, { json: body }));
    st.revision = null;
  });
}
function addTrialDialog(st) {
  const template = st.overview.best ? st.overview.best.params : Object.fromEntries(Object.keys(st.overview.config.search_space || {}).map(k => [k, null]));
  const text = h("textarea", { name: "params", spellcheck: "false" });
  text.value = JSON.stringify(template, null, 2);
  dialog("Add a trial", [h("label", {}, "parameters (JSON), checked against the search space", text),
    h("div", { class: "muted small" }, "Search space: " + JSON.stringify(st.overview.config.search_space))], async () => {
    let params;
    try { params = JSON.parse(text.value); } catch (err) { throw new Error("not valid JSON: " + err.message); }
    await act(api(`experiments/${enc(st.id)}/trials`, { json: { params } }));
    st.revision = null;
  });
}

// ---------------------------------------------------------------------- trial page
async function trialPage(view, id, number) {
  if (INFO.experiment_id === undefined) INFO = await api("info");
  const st = page;
  Object.assign(st, { id, number, logs: { stdout: { end: null }, stderr: { end: null } }, stream: "stdout" });
  crumbs({ text: "experiments", href: "#/" }, { text: id, href: "#/e/" + enc(id) }, { text: "trial " + number });
  const el = st.el = {
    title: h("div", { class: "titlebar" }), params: h("tbody"), metrics: h("tbody"), curve: h("canvas", { class: "chart short", id: "trial-curve" }),
    metricSelect: h("select", { id: "curve-metric" }), events: h("tbody"),
    logs: { stdout: h("pre", { class: "log", id: "log-stdout" }), stderr: h("pre", { class: "log stderr hidden", id: "log-stderr" }) },
    logInfo: h("span", { class: "muted small" }), follow: h("input", { type: "checkbox", checked: true, id: "follow" }),
  };
  const tabs = ["stdout", "stderr"].map(s => h("span", { class: "tab" + (s === "stdout" ? " on" : ""), "data-stream": s, onclick: () => st.showStream(s) }, s));
  st.showStream = s => {
    st.stream = s; tabs.forEach(t => t.classList.toggle("on", t.dataset.stream === s));
    el.logs.stdout.classList.toggle("hidden", s !== "stdout"); el.logs.stderr.classList.toggle("hidden", s !== "stderr"); showLogInfo(st);
  };
  el.metricSelect.addEventListener("change", () => drawTrialCurve(st));
  clear(view, el.title,
    h("div", { class: "grid2" }, panel("Parameters", h("table", { class: "kv" }, el.params)), panel("Metrics", h("table", { class: "kv" }, el.metrics))),
    h("div", { class: "grid2" },
      h("section", { class: "panel" }, h("h2", {}, "Intermediate results ", el.metricSelect), el.curve),
      panel("State history", h("div", { class: "tablewrap" }, h("table", {}, h("thead", {}, h("tr", {}, ["time", "state", "message"].map(c => h("th", { class: "nosort" }, c)))), el.events)))),
    h("section", { class: "panel", id: "logs" }, h("div", { class: "tabs" }, h("h2", {}, "Logs"), h("span", {}, " "), tabs,
      h("span", { class: "spacer" }), h("label", { class: "small muted" }, el.follow, " follow"), el.logInfo), el.logs.stdout, el.logs.stderr));
  await refreshTrial(st);
  poll(() => refreshTrial(st));
}

async function refreshTrial(st) {
  const t = await api(`experiments/${enc(st.id)}/trials/${st.number}`);
  if (page !== st) return;
  const wasEnded = st.ended;
  st.trial = t; st.ended = !["RUNNING", "WAITING"].includes(t.state);
  // A failed trial's page opens on its stderr (where the reason is), once; the user's choice stands after.
  if (t.state === "FAILED" && !st.openedOnFailure) { st.openedOnFailure = true; st.showStream("stderr"); }
  const el = st.el;
  clear(el.title, h("h1", {}, `Trial ${t.number}`), badge(t.state), h("span", { class: "msg" }, t.message || t.wait_reason),
    h("span", { class: "muted small" }, `attempt ${t.attempt} · seed ${t.seed ?? "–"}${lineage(t)} · ${duration(t.duration)}`),
    h("div", { class: "actions" }, !INFO.read_only && !st.ended
      ? h("button", { class: "danger", id: "cancel-trial", onclick: async () => { await act(api(`experiments/${enc(st.id)}/trials/${t.number}/cancel`, { method: "POST" })); } }, "Cancel trial") : null,
      h("button", { onclick: () => navigator.clipboard?.writeText(JSON.stringify(t.raw_params)).then(() => toast("parameters copied")) }, "Copy params")));
  clear(el.params, Object.entries(t.params).map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, typeof v === "number" ? String(v) : JSON.stringify(v)))));
  const lastMetrics = t.intermediate.length ? t.intermediate[t.intermediate.length - 1].metrics : {};
  const objectives = Object.entries(t.values || {}).concat(t.violation === null || t.violation === undefined ? [] : [["constraint violation", t.violation]]);
  clear(el.metrics, [...(objectives.length ? objectives : [["value", t.value]]), ...Object.entries(t.metrics), ...Object.entries(lastMetrics).filter(([k]) => !(k in t.metrics)).map(([k, v]) => [k + " (last report)", v]),
    ["reports", t.intermediate.length], ["started", when(t.started_at)], ["ended", when(t.ended_at)], ["folder", t.trial_dir],
    ...t.warnings.map(w => ["warning", w])]
    .map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, typeof v === "number" ? String(v) : v === null ? "–" : typeof v === "string" ? v : JSON.stringify(v)))));
  const names = ["value", ...new Set(t.intermediate.flatMap(p => Object.keys(p.metrics)))];
  if ([...el.metricSelect.options].map(o => o.value).join() !== names.join()) clear(el.metricSelect, names.map(n => h("option", { value: n }, n)));
  drawTrialCurve(st);
  clear(el.events, t.events.map(e => h("tr", {}, h("td", {}, when(e.time)), h("td", {}, badge(e.state)), h("td", { class: "msg" }, e.message))));
  if (!st.ended || !wasEnded) await Promise.all([readLog(st, "stdout"), readLog(st, "stderr")]);
}

function lineage(t) {
  const budget = t.budget == null ? "" : ` · budget ${t.budget}`;
  const parent = t.parent == null ? "" : ` · continues trial ${t.parent}`;
  const source = t.checkpoint_from == null || t.checkpoint_from === t.parent ? "" : ` from trial ${t.checkpoint_from}'s checkpoint`;
  return budget + parent + source;
}

function drawTrialCurve(st) {
  const t = st.trial, key = st.el.metricSelect.value || "value";
  const pts = t.intermediate.map(p => [p.step, key === "value" ? p.value : p.metrics[key], p.step]).filter(p => typeof p[1] === "number");
  if (!pts.length) { drawEmpty(st.el.curve, "No intermediate results reported."); return; }
  Charts.xy(st.el.curve, { xLabel: "step", yLabel: key, series: [{ color: "#2f5bd3", line: true, dots: pts.length < 60, radius: 2.5, points: pts }], tip: s => `step ${s}` });
}

async function readLog(st, stream) {
  const log = st.logs[stream], pre = st.el.logs[stream];
  const url = `experiments/${enc(st.id)}/trials/${st.number}/logs/${stream}` + (log.end === null ? "?max_bytes=65536" : `?offset=${log.end}&max_bytes=262144`);
  const chunk = await api(url);
  if (page !== st) return;
  log.size = chunk.size; log.exists = chunk.exists;
  if (log.end === null && chunk.start > 0) pre.append(h("span", { class: "muted" }, `… ${chunk.start} earlier bytes not shown\n`));
  if (chunk.text) {
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 30;
    pre.append(document.createTextNode(chunk.text));
    if (pre.textContent.length > 2_000_000) pre.textContent = pre.textContent.slice(-1_000_000);
    if (st.el.follow.checked && (atBottom || log.end === null)) pre.scrollTop = pre.scrollHeight;
  }
  if (!chunk.exists && !pre.textContent) pre.textContent = "(no " + stream + " yet)";
  else if (chunk.exists && pre.textContent.startsWith("(no ")) pre.textContent = pre.textContent.replace(/^\(no \w+ yet\)/, "");
  log.end = chunk.end;
  if (stream === st.stream) showLogInfo(st);
}
function showLogInfo(st) {
  const log = st.logs[st.stream];
  st.el.logInfo.textContent = log.exists ? ` ${log.size} bytes` + (st.ended ? "" : " · following") : "";
}

// ---------------------------------------------------------------------- start
window.addEventListener("hashchange", route);
window.addEventListener("resize", () => { clearTimeout(route.resize); route.resize = setTimeout(() => { if (page && page.revision !== undefined) { page.revision = null; } }, 300); });
(async () => {
  try { INFO = await api("info"); } catch (err) { /* shown by the route */ }
  document.getElementById("readonly").classList.toggle("hidden", !INFO.read_only);
  if (!location.hash && INFO.experiment_id) location.hash = "#/e/" + enc(INFO.experiment_id);
  route();
})();
