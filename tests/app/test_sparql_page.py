"""The SPARQL page through streamlit.testing.v1.AppTest (no browser: the editor's JavaScript does
not run here, so the tests type into the page's plain-text editor, which users can use too)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from kg.examples import examples

from ._support import open_page

PAGE = "app_pages/sparql.py"
MAX_HISTORY = 20   # the queries the page remembers (app_pages/sparql.py; importing it would run it)

HOSTILE = ('SELECT ("<img src=x onerror=alert(1)>" AS ?x) ("![t](http://127.0.0.1:1/b)" AS ?y) '
           '("=HYPERLINK(\\"http://x\\")" AS ?z) {}')


def run_query(at: AppTest, text: str) -> AppTest:
    at.text_area(key="sparql_text").input(text)
    at.button(key="sparql_run").click().run()
    assert not at.exception, at.exception
    return at


def rendered_text(at: AppTest) -> str:
    """Everything the page renders as Markdown (where markup could do harm)."""
    parts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success", "title",
                                  "subheader") for e in getattr(at, kind)]
    return "\n".join(parts)


def downloads(at: AppTest) -> dict[str, tuple[bytes, str, str]]:
    return {label: (data, name, mime) for label, data, name, mime in at.session_state["sparql_outcome"]["downloads"]}


def test_page_opens_with_editor_examples_and_prefixes():
    at = open_page(PAGE)
    assert at.title[0].value == "SPARQL"
    kinds = [getattr(e, "type", "") for e in at.main]
    assert "bidi_component" in kinds                      # the highlighting editor
    example_buttons = [b for b in at.button if b.key and b.key.startswith("sparql_ex_")]
    assert len(example_buttons) == len(examples()) == 25
    assert any("PREFIX pm: <https://w3id.org/plm-map/id/>" in c.value for c in at.code)
    assert "10 s" in at.caption[0].value and "10,000 rows" in at.caption[0].value
    assert not at.dataframe and not at.error               # nothing runs until asked


def test_example_click_fills_runs_and_sets_url():
    at = open_page(PAGE)
    first = examples()[0]
    at.button(key=f"sparql_ex_{first.name}").click().run()
    assert not at.exception, at.exception
    assert at.text_area(key="sparql_text").value == first.text
    assert at.query_params["q"] == first.text
    df = at.dataframe[0].value
    assert len(df) >= 3 and list(df.columns) == ["model", "label", "extractor"]
    assert "/node?node=ELMo" in df["model"].tolist()       # IRIs of nodes link to their pages
    columns = json.loads(at.dataframe[0].proto.columns)
    assert columns["model"]["type_config"]["type"] == "link"
    assert any("rows" in c.value and "ms" in c.value for c in at.caption)
    at.run()                                               # an unrelated rerun keeps the result
    assert not at.exception and len(at.dataframe[0].value) == len(df)


def test_permalink_runs_the_query():
    query = "SELECT ?m WHERE { ?m plm:improvesOn pm:BERT } ORDER BY ?m"
    at = open_page(PAGE, q=query)
    assert at.text_area(key="sparql_text").value == query
    assert "/node?node=XLNet" in at.dataframe[0].value["m"].tolist()
    assert at.query_params["q"] == query


def test_syntax_error_names_line_and_column_and_keeps_text():
    bad = "SELECT ?x WHERE {\n  ?x a plm:Model\n  FILTER( }"
    at = run_query(open_page(PAGE), bad)
    message = at.error[0].value.replace("\\", "")
    assert "line 3, column 12: valid here: an expression (a variable, a value or a function call)" in message
    assert not any(name in message for name in ("ABS", "COALESCE", "STRSTARTS")), "no list of function names"
    (caret,) = [c.value for c in at.code if "^" in c.value]     # the line, and a caret under the column
    assert caret.splitlines()[0].strip() == "FILTER( }" and caret.splitlines()[1].index("^") == 2 + 11
    assert at.text_area(key="sparql_text").value == bad
    assert at.session_state["sparql_query"] == bad


@pytest.mark.parametrize("query, says", [
    ("DROP ALL", "update operation"),
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }", "SERVICE is not allowed"),
    ("SELECT * FROM <http://127.0.0.1:1/g> WHERE { ?s ?p ?o }", "FROM and FROM NAMED are not allowed"),
])
def test_refused_queries_show_the_library_message(query, says):
    at = run_query(open_page(PAGE), query)
    assert "Query refused" in at.error[0].value and says in at.error[0].value.replace("\\", "")
    assert at.text_area(key="sparql_text").value == query
    run_query(at, "ASK { pm:XLNet plm:improvesOn pm:BERT }")   # the page keeps working
    assert not at.error and at.success[0].value.startswith("**Yes**")


def test_time_limit_is_stated_and_text_kept(monkeypatch):
    monkeypatch.setenv("PLM_MAP_QUERY_TIMEOUT", "1")
    runaway = "SELECT (COUNT(*) AS ?c) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"
    at = run_query(open_page(PAGE), runaway)
    message = at.error[0].value.replace("\\", "")
    assert "Time limit reached" in message and "1 s" in message
    assert at.text_area(key="sparql_text").value == runaway


def test_row_cap_warning(monkeypatch):
    monkeypatch.setenv("PLM_MAP_MAX_ROWS", "50")
    at = run_query(open_page(PAGE), "SELECT * WHERE { ?s ?p ?o }")
    assert "row cap of 50 rows" in at.warning[0].value
    assert len(at.dataframe[0].value) == 50


def test_construct_draws_graph_and_triples_with_rdf_downloads():
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    at = run_query(open_page(PAGE), "CONSTRUCT { pm:BERT ?p ?o } WHERE { pm:BERT ?p ?o }")
    assert [getattr(e, "type", "") for e in at.main].count("bidi_component") == 2   # editor + graph
    df = at.dataframe[0].value
    assert list(df.columns)[:3] == ["subject", "predicate", "object"] and len(df) > 5
    files = downloads(at)
    assert {k: v[2] for k, v in files.items()} == {
        "Turtle": "text/turtle", "N-Triples": "application/n-triples", "JSON-LD": "application/ld+json"}
    assert b"pm:BERT" in files["Turtle"][0]
    for el in at.get("download_button"):          # each button serves these bytes with this MIME type
        data, name, mime = files[el.label]
        assert _calculate_file_id(data, mime, name) in el.proto.url


def test_select_downloads_have_sparql_mime_types():
    from streamlit.runtime.memory_media_file_storage import _calculate_file_id

    at = open_page(PAGE, q="SELECT ?m WHERE { ?m plm:improvesOn pm:BERT } LIMIT 3")
    files = downloads(at)
    assert {k: v[2] for k, v in files.items()} == {
        "CSV": "text/csv", "TSV": "text/tab-separated-values", "JSON": "application/sparql-results+json",
        "XML": "application/sparql-results+xml"}
    assert json.loads(files["JSON"][0])["head"]["vars"] == ["m"]
    assert files["XML"][0].decode().count("<result>") == 3
    for el in at.get("download_button"):
        data, name, mime = files[el.label]
        assert _calculate_file_id(data, mime, name) in el.proto.url


def test_hostile_values_are_text_and_csv_is_guarded():
    at = open_page(PAGE, q=HOSTILE)
    row = at.dataframe[0].value.iloc[0].tolist()
    assert row == ["<img src=x onerror=alert(1)>", "![t](http://127.0.0.1:1/b)", '=HYPERLINK("http://x")']
    shown = rendered_text(at)
    assert "<img" not in shown and "](http" not in shown and "=HYPERLINK" not in shown
    csv = downloads(at)["CSV"][0].decode()
    assert "'=HYPERLINK" in csv and '\n=HYPERLINK' not in csv and ',=HYPERLINK' not in csv


def test_a_result_xml_cannot_carry_offers_no_xml_and_says_why():
    at = open_page(PAGE, q='SELECT ?x WHERE { BIND("bell\\u0007" AS ?x) }')
    assert {el.label for el in at.get("download_button")} == {"CSV", "TSV", "JSON"}
    (xml,) = [b for b in at.button if b.key == "sparql_dl_XML"]
    assert xml.disabled and "U+0007, which XML 1.0 cannot carry" in xml.help


def test_hostile_syntax_error_is_escaped():
    at = run_query(open_page(PAGE), "SELECT ?x WHERE { ?x ?p ![t](http://127.0.0.1:1/b) <img src=x onerror=alert(1)> }")
    assert at.error and "](http" not in rendered_text(at) and "<img" not in rendered_text(at)


def test_the_example_search_keeps_the_examples_holding_every_word():
    at = open_page(PAGE)
    at.text_input(key="sparql_example_search").input("weakness BERT").run()
    shown = [b.key for b in at.button if b.key and b.key.startswith("sparql_ex_")]
    assert shown == ["sparql_ex_09-bert-weaknesses", "sparql_ex_10-fix-independence-assumption",
                     "sparql_ex_11-trace-bert-to-xlnet"]
    at.text_input(key="sparql_example_search").input("cq 17").run()
    assert [b.label.replace("\\", "") for b in at.button if b.key and b.key.startswith("sparql_ex_")] == [
        "**CQ 17** · Rank the feature extractors by long-range dependency ability"]   # (Markdown escapes dropped)


def test_the_history_keeps_the_last_queries_once_each_newest_first():
    at = open_page(PAGE)
    for i in range(MAX_HISTORY + 3):
        run_query(at, f"SELECT ?m WHERE {{ ?m plm:improvesOn pm:BERT }} LIMIT {i + 1}")
    run_query(at, "SELECT ?m WHERE { ?m plm:improvesOn pm:BERT } LIMIT 10")   # again: to the top, once
    run_query(at, "SELECT ?m WHERE { ?m plm:improvesOn }")                    # an error is remembered too
    history = at.session_state["sparql_history"]
    assert len(history) == MAX_HISTORY
    assert [h["text"][-8:] for h in history[:3]] == ["ovesOn }", "LIMIT 10", "LIMIT 23"]
    assert history[0]["said"] == "syntax error" and history[1]["said"].startswith("10 row(s) · ")
    assert sum(h["text"].endswith("LIMIT 10") for h in history) == 1
    buttons = [b for b in at.button if b.key and b.key.startswith("sparql_hist_")]
    assert len(buttons) == MAX_HISTORY
    buttons[1].click().run()                                                  # runs it again
    assert at.session_state["sparql_outcome"]["text"].endswith("LIMIT 10")
    at.button(key="sparql_history_clear").click().run()
    assert "sparql_history" not in at.session_state or not at.session_state["sparql_history"][1:]


def test_a_mixed_case_lang_tag_is_warned_after_the_run():
    at = run_query(open_page(PAGE), 'SELECT ?l WHERE { pm:BERT skos:prefLabel ?l FILTER(lang(?l) = "zh-Hans") }')
    assert any("cannot match" in w.value and '"zh-hans"' in w.value.replace("\\", "") for w in at.warning)
    at = run_query(at, 'SELECT ?l WHERE { pm:BERT skos:prefLabel ?l FILTER(lang(?l) = "zh-hans") }')
    assert not any("cannot match" in w.value for w in at.warning) and len(at.dataframe[0].value) == 1
