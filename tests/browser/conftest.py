"""Real-browser fixtures: one explorer server and one Chromium per session; each test gets a fresh context
that records every request leaving 127.0.0.1 and fails the test if there is one."""

from __future__ import annotations

import shutil

import pytest

from ._helpers import CHROME_ARGS, CHROMIUM, LOCAL, ROOT, StreamlitServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def app_url():
    (ROOT / "tests" / "artifacts").mkdir(parents=True, exist_ok=True)
    server = StreamlitServer().start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not (ROOT / CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the README's test command installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(30_000)
    external: list[str] = []
    ctx.on("request", lambda r: external.append(r.url) if not r.url.startswith(LOCAL) else None)
    yield ctx
    ctx.close()
    assert not external, f"a page tried to reach beyond 127.0.0.1: {external}"


@pytest.fixture
def page(context):
    pg = context.new_page()
    pg.page_errors = []
    pg.on("pageerror", lambda e: pg.page_errors.append(str(e)))
    return pg
