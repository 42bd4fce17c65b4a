"""The interface's words live in the message catalogue (app_pages/messages/): every message a page asks
for exists, in English at least, and the SPARQL console's catalogues hold no message nothing uses."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "app_pages" / "messages"
PAGES = sorted((ROOT / "app_pages").glob("*.py"))


def catalogue(namespace: str) -> dict[str, str]:
    return json.loads((MESSAGES / f"{namespace}.json").read_text(encoding="utf-8"))["en"]


def asked_for() -> set[tuple[str, str]]:
    """Every "namespace.key" string the pages hold, for a namespace that has a catalogue."""
    namespaces = {path.stem for path in MESSAGES.glob("*.json")}
    return {(m[1], m[2]) for page in PAGES
            for m in re.finditer(r'"([a-z_]+)\.([a-z_]+)"', page.read_text(encoding="utf-8")) if m[1] in namespaces}


def test_every_message_a_page_asks_for_is_in_the_catalogue():
    asked = asked_for()
    assert len(asked) > 50
    missing = [f"{ns}.{key}" for ns, key in sorted(asked) if key not in catalogue(ns)]
    assert not missing


def test_the_sparql_page_uses_every_message_of_its_catalogue():
    used = {key for ns, key in asked_for() if ns == "sparql"}
    assert set(catalogue("sparql")) == used


def test_the_sparql_editor_uses_every_message_it_is_sent():
    source = (ROOT / "frontend" / "src" / "sparql_editor.js").read_text(encoding="utf-8")
    buttons = re.findall(r'\[st\.\w+, "(\w+)"\]', source)   # a button's text and, as key + "_help", its tooltip
    assert buttons == ["prettify", "copy_link"]
    for key in catalogue("sparql_editor"):
        assert f'"{key}"' in source or key.removesuffix("_help") in buttons, key
