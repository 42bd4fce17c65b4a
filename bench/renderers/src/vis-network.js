// vis-network (canvas 2D): the esnext ESM build, bundled with its peer dependencies (vis-data, vis-util, …).
import { Network } from "vis-network/esnext";
import { DataSet } from "vis-data/esnext";
import { run } from "./harness.js";

run(() => {
  let net, scale0, centre0, t0 = null, last = null;
  return {
    draw(container, graph) {
      const nodes = new DataSet(graph.nodes.map((n) => ({ id: n.id, label: n.label, x: n.x, y: n.y, color: n.color, size: n.size })));
      const edges = new DataSet(graph.edges.map((e, i) => ({ id: i, from: e.source, to: e.target })));
      const tCtor = performance.now();
      net = new Network(container, { nodes, edges }, {
        autoResize: true,
        physics: { enabled: false }, // positions are precomputed
        layout: { improvedLayout: false, randomSeed: 1 },
        nodes: { shape: "dot", font: { size: 12, color: "#333" } }, // labels on (hidden below 5 px, vis default drawThreshold)
        edges: { arrows: { to: { enabled: true, scaleFactor: 0.5 } }, smooth: false, width: 1, color: { color: "#999999" } },
        interaction: { hover: true, dragNodes: true },
      });
      this.ctorMs = performance.now() - tCtor;
      net.on("beforeDrawing", () => { t0 = performance.now(); });
      net.on("afterDrawing", () => { if (t0 != null) last = performance.now() - t0; });
      this.instance = net;
      return new Promise((resolve) => net.once("afterDrawing", () => {
        scale0 = net.getScale();
        centre0 = net.getViewPosition();
        resolve();
      }));
    },
    zoom(f) { net.moveTo({ scale: scale0 * f, position: centre0, animation: false }); },
    lastRenderMs() { return last; },
  };
});
