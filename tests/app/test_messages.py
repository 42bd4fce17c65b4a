"""The interface's words live in the message catalogue (app_pages/messages/), in English, 简体 and 繁體:
every message a page asks for exists in every language with the same placeholders, the traditional
text is OpenCC's conversion of the simplified (kg/hant.py) unless listed as an exception, the
simplified holds no traditional-only character, and no page hard-codes a word of its interface."""

from __future__ import annotations

import ast
import functools
import json
import re
import string
from pathlib import Path

import pytest

from app_pages.i18n import LANGUAGES, catalogue, from_locale
from kg.hant import to_hant

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "app_pages" / "messages"
NAMESPACES = sorted(path.stem for path in MESSAGES.glob("*.json"))
PAGES = sorted((ROOT / "app_pages").glob("*.py")) + [ROOT / "explorer.py"]


def raw(namespace: str) -> dict[str, dict[str, str]]:
    return json.loads((MESSAGES / f"{namespace}.json").read_text(encoding="utf-8"))


def asked_for() -> set[tuple[str, str]]:
    """Every "namespace.key" string the pages hold, for a namespace that has a catalogue."""
    return {(m[1], m[2]) for page in PAGES
            for m in re.finditer(r'"([a-z_]+)\.([a-z_]+)"', page.read_text(encoding="utf-8")) if m[1] in NAMESPACES}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_a_page_asks_for_is_in_the_catalogue():
    asked = asked_for()
    assert len(asked) > 50
    missing = [f"{ns}.{key}" for ns, key in sorted(asked) if key not in catalogue(ns)["en"]]
    assert not missing


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_every_message_is_in_every_language_with_the_same_placeholders(namespace):
    messages = catalogue(namespace)
    assert set(messages) == set(LANGUAGES)
    for lang in LANGUAGES[1:]:
        assert set(messages[lang]) == set(messages["en"]), f"{namespace}: keys missing or extra in {lang}"
        for key, text in messages["en"].items():
            assert placeholders(messages[lang][key]) == placeholders(text), f"{namespace}.{key} in {lang}"


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_traditional_messages_are_converted_from_the_simplified_or_listed_exceptions(namespace):
    given = raw(namespace)
    for key, text in given.get("zh-Hant", {}).items():   # an exception: differs from the conversion
        assert text != to_hant(given["zh-Hans"][key]), f"{namespace}.{key}: the conversion already gives it"
    for key, text in given.get("zh-Hans", {}).items():
        # simplified text holds no character that converting back to simplified would change
        assert not [c for c in text if c != _to_simplified(c) and c not in KEEP], f"{namespace}.{key}: {text}"


KEEP: set[str] = set()   # characters OpenCC's t2s changes that are nonetheless standard simplified (none so far)


@functools.cache
def _to_simplified(char: str) -> str:
    import opencc

    return opencc.OpenCC("t2s").convert(char)


@pytest.mark.parametrize("tag, lang", [
    ("zh-CN", "zh-Hans"), ("zh", "zh-Hans"), ("zh-SG", "zh-Hans"), ("zh-Hans-CN", "zh-Hans"),
    ("zh-TW", "zh-Hant"), ("zh-HK", "zh-Hant"), ("zh_MO", "zh-Hant"), ("zh-Hant", "zh-Hant"),
    ("en-GB", "en"), ("fr-FR", None), ("", None), (None, None),
])
def test_a_browser_language_chooses_the_interface_language(tag, lang):
    assert from_locale(tag) == lang


def test_the_sparql_page_uses_every_message_of_its_catalogue():
    used = {key for ns, key in asked_for() if ns == "sparql"}
    assert set(catalogue("sparql")["en"]) == used


def test_the_sparql_editor_uses_every_message_it_is_sent():
    source = (ROOT / "frontend" / "src" / "sparql_editor.js").read_text(encoding="utf-8")
    buttons = re.findall(r'\[st\.\w+, "(\w+)"\]', source)   # a button's text and, as key + "_help", its tooltip
    assert buttons == ["prettify", "copy_link"]
    for key in catalogue("sparql_editor")["en"]:
        assert f'"{key}"' in source or key.removesuffix("_help") in buttons, key


# --------------------------------------------------------------------------------------------- hard-coded words

# Streamlit calls that put words on the screen, and the keyword arguments that do
SHOWN = {"title", "header", "subheader", "caption", "markdown", "write", "text", "info", "warning", "error",
         "success", "toast", "button", "download_button", "link_button", "page_link", "selectbox",
         "multiselect", "radio", "text_input", "text_area", "number_input", "slider", "select_slider",
         "checkbox", "toggle", "expander", "tabs", "spinner", "metric", "segmented_control", "pills",
         "popover", "dialog", "LinkColumn", "TextColumn", "NumberColumn", "Column", "ProgressColumn",
         "set_page_config", "Page", "form_submit_button", "status"}
SHOWN_KEYWORDS = {"label", "help", "placeholder", "title", "page_title", "caption", "display_text", "text"}
WORD = re.compile(r"[A-Za-z]{2,}")


def _words_in(node: ast.AST) -> list[str]:
    """Literal text with words in it, in a string, an f-string's fixed parts or a list of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
        if text.startswith(":material/") or re.fullmatch(r"[\w./-]+\.py", text) or text.startswith(("<style>", "/")):
            return []
        return [text] if WORD.search(re.sub(r"\{[^}]*\}", "", text)) else []
    if isinstance(node, ast.JoinedStr):
        fixed = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return [fixed] if WORD.search(fixed) else []
    if isinstance(node, (ast.List, ast.Tuple)):
        return [w for elt in node.elts for w in _words_in(elt)]
    if isinstance(node, ast.BinOp):
        return _words_in(node.left) + _words_in(node.right)
    if isinstance(node, ast.IfExp):
        return _words_in(node.body) + _words_in(node.orelse)
    return []


def hard_coded(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in SHOWN:
            continue
        args = list(node.args) + [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
        found += [f"{path.name}:{node.lineno}: {w[:60]!r}" for arg in args for w in _words_in(arg)]
    return found


# pages not yet moved to the catalogue (issue 10): each leaves this list when its words move
NOT_YET: set[str] = set()


@pytest.mark.parametrize("path", [p for p in PAGES if p.name not in NOT_YET], ids=lambda p: p.name)
def test_no_page_hard_codes_a_word_of_its_interface(path):
    assert hard_coded(path) == []


def test_the_hard_coded_word_check_sees_what_it_should():
    sample = ROOT / "tests" / "artifacts" / "hard_coded_sample.py"
    sample.parent.mkdir(parents=True, exist_ok=True)
    sample.write_text('import streamlit as st\nst.title("Hello")\nst.button(f"Run {n}", help="Runs it")\n'
                      'st.tabs(["Table", t("x.y")])\nst.caption(t("x.y"))\nst.button(":material/add:")\n'
                      'st.markdown(f"**{a}** · {b}")\n', encoding="utf-8")
    assert [line.split(": ", 1)[1] for line in hard_coded(sample)] == ["'Hello'", "'Run '", "'Runs it'", "'Table'"]
