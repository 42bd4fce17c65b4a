"""Questions: the survey's Q1–Q18 and its closing section in reading order, in English and Chinese,
each with its claims, the papers they cite, the entities they speak of and the demos that check them.
`?section=Q17` opens one section."""

import re
from contextlib import contextmanager

import streamlit as st

from app_pages._shared import NODE_PAGE, backend, capped, demo_title, esc, node_link, nodes
from app_pages.i18n import language, t, with_language
from kg.limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS, display_text
from kg.views import arxiv_url, filter_sections, find_section, sections

ALL = "all"
SECTION_KEY, SEARCH_KEY, PARAM_SEEN = "questions-section", "questions-search", "questions-param-seen"

lang = language()
secs = sections(backend())
by_id = {s.id: s for s in secs}
index = nodes()


@contextmanager
def labelled_row(caption: str):
    """One line: a caption ("About:"), then the links drawn inside the `with`."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption(caption, width="content")
        yield


st.title(t("questions.title"))
st.caption(t("questions.caption"))

# ?section=Q17 selects a section; a new value in the URL wins over the widget's last choice
param = find_section(secs, capped(st.query_params.get("section"), t("shared.what_param", name="section")))
if param is not None and st.session_state.get(PARAM_SEEN) != param:
    st.session_state[SECTION_KEY] = param

left, right = st.columns([2, 3])
with left:
    # the options' text is made in this run, not by format_func when called (AppTest calls it outside the run)
    titles = {ALL: t("questions.all_sections")} | {i: display_text(s.name(lang), 80) for i, s in by_id.items()}
    choice = st.selectbox(t("questions.section"), list(titles), key=SECTION_KEY, format_func=titles.get)
with right:
    text = st.text_input(t("questions.search"), key=SEARCH_KEY, max_chars=MAX_INPUT_CHARS,
                         placeholder=t("questions.search_placeholder"))
text = capped(text, t("shared.what_search"))
if choice == ALL:
    st.query_params.pop("section", None)
else:
    st.query_params["section"] = choice
st.session_state[PARAM_SEEN] = None if choice == ALL else choice

shown = filter_sections(secs, section=None if choice == ALL else choice, text=text)
n_claims = sum(len(s.claims) for s in shown)
st.caption(t("questions.counts", sections=len(shown), claims=n_claims))
if not shown:
    st.info(t("questions.no_match"))

open_claims = choice != ALL or bool(text.strip())
for sec in shown:
    st.subheader(esc(sec.name(lang), MAX_LABEL_CHARS), anchor="section-" + re.sub(r"[^\w-]", "-", sec.id[:40]))
    # the question in the page's language, then in the other (English on a Chinese page, and the reverse),
    # with the survey's own heading in its tooltip
    other = "en" if lang != "en" else "zh-Hans"
    st.markdown(f"**{esc(sec.question_in(lang))}**")
    if sec.question_in(other) and sec.question_in(other) != sec.question_in(lang):
        st.markdown(esc(sec.question_in(other)),
                    help=t("questions.survey_heading", heading=esc(sec.survey_heading)) if sec.survey_heading else None)
    with st.expander(t("questions.claims_of", count=len(sec.claims), section=esc(sec.id, 40)), expanded=open_claims):
        if sec.iri in index:
            node_link(index[sec.iri], label=t("questions.section_in_graph", section=sec.id))  # node_link escapes it
        for claim in sec.claims:
            with st.container(border=True):
                st.markdown(f"**{esc(claim.id)}** {esc(claim.text_in(lang))}")
                if lang != "en":   # the English statement (the survey's claim as the graph first wrote it) under it
                    st.caption(esc(claim.text))
                papers = []
                for _, title, arxiv in claim.papers:
                    url = arxiv_url(arxiv)
                    papers.append(f"*{esc(title, 200)}*" + (f" ([arXiv:{esc(arxiv)}]({url}))" if url else ""))
                if papers:
                    st.caption(t("questions.cites", papers=" · ".join(papers)))
                if claim.entities:
                    with labelled_row(t("questions.about")):
                        for entity in claim.entities:
                            node_link(entity)
                if claim.demos:
                    with labelled_row(t("questions.checked_by")):
                        for demo in claim.demos:
                            title = demo_title(demo, lang)
                            st.page_link(NODE_PAGE, label=t("questions.demo_link", title=esc(title, 120)),
                                         icon=":material/science:", query_params=with_language({"node": demo.node_id}),
                                         help=t("questions.demo_help", demo=esc(demo.id, MAX_LABEL_CHARS)))
