"""Graph: the survey's concepts and their relations, filtered, coloured by kind; a click opens a node."""

import streamlit as st

from app_pages._components import graph
from app_pages._shared import NODE_PAGE, backend, capped, esc, graph_name, kind_badge, node_link, nodes
from kg.limits import MAX_INPUT_CHARS, clip, display_text
from kg.nodes import search
from kg.views import DEFAULT_KINDS, FILTER_KINDS, graph_view, relation_labels
from kg.vocab import PM


@st.cache_data(show_spinner=False, max_entries=64)
def view(graph: str, kinds: tuple, relations: tuple | None, section: str | None, direction: str | None,
         center: str | None, depth: int):
    """The drawn view (its layout included) for one graph and one set of filters; `graph` names the
    graph read, so that another graph (PLM_MAP_GRAPH, an endpoint) never gets this one's view."""
    return graph_view(backend(), kinds=kinds, relations=list(relations) if relations else None,
                      section=section, direction=direction, center=center, depth=depth)


all_nodes = nodes()
sections = sorted((n for n in all_nodes.values() if n.kind == "section" and n.identifier),
                  key=lambda n: (n.identifier == "future", int(n.identifier[1:]) if n.identifier[1:].isdigit() else 0))
directions = sorted((n for n in all_nodes.values() if n.kind == "direction"), key=lambda n: n.label)

st.title("Knowledge graph")
st.caption("Models, mechanisms, weaknesses, feature extractors and objectives of the survey. "
           "Click a node to open its page; hover for its Chinese name.")

c1, c2, c3, c4 = st.columns([3, 3, 2, 2])
kinds = c1.multiselect("Kinds", FILTER_KINDS, default=list(DEFAULT_KINDS), key="g_kinds")
relations = c2.multiselect("Relations", relation_labels(backend()), default=[], key="g_relations",
                           placeholder="all relations")
section = c3.selectbox("Survey section", [None] + [s.identifier for s in sections], key="g_section",
                       format_func=lambda s: "any" if s is None else display_text(s, 40))
direction = c4.selectbox("Improvement direction", [None] + [d.id.removeprefix("direction-") for d in directions],
                         key="g_direction", format_func=lambda d: "any" if d is None else display_text(d, 40))

c5, c6, c7 = st.columns([4, 4, 2])
query = c5.text_input("Find a node (English or Chinese, either script)", key="g_search", max_chars=MAX_INPUT_CHARS,
                      placeholder="e.g. 排列语言模型, XLNet, masking")
query = capped(query, "The search")
hits = search(backend(), query, limit=12) if query.strip() else []
center_id = c6.selectbox("Centre the view on", [None] + [h.id for h in hits], key="g_center",
                         format_func=lambda i: "no centre (whole filtered graph)" if i is None else
                         display_text(next(h.label for h in hits if h.id == i), 80))
depth = c7.slider("Depth", 1, 3, 1, key="g_depth", disabled=center_id is None)

v = view(graph_name(), tuple(kinds), tuple(relations) or None, section, direction,
         PM + center_id if center_id else None, depth)
st.markdown(" ".join(kind_badge(k) for k in kinds) + f"  {len(v.nodes)} nodes, {len(v.edges)} edges")
if v.capped:
    st.warning(f"Showing the {len(v.nodes)} best-connected of {v.total_nodes} nodes; narrow the filters to see the rest.")
if not v.nodes:
    st.info("No node matches these filters.")
else:
    clicked = graph(v.nodes, v.edges, key="main_graph", edge_labels=len(v.edges) < 120)
    if clicked:
        st.switch_page(NODE_PAGE, query_params={"node": clicked})

if hits:
    st.subheader("Search results")
    for h in hits:
        node_link(all_nodes[h.iri], label=f"{clip(h.label, 60)} — {h.kind}"
                  + (f" (matched {clip(h.matched, 40)})" if h.matched != h.label else ""))
elif query.strip():
    st.info(f"Nothing matches {esc(query)}.")
