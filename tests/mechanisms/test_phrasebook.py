"""The demos' words in Chinese: every text template the demos write has its simplified-Chinese entry
with the same fields, and every explanation a real run wrote (the committed `kg verify` results)
reads in Chinese, its numbers where the English had them."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from mechanisms.phrasebook import catalogue, fields, say, templates

ROOT = Path(__file__).resolve().parents[2]
NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:e[-+]?\d+)?")


@functools.cache
def recorded_explanations() -> list[str]:
    import pyoxigraph

    store = pyoxigraph.Store()
    store.load(path=str(ROOT / "verification" / "results.trig"), format=pyoxigraph.RdfFormat.TRIG)
    described = pyoxigraph.NamedNode("https://schema.org/description")
    return sorted({q.object.value for q in store.quads_for_pattern(None, described, None, None)})


def test_every_template_of_the_demos_has_its_entry_and_no_entry_is_left_over():
    assert len(templates()) > 400
    assert sorted(set(templates()) - set(catalogue())) == []
    assert sorted(set(catalogue()) - set(templates())) == []


def test_each_entry_keeps_the_english_fields():
    for english, chinese in catalogue().items():
        assert chinese.strip(), english
        numbered = re.findall(r"\{(\d+)\}", chinese.replace("{{", "").replace("}}", ""))
        if numbered:   # {0} … {n-1}, each at least once
            assert sorted(set(map(int, numbered))) == list(range(fields(english))), english
            assert "{}" not in chinese.replace("{{", "").replace("}}", ""), english
        else:
            assert fields(chinese) == fields(english), english


def test_the_catalogue_is_simplified_chinese():
    import opencc

    t2s = opencc.OpenCC("t2s")
    assert [c for c in catalogue().values() if t2s.convert(c) != c] == []


@pytest.mark.parametrize("text", recorded_explanations())
def test_a_recorded_explanation_reads_in_chinese_with_its_numbers(text):
    chinese = say(text, "zh-Hans")
    assert chinese != text and re.search(r"[\u4e00-\u9fff]", chinese)
    assert sorted(NUMBER.findall(text)) <= sorted(NUMBER.findall(chinese)) or \
        set(NUMBER.findall(text)) <= set(NUMBER.findall(chinese)), "a number was lost"
    from kg.hant import to_hant

    assert say(text, "zh-Hant") == to_hant(chinese)


def test_a_text_the_phrasebook_does_not_know_stays_english_and_english_is_untouched():
    assert say("a sentence no demo writes", "zh-Hans") == "a sentence no demo writes"
    some = recorded_explanations()[0]
    assert say(some, "en") == some


def test_a_template_whose_field_is_empty_still_matches():
    assert "stage {}: tasks {}{}" in catalogue()      # continual_multitask: the third field is "" at stage 1
    said = say("stage 1: tasks 1", "zh-Hans")
    assert said != "stage 1: tasks 1" and "1" in said
