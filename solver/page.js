// infer page: the spec's graph, compiled to `evaluate(v)` by solver/page.py, driven by controls.
// Display follows solver/quantities.py; goals follow solver/optimize.py. No network, no library.
"use strict";

const NODES = PAGE.nodes;
const N = NODES.length;
const SLOT = {};
NODES.forEach((n, i) => { SLOT[n.name] = i; });
const state = new Float64Array(N);          // inputs, choices and unknowns as the controls hold them
NODES.forEach((n, i) => { if (n.value !== undefined) state[i] = n.value; });
NODES.forEach((n, i) => { if (n.kind === "unknown") state[i] = 1; });
const fn = (body) => new Function("v", "return " + body + ";");
// The graph as one function over the slots of `v`, formulas in topological order (slot order).
const compileSlots = (slots) => new Function("v", slots.map((i) => `v[${i}] = ${FORMULA[i]};`).join("\n"));
const DERIVED = Object.keys(FORMULA).map(Number).sort((a, b) => a - b);
const evaluate = compileSlots(DERIVED);
const REQS = PAGE.requirements.map((r) => Object.assign({}, r, {
  truthFn: fn(r.truth), lhsFn: r.lhs ? fn(r.lhs) : null, rhsFn: r.rhs ? fn(r.rhs) : null,
}));
const GOALS = PAGE.goals.map((g) => Object.assign({}, g, { objFn: fn(g.objective) }, movedBy(g)));

// What a goal's unknown moves: the formulas downstream of it that its requirements or objective read.
function movedBy(goal) {
  if (goal.unknowns.length !== 1) return {};
  const down = new Set([goal.unknowns[0]]);
  for (const i of DERIVED) if ((NODES[i].deps || []).some((d) => down.has(d))) down.add(i);
  const need = new Set();
  const stack = goal.deps.concat(...goal.scope.map((k) => PAGE.requirements[k].deps));
  while (stack.length) {
    const i = stack.pop();
    if (need.has(i)) continue;
    need.add(i);
    for (const d of NODES[i].deps || []) stack.push(d);
  }
  return { moved: compileSlots(DERIVED.filter((i) => down.has(i) && need.has(i))), down: down };
}

function compute(overrides) {
  const v = Float64Array.from(state);
  if (overrides) for (const k in overrides) v[k] = overrides[k];
  evaluate(v);
  return v;
}

// --- numbers for people (solver/quantities.py) -------------------------------------------

function stripZeros(s) { return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s; }

function pyG(x, p) {            // Python's format(x, ".{p}g")
  if (x === 0) return "0";
  const parts = x.toExponential(p - 1).split("e");
  const exp = parseInt(parts[1], 10);
  if (exp < -4 || exp >= p) {
    return stripZeros(parts[0]) + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
  }
  return stripZeros(x.toFixed(Math.max(0, p - 1 - exp)));
}

// Python prints an exact rational in full when its decimal ends within 12 digits. A double cannot say
// whether it is exact, so: its shortest form when that has at most 12 digits, else a decimal of at
// most 10 digits it is within rounding error of (a random value lands that close one time in 10^5).
function exactDecimal(x) {
  const a = Math.abs(x);
  let text = plainDecimal(String(a));
  if (text === null) {
    const near = a.toPrecision(10);
    if (Math.abs(Number(near) - a) > 1e-14 * a) return null;
    text = plainDecimal(near);
  }
  return text === null ? null : (x < 0 ? "-" : "") + text;
}

function plainDecimal(s) {      // "1.5e+3" → "1500"; null past 12 significant digits
  const [mant, ex] = s.split(/e/i);
  const exp = ex ? parseInt(ex, 10) : 0;
  const [ip, fp = ""] = mant.split(".");
  let digits = ip + fp;
  let point = ip.length + exp;
  if (point > digits.length) digits += "0".repeat(point - digits.length);
  if (point <= 0) { digits = "0".repeat(1 - point) + digits; point = 1; }
  const whole = digits.slice(0, point).replace(/^0+(?=\d)/, "");
  const frac = digits.slice(point).replace(/0+$/, "");
  if ((whole + frac).replace(/^0+/, "").length > 12) return null;
  return frac ? whole + "." + frac : whole;
}

function formatNumber(x, exactOk) {
  if (!Number.isFinite(x)) return "undefined";
  if (x === 0) return "0";
  if (exactOk !== false) { const e = exactDecimal(x); if (e !== null) return e; }
  const a = Math.abs(x);
  if (a >= 1e15 || a < 1e-6) return pyG(x, 6);
  if (a >= 1e6) return a >= 1e9 ? pyG(x, 6) : String(Math.round(x));
  const mag = Math.floor(Math.log10(a));
  return stripZeros(x.toFixed(Math.max(2, 5 - mag)));
}

function pickUnit(x, dim) {
  const ladder = PAGE.ladders[dim] || [["", 1]];
  let best = ladder[0];
  for (const step of ladder) if (Math.abs(x) >= step[1] * 0.9999999) best = step;
  return best;
}

// A canonical value in `unit` (factor given) or a readable unit: {value, unit, text}.
function show(x, meta, exactOk) {
  if (meta.text) return { value: null, unit: "", text: PAGE.texts[x] !== undefined ? PAGE.texts[x] : String(x) };
  if (meta.bool) return { value: null, unit: "", text: x ? "true" : "false" };
  if (!Number.isFinite(x)) return { value: NaN, unit: "", text: "undefined" };
  let unit = meta.factor ? meta.unit : null;
  let factor = meta.factor || 1;
  if (unit === null) {
    if (!meta.dim) return { value: x, unit: "", text: formatNumber(x, exactOk) };
    [unit, factor] = pickUnit(x, meta.dim);
  }
  const scaled = x / factor;
  const num = formatNumber(scaled, exactOk);
  const text = unit === "%" ? num + " %" : (unit === "" || unit === "count") ? num : (num + " " + unit).trimEnd();
  return { value: scaled, unit: unit === "count" ? "" : unit, text: text };
}

const showNode = (i, v) => show(v[i], NODES[i]);
// Names relative to the spec's record (`ttft` in `chat`), in full when the spec has several records.
const RECORDS = new Set(NODES.filter((n) => n.root && n.name.includes(".")).map((n) => n.name.split(".")[0]));
const short = (name) => (RECORDS.size > 1 ? name : name.replace(/^[^.]+\./, ""));

// --- requirements (solver/optimize.py: requirement_entry) -------------------------------

function requirement(r, v) {
  const truth = r.truthFn(v);
  if (!r.lhsFn) return { holds: Boolean(truth), margin: "" };
  const lv = r.lhsFn(v), rv = r.rhsFn(v);
  const meta = { dim: r.dim, unit: r.unit, factor: r.factor };
  const lt = show(lv, meta).text, rt = show(rv, meta).text;
  const diff = (rv - lv) * (r.sense >= 0 ? 1 : -1);
  let over = show(Math.abs(diff), meta, false);
  if (over.value !== null && Math.abs(over.value) > 0 && Math.abs(over.value) < 0.01) {
    over = show(Math.abs(diff), { dim: r.dim }, false);
  }
  const pct = rv ? Math.abs(diff) / Math.abs(rv) * 100 : Infinity;
  const holds = Boolean(truth);
  let margin;
  if (r.sense === 0) margin = holds ? "" : `${lt} is not ${rt} (off by ${over.text})`;
  else if (!holds) {
    margin = `${lt} is ${over.text}${Number.isFinite(pct) ? ` (${pyG(pct, 3)} %)` : ""} ${r.sense > 0 ? "over" : "short of"} ${rt}`;
  } else margin = `${over.text} to spare`;
  return { holds: holds, margin: margin, lhs: lv, rhs: rv };
}

// --- goals (solver/optimize.py: enumerate choices, grid and bisection for one unknown) ----

function geomspace(a, b, n) {
  const la = Math.log10(a), lb = Math.log10(b), step = (lb - la) / (n - 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.pow(10, la + i * step);
  out[0] = a; out[n - 1] = b;
  return out;
}

// Each requirement: [margin, tolerance scale, sense, strict]. `loose`: equalities hold to a relative
// 1e-9 once an equality has pinned the unknown (a bisected root never hits one exactly).
function margins(reqs, v, loose) {
  return reqs.map((r) => {
    if (!r.lhsFn) return [r.truthFn(v) ? 1 : -1, 0, 1, false];
    const l = r.lhsFn(v), rr = r.rhsFn(v);
    const scale = Math.abs(rr) + Math.abs(l);
    const m = r.sense > 0 ? rr - l : r.sense < 0 ? l - rr : -Math.abs(rr - l) + (loose ? 1e-9 * scale : 0);
    return [m, scale, r.sense, r.strict];
  });
}

function signChangeRoots(f, grid) {     // solver/optimize.py: sign_change_roots
  const ys = Array.from(grid, f);
  const roots = [];
  for (let i = 0; i + 1 < grid.length; i++) {
    const a = ys[i], b = ys[i + 1];
    if (!(Number.isFinite(a) && Number.isFinite(b))) continue;
    if (a === 0) roots.push(grid[i]);
    else if (a * b < 0) {
      let lo = grid[i], hi = grid[i + 1];
      for (let it = 0; it < 200; it++) {
        const mid = (lo + hi) / 2;
        if ((f(mid) < 0) === (a < 0)) lo = mid; else hi = mid;
        if (hi - lo <= 1e-15 * hi) break;
      }
      roots.push((lo + hi) / 2);
    }
  }
  return roots;
}

function solveOne(goal, reqs, fixed, varSlot) {
  const obj = (v) => goal.objFn(v);
  if (varSlot === null) {
    const v = compute(fixed);
    const o = obj(v);
    const broken = reqs.find((r) => !requirement(r, v).holds);
    return { feasible: !broken && Number.isFinite(o), objective: o, broken: broken, v: v };
  }
  const whole = NODES[varSlot].whole;
  const G = PAGE.grid;
  let grid = geomspace(whole ? 1 : G.x_min, whole ? G.whole_max : G.x_max, G.points);
  if (whole) grid = Float64Array.from(new Set(Array.from(grid, Math.round))).sort();
  const base = compute(Object.assign({}, fixed, { [varSlot]: 1 }));
  const at = (x) => { base[varSlot] = x; goal.moved(base); return base; };
  // An equality on the unknown pins it: its roots are the only candidates.
  const pins = reqs.filter((r) => r.sense === 0 && r.lhsFn && r.deps.some((d) => goal.down.has(d)));
  if (pins.length) {
    const r = pins[0];
    let roots = signChangeRoots((x) => { const v = at(x); return r.rhsFn(v) - r.lhsFn(v); }, grid);
    if (whole) roots = Array.from(new Set(roots.flatMap((x) => [Math.floor(x), Math.ceil(x)]).filter((x) => x >= 1)));
    grid = roots.length ? Float64Array.from(roots).sort() : grid.slice(0, 1);
  }
  const loose = pins.length > 0;
  const ok = (x, slack) => {
    const v = at(x);
    return margins(reqs, v, loose).every(([m, scale, sense, strict]) => {
      const tol = (sense === 0 ? 1e-12 : slack) * scale;
      return Number.isFinite(m) && (strict ? m > tol : m >= -tol);
    });
  };
  const feasible = Array.from(grid, (x) => ok(x, 1e-12));
  if (!feasible.some(Boolean)) return { feasible: false, objective: NaN, reason: "no value of `" + NODES[varSlot].name + "` satisfies every requirement" };
  const sign = goal.sense === "maximize" ? 1 : -1;
  let k = -1, bestScore = -Infinity;
  grid.forEach((x, i) => {
    if (!feasible[i]) return;
    const o = obj(at(x));
    const s = Number.isFinite(o) ? sign * o : -Infinity;
    if (k < 0 || s > bestScore) { k = i; bestScore = s; }
  });
  if (k === grid.length - 1 && !loose) return { feasible: false, objective: NaN, reason: `goal \`${goal.name}\` is unbounded: no requirement limits \`${NODES[varSlot].name}\`` };
  const edgeOk = whole ? (x) => ok(x, 1e-12) : (x) => ok(x, 0);
  let best;
  const up = k + 1 < grid.length && !feasible[k + 1];
  if (up || (k > 0 && !feasible[k - 1])) {
    let lo = grid[k], hi = up ? grid[k + 1] : grid[k - 1];
    for (let it = 0; it < 200; it++) {
      if (whole && Math.abs(hi - lo) <= 1) break;
      if (!whole && Math.abs(hi - lo) <= 1e-13 * Math.max(Math.abs(lo), Math.abs(hi))) break;
      let mid = whole ? Math.floor((lo + hi) / 2) : (lo + hi) / 2;
      if (whole && (mid === lo || mid === hi)) mid = lo + (hi > lo ? 1 : -1);
      if (edgeOk(mid)) lo = mid; else hi = mid;
    }
    best = lo;
  } else {
    const a = grid[Math.max(k - 1, 0)], b = grid[Math.min(k + 1, grid.length - 1)];
    let top = -Infinity;
    for (let i = 0; i < 2001; i++) {
      let x = a + (b - a) * i / 2000;
      if (whole) x = Math.round(x);
      const s = sign * obj(at(x));
      if (ok(x, 1e-12) && s > top) { top = s; best = x; }
    }
  }
  const step = whole ? 1 : Math.max(Math.abs(best) * 1e-9, 1e-12);
  const beyond = up ? best + step : best - step;
  const past = margins(reqs, at(beyond), loose);
  const bi = past.findIndex(([m]) => !(m >= 0));
  const v = Float64Array.from(at(best));
  return { feasible: true, x: best, objective: goal.target === varSlot ? best : obj(v), binding: bi >= 0 ? reqs[bi] : null, v: v };
}

function solveGoal(goal) {
  if (goal.unknowns.length > 1) {
    return { error: `goal \`${goal.name}\` leaves ${goal.unknowns.length} unknowns free; hold all but one` };
  }
  const reqs = goal.scope.map((i) => REQS[i]);
  const varSlot = goal.unknowns.length ? goal.unknowns[0] : null;
  let combos = [{}];
  for (const c of goal.choices) {
    combos = combos.flatMap((f) => NODES[c].values.map((val) => Object.assign({}, f, { [c]: val })));
  }
  if (combos.length > 4096) return { error: "more than 4096 combinations of choices: fix some with --set" };
  const sign = goal.sense === "maximize" ? 1 : -1;
  const outcomes = combos.map((fixed) => Object.assign(solveOne(goal, reqs, fixed, varSlot), { fixed: fixed }));
  let best = null;
  for (const o of outcomes) if (o.feasible && (best === null || sign * o.objective > sign * best.objective)) best = o;
  const label = (o) => goal.choices.map((c) => NODES[c].options[NODES[c].values.indexOf(o.fixed[c])]).join(", ");
  const meta = varSlot !== null && goal.target === varSlot ? NODES[varSlot]
    : { dim: goal.dim, unit: goal.unit, factor: goal.factor };
  const candidates = goal.choices.length ? outcomes.map((o) => ({
    option: label(o), feasible: o.feasible, text: Number.isFinite(o.objective) ? show(o.objective, meta).text : "?",
    note: o.feasible ? (o.binding ? "binding: " + o.binding.text : "") : (o.reason || (o.broken ? "breaks " + o.broken.text : "")),
    objective: o.objective,
  })).sort((a, b) => (a.feasible === b.feasible ? sign * (b.objective - a.objective) || 0 : a.feasible ? -1 : 1)) : [];
  if (best === null) {
    return { error: "no solution: " + (outcomes[0].reason || (outcomes[0].broken ? "requirement `" + outcomes[0].broken.text + "`" : "no option satisfies every requirement")), candidates: candidates };
  }
  return { answer: show(best.objective, meta), x: best.x, fixed: best.fixed, binding: best.binding ? best.binding.text : null,
           chosen: label(best), candidates: candidates, varSlot: varSlot };
}

// --- the page --------------------------------------------------------------------------

const $ = (sel, root) => (root || document).querySelector(sel);
const el = (tag, attrs, ...kids) => {
  const e = document.createElement(tag);
  for (const k in attrs || {}) {
    if (k.startsWith("on")) e.addEventListener(k.slice(2), attrs[k]); else e.setAttribute(k, attrs[k]);
  }
  for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
  return e;
};
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;");

let selected = null;        // the quantity whose derivation is shown

function sliderPos(n, shown) {
  const s = n.slider;
  if (s.scale === "log") return 1000 * Math.log(Math.max(shown, s.min) / s.min) / Math.log(s.max / s.min);
  return 1000 * (shown - s.min) / (s.max - s.min);
}

function sliderValue(n, pos) {
  const s = n.slider;
  let x = s.scale === "log" ? s.min * Math.pow(s.max / s.min, pos / 1000) : s.min + (s.max - s.min) * pos / 1000;
  if (s.whole) x = Math.round(x);
  else x = Number(x.toPrecision(3));
  return x;
}

function numberControl(i) {
  const n = NODES[i];
  const factor = n.factor || 1;
  const unit = n.factor ? n.unit : "";
  const box = el("input", { type: "number", step: "any", "data-input": n.name, "aria-label": short(n.name) });
  const range = el("input", { type: "range", min: 0, max: 1000, step: 1, "aria-label": short(n.name) + " slider" });
  const sync = () => { box.value = String(Number((state[i] / factor).toPrecision(12))); range.value = sliderPos(n, state[i] / factor); };
  range.addEventListener("input", () => { state[i] = sliderValue(n, Number(range.value)) * factor; box.value = String(Number((state[i] / factor).toPrecision(12))); update(); });
  box.addEventListener("change", () => { const x = Number(box.value); if (Number.isFinite(x)) { state[i] = x * factor; range.value = sliderPos(n, x); update(); } });
  sync();
  n.sync = sync;
  return el("label", { class: "control" }, el("span", { class: "name" }, short(n.name)), range, box, el("span", { class: "unit" }, unit === "count" ? "" : unit));
}

function choiceControl(i) {
  const n = NODES[i];
  const sel = el("select", { "data-input": n.name, "aria-label": short(n.name) });
  n.options.forEach((label, k) => { const o = el("option", { value: String(n.values[k]) }, label); sel.append(o); });
  sel.value = String(state[i]);
  sel.addEventListener("change", () => { state[i] = Number(sel.value); update(); });
  return el("label", { class: "control select" }, el("span", { class: "name" }, short(n.name)), sel);
}

function unknownControl(i) {
  const n = NODES[i];
  n.slider = { scale: "log", min: n.whole ? 1 : 1e-3, max: n.whole ? 4096 : 1e6, whole: n.whole };
  return numberControl(i);
}

function buildControls() {
  const main = $("#controls-main"), more = $("#controls-more");
  NODES.forEach((n, i) => {
    if (!n.root) return;
    let c = null;
    if (n.kind === "choice") c = choiceControl(i);
    else if (n.kind === "unknown") c = unknownControl(i);
    else if (n.kind === "input" && n.slider) c = numberControl(i);
    if (c) (n.own || n.kind !== "input" ? main : more).append(c);
  });
  more.closest("details").hidden = !more.childElementCount;
}

function renderGoals(v) {
  const box = $("#goals");
  box.textContent = "";
  if (!GOALS.length) { box.closest("section").hidden = true; return; }
  for (const g of GOALS) {
    const r = solveGoal(g);
    g.last = r;
    const head = el("div", { class: "goal", "data-goal": g.name });
    head.append(el("h3", {}, `${g.name} = ${g.sense} ${g.text}`));
    if (r.error) head.append(el("p", { class: "bad", "data-answer": "" }, r.error));
    else {
      head.append(el("p", { class: "answer" }, el("b", { "data-answer": r.answer.text }, `${g.name} = ${r.answer.text}`),
        r.binding ? el("span", { class: "binding" }, `  [binding: ${r.binding}]`) : null));
      if (r.chosen) head.append(el("p", {}, "chosen: " + r.chosen));
      if (r.varSlot !== null) {
        head.append(el("button", { type: "button", onclick: () => { state[r.varSlot] = r.x; NODES[r.varSlot].sync(); update(); } },
          `set ${short(NODES[r.varSlot].name)} to the answer`));
      }
    }
    if (r.candidates && r.candidates.length) {
      const t = el("table", { class: "candidates" }, el("tr", {}, el("th", {}, "option"), el("th", {}, "objective"), el("th", {}, "")));
      for (const c of r.candidates) t.append(el("tr", { class: c.feasible ? "" : "broken" }, el("td", {}, c.option), el("td", {}, c.text), el("td", {}, c.note)));
      head.append(t);
    }
    box.append(head);
  }
}

function renderRequirements(v) {
  const list = $("#requirements");
  list.textContent = "";
  for (const r of REQS) {
    const e = requirement(r, v);
    list.append(el("li", { class: e.holds ? "ok" : "bad", "data-requirement": r.text, "data-holds": String(e.holds) },
      el("span", { class: "mark" }, e.holds ? "✓" : "✗"), el("code", {}, (r.owner ? r.owner + ": " : "") + r.text),
      el("span", { class: "margin", "data-margin": "" }, e.margin)));
  }
}

function renderQuantities(v) {
  const body = $("#quantities");
  body.textContent = "";
  NODES.forEach((n, i) => {
    if (!n.root || n.kind === "input" && !n.slider && n.value === undefined) return;
    const s = n.kind === "choice" ? { value: null, text: n.options[n.values.indexOf(v[i])] || "?" } : showNode(i, v);
    const row = el("tr", { "data-name": n.name, "data-value": s.value === null ? "" : String(s.value), class: selected === i ? "sel" : "" },
      el("td", {}, el("a", { href: "#derivation", onclick: (ev) => { ev.preventDefault(); selected = i; update(); } }, short(n.name))),
      el("td", { class: "num" }, s.text));
    body.append(row);
  });
}

function renderDerivation(v) {
  const box = $("#derivation-body");
  box.textContent = "";
  if (selected === null) { box.append(el("p", {}, "Select a quantity to see its formula with the current values.")); return; }
  const n = NODES[selected];
  const result = showNode(selected, v).text;
  box.append(el("h3", {}, short(n.name) + " = " + result));
  if (!n.formula) { box.append(el("p", {}, n.kind === "input" ? "an input of the spec" : n.kind)); return; }
  const filled = n.template.replace(/@(\d+)@/g, (_, k) => { const t = showNode(Number(k), v).text; return t.includes(" ") && t.includes("/") ? "(" + t + ")" : t; });
  box.append(el("pre", { "data-derivation": n.name }, `${short(n.name)} = ${n.formula}\n${" ".repeat(short(n.name).length)} = ${filled}\n${" ".repeat(short(n.name).length)} = ${result}`));
  const deps = (n.deps || []).filter((d) => NODES[d].kind === "derived");
  if (deps.length) {
    const p = el("p", {}, "reads: ");
    deps.forEach((d) => p.append(el("a", { href: "#derivation", onclick: (ev) => { ev.preventDefault(); selected = d; update(); } }, NODES[d].name), " "));
    box.append(p);
  }
}

let pending = false;
function update() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; render(); });
}

function render() {
  const v = compute();
  renderRequirements(v);
  renderGoals(v);
  renderQuantities(v);
  renderDerivation(v);
  if (typeof renderCharts === "function") renderCharts(v);
  document.body.dataset.ready = String(Number(document.body.dataset.ready || 0) + 1);
}

function start() {
  buildControls();
  // An unknown starts at its goal's answer, so the page opens on the plan the spec asks for.
  for (const g of GOALS) {
    const r = solveGoal(g);
    if (r.varSlot !== null && r.varSlot !== undefined && r.x !== undefined) {
      const n = NODES[r.varSlot];
      state[r.varSlot] = r.x;
      const shown = r.x / (n.factor || 1);         // the slider runs in the display unit
      if (n.slider && shown > 0) {
        n.slider.max = Math.max(n.slider.max, 4 * shown);
        n.slider.min = Math.min(n.slider.min, shown / 64);
      }
      if (n.sync) n.sync();
    }
    for (const c in r.fixed || {}) { state[c] = r.fixed[c]; const s = document.querySelector(`select[data-input="${NODES[c].name}"]`); if (s) s.value = String(r.fixed[c]); }
  }
  // Open on the quantity that limits the first goal (its binding requirement's side), else the first result.
  const first = GOALS.length ? solveGoal(GOALS[0]) : null;
  const binding = first && first.binding ? REQS.find((r) => r.text === first.binding) : null;
  selected = binding && binding.side !== undefined ? binding.side
    : NODES.findIndex((n) => n.root && n.kind === "derived" && n.formula);
  if (selected < 0) selected = null;
  render();
}

window.inferPage = { compute: compute, solveGoal: (name) => solveGoal(GOALS.find((g) => g.name === name)), state: state, SLOT: SLOT };
document.addEventListener("DOMContentLoaded", start);
