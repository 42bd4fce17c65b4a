"""The Graph, Node, Trace and Verify pages with Streamlit's AppTest (no browser)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from ._support import open_page



def texts(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


def with_filters_open(at):
    """The filters' widgets are drawn only while their expander is open."""
    at.session_state["g_filters"] = True
    return at.run()


def counts(at) -> str:
    (line,) = [str(c.value) for c in at.caption if " nodes, " in str(c.value)]
    return line


def test_the_graph_page_filters_by_kind_section_and_direction():
    at = with_filters_open(open_page())
    assert at.title[0].value == "Knowledge graph"
    assert counts(at).startswith("83 nodes")  # models, mechanisms and weaknesses by default
    assert at.multiselect(key="g_kinds").value == ["model", "mechanism", "weakness"]
    at.multiselect(key="g_kinds").set_value(["model"]).run()
    assert counts(at).startswith("21 nodes")
    assert at.query_params["kinds"] == "model"
    with_filters_open(at).selectbox(key="g_direction").set_value("generation").run()
    assert counts(at).startswith("3 nodes")  # BERT, MASS, UniLM
    assert at.query_params["direction"] == "generation"
    at.session_state["g_filters"] = False
    at.run()                                  # the filters folded: their widgets are gone, not their values
    assert not at.multiselect and counts(at).startswith("3 nodes")
    assert at.query_params["kinds"] == "model" and at.query_params["direction"] == "generation"
    assert not at.exception


def test_the_graph_page_shows_sections_with_their_questions():
    at = with_filters_open(open_page())
    options = at.selectbox(key="g_section").options
    assert "Q17 · Why is XLNet effective?" in options or any(o.startswith("Q17 · ") for o in options)
    assert all(o == "any section" or " · " in o for o in options)


def test_a_chinese_search_selects_the_best_hit_and_the_address_keeps_it():
    at = open_page()
    at.session_state["g_search"] = "排列語言模型"   # what the map's search box sends
    at.run()
    assert not at.exception
    assert at.session_state["g_focus"] == "permutation-lm"
    assert at.query_params["focus"] == "permutation-lm" and at.query_params["q"] == "排列語言模型"
    assert any("Open its page" == p.proto.label for p in at.get("page_link"))


def test_showing_only_a_neighbourhood_narrows_the_view():
    at = open_page()
    at.query_params.update(focus="permutation-lm")
    at.run()
    [b for b in at.button if b.label == "Show only its neighbourhood"][0].click().run()
    assert not at.exception
    assert at.query_params["center"] == "permutation-lm"
    assert int(counts(at).split(" nodes")[0]) < 20


def test_a_bad_address_is_named_and_changes_nothing_else():
    at = open_page()
    at.query_params.update(kinds="model,wizard", focus="no-such-node", depth="9")
    at.run()
    warnings = " ".join(w.value for w in at.warning)
    assert "kinds=wizard was ignored: no such kind" in warnings
    assert r"no\-such\-node was ignored: no such node" in warnings
    assert "depth=9" in warnings
    assert counts(at).startswith("21 nodes")


def test_a_node_page_shows_labels_relations_claims_and_demos():
    at = open_page("app_pages/node.py", node="permutation-lm")
    assert at.title[0].value == "Permutation language modeling"
    body = texts(at)
    assert "排列语言模型 / 排列語言模型" in body
    assert "**Q17\\.6**" in body and "arxiv.org/abs/1906.08237" in body
    assert len(at.button) >= 3  # a Run button per demo
    assert not at.exception


def test_running_a_demo_on_a_node_page_shows_its_verdict():
    at = open_page("app_pages/node.py", node="dynamic-masking")
    run = [b for b in at.button if b.label == "Run"][0]
    run.click().run()
    assert not at.exception
    assert any("Q15\\.2 — supports" in s.value for s in at.success)


def test_out_of_range_demo_parameters_are_refused_before_running():
    from mechanisms import ParamError, get

    with pytest.raises(ParamError):
        get("dynamic-masking").validate({"epochs": 10**9})


def test_unknown_node_says_so_and_suggests():
    at = open_page("app_pages/node.py", node="Transformr")
    assert any("Unknown node" in e.value for e in at.error)


def test_the_trace_page_reads_its_permalink_and_shows_evidence():
    at = open_page("app_pages/trace.py", **{"from": "BERT", "to": "XLNet"})
    labels = [e.label for e in at.expander]
    assert labels[0] == "1. BERT → Independence assumption → Permutation language modeling → XLNet"
    assert any("Q7\\.2" in str(m.value) for m in at.markdown)


def test_the_trace_button_traces_bert_to_xlnet():
    at = open_page("app_pages/trace.py")
    at.button(key="t_example").click().run()
    assert at.expander[0].label.startswith("1. BERT → Independence assumption")
    assert at.query_params["from"] == "BERT" and at.query_params["to"] == "XLNet"


def test_the_verify_page_shows_the_recorded_run():
    at = open_page("app_pages/verify.py")
    df = at.dataframe[0].value
    assert len(df) == 55
    assert set(df["verdict"]) <= {"supports", "contradicts", "inconclusive", "holds", "fails"}
    assert {"identity", "experiment"} <= set(df["kind"]), "identities and experiments are told apart"
    assert df["key number"].str.contains(r"\[.*, .*\]").any(), "experiments show their interval"
    assert not at.exception


@pytest.mark.parametrize("page, params", [
    (None, {}), ("app_pages/node.py", {"node": "BERT"}), ("app_pages/trace.py", {}), ("app_pages/questions.py", {}),
    ("app_pages/compare.py", {}), ("app_pages/timeline.py", {}), ("app_pages/sparql.py", {}),
    ("app_pages/verify.py", {}),
])
def test_every_page_warns_when_the_operator_turned_the_query_sandbox_off(monkeypatch, page, params):
    from kg.backends import EmbeddedBackend

    # what the backend says under PLM_MAP_UNSAFE_NO_SANDBOX=1 (set on the class: the cached backend is shared)
    monkeypatch.setattr(EmbeddedBackend, "sandbox_warning", "User queries run without a network sandbox",
                        raising=False)
    at = open_page(page, **params)
    assert [w.value for w in at.warning if "without a network sandbox" in w.value]
