"""The graph's languages, and choosing a text in one of them.

Labels, descriptions, claims, section questions and relation names are held in English (`@en`),
simplified Chinese (`@zh-Hans`) and traditional Chinese (`@zh-Hant`, generated from the simplified
text by kg.hant.to_hant). `pick(texts, lang)` chooses a text for a reader: the text in that language,
else (for traditional) the simplified text converted, else English. The CLI's `--lang` and the
`PLM_MAP_LANG` environment variable name the language with `from_tag`, which also understands a
locale (`zh_CN.UTF-8`, `zh-TW`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LANGUAGES = ("en", "zh-Hans", "zh-Hant")
DEFAULT = "en"
ENV = "PLM_MAP_LANG"

_SPELLING = {"zh-hans": "zh-Hans", "zh-hant": "zh-Hant"}


def spelling(tag: str | None) -> str:
    """A language tag as the project writes it: Oxigraph and rdflib give `zh-hans`, we write `zh-Hans`."""
    tag = (tag or "").lower()
    return _SPELLING.get(tag, tag)


def from_tag(tag: str | None) -> str | None:
    """The language of LANGUAGES for a BCP 47 tag or a POSIX locale (`en-GB`, `zh-CN`, `zh-Hant-HK`,
    `zh_TW.UTF-8`), or None when we have none for it."""
    if not tag:
        return None
    parts = [p.lower() for p in str(tag).split(".")[0].replace("_", "-").split("-") if p]
    if not parts or parts[0] not in ("en", "zh"):
        return None
    if parts[0] == "en":
        return "en"
    if "hant" in parts or any(p in ("tw", "hk", "mo") for p in parts[1:]):
        return "zh-Hant"
    return "zh-Hans"


def from_environment() -> str:
    """The language PLM_MAP_LANG names; English when it is unset. An unknown value raises ValueError:
    a reader who set it should hear that it was not understood, not get English silently."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return DEFAULT
    lang = from_tag(value)
    if lang is None:
        raise ValueError(f"{ENV}={value[:40]!r} is not a language of this project; use one of {', '.join(LANGUAGES)}")
    return lang


def pick(texts: Mapping[str, str], lang: str = DEFAULT) -> str | None:
    """The text for a reader of `lang`: in that language; for traditional Chinese with none written,
    the simplified one converted; else the English one (or an untagged one), else any."""
    if texts.get(lang):
        return texts[lang]
    if lang == "zh-Hant" and texts.get("zh-Hans"):
        from .hant import to_hant

        return to_hant(texts["zh-Hans"])
    return texts.get("en") or texts.get("") or next((t for t in texts.values() if t), None)
