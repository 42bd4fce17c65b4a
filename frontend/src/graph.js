// The graph page's map: sigma.js (WebGL) draws the nodes and edges at the positions the server computed
// (kg/views.py `layout`), and this module draws the labels itself, on a canvas above, so that shown labels
// never collide: every frame, labels are placed greedily by priority (the selected node, the nodes it
// highlights, then models, then the best-connected), each at the first of eight spots around its node
// that is free, and a label with no free spot is left out until the user zooms in.
//
// The first picture is drawn on a plain 2D canvas (`sketch`, below), with sigma's own projection and
// sigma's own sizes, so that the map is on screen before WebGL is ready: creating sigma's three WebGL
// contexts costs 100-150 ms here (software GL). sigma is created right after that first paint, draws the
// same picture, and the sketch is removed; nothing moves. Where WebGL cannot start, the sketch stays, with
// a notice: the zoom buttons and keys still move it and the node list below it still selects.
//
// What it drew is exposed to tests on the root element (data-testid="plm-graph") as `data-drawn`:
// {"nodes": [{"id", "labelBox": [x, y, w, h] | null, "shown", "centre"}], "selected", "settled", "camera",
// "renderer": "sketch" | "sigma" | "sketch-only"}, with boxes in CSS pixels of the page's viewport.
//
// Every text (labels, tooltips, the toolbar's words, which come from the message catalogue through
// `data.text`) is set with textContent or drawn on a canvas: nothing from the graph is ever parsed as HTML.
import Graph from "graphology";
import Sigma, { Camera } from "sigma";
import { createNormalizationFunction, graphExtent, matrixFromCamera, multiplyVec2 } from "sigma/utils";

const LABEL_FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', sans-serif";
const LABEL_SIZE = 13;          // CSS px, whatever the zoom (the floor is 11)
const LABEL_PAD = 3;            // px of halo around a label's text, inside its box
const GAP = 2;                  // px kept free between two labels' boxes
const FADED = "#e4e4e4";
const EDGE = "#b9b9b9", EDGE_NEAR = "#4d4d4d", EDGE_FADED = "#f0f0f0";
const PADDING = 40;             // px around the view (sigma's stagePadding)
const MIN_EDGE = 1.7;           // px: sigma's minEdgeThickness (an edge's width before its 1 px of fading)
const ARROW_LENGTH = 2.5, ARROW_WIDENESS = 2;  // sigma's arrow head, in edge thicknesses
const cameras = new Map();      // layout key -> camera state, so a rerun of the same view keeps the user's zoom
const selections = new Map();   // layout key -> the node selected when it was last drawn
let lastClicked = null;         // the node this component reported last: selecting it again does not fly
let searchFocused = false;      // the search was just sent from the box: give the new box the focus back

const CSS = `
.plm-graph { position: relative; border: 1px solid #d9d9d9; border-radius: 6px; background: #fff;
  overflow: hidden; outline: none; font-family: ${LABEL_FONT}; }
.plm-graph:focus-visible { box-shadow: 0 0 0 3px #4e79a7aa; }
.plm-graph .frame { position: relative; overflow: hidden; }
.plm-graph .stage { position: absolute; inset: 0; }
.plm-graph canvas.labels, .plm-graph canvas.sketch { position: absolute; left: 0; top: 0; pointer-events: none; }
.plm-graph .notice { position: absolute; left: 8px; bottom: 8px; z-index: 2; padding: 3px 8px; font-size: 12px;
  background: #fff8e1; border: 1px solid #e0c97a; border-radius: 4px; }
.plm-graph .toolbar { position: absolute; right: 8px; top: 8px; display: flex; flex-direction: column; gap: 4px; z-index: 2; }
.plm-graph .toolbar button { width: 34px; height: 34px; border: 1px solid #ccc; border-radius: 6px; background: #fff;
  font-size: 18px; line-height: 1; cursor: pointer; color: #333; }
.plm-graph .toolbar button:hover, .plm-graph .toolbar button:focus-visible { background: #f0f4fa; border-color: #4e79a7; }
.plm-graph .legend { display: flex; flex-wrap: wrap; gap: 4px 12px; padding: 5px 10px; border-top: 1px solid #eee;
  font-size: 12px; color: #333; }
.plm-graph .legend span { display: inline-flex; align-items: center; gap: 4px; white-space: nowrap; }
.plm-graph .legend i { display: inline-block; width: 11px; height: 11px; border-radius: 50%; }
.plm-graph .tip { position: absolute; z-index: 3; pointer-events: none; display: none; max-width: 320px; padding: 4px 8px;
  background: #222; color: #fff; border-radius: 4px; font-size: 12px; white-space: pre-wrap; }
.plm-nodes { margin-top: 6px; font-family: ${LABEL_FONT}; font-size: 13px; }
.plm-nodes ol { columns: 3 14em; margin: 6px 0 0; padding-left: 1.6em; }
.plm-nodes button { border: none; background: none; padding: 1px 2px; color: #1f5fa8; cursor: pointer; text-align: left;
  font: inherit; }
.plm-nodes button:focus-visible, .plm-nodes button:hover { text-decoration: underline; outline: 2px solid #4e79a7; }
.plm-graph .find { position: absolute; left: 8px; top: 8px; z-index: 2; width: min(300px, calc(100% - 70px));
  background: #fff; border: 1px solid #ccc; border-radius: 6px; box-shadow: 0 1px 4px #0001; }
.plm-graph .find form { display: flex; }
.plm-graph .find input { flex: 1; min-width: 0; border: none; padding: 7px 9px; font: 14px ${LABEL_FONT}; outline: none;
  background: transparent; }
.plm-graph .find:focus-within { border-color: #4e79a7; box-shadow: 0 0 0 2px #4e79a744; }
.plm-graph .find .go { border: none; background: none; padding: 0 10px; cursor: pointer; font-size: 15px; color: #555; }
.plm-graph .find p { margin: 0; padding: 3px 9px; font-size: 12px; color: #666; border-top: 1px solid #eee; }
.plm-graph .find ul { list-style: none; margin: 0; padding: 2px 0; border-top: 1px solid #eee; max-height: 240px;
  overflow-y: auto; }
.plm-graph .find li button { display: block; width: 100%; text-align: left; border: none; background: none; padding: 4px 9px;
  font: 13px ${LABEL_FONT}; color: #1f3f66; cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.plm-graph .find li button:hover, .plm-graph .find li button:focus-visible { background: #eef3fa; outline: none; }
.plm-graph .find li button[aria-current="true"] { font-weight: 600; background: #e4ecf7; }
.plm-graph .find li small { color: #777; margin-left: 6px; }
@media (max-width: 640px) { .plm-graph .legend { font-size: 11px; } }
`;

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function coversDisc(box, disc) {  // does the box cover part of the node's disc [x, y, r]?
  const nx = Math.max(box[0], Math.min(disc[0], box[0] + box[2]));
  const ny = Math.max(box[1], Math.min(disc[1], box[1] + box[3]));
  return (nx - disc[0]) ** 2 + (ny - disc[1]) ** 2 < disc[2] * disc[2];
}

function overlaps(a, b) {
  return a[0] < b[0] + b[2] + GAP && b[0] < a[0] + a[2] + GAP && a[1] < b[1] + b[3] + GAP && b[1] < a[1] + a[3] + GAP;
}

// Where a label may go around a node of screen radius r: right, left, below, above, then the four corners;
// `rings` more rounds further out (for the labels that must be shown: they get a leader line).
// The side facing away from the middle of the view comes first, so that labels at the rim point outwards
// instead of into the edges.
function spots(cx, cy, r, w, h, rings = 0, leftHalf = false) {
  const out = [];
  for (let ring = 0; ring <= rings; ring++) {
    const d = r + 3 + ring * 16;
    const right = [cx + d, cy - h / 2], left = [cx - d - w, cy - h / 2];
    out.push(...(leftHalf ? [left, right] : [right, left]), [cx - w / 2, cy + d], [cx - w / 2, cy - d - h],
             [cx + d * 0.7, cy + d * 0.7], [cx + d * 0.7, cy - d * 0.7 - h], [cx - d * 0.7 - w, cy + d * 0.7],
             [cx - d * 0.7 - w, cy - d * 0.7 - h]);
  }
  return out;
}
const MUST_LABEL = 4000;        // priorities from this up (models, the selection) get the far spots too

export default function ({ data: sent, parentElement, setTriggerValue }) {
  const data = JSON.parse(sent.json);
  const text = data.text || {};
  const nodes = data.nodes || [];
  const edges = data.edges || [];
  const selected = data.selected || null;

  parentElement.replaceChildren();
  parentElement.appendChild(el("style", {}, CSS));
  const root = el("div", { class: "plm-graph", "data-testid": "plm-graph", tabindex: "0", role: "application",
                            "aria-label": text.canvas_label || "" });
  const stage = el("div", { class: "stage" });
  const labels = el("canvas", { class: "labels", "aria-hidden": "true" });
  const tip = el("div", { class: "tip", role: "tooltip" });
  const toolbar = el("div", { class: "toolbar", role: "toolbar", "aria-label": text.toolbar || "" });
  const buttons = {};
  for (const [name, glyph] of [["zoom_in", "+"], ["zoom_out", "−"], ["fit", "⤢"]]) {
    const b = el("button", { type: "button", title: text[name] || "", "aria-label": text[name] || "",
                             "data-action": name }, glyph);
    toolbar.appendChild(b);
    buttons[name] = b;
  }
  const legend = el("div", { class: "legend", "aria-label": text.legend || "" });
  for (const item of data.legend || []) {
    const span = el("span");
    const dot = el("i");
    dot.style.background = item.color;
    span.append(dot, document.createTextNode(item.label));
    legend.appendChild(span);
  }
  const frame = el("div", { class: "frame" });
  frame.style.height = `${data.height || 620}px`;
  // The search box, on the map itself (like a map's): Enter sends the text; the server's hits come back
  // listed under it, the best one already selected and flown to.
  const find = data.search ? el("div", { class: "find", role: "search" }) : null;
  if (find) {
    const form = el("form");
    const input = el("input", { type: "search", maxlength: String(data.search.max_chars || 200),
                                placeholder: text.search_placeholder || "", "aria-label": text.search || "",
                                autocomplete: "off", spellcheck: "false" });
    input.value = data.search.query || "";
    const go = el("button", { type: "submit", class: "go", title: text.search || "", "aria-label": text.search || "" }, "⌕");
    form.append(input, go);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      searchFocused = true;
      setTriggerValue("searched", input.value);
    });
    find.appendChild(form);
    const hits = data.search.hits || [];
    if (data.search.query) {
      find.appendChild(el("p", {}, hits.length ? (text.results || "").replace("{count}", String(hits.length))
                                                : (text.no_results || "")));
    }
    if (hits.length) {
      const ul = el("ul", { "aria-label": text.results_label || "" });
      for (const h of hits) {
        const b = el("button", { type: "button", "data-node": h.id, "aria-current": String(h.id === selected),
                                 title: h.kind });
        b.append(document.createTextNode(h.label));
        if (h.matched) b.appendChild(el("small", {}, h.matched));
        if (h.outside) b.appendChild(el("small", {}, text.result_outside || ""));
        b.onclick = () => { lastClicked = null; setTriggerValue("node_clicked", h.id); };
        ul.appendChild(el("li")).appendChild(b);
      }
      find.appendChild(ul);
    }
    if (searchFocused) { searchFocused = false; setTimeout(() => input.focus(), 0); }
  }
  frame.append(stage, labels, toolbar, ...(find ? [find] : []), tip);
  root.append(frame, legend);
  parentElement.appendChild(root);

  // The nodes in reading order (top to bottom, then left to right), for keyboards and screen readers.
  const list = el("details", { class: "plm-nodes" });
  const summary = el("summary", {}, text.node_list || "");
  const ol = el("ol");
  list.append(summary, ol);
  parentElement.appendChild(list);

  const graph = new Graph({ multi: true, type: "directed" });
  for (const n of nodes) {
    graph.addNode(n.id, { x: n.x, y: -n.y, size: n.size, color: n.color, label: n.label, kind: n.kind,
                          priority: n.priority, title: n.title });
  }
  for (const e of edges) {
    if (graph.hasNode(e.from) && graph.hasNode(e.to)) graph.addEdge(e.from, e.to, { label: e.label });
  }
  const neighbours = new Set(selected && graph.hasNode(selected) ? graph.neighbors(selected) : []);
  // with a selection, everything but it and its neighbours fades into the background
  const isFaded = (id) => !!selected && id !== selected && !neighbours.has(id);

  // How each node and edge looks: sigma's reducers, and the sketch draws with the same.
  function nodeLook(node, attrs) {
    const out = { ...attrs, label: null };
    if (node === selected) Object.assign(out, { size: attrs.size * 1.5, zIndex: 3, highlighted: true });
    else if (isFaded(node)) Object.assign(out, { color: FADED, zIndex: 0 });
    else if (selected) out.zIndex = 2;
    return out;
  }
  function edgeLook(edge, attrs) {
    const [s, t] = graph.extremities(edge);
    if (selected) {
      return s === selected || t === selected ? { ...attrs, color: EDGE_NEAR, size: 2, zIndex: 2 }
                                              : { ...attrs, color: EDGE_FADED, zIndex: 0 };
    }
    return attrs;
  }

  // The frame is the view's own nodes: nodes added to it (expanded neighbours, a search hit from outside
  // the filters) appear around them without rescaling, so nothing already drawn moves.
  const own = nodes.filter((n) => !n.added);
  const bbox = own.length && own.length < nodes.length
    ? { x: [Math.min(...own.map((n) => n.x)), Math.max(...own.map((n) => n.x))],
        y: [Math.min(...own.map((n) => -n.y)), Math.max(...own.map((n) => -n.y))] } : null;
  // sigma's projection, computed the way sigma computes it (Sigma#process and #framedGraphToViewport), so
  // that the sketch, the labels and sigma put every node at the same pixel
  const extent = bbox || graphExtent(graph);
  const normalize = createNormalizationFunction(extent);
  const graphSize = { width: extent.x[1] - extent.x[0] || 1, height: extent.y[1] - extent.y[0] || 1 };
  const framed = (id) => normalize(graph.getNodeAttributes(id));   // sigma's display coordinates
  const camera = new Camera();
  Object.assign(camera, { minRatio: 0.05, maxRatio: 4 });
  function projection() {
    const w = stage.offsetWidth || 1, h = stage.offsetHeight || 1, state = camera.getState();
    const m = matrixFromCamera(state, { width: w, height: h }, graphSize, PADDING);
    const k = 1 / Math.sqrt(state.ratio);   // sigma's scaleSize: sizes grow with the square root of the zoom
    return {
      w, h, size: (s) => s * k,
      point(x, y) { const v = multiplyVec2(m, normalize({ x, y })); return { x: (1 + v.x) * w / 2, y: (1 - v.y) * h / 2 }; },
    };
  }

  function fitState(ids) {  // the camera state that shows `ids` (display coordinates) with a margin
    const pts = ids.filter((id) => graph.hasNode(id)).map(framed);
    if (!pts.length) return { x: 0.5, y: 0.5, ratio: 1, angle: 0 };
    const xs = pts.map((p) => p.x), ys = pts.map((p) => p.y);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const ratio = Math.min(1, Math.max(0.12, 1.35 * Math.max(x1 - x0, y1 - y0, 0.08)));
    return { x: (x0 + x1) / 2, y: (y0 + y1) / 2, ratio, angle: 0 };
  }
  function focusState(id) {
    const centre = framed(id);
    const around = fitState([id, ...graph.neighbors(id)]);
    return { x: centre.x, y: centre.y, ratio: around.ratio, angle: 0 };
  }

  // The camera: the user's own zoom for this view if they had one; a fly to the selected node when the
  // selection came from elsewhere (search, the address, the node list); otherwise the whole view.
  const layoutKey = data.layout_key || "";
  const kept = cameras.get(layoutKey);
  const flyTo = data.centre_selected !== false && selected && graph.hasNode(selected) && selected !== lastClicked &&
                !(kept && selections.get(layoutKey) === selected) ? selected : null;
  lastClicked = null;
  selections.set(layoutKey, selected);
  if (flyTo && !kept) camera.setState(focusState(flyTo));   // a fresh load of ?focus=…: start there, no motion
  else if (kept) camera.setState(kept);
  const flight = flyTo && kept ? focusState(flyTo) : null;  // flown once sigma draws
  if (!flight) cameras.set(layoutKey, { ...camera.getState() });
  camera.on("updated", (state) => cameras.set(layoutKey, { ...state }));

  let renderer = null;   // sigma, once it has started (the sketch draws until then)
  const live = () => renderer || drawer === "sketch-only";   // the camera can move: someone redraws it
  buttons.zoom_in.onclick = () => live() && camera.animatedZoom({ duration: 250, factor: 1.6 });
  buttons.zoom_out.onclick = () => live() && camera.animatedUnzoom({ duration: 250, factor: 1.6 });
  buttons.fit.onclick = () => live() && camera.animate({ x: 0.5, y: 0.5, ratio: 1, angle: 0 }, { duration: 300 });
  root.addEventListener("keydown", (ev) => {
    const step = 0.08 * camera.getState().ratio;
    const s = camera.getState();
    const moves = { "+": () => buttons.zoom_in.onclick(), "=": () => buttons.zoom_in.onclick(),
                    "-": () => buttons.zoom_out.onclick(), "0": () => buttons.fit.onclick(),
                    ArrowLeft: () => camera.setState({ x: s.x - step }), ArrowRight: () => camera.setState({ x: s.x + step }),
                    ArrowUp: () => camera.setState({ y: s.y + step }), ArrowDown: () => camera.setState({ y: s.y - step }) };
    if (live() && ev.target === root && moves[ev.key]) { moves[ev.key](); ev.preventDefault(); }
  });

  // The sketch: the first picture, on a 2D canvas, as sigma will draw it (edges under nodes, each in
  // z order; an edge runs from its source's centre to an arrowhead whose tip touches its target's disc).
  const sketch = el("canvas", { class: "sketch", "aria-hidden": "true" });
  frame.insertBefore(sketch, labels);
  function drawSketch(proj) {
    const dpr = window.devicePixelRatio || 1;
    sketch.width = Math.round(proj.w * dpr); sketch.height = Math.round(proj.h * dpr);
    sketch.style.width = `${proj.w}px`; sketch.style.height = `${proj.h}px`;
    const ctx = sketch.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fff";   // opaque: sigma's canvases start drawing under it
    ctx.fillRect(0, 0, proj.w, proj.h);
    const looks = new Map(graph.nodes().map((id) => [id, nodeLook(id, graph.getNodeAttributes(id))]));
    const byZ = (a, b) => (a[1].zIndex || 0) - (b[1].zIndex || 0);
    for (const [edge, look] of graph.edges().map((e) => [e, edgeLook(e, graph.getEdgeAttributes(e))]).sort(byZ)) {
      const [s, t] = graph.extremities(edge);
      const a = proj.point(looks.get(s).x, looks.get(s).y), b = proj.point(looks.get(t).x, looks.get(t).y);
      const len = Math.hypot(b.x - a.x, b.y - a.y);
      if (!len) continue;
      const ux = (b.x - a.x) / len, uy = (b.y - a.y) / len;
      const width = Math.max(proj.size(look.size || 0.5), MIN_EDGE);
      const r = proj.size(looks.get(t).size || 2), head = ARROW_LENGTH * width, half = ARROW_WIDENESS * width / 2;
      const tip = [b.x - ux * r, b.y - uy * r], base = [b.x - ux * (r + head), b.y - uy * (r + head)];
      ctx.fillStyle = ctx.strokeStyle = look.color || EDGE;
      if (len > r + head) {
        ctx.lineWidth = Math.max(width - 1, 0.5);   // sigma fades the outer pixel of an edge: this much ink is left
        ctx.beginPath(); ctx.moveTo(a.x, a.y); ctx.lineTo(base[0], base[1]); ctx.stroke();
      }
      ctx.beginPath();
      ctx.moveTo(tip[0], tip[1]);
      ctx.lineTo(base[0] - uy * half, base[1] + ux * half);
      ctx.lineTo(base[0] + uy * half, base[1] - ux * half);
      ctx.fill();
    }
    for (const [, look] of [...looks].sort(byZ)) {
      const p = proj.point(look.x, look.y);
      ctx.fillStyle = look.color;
      ctx.beginPath(); ctx.arc(p.x, p.y, proj.size(look.size || 2), 0, 2 * Math.PI); ctx.fill();
    }
  }

  // Labels: placed by priority each frame, never two in the same place.
  const order = graph.nodes().sort((a, b) => rank(b) - rank(a) || (a < b ? -1 : 1));
  function rank(id) {
    if (id === selected) return 1e9;
    let r = graph.getNodeAttribute(id, "priority") || 0;
    if (neighbours.has(id)) r += 1e6;
    return r;
  }
  let drawn = [], settled = false, drawer = "sketch";
  function drawLabels(proj) {
    const { w, h } = proj, dpr = window.devicePixelRatio || 1;
    if (labels.width !== Math.round(w * dpr) || labels.height !== Math.round(h * dpr)) {
      labels.width = Math.round(w * dpr); labels.height = Math.round(h * dpr);
      labels.style.width = `${w}px`; labels.style.height = `${h}px`;
    }
    const ctx = labels.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const stageBox = stage.getBoundingClientRect();
    const blocked = [toolbar, find].filter(Boolean).map((b) => {
      const r = b.getBoundingClientRect();
      return [r.left - stageBox.left, r.top - stageBox.top, r.width, r.height];
    }).filter((b) => b[2] > 0);
    const placed = [];
    const at = new Map();         // node -> [x, y, radius] on screen
    for (const id of order) {
      const attrs = graph.getNodeAttributes(id);
      const p = proj.point(attrs.x, attrs.y);
      at.set(id, [p.x, p.y, proj.size(attrs.size * (id === selected ? 1.5 : 1))]);
    }
    // the nodes a label may not cover: those on screen and not faded into the background
    const discs = [...at.entries()].filter(([id, d]) => !isFaded(id) &&
                                           d[0] >= -20 && d[1] >= -20 && d[0] <= w + 20 && d[1] <= h + 20);
    drawn = [];
    for (const id of order) {
      const attrs = graph.getNodeAttributes(id);
      const [px, py, r] = at.get(id);
      const onScreen = px >= 0 && py >= 0 && px <= w && py <= h;
      const bold = id === selected;
      const faded = isFaded(id);
      ctx.font = `${bold ? "600 " : ""}${LABEL_SIZE}px ${LABEL_FONT}`;
      const bw = ctx.measureText(attrs.label).width + 2 * LABEL_PAD, bh = LABEL_SIZE + 2 * LABEL_PAD;
      let box = null;
      if (onScreen && !faded) {
        const must = bold || (attrs.priority || 0) >= MUST_LABEL;
        let far = false, i = 0;
        for (const [x, y] of spots(px, py, r, bw, bh, must ? 3 : 0, px < w / 2)) {
          const cand = [x, y, bw, bh];
          far = i++ >= 8;
          if (x < 0 || y < 0 || x + bw > w || y + bh > h) continue;
          if (placed.some((b) => overlaps(b, cand)) || blocked.some((b) => overlaps(b, cand))) continue;
          if (discs.some(([other, d]) => other !== id && coversDisc(cand, d))) continue;
          box = cand;
          break;
        }
        if (box && far) {  // a label moved away from its node: a thin line joins them
          const lx = Math.max(box[0], Math.min(px, box[0] + bw)), ly = Math.max(box[1], Math.min(py, box[1] + bh));
          ctx.strokeStyle = "#8a8a8a";
          ctx.lineWidth = 1;
          ctx.beginPath();
          ctx.moveTo(px, py);
          ctx.lineTo(lx, ly);
          ctx.stroke();
        }
      }
      if (box) {
        placed.push(box);
        ctx.lineJoin = "round";
        ctx.lineWidth = 4;
        ctx.strokeStyle = "rgba(255,255,255,0.92)";
        ctx.fillStyle = bold ? "#000" : "#222";
        ctx.textBaseline = "middle";
        ctx.strokeText(attrs.label, box[0] + LABEL_PAD, box[1] + bh / 2);
        ctx.fillText(attrs.label, box[0] + LABEL_PAD, box[1] + bh / 2);
      }
      drawn.push({
        id, shown: !!box,
        labelBox: box && [+(box[0] + stageBox.left).toFixed(1), +(box[1] + stageBox.top).toFixed(1), +bw.toFixed(1), bh],
        centre: onScreen ? [+(px + stageBox.left).toFixed(1), +(py + stageBox.top).toFixed(1)] : null,
      });
    }
    publish();
  }
  function publish() {
    const s = camera.getState();
    root.dataset.drawn = JSON.stringify({
      nodes: drawn, selected, settled, renderer: drawer,
      camera: { x: +s.x.toFixed(4), y: +s.y.toFixed(4), ratio: +s.ratio.toFixed(4) },
      stage: (() => { const b = stage.getBoundingClientRect(); return [b.left, b.top, b.width, b.height]; })(),
    });
  }
  function refreshList() {
    const items = drawn.filter((d) => d.centre).sort((a, b) =>
      Math.round(a.centre[1] / 40) - Math.round(b.centre[1] / 40) || a.centre[0] - b.centre[0]);
    summary.textContent = (text.node_list || "").replace("{count}", String(items.length));
    ol.replaceChildren(...items.map((d) => {
      const li = el("li");
      const b = el("button", { type: "button", "data-node": d.id }, graph.getNodeAttribute(d.id, "label"));
      b.onclick = () => { lastClicked = null; setTriggerValue("node_clicked", d.id); };
      li.appendChild(b);
      return li;
    }));
  }
  function settle() {
    settled = true;
    performance.mark("plm-graph:settled");
    publish();
    refreshList();
  }

  // The first picture, now: the sketch with its labels (the whole picture, unless a flight is due).
  const first = projection();
  drawSketch(first);
  drawLabels(first);
  if (!flight) settle();
  else refreshList();   // during a flight too, the list names what is on screen (and its count)

  // Then sigma, after that picture is painted; it draws the same, and the sketch goes.
  let listTimer = 0, stopped = false, size = [frame.clientWidth, frame.clientHeight];
  const resize = new ResizeObserver(() => {  // it also fires once on observe: only a real change redraws
    const now = [frame.clientWidth, frame.clientHeight];
    if (now[0] === size[0] && now[1] === size[1]) return;
    size = now;
    if (renderer) renderer.refresh();
    else { const proj = projection(); drawSketch(proj); drawLabels(proj); }
  });
  resize.observe(frame);
  function start() {
    if (stopped) return;
    try {
      renderer = new Sigma(graph, stage, {
        renderLabels: false, renderEdgeLabels: false, defaultEdgeType: "arrow", defaultEdgeColor: EDGE,
        zIndex: true, stagePadding: PADDING, minCameraRatio: camera.minRatio, maxCameraRatio: camera.maxRatio,
        minEdgeThickness: MIN_EDGE, allowInvalidContainer: true, nodeReducer: nodeLook, edgeReducer: edgeLook,
      });
    } catch (err) {   // no WebGL: the sketch stays and follows the zoom buttons and keys; the node list selects
      drawer = "sketch-only";
      frame.appendChild(el("div", { class: "notice", role: "status" }, text.no_webgl || ""));
      if (flight) { camera.setState(flight); const proj = projection(); drawSketch(proj); drawLabels(proj); }
      if (!settled) settle(); else publish();
      camera.on("updated", () => { const proj = projection(); drawSketch(proj); drawLabels(proj); });  // zoom still works
      console.warn("plm-graph: sigma could not start:", err);
      return;
    }
    if (bbox) renderer.setCustomBBox(bbox);
    renderer.setCamera(camera);
    globalThis.__plmSigma = renderer;   // a handle for browser tests (camera, coordinates)
    renderer.on("clickNode", ({ node }) => { lastClicked = node; setTriggerValue("node_clicked", node); });
    renderer.on("clickStage", () => { if (selected) { lastClicked = ""; setTriggerValue("node_clicked", ""); } });
    renderer.on("enterNode", ({ node, event }) => {
      tip.textContent = graph.getNodeAttribute(node, "title") || "";
      tip.style.display = "block";
      tip.style.left = `${Math.max(0, Math.min(event.x + 14, frame.clientWidth - 330))}px`;
      tip.style.top = `${event.y + 14}px`;
      stage.style.cursor = "pointer";
    });
    renderer.on("leaveNode", () => { tip.style.display = "none"; stage.style.cursor = ""; });
    renderer.on("afterRender", () => {
      if (drawer === "sketch") { drawer = "sigma"; sketch.remove(); }
      drawLabels(projection());
      if (!settled && !camera.isAnimated()) settle();
      else if (settled) { clearTimeout(listTimer); listTimer = setTimeout(refreshList, 300); }
    });
    renderer.scheduleRender();
    if (flight) camera.animate(flight, { duration: 450 });
  }
  const hold = globalThis.__plmGraphHold;  // browser tests may hold sigma back, to look at the sketch alone
  requestAnimationFrame(() => setTimeout(() => (hold ? Promise.resolve(hold).then(start) : start()), 0));
  return () => { stopped = true; resize.disconnect(); clearTimeout(listTimer); if (renderer) renderer.kill(); };
}
