"""Questions: the survey's Q1–Q18 and its closing section in reading order, in English and Chinese,
each with its claims, the papers they cite, the entities they speak of and the demos that check them.
`?section=Q17` opens one section."""

import re

import streamlit as st

from app_pages._shared import NODE_PAGE, backend, capped, esc, node_link, nodes
from kg.limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS, display_text
from kg.views import arxiv_url, filter_sections, find_section, sections

ALL = "all"
SECTION_KEY, SEARCH_KEY, PARAM_SEEN = "questions-section", "questions-search", "questions-param-seen"

secs = sections(backend())
by_id = {s.id: s for s in secs}
index = nodes()

st.title("The survey's questions")
st.caption("The survey's eighteen questions and its closing section, in its own reading order. Each claim "
           "lists the papers it cites, the entities it speaks of and the demos that check it.")

# ?section=Q17 selects a section; a new value in the URL wins over the widget's last choice
param = find_section(secs, capped(st.query_params.get("section"), "The address's section="))
if param is not None and st.session_state.get(PARAM_SEEN) != param:
    st.session_state[SECTION_KEY] = param

left, right = st.columns([2, 3])
with left:
    choice = st.selectbox(
        "Section", [ALL, *by_id], key=SECTION_KEY,
        format_func=lambda i: "All sections" if i == ALL else display_text(by_id[i].label, 80))
with right:
    text = st.text_input("Search claims", key=SEARCH_KEY, max_chars=MAX_INPUT_CHARS,
                         placeholder="e.g. mask, 双向, Transformer-XL")
text = capped(text, "The search")
if choice == ALL:
    st.query_params.pop("section", None)
else:
    st.query_params["section"] = choice
st.session_state[PARAM_SEEN] = None if choice == ALL else choice

shown = filter_sections(secs, section=None if choice == ALL else choice, text=text)
n_claims = sum(len(s.claims) for s in shown)
st.caption(f"{len(shown)} section(s), {n_claims} claim(s)")
if not shown:
    st.info("No claim matches the search.")

open_claims = choice != ALL or bool(text.strip())
for sec in shown:
    st.subheader(esc(sec.label, MAX_LABEL_CHARS), anchor="section-" + re.sub(r"[^\w-]", "-", sec.id[:40]))
    st.markdown(f"**{esc(sec.question.get('en', ''))}**")
    if sec.question.get("zh-Hans"):
        st.markdown(esc(sec.question["zh-Hans"]),
                    help=f"繁體: {esc(sec.question['zh-Hant'])}" if sec.question.get("zh-Hant") else None)
    with st.expander(f"{len(sec.claims)} claim(s) of {esc(sec.id, 40)}", expanded=open_claims):
        if sec.iri in index:
            node_link(index[sec.iri], label=f"Section {sec.id} in the graph")
        for claim in sec.claims:
            with st.container(border=True):
                st.markdown(f"**{esc(claim.id)}** {esc(claim.text)}")
                papers = []
                for _, title, arxiv in claim.papers:
                    url = arxiv_url(arxiv)
                    papers.append(f"*{esc(title, 200)}*" + (f" ([arXiv:{esc(arxiv)}]({url}))" if url else ""))
                if papers:
                    st.caption("Cites: " + " · ".join(papers))
                for caption, links in (("About:", claim.entities), ("Checked by:", claim.demos)):
                    if not links:
                        continue
                    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
                        st.caption(caption, width="content")
                        for link in links:
                            if caption == "About:":
                                node_link(link)
                            else:
                                st.page_link(NODE_PAGE, label=f"Demo: {esc(link.title, 120)}",
                                             icon=":material/science:", query_params={"node": link.node_id},
                                             help=f"the demo {esc(link.id, MAX_LABEL_CHARS)}")
