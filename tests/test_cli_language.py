"""`kg --lang` and $PLM_MAP_LANG: labels, descriptions, relations and claims in English, 简体 or 繁體."""

from __future__ import annotations

import json
import os
import unicodedata

import pytest

from kg.limits import fill
from tests.test_cli import kg


def env(**values):
    return {**os.environ, **values}


def test_show_in_simplified_chinese_has_the_chinese_title_description_relations_and_claims():
    out = kg("--lang", "zh-Hans", "show", "permutation-lm")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("排列语言模型   Permutation language modeling")
    assert "在各种顺序上取平均后" in out.stdout.replace("\n  ", "")
    relations = out.stdout.split("\nRelations\n")[1].split("\n\n")[0]
    assert "  解决  " in relations and "独立性假设 (independence-assumption)" in relations
    assert "由其提出" in relations and "XLNet (XLNet)" in relations
    assert "Relations to it\n  是其预训练目标" in out.stdout
    assert "Q17.6 [Q17] " in out.stdout


def test_the_environment_variable_names_the_language_and_the_option_wins_over_it():
    trad = kg("show", "label-leakage", env=env(PLM_MAP_LANG="zh-Hant"))
    assert trad.returncode == 0 and trad.stdout.startswith("標籤洩漏   Label leakage"), trad.stdout[:80]
    english = kg("show", "label-leakage", "--lang", "en", env=env(PLM_MAP_LANG="zh-Hant"))
    assert english.stdout.startswith("Label leakage")


def test_a_locale_names_a_language_too():
    out = kg("search", "pailie", env=env(PLM_MAP_LANG="zh_TW.UTF-8"))
    assert out.returncode == 0 and "排列語言模型" in out.stdout.splitlines()[0]


@pytest.mark.parametrize("args, extra_env, message", [
    (["--lang", "fr", "show", "BERT"], {}, "use one of en, zh-Hans, zh-Hant, not 'fr'"),
    (["show", "BERT"], {"PLM_MAP_LANG": "klingon"}, "PLM_MAP_LANG='klingon' is not a language of this project"),
])
def test_an_unknown_language_is_refused_in_one_line(args, extra_env, message):
    out = kg(*args, env=env(**extra_env))
    assert out.returncode != 0 and message in out.stderr and "Traceback" not in out.stderr and out.stdout == ""


def test_trace_in_chinese_reads_weakness_fix_and_model_with_the_claims_in_chinese():
    out = kg("trace", "BERT", "XLNet", "--lang", "zh-Hans")
    first = out.stdout.split("\n\n")[0]
    assert first.splitlines()[0] == "1. BERT → 独立性假设 → 排列语言模型 → XLNet"
    assert "BERT —存在缺陷→ 独立性假设" in first and "独立性假设 —由其解决→ 排列语言模型" in first
    assert "Q7.2 [section Q7]: BERT假设被遮盖的词元彼此独立" in first


def test_trace_json_carries_the_language_and_its_labels():
    (chain, *_) = json.loads(kg("trace", "BERT", "XLNet", "--json", "--lang", "zh-Hant").stdout)
    assert chain["lang"] == "zh-Hant" and chain["labels"] == ["BERT", "獨立性假設", "排列語言模型", "XLNet"]
    assert chain["path"] == ["BERT", "independence-assumption", "permutation-lm", "XLNet"]   # ids stay ids
    assert chain["hops"][0]["relation"] == "存在缺陷"


def test_show_json_gives_the_chosen_language_and_all_of_them():
    shown = json.loads(kg("show", "BERT", "--json", "--lang", "zh-Hans").stdout)
    assert shown["lang"] == "zh-Hans" and shown["definition"] == shown["definitions"]["zh-Hans"]
    assert set(shown["definitions"]) == {"en", "zh-Hans", "zh-Hant"}


def columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def test_chinese_text_wraps_at_the_terminal_width_in_columns_without_a_line_starting_with_punctuation():
    text = "全词掩码、ERNIE系列模型和SpanBERT遮盖的是内部各部分彼此相关的单元，因此只能隐式地学习被预测词之间的关系。" * 3
    lines = fill(text, 60, indent="  ").splitlines()
    assert all(columns(line) <= 60 for line in lines) and len(lines) > 3
    assert not any(line.strip()[0] in "。，、；：？！" for line in lines)
    assert "".join(line.strip() for line in lines) == text   # nothing lost, no word cut apart
    assert all("SpanBERT" in line or "SpanB" not in line for line in lines)


def test_english_wraps_at_spaces_as_before():
    text = "An autoregressive model that gets two-sided context without masking " * 4
    lines = fill(text, 40).splitlines()
    assert all(len(line) <= 40 for line in lines) and " ".join(lines) == " ".join(text.split())
