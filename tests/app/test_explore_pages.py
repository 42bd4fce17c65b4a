"""The Graph, Node, Trace and Verify pages with Streamlit's AppTest (no browser)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from ._support import open_page



def texts(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


def test_the_graph_page_filters_by_kind_section_and_direction():
    at = open_page()
    assert at.title[0].value == "Knowledge graph"
    assert any("nodes," in str(m.value) for m in at.markdown)
    at.multiselect(key="g_kinds").set_value(["model"]).run()
    (line,) = [str(m.value) for m in at.markdown if "nodes," in str(m.value)]
    assert " 21 nodes" in line
    at.selectbox(key="g_direction").set_value("generation").run()
    (line,) = [str(m.value) for m in at.markdown if "nodes," in str(m.value)]
    assert " 3 nodes" in line  # BERT, MASS, UniLM
    assert not at.exception


def test_the_graph_page_searches_chinese_labels_and_centres_the_view():
    at = open_page()
    at.text_input(key="g_search").input("排列語言模型").run()
    assert at.selectbox(key="g_center").options[1] == "Permutation language modeling"
    at.selectbox(key="g_center").set_value("permutation-lm").run()
    assert not at.exception
    (line,) = [str(m.value) for m in at.markdown if "nodes," in str(m.value)]
    assert int(line.split(" nodes")[0].split()[-1]) < 20


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
    assert set(df["verdict"]) <= {"supports", "contradicts", "inconclusive"}
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
