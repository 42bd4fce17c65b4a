"""Bidirectional browser components (st.components.v2, inline JavaScript, nothing fetched).

`graph(...)` draws an interactive vis-network graph (the vis-network 9.1.2 bundle that ships inside
the pyvis wheel) and reports the node a user clicks, so a click opens that node's page in the same
session. Labels are drawn on a canvas and tooltips are set as text (vis-network's setText uses
innerText), so hostile labels cannot inject markup.
"""

from __future__ import annotations

import importlib.resources
import json

import streamlit as st

_VIS_MODULE = """
;export default function ({ data, parentElement, setTriggerValue }) {
  const vis = globalThis.vis;
  let el = parentElement.querySelector(".plm-graph");
  if (!el) {
    el = document.createElement("div");
    el.className = "plm-graph";
    el.style.border = "1px solid #ddd";
    el.style.borderRadius = "6px";
    parentElement.appendChild(el);
  }
  el.style.height = data.height;
  const nodes = new vis.DataSet(JSON.parse(data.nodes));
  const edges = new vis.DataSet(JSON.parse(data.edges));
  const network = new vis.Network(el, { nodes, edges }, JSON.parse(data.options));
  network.on("click", (p) => { if (p.nodes.length) setTriggerValue("node_clicked", String(p.nodes[0])); });
  network.once("afterDrawing", () => { el.dataset.drawn = "1"; });
  globalThis.__plmGraph = network;     // handle for browser tests
  return () => network.destroy();
}
"""

OPTIONS = {
    "physics": {"enabled": True, "stabilization": {"iterations": 150, "fit": True},
                "barnesHut": {"gravitationalConstant": -5000, "centralGravity": 0.6, "springLength": 120,
                              "avoidOverlap": 0.1}},
    "nodes": {"shape": "dot", "scaling": {"min": 8, "max": 30, "label": {"enabled": False}},
              "font": {"size": 22, "strokeWidth": 4, "strokeColor": "#ffffff"}},
    "edges": {"arrows": {"to": {"enabled": True, "scaleFactor": 0.5}}, "font": {"size": 9, "align": "middle"},
              "color": {"color": "#999999", "highlight": "#333333"}, "smooth": {"type": "continuous"}},
    "interaction": {"hover": True, "tooltipDelay": 120},
}


@st.cache_resource(show_spinner=False)
def _graph_component():
    vis_js = (importlib.resources.files("pyvis") / "templates/lib/vis-9.1.2/vis-network.min.js").read_text()
    return st.components.v2.component("plm_graph", js=vis_js + _VIS_MODULE)


def graph(nodes: list[dict], edges: list[dict], *, key: str, height: int = 620,
          edge_labels: bool = False) -> str | None:
    """Draw the graph; return the id of the node clicked in this run (None otherwise)."""
    options = json.loads(json.dumps(OPTIONS))
    if not edge_labels:
        edges = [{k: v for k, v in e.items() if k != "label"} for e in edges]
    if nodes and all("x" in n and "y" in n for n in nodes):
        options["physics"] = {"enabled": False}  # laid out on the server (kg.views.layout): draw, don't move
    elif len(nodes) > 150:  # large views: a shorter layout run keeps the page quick
        options["physics"]["stabilization"]["iterations"] = 60
    result = _graph_component()(
        key=key, data={"nodes": json.dumps(nodes), "edges": json.dumps(edges),
                       "options": json.dumps(options), "height": f"{height}px"},
        on_node_clicked_change=lambda: None,
    )
    return getattr(result, "node_clicked", None)
