// sigma (WebGL) on a graphology graph.
import Graph from "graphology";
import Sigma from "sigma";
import { run } from "./harness.js";

run(() => {
  let renderer, t0 = null, last = null;
  return {
    draw(container, data) {
      const graph = new Graph({ type: "directed", multi: false });
      for (const n of data.nodes) graph.addNode(n.id, { label: n.label, x: n.x, y: -n.y, size: n.size, color: n.color });
      for (const e of data.edges) graph.addDirectedEdge(e.source, e.target, { size: 1, color: "#999999" });
      // The constructor indexes the graph and renders synchronously (its first afterRender fires inside it).
      const tStart = performance.now();
      renderer = new Sigma(graph, container, {
        renderLabels: true, labelSize: 12, labelColor: { color: "#333" }, // sigma's own label grid decides which show
        defaultEdgeType: "arrow",
      });
      last = this.ctorMs = performance.now() - tStart;
      renderer.on("beforeRender", () => { t0 = performance.now(); });
      renderer.on("afterRender", () => { if (t0 != null) last = performance.now() - t0; });
      this.instance = renderer;
      return Promise.resolve();
    },
    zoom(f) { renderer.getCamera().setState({ ratio: 1 / f }); }, // ratio 1 = fitted; smaller = closer
    lastRenderMs() { return last; },
  };
});
