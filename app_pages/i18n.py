"""The interface's words: a message catalogue, so that no page or script hard-codes its text.

Messages live in `app_pages/messages/<namespace>.json`, one file per page or component, as
`{"<language>": {"<key>": "text with {placeholders}"}}`. `t("graph.zoom_in")` reads key `zoom_in`
of `graph.json` in the current language, falling back to English; a missing key raises KeyError
(a test reads every page for keys that do not exist), never shows a bare key.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

MESSAGES = Path(__file__).parent / "messages"
LANGUAGES = ("en",)
DEFAULT_LANGUAGE = "en"


@functools.cache
def catalogue(namespace: str) -> dict[str, dict[str, str]]:
    return json.loads((MESSAGES / f"{namespace}.json").read_text(encoding="utf-8"))


def language() -> str:
    return DEFAULT_LANGUAGE


def t(key: str, /, **values) -> str:
    """The message `namespace.key` in the current language, its `{placeholders}` filled from `values`."""
    namespace, _, name = key.partition(".")
    messages = catalogue(namespace)
    text = messages.get(language(), {}).get(name)
    if text is None:
        text = messages[DEFAULT_LANGUAGE][name]
    return text.format(**values) if values else text


def table(namespace: str) -> dict[str, str]:
    """Every message of a namespace in the current language (for a browser component's own words)."""
    messages = catalogue(namespace)
    return {**messages[DEFAULT_LANGUAGE], **messages.get(language(), {})}
