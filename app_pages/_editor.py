"""The SPARQL editor: CodeMirror 6 as an st.components.v2 component, from the bundle built from
frontend/src/sparql_editor.js (app_pages/static/sparql_editor.js; nothing fetched at run time).

It highlights SPARQL, closes brackets, searches, undoes and redoes, indents with Tab (Esc then Tab
leaves it), runs on Ctrl+Enter, prettifies (sparqljs) and copies a permalink, marks syntax errors and the lang() case trap as the user types (in the
browser: nothing is run), and completes prefixes, keywords and the graph's own classes, properties and
nodes (kg/completion.py: computed from the loaded graph, by labels in English and Chinese).

Python replaces the text by passing a new `version` with the value: the browser keeps what the user
typed until the version changes. `globalThis.__plmEditor` ({get, set, run, view}) is a handle for
browser tests.
"""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from app_pages._bundles import component
from app_pages._shared import backend, graph_name
from app_pages.i18n import table
from kg.completion import vocabulary


@st.cache_data(show_spinner=False, max_entries=4)
def _vocab_json(graph: str) -> tuple[str, str]:
    """The completion vocabulary of the graph named `graph`, as JSON, and a key that changes with it."""
    text = json.dumps(vocabulary(backend()), ensure_ascii=False, separators=(",", ":"))
    return text, hashlib.sha256(text.encode()).hexdigest()[:16]


def _text_of(payload) -> str | None:
    if isinstance(payload, dict) and isinstance(payload.get("text"), str):
        return payload["text"]
    return None


def sparql_editor(value: str, *, key: str, version: int = 0, height: int = 300,
                  max_chars: int | None = None) -> tuple[str | None, str | None]:
    """Draw the editor showing `value`; the browser replaces its text only when `version` changes.
    With `max_chars`, the browser's text area takes at most that many characters (the caller still
    checks what comes back: a client can send anything).

    Returns (edited, run):
      edited: the text the user typed, when the browser reported an edit since the last run of the
              script that started from this `version` (None otherwise: no edit, or an edit to a
              text Python has replaced since);
      run:    the text sent with Ctrl+Enter / Cmd+Enter in this run (None otherwise).
    """
    vocab, vocab_key = _vocab_json(graph_name())
    result = component("sparql_editor")(
        key=key, data={"value": value, "version": version, "height": f"{height}px", "max_chars": max_chars,
                       "vocab": vocab, "vocab_key": vocab_key,
                       "messages": json.dumps(table("sparql_editor"), ensure_ascii=False)},
        on_text_change=lambda: None, on_run_change=lambda: None,
    )
    state, trigger = getattr(result, "text", None), getattr(result, "run", None)
    seen_key = f"_{key}_seen"
    edited = None
    if state is not None and state != st.session_state.get(seen_key):
        st.session_state[seen_key] = state
        if state.get("version") == version:
            edited = _text_of(state)
    return edited, _text_of(trigger)
