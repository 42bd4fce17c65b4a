"""One way to compare text for search, used by every search of the project (the graph's search box,
the node picker, Compare, Questions, `kg search`, `kg show`): a reader finds a concept however they
write it.

`fold(text)` is the form compared: Unicode compatibility forms (full-width letters and brackets become
ASCII), case folded, spaces collapsed; Chinese in simplified characters (OpenCC t2s, so 自迴歸 and
自回歸 both read 自回归), with the common variant words of the field written one way (标签泄露 and
標籤泄漏 read 标签泄漏). `pinyin(text)` is the toneless pinyin of a text's Chinese, syllables joined
(排列语言模型 → "pailieyuyanmoxing"); `pinyin_query(text)` reads a user's pinyin, with or without tones
or tone numbers and spaces ("pái liè", "pai2 lie4", "pailie" → "pailie"), or None when the text is
not pinyin. `matches(query, text)` says whether a search finds a text by either form.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Words written two ways in the field's Chinese (after t2s): the second is how we compare them
VARIANTS: tuple[tuple[str, str], ...] = (
    ("泄露", "泄漏"),      # label leakage: 标签泄露 / 标签泄漏
    ("标籤", "标签"),      # a half-converted 標籤
    ("遮罩", "掩码"),      # mask, as some translations write it
    ("遮蔽", "掩码"),
)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PINYIN_SYLLABLES = re.compile(r"[a-zü]+")


@functools.cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def has_chinese(text: str) -> bool:
    return bool(_HAN.search(text))


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """The form search compares (see the module's docstring)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = " ".join(text.replace("_", " ").split())
    if has_chinese(text):
        text = _t2s().convert(text)
        for variant, usual in VARIANTS:
            text = text.replace(variant, usual)
    return text


@functools.lru_cache(maxsize=65536)
def pinyin(text: str) -> str:
    """The toneless pinyin of the Chinese in `text`, syllables joined; other characters dropped."""
    if not has_chinese(text):
        return ""
    from pypinyin import lazy_pinyin

    return "".join(s for s in lazy_pinyin(fold(text), errors="ignore") if s.isalpha()).lower()


def pinyin_query(text: str) -> str | None:
    """A user's pinyin without tones, tone numbers or spaces ("pái liè" → "pailie"); None when `text`
    holds anything but letters, tone marks, tone numbers and spaces, or fewer than 4 letters (short
    Latin words would find pinyin by accident)."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c)).replace("v", "u")
    plain = re.sub(r"(?<=[a-z])[1-5]", "", plain)
    if not re.fullmatch(r"[a-z ]+", plain):
        return None
    joined = plain.replace(" ", "")
    return joined if len(joined) >= 4 else None


class Spoken:
    """A text's pinyin, computed only when a pinyin search asks (`in`): a Chinese or English search
    never pays for it."""

    def __init__(self, text: str):
        self.text = text

    def __contains__(self, spoken: str) -> bool:
        return spoken in pinyin(self.text)


def finds(query: str, folded_text: str, spoken_text: "str | Spoken") -> bool:
    """Does a search for `query` find a text given folded and as its pinyin (or a Spoken of it)."""
    folded = fold(query)
    if folded and folded in folded_text:
        return True
    spoken = pinyin_query(query)
    return bool(spoken) and spoken in spoken_text


def matches(query: str, text: str) -> bool:
    """Does a search for `query` find `text`: by the folded forms, or by the pinyin of its Chinese."""
    return finds(query, fold(text), Spoken(text))
