"""The graph's Chinese: every traditional literal is the project's one conversion (kg/hant.py: OpenCC s2twp
and its listed exceptions) of its simplified twin, so a word is written one way everywhere; simplified
literals hold no traditional-only character; the forms the data used to write by hand (the survey's own
mechanical conversion) are still found by search."""

from __future__ import annotations

import functools

import pytest

from kg.hant import EXCEPTIONS, to_hant
from kg.nodes import search

TWINS = """SELECT ?s ?p ?hans ?hant WHERE {
  ?s ?p ?hans . FILTER(isLiteral(?hans) && lang(?hans) = "zh-hans")
  OPTIONAL { ?s ?p ?hant . FILTER(isLiteral(?hant) && lang(?hant) = "zh-hant") }
}"""


@functools.cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


@pytest.fixture(scope="module")
def twins(kg):
    return [(s.value, p.value, hans.value, hant.value if hant else None) for s, p, hans, hant in kg.select(TWINS).rows]


def test_every_simplified_literal_has_its_traditional_twin_and_it_is_the_conversion(twins):
    assert len(twins) > 150
    assert [t for t in twins if t[3] is None] == [], "a zh-Hans literal without its zh-Hant"
    wrong = [(s, hans, hant, to_hant(hans)) for s, _, hans, hant in twins if hant != to_hant(hans)]
    assert wrong == []


def test_no_traditional_literal_stands_alone(kg):
    alone = kg.select('SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o) && lang(?o) = "zh-hant") '
                      'FILTER NOT EXISTS { ?s ?p ?h FILTER(isLiteral(?h) && lang(?h) = "zh-hans") } }').rows
    assert alone == []


def test_simplified_literals_hold_no_traditional_only_character(twins):
    found = {c for _, _, hans, _ in twins for c in hans if _t2s().convert(c) != c}
    assert found == set()


def test_each_exception_changes_what_opencc_writes_for_a_word_of_ours():
    import opencc

    raw = opencc.OpenCC("s2twp")
    for wrong, right, why in EXCEPTIONS:   # OpenCC writes `wrong` for the simplified form of `right`
        assert wrong != right and why
        assert wrong in raw.convert(_t2s().convert(right)), (wrong, right)


@pytest.mark.parametrize("old, node", [
    ("標簽泄漏", "label-leakage"), ("自回歸語言模型", "autoregressive-lm"), ("卷積神經網絡", "CNN"),
    ("單向特征表示", "unidirectional"), ("分解順序采樣", "factorisation-order-sampling"),
])
def test_the_forms_the_data_once_wrote_are_still_found(kg, old, node):
    assert search(kg, old, limit=3)[0].id == node


def test_retwin_rewrites_a_wrong_traditional_twin_and_leaves_the_committed_data_as_it_is():
    from pathlib import Path

    from kg.hant import retwin

    broken = 'pm:x skos:definition "从左到右预测\\"下一个\\"词"@zh-Hans , "從左到右预测"@zh-Hant .'
    assert retwin(broken) == 'pm:x skos:definition "从左到右预测\\"下一个\\"词"@zh-Hans , "從左到右預測\\"下一個\\"詞"@zh-Hant .'
    for path in sorted((Path(__file__).resolve().parent.parent / "data").glob("*.ttl")):
        text = path.read_text(encoding="utf-8")
        assert retwin(text) == text, path.name
