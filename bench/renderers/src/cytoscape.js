// cytoscape (canvas 2D renderer, the default).
import cytoscape from "cytoscape";
import { run } from "./harness.js";

run(() => {
  let cy, zoom0, centre;
  return {
    draw(container, data) {
      const elements = {
        nodes: data.nodes.map((n) => ({ data: { id: n.id, label: n.label, color: n.color, d: 2 * n.size }, position: { x: n.x, y: n.y } })),
        edges: data.edges.map((e, i) => ({ data: { id: `e${i}`, source: e.source, target: e.target } })),
      };
      const tCtor = performance.now();
      cy = cytoscape({
        container, elements,
        layout: { name: "preset", fit: true, padding: 20 }, // positions are precomputed
        style: [
          { selector: "node", style: { "background-color": "data(color)", width: "data(d)", height: "data(d)",
            label: "data(label)", "font-size": 12, color: "#333", "text-valign": "bottom", "text-margin-y": 2,
            "min-zoomed-font-size": 5 } }, // like vis-network's drawThreshold: no label below 5 px
          { selector: "edge", style: { width: 1, "line-color": "#999999", "curve-style": "straight",
            "target-arrow-shape": "triangle", "target-arrow-color": "#999999", "arrow-scale": 0.6 } },
        ],
      });
      this.ctorMs = performance.now() - tCtor;
      this.instance = cy;
      return new Promise((resolve) => cy.one("render", () => {
        zoom0 = cy.zoom();
        centre = { x: container.clientWidth / 2, y: container.clientHeight / 2 };
        resolve();
      }));
    },
    zoom(f) { cy.zoom({ level: zoom0 * f, renderedPosition: centre }); },
    // the canvas renderer times its own frames (r.lastRedrawTime, set around r.render in its rAF loop)
    lastRenderMs() { const r = cy.renderer(); return r && r.lastRedrawTime != null ? r.lastRedrawTime : null; },
  };
});
