"""Traditional Chinese from simplified: one conversion for the whole project (the interface's messages,
the graph's zh-Hant literals, the demos' labels), so that the same word is written the same way
everywhere and a search finds it.

OpenCC's `s2twp` (simplified to traditional with Taiwan's phrases: 数据 → 資料, 默认 → 預設, 搜索 → 搜尋), then
the exception list below, where OpenCC's choice reads wrong for this project's subject. Each exception says why.
Words that differ by region in meaning, not spelling (a table's rows are 行 in the mainland and 列 in
Taiwan, its columns 列 and 欄), cannot be fixed by a replacement: the interface's catalogue writes those
messages' zh-Hant itself (app_pages/messages/*.json, "zh-Hant"; a test lists them).
"""

from __future__ import annotations

import functools

CONFIG = "s2twp"

# (what OpenCC writes, what we write instead, why): applied in order, after the conversion
EXCEPTIONS: tuple[tuple[str, str, str], ...] = (
    ("字首", "前綴", "a namespace prefix (PREFIX pm:): 前綴 in Taiwan's programming usage; 字首 is a word's prefix"),
    ("型別", "類型", "类型 is a kind of node here, not a programming language's data type (型別)"),
    ("支援", "支持", "a claim supports a statement (支持); 支援 is a program's support of a feature"),
    ("引數", "參數", "a demo's parameters (参数): 參數; 引數 is a function's argument"),
    ("迴圈", "循環", "循环 here is recurrence (循環神經網路, segment-level recurrence), not a program's loop (迴圈)"),
    ("多工", "多任務", "multi-task learning is 多任務學習; 多工 is an operating system's multitasking"),
    ("未登入詞", "未登錄詞", "an out-of-vocabulary word is 未登錄詞 (not recorded); 登入 is logging in"),
    ("殘差連線", "殘差連接", "a residual connection is 殘差連接; 連線 is a network connection"),
    ("是隻能", "是只能", "只能 (can only) is the adverb 只; after 是 OpenCC reads it as the measure word 隻"),
    ("多隻能", "多只能", "最多只能 (at most … can): the adverb 只; after 多 OpenCC reads it as the measure word 隻"),
)


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


@functools.cache
def _twins():
    """A `"…"@zh-Hans , "…"@zh-Hant` pair in Turtle (either literal may hold escaped quotes)."""
    import re

    lit = r'"((?:[^"\\\n]|\\.)*)"'
    return re.compile(lit + r"@zh-Hans(\s*,\s*)" + lit + r"@zh-Hant")


def retwin(turtle: str) -> str:
    """Turtle text with every `"…"@zh-Hans , "…"@zh-Hant` pair's traditional literal rewritten as the
    conversion of its simplified one (what tests/test_chinese_text.py requires): edit the simplified
    text, then run `python -m kg.hant data/*.ttl`."""
    import re

    def unquote(text: str) -> str:
        return re.sub(r"\\(.)", r"\1", text)

    def quote(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"')

    return _twins().sub(lambda m: f'"{m.group(1)}"@zh-Hans{m.group(2)}"{quote(to_hant(unquote(m.group(1))))}"@zh-Hant',
                      turtle)


def main(argv: list[str] | None = None) -> int:
    import sys
    from pathlib import Path

    paths = [Path(p) for p in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print("usage: python -m kg.hant FILE.ttl ...   (rewrites each zh-Hant twin from its zh-Hans literal)",
              file=sys.stderr)
        return 2
    for path in paths:
        text = path.read_text(encoding="utf-8")
        new = retwin(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print(f"{path}: traditional twins rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
