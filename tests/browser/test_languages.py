"""The interface in 简体 and 繁體, used as a reader uses it in Chromium: `?lang=` opens every page in that
language (a screenshot of each), the sidebar's switch changes it, and the choice survives navigation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._helpers import APP_IDLE, goto, screenshot

pytestmark = pytest.mark.browser

PAGES = [("graph", ""), ("node", "node?node=XLNet"), ("trace", "trace?from=BERT&to=XLNet"), ("questions", "questions"),
         ("compare", "compare"), ("family-tree", "timeline"), ("sparql", "sparql"), ("verify", "verify")]
NAV = {"zh-Hans": ["图谱", "节点", "追溯", "问题", "对比", "家族树", "SPARQL", "验证"],
       "zh-Hant": ["圖譜", "節點", "追溯", "問題", "對比", "家族樹", "SPARQL", "驗證"]}
HAN = re.compile(r"[\u4e00-\u9fff]")


def nav_labels(page) -> list[str]:
    """The sidebar's page names (each link's last line: the first is its icon's name)."""
    return [t.strip().splitlines()[-1] for t in page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()]


def address(path: str, lang: str) -> str:
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant"])
def test_every_page_opens_in_the_language_the_address_names(page, app_url, lang):
    for name, path in PAGES:
        goto(page, f"{app_url}/{address(path, lang)}")
        assert nav_labels(page) == NAV[lang], name
        title = page.locator("h1").first
        expect(title).to_be_visible(timeout=30_000)
        # the title is the page's name, or a node's or the product's (XLNet, SPARQL): then its caption speaks
        assert HAN.search(title.inner_text()) or name in ("node", "sparql"), f"{name}: {title.inner_text()!r}"
        assert len(HAN.findall(page.locator('[data-testid="stMain"]').inner_text())) > 20, name
        expect(page.locator('[data-testid="stSidebar"]').get_by_text(re.compile("简体中文|繁體中文")).first).to_be_visible()
        screenshot(page, f"lang-{lang}-{name}")


def nav_link(page, n: int):
    return page.locator('[data-testid="stSidebarNav"] a').nth(n)


def test_the_switch_changes_the_language_and_the_choice_survives_navigation(page, app_url):
    goto(page, app_url + "/questions")
    expect(nav_link(page, 3)).to_contain_text("Questions")
    page.locator('[data-testid="stSidebar"] button', has_text="繁體中文").click()
    expect(nav_link(page, 3)).to_contain_text("問題", timeout=30_000)   # waits for the rerun, however slow
    assert nav_labels(page) == NAV["zh-Hant"]
    expect(page).to_have_url(re.compile(r"lang=zh-Hant"))
    nav_link(page, 4).click()
    expect(page).to_have_url(re.compile(r"/compare\?(.*&)?lang=zh-Hant"), timeout=30_000)
    page.wait_for_selector(APP_IDLE, timeout=60_000)
    assert nav_labels(page) == NAV["zh-Hant"]
    expect(page.locator("h1").first).to_have_text(HAN, timeout=30_000)
    page.locator('[data-testid="stSidebar"] button', has_text="English").click()
    expect(nav_link(page, 4)).to_contain_text("Compare", timeout=30_000)


def test_a_chinese_browser_gets_chinese_without_asking(browser, app_url):
    context = browser.new_context(locale="zh-TW", viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        goto(page, app_url + "/questions")
        assert nav_labels(page) == NAV["zh-Hant"]
        assert "lang=" not in page.url, "the browser's own language needs no parameter"
    finally:
        context.close()


@pytest.mark.parametrize("lang, typed, shown", [("en", "排列", "Permutation language modeling · 排列语言模型"),
                                                ("zh-Hans", "permutation", "排列语言模型 · Permutation language modeling")])
def test_the_node_picker_finds_a_node_by_its_name_in_either_language(page, app_url, lang, typed, shown):
    goto(page, f"{app_url}/node?lang={lang}")
    picker = page.locator('[data-testid="stSelectbox"]').first
    picker.click()
    page.keyboard.type(typed, delay=30)
    option = page.get_by_role("option", name=re.compile("^" + re.escape(shown)))
    expect(option.first).to_be_visible(timeout=10_000)
    screenshot(page, f"node-picker-{lang}")
    option.first.click()
    page.wait_for_timeout(300)
    page.wait_for_selector(APP_IDLE, timeout=60_000)
    expect(page).to_have_url(re.compile(r"node=permutation-lm"))


@pytest.mark.parametrize("lang, heading, description, chain", [
    ("zh-Hans", "排列语言模型", "在各种顺序上取平均后", "BERT → 独立性假设 → 排列语言模型 → XLNet"),
    ("zh-Hant", "排列語言模型", "在各種順序上取平均後", "BERT → 獨立性假設 → 排列語言模型 → XLNet"),
])
def test_the_graph_s_own_content_reads_in_the_page_s_language(page, app_url, lang, heading, description, chain):
    goto(page, f"{app_url}/node?node=permutation-lm&lang={lang}")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_text(description, exact=False).first).to_be_visible()
    screenshot(page, f"lang-{lang}-node-content")
    goto(page, f"{app_url}/trace?from=BERT&to=XLNet&lang={lang}")
    expect(page.get_by_text(chain, exact=False).first).to_be_visible(timeout=30_000)
