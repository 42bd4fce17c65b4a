"""Node page (permalink /node?node=<id>): labels, description, facts, relations both ways, claims, demos.

A `?node=` longer than any node's name is refused by `describe` before any matching; every text
from the graph is cut (esc's limits) and the picker's options are short labels.
"""

import streamlit as st

import mechanisms
from app_pages._components import graph
from app_pages._shared import (GRAPH_PAGE, NODE_PAGE, TRACE_PAGE, backend, demo_runner, esc, graph_name, kind_badge, node_link,
                               nodes, option_label)
from kg.limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS
from kg.nodes import NameTooLong, NodeNotFound, backed_relations, describe
from app_pages.i18n import t
from kg.views import FILTER_KINDS, arxiv_url, neighbourhood



@st.cache_data(show_spinner=False, max_entries=256)
def hood_view(graph: str, iri: str):
    """A node's neighbourhood with its layout, computed once per graph and node, not on every rerun."""
    return neighbourhood(backend(), iri)


all_nodes = nodes()
choices = sorted((n for n in all_nodes.values() if n.kinds and n.iri.startswith("https://w3id.org/plm-map/id/")),
                 key=lambda n: (n.kind, n.label.lower()))
ids = [n.id for n in choices]
current = st.query_params.get("node")


def on_pick():
    st.query_params["node"] = st.session_state["node_pick"]


st.selectbox("Node", ids, index=ids.index(current) if current in ids else None, key="node_pick",
             on_change=on_pick, placeholder="Choose a node…",
             format_func=lambda i: option_label(all_nodes["https://w3id.org/plm-map/id/" + i]))

if not current:
    st.title("Node")
    st.info("No node selected: choose one above, search on the Graph page, or open /node?node=BERT.")
    st.stop()

try:
    d = describe(backend(), current)
except NameTooLong as e:
    st.title("Node")
    st.error(f"The address names no node: {esc(e)}")
    st.stop()
except NodeNotFound as e:
    st.title("Node")
    st.error(f"Unknown node: {esc(current, MAX_INPUT_CHARS)}")
    for h in e.suggestions[:5]:
        node_link(all_nodes[h.iri], label=f"Did you mean {h.label}?")
    st.stop()

node = d.node
st.title(esc(node.label, MAX_LABEL_CHARS))
zh = [node.labels[k] for k in ("zh-Hans", "zh-Hant") if k in node.labels]
st.markdown(" ".join(kind_badge(k) for k in node.kinds)
            + ("  " + esc(" / ".join(dict.fromkeys(zh)), MAX_LABEL_CHARS) if zh else ""))
if node.alt_labels:
    st.caption("Also: " + esc(", ".join(label[:MAX_LABEL_CHARS] for label in node.alt_labels)))
if d.definition:
    st.markdown(esc(d.definition))
st.page_link(TRACE_PAGE, label="Trace from here: its weaknesses, what fixes them and which models bring the fixes",
             icon=":material/route:", query_params={"from": node.id})

st.subheader(t("node.neighbourhood"))
hood = hood_view(graph_name(), node.iri)
clicked = graph(hood.nodes, hood.edges, key=f"hood-{node.id}", height=400, selected=node.id,
                layout_key=f"hood-{node.id}", centre_selected=False).clicked
if clicked and clicked != node.id:
    st.switch_page(NODE_PAGE, query_params={"node": clicked})
if hood.capped:
    st.caption(t("node.hood_capped", shown=len(hood.nodes) - 1, total=hood.total_nodes - 1))
st.page_link(GRAPH_PAGE, label=t("node.show_all", count=hood.total_nodes - 1), icon=":material/hub:",
             query_params={"kinds": ",".join(FILTER_KINDS), "center": node.id, "focus": node.id,
                           "expand": node.id})


if d.facts:
    st.subheader("Facts")
    for prop, value in d.facts:
        st.markdown(f"**{esc(prop, MAX_LABEL_CHARS)}**: {esc(value, 600)}")
for title, rels in (("Relations", d.outgoing), ("Relations to it", d.incoming)):
    if rels:
        st.subheader(title)
        by_label: dict[str, list] = {}
        for r in rels:
            by_label.setdefault(r.label, []).append(r.node)
        for label, targets in by_label.items():
            st.markdown(f"**{esc(label, MAX_LABEL_CHARS)}**")
            with st.container(horizontal=True, gap="small"):  # links sized to their names, wrapping
                for target in targets:
                    node_link(target)
if "claim" in node.kinds:
    backs = backed_relations(backend(), node.id)
    if backs:
        st.subheader("Evidence for")
        for s, label, o in backs:
            st.markdown(f"{esc(s.label, MAX_LABEL_CHARS)} — *{esc(label, MAX_LABEL_CHARS)}* → "
                        f"{esc(o.label, MAX_LABEL_CHARS)}")

if d.claims:
    st.subheader(f"Claims about {esc(node.label, 80)}")
    for c in d.claims:
        papers = " · ".join(
            f"[{esc(title, 90)}]({arxiv_url(arxiv)})" if arxiv_url(arxiv) else esc(title, 90)
            for _, title, arxiv in c.papers)
        st.markdown(f"**{esc(c.id)}** (section {esc(c.section)}) {esc(c.text)}" + (f"  \n:small[{papers}]" if papers else ""))
if d.contrasts:
    st.subheader("Contrasting claims")
    for a, b in d.contrasts:
        st.markdown(f"**{esc(a.id)}** {esc(a.text)}  \n↔ **{esc(b.id)}** {esc(b.text)}")

demos = []
if "demo" in node.kinds:  # a graph file may name a demo that this checkout does not have
    demos = [d for d in mechanisms.DEMOS if d.id == node.id.removeprefix("demo-")]
elif "claim" in node.kinds:
    demos = mechanisms.for_claim(node.identifier or "")
else:
    demos = mechanisms.for_mechanism(node.id)
if demos:
    st.subheader("Run the demo" if len(demos) == 1 else "Run the demos")
    st.caption("Each demo is a small PyTorch program that measures the claim and returns a verdict from the "
               "numbers it just computed.")
    for demo in demos:
        with st.container(border=True):
            demo_runner(demo, key=f"demo-{demo.id}")
            st.caption("Checks " + ", ".join(esc(c) for c in demo.claims) + f" · source: mechanisms/{esc(demo.module.split('.')[-1])}.py")
