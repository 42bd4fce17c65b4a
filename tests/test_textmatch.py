"""Search understands Chinese however it is written: simplified or traditional, the field's variant
words, full-width forms, pinyin with or without tones; in every search of the project (kg.nodes.search
behind the graph's search box and `kg search`, Compare's and Questions' filters)."""

from __future__ import annotations

import pytest

from kg.nodes import search
from kg.textmatch import fold, matches, pinyin, pinyin_query
from kg.views import compare_rows, filter_compare, filter_sections, sections


@pytest.mark.parametrize("written, read", [
    ("自迴歸", "自回归"), ("自回歸", "自回归"), ("標籤泄漏", "标签泄漏"), ("标签泄露", "标签泄漏"), ("標簽", "标签"),
    ("ＸＬＮｅｔ", "xlnet"), ("BERT  WWM", "bert wwm"), ("（掩码）", "(掩码)"),
])
def test_one_form_whatever_the_script_the_variant_or_the_width(written, read):
    assert fold(written) == read


@pytest.mark.parametrize("typed", ["pailie", "pái liè", "pai2 lie4", "PaiLie", "pailieyuyan"])
def test_pinyin_with_or_without_tones_finds_the_chinese(typed):
    assert matches(typed, "排列语言模型") and matches(typed, "排列語言模型")


def test_pinyin_is_read_only_from_pinyin_and_long_enough_not_to_match_by_accident():
    assert pinyin("排列语言模型") == "pailieyuyanmoxing" and pinyin("BERT") == ""
    assert pinyin_query("lie") is None and pinyin_query("排列") is None and pinyin_query("pai-lie") is None
    assert not matches("mask", "排列语言模型")


@pytest.mark.parametrize("typed, first", [
    ("標籤泄漏", "label-leakage"), ("标签泄露", "label-leakage"), ("pailie", "permutation-lm"),
    ("自回歸", "autoregressive-lm"), ("自迴歸", "autoregressive-lm"), ("排列", "permutation-lm"),
])
def test_the_graph_search_finds_chinese_however_it_is_written(kg, typed, first):
    assert search(kg, typed, limit=3)[0].id == first


def test_a_demo_is_found_by_the_concepts_word_in_either_traditional_form(kg):
    """The concept is labelled 自回歸, a demo 自迴歸: one search finds both."""
    found = {h.id for h in search(kg, "自回歸", limit=10)}
    assert {"autoregressive-lm", "demo-causal-lm"} <= found


@pytest.mark.parametrize("typed", ["自编码", "自編碼", "zibianma"])
def test_compare_finds_the_autoencoding_models_by_their_chinese_name(kg, typed):
    rows = compare_rows(kg)
    found = {r["id"] for r in filter_compare(rows, text=typed)}
    assert {"BERT", "RoBERTa", "SpanBERT"} <= found and "GPT" not in found


@pytest.mark.parametrize("typed, about", [("排列语言模型", "permutation-lm"), ("掩码", "masked-language-model"),
                                          ("pailie", "permutation-lm")])
def test_questions_finds_the_claims_about_a_concept_by_its_chinese_name(kg, typed, about):
    shown = filter_sections(sections(kg), text=typed)
    claims = [c for s in shown for c in s.claims]
    assert claims and any(about in {n.id for n in c.entities} for c in claims)
