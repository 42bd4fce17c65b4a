"""The views of a SELECT result besides its table (app_pages/_result_views.py): which apply to a
result's shape, what each one holds, and that the tabs draw them."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from app_pages import _result_views as rv
from app_pages._result_views import plan_views, result_graph, tab_key
from kg.results import Term
from kg.vocab import PM

XSD = "http://www.w3.org/2001/XMLSchema#"


def iri(name: str) -> Term:
    return Term("uri", PM + name)


def text(value: str, lang: str | None = "en") -> Term:
    return Term("literal", value, None, lang)


def integer(value: int) -> Term:
    return Term("literal", str(value), XSD + "integer")


def typed(value: str, datatype: str) -> Term:
    return Term("literal", value, XSD + datatype)


KNOWN = {PM + n for n in ("BERT", "XLNet", "GPT", "ELMo", "Transformer", "masked-lm")}
MODELS = ["BERT", "XLNet", "GPT", "ELMo"]


# ---------------------------------------------------------------------------------------------
# Which views apply
# ---------------------------------------------------------------------------------------------

def test_a_label_and_a_count_make_a_bar_chart_largest_first():
    counts = {"BERT": 7, "XLNet": 12, "GPT": 3, "ELMo": 5}
    rows = [(text(m), integer(n)) for m, n in counts.items()]
    plan = plan_views(["label", "papers"], rows, KNOWN)
    assert plan["views"] == ["table", "chart"]
    chart = plan["chart"]
    assert (chart["label"], chart["value"], chart["left_out"]) == ("label", "papers", 0)
    assert chart["bars"] == sorted([[m, float(n)] for m, n in counts.items()], key=lambda bar: -bar[1])


def test_a_decimal_column_charts_and_unreadable_numbers_are_counted_out():
    rows = [(iri("BERT"), typed("0.5", "decimal")), (iri("GPT"), typed("INF", "double")),
            (iri("ELMo"), None), (None, typed("2", "decimal"))]
    chart = plan_views(["model", "score"], rows, set())["chart"]
    assert chart["bars"] == [["pm:BERT", 0.5]] and chart["left_out"] == 1   # INF: no bar; unbound: no row


def test_repeated_labels_keep_a_bar_each():
    rows = [(text("BERT"), integer(3)), (text("BERT"), integer(5))]
    assert plan_views(["m", "n"], rows, set())["chart"]["bars"] == [["BERT", 5.0], ["BERT (2)", 3.0]]


def test_integers_in_a_year_column_make_a_timeline_not_a_chart():
    rows = [(iri(m), text(m), integer(y)) for m, y in zip(MODELS, (2018, 2019, 2018, 2018))]
    plan = plan_views(["model", "label", "year"], rows, set())
    assert plan["views"] == ["table", "timeline"]
    timeline = plan["timeline"]
    assert (timeline["label"], timeline["date"], timeline["left_out"]) == ("model", "year", 0)
    assert timeline["points"] == [[f"pm:{m}", f"{y}-01-01", str(y)] for m, y in zip(MODELS, (2018, 2019, 2018, 2018))]


@pytest.mark.parametrize("name, value", [("count", 2019), ("year", 1850), ("year", 2101)])
def test_integers_are_years_only_in_a_year_column_and_in_range(name, value):
    plan = plan_views(["model", name], [(text("BERT"), integer(value))], set())
    assert "timeline" not in plan and plan["chart"]["bars"] == [["BERT", float(value)]]


@pytest.mark.parametrize("value, datatype, day", [
    ("2019", "gYear", "2019-01-01"), ("2019-06", "gYearMonth", "2019-06-01"), ("2019-06-19", "date", "2019-06-19"),
    ("2019-06-19T10:30:00Z", "dateTime", "2019-06-19"), ("2019+02:00", "gYear", "2019-01-01")])
def test_dates_of_every_xsd_kind_make_a_timeline(value, datatype, day):
    (point,) = plan_views(["when"], [(typed(value, datatype),)], set())["timeline"]["points"]
    assert point == [value, day, value]       # no label column: named by the date as written


def test_a_date_that_is_not_in_the_calendar_is_left_out_and_counted():
    rows = [(text("BERT"), typed("2019-02-30", "date")), (text("GPT"), typed("2018-06-11", "date"))]
    timeline = plan_views(["m", "d"], rows, set())["timeline"]
    assert timeline["points"] == [["GPT", "2018-06-11", "2018-06-11"]] and timeline["left_out"] == 1


def test_node_iris_make_a_graph_of_the_nodes_named_with_their_row_links():
    rows = [(iri("XLNet"), iri("BERT")), (iri("GPT"), iri("Transformer")), (iri("XLNet"), iri("Transformer")),
            (iri("ELMo"), iri("not-a-node")), (Term("uri", "http://example.org/BERT"), iri("BERT"))]
    plan = plan_views(["model", "base"], rows, KNOWN)
    assert plan["views"] == ["table", "graph"]
    graph = plan["graph"]
    assert graph["nodes"] == [PM + n for n in ("XLNet", "BERT", "GPT", "Transformer", "ELMo")]
    assert graph["links"] == [[PM + a, PM + b, "?model → ?base"] for a, b in
                              (("XLNet", "BERT"), ("GPT", "Transformer"), ("XLNet", "Transformer"))]
    assert graph["left_out"] == graph["links_left_out"] == 0


def test_links_join_only_node_columns_side_by_side():
    rows = [(iri("XLNet"), text("XLNet"), iri("BERT"), iri("masked-lm"))]
    links = plan_views(["a", "label", "b", "c"], rows, KNOWN)["graph"]["links"]
    assert links == [[PM + "XLNet", PM + "BERT", "?a → ?b"], [PM + "BERT", PM + "masked-lm", "?b → ?c"]]


def test_a_text_only_result_is_a_table_only():
    rows = [(text("BERT"), text("bidirectional", None)), (text("GPT"), None)]
    assert plan_views(["label", "note"], rows, KNOWN) == {"views": ["table"]}
    assert plan_views(["x"], [], KNOWN) == {"views": ["table"]} == plan_views([], [()], KNOWN)


def test_iris_that_are_not_nodes_make_no_graph():
    rows = [(Term("uri", "https://w3id.org/plm-map/ontology#Model"), Term("bnode", "b0"))]
    assert plan_views(["class", "b"], rows, KNOWN | {rows[0][0].value}) == {"views": ["table"]}


def test_the_plan_is_plain_json():
    rows = [(iri("BERT"), integer(2018), integer(340)), (iri("XLNet"), integer(2019), integer(110))]
    plan = plan_views(["model", "year", "params"], rows, KNOWN)
    assert plan["views"] == ["table", "graph", "chart", "timeline"]
    assert json.loads(json.dumps(plan)) == plan


# ---------------------------------------------------------------------------------------------
# Caps and hostile text
# ---------------------------------------------------------------------------------------------

def test_caps_are_respected_and_what_they_leave_out_is_counted():
    many = [PM + f"n{i}" for i in range(400)]
    rows = [(Term("uri", many[i]), Term("uri", many[i + 200]), text(f"m{i}"), integer(i), integer(1900 + i % 200))
            for i in range(200)]
    plan = plan_views(["a", "b", "label", "n", "year"], rows, set(many))
    graph = plan["graph"]
    assert len(graph["nodes"]) == rv.MAX_GRAPH_NODES and graph["left_out"] == 400 - rv.MAX_GRAPH_NODES
    assert all(a in graph["nodes"] and b in graph["nodes"] for a, b, _ in graph["links"])
    assert len(graph["links"]) + graph["links_left_out"] == 200
    chart = plan["chart"]
    assert len(chart["bars"]) == rv.MAX_BARS and chart["left_out"] == 200 - rv.MAX_BARS
    assert [n for _, n in chart["bars"]] == [float(i) for i in range(199, 199 - rv.MAX_BARS, -1)]
    timeline = plan["timeline"]
    assert len(timeline["points"]) == rv.MAX_POINTS and timeline["left_out"] == 200 - rv.MAX_POINTS
    assert [p[0] for p in timeline["points"]] == [f"pm:n{i}" for i in range(rv.MAX_POINTS)]  # the result's first


def test_hostile_labels_and_column_names_are_cut_and_their_controls_escaped():
    hostile = "\u202e<img src=x onerror=alert(1)>\x1b]0;pwned\x07" + "A" * 100_000
    column = "v" * 10_000
    rows = [(text(hostile), integer(1), integer(2019), iri("BERT"), iri("XLNet"))]
    plan = plan_views(["label", column, "year", "m", "n"], rows, KNOWN)
    label = plan["chart"]["bars"][0][0]
    assert len(label) <= rv.LABEL_CHARS + 20 and label.startswith("\\u202e<img") and "\x1b" not in label
    assert plan["timeline"]["points"][0][0] == label
    assert len(plan["chart"]["value"]) == rv.COLUMN_CHARS
    assert len(json.dumps(plan)) < 3_000
    assert len(plan["graph"]["links"][0][2]) <= 80


# ---------------------------------------------------------------------------------------------
# The graph drawn from the survey
# ---------------------------------------------------------------------------------------------

def test_the_graph_draws_the_named_nodes_the_survey_relations_and_new_row_links(kg):
    named = [PM + n for n in ("XLNet", "BERT", "ELMo", "pre-training")]  # pre-training: joined to no node
    links = [[PM + "XLNet", PM + "BERT", "?a → ?b"], [PM + "ELMo", PM + "pre-training", "?a → ?b"]]
    view = result_graph(kg, named, links)
    assert sorted(n["id"] for n in view.nodes) == ["BERT", "ELMo", "XLNet", "pre-training"]
    drawn = {(e["from"], e["to"], e["label"]) for e in view.edges}
    assert ("XLNet", "BERT", "improves on") in drawn
    assert ("XLNet", "BERT", "?a → ?b") not in drawn        # the survey's relation already joins them
    assert ("ELMo", "pre-training", "?a → ?b") in drawn
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in view.nodes)
    assert len({(n["x"], n["y"]) for n in view.nodes}) == 4    # laid out, not stacked at (0, 0)


# ---------------------------------------------------------------------------------------------
# Drawing (AppTest)
# ---------------------------------------------------------------------------------------------

def _script():
    import streamlit as st

    from app_pages._result_views import show_views

    show_views(st.session_state["plan"], key="demo", table=lambda: st.dataframe({"a": [1]}, key="demo_table"))


def _drawn(plan: dict, tab: str | None = None) -> AppTest:
    at = AppTest.from_function(_script, default_timeout=120)
    at.session_state["plan"] = plan
    if tab is not None:
        at.session_state[tab_key(plan, "demo")] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def _chart(at: AppTest) -> tuple[dict, list[dict]]:
    """The open tab's Vega-Lite spec and the rows of its data."""
    (chart,) = at.get("vega_lite_chart")
    data = pa.ipc.open_stream(chart.proto.datasets[0].data.data).read_all().to_pylist()
    return json.loads(chart.proto.spec), data


def test_the_tabs_draw_a_chart_and_a_timeline():
    rows = [(iri(m), integer(y), integer(n)) for m, y, n in zip(MODELS, (2018, 2019, 2018, 2018), (7, 12, 3, 5))]
    plan = plan_views(["model", "year", "papers"], rows, set())
    at = _drawn(plan)
    assert [tab.label for tab in at.tabs] == ["Table", "Chart", "Timeline"]
    assert len(at.dataframe) == 1 and not at.get("vega_lite_chart")   # the table's tab is open

    spec, data = _chart(_drawn(plan, "Chart"))
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["type"] == "quantitative" and spec["encoding"]["y"]["type"] == "nominal"
    assert spec["encoding"]["y"]["sort"] == "-x" and spec["encoding"]["y"]["title"] == "?model"
    assert [(r["label"], r["value"]) for r in data] == [(label, n) for label, n in plan["chart"]["bars"]]

    at = _drawn(plan, "Timeline")
    spec, data = _chart(at)
    assert spec["encoding"]["x"]["type"] == "temporal" and spec["encoding"]["x"]["scale"]["type"] == "utc"
    assert spec["encoding"]["y"]["sort"] == ["pm:BERT", "pm:GPT", "pm:ELMo", "pm:XLNet"]   # earliest first
    assert [r["date"] for r in data] == ["2018-01-01", "2019-01-01", "2018-01-01", "2018-01-01"]
    assert not at.dataframe


def test_a_table_only_plan_draws_the_table_without_tabs():
    at = _drawn(plan_views(["label"], [(text("BERT"),)], set()))
    assert not at.tabs and len(at.dataframe) == 1


def test_the_graph_tab_draws_the_named_nodes():
    from app_pages._shared import nodes

    rows = [(iri("XLNet"), iri("BERT")), (iri("ELMo"), iri("BERT"))]
    plan = plan_views(["model", "base"], rows, set(nodes()))
    at = _drawn(plan, "Graph")
    (drawing,) = [e for e in at.main if getattr(e, "type", "") == "bidi_component"]
    sent = json.loads(json.loads(drawing.proto.json)["json"])       # what the browser is sent
    assert sorted(n["id"] for n in sent["nodes"]) == ["BERT", "ELMo", "XLNet"]
    edges = {(e["from"], e["to"], e["label"]) for e in sent["edges"]}
    assert ("XLNet", "BERT", "improves on") in edges and ("ELMo", "BERT", "?model → ?base") in edges
    assert any("3 nodes" in c.value for c in at.caption)


def test_capped_views_say_how_much_they_leave_out():
    rows = [(text(f"m{i}"), integer(i), integer(1900 + i % 200)) for i in range(300)]
    plan = plan_views(["label", "n", "year"], rows, set())
    at = _drawn(plan, "Chart")
    assert any(f"{300 - rv.MAX_BARS} more rows" in c.value for c in at.caption)
    assert len(_chart(at)[1]) == rv.MAX_BARS
    at = _drawn(plan, "Timeline")
    assert any(f"{300 - rv.MAX_POINTS} more dated rows" in c.value for c in at.caption)
    assert len(_chart(at)[1]) == rv.MAX_POINTS


def test_every_message_the_views_use_is_in_the_catalogue_and_every_message_is_used():
    import re
    from pathlib import Path

    from app_pages.i18n import catalogue

    source = Path(rv.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'"result_views\.(\w+)"', source)) | {f"tab_{view}" for view in rv.VIEWS}
    assert used == set(catalogue("result_views")["en"])
