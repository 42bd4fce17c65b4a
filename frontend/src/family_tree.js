// The family tree of the models (app_pages/timeline.py): an SVG built element by element.
//
// The page sends everything to draw in `data`: lanes, models (x on 0..1 along a time axis that
// kg/family.py computed), improves-on edges (drawn from the model improved on to the model that
// improves on it, with an arrowhead there), tooltips as lines of text, axis ticks, the break, the
// legend and every word. Nothing here holds interface text, and no text is ever parsed as markup:
// elements come from createElementNS/createElement and text goes in with textContent.
//
// Layout here, in CSS pixels: the lane names on the left (wrapped), the axis on top, then each
// lane's models on as many rows as keep every label clear of every other label and dot (greedy,
// by date); a label goes right of its dot, or left of it at the right edge. The drawing is the
// component's width, so it never needs a horizontal scroll; it is redrawn when that width changes.
//
// Once drawn, the root (data-testid="plm-family-tree") carries data-drawn: JSON with each label's
// on-screen box (getBoundingClientRect, viewport CSS pixels), each edge and whether it has its
// arrowhead, and settled: true. Clicking (or Enter on) a model sends setTriggerValue("node_clicked", id).
// The two buttons export the same SVG, standalone (fonts and styles set on its elements), and a PNG
// rasterised here from that SVG through an Image and a canvas.

const SVG_NS = "http://www.w3.org/2000/svg";
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif';
const LABEL_PX = 13;        // model labels
const LANE_PX = 13;         // lane names
const TICK_PX = 12;         // axis labels
const LEGEND_PX = 12;
const DOT_R = 6;
const PIP_R = 3.5;
const ROW_H = 26;
const LANE_PAD = 7;
const AXIS_H = 44;
const GAP = 8;              // between two labels on a row
const LANE_NAME_MAX = 150;  // the lane names' column, at most
const EDGE = "#8d8d8d";
const EDGE_HI = "#1f1f1f";

function el(tag, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function html(tag, attrs = {}, parent = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function textAttrs(size, extra = {}) {
  return { "font-family": FONT, "font-size": size, ...extra };
}

const CSS = `
.plm-ft { position: relative; font-family: ${FONT}; color: #262730; }
.plm-ft-bar { display: flex; gap: 8px; justify-content: flex-end; margin: 0 0 6px 0; }
.plm-ft-bar button { font: 13px ${FONT}; padding: 4px 10px; border: 1px solid #c8c8cc; border-radius: 6px;
  background: #fff; color: #262730; cursor: pointer; }
.plm-ft-bar button:hover, .plm-ft-bar button:focus-visible { border-color: #ff4b4b; color: #ff4b4b; }
.plm-ft svg { display: block; max-width: 100%; }
.plm-ft .node { cursor: pointer; }
.plm-ft .node:focus { outline: none; }
.plm-ft .node:focus-visible .dot, .plm-ft .node.hi .dot { stroke: #1f1f1f; stroke-width: 2.5; }
.plm-ft .node:focus-visible .label, .plm-ft .node.hi .label { text-decoration: underline; }
.plm-ft .edge .hit { cursor: help; }
.plm-ft-tip { position: absolute; z-index: 10; max-width: 440px; padding: 8px 10px; background: #fff;
  border: 1px solid #c8c8cc; border-radius: 6px; box-shadow: 0 2px 10px rgba(0,0,0,.15);
  font: 13px/1.35 ${FONT}; pointer-events: none; white-space: normal; overflow-wrap: anywhere; }
.plm-ft-tip .head { font-weight: 700; }
.plm-ft-tip .sub { font-weight: 600; margin-top: 4px; }
.plm-ft-tip .item { padding-left: 4px; }
.plm-ft-tip .note { color: #6b6b76; font-size: 12px; margin-top: 4px; }
`;

// Greedy word wrap of `text` to `maxW` px, measured with `measure`; a word too long is cut by characters.
function wrap(text, maxW, measure) {
  const lines = [];
  let line = "";
  for (const word of String(text).split(/\s+/).filter(Boolean)) {
    const next = line ? line + " " + word : word;
    if (measure(next) <= maxW) { line = next; continue; }
    if (line) lines.push(line);
    line = "";
    let rest = word;
    while (measure(rest) > maxW && rest.length > 1) {
      let n = rest.length - 1;
      while (n > 1 && measure(rest.slice(0, n)) > maxW) n--;
      lines.push(rest.slice(0, n));
      rest = rest.slice(n);
    }
    line = rest;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [""];
}

// An edge from the dot at (xs, ys) to the dot at (xt, yt): down (or up) from the source along the
// trunk x `tx` (the source's x, or a little left of it when that would cross a dot or label), a
// rounded corner, then along the target's row into the left side of its dot, where the arrowhead ends.
function elbow(xs, ys, xt, yt, tx = xs) {
  const dy = yt - ys;
  const dx = xt - xs;
  if (Math.abs(dy) < 1) return `M${xs + Math.sign(dx || 1) * (DOT_R + 1)},${ys} L${xt - Math.sign(dx || 1) * (DOT_R + 2.5)},${yt}`;
  const sy = Math.sign(dy);
  if (Math.abs(dx) < DOT_R + 10) return `M${xs},${ys + sy * (DOT_R + 1)} L${xt},${yt - sy * (DOT_R + 2.5)}`;
  const sx = Math.sign(xt - tx);
  const r = Math.min(12, Math.abs(dy) / 2, Math.abs(xt - tx) / 2);
  let d = `M${xs},${ys + sy * (DOT_R + 1)} `;
  if (tx !== xs) {   // a jog to the trunk in the gap below (or above) the source's row
    const yj = ys + sy * (ROW_H / 2);
    const q = Math.min(4, Math.abs(xs - tx) / 2);
    const jx = Math.sign(tx - xs);
    d += `L${xs},${yj - sy * q} Q${xs},${yj} ${xs + jx * q},${yj} L${tx - jx * q},${yj} Q${tx},${yj} ${tx},${yj + sy * q} `;
  }
  return d + `L${tx},${yt - sy * r} Q${tx},${yt} ${tx + sx * r},${yt} L${xt - sx * (DOT_R + 2.5)},${yt}`;
}

function overlaps(a, b, gap = 0) {
  return a[0] < b[1] + gap && b[0] < a[1] + gap;
}

function draw(root, data, svgHolder, tip, setTriggerValue, started) {
  const width = Math.max(480, Math.floor(svgHolder.clientWidth || root.clientWidth || 900));
  svgHolder.replaceChildren();
  const svg = el("svg", { xmlns: SVG_NS, width, height: 100, viewBox: `0 0 ${width} 100`, role: "img",
    "aria-label": data.words.aria, "font-family": FONT });
  svgHolder.appendChild(svg);

  // measuring text in the fonts the drawing uses
  const probe = el("text", textAttrs(LABEL_PX, { x: -1000, y: -1000 }), svg);
  const measurer = (size, weight = "400") => (s) => {
    probe.setAttribute("font-size", size);
    probe.setAttribute("font-weight", weight);
    probe.textContent = s;
    return probe.getComputedTextLength();
  };
  const mLabel = measurer(LABEL_PX);
  const mLane = measurer(LANE_PX, "600");
  const mTick = measurer(TICK_PX);
  const mLegend = measurer(LEGEND_PX);

  // defs: arrowheads (normal and highlighted), the hatching of the break
  const defs = el("defs", {}, svg);
  for (const [id, fill] of [["plm-ft-arrow", EDGE], ["plm-ft-arrow-hi", EDGE_HI]]) {
    const marker = el("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6.5, markerHeight: 6.5,
      orient: "auto-start-reverse", markerUnits: "strokeWidth" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", fill }, marker);
  }
  const hatch = el("pattern", { id: "plm-ft-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse",
    patternTransform: "rotate(45)" }, defs);
  el("rect", { width: 6, height: 6, fill: "#f3f3f3" }, hatch);
  el("line", { x1: 0, y1: 0, x2: 0, y2: 6, stroke: "#c9c9c9", "stroke-width": 2 }, hatch);

  // the lane names' column
  const laneLines = data.lanes.map((l) => wrap(l.label, LANE_NAME_MAX, mLane));
  const laneCol = Math.ceil(Math.min(LANE_NAME_MAX, Math.max(60, ...laneLines.flat().map(mLane)))) + 22;
  const plotL = laneCol + 20;
  // the axis ends where every label still fits right of its dot: the latest labels set it
  const extra = (m) => DOT_R + 5 + mLabel(m.label) + (m.also.length ? 6 + m.also.length * (2 * PIP_R + 3) : 0) + 6;
  let span = width - 8 - plotL;
  for (const m of data.models) if (m.x > 0) span = Math.min(span, (width - 8 - extra(m) - plotL) / m.x);
  const plotR = plotL + Math.max(120, span);
  const X = (x) => plotL + x * (plotR - plotL);

  // rows: each lane's models, by date, on the first row where the label and dot clear the others',
  // and where the last run of each incoming edge (along this row, from its source's x) crosses no
  // label; a row holding one of the model's own sources is skipped (the edge would run through it)
  const laneIndex = new Map(data.lanes.map((l, i) => [l.key, i]));
  const incoming = new Map();
  for (const e of data.edges) (incoming.get(e.to) || incoming.set(e.to, []).get(e.to)).push(e.from);
  const placed = new Map();
  const rowsOf = data.lanes.map(() => []);
  const models = [...data.models].sort((a, b) => a.x - b.x || String(a.label).localeCompare(String(b.label)));
  for (const m of models) {
    const li = laneIndex.has(m.lane) ? laneIndex.get(m.lane) : 0;
    const cx = X(m.x);
    const w = mLabel(m.label);
    const pips = m.also.length ? 6 + m.also.length * (2 * PIP_R + 3) : 0;
    const own = [cx - DOT_R, cx + DOT_R + 5 + w + pips];
    const sources = (incoming.get(m.id) || []).map((id) => placed.get(id)).filter((s) => s && s.cx < cx - DOT_R);
    const rows = rowsOf[li];
    const fits = (r) => {
      const row = rows[r] || [];
      if (row.some((s) => overlaps(s, own, GAP))) return false;
      for (const s of sources) {
        if (s.li === li && s.row === r) return false;
        const run = [s.cx, cx - DOT_R];
        if (row.some((x) => overlaps(x, run, 2))) return false;
      }
      return true;
    };
    let r = 0;
    while (!fits(r)) r++;
    (rows[r] = rows[r] || []).push(own);
    placed.set(m.id, { m, li, row: r, cx, w });
  }

  // vertical layout: axis, lanes, legend
  const top = 6;
  const axisY = top + AXIS_H;
  let y = axisY + 6;
  const lanesY = data.lanes.map((l, i) => {
    const rows = Math.max(1, rowsOf[i].length);
    const h = Math.max(rows * ROW_H, laneLines[i].length * (LANE_PX + 4)) + 2 * LANE_PAD;
    const box = { y0: y, h };
    y += h;
    return box;
  });
  const lanesBottom = y;

  const gBands = el("g", {}, svg);
  const gGrid = el("g", {}, svg);
  const gAxis = el("g", {}, svg);
  const gEdges = el("g", {}, svg);
  const gNodes = el("g", {}, svg);
  const gHits = el("g", {}, svg);
  const gLegend = el("g", {}, svg);

  data.lanes.forEach((lane, i) => {
    const { y0, h } = lanesY[i];
    el("rect", { x: 0, y: y0, width, height: h, fill: i % 2 ? "#ffffff" : "#f7f8fa" }, gBands);
    el("line", { x1: 0, x2: width, y1: y0 + h, y2: y0 + h, stroke: "#e6e6ea", "stroke-width": 1 }, gBands);
    el("rect", { x: 4, y: y0 + LANE_PAD + 3, width: 10, height: 10, rx: 2, fill: lane.colour }, gBands);
    const text = el("text", textAttrs(LANE_PX, { x: 20, y: y0 + LANE_PAD + 12, "font-weight": 600, fill: "#31333f" }), gBands);
    laneLines[i].forEach((line, j) => {
      const span = el("tspan", { x: 20, dy: j ? LANE_PX + 4 : 0 }, text);
      span.textContent = line;
    });
  });

  // the break: a hatched band through every lane and two slashes on the axis
  if (data.break) {
    const bx0 = X(data.break[0]) + 2;
    const bx1 = X(data.break[1]) - 2;
    el("rect", { x: bx0, y: axisY - 6, width: Math.max(2, bx1 - bx0), height: lanesBottom - axisY + 6,
      fill: "url(#plm-ft-hatch)" }, gGrid);
    for (const dx of [0, 5]) {
      el("line", { x1: (bx0 + bx1) / 2 - 5 + dx, y1: axisY + 6, x2: (bx0 + bx1) / 2 + dx, y2: axisY - 8,
        stroke: "#555", "stroke-width": 1.6 }, gAxis);
    }
  }

  // the axis: a line, ticks, labels (years first, then quarters; a label that would touch another is left out)
  const axisSegments = data.break ? [[X(0), X(data.break[0])], [X(data.break[1]), X(1)]] : [[X(0), X(1)]];
  for (const [a, b] of axisSegments) el("line", { x1: a, x2: b, y1: axisY, y2: axisY, stroke: "#555", "stroke-width": 1.2 }, gAxis);
  const taken = [];
  const order = { year: 0, quarter: 1, month: 2 };
  const ticks = [...data.ticks].sort((a, b) => order[a.kind] - order[b.kind] || a.x - b.x);
  for (const tk of ticks) {
    const tx = X(tk.x);
    const major = tk.kind === "year";
    el("line", { x1: tx, x2: tx, y1: axisY, y2: axisY + (major ? 7 : tk.kind === "quarter" ? 5 : 3), stroke: "#555",
      "stroke-width": 1 }, gAxis);
    if (tk.kind !== "month") {
      el("line", { x1: tx, x2: tx, y1: axisY + 8, y2: lanesBottom, stroke: major ? "#d9d9de" : "#ececf0",
        "stroke-width": 1, "stroke-dasharray": major ? "none" : "3 3" }, gGrid);
    }
    if (!tk.text) continue;
    const w = mTick(tk.text);
    const span = [tx - w / 2, tx + w / 2];
    if (span[0] < laneCol - 2 || span[1] > width - 2) continue;
    const lines = major ? [0, 1] : [0];
    const line = lines.find((l) => !taken.some((s) => s.line === l && overlaps(s.span, span, 6)));
    if (line === undefined) continue;
    taken.push({ span, line });
    const label = el("text", textAttrs(TICK_PX, { x: tx, y: axisY - 10 - line * (TICK_PX + 3), "text-anchor": "middle",
      "font-weight": major ? 700 : 400, fill: major ? "#31333f" : "#6b6b76" }), gAxis);
    label.textContent = tk.text;
  }

  // nodes
  const nodeEls = new Map();
  for (const { m, li, row, cx, w } of placed.values()) {
    const cy = lanesY[li].y0 + LANE_PAD + row * ROW_H + ROW_H / 2;
    const g = el("g", { class: "node", tabindex: 0, role: "link", "aria-label": m.aria, "data-node": m.id }, gNodes);
    el("circle", { class: "dot", cx, cy, r: DOT_R, fill: m.colour, stroke: "#ffffff", "stroke-width": 1.5 }, g);
    const lx = cx + DOT_R + 5;
    const label = el("text", textAttrs(LABEL_PX, { class: "label", x: lx, y: cy + LABEL_PX * 0.36, fill: "#262730",
      stroke: "#ffffff", "stroke-width": 3,
      "stroke-linejoin": "round", "paint-order": "stroke" }), g);
    label.textContent = m.label;
    const pipX0 = lx + w + 6 + PIP_R;
    m.also.forEach((colour, k) => {
      el("circle", { cx: pipX0 + k * (2 * PIP_R + 3), cy, r: PIP_R, fill: colour, stroke: "#ffffff", "stroke-width": 1 }, g);
    });
    nodeEls.set(m.id, { g, label, cx, cy, m });
  }
  const rowSpans = [...placed.values()].map((p) => ({ y: nodeEls.get(p.m.id).cy, cx: p.cx,
    span: [p.cx - DOT_R, p.cx + DOT_R + 5 + p.w + (p.m.also.length ? 6 + p.m.also.length * (2 * PIP_R + 3) : 0)] }));

  // edges: from the model improved on to the model that improves on it, the arrowhead at the latter
  const edgeEls = [];
  for (const e of data.edges) {
    const a = nodeEls.get(e.from);
    const b = nodeEls.get(e.to);
    if (!a || !b) continue;
    // the trunk: the first x that crosses no label or dot on the rows between the two models
    // (a dot in the way costs most: it would look like a link), a little to either side of the source
    const lo = Math.min(a.cy, b.cy) + 1;
    const hi = Math.max(a.cy, b.cy) - 1;
    const between = rowSpans.filter((s) => s.y > lo && s.y < hi);
    const cost = (x) => between.reduce((c, s) => c + (Math.abs(x - s.cx) < DOT_R + 3 ? 10
      : s.span[0] - 2 < x && x < s.span[1] + 2 ? 1 : 0), 0);
    const near = Math.abs(b.cx - a.cx) < DOT_R + 10 || Math.abs(b.cy - a.cy) < 1;
    const candidates = near ? [a.cx] : [a.cx, a.cx - 10, a.cx + 10, a.cx - 16, a.cx + 16];
    const tx = candidates.reduce((best, x) => (cost(x) < cost(best) ? x : best), a.cx);
    const d = elbow(a.cx, a.cy, b.cx, b.cy, tx);
    const g = el("g", { class: "edge", "data-edge": `${e.from}>${e.to}` }, gEdges);
    const line = el("path", { class: "line", d, fill: "none", stroke: EDGE, "stroke-width": 1.4,
      "marker-end": "url(#plm-ft-arrow)" }, g);
    const hit = el("path", { class: "hit", d, fill: "none", stroke: "transparent", "stroke-width": 12,
      "pointer-events": "stroke", "data-edge": `${e.from}>${e.to}` }, gHits);
    edgeEls.push({ e, line, hit, a, b });
  }

  // the legend, below the lanes, flowing over as many lines as it needs
  let lx = 4;
  let ly = lanesBottom + 22;
  for (const [kind, text] of data.legend) {
    const w = mLegend(text) + 30;
    if (lx + w > width - 4 && lx > 4) { lx = 4; ly += 20; }
    const cy = ly - 4;
    if (kind === "model") el("circle", { cx: lx + 8, cy, r: DOT_R, fill: "#4e79a7", stroke: "#fff" }, gLegend);
    if (kind === "arrow") el("path", { d: `M${lx},${cy} L${lx + 20},${cy}`, stroke: EDGE, "stroke-width": 1.4,
      "marker-end": "url(#plm-ft-arrow)" }, gLegend);
    if (kind === "also") {
      el("circle", { cx: lx + 5, cy, r: PIP_R, fill: "#e15759" }, gLegend);
      el("circle", { cx: lx + 15, cy, r: PIP_R, fill: "#59a14f" }, gLegend);
    }
    if (kind === "break") el("rect", { x: lx + 2, y: cy - 7, width: 14, height: 14, fill: "url(#plm-ft-hatch)",
      stroke: "#c9c9c9" }, gLegend);
    const label = el("text", textAttrs(LEGEND_PX, { x: lx + 26, y: ly, fill: "#4b4b55" }), gLegend);
    label.textContent = text;
    lx += w + 18;
  }
  const height = Math.ceil(ly + 10);
  svg.setAttribute("height", height);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  probe.remove();

  // hover and click
  const showTip = (lines, ev) => {
    tip.replaceChildren();
    for (const [kind, text] of lines) {
      const line = html("div", { class: kind }, tip);
      line.textContent = text;
    }
    tip.style.display = "block";
    moveTip(ev);
  };
  const moveTip = (ev) => {
    const box = root.getBoundingClientRect();
    const tw = tip.offsetWidth;
    const th = tip.offsetHeight;
    let x = ev.clientX - box.left + 14;
    let yy = ev.clientY - box.top + 16;
    if (x + tw > box.width - 4) x = Math.max(4, ev.clientX - box.left - tw - 14);
    if (yy + th > box.height - 4) yy = Math.max(4, ev.clientY - box.top - th - 14);
    tip.style.left = `${x}px`;
    tip.style.top = `${yy}px`;
  };
  const hideTip = () => { tip.style.display = "none"; };
  const highlight = (edges, on) => {
    for (const x of edges) {
      x.line.setAttribute("stroke", on ? EDGE_HI : EDGE);
      x.line.setAttribute("stroke-width", on ? 2.4 : 1.4);
      x.line.setAttribute("marker-end", on ? "url(#plm-ft-arrow-hi)" : "url(#plm-ft-arrow)");
      x.a.g.classList.toggle("hi", on);
      x.b.g.classList.toggle("hi", on);
    }
  };
  for (const x of edgeEls) {
    x.hit.addEventListener("mouseenter", (ev) => { highlight([x], true); showTip(x.e.tip, ev); });
    x.hit.addEventListener("mousemove", moveTip);
    x.hit.addEventListener("mouseleave", () => { highlight([x], false); hideTip(); });
  }
  for (const n of nodeEls.values()) {
    const mine = edgeEls.filter((x) => x.a === n || x.b === n);
    n.g.addEventListener("mouseenter", (ev) => { highlight(mine, true); showTip(n.m.tip, ev); });
    n.g.addEventListener("mousemove", moveTip);
    n.g.addEventListener("mouseleave", () => { highlight(mine, false); hideTip(); });
    n.g.addEventListener("click", () => setTriggerValue("node_clicked", n.m.id));
    n.g.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); setTriggerValue("node_clicked", n.m.id); }
    });
  }

  const report = () => {
    const nodes = data.models.map((m) => {
      const n = nodeEls.get(m.id);
      if (!n) return { id: m.id, labelBox: null, shown: false };
      const r = n.label.getBoundingClientRect();
      return { id: m.id, labelBox: [r.x, r.y, r.width, r.height].map((v) => Math.round(v * 10) / 10), shown: true };
    });
    const edges = edgeEls.map((x) => ({ from: x.e.from, to: x.e.to,
      arrow: (x.line.getAttribute("marker-end") || "").includes("plm-ft-arrow") }));
    const svgBox = svg.getBoundingClientRect();
    root.dataset.drawn = JSON.stringify({ nodes, edges, settled: true, width, height,
      svgBox: [svgBox.x, svgBox.y, svgBox.width, svgBox.height].map((v) => Math.round(v)),
      lanes: data.lanes.map((l) => l.label), ms: Math.round(performance.now() - started) });
    performance.mark("plm-family-tree:settled");   // for bench/bench_views.py
  };
  report();
  return { svg, report, width, height };
}

// A standalone copy of the drawing: the title on top, no hover targets, a white background.
function standalone(svg, title) {
  const copy = svg.cloneNode(true);
  const w = Number(svg.getAttribute("width"));
  const h = Number(svg.getAttribute("height"));
  const head = 30;
  copy.setAttribute("xmlns", SVG_NS);
  copy.setAttribute("width", w);
  copy.setAttribute("height", h + head);
  copy.setAttribute("viewBox", `0 0 ${w} ${h + head}`);
  for (const n of copy.querySelectorAll(".hit")) n.remove();
  for (const n of copy.querySelectorAll("[tabindex]")) n.removeAttribute("tabindex");
  const body = el("g", { transform: `translate(0 ${head})` });
  for (const child of [...copy.childNodes]) {
    if (child.nodeName === "defs") continue;
    body.appendChild(child);
  }
  const style = el("style");
  style.textContent = `text { font-family: ${FONT}; }`;
  copy.insertBefore(style, copy.firstChild);
  el("rect", { x: 0, y: 0, width: w, height: h + head, fill: "#ffffff" }, copy);
  const t = el("text", textAttrs(15, { x: 4, y: 20, "font-weight": 700, fill: "#262730" }), copy);
  t.textContent = title;
  copy.appendChild(body);
  return { text: new XMLSerializer().serializeToString(copy), width: w, height: h + head };
}

function save(root, blob, name) {
  const url = URL.createObjectURL(blob);
  const a = html("a", { href: url, download: name }, root);
  a.style.display = "none";
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export default function ({ data, parentElement, setTriggerValue }) {
  const started = performance.now();
  let root = parentElement.querySelector('[data-testid="plm-family-tree"]');
  if (!root) {
    const style = document.createElement("style");
    style.textContent = CSS;
    parentElement.appendChild(style);
    root = html("div", { class: "plm-ft", "data-testid": "plm-family-tree" }, parentElement);
  }
  // Streamlit calls this again when the data changes, without running the previous call's cleanup:
  // run it here, and let only the latest call draw or report
  if (root.__plmCleanup) root.__plmCleanup();
  const generation = (root.__plmGeneration = (root.__plmGeneration || 0) + 1);
  const current = () => root.__plmGeneration === generation && root.isConnected;
  root.replaceChildren();
  delete root.dataset.drawn;
  const bar = html("div", { class: "plm-ft-bar" }, root);
  const svgButton = html("button", { type: "button", "data-export": "svg" }, bar);
  svgButton.textContent = data.words.svg_button;
  const pngButton = html("button", { type: "button", "data-export": "png" }, bar);
  pngButton.textContent = data.words.png_button;
  const holder = html("div", { class: "plm-ft-svg" }, root);
  const tip = html("div", { class: "plm-ft-tip", role: "tooltip" }, root);
  tip.style.display = "none";

  let drawn = null;
  let lastWidth = 0;
  const redraw = () => {
    if (!current()) return;
    const w = Math.floor(holder.clientWidth);
    if (w < 1 || (drawn && Math.abs(w - lastWidth) < 2)) return;
    lastWidth = w;
    drawn = draw(root, data, holder, tip, setTriggerValue, drawn ? performance.now() : started);
  };

  svgButton.addEventListener("click", () => {
    if (!drawn) return;
    const { text } = standalone(drawn.svg, data.words.export_title);
    save(root, new Blob(['<?xml version="1.0" encoding="UTF-8"?>\n', text], { type: "image/svg+xml" }), data.words.file_svg);
  });
  pngButton.addEventListener("click", () => {
    if (!drawn) return;
    const { text, width, height } = standalone(drawn.svg, data.words.export_title);
    const img = new Image();
    const url = URL.createObjectURL(new Blob([text], { type: "image/svg+xml" }));
    img.onload = () => {
      const scale = 2;
      const canvas = document.createElement("canvas");
      canvas.width = width * scale;
      canvas.height = height * scale;
      const ctx = canvas.getContext("2d");
      ctx.scale(scale, scale);
      ctx.drawImage(img, 0, 0, width, height);
      URL.revokeObjectURL(url);
      canvas.toBlob((blob) => { if (blob) save(root, blob, data.words.file_png); }, "image/png");
    };
    img.onerror = () => URL.revokeObjectURL(url);
    img.src = url;
  });

  let frame = 0;
  const onScroll = () => {
    if (frame || !drawn) return;
    frame = requestAnimationFrame(() => { frame = 0; if (current()) drawn.report(); });
  };
  const observer = new ResizeObserver(() => redraw());
  const fontsReady = document.fonts && document.fonts.ready ? document.fonts.ready : Promise.resolve();
  let alive = true;
  fontsReady.then(() => {
    if (!alive) return;
    redraw();
    observer.observe(holder);
    document.addEventListener("scroll", onScroll, true);
    window.addEventListener("resize", onScroll);
  });
  const cleanup = () => {
    alive = false;
    observer.disconnect();
    document.removeEventListener("scroll", onScroll, true);
    window.removeEventListener("resize", onScroll);
    if (frame) cancelAnimationFrame(frame);
    if (root.__plmCleanup === cleanup) root.__plmCleanup = null;
  };
  root.__plmCleanup = cleanup;
  return cleanup;
}
