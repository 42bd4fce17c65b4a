"""The SPARQL page around its editor, used as a user uses it in Chromium: the example library (numbered
CQ n, searchable, previews of its descriptions), result views chosen for the result's shape (a chart for
a label and a count, a timeline for years), the session's history, prettify, and the copied permalink."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from ._helpers import APP_IDLE, goto, screenshot

pytestmark = pytest.mark.browser

EXAMPLES = ".st-key-sparql_examples"
TABLE = '[data-testid="stDataFrame"]'
CHART = '[data-testid="stVegaLiteChart"]'


def open_console(page, app_url, query: str = ""):
    goto(page, app_url + "/sparql" + query)
    page.wait_for_function("() => globalThis.__plmEditor !== undefined")


def examples(page):
    """The example library's entries (a button each)."""
    return page.locator(EXAMPLES).get_by_role("button")


def editor_text(page) -> str:
    return page.evaluate("() => globalThis.__plmEditor.get()")


def settle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_selector(APP_IDLE, timeout=60_000)


def search_examples(page, text: str) -> None:
    page.get_by_role("textbox", name="Search the examples").fill(text)
    page.keyboard.press("Enter")
    settle(page)


def run_in_editor(page, query: str) -> None:
    page.evaluate("(q) => globalThis.__plmEditor.set(q)", query)
    page.evaluate("() => globalThis.__plmEditor.run()")
    settle(page)
    expect(page.get_by_role("heading", name="Result")).to_be_visible(timeout=30_000)


def test_examples_are_numbered_as_competency_questions_with_their_descriptions_shown(page, app_url):
    open_console(page, app_url)
    labels = examples(page).all_inner_texts()
    assert len(labels) >= 19 and all(re.match(r"CQ \d+ · \S", label) for label in labels), labels[:3]
    assert not any(re.match(r"Q\d", label) for label in labels), "Q n is the survey's section, not an example"
    # the preview: each example's description under its title, without hovering
    expect(page.locator(EXAMPLES).get_by_text("Models whose feature extractor is an RNN")).to_be_visible()


def test_searching_the_examples_for_xlnet_and_loading_one(page, app_url):
    open_console(page, app_url)
    search_examples(page, "XLNet")
    labels = examples(page).all_inner_texts()
    assert labels and len(labels) < 10, labels
    expect(page.get_by_text(re.compile(rf"^{len(labels)} of \d+ examples"))).to_be_visible()
    screenshot(page, "sparql-examples-search-xlnet")
    trace = examples(page).filter(has_text="Trace: BERT's independence assumption to XLNet")
    trace.click()
    settle(page)
    assert editor_text(page).startswith("# title: Trace: BERT's independence assumption to XLNet")
    expect(page.locator(TABLE).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"^\d+ rows? · "))).to_be_visible()
    screenshot(page, "sparql-example-loaded")


def test_a_search_that_finds_nothing_says_so(page, app_url):
    open_console(page, app_url)
    search_examples(page, "no-such-word-anywhere")
    expect(examples(page)).to_have_count(0)
    expect(page.get_by_text("No example holds every word of")).to_be_visible()


def test_a_label_and_count_query_is_drawn_as_a_bar_chart(page, app_url):
    open_console(page, app_url)
    run_in_editor(page, 'SELECT ?label (COUNT(?w) AS ?weaknesses) WHERE {\n'
                        '  ?m a plm:Model ; skos:prefLabel ?label ; plm:hasWeakness ?w .\n'
                        '  FILTER(lang(?label) = "en")\n} GROUP BY ?label')
    page.get_by_role("tab", name="Chart").click()
    settle(page)
    chart = page.locator(CHART).first
    expect(chart).to_be_visible(timeout=30_000)
    expect(page.get_by_text("?weaknesses for each ?label, largest first.")).to_be_visible()
    assert chart.bounding_box()["height"] > 100
    screenshot(page, "sparql-result-chart")


def test_a_year_query_is_drawn_as_a_timeline(page, app_url):
    open_console(page, app_url)
    search_examples(page, "CQ 2")
    examples(page).first.click()
    settle(page)
    assert "?year" in editor_text(page)
    page.get_by_role("tab", name="Timeline").click()
    settle(page)
    expect(page.locator(CHART).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"Each row at its \?year"))).to_be_visible()
    screenshot(page, "sparql-result-timeline")


def test_the_history_lists_the_queries_run_newest_first_and_runs_one_again(page, app_url):
    open_console(page, app_url)
    run_in_editor(page, "SELECT ?m WHERE { ?m plm:improvesOn pm:BERT }")
    run_in_editor(page, "ASK { pm:XLNet plm:improvesOn pm:BERT }")
    page.get_by_role("tab", name="History").click()
    items = page.locator(".st-key-sparql_history").get_by_role("button")
    expect(items).to_have_count(2)
    assert "ASK" in items.nth(0).inner_text() and "SELECT ?m" in items.nth(1).inner_text()
    expect(page.locator(".st-key-sparql_history").get_by_text(re.compile(r"^yes · \d+ ms$"))).to_be_visible()
    screenshot(page, "sparql-history")
    items.nth(1).click()
    settle(page)
    wanted = "SELECT ?m WHERE { ?m plm:improvesOn pm:BERT }"
    for _ in range(60):   # the rerun that loads it may start after settle() saw the page idle (a busy machine)
        if editor_text(page) == wanted:
            break
        page.wait_for_timeout(500)
    assert editor_text(page) == wanted
    expect(page.locator(TABLE).first).to_be_visible(timeout=30_000)
    expect(items).to_have_count(2)   # run again: moved to the top, not listed twice
    assert "SELECT ?m" in items.nth(0).inner_text()


def test_prettify_lays_the_query_out_and_ctrl_z_takes_it_back(page, app_url):
    open_console(page, app_url)
    messy = "# models after BERT\nSELECT ?m ?l WHERE { ?m plm:improvesOn pm:BERT ; skos:prefLabel ?l . # inline\n}"
    page.evaluate("(q) => globalThis.__plmEditor.set(q)", messy)
    settle(page)
    page.locator(".plm-tools button.prettify").click()
    pretty = editor_text(page)
    assert pretty.splitlines()[:2] == ["# models after BERT", "# inline"], "no comment is lost"
    assert "\n  ?m plm:improvesOn pm:BERT;\n" in pretty and "PREFIX" not in pretty
    expect(page.locator(".plm-tools .said")).to_contain_text("1 comment(s) from inside the query moved")
    screenshot(page, "sparql-prettified")
    settle(page)
    page.evaluate("() => globalThis.__plmEditor.view.focus()")
    page.keyboard.press("Control+z")
    page.wait_for_function("(q) => globalThis.__plmEditor.get() === q", arg=messy, timeout=5_000)


def test_prettify_refuses_a_query_that_does_not_parse_and_keeps_it(page, app_url):
    open_console(page, app_url)
    page.evaluate("(q) => globalThis.__plmEditor.set(q)", "SELECT ?m WHERE { ?m plm:improvesOn }")
    page.locator(".plm-tools button.prettify").click()
    expect(page.locator(".plm-tools .said")).to_contain_text("Not laid out: Line 1")
    assert editor_text(page) == "SELECT ?m WHERE { ?m plm:improvesOn }"


def test_copy_link_copies_a_permalink_that_runs_the_query(page, context, app_url):
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url)
    open_console(page, app_url)
    query = 'SELECT ?l WHERE { pm:XLNet skos:prefLabel ?l } # 中文 & "quotes"'
    page.evaluate("(q) => globalThis.__plmEditor.set(q)", query)
    page.locator(".plm-tools button.copy-link").click()
    expect(page.locator(".plm-tools .said")).to_contain_text("Link copied")
    link = page.evaluate("() => navigator.clipboard.readText()")
    assert link.startswith(app_url + "/sparql?q=") and parse_qs(urlsplit(link).query)["q"] == [query]
    other = context.new_page()
    goto(other, link)
    other.wait_for_function("() => globalThis.__plmEditor !== undefined")
    expect(other.locator(TABLE).first).to_be_visible(timeout=30_000)
    assert other.evaluate("() => globalThis.__plmEditor.get()") == query


def test_the_default_query_is_shown_whole_and_raises_no_warning(page, app_url):
    open_console(page, app_url)
    page.wait_for_timeout(800)   # the checker's pause
    assert page.locator(".plm-editor").get_attribute("data-problems") == "[]"
    scroller = page.locator(".plm-editor .cm-scroller")
    width = scroller.evaluate("(e) => [e.scrollWidth, e.clientWidth]")
    assert width[0] <= width[1], "no line runs past the editor's right edge"
    first = page.locator(".plm-editor .cm-line").first
    assert first.inner_text() == editor_text(page).splitlines()[0]
    box, edge = first.bounding_box(), scroller.bounding_box()
    assert box["x"] + box["width"] <= edge["x"] + edge["width"]


def test_the_server_warns_about_the_lang_case_trap_after_a_run(page, app_url):
    open_console(page, app_url)
    run_in_editor(page, 'SELECT ?l WHERE { pm:BERT skos:prefLabel ?l FILTER(lang(?l) = "zh-Hans") }')
    warning = page.get_by_text(re.compile(r"comparison\(s\) with lang\(\) cannot match"))
    expect(warning).to_be_visible()
    expect(page.get_by_text(re.compile(r"^0 rows · "))).to_be_visible()
    screenshot(page, "sparql-lang-warning")
