"""Every page of the explorer with a hostile graph (tests/hostile_graph.py: megabyte labels and
descriptions that carry markup, a beacon image, a javascript: link, escape sequences and U+202E)
and with hostile input (a megabyte search, 100 KB address parameters): every page renders in
bounded size and within a second, and input is cut or refused before any work, saying so."""

from __future__ import annotations

import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from kg.safety import MAX_QUERY_CHARS
from tests.hostile_graph import MEGABYTE, graph_env, write_hostile_graph

from ._support import EXPLORER

NODE, TRACE, QUESTIONS = "app_pages/node.py", "app_pages/trace.py", "app_pages/questions.py"
COMPARE, TIMELINE, VERIFY, SPARQL = ("app_pages/compare.py", "app_pages/timeline.py", "app_pages/verify.py",
                                     "app_pages/sparql.py")
PAGE_BYTES = 150_000        # a page's elements as sent to the browser (the survey's own pages: 10-100 KB)
PAGE_SECONDS = 1.0
SELECT_HOSTILE = "SELECT ?l ?d WHERE { pm:hostile skos:prefLabel ?l ; skos:definition ?d }"
PAGES = [
    (None, {}), (NODE, {"node": "hostile"}), (NODE, {"node": "hostile-weakness"}), (NODE, {"node": "hostile-fix"}),
    (NODE, {"node": "claim-Q99.1"}), (NODE, {"node": "section-Q99"}), (NODE, {"node": "paper-hostile"}),
    (NODE, {"node": "demo-hostile"}), (NODE, {"node": "org-hostile"}), (NODE, {"node": "BERT"}),
    (TRACE, {"from": "hostile"}), (TRACE, {"from": "hostile", "to": "XLNet"}),
    (QUESTIONS, {}), (QUESTIONS, {"section": "Q99"}), (COMPARE, {}), (TIMELINE, {}), (VERIFY, {}),
    (SPARQL, {"q": SELECT_HOSTILE}), (SPARQL, {"q": "CONSTRUCT { pm:hostile ?p ?o } WHERE { pm:hostile ?p ?o }"}),
]
# Markup that would render (an image, a link, a tag) if a page forgot to escape graph text
LIVE_MARKUP = re.compile(r"(?<!\\)<(img|script|svg)\b|(?<!\\)!(?<!\\)\[|(?<!\\)\]\((javascript|http://127)")


def visit(page: str | None, **params) -> tuple[AppTest, float]:
    """A new session opens `page` with these address parameters; the seconds that page's run took."""
    at = AppTest.from_file(EXPLORER, default_timeout=120)
    if page is None:
        t0 = time.perf_counter()
        at.run()
        return at, time.perf_counter() - t0
    at.run()
    at.query_params.update(params)
    t0 = time.perf_counter()
    at.switch_page(page).run()
    return at, time.perf_counter() - t0


def page_bytes(at: AppTest) -> int:
    """The bytes of every element the page rendered, as protobuf for the browser, less the code of
    its components (the same fixed vis-network and editor bundles on every page)."""

    def size(node) -> int:
        proto = getattr(node, "proto", None)
        total = proto.ByteSize() if hasattr(proto, "ByteSize") else 0
        for code in ("js_content", "css_content", "html_content"):
            total -= len(getattr(proto, code, "").encode()) if hasattr(proto, code) else 0
        return total + sum(size(child) for child in getattr(node, "children", {}).values())

    return size(at._tree)


def shown_text(at: AppTest) -> list[str]:
    """What the page renders as Markdown (where markup could do harm)."""
    kinds = ("markdown", "caption", "title", "subheader", "info", "warning", "error", "success")
    out = [e.value for kind in kinds for e in getattr(at, kind)]
    out += [e.label for e in at.expander] + [e.proto.label for e in at.get("page_link")]
    return out


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    """The app reads the survey plus the hostile files; every page is visited once first, so that the
    timings below are a visitor's, not the process's imports and the graph's one-off indexes."""
    from app_pages._shared import backend

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLM_MAP_GRAPH", graph_env(write_hostile_graph(tmp_path_factory.mktemp("hostile"))))
        mp.delenv("PLM_MAP_ENDPOINT", raising=False)
        backend.clear()
        for page, params in PAGES:
            visit(page, **params)
        yield
        backend.clear()


@pytest.mark.parametrize("page, params", PAGES, ids=[f"{p or 'graph'}{params}"[:60] for p, params in PAGES])
def test_every_page_shows_the_hostile_graph_bounded_escaped_and_within_a_second(hostile_app, page, params):
    at, seconds = visit(page, **params)
    assert not at.exception, at.exception
    assert page_bytes(at) < PAGE_BYTES
    assert seconds < PAGE_SECONDS
    texts = shown_text(at)
    assert not [t for t in texts if LIVE_MARKUP.search(t)]
    assert not [t for t in texts if "\x1b" in t or "\u202e" in t]


def test_the_node_page_cuts_the_megabyte_texts_with_a_visible_mark(hostile_app):
    at, _ = visit(NODE, node="hostile")
    assert len(at.title[0].value) < 400 and "…" in at.title[0].value
    assert any(m.value.endswith(r"… \(cut at 2,000 characters\)") for m in at.markdown)   # the description
    options = at.selectbox(key="node_pick").options
    assert max(map(len, options)) < 120                                                  # the node picker


def test_the_sparql_table_cuts_cells_and_the_session_keeps_only_what_is_shown(hostile_app):
    at, _ = visit(SPARQL, q=SELECT_HOSTILE)
    cells = at.dataframe[0].value["d"].tolist()     # one row per label (English, Chinese)
    assert cells and all(c.endswith("… (cut at 2,000 characters)") and len(c) < 2100 for c in cells)
    outcome = at.session_state["sparql_outcome"]
    assert "result" not in outcome                                   # no second copy of the rows
    assert set(outcome) <= {"text", "timeout", "max_rows", "wall_ms", "summary", "frame", "view", "plan", "downloads",
                            "lang"}
    import json

    assert len(json.dumps(outcome.get("plan", {}), ensure_ascii=False)) < 20_000   # the views' plan holds cut texts
    assert len(outcome.get("lang", [])) <= 5                                        # at most five warnings kept
    history = at.session_state["sparql_history"]                                    # the query once, no rows
    assert [h["text"] for h in history] == [SELECT_HOSTILE] and all(len(h["said"]) < 100 for h in history)
    csv = dict((label, data) for label, data, _, _ in outcome["downloads"])["CSV"]
    assert len(csv) > 2 * MEGABYTE                                   # the download keeps every character


# --------------------------------------------------------------------------------------------- hostile input


def map_search(at) -> dict:
    """The search box the graph page draws on its map (in the graph component's data)."""
    import json

    (drawing,) = at.get("bidi_component")
    return json.loads(json.loads(drawing.proto.json)["json"])["search"]


def test_a_megabyte_search_from_the_map_s_box_is_cut_with_a_message_and_answers_within_a_second(hostile_app):
    at, _ = visit(None)
    at.session_state["g_search"] = "排列语言模型 " * (MEGABYTE // 7)   # what a client may send, whatever the box's cap
    t0 = time.perf_counter()
    at.run()
    assert time.perf_counter() - t0 < PAGE_SECONDS
    assert not at.exception
    assert len(map_search(at)["query"]) == 200
    assert any("only the first 200 are used" in w.value for w in at.warning)
    assert page_bytes(at) < PAGE_BYTES


def test_a_megabyte_search_is_cut_with_a_message_and_answers_within_a_second(hostile_app):
    for page, key in ((COMPARE, "compare-search"), (QUESTIONS, "questions-search")):
        at, _ = visit(page)
        # set_value, not input (which, like the browser, stops at max_chars): a client may send anything
        at.text_input(key=key).set_value("排列语言模型 " * (MEGABYTE // 7))
        t0 = time.perf_counter()
        at.run()
        assert time.perf_counter() - t0 < PAGE_SECONDS
        assert not at.exception
        assert len(at.text_input(key=key).value) == 200          # Streamlit cuts it to max_chars
        assert any("only the first 200 are used" in w.value for w in at.warning)
        assert page_bytes(at) < PAGE_BYTES


@pytest.mark.parametrize("page, param, says", [
    (NODE, "node", "at most 200 characters; this one has 100,000"),
    (TRACE, "from", "only the first 200 are used"), (TRACE, "to", "only the first 200 are used"),
    (QUESTIONS, "section", "only the first 200 are used"),
])
def test_a_100_kb_address_parameter_is_refused_or_cut_within_a_second(hostile_app, page, param, says):
    params = {"from": "BERT"} if param == "to" else {}
    at, seconds = visit(page, **params, **{param: "x" * 100_000})
    assert seconds < PAGE_SECONDS and not at.exception
    assert any(says in e.value for e in [*at.error, *at.warning])
    assert page_bytes(at) < PAGE_BYTES


def test_a_query_in_the_address_over_the_limit_is_cut_shown_and_not_run(hostile_app):
    at, seconds = visit(SPARQL, q="#" * 100_000)
    assert seconds < PAGE_SECONDS and not at.exception
    assert any("only the first 20,000 are used" in w.value for w in at.warning)
    assert len(at.text_area(key="sparql_text").value) == MAX_QUERY_CHARS
    assert not at.dataframe and "sparql_outcome" not in at.session_state and "q" not in at.query_params
    assert page_bytes(at) < PAGE_BYTES


def test_every_text_field_declares_its_length_cap(hostile_app):
    assert map_search(visit(None)[0])["max_chars"] == 200   # the map's search box: its input's maxlength
    for page, key, cap in ((COMPARE, "compare-search", 200), (QUESTIONS, "questions-search", 200)):
        assert visit(page)[0].text_input(key=key).proto.max_chars == cap
    at, _ = visit(SPARQL)
    assert at.text_area(key="sparql_text").proto.max_chars == MAX_QUERY_CHARS
