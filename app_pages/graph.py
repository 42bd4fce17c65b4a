"""Graph: the survey's map. The drawing comes first, with its search box on it; beside it, the selected node.

Everything the user sets (filters, search, selection, neighbourhood, expansions) lives in the address
(app_pages/graph_state.py), so a view can be reloaded and shared; the layout is computed on the server
once per graph and filter set (kg.views.layout, cached here) and the browser only draws.
"""

import streamlit as st

from app_pages._components import graph, view_key
from app_pages._shared import (NODE_PAGE, TRACE_PAGE, backend, capped, esc, graph_name, kind_badge, kind_name, node_label,
                               nodes, option_label)
from app_pages.graph_state import DEPTHS, GraphState, from_params, to_params
from app_pages.i18n import language, t, with_language
from kg.limits import MAX_INPUT_CHARS, clip, display_text
from kg.nodes import describe, search
from kg.views import FILTER_KINDS, graph_view, relation_labels, relation_names, sections
from kg.vocab import PM


@st.cache_data(show_spinner=False, max_entries=64)
def view(graph: str, kinds: tuple, relations: tuple | None, section: str | None, direction: str | None,
         center: str | None, depth: int, expand: tuple = (), include: tuple = (), lang: str = "en"):
    """The drawn view (its layout included) for one graph, one set of filters and one language;
    `graph` names the graph read, so that another graph (PLM_MAP_GRAPH, an endpoint) never gets this
    one's view."""
    return graph_view(backend(), kinds=kinds, relations=list(relations) if relations else None,
                      section=section, direction=direction, center=center, depth=depth, expand=expand,
                      include=include, lang=lang)


all_nodes = nodes()
by_id = {n.id: n for n in all_nodes.values()}
survey_sections = {s.id: s for s in sections(backend())}
directions = {n.id.removeprefix("direction-"): n for n in all_nodes.values() if n.kind == "direction"}
relations_known = relation_labels(backend())
lang = language()
relations_shown = relation_names(backend(), lang)   # English label (the address's) -> this language's

# The address is the state. This page writes it after every run; an address it did not write (a fresh
# load, a pasted link, a link from another page) is adopted: the widgets are set from it.
state = from_params(st.query_params, nodes=set(by_id), sections=set(survey_sections), directions=set(directions),
                    relations=set(relations_known))
FILTER_KEYS = ("g_kinds", "g_relations", "g_section", "g_direction", "g_center", "g_depth")  # the filters' widgets


def adopt(s: GraphState) -> None:
    """Set the page's session (the widgets' values among it) to the view `s`."""
    st.session_state.update({
        "g_kinds": list(s.kinds), "g_relations": list(s.relations), "g_section": s.section,
        "g_direction": s.direction, "g_search": s.q, "g_center": s.center, "g_depth": s.depth,
        "g_focus": s.focus, "g_expand": list(s.expand), "g_last_search": s.q,
    })


if st.session_state.get("g_written") != to_params(state):
    adopt(state)
for name, value, why in state.problems:
    st.warning(t("graph.bad_param", name=esc(name), value=esc(value, 80), why=esc(why)), icon=":material/link_off:")


# A picker reads its options' labels after the run, so they are built here, in the page's language.
section_titles = {None: t("graph.any_section")} | {
    sid: display_text(f"{sid} · {sec.question_in(lang) or sec.name(lang)}", 90) for sid, sec in survey_sections.items()}
direction_names = {None: t("graph.any_direction")} | {d: display_text(node_label(n), 60) for d, n in directions.items()}


def section_title(sid: str | None) -> str:
    return section_titles.get(sid, sid or "")


# The containers in reading order; they are filled below, the map first, so that the browser starts
# drawing it while the rest of the page is still being sent.
head = st.container()
top_left = st.container()
left, right = st.columns([3, 1], gap="medium")

# The search (its box is on the map, app_pages/_components.py): the best hit is selected and flown to when
# the text changes.
query = capped(st.session_state.get("g_search") or "", t("shared.what_search"))  # as the box sent it (it stops at 200)
hits = search(backend(), query, limit=8) if query.strip() else []
if query != st.session_state.get("g_last_search"):
    st.session_state["g_last_search"] = query
    if hits:
        st.session_state["g_focus"] = hits[0].id

state = GraphState(kinds=tuple(k for k in FILTER_KINDS if k in (st.session_state.get("g_kinds") or [])),
                   relations=tuple(sorted(set(st.session_state.get("g_relations") or ()))),  # as from_params reads them
                   section=st.session_state.get("g_section"), direction=st.session_state.get("g_direction"),
                   q=query or "", focus=st.session_state.get("g_focus") if st.session_state.get("g_focus") in by_id
                   else None, center=st.session_state.get("g_center"), depth=int(st.session_state.get("g_depth") or 1),
                   expand=tuple(dict.fromkeys(e for e in st.session_state.get("g_expand") or () if e in by_id)))
written = to_params(state)
address = with_language(written)   # the language stays in the address
if {k: st.query_params.get_all(k) for k in st.query_params} != {k: v if isinstance(v, list) else [v]
                                                                for k, v in address.items()}:
    st.query_params.from_dict(address)
st.session_state["g_written"] = written

iri = (lambda i: PM + i if i else None)
v = view(graph_name(), state.kinds, state.relations or None, state.section, state.direction, iri(state.center),
         state.depth, tuple(iri(e) for e in state.expand), (iri(state.focus),) if state.focus else (), lang)
drawn_ids = {n["id"] for n in v.nodes}

with left:
    if v.capped:
        st.warning(t("graph.capped", shown=len(v.nodes) - len(state.expand), total=v.total_nodes))
    if not v.nodes:
        st.info(t("graph.empty"))
    else:
        found = [{"id": h.id, "label": clip(node_label(by_id[h.id]) if h.id in by_id else h.label, 60),
                  "kind": h.kind,
                  "matched": clip(h.matched, 40) if h.matched not in (h.label, by_id[h.id].name(lang) if h.id in by_id
                                                                        else h.label) else "",
                  "outside": h.id not in drawn_ids} for h in hits]
        events = graph(v.nodes, v.edges, key="main_graph", height=610, selected=state.focus,
                       layout_key=view_key(graph_name(), state.kinds, state.relations, state.section,
                                           state.direction, state.center, state.depth),
                       search={"query": query, "hits": found, "max_chars": MAX_INPUT_CHARS})
        if events.searched is not None and events.searched != query:
            st.session_state["g_search"] = events.searched[:MAX_INPUT_CHARS]  # (the next run says it was cut)
            st.rerun()
        if events.clicked is not None and (events.clicked or None) != state.focus:
            st.session_state["g_focus"] = events.clicked or None
            st.rerun()
    st.caption(t("graph.counts", nodes=len(v.nodes), edges=len(v.edges)) + " · " + t("graph.caption"))

head.title(t("graph.title"))

with top_left:
    kinds_now = st.session_state.get("g_kinds") or []
    kinds_shown = {k: kind_name(k) for k in FILTER_KINDS}   # built in the run (a picker's labels are read later)
    summary = t("graph.filters_summary", kinds=", ".join(kinds_shown.get(k, k) for k in kinds_now) or "—",
                relations=(", ".join(relations_shown.get(r, r) for r in st.session_state.get("g_relations") or [])
                           or t("graph.all_relations")),
                section=section_title(st.session_state.get("g_section")).split(" · ")[0],
                direction=direction_names.get(st.session_state.get("g_direction"), t("graph.any_direction")))
    # The filters' widgets are drawn only while their expander is open (the page's first paint then waits
    # for no picker), so their values are kept in the session across the runs that do not draw them.
    for name in FILTER_KEYS:
        if name in st.session_state:
            st.session_state[name] = st.session_state[name]
    filters = st.expander(display_text(summary, 160), icon=":material/filter_alt:", key="g_filters",
                          on_change="rerun", expanded=bool(st.session_state.get("g_filters")))  # a new label keeps it open
    if filters.open:
        with filters:
            c1, c2 = st.columns(2)
            c1.multiselect(t("graph.kinds"), FILTER_KINDS, key="g_kinds", format_func=kinds_shown.get)
            c2.multiselect(t("graph.relations"), relations_known, key="g_relations", placeholder=t("graph.all_relations"),
                           format_func=lambda r: relations_shown.get(r, r))
            c3, c4 = st.columns(2)
            c3.selectbox(t("graph.section"), [None, *survey_sections], key="g_section", format_func=section_title)
            c4.selectbox(t("graph.direction"), [None, *sorted(directions)], key="g_direction",
                         format_func=lambda d: direction_names.get(d, d or ""))
            c5, c6, c7 = st.columns([3, 2, 1], vertical_alignment="bottom")
            centre_choices = [None] + sorted({c for c in (st.session_state.get("g_center"), st.session_state.get("g_focus"))
                                              if c in by_id}, key=lambda i: by_id[i].label.casefold())
            centre_names = {None: t("graph.no_center")} | {i: option_label(by_id[i]) for i in centre_choices if i}
            c5.selectbox(t("graph.center"), centre_choices, key="g_center", format_func=centre_names.get)
            c6.select_slider(t("graph.depth"), DEPTHS, key="g_depth", disabled=st.session_state.get("g_center") is None)
            c7.button(t("graph.reset"), on_click=adopt, args=(GraphState(),), icon=":material/restart_alt:")

with right:
    node = by_id.get(state.focus) if state.focus else None
    if node is None:
        st.caption(t("graph.nothing_selected"))
    else:
        shown = node_label(node)
        other = node.label if shown != node.label else node.labels.get("zh-Hans")
        st.markdown(f"**{esc(shown, 120)}**  \n" + kind_badge(node.kind)
                    + (f" {esc(other, 60)}" if other and other != shown else ""))
        definition = describe(backend(), node.id).definition_in(lang)
        if definition:
            st.caption(esc(definition, 280))
        degree = sum(1 for e in v.edges if node.id in (e["from"], e["to"]))
        st.caption(t("graph.neighbours", count=degree))
        st.page_link(NODE_PAGE, label=t("graph.open_page"), icon=":material/article:", query_params=with_language({"node": node.id}))
        expanded = node.id in state.expand
        st.button(t("graph.collapse") if expanded else t("graph.expand"), icon=":material/hub:", key="g_expand_btn",
                  on_click=lambda i=node.id, on=expanded: st.session_state.update(
                      g_expand=[e for e in st.session_state.get("g_expand", []) if e != i] + ([] if on else [i])))
        st.page_link(TRACE_PAGE, label=t("graph.trace"), icon=":material/route:", query_params=with_language({"from": node.id}))
        st.button(t("graph.centre_here"), icon=":material/center_focus_strong:", key="g_centre_btn",
                  on_click=lambda i=node.id: st.session_state.update(g_center=i))
        st.button(t("graph.unselect"), icon=":material/close:", key="g_unselect",
                  on_click=lambda: st.session_state.update(g_focus=None))
