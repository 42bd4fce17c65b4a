"""The browser code the app serves itself: bundles built from frontend/ (see frontend/build.mjs).

`component(name)` registers `app_pages/static/<name>.js` (an ES module whose default export is a
st.components.v2 entry point) once per process. Nothing is fetched from the network at run time.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

STATIC = Path(__file__).parent / "static"


def source(name: str) -> str:
    """The bundle's text; a missing bundle is an installation error, named."""
    path = STATIC / f"{name}.js"
    if not path.is_file():
        raise FileNotFoundError(f"the browser bundle {path} is missing: run `cd frontend && npm ci && npm run build`")
    return path.read_text(encoding="utf-8")


@st.cache_resource(show_spinner=False)
def component(name: str):
    """The st.components.v2 component drawn by bundle `name` (registered once per process)."""
    return st.components.v2.component(f"plm_{name}", js=source(name))
