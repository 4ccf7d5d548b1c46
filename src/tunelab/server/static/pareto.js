// Several objectives on the dashboard: the Pareto front (a scatter of two objectives at a time:
// dominated trials faded, infeasible ones grey, the knee ringed, a click opens the trial), the
// hypervolume over time and parallel coordinates over every objective. It uses app.js's helpers
// (h, panel, api, enc, page, goTrial, drawEmpty) and charts.js; data from GET .../pareto.
"use strict";

const Pareto = (() => {
  const FRONT = "#d9480f", DOMINATED = "rgba(47,91,211,.28)", INFEASIBLE = "rgba(110,118,129,.55)", KNEE = "#2b8a3e";

  function mount(st) {
    if (st.paretoEl) return st.paretoEl;
    const el = st.paretoEl = {
      x: h("select", { id: "pareto-x" }), y: h("select", { id: "pareto-y" }),
      scatter: h("canvas", { class: "chart", id: "pareto-chart" }), scatterNote: h("div", { class: "legend", id: "pareto-note" }),
      hv: h("canvas", { class: "chart", id: "hypervolume-chart" }), hvNote: h("div", { class: "legend", id: "hypervolume-note" }),
      parallel: h("canvas", { class: "chart", id: "objectives-chart" }), parallelNote: h("div", { class: "legend" }),
    };
    el.x.addEventListener("change", () => drawScatter(st));
    el.y.addEventListener("change", () => drawScatter(st));
    const section = h("div", { class: "grid3", id: "pareto" },
      h("section", { class: "panel" }, h("h2", {}, "Pareto front ", el.x, " × ", el.y), el.scatter, el.scatterNote),
      panel("Hypervolume", el.hv, el.hvNote),
      panel("Objectives", el.parallel, el.parallelNote));
    st.el.notices.after(section);
    // One value per trial has no "best so far" with several objectives: the hypervolume takes its place.
    st.el.history.closest("section")?.classList.add("hidden");
    return el;
  }

  async function refresh(st) {
    if (!st.overview || !st.overview.objectives) return;
    const el = mount(st);
    const data = await api(`experiments/${enc(st.id)}/pareto`);
    if (page !== st) return;
    st.paretoData = data;
    const names = Object.keys(data.objectives);
    for (const [select, k] of [[el.x, 0], [el.y, 1]]) {
      if ([...select.options].map(o => o.value).join() !== names.join()) {
        select.replaceChildren(...names.map(n => h("option", { value: n }, `${n} (${data.objectives[n]})`)));
        select.value = names[Math.min(k, names.length - 1)];
      }
    }
    drawScatter(st); drawHypervolume(st); drawObjectives(st);
    mark("pareto-chart");
  }

  function describe(st, p) {
    const values = Object.entries(p.values).map(([k, v]) => `${k} ${fmt(v)}`).join(" · ");
    const where = !p.feasible ? `infeasible (violation ${fmt(p.violation)})`
      : p.on_front ? (p.number === st.paretoData.knee ? "on the front: the knee (suggested)" : "on the front")
      : !p.competes ? p.state.toLowerCase().replace("_", " ")
      : p.rank === null ? "dominated" : `dominated (rank ${p.rank})`;
    return `trial ${p.number}\n${values}\n${where}`;
  }

  function drawScatter(st) {
    const data = st.paretoData, el = st.paretoEl, x = el.x.value, y = el.y.value;
    const pts = data.points.filter(p => Number.isFinite(p.values[x]) && Number.isFinite(p.values[y]));
    if (!pts.length) { drawEmpty(el.scatter, "No trial has a value of every objective yet."); el.scatterNote.textContent = ""; return; }
    const at = p => [p.values[x], p.values[y], p.number];
    const front = pts.filter(p => p.on_front), knee = pts.filter(p => p.number === data.knee);
    const series = [
      { name: "infeasible", color: INFEASIBLE, dots: true, radius: 3, points: pts.filter(p => !p.feasible).map(at) },
      { name: "dominated", color: DOMINATED, dots: true, radius: 3, points: pts.filter(p => p.feasible && !p.on_front).map(at) },
      { name: "front", color: FRONT, dots: true, radius: 4, points: front.map(at) },
      { name: "knee", color: KNEE, dots: true, radius: 6.5, alpha: 0.9, points: knee.map(at) },
    ];
    if (Object.keys(data.objectives).length === 2 && x !== y && front.length > 1) {  // the front as a staircase
      const line = front.map(at).sort((a, b) => a[0] - b[0]);
      series.splice(2, 0, { name: "front line", color: FRONT, line: true, step: true, width: 1, points: line.map(p => [p[0], p[1]]), hover: false });
    }
    const byNumber = new Map(pts.map(p => [p.number, p]));
    Charts.xy(el.scatter, { xLabel: `${x} (${data.objectives[x]})`, yLabel: `${y} (${data.objectives[y]})`, series,
      tip: n => describe(st, byNumber.get(n)), click: goTrial(st) });
    const infeasible = pts.filter(p => !p.feasible).length;
    el.scatterNote.replaceChildren(
      ...[["front", FRONT], ["dominated", DOMINATED], ["infeasible", INFEASIBLE], ["knee", KNEE]].map(([label, color]) => {
        const i = h("i"); i.style.background = color; return h("span", {}, i, label);
      }),
      h("span", {}, `${data.front.length} on the front of ${pts.length - infeasible} feasible` +
        (infeasible ? `, ${infeasible} broke the constraints` : "") +
        (data.knee !== null ? ` · suggested: trial ${data.knee} (the knee)` : "") + " · click a point to open its trial"));
  }

  function drawHypervolume(st) {
    const hv = st.paretoData.hypervolume, el = st.paretoEl;
    if (!hv.values.length) { drawEmpty(el.hv, "No feasible trial has finished yet."); el.hvNote.textContent = ""; return; }
    const pts = hv.values.map((v, i) => [hv.finished[i], v, hv.numbers[i]]);
    Charts.xy(el.hv, { xLabel: "feasible trials finished", yLabel: "hypervolume",
      series: [{ name: "hypervolume", color: FRONT, line: true, step: true, dots: pts.length < 60, radius: 2, width: 2, points: pts }],
      tip: n => `after trial ${n}\nhypervolume ${fmt(hv.values[hv.numbers.indexOf(n)])}`, click: goTrial(st) });
    el.hvNote.textContent = `${fmt(hv.values[hv.values.length - 1])} against the reference point (${hv.reference.map(fmt).join(", ")} in losses: maximised objectives negated)`;
  }

  function drawObjectives(st) {
    const data = st.paretoData, el = st.paretoEl, names = Object.keys(data.objectives);
    const pts = data.points.filter(p => names.every(n => Number.isFinite(p.values[n])));
    if (pts.length < 2 || names.length < 2) { drawEmpty(el.parallel, "Appears after two trials with every objective."); el.parallelNote.textContent = ""; return; }
    const axes = names.map(n => ({ name: `${n} (${data.objectives[n]})`, kind: "number", log: false, categories: [], values: pts.map(p => p.values[n]) }));
    const worst = Math.max(0, ...pts.map(p => p.rank ?? 0)) + 1;  // not ranked (not competing: infeasible): lightest
    Charts.parallel(el.parallel, { axes, color: pts.map(p => p.rank ?? (p.competes ? worst - 0.5 : worst)), mode: "min" });
    el.parallelNote.textContent = `${pts.length} trials · darker lines are on better fronts (infeasible ones lightest)`;
  }

  return { refresh };
})();
