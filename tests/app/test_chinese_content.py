"""The pages show the graph's own content in the interface's language: a node's title, description,
relations and claims; the sections' titles, questions and claims; the comparison's cells; the
trace's hops and evidence; the family tree's names and the map's labels (AppTest, no browser)."""

from __future__ import annotations

import re

import pytest

from ._support import open_page

NODE, QUESTIONS, COMPARE, TRACE = "app_pages/node.py", "app_pages/questions.py", "app_pages/compare.py", "app_pages/trace.py"
GRAPH, TIMELINE, VERIFY = "app_pages/graph.py", "app_pages/timeline.py", "app_pages/verify.py"


def texts(at) -> str:
    plain = [e.value for kind in ("title", "subheader", "markdown", "caption") for e in getattr(at, kind)]
    return "\n".join(plain).replace("\\", "")


@pytest.mark.parametrize("lang, title, words, relation, claim", [
    ("zh-Hans", "排列语言模型", "在各种顺序上取平均后", "由其提出", "正在预测哪个位置"),
    ("zh-Hant", "排列語言模型", "在各種順序上取平均後", "由其提出", "正在預測哪個位置"),
    ("en", "Permutation language modeling", "Averaged over orders", "introduced by", "which position it is"),
])
def test_a_node_page_reads_in_the_interface_language(lang, title, words, relation, claim):
    at = open_page(NODE, node="permutation-lm", lang=lang)
    assert at.title[0].value == title
    body = texts(at)
    assert words in body and f"**{relation}**" in body
    assert any(title in h.value.replace("\\", "") for h in at.subheader)   # "claims about <its name>"
    claims = [m.value for m in at.markdown if m.value.replace("\\", "").startswith("**Q17.6**")]
    assert claims and claim in claims[0]


def test_the_questions_page_in_traditional_chinese_has_its_titles_questions_and_claims():
    at = open_page(QUESTIONS, lang="zh-Hant", section="Q17")
    assert at.subheader[0].value == "Q17 XLNet為何有效"
    body = texts(at)
    assert "排列語言模型如何建模雙向上下文" in body                 # the question, converted from our simplified text
    assert "XLNet's permutation" not in body.split("**Q17.1**")[0]  # the English question comes after, not first
    first = next(m.value for m in at.markdown if m.value.replace("\\", "").startswith("**Q17.1**"))
    assert any("\u4e00" <= c <= "\u9fff" for c in first)


def test_searching_the_questions_finds_chinese_claim_text():
    at = open_page(QUESTIONS, lang="zh-Hans")
    at.text_input(key="questions-search").input("排列语言模型").run()
    shown = [m.value.replace("\\", "") for m in at.markdown if m.value.replace("\\", "").startswith("**Q")]
    assert len(shown) >= 8 and all(s.startswith("**Q") for s in shown)


def test_the_comparison_names_its_cells_in_chinese_and_filters_by_them():
    at = open_page(COMPARE, lang="zh-Hans")
    (frame,) = at.dataframe
    row = frame.value.set_index("model").loc["XLNet"]
    assert "排列语言模型" in row["objective"] and row["model_zh"] == "XLNet"
    options = at.multiselect(key="compare-objective").options
    assert "排列语言模型" in options   # the picker shows the Chinese name of the English value it keeps
    at.multiselect(key="compare-objective").select("Permutation language modeling").run()
    assert list(at.dataframe[0].value["model"]) == ["XLNet"]


def test_the_trace_reads_hop_by_hop_in_chinese():
    at = open_page(TRACE, lang="zh-Hans", **{"from": "BERT", "to": "XLNet"})
    assert at.expander[0].label == "1. BERT → 独立性假设 → 排列语言模型 → XLNet"
    body = texts(at)
    assert "*存在缺陷* →" in body and "*由其解决* →" in body and "BERT假设被遮盖的词元彼此独立" in body


def test_the_map_page_describes_the_selected_node_in_chinese():
    at = open_page(GRAPH, lang="zh-Hans", focus="XLNet")
    assert "一种不用掩码就能获得两侧上下文的自回归模型" in texts(at)


def test_the_map_draws_chinese_labels_and_relations_at_the_english_positions():
    from kg import open_backend
    from kg.views import graph_view

    backend = open_backend(endpoint=None)
    try:
        kinds = ("model", "mechanism", "weakness", "objective")
        english, chinese = graph_view(backend, kinds=kinds), graph_view(backend, kinds=kinds, lang="zh-Hans")
    finally:
        backend.close()
    where = {n["id"]: (n["x"], n["y"]) for n in english.nodes}
    assert {n["id"]: (n["x"], n["y"]) for n in chinese.nodes} == where       # the same shape in every language
    label = {n["id"]: n["label"] for n in chinese.nodes}
    assert label["permutation-lm"] == "排列语言模型" and label["BERT"] == "BERT"
    assert "Permutation language modeling" in next(n["title"] for n in chinese.nodes if n["id"] == "permutation-lm")
    relation = {(e["from"], e["to"]): e["label"] for e in chinese.edges}
    assert relation[("permutation-lm", "XLNet")] in ("由其提出", "用于")
    assert relation[("permutation-lm", "independence-assumption")] == "解决"


def test_the_family_tree_lists_its_models_by_their_chinese_names():
    at = open_page(TIMELINE, lang="zh-Hans")
    links = [p.label.replace("\\", "") for p in at.get("page_link")]
    assert any("ERNIE 1.0" in label for label in links) and any(label == "ERNIE(清华)" for label in links)


def test_the_verify_page_states_each_claim_in_the_interface_language():
    at = open_page(VERIFY, lang="zh-Hans")
    (frame,) = at.dataframe
    statements = list(frame.value["statement"])
    assert statements and sum(any("\u4e00" <= c <= "\u9fff" for c in s) for s in statements) == len(statements)


def test_the_map_s_tooltips_name_the_kind_in_the_interface_language():
    from kg import open_backend
    from kg.views import graph_view

    backend = open_backend(endpoint=None)
    try:
        title = next(n["title"] for n in graph_view(backend, lang="zh-Hant").nodes if n["id"] == "label-leakage")
    finally:
        backend.close()
    assert title == "標籤洩漏 / Label leakage\n(缺陷)"


def test_a_demo_run_on_a_chinese_page_states_its_verdict_and_plots_in_chinese():
    from app_pages.i18n import messages

    at = open_page(NODE, node="dynamic-masking", lang="zh-Hans")
    run = [b for b in at.button if b.label == messages("shared", "zh-Hans")["run"]][0]
    run.click().run()
    assert not at.exception
    (verdict,) = [s.value for s in at.success if "Q15\\.2" in s.value]
    plain = verdict.replace("\\", "")
    assert messages("shared", "zh-Hans")["verdict_supports"] in plain and "静态掩码" in plain and "动态掩码" in plain
    assert len(re.findall(r"[\u4e00-\u9fff]", verdict)) > 20
