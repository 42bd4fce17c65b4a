"""Trace (permalink /trace?from=BERT&to=XLNet): why a model exists, hop by hop, with the evidence."""

import streamlit as st

import mechanisms
from app_pages._shared import NODE_PAGE, backend, capped, esc, node_link, nodes, option_label
from kg.limits import MAX_LABEL_CHARS
from kg.nodes import NodeNotFound
from kg.trace import between, fixes

all_nodes = nodes()
concepts = sorted((n for n in all_nodes.values()
                   if set(n.kinds) & {"model", "mechanism", "weakness", "objective", "extractor", "stage"}),
                  key=lambda n: n.label.lower())
ids = [n.id for n in concepts]
label_of = {n.id: option_label(n) for n in concepts}


def sync_url():
    st.query_params.clear()
    if st.session_state.get("t_from"):
        st.query_params["from"] = st.session_state["t_from"]
    if st.session_state.get("t_to"):
        st.query_params["to"] = st.session_state["t_to"]
    if st.session_state.get("t_inherited"):
        st.query_params["inherited"] = "1"


def example():
    st.session_state["t_from"], st.session_state["t_to"] = "BERT", "XLNet"
    sync_url()


# The URL is the source of truth (widgets write it back on change), so a permalink or a "trace from
# here" link always shows its trace.
for key, param in (("t_from", "from"), ("t_to", "to")):
    value = capped(st.query_params.get(param), f"The address's {param}=")
    value = value if value in ids else None
    if st.session_state.get(key) != value:
        st.session_state[key] = value
st.session_state["t_inherited"] = st.query_params.get("inherited") == "1"

st.title("Trace")
st.caption("From a model or weakness to every fix, or between two nodes: each chain goes weakness → mechanism "
           "that fixes it → model that brings the mechanism, and every hop shows the survey's claim and section.")
st.button("Why XLNet? Trace BERT → XLNet", on_click=example, key="t_example", type="primary")
c1, c2, c3 = st.columns([4, 4, 2])
c1.selectbox("From", ids, index=None, key="t_from", on_change=sync_url, format_func=label_of.get,
             placeholder="a model or weakness")
c2.selectbox("To (leave empty for every fix)", ids, index=None, key="t_to", on_change=sync_url,
             format_func=label_of.get, placeholder="any")
c3.checkbox("Inherited weaknesses", key="t_inherited", on_change=sync_url,
            help="Also follow the weaknesses of the model's objective, extractor and mechanisms")

source, target = st.session_state["t_from"], st.session_state["t_to"]
if not source:
    st.info("Choose where to start, or press the button above.")
    st.stop()
try:
    chains = (between(backend(), source, target) if target else
              fixes(backend(), source, inherited=st.session_state["t_inherited"]))
except NodeNotFound as e:
    st.error(esc(e))
    st.stop()

if not chains:
    st.warning(f"No chain from {esc(label_of.get(source, source))}" + (f" to {esc(label_of.get(target, target))}." if target else "."))
    st.stop()
kind = "connection" if chains[0].kind == "connection" else "fix"
st.markdown(f"**{len(chains)} chain{'s' if len(chains) != 1 else ''}**"
            + (" (no weakness-and-fix chain joins them; these are their shortest connections)" if kind == "connection" else ""))

for i, chain in enumerate(chains, 1):
    with st.expander(f"{i}. {esc(chain.text(), 300)}", expanded=i <= 3):
        for j, hop in enumerate(chain.hops, 1):
            cols = st.columns([3, 2, 3])
            with cols[0]:
                node_link(hop.source)
            cols[1].markdown(f"*{esc(hop.label, MAX_LABEL_CHARS)}* →")
            with cols[2]:
                node_link(hop.target)
            if hop.evidence:
                tag = "" if hop.evidence_kind == "backs" else " (claims about both ends)"
                for ref in hop.evidence:
                    st.markdown(f":small[**{esc(ref.id)}** · section {esc(ref.section)}{tag} — {esc(ref.text)}]")
            else:
                st.caption("No claim of the survey backs this relation.")
            for n in (hop.target,):
                demos = mechanisms.for_mechanism(n.id) if "mechanism" in n.kinds or "objective" in n.kinds else []
                for demo in demos:
                    st.page_link(NODE_PAGE, label=f"Run the demo: {esc(demo.title, 100)}", icon=":material/play_circle:",
                                 query_params={"node": n.id})
