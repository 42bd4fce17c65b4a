"""The SPARQL editor used as a user uses it, in Chromium: completion from the graph (properties, nodes by
their Chinese labels, prefixes that write their own PREFIX line), undo that works after Tab, a syntax
error marked where it is before anything runs, the lang() trap, Ctrl+Enter, and a keyboard way out."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from ._helpers import goto, screenshot

pytestmark = pytest.mark.browser

EDITOR = ".plm-editor .cm-content"
OPTIONS = ".cm-tooltip-autocomplete li"


def fresh_editor(page, app_url):
    goto(page, app_url + "/sparql")
    page.wait_for_function("() => globalThis.__plmEditor !== undefined")
    page.locator(EDITOR).click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")


def text(page) -> str:
    return page.evaluate("() => globalThis.__plmEditor.get()")


def offered(page) -> list[str]:
    page.wait_for_selector(OPTIONS, timeout=5_000)
    return page.locator(f"{OPTIONS} .cm-completionLabel").all_inner_texts()


def problems(page) -> list[dict]:
    """What the editor marks now (it sets `data-problems` on each check; it lives in a shadow root)."""
    editor = page.locator(".plm-editor")
    expect(editor).to_have_attribute("data-problems", re.compile(r"^\["))
    return json.loads(editor.get_attribute("data-problems"))


def test_typing_a_property_offers_it_from_the_graph(page, app_url):
    fresh_editor(page, app_url)
    page.keyboard.type("SELECT ?m WHERE { ?m plm:imp", delay=15)
    options = offered(page)
    assert options[0] == "plm:improvesOn"
    expect(page.locator(OPTIONS).first).to_contain_text("improves on")   # its label beside it
    screenshot(page, "sparql-completion-property")


@pytest.mark.parametrize("typed", ["pm:排列", "pm:perm"])
def test_a_node_is_offered_by_its_chinese_label_or_its_name(page, app_url, typed):
    fresh_editor(page, app_url)
    page.keyboard.type("SELECT * WHERE { ?m plm:objective " + typed, delay=15)
    options = offered(page)
    assert options[0] == "pm:permutation-lm"
    expect(page.locator(OPTIONS).first).to_contain_text("排列语言模型")
    if typed == "pm:排列":
        screenshot(page, "sparql-completion-chinese")


def test_picking_a_name_whose_prefix_is_not_declared_adds_the_prefix_line(page, app_url):
    fresh_editor(page, app_url)
    page.keyboard.type("SELECT ?l WHERE { pm:BERT skos:prefL", delay=15)
    assert "skos:prefLabel" in offered(page)
    page.locator(OPTIONS, has_text="skos:prefLabel").first.click()
    assert text(page).startswith("PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n")
    assert "pm:BERT skos:prefLabel" in text(page)
    page.keyboard.type(" ?l }", delay=15)
    assert text(page).count("PREFIX skos:") == 1, "a declared prefix is not declared twice"
    screenshot(page, "sparql-completion-prefix")


def test_undo_after_tab_gives_the_earlier_text_back(page, app_url):
    fresh_editor(page, app_url)
    page.keyboard.type("SELECT ?x", delay=15)
    page.wait_for_timeout(700)   # a pause: the next edits are a new undo step
    page.keyboard.press("Tab")
    page.keyboard.type("WHERE", delay=15)
    assert text(page) != "SELECT ?x"
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    assert text(page) == "SELECT ?x"
    screenshot(page, "sparql-undo-after-tab")
    page.keyboard.press("Control+Shift+z")
    assert text(page) != "SELECT ?x", "redo brings the edit back"


def test_a_syntax_error_is_marked_at_its_line_before_anything_runs(page, app_url):
    fresh_editor(page, app_url)
    page.keyboard.type("SELECT ?m WHERE {\n?m plm:improvesOn pm:BERT .\nFILTER(?m = ) }", delay=5)
    page.wait_for_timeout(800)
    found = [p for p in problems(page) if p["severity"] == "error"]
    assert found and found[0]["line"] == 3, found
    assert re.match(r"Line 3, column \d+: found “\)”", found[0]["message"])
    expect(page.locator(".plm-editor .cm-lintRange-error").first).to_be_visible()
    expect(page.locator(".plm-editor .cm-gutter-lint .cm-lint-marker-error")).to_have_count(1)
    expect(page.locator('[data-testid="stDataFrame"]')).to_have_count(0)   # nothing ran
    screenshot(page, "sparql-error-marked")


def test_a_comparison_without_spaces_is_not_an_error(page, app_url):
    fresh_editor(page, app_url)
    page.keyboard.type("SELECT * WHERE { ?m plm:longRangeRank ?x . ?m plm:perLayerComplexity ?y "
                       "FILTER(?x<3&&?y>2) }", delay=2)
    page.wait_for_timeout(800)
    assert [p for p in problems(page) if p["severity"] == "error"] == []


def test_comparing_lang_with_a_mixed_case_tag_is_warned(page, app_url):
    fresh_editor(page, app_url)
    page.keyboard.type('SELECT ?l WHERE { pm:BERT skos:prefLabel ?l FILTER(lang(?l) = "zh-Hans") }', delay=2)
    page.wait_for_timeout(800)
    warnings = [p for p in problems(page) if p["severity"] == "warning"]
    assert warnings and '"zh-hans"' in warnings[0]["message"] and "langMatches" in warnings[0]["message"]
    assert "false on every row" in warnings[0]["message"]


def test_a_lower_case_tag_and_a_not_equal_are_told_apart(page, app_url):
    fresh_editor(page, app_url)
    page.keyboard.type('SELECT ?l WHERE { pm:BERT skos:prefLabel ?l FILTER(lang(?l) = "en" && lang(?l) != "zh-Hant") }',
                       delay=2)
    page.wait_for_timeout(800)
    warnings = [p for p in problems(page) if p["severity"] == "warning"]
    assert len(warnings) == 1 and "true on every row" in warnings[0]["message"], warnings


def test_ctrl_enter_runs_the_query(page, app_url):
    fresh_editor(page, app_url)
    page.keyboard.type("SELECT ?m WHERE { ?m plm:improvesOn pm:BERT }", delay=2)
    page.keyboard.press("Control+Enter")
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible(timeout=30_000)
    expect(page).to_have_url(re.compile(r"/sparql\?q="))


def test_escape_then_tab_leaves_the_editor(page, app_url):
    fresh_editor(page, app_url)
    page.keyboard.type("SELECT", delay=15)
    page.keyboard.press("Tab")
    assert page.evaluate("() => globalThis.__plmEditor.view.hasFocus"), "Tab alone indents"
    page.keyboard.press("Escape")
    page.keyboard.press("Tab")
    assert not page.evaluate("() => globalThis.__plmEditor.view.hasFocus"), "Esc then Tab moves the focus on"
    screenshot(page, "sparql-left-the-editor")
