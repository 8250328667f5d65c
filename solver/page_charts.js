// infer page: the pictures, as inline SVG drawn from the compiled graph (serving.deployment names).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const svgEl = (tag, attrs, text) => {
  const e = document.createElementNS(SVG, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
};

// The serving record the charts read: the root record that has a decode step.
const OWNER = (() => {
  const n = NODES.find((m) => m.root && m.name.endsWith(".decode_step"));
  return n ? n.name.slice(0, -".decode_step".length) : null;
})();
const F = (name) => SLOT[OWNER + "." + name];
const has = (...names) => OWNER !== null && names.every((n) => F(n) !== undefined);

function axes(svg, w, h, pad, xs, ys, xlabel, ylabel, log) {
  const [x0, x1] = xs, [y0, y1] = ys;
  const sx = log.x ? (x) => pad.l + (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0)) * (w - pad.l - pad.r)
    : (x) => pad.l + (x - x0) / (x1 - x0) * (w - pad.l - pad.r);
  const sy = log.y ? (y) => h - pad.b - (Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) * (h - pad.t - pad.b)
    : (y) => h - pad.b - (y - y0) / (y1 - y0) * (h - pad.t - pad.b);
  svg.append(svgEl("rect", { x: pad.l, y: pad.t, width: w - pad.l - pad.r, height: h - pad.t - pad.b, class: "frame" }));
  const ticks = (lo, hi, isLog) => {
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo && (!isLog || lo > 0))) return [];
    if (isLog) { const out = []; for (let e = Math.ceil(Math.log10(lo)); e <= Math.floor(Math.log10(hi)); e++) out.push(Math.pow(10, e)); return out; }
    const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / 4 || 1)));
    const k = (hi - lo) / step > 8 ? 2 * step : step;
    const out = []; for (let t = Math.ceil(lo / k) * k; t <= hi + 1e-9; t += k) out.push(t); return out;
  };
  const label = (t) => (Math.abs(t) >= 1e4 || (Math.abs(t) < 1e-2 && t !== 0)) ? t.toExponential(0).replace("e+", "e") : String(Number(t.toPrecision(3)));
  for (const t of ticks(x0, x1, log.x)) {
    svg.append(svgEl("line", { x1: sx(t), x2: sx(t), y1: pad.t, y2: h - pad.b, class: "grid" }));
    svg.append(svgEl("text", { x: sx(t), y: h - pad.b + 14, class: "tick", "text-anchor": "middle" }, label(t)));
  }
  for (const t of ticks(y0, y1, log.y)) {
    svg.append(svgEl("line", { x1: pad.l, x2: w - pad.r, y1: sy(t), y2: sy(t), class: "grid" }));
    svg.append(svgEl("text", { x: pad.l - 4, y: sy(t) + 4, class: "tick", "text-anchor": "end" }, label(t)));
  }
  svg.append(svgEl("text", { x: (w + pad.l - pad.r) / 2, y: h - 4, class: "axis", "text-anchor": "middle" }, xlabel));
  svg.append(svgEl("text", { x: 12, y: (h + pad.t - pad.b) / 2, class: "axis", "text-anchor": "middle", transform: `rotate(-90 12 ${(h + pad.t - pad.b) / 2})` }, ylabel));
  return [sx, sy];
}

function chart(id, title) {
  const box = document.getElementById(id);
  box.textContent = "";
  box.append(Object.assign(document.createElement("h3"), { textContent: title }));
  const svg = svgEl("svg", { viewBox: "0 0 480 300", role: "img", "aria-label": title });
  box.append(svg);
  return svg;
}

function roofline(v) {
  if (!has("peak_flops", "memory_bandwidth", "ridge_point", "arithmetic_intensity", "decode_flops", "decode_step",
           "prefill_flops", "prefill_attention_flops", "prefill_time", "prefill_weight_bytes", "prefill_activation_bytes", "tp")) return;
  const peak = v[F("peak_flops")], bw = v[F("memory_bandwidth")], ridge = v[F("ridge_point")];
  const tp = v[F("tp")];
  const dI = v[F("arithmetic_intensity")];
  const dWork = v[F("decode_flops")] + v[F("decode_attention_flops")];
  const dPerf = dWork / v[F("decode_step")];
  const pWork = (v[F("prefill_flops")] + v[F("prefill_attention_flops")]) / tp;
  const pI = pWork / (v[F("prefill_weight_bytes")] + v[F("prefill_activation_bytes")]);
  const pPerf = pWork / v[F("prefill_time")];
  if (![peak, bw, ridge, dI, dPerf, pI, pPerf].every((x) => Number.isFinite(x) && x > 0)) return;
  const svg = chart("chart-roofline", "Roofline: decode and prefill against the ridge (per GPU)");
  const xs = [Math.pow(10, Math.floor(Math.log10(Math.min(dI, ridge, pI) / 3))), Math.pow(10, Math.ceil(Math.log10(Math.max(dI, ridge, pI) * 3)))];
  const T = 1e12;
  const ys = [Math.pow(10, Math.floor(Math.log10(Math.min(bw * xs[0], dPerf, pPerf) / T))), Math.pow(10, Math.ceil(Math.log10(peak * 2 / T)))];
  const [sx, sy] = axes(svg, 480, 300, { l: 52, r: 12, t: 10, b: 36 }, xs, ys, "arithmetic intensity (FLOP/B)", "TFLOPS", { x: true, y: true });
  const roof = [];
  for (let i = 0; i <= 60; i++) { const x = xs[0] * Math.pow(xs[1] / xs[0], i / 60); roof.push(`${sx(x)},${sy(Math.max(Math.min(peak, bw * x) / T, ys[0]))}`); }
  svg.append(svgEl("polyline", { points: roof.join(" "), class: "roof" }));
  svg.append(svgEl("line", { x1: sx(ridge), x2: sx(ridge), y1: sy(ys[0]), y2: sy(peak / T), class: "ridge" }));
  svg.append(svgEl("text", { x: sx(ridge) + 4, y: sy(peak / T) + 14, class: "note" }, `ridge ${formatNumber(ridge, false)} FLOP/B`));
  for (const [name, x, y, cls] of [["decode", dI, dPerf, "pt-decode"], ["prefill", pI, pPerf, "pt-prefill"]]) {
    if (!(x > 0 && y > 0)) continue;
    svg.append(svgEl("circle", { cx: sx(x), cy: sy(Math.max(y / T, ys[0])), r: 6, class: cls }));
    const right = sx(x) > 330;          // labels near the right edge go to the point's left
    svg.append(svgEl("text", { x: sx(x) + (right ? -9 : 9), y: sy(Math.max(y / T, ys[0])) + 4, class: "note", "text-anchor": right ? "end" : "start" },
      `${name} ${formatNumber(y / T, false)} TFLOPS`));
  }
}

function latencyThroughput(v) {
  if (!has("batch", "itl", "throughput")) return;
  const batch = F("batch");
  if (NODES[batch].kind === "derived") return;
  const svg = chart("chart-latency", "Inter-token latency against throughput as batch varies (shaded: a requirement breaks)");
  const current = v[batch];
  const top = Math.max(256, Math.pow(2, Math.ceil(Math.log2(Math.max(current, 1) * 4))));
  const batches = Array.from(new Set(Array.from(geomspace(1, top, 48), Math.round)));
  const own = REQS.filter((r) => r.owner === OWNER);
  const points = batches.map((b) => {
    const w = compute({ [batch]: b });
    return { b: b, x: w[F("throughput")], y: w[F("itl")] * 1e3, ok: own.every((r) => requirement(r, w).holds) };
  }).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.x > 0 && p.y > 0);
  if (!points.length) return;
  const slo = REQS.filter((r) => r.node === F("itl") && r.sense > 0).map((r) => r.rhsFn(v) * 1e3);
  const xs = [0, Math.max(...points.map((p) => p.x)) * 1.05];
  const ys = [0, Math.max(...points.map((p) => p.y), ...slo) * 1.1];
  const [sx, sy] = axes(svg, 480, 300, { l: 52, r: 12, t: 10, b: 36 }, xs, ys, "throughput (token/s)", "ITL (ms)", { x: false, y: false });
  // Infeasible regions: every batch where some requirement breaks, shaded over its throughput span.
  points.forEach((p, i) => {
    if (p.ok) return;
    const a = i > 0 ? (points[i - 1].x + p.x) / 2 : p.x, b = i + 1 < points.length ? (points[i + 1].x + p.x) / 2 : p.x;
    svg.append(svgEl("rect", { x: Math.min(sx(a), sx(b)), y: sy(ys[1]), width: Math.max(Math.abs(sx(b) - sx(a)), 2), height: sy(0) - sy(ys[1]), class: "infeasible" }));
  });
  for (const s of slo) {
    svg.append(svgEl("line", { x1: sx(0), x2: sx(xs[1]), y1: sy(s), y2: sy(s), class: "slo" }));
    svg.append(svgEl("text", { x: sx(0) + 4, y: sy(s) - 4, class: "note" }, `SLO: itl ≤ ${formatNumber(s)} ms`));
  }
  svg.append(svgEl("polyline", { points: points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" "), class: "curve" }));
  for (const p of points) svg.append(svgEl("circle", { cx: sx(p.x), cy: sy(p.y), r: 2.5, class: p.ok ? "pt-ok" : "pt-bad" }));
  const here = { x: v[F("throughput")], y: v[F("itl")] * 1e3 };
  if (Number.isFinite(here.x) && Number.isFinite(here.y)) {
    svg.append(svgEl("circle", { cx: sx(here.x), cy: sy(here.y), r: 6, class: "pt-here" }));
    svg.append(svgEl("text", { x: sx(here.x) + 8, y: sy(here.y) - 8, class: "note" }, `batch ${formatNumber(current)}`));
  }
}

function memory(v) {
  if (!has("weight_memory", "kv_memory", "activation_memory", "runtime_memory", "usable_memory", "device_memory")) return;
  const box = document.getElementById("chart-memory");
  box.textContent = "";
  box.append(Object.assign(document.createElement("h3"), { textContent: "Memory per GPU" }));
  const dev = v[F("device_memory")], usable = v[F("usable_memory")];
  const parts = [["weights", v[F("weight_memory")]], ["KV cache", v[F("kv_memory")]], ["activations", v[F("activation_memory")]], ["runtime", v[F("runtime_memory")]]];
  const used = parts.reduce((a, p) => a + p[1], 0);
  parts.push(["free", Math.max(usable - used, 0)], ["reserved", Math.max(dev - Math.max(usable, used), 0)]);
  const total = Math.max(dev, used);
  const svg = svgEl("svg", { viewBox: "0 0 480 110", role: "img", "aria-label": "memory breakdown" });
  let x = 10;
  const meta = NODES[F("memory_per_gpu")] || { dim: "B" };      // shown in the spec's unit (GiB)
  parts.forEach(([name, b], k) => {
    const w = Math.max(0, b / total * 460);
    svg.append(svgEl("rect", { x: x, y: 10, width: w, height: 36, class: "mem m" + k }));
    x += w;
    svg.append(svgEl("rect", { x: 10 + (k % 3) * 155, y: 58 + Math.floor(k / 3) * 22, width: 12, height: 12, class: "mem m" + k }));
    svg.append(svgEl("text", { x: 26 + (k % 3) * 155, y: 68 + Math.floor(k / 3) * 22, class: "note" }, `${name} ${show(b, meta).text}`));
  });
  if (used > usable) svg.append(svgEl("line", { x1: 10 + usable / total * 460, x2: 10 + usable / total * 460, y1: 4, y2: 52, class: "slo" }));
  box.append(svg);
}

function costAcrossGpus(v) {
  if (!has("gpu", "cost_per_million_tokens")) return;
  const g = F("gpu");
  if (NODES[g].kind !== "choice") return;
  const svg = chart("chart-cost", "Cost per million output tokens on every GPU, this workload (grey ✗: breaks a requirement)");
  const own = REQS.filter((r) => r.owner === OWNER);
  const rows = NODES[g].values.map((val, k) => {
    const w = compute({ [g]: val });
    return { label: NODES[g].options[k].replace(/^gpus\./, ""), cost: w[F("cost_per_million_tokens")],
             ok: own.every((r) => requirement(r, w).holds), current: val === v[g] };
  }).filter((r) => Number.isFinite(r.cost) && r.cost > 0).sort((a, b) => (a.ok === b.ok ? a.cost - b.cost : a.ok ? -1 : 1));
  const h = 14 + rows.length * 16;
  svg.setAttribute("viewBox", `0 0 480 ${h}`);
  const maxCost = Math.max(...rows.map((r) => r.cost));
  rows.forEach((r, k) => {
    const y = 6 + k * 16;
    svg.append(svgEl("text", { x: 112, y: y + 11, class: "tick" + (r.current ? " current" : ""), "text-anchor": "end" }, r.label));
    svg.append(svgEl("rect", { x: 116, y: y, width: Math.max(1, r.cost / maxCost * 290), height: 12, class: r.ok ? "bar-ok" : "bar-bad" }));
    svg.append(svgEl("text", { x: 120 + r.cost / maxCost * 290, y: y + 11, class: "note" }, `${show(r.cost, { dim: "USD", unit: "USD", factor: 1 }).text}${r.ok ? "" : " ✗"}`));
  });
}

function renderCharts(v) {
  document.querySelectorAll(".chart").forEach((c) => { c.textContent = ""; });
  roofline(v);
  latencyThroughput(v);
  memory(v);
  costAcrossGpus(v);
  document.querySelectorAll(".chart").forEach((c) => { c.hidden = !c.childElementCount; });
  document.querySelector(".charts").hidden = !document.querySelector(".chart:not([hidden])");
}
