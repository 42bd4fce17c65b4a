"""Opening a page of the explorer with AppTest."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

EXPLORER = str(Path(__file__).resolve().parents[2] / "explorer.py")


def open_page(page: str | None = None, **query) -> AppTest:
    """Run the app, then switch to `page` (a path under app_pages/) with these query parameters."""
    at = AppTest.from_file(EXPLORER, default_timeout=120)
    at.run()
    if page:
        at.query_params.update(query)
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at
