"""The interface's words: a message catalogue, so that no page or script hard-codes its text.

Messages live in `app_pages/messages/<namespace>.json`, one file per page or component, as
`{"en": {...}, "zh-Hans": {...}}` with `{placeholders}`. Traditional Chinese is not written by hand:
each zh-Hans message is converted by kg.hant.to_hant (OpenCC s2twp and the project's exceptions),
unless the file holds a "zh-Hant" entry for that key (an exception of the interface's own, which a
test lists). `t("graph.zoom_in")` reads key `zoom_in` of `graph.json` in the current language; a key
missing in English raises KeyError (tests check every key exists in every language).

The language: `?lang=en|zh-Hans|zh-Hant` in the address when given (and valid), else the one chosen
earlier in this session, else the browser's (zh-CN, zh-SG → 简体; zh-TW, zh-HK, zh-MO → 繁體), else
English. `remember_language()` (the router calls it on every run) keeps it in the session, so it
survives navigation, and in the address when it differs from the browser's, so a copied link carries it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from kg.language import LANGUAGES
from kg.language import from_tag as from_locale   # a browser's tag (zh-TW, zh-Hant-HK) -> our language

MESSAGES = Path(__file__).parent / "messages"
NAMES = {"en": "English", "zh-Hans": "简体中文", "zh-Hant": "繁體中文"}
DEFAULT_LANGUAGE = "en"
PARAM = "lang"                 # the address's parameter
SESSION_KEY = "ui_language"    # the session's choice


@functools.cache
def _raw(namespace: str) -> dict[str, dict[str, str]]:
    return json.loads((MESSAGES / f"{namespace}.json").read_text(encoding="utf-8"))


@functools.cache
def messages(namespace: str, lang: str) -> dict[str, str]:
    """A namespace's messages in one language; zh-Hant converted from zh-Hans where not given (only
    when asked for: an English page converts nothing)."""
    raw = _raw(namespace)
    if lang != "zh-Hant":
        return raw.get(lang, {})
    from kg.hant import to_hant

    return {key: to_hant(text) for key, text in raw.get("zh-Hans", {}).items()} | raw.get("zh-Hant", {})


def catalogue(namespace: str) -> dict[str, dict[str, str]]:
    """Every language's messages of a namespace."""
    return {lang: messages(namespace, lang) for lang in LANGUAGES}


def _valid(value: object) -> str | None:
    return next((lang for lang in LANGUAGES if isinstance(value, str) and value.lower() == lang.lower()), None)


def _browser_language() -> str | None:
    import streamlit as st

    try:
        found = from_locale(st.context.locale)
        if found:
            return found
        header = st.context.headers.get("Accept-Language", "") or ""
    except Exception:   # no browser (a bare script, a test harness without a context)
        return None
    for entry in header.split(",")[:8]:
        found = from_locale(entry.split(";")[0].strip())
        if found:
            return found
    return None


RESOLVED = "ui_language_resolved"   # (language, whether the address carries it): remember_language, every run


def _resolve() -> str:
    """The interface language from the address, the session and the browser (the module's order)."""
    try:
        import streamlit as st

        chosen = _valid(st.query_params.get(PARAM)) or _valid(st.session_state.get(SESSION_KEY))
    except Exception:   # outside a Streamlit run
        return DEFAULT_LANGUAGE
    return chosen or _browser_language() or DEFAULT_LANGUAGE


def language() -> str:
    """The current interface language: as the router resolved it at the start of this run
    (remember_language; a page asks hundreds of times a run, for every message and link), else
    resolved now."""
    try:
        import streamlit as st

        found = st.session_state.get(RESOLVED)
    except Exception:   # outside a Streamlit run
        return DEFAULT_LANGUAGE
    return found[0] if found else _resolve()


def remember_language() -> str:
    """Resolve the language for this run (the router calls it first, on every run), keep it in the
    session, and in the address when it was chosen (given in the address, or picked in this
    session) rather than the browser's own: a link then carries a choice, and a reader whose browser
    speaks Chinese gets Chinese from a link that does not say otherwise."""
    import streamlit as st

    lang = _resolve()
    st.session_state[SESSION_KEY] = lang
    carried = lang != (_browser_language() or DEFAULT_LANGUAGE)
    st.session_state[RESOLVED] = (lang, carried)
    given = st.query_params.get(PARAM)
    if given is not None and given != lang:   # an unknown or differently written value: the one in use
        st.query_params[PARAM] = lang
    elif given is None and carried:
        st.query_params[PARAM] = lang
    return lang


def with_language(params: dict) -> dict:
    """Query parameters for a link or an address a page writes whole, with the language kept when the
    address should carry it (see remember_language)."""
    try:
        import streamlit as st

        found = st.session_state.get(RESOLVED)
    except Exception:
        found = None
    if found is None:   # outside the router's run (a bare page in a test)
        lang = language()
        found = (lang, lang != (_browser_language() or DEFAULT_LANGUAGE))
    lang, carried = found
    return {**params, PARAM: lang} if carried else dict(params)


def language_switch() -> None:
    """The sidebar's control: English, 简体中文, 繁體中文."""
    import streamlit as st

    def chosen() -> None:
        lang = st.session_state["ui_language_switch"]
        if lang not in LANGUAGES:   # the chosen button clicked again: keep the language
            return
        st.session_state[SESSION_KEY] = lang
        st.session_state.pop(RESOLVED, None)   # resolved again by the run this click starts
        st.query_params[PARAM] = lang

    current = language()
    st.session_state["ui_language_switch"] = current
    st.segmented_control(t("app.language"), LANGUAGES, format_func=NAMES.get, key="ui_language_switch",
                         on_change=chosen, selection_mode="single", label_visibility="collapsed")


def t(key: str, /, **values) -> str:
    """The message `namespace.key` in the current language, its `{placeholders}` filled from `values`."""
    namespace, _, name = key.partition(".")
    text = messages(namespace, language()).get(name)
    if text is None:
        text = messages(namespace, DEFAULT_LANGUAGE)[name]
    return text.format(**values) if values else text


def table(namespace: str) -> dict[str, str]:
    """Every message of a namespace in the current language (for a browser component's own words)."""
    return {**messages(namespace, DEFAULT_LANGUAGE), **messages(namespace, language())}
