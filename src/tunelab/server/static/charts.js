// Small canvas charts for the tunelab dashboard: line/scatter, parallel coordinates, timeline.
// No dependencies. Text is drawn with fillText (never parsed as HTML); tooltips use textContent.
"use strict";

const Charts = (() => {
  const FONT = '11px system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif';
  const INK = "#39414b", GRID = "#eceff3", AXIS = "#c9ced6";
  const PALETTE = ["#2f5bd3", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c", "#5c940d", "#364fc7", "#a61e4d"];

  function fmt(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "–";
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }

  function setup(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || 600, h = canvas.clientHeight || 260;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = FONT;
    return { ctx, w, h };
  }

  // Round ticks; on an integer axis (every value an integer) only integers, at least 1 apart.
  function niceTicks(lo, hi, count, integer) {
    if (!(hi > lo)) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
    const raw = (hi - lo) / Math.max(1, count), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = [1, 2, 2.5, 5, 10].filter(s => !integer || s !== 2.5).map(s => s * mag).find(s => s >= raw) || raw;
    if (integer) step = Math.max(1, Math.round(step));
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
    return ticks;
  }

  function logTicks(lo, hi) {
    const ticks = [];
    for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
      const t = Math.pow(10, e);
      if (t >= lo * 0.999 && t <= hi * 1.001) ticks.push(t);
    }
    return ticks.length >= 2 ? ticks : [lo, hi];
  }

  // A scale maps data to pixels; log scales need positive data.
  function scale(values, lo, hi, log, categories) {
    if (categories) {
      const n = categories.length;
      const f = v => lo + (hi - lo) * ((v + 0.5) / Math.max(1, n));
      return { f, ticks: categories.map((_, i) => i), label: i => categories[i] ?? "", min: -0.5, max: n - 0.5 };
    }
    let finite = values.filter(v => Number.isFinite(v) && (!log || v > 0));
    if (!finite.length) finite = log ? [1, 10] : [0, 1];
    let min = Math.min(...finite.slice(0, 100000)), max = Math.max(...finite.slice(0, 100000));
    if (finite.length > 100000) { for (const v of finite) { if (v < min) min = v; if (v > max) max = v; } }
    if (log) {
      const a = Math.log10(min), b = Math.log10(max) === a ? a + 1 : Math.log10(max);
      const f = v => lo + (hi - lo) * ((Math.log10(v) - a) / (b - a));
      return { f, ticks: logTicks(min, Math.pow(10, b)), label: fmt, min, max };
    }
    if (max === min) { const d = Math.abs(min) * 0.1 || 1; min -= d; max += d; }
    const pad = (max - min) * 0.04; min -= pad; max += pad;
    const f = v => lo + (hi - lo) * ((v - min) / (max - min));
    const integer = finite.length > 0 && finite.every(Number.isInteger);
    return { f, ticks: niceTicks(min, max, Math.max(2, Math.round(Math.abs(hi - lo) / 60)), integer), label: fmt, min, max };
  }

  // ------------------------------------------------------------------ hover + click
  const tooltip = () => document.getElementById("tooltip");
  function attach(canvas, state) {
    canvas._hit = state;
    if (canvas._attached) return;
    canvas._attached = true;
    canvas.addEventListener("mousemove", ev => {
      const hit = find(canvas, ev);
      const tip = tooltip();
      if (hit === null) { tip.classList.add("hidden"); canvas.style.cursor = ""; return; }  // trial 0 is a hit
      tip.textContent = canvas._hit.tip(hit);
      tip.classList.remove("hidden");
      tip.style.left = Math.min(ev.clientX + 12, window.innerWidth - 300) + "px";
      tip.style.top = (ev.clientY + 12) + "px";
      canvas.style.cursor = canvas._hit.click ? "pointer" : "";
    });
    canvas.addEventListener("mouseleave", () => tooltip().classList.add("hidden"));
    canvas.addEventListener("click", ev => {
      const hit = find(canvas, ev);
      if (hit !== null && canvas._hit.click) { tooltip().classList.add("hidden"); canvas._hit.click(hit); }
    });
  }
  function find(canvas, ev) {
    const state = canvas._hit;
    if (!state) return null;
    const r = canvas.getBoundingClientRect(), x = ev.clientX - r.left, y = ev.clientY - r.top;
    if (state.rects) {
      for (let i = state.rects.length - 1; i >= 0; i--) {
        const b = state.rects[i];
        if (x >= b.x - 1 && x <= b.x + b.w + 1 && y >= b.y && y <= b.y + b.h) return b.meta;
      }
      return null;
    }
    let best = null, dist = 100;
    for (const p of state.points) {
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d < dist) { dist = d; best = p.meta; }
    }
    return best;
  }

  // ------------------------------------------------------------------ axes
  function frame(ctx, w, h, xs, ys, opts, m) {
    ctx.strokeStyle = GRID; ctx.fillStyle = INK; ctx.lineWidth = 1;
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const t of ys.ticks) {
      const y = Math.round(ys.f(t)) + 0.5;
      if (y < m.t - 1 || y > h - m.b + 1) continue;
      ctx.beginPath(); ctx.moveTo(m.l, y); ctx.lineTo(w - m.r, y); ctx.stroke();
      ctx.fillText(ys.label(t), m.l - 5, y);
    }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    let lastRight = -Infinity;
    for (const t of xs.ticks) {
      const x = Math.round(xs.f(t)) + 0.5;
      if (x < m.l - 1 || x > w - m.r + 1) continue;
      ctx.strokeStyle = GRID; ctx.beginPath(); ctx.moveTo(x, m.t); ctx.lineTo(x, h - m.b); ctx.stroke();
      const text = String(xs.label(t)), tw = ctx.measureText(text).width;
      if (x - tw / 2 > lastRight + 4) { ctx.fillText(text, x, h - m.b + 5); lastRight = x + tw / 2; }
    }
    ctx.strokeStyle = AXIS; ctx.strokeRect(m.l + 0.5, m.t + 0.5, w - m.l - m.r, h - m.t - m.b);
    ctx.fillStyle = "#5f6b7a";
    if (opts.xLabel) { ctx.textAlign = "right"; ctx.textBaseline = "bottom"; ctx.fillText(opts.xLabel, w - m.r, h - 2); }
    if (opts.yLabel) { ctx.textAlign = "left"; ctx.textBaseline = "top"; ctx.fillText(opts.yLabel, m.l + 4, 2); }
  }

  // ------------------------------------------------------------------ line / scatter
  // series: [{name, color, points: [[x, y, meta]], line, dots, step, width, alpha}]
  function xy(canvas, opts) {
    const { ctx, w, h } = setup(canvas);
    const m = { l: 58, r: 12, t: 16, b: 34 };
    const all = opts.series.flatMap(s => s.points);
    const xs = scale(all.map(p => p[0]), m.l, w - m.r, opts.xLog, opts.xCategories);
    const ys = scale(all.map(p => p[1]), h - m.b, m.t, opts.yLog);
    frame(ctx, w, h, xs, ys, opts, m);
    const hits = [];
    ctx.save();
    ctx.beginPath(); ctx.rect(m.l, m.t, w - m.l - m.r, h - m.t - m.b); ctx.clip();
    for (const s of opts.series) {
      const pts = s.points.filter(p => Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!opts.yLog || p[1] > 0) && (!opts.xLog || p[0] > 0));
      ctx.globalAlpha = s.alpha ?? 1;
      if (s.line && pts.length) {
        ctx.strokeStyle = s.color; ctx.lineWidth = s.width || 1.6; ctx.beginPath();
        pts.forEach((p, i) => {
          const x = xs.f(p[0]), y = ys.f(p[1]);
          if (i === 0) ctx.moveTo(x, y);
          else if (s.step) { ctx.lineTo(x, ys.f(pts[i - 1][1])); ctx.lineTo(x, y); }
          else ctx.lineTo(x, y);
        });
        if (s.step && opts.extendTo !== undefined && pts.length) ctx.lineTo(xs.f(opts.extendTo), ys.f(pts[pts.length - 1][1]));
        ctx.stroke();
      }
      if (s.dots) {
        ctx.fillStyle = s.color;
        const r = s.radius || 2.5;
        for (const p of pts) {
          const x = xs.f(p[0]) + (opts.jitter ? opts.jitter(p) : 0), y = ys.f(p[1]);
          ctx.fillStyle = p[3] || s.color;
          ctx.beginPath(); ctx.arc(x, y, r, 0, 6.283); ctx.fill();
          if (p[2] !== undefined) hits.push({ x, y, meta: p[2] });
        }
      } else if (s.hover !== false) {
        for (const p of pts) if (p[2] !== undefined) hits.push({ x: xs.f(p[0]), y: ys.f(p[1]), meta: p[2] });
      }
    }
    ctx.restore();
    attach(canvas, { points: hits, tip: opts.tip || (m => String(m)), click: opts.click });
  }

  // ------------------------------------------------------------------ parallel coordinates
  // axes: [{name, kind: "number"|"category", log, categories, values}], color: values to colour by
  function parallel(canvas, opts) {
    const { ctx, w, h } = setup(canvas);
    const axes = opts.axes, n = axes.length;
    const m = { l: 40, r: 60, t: 28, b: 16 };
    if (n < 2) return;
    const step = (w - m.l - m.r) / (n - 1);
    const scales = axes.map(a => a.kind === "category"
      ? scale([], h - m.b, m.t, false, a.categories)
      : scale(a.values, h - m.b, m.t, a.log));
    const pos = (a, i) => {
      const v = a.values[i];
      if (a.kind === "category") { const k = a.categories.indexOf(typeof v === "string" ? v : JSON.stringify(v)); return k < 0 ? null : scales[axes.indexOf(a)].f(k); }
      return Number.isFinite(v) && (!a.log || v > 0) ? scales[axes.indexOf(a)].f(v) : null;
    };
    const colors = colorize(opts.color, opts.mode);
    const count = axes[0].values.length;
    const order = [...Array(count).keys()].sort((i, j) => colors.rank[j] - colors.rank[i]);  // best drawn last
    ctx.lineWidth = 1;
    ctx.globalAlpha = count > 1500 ? 0.25 : count > 300 ? 0.45 : 0.7;
    for (const i of order) {
      ctx.strokeStyle = colors.of[i]; ctx.beginPath();
      let drawing = false;
      axes.forEach((a, k) => {
        const y = pos(a, i);
        if (y === null) { drawing = false; return; }
        const x = m.l + k * step;
        if (drawing) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        drawing = true;
      });
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    axes.forEach((a, k) => {
      const x = Math.round(m.l + k * step) + 0.5, s = scales[k];
      ctx.strokeStyle = "#7a8594"; ctx.beginPath(); ctx.moveTo(x, m.t); ctx.lineTo(x, h - m.b); ctx.stroke();
      ctx.fillStyle = INK; ctx.textAlign = k === 0 ? "left" : k === n - 1 ? "right" : "center"; ctx.textBaseline = "bottom";
      ctx.font = "600 " + FONT; ctx.fillText(clip(ctx, a.name, Math.max(60, step - 8)), x, m.t - 8); ctx.font = FONT;
      ctx.textAlign = "left"; ctx.textBaseline = "middle";
      const every = Math.max(1, Math.ceil(s.ticks.length / Math.max(2, (h - m.t - m.b) / 18)));
      s.ticks.forEach((t, j) => {
        if (j % every) return;
        const y = s.f(t), text = clip(ctx, String(s.label(t)), Math.max(40, step - 10));
        ctx.fillStyle = "rgba(255,255,255,.85)"; ctx.fillRect(x + 3, y - 6, ctx.measureText(text).width + 3, 12);
        ctx.fillStyle = INK; ctx.fillText(text, x + 4, y);
      });
    });
    canvas._hit = null;
  }

  function clip(ctx, text, width) {
    if (ctx.measureText(text).width <= width) return text;
    while (text.length > 1 && ctx.measureText(text + "…").width > width) text = text.slice(0, -1);
    return text + "…";
  }

  // Colours from best (dark blue) to worst (light orange), by rank.
  function colorize(values, mode) {
    const idx = values.map((_, i) => i).sort((a, b) => mode === "max" ? values[b] - values[a] : values[a] - values[b]);
    const rank = new Array(values.length);
    idx.forEach((i, r) => { rank[i] = values.length > 1 ? r / (values.length - 1) : 0; });
    return { rank, of: rank.map(ramp) };
  }
  function ramp(t) {
    const stops = [[33, 57, 140], [47, 91, 211], [112, 160, 220], [240, 180, 110], [230, 120, 60]];
    const x = Math.min(0.999, Math.max(0, t)) * (stops.length - 1), i = Math.floor(x), f = x - i;
    const c = stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  // ------------------------------------------------------------------ timeline
  // bars: [{number, slot, start, end, state}]; colors: state -> css colour
  function timeline(canvas, opts) {
    const bars = opts.bars;
    const slots = Math.max(1, ...bars.map(b => b.slot + 1));
    const rowH = Math.max(6, Math.min(22, Math.floor(240 / slots)));
    canvas.style.height = Math.max(90, slots * rowH + 44) + "px";
    const { ctx, w, h } = setup(canvas);
    const m = { l: 58, r: 12, t: 8, b: 34 };
    const xs = scale([0, ...bars.map(b => b.end)], m.l, w - m.r, false);
    const ys = { f: s => m.t + s * rowH + rowH / 2, ticks: [...Array(slots).keys()].filter(s => slots <= 16 || s % Math.ceil(slots / 16) === 0), label: s => "slot " + (s + 1) };
    frame(ctx, w, h, xs, ys, { xLabel: "seconds since start" }, m);
    const rects = [];
    for (const b of bars) {
      const x0 = xs.f(b.start), x1 = Math.max(x0 + 1.5, xs.f(b.end)), y = m.t + b.slot * rowH + 1;
      ctx.fillStyle = opts.colors[b.state] || "#888";
      ctx.fillRect(x0, y, x1 - x0 - 0.5, rowH - 2);
      rects.push({ x: x0, y, w: x1 - x0, h: rowH - 2, meta: b });
    }
    attach(canvas, { rects, tip: opts.tip, click: opts.click });
  }

  return { xy, parallel, timeline, fmt, scale, PALETTE, ramp };
})();
