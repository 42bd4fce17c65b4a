"""Traditional Chinese from simplified: one conversion for the whole project (the interface's messages,
the graph's zh-Hant literals, the demos' labels), so that the same word is written the same way
everywhere and a search finds it.

OpenCC's `s2twp` (simplified to traditional with Taiwan's phrases: 数据 → 資料, 默认 → 預設, 搜索 → 搜尋), then
the exception list below, where OpenCC's choice reads wrong for this project's subject. Each exception says why.
"""

from __future__ import annotations

import functools

CONFIG = "s2twp"

# (what OpenCC writes, what we write instead, why): applied in order, after the conversion
EXCEPTIONS: tuple[tuple[str, str, str], ...] = ()


@functools.cache
def _converter():
    import opencc

    return opencc.OpenCC(CONFIG)


@functools.lru_cache(maxsize=8192)
def to_hant(text: str) -> str:
    """`text` (zh-Hans) in traditional characters, Taiwan phrasing, with the project's exceptions."""
    out = _converter().convert(text)
    for wrong, right, _ in EXCEPTIONS:
        out = out.replace(wrong, right)
    return out
