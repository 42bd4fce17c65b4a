// Builds the renderer benchmark: one minified page script per renderer, and the synthetic graphs.
//
//   npm ci && node build.mjs        writes dist/{vis-network,sigma,cytoscape}.js, dist/graph-N.json, dist/build.json
//
// The pages in pages/*.html load ../dist/<renderer>.js (an ES module) and ../dist/graph-N.json.
// bench/bench_renderers.py runs this when dist/ is missing and then drives the pages in Chromium.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
mkdirSync(dist, { recursive: true });

// The exact versions under test; the build refuses to run against anything else.
const PINNED = { "vis-network": "10.1.5", sigma: "3.0.3", graphology: "0.26.0", cytoscape: "3.35.0", esbuild: "0.28.2" };
const versions = {};
for (const [name, want] of Object.entries(PINNED)) {
  const got = JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8")).version;
  if (got !== want) throw new Error(`${name} is ${got} in node_modules, want ${want}: run npm ci`);
  versions[name] = got;
}
for (const peer of ["vis-data", "vis-util"]) {
  versions[peer] = JSON.parse(readFileSync(join(here, "node_modules", peer, "package.json"), "utf8")).version;
}

// ---- page scripts -------------------------------------------------------------------------------------
const ENTRIES = {
  "vis-network": `vis-network ${versions["vis-network"]} (esnext ESM build + vis-data ${versions["vis-data"]}, vis-util ${versions["vis-util"]})`,
  sigma: `sigma ${versions.sigma} + graphology ${versions.graphology}`,
  cytoscape: `cytoscape ${versions.cytoscape}`,
};
const bundles = {};
for (const [name, label] of Object.entries(ENTRIES)) {
  const result = await esbuild.build({
    entryPoints: [join(here, "src", `${name}.js`)], bundle: true, format: "esm", minify: true,
    target: "es2020", legalComments: "none", charset: "utf8", logLevel: "warning", write: false,
    define: { __RENDERER__: JSON.stringify(label) },
  });
  const text = result.outputFiles[0].text;
  writeFileSync(join(dist, `${name}.js`), text);
  bundles[name] = { file: `dist/${name}.js`, bytes: Buffer.byteLength(text), label };
  console.log(`${name}.js: ${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB  (${label})`);
}

// ---- synthetic graphs ---------------------------------------------------------------------------------
// Deterministic (mulberry32, seed per size): nodes spread uniformly in a disc whose radius grows with
// sqrt(n) (constant density), about 2.4 directed edges per node, 75 % of them to a node in the same or a
// neighbouring grid cell (local structure, like a laid-out graph) and 25 % to any node.
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const PHRASES = ["masked language model", "causal language model", "encoder", "decoder", "seq2seq model",
  "distilled BERT", "multilingual encoder", "retrieval model", "sparse MoE", "vision-language model",
  "code model", "instruction-tuned LM", "adapter", "tokenizer", "RoBERTa variant", "T5 family", "GPT"];
const COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7"];
const EDGES_PER_NODE = 2.4;

function makeGraph(n) {
  const rnd = mulberry32(0x5eed + n);
  const radius = 25 * Math.sqrt(n);
  const nodes = [];
  for (let i = 0; i < n; i++) {
    const r = radius * Math.sqrt(rnd()), a = 2 * Math.PI * rnd();
    let label = `Node ${i} ${PHRASES[Math.floor(rnd() * PHRASES.length)]}`;
    if (label.length > 30) label = label.slice(0, 30).trimEnd();
    nodes.push({ id: `n${i}`, label, x: Math.round(r * Math.cos(a) * 10) / 10, y: Math.round(r * Math.sin(a) * 10) / 10,
      color: COLOURS[Math.floor(rnd() * COLOURS.length)], size: 4 + Math.floor(rnd() * 11) });
  }
  const cell = 60, key = (x, y) => `${Math.floor(x / cell)},${Math.floor(y / cell)}`;
  const grid = new Map();
  nodes.forEach((nd, i) => { const k = key(nd.x, nd.y); if (!grid.has(k)) grid.set(k, []); grid.get(k).push(i); });
  const m = Math.round(EDGES_PER_NODE * n), seen = new Set(), edges = [];
  let guard = 0;
  while (edges.length < m && guard++ < m * 50) {
    const s = Math.floor(rnd() * n);
    let t;
    if (rnd() < 0.75) {
      const cx = Math.floor(nodes[s].x / cell) + Math.floor(rnd() * 3) - 1;
      const cy = Math.floor(nodes[s].y / cell) + Math.floor(rnd() * 3) - 1;
      const bucket = grid.get(`${cx},${cy}`);
      if (!bucket) continue;
      t = bucket[Math.floor(rnd() * bucket.length)];
    } else t = Math.floor(rnd() * n);
    const id = `${s}>${t}`;
    if (s === t || seen.has(id)) continue;
    seen.add(id);
    edges.push({ source: nodes[s].id, target: nodes[t].id });
  }
  return { nodes, edges };
}

const graphs = {};
for (const n of [92, 400, 2000, 20000]) {
  const g = makeGraph(n);
  const text = JSON.stringify(g);
  writeFileSync(join(dist, `graph-${n}.json`), text);
  const lens = g.nodes.map((x) => x.label.length);
  graphs[n] = { file: `dist/graph-${n}.json`, nodes: g.nodes.length, edges: g.edges.length, bytes: Buffer.byteLength(text),
    label_chars: [Math.min(...lens), Math.max(...lens)] };
  console.log(`graph-${n}.json: ${g.nodes.length} nodes, ${g.edges.length} edges, ${(text.length / 1024).toFixed(0)} KiB`);
}

writeFileSync(join(dist, "build.json"), JSON.stringify({ versions, esbuild: esbuild.version, bundles, graphs }, null, 2));
