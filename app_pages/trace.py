"""Trace (permalink /trace?from=BERT&to=XLNet): why a model exists, hop by hop, with the evidence."""

import streamlit as st

import mechanisms
from app_pages._shared import NODE_PAGE, backend, capped, demo_title, esc, node_link, nodes, option_label
from app_pages.i18n import language, t, with_language
from kg.limits import MAX_LABEL_CHARS
from kg.nodes import NodeNotFound
from kg.trace import between, fixes

lang = language()
all_nodes = nodes()
concepts = sorted((n for n in all_nodes.values()
                   if set(n.kinds) & {"model", "mechanism", "weakness", "objective", "extractor", "stage"}),
                  key=lambda n: n.name(lang).lower())
ids = [n.id for n in concepts]
label_of = {n.id: option_label(n) for n in concepts}


def sync_url():
    """The address from the widgets (and the interface's language, which it keeps)."""
    params = {"from": st.session_state.get("t_from"), "to": st.session_state.get("t_to"),
              "inherited": "1" if st.session_state.get("t_inherited") else None}
    st.query_params.from_dict(with_language({name: value for name, value in params.items() if value}))


def example():
    st.session_state["t_from"], st.session_state["t_to"] = "BERT", "XLNet"
    sync_url()


# The URL is the source of truth (widgets write it back on change), so a permalink or a "trace from
# here" link always shows its trace.
for key, param in (("t_from", "from"), ("t_to", "to")):
    value = capped(st.query_params.get(param), t("shared.what_param", name=param))
    value = value if value in ids else None
    if st.session_state.get(key) != value:
        st.session_state[key] = value
st.session_state["t_inherited"] = st.query_params.get("inherited") == "1"

st.title(t("trace.title"))
st.caption(t("trace.caption"))
st.button(t("trace.example"), on_click=example, key="t_example", type="primary")
c1, c2, c3 = st.columns([4, 4, 2])
c1.selectbox(t("trace.from"), ids, index=None, key="t_from", on_change=sync_url, format_func=label_of.get,
             placeholder=t("trace.from_placeholder"))
c2.selectbox(t("trace.to"), ids, index=None, key="t_to", on_change=sync_url,
             format_func=label_of.get, placeholder=t("trace.to_placeholder"))
c3.checkbox(t("trace.inherited"), key="t_inherited", on_change=sync_url, help=t("trace.inherited_help"))

source, target = st.session_state["t_from"], st.session_state["t_to"]
if not source:
    st.info(t("trace.choose_start"))
    st.stop()
try:
    chains = (between(backend(), source, target) if target else
              fixes(backend(), source, inherited=st.session_state["t_inherited"]))
except NodeNotFound as e:
    st.error(esc(e))
    st.stop()

if not chains:
    if target:
        st.warning(t("trace.no_chain_between", source=esc(label_of.get(source, source)),
                     target=esc(label_of.get(target, target))))
    else:
        st.warning(t("trace.no_chain_from", source=esc(label_of.get(source, source))))
    st.stop()
kind = "connection" if chains[0].kind == "connection" else "fix"
st.markdown(t("trace.chain_count_one" if len(chains) == 1 else "trace.chain_count", count=len(chains))
            + (t("trace.connections_only") if kind == "connection" else ""))

for i, chain in enumerate(chains, 1):
    with st.expander(f"{i}. {esc(chain.text(lang), 300)}", expanded=i <= 3):
        for j, hop in enumerate(chain.hops, 1):
            cols = st.columns([3, 2, 3])
            with cols[0]:
                node_link(hop.source)
            cols[1].markdown(f"*{esc(hop.name(lang), MAX_LABEL_CHARS)}* →")
            with cols[2]:
                node_link(hop.target)
            if hop.evidence:
                tag = "" if hop.evidence_kind == "backs" else t("trace.both_ends")
                for ref in hop.evidence:
                    st.markdown(t("trace.evidence", claim=esc(ref.id), section=esc(ref.section), both_ends=tag,
                                  text=esc(ref.text_in(lang))))
            else:
                st.caption(t("trace.no_evidence"))
            for n in (hop.target,):
                demos = mechanisms.for_mechanism(n.id) if "mechanism" in n.kinds or "objective" in n.kinds else []
                for demo in demos:
                    st.page_link(NODE_PAGE, label=t("trace.run_demo", title=esc(demo_title(demo, lang), 100)),
                                 icon=":material/play_circle:", query_params=with_language({"node": n.id}))
