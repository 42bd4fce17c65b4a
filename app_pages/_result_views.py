"""Views of a SELECT result besides its table: a graph of the nodes it names, a bar chart of a
number per label, a timeline of its dates.

`plan_views` (no Streamlit) reads the result's shape once per run and returns a small JSON-able
plan, which the page keeps in session_state; `show_views` draws a plan in tabs, the table first,
running only the tab that is open (the graph's layout is cached per plan). The plan:

    {"views": ["table", "graph", "chart", "timeline"],     # those that apply, in tab order
     "graph": {"nodes": [iri, ...], "left_out": 0,          # pm: nodes named, first named first
               "links": [[from_iri, to_iri, label], ...], "links_left_out": 0},
     "chart": {"label": "model", "value": "n",              # the two columns' names
               "bars": [[label, number], ...], "left_out": 0},      # largest first
     "timeline": {"label": "model" | None, "date": "year",
                  "points": [[label, "2019-06-01", as written], ...], "left_out": 0}}

A view is in the plan only when it applies; `left_out` says how much a cap (MAX_*) or an unreadable
value kept out of it. Every text in a plan is cut and its control characters escaped
(kg.limits.display_text); node IRIs are kept whole, being the graph's own. The charts are Vega-Lite
(st.altair_chart: its JavaScript ships with Streamlit), which draws labels and tooltips as text; the
graph is the project's component (app_pages._components.graph), drawn as kg.views draws the graph page.
"""

from __future__ import annotations

import datetime
import math
import re
from collections import defaultdict
from typing import Callable

import streamlit as st

from app_pages._components import graph, view_key
from app_pages._shared import NODE_PAGE, backend, esc, graph_name
from app_pages.i18n import t, with_language
from kg.limits import display_text
from kg.results import NUMERIC_TYPES, PLAIN_NUMBER, RDF_LANGSTRING, XSD_STRING, Term
from kg.views import RELATION_CHARS, GraphView, _drawn_node, graph_view, layout
from kg.vocab import PM, XSD, local_name

VIEWS = ("table", "graph", "chart", "timeline")   # the tabs' order

MAX_GRAPH_NODES = 150
MAX_LINKS = 600
MAX_BARS = 50
MAX_POINTS = 120
LABEL_CHARS = 120        # a bar's or a point's label
COLUMN_CHARS = 80        # a column's name (an axis title)
DATE_CHARS = 40          # a date as written (a tooltip)

TEXT_TYPES = {None, XSD_STRING, RDF_LANGSTRING}
DATE_TYPES = {XSD + t for t in ("gYear", "gYearMonth", "date", "dateTime")}
INTEGER_TYPES = {XSD + t for t in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger", "negativeInteger",
    "nonPositiveInteger", "unsignedInt", "unsignedLong")}
YEARS = (1900, 2100)     # an integer in a column named *year* is a year when it lies in this range

# an xsd:gYear, gYearMonth, date or dateTime (its time and time zone are not drawn: a day is the unit)
_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?")


# ---------------------------------------------------------------------------------------------
# The plan (no Streamlit)
# ---------------------------------------------------------------------------------------------

def plan_views(variables: list[str], rows: list[tuple[Term | None, ...]], known_nodes: set[str]) -> dict:
    """Which views apply to a SELECT result, with what each one draws (the module's docstring
    gives the shape). `known_nodes` holds the IRIs of the graph's nodes (those of kg.nodes.index)."""
    names = [display_text(v, COLUMN_CHARS) for v in variables]
    columns = [[row[i] for row in rows] for i in range(len(variables))]
    plan: dict = {"views": ["table"]}
    for view, build in (("graph", lambda: _graph_plan(names, rows, columns, known_nodes)),
                        ("chart", lambda: _chart_plan(names, rows, columns)),
                        ("timeline", lambda: _timeline_plan(names, rows, columns))):
        part = build()
        if part is not None:
            plan["views"].append(view)
            plan[view] = part
    return plan


def is_node(term: Term | None, known_nodes: set[str]) -> bool:
    return term is not None and term.kind == "uri" and term.value.startswith(PM) and term.value in known_nodes


def is_label(term: Term) -> bool:
    """An IRI or a string literal (plain or with a language): something to name a bar or a point by."""
    return term.kind == "uri" or term.kind == "literal" and (term.lang is not None or term.datatype in TEXT_TYPES)


def is_number(term: Term) -> bool:
    return term.kind == "literal" and term.datatype in NUMERIC_TYPES


def is_year(term: Term) -> bool:
    return (term.kind == "literal" and term.datatype in INTEGER_TYPES and len(term.value) == 4
            and term.value.isdigit() and YEARS[0] <= int(term.value) <= YEARS[1])


def is_date(term: Term) -> bool:
    return term.kind == "literal" and term.datatype in DATE_TYPES


def _every(column: list[Term | None], test: Callable[[Term], bool]) -> bool:
    """The column has a value, and every value passes `test` (unbound cells do not count)."""
    present = [term for term in column if term is not None]
    return bool(present) and all(test(term) for term in present)


def _is_date_column(name: str, column: list[Term | None]) -> bool:
    return _every(column, is_date) or "year" in name.casefold() and _every(column, is_year)


def _first(columns: list[list[Term | None]], test: Callable[[int], bool]) -> int | None:
    return next((i for i in range(len(columns)) if test(i)), None)


def _graph_plan(names, rows, columns, known_nodes) -> dict | None:
    """The nodes the result names, in the order it names them (row by row, left to right), and
    the links between the nodes of two node columns side by side (in the order of the columns
    that hold nodes) in the same row, labelled with the columns' names."""
    node_columns = [i for i, column in enumerate(columns) if any(is_node(term, known_nodes) for term in column)]
    if not node_columns:
        return None
    named: dict[str, None] = {}
    links: dict[tuple[str, str, str], None] = {}
    pairs = [(a, b, display_text(t("result_views.row_link", source=names[a], target=names[b]), RELATION_CHARS))
             for a, b in zip(node_columns, node_columns[1:])]
    for row in rows:
        for i in node_columns:
            if is_node(row[i], known_nodes):
                named.setdefault(row[i].value)
        for a, b, label in pairs:
            if is_node(row[a], known_nodes) and is_node(row[b], known_nodes) and row[a].value != row[b].value:
                links.setdefault((row[a].value, row[b].value, label))
    shown = list(named)[:MAX_GRAPH_NODES]
    kept = set(shown)
    drawn = [list(link) for link in links if link[0] in kept and link[1] in kept][:MAX_LINKS]
    return {"nodes": shown, "left_out": len(named) - len(shown),
            "links": drawn, "links_left_out": len(links) - len(drawn)}


def number(term: Term) -> float | None:
    """A numeric literal's value, None if it is not a finite number as XSD writes one."""
    if not PLAIN_NUMBER.fullmatch(term.value):
        return None
    value = float(term.value)
    return value if math.isfinite(value) else None


def _unique(labels: list[str]) -> list[str]:
    """The labels, a repeated one numbered ("BERT", "BERT (2)"), so that each row keeps its bar."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _chart_plan(names, rows, columns) -> dict | None:
    """Bars: the first label-like column against the first numeric column that is not a date."""
    label = _first(columns, lambda i: _every(columns[i], is_label))
    value = _first(columns, lambda i: _every(columns[i], is_number) and not _is_date_column(names[i], columns[i]))
    if label is None or value is None:
        return None
    bars, unreadable = [], 0
    for row in rows:
        if row[label] is None or row[value] is None:
            continue
        n = number(row[value])
        if n is None:
            unreadable += 1
            continue
        bars.append((display_text(row[label].display(), LABEL_CHARS), n))
    if not bars:
        return None
    bars.sort(key=lambda bar: -bar[1])  # stable: equal values keep the result's order
    shown = bars[:MAX_BARS]
    return {"label": names[label], "value": names[value],
            "bars": [[text, n] for text, (_, n) in zip(_unique([text for text, _ in shown]), shown)],
            "left_out": len(bars) - len(shown) + unreadable}


def iso_date(text: str) -> str | None:
    """A year, year-month, date or date-time as the day it starts on ("2019" -> "2019-01-01");
    None for anything else, or a day that is not in the calendar."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2] or 1), int(match[3] or 1)
    try:
        return datetime.date(year, month, day).isoformat()
    except ValueError:
        return None


def _timeline_plan(names, rows, columns) -> dict | None:
    """Points: each row at the date of the first date column, named by the first label-like
    column (or, without one, by the date as written); the first MAX_POINTS rows of the result."""
    date = _first(columns, lambda i: _is_date_column(names[i], columns[i]))
    if date is None:
        return None
    label = _first(columns, lambda i: _every(columns[i], is_label))
    points, unreadable = [], 0
    for row in rows:
        if row[date] is None:
            continue
        day = iso_date(row[date].value)
        if day is None:
            unreadable += 1
            continue
        written = display_text(row[date].display(), DATE_CHARS)
        name = row[label].display() if label is not None and row[label] is not None else written
        points.append([display_text(name, LABEL_CHARS), day, written])
    if not points:
        return None
    return {"label": names[label] if label is not None else None, "date": names[date],
            "points": points[:MAX_POINTS], "left_out": max(0, len(points) - MAX_POINTS) + unreadable}


# ---------------------------------------------------------------------------------------------
# The graph of the named nodes (no Streamlit)
# ---------------------------------------------------------------------------------------------

def result_graph(backend, iris: list[str], links: list[list[str]]) -> GraphView:
    """The named nodes as the graph page draws them (kg.views.graph_view: colours, sizes, label
    priorities, and the survey's relations between them), with the result's row links, laid out
    together (kg.views.layout). A row link between two nodes a relation already joins is not drawn
    twice. A node that no relation joins to another node (graph_view leaves those out) is drawn alone."""
    from kg.nodes import index

    nodes = index(backend)
    named = [iri for iri in dict.fromkeys(iris) if iri in nodes]
    if not named:
        return GraphView([], [], 0, False)
    # every node is placed below, with the row links: meanwhile graph_view puts each one at (0, 0)
    view = graph_view(backend, kinds=tuple({nodes[iri].kind for iri in named}), only=set(named),
                      max_nodes=len(named), positions=defaultdict(lambda: (0.0, 0.0)))
    drawn = {n["id"] for n in view.nodes}
    out_nodes = view.nodes + [_drawn_node(nodes[iri], 0, False) for iri in named if local_name(iri) not in drawn]
    ids = {n["id"] for n in out_nodes}
    joined = {frozenset((e["from"], e["to"])) for e in view.edges}
    out_edges = list(view.edges)
    for source, target, label in links:
        a, b = local_name(source), local_name(target)
        if a in ids and b in ids and a != b and frozenset((a, b)) not in joined:
            out_edges.append({"from": a, "to": b, "label": label})
    positions = layout([n["id"] for n in out_nodes], [(e["from"], e["to"]) for e in out_edges])
    for n in out_nodes:
        n["x"], n["y"] = positions[n["id"]]
    return GraphView(out_nodes, out_edges, len(named), False, view.relations)


# ---------------------------------------------------------------------------------------------
# Drawing (Streamlit)
# ---------------------------------------------------------------------------------------------

def tab_key(plan: dict, key: str) -> str:
    """The session_state key of the tabs `show_views` draws for `plan` (its value: the open tab's
    title). It names the views, so a result with other views opens on its table, and one with the
    same views keeps the tab the user chose."""
    return f"{key}_tab_" + "_".join(plan["views"])


def show_views(plan: dict, *, key: str, table: Callable[[], None]) -> None:
    """Draw the views of `plan` in tabs, the table first (`table` draws it); only the open tab's
    view runs. A plan with the table alone draws it without tabs."""
    views = [view for view in VIEWS if view in plan["views"]]
    if views == ["table"]:
        table()
        return
    draw = {"table": table, "graph": lambda: _show_graph(plan["graph"], key),
            "chart": lambda: _show_chart(plan["chart"], key), "timeline": lambda: _show_timeline(plan["timeline"], key)}
    tabs = st.tabs([t(f"result_views.tab_{view}") for view in views], key=tab_key(plan, key), on_change="rerun")
    for view, tab in zip(views, tabs):
        if tab.open is False:
            continue
        with tab:
            draw[view]()


@st.cache_data(show_spinner=False, max_entries=16)
def _drawing(graph: str, iris: tuple[str, ...], links: tuple[tuple[str, ...], ...]) -> GraphView:
    """result_graph, once per graph read (`graph` names it) and plan."""
    return result_graph(backend(), list(iris), [list(link) for link in links])


def _show_graph(part: dict, key: str) -> None:
    view = _drawing(graph_name(), tuple(part["nodes"]), tuple(tuple(link) for link in part["links"]))
    st.caption(t("result_views.graph_caption", nodes=len(view.nodes), edges=len(view.edges)))
    if part["left_out"]:
        st.caption(t("result_views.graph_capped", shown=len(part["nodes"]),
                     total=len(part["nodes"]) + part["left_out"]))
    if part["links_left_out"]:
        st.caption(t("result_views.links_capped", count=part["links_left_out"]))
    clicked = graph(view.nodes, view.edges, key=f"{key}_graph", height=460,
                    layout_key=view_key(graph_name(), part["nodes"], part["links"])).clicked
    if clicked and clicked in {n["id"] for n in view.nodes}:
        st.switch_page(NODE_PAGE, query_params=with_language({"node": clicked}))


def _show_chart(part: dict, key: str) -> None:
    """Horizontal bars, longest at the top; the labels on the axis and in the tooltips."""
    import altair as alt
    import pandas as pd

    label, value = f"?{part['label']}", f"?{part['value']}"
    st.caption(t("result_views.chart_caption", label=esc(part["label"]), value=esc(part["value"])))
    if part["left_out"]:
        st.caption(t("result_views.chart_capped", count=part["left_out"], shown=len(part["bars"])))
    frame = pd.DataFrame(part["bars"], columns=["label", "value"])
    chart = alt.Chart(frame).mark_bar().encode(
        x=alt.X("value:Q", title=value),
        y=alt.Y("label:N", sort="-x", title=label, axis=alt.Axis(labelLimit=260, labelOverlap=False)),
        tooltip=[alt.Tooltip("label:N", title=label), alt.Tooltip("value:Q", title=value)],
    ).properties(height=alt.Step(22))  # a row per bar, each labelled
    st.altair_chart(chart, width="stretch", key=f"{key}_chart")


def _show_timeline(part: dict, key: str) -> None:
    """One line per label, earliest first, each row a point at its date on a time axis (in UTC, so
    that 2019-01-01 is drawn in 2019 in every time zone); the date as written in the tooltip."""
    import altair as alt
    import pandas as pd

    date = f"?{part['date']}"
    label = f"?{part['label']}" if part["label"] is not None else date
    if part["label"] is None:
        st.caption(t("result_views.timeline_caption_unlabelled", date=esc(part["date"])))
    else:
        st.caption(t("result_views.timeline_caption", date=esc(part["date"]), label=esc(part["label"])))
    if part["left_out"]:
        st.caption(t("result_views.timeline_capped", count=part["left_out"], shown=len(part["points"])))
    frame = pd.DataFrame(part["points"], columns=["label", "date", "when"])
    order = list(dict.fromkeys(frame.sort_values("date", kind="stable")["label"]))
    chart = alt.Chart(frame).mark_circle(size=80, opacity=0.85).encode(
        x=alt.X("date:T", title=date, scale=alt.Scale(type="utc")),
        y=alt.Y("label:N", sort=order, title=label, axis=alt.Axis(labelLimit=260, labelOverlap=False)),
        tooltip=[alt.Tooltip("label:N", title=label), alt.Tooltip("when:N", title=t("result_views.when"))],
    ).properties(height=alt.Step(20))  # a line per label, each labelled
    st.altair_chart(chart, width="stretch", key=f"{key}_timeline")
