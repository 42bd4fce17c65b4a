// Shared by the three page scripts: load the graph, let the renderer draw it, time it, zoom, record.
//
// Everything lands on window.__bench (read by bench/bench_renderers.py); __bench.done turns true at the end,
// __bench.error holds the message if anything threw.
//
// Query string: ?n=400 (graph size, dist/graph-400.json), &frames=30 (zoom frames: half in to x4, half out),
// &zoomcap=12000 (stop zooming after this many ms and say so in __bench.zoomTruncated: bounds a slow renderer).
// Progress is also logged as `console.debug("__bench {json}")`, so a load cut off by a timeout keeps what it had.

const SCRIPT_START = performance.now(); // this module starts evaluating (after its download and parse)

const raf = () => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())));

function stats(xs) {
  if (!xs.length) return { mean: null, p95: null, max: null, n: 0 };
  const s = [...xs].sort((a, b) => a - b);
  const p95 = s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, p95, max: s[s.length - 1], n: xs.length };
}

const report = (B) => console.debug("__bench " + JSON.stringify(B));

const heap = () => (performance.memory ? performance.memory.usedJSHeapSize : null);

/**
 * adapter = {
 *   draw(container, graph) -> Promise   resolves at the library's own first-draw event; sets ctorMs (the
 *                                       library's constructor call alone)
 *   zoom(factor)                        set the camera to `factor` x the fitted zoom, centred (no animation)
 *   lastRenderMs() -> number|null       JS time of the library's last render (its own before/after events)
 *   instance                            the library object (window.__renderer, for poking at in a console)
 * }
 */
export async function run(makeAdapter) {
  const B = (window.__bench = { renderer: __RENDERER__, scriptStart: SCRIPT_START, done: false });
  try {
    const params = new URLSearchParams(location.search);
    const n = params.get("n") || "92";
    const frames = Math.max(2, parseInt(params.get("frames") || "30", 10));
    const zoomCap = parseFloat(params.get("zoomcap") || "12000");

    const tFetch = performance.now();
    const graph = await (await fetch(`../dist/graph-${n}.json`)).json();
    B.fetchMs = performance.now() - tFetch;
    B.nodes = graph.nodes.length;
    B.edges = graph.edges.length;

    const container = document.getElementById("graph");
    const adapter = makeAdapter();
    const tDraw = performance.now();
    await adapter.draw(container, graph);
    B.drawEvent = performance.now(); // the library's first draw event
    B.drawMs = B.drawEvent - tDraw; // data in -> first draw event (library setup + first render)
    B.ctorMs = adapter.ctorMs;
    window.__renderer = adapter.instance;
    await raf();
    B.firstDraw = performance.now(); // navigation start (timeOrigin) -> first draw + 1 rAF
    B.navToDraw = Date.now() - performance.timing.navigationStart; // the same, by performance.timing
    B.firstRenderMs = adapter.lastRenderMs();
    B.heapAfterDraw = heap();
    report(B);

    // Programmatic zoom: one camera step per frame, the library repaints in the next frame; an interval
    // between our rAF callbacks therefore spans one full frame including one render of the graph.
    await raf();
    let prev = await raf();
    const zoomStart = prev;
    const intervals = [], renders = [];
    const half = frames / 2;
    B.zoomTruncated = false;
    for (let i = 1; i <= frames; i++) {
      if (prev - zoomStart > zoomCap) { B.zoomTruncated = true; break; }
      adapter.zoom(Math.pow(4, i <= half ? i / half : (frames - i) / half));
      const t = await raf();
      intervals.push(t - prev);
      prev = t;
      const r = adapter.lastRenderMs();
      if (r != null) renders.push(r);
      if (i % 5 === 0) report({ ...B, frame: stats(intervals), framesDone: intervals.length });
    }
    B.framesDone = intervals.length;
    B.frame = stats(intervals);
    B.render = stats(renders);
    B.frames = intervals;
    B.heapAfterZoom = heap();
    if (typeof window.gc === "function") { // only with --js-flags=--expose-gc
      window.gc();
      B.heapAfterGc = heap();
    }
  } catch (e) {
    B.error = String((e && e.stack) || e);
  }
  B.done = true;
  report(B);
}
