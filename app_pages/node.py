"""Node page (permalink /node?node=<id>): labels, description, facts, relations both ways, claims, demos.

A `?node=` longer than any node's name is refused by `describe` before any matching; every text
from the graph is cut (esc's limits) and the picker's options are short labels.
"""

import streamlit as st

import mechanisms
from app_pages._components import graph
from app_pages._shared import (GRAPH_PAGE, NODE_PAGE, TRACE_PAGE, backend, demo_runner, esc, graph_name, kind_badge, node_label,
                               node_link, nodes, option_label)
from kg.limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS
from kg.nodes import NameTooLong, NodeNotFound, backed_relations, describe
from app_pages.i18n import language, t, with_language
from kg.views import FILTER_KINDS, arxiv_url, neighbourhood



@st.cache_data(show_spinner=False, max_entries=256)
def hood_view(graph: str, iri: str, lang: str):
    """A node's neighbourhood with its layout, computed once per graph and node, not on every rerun."""
    return neighbourhood(backend(), iri, lang=lang)


lang = language()
all_nodes = nodes()
choices = sorted((n for n in all_nodes.values() if n.kinds and n.iri.startswith("https://w3id.org/plm-map/id/")),
                 key=lambda n: (n.kind, n.name(lang).lower()))
ids = [n.id for n in choices]
pick_labels = {n.id: option_label(n) for n in choices}   # built in the run: the picker reads them later
current = st.query_params.get("node")


def on_pick():
    st.query_params["node"] = st.session_state["node_pick"]


st.selectbox(t("node.pick"), ids, index=ids.index(current) if current in ids else None, key="node_pick",
             on_change=on_pick, placeholder=t("node.pick_placeholder"),
             format_func=pick_labels.get)

if not current:
    st.title(t("node.title"))
    st.info(t("node.none_selected"))
    st.stop()

try:
    d = describe(backend(), current, lang=lang)
except NameTooLong as e:
    st.title(t("node.title"))
    st.error(t("node.bad_name", error=esc(e)))
    st.stop()
except NodeNotFound as e:
    st.title(t("node.title"))
    st.error(t("node.unknown", name=esc(current, MAX_INPUT_CHARS)))
    for h in e.suggestions[:5]:  # node_link escapes the whole label
        node_link(all_nodes[h.iri], label=t("node.did_you_mean", label=node_label(all_nodes[h.iri])))
    st.stop()

node = d.node
shown_name = node_label(node)
st.title(esc(shown_name, MAX_LABEL_CHARS))
others = [node.labels[k] for k in ("en", "zh-Hans", "zh-Hant") if node.labels.get(k) and node.labels[k] != shown_name]
st.markdown(" ".join(kind_badge(k) for k in node.kinds)
            + ("  " + esc(" / ".join(dict.fromkeys(others)), MAX_LABEL_CHARS) if others else ""))
if node.alt_labels:
    st.caption(t("node.also", labels=esc(", ".join(label[:MAX_LABEL_CHARS] for label in node.alt_labels))))
if d.definition_in(lang):
    st.markdown(esc(d.definition_in(lang)))
st.page_link(TRACE_PAGE, label=t("node.trace"), icon=":material/route:", query_params=with_language({"from": node.id}))

st.subheader(t("node.neighbourhood"))
hood = hood_view(graph_name(), node.iri, lang)
clicked = graph(hood.nodes, hood.edges, key=f"hood-{node.id}", height=400, selected=node.id,
                layout_key=f"hood-{node.id}", centre_selected=False).clicked
if clicked and clicked != node.id:
    st.switch_page(NODE_PAGE, query_params=with_language({"node": clicked}))
if hood.capped:
    st.caption(t("node.hood_capped", shown=len(hood.nodes) - 1, total=hood.total_nodes - 1))
st.page_link(GRAPH_PAGE, label=t("node.show_all", count=hood.total_nodes - 1), icon=":material/hub:",
             query_params=with_language({"kinds": ",".join(FILTER_KINDS), "center": node.id, "focus": node.id,
                                         "expand": node.id}))


if d.facts:
    st.subheader(t("node.facts"))
    for prop, value in d.facts:
        st.markdown(f"**{esc(prop, MAX_LABEL_CHARS)}**: {esc(value, 600)}")
for title, rels in ((t("node.relations"), d.outgoing), (t("node.relations_to_it"), d.incoming)):
    if rels:
        st.subheader(title)
        by_label: dict[str, list] = {}
        for r in rels:
            by_label.setdefault(r.name(lang), []).append(r.node)
        for label, targets in by_label.items():
            st.markdown(f"**{esc(label, MAX_LABEL_CHARS)}**")
            with st.container(horizontal=True, gap="small"):  # links sized to their names, wrapping
                for target in targets:
                    node_link(target)
if "claim" in node.kinds:
    backs = backed_relations(backend(), node.id, lang=lang)
    if backs:
        st.subheader(t("node.evidence_for"))
        for s, label, o in backs:
            st.markdown(f"{esc(node_label(s), MAX_LABEL_CHARS)} — *{esc(label, MAX_LABEL_CHARS)}* → "
                        f"{esc(node_label(o), MAX_LABEL_CHARS)}")

if d.claims:
    st.subheader(t("node.claims_about", node=esc(shown_name, 80)))
    for c in d.claims:
        papers = " · ".join(
            f"[{esc(title, 90)}]({arxiv_url(arxiv)})" if arxiv_url(arxiv) else esc(title, 90)
            for _, title, arxiv in c.papers)
        line = t("node.claim", id=esc(c.id), section=esc(c.section), text=esc(c.text_in(lang)))
        if papers:
            line += f"  \n:small[{papers}]"  # the papers' titles, in small type on a line of their own
        st.markdown(line)
if d.contrasts:
    st.subheader(t("node.contrasts"))
    for a, b in d.contrasts:
        st.markdown(f"**{esc(a.id)}** {esc(a.text_in(lang))}  \n↔ **{esc(b.id)}** {esc(b.text_in(lang))}")

demos = []
if "demo" in node.kinds:  # a graph file may name a demo that this checkout does not have
    demos = [d for d in mechanisms.DEMOS if d.id == node.id.removeprefix("demo-")]
elif "claim" in node.kinds:
    demos = mechanisms.for_claim(node.identifier or "")
else:
    demos = mechanisms.for_mechanism(node.id)
if demos:
    st.subheader(t("node.run_demo" if len(demos) == 1 else "node.run_demos"))
    st.caption(t("node.demos_caption"))
    for demo in demos:
        with st.container(border=True):
            demo_runner(demo, key=f"demo-{demo.id}")
            st.caption(t("node.checks", claims=", ".join(esc(c) for c in demo.claims),
                         module=esc(demo.module.split(".")[-1])))
