"""Caps on what goes in and what comes out, and the functions that apply them to text.

Inputs are capped before any work is done. Fuzzy matching a search against every label costs time
in proportion to the search's length: a 1 MB search kept a server busy for over a minute. No name,
id or search of the survey is anywhere near MAX_INPUT_CHARS long.

Outputs are capped so that one huge literal in a graph file cannot fill a page, a tooltip or a
terminal. `clip()` is the one place where text is cut; the explorer's `esc()` builds on it.
`visible()` turns control characters (ANSI/OSC escape sequences) and bidi overrides into visible
escapes, so text from the graph cannot restyle a terminal or reorder a line. `display_text()` does
both, for text shown as it is (tooltips, table cells, picker options).
"""

from __future__ import annotations

import re

MAX_INPUT_CHARS = 200      # a search, a node name (id, label, claim id) or a section id
MAX_LABEL_CHARS = 200      # a label where it is shown whole: titles, tooltips, pickers
MAX_TEXT_CHARS = 2_000     # a description, a claim, a fact, a table cell
NOTE_FROM = 500            # a cut at this many characters or more also says so in words

# C0 and C1 controls, DEL, and the bidi marks, embeddings, overrides and isolates
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clip(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """`text` cut to `limit` characters, the cut marked with "…".

    A long text cut at NOTE_FROM characters or more also gets "(cut at 2,000 characters)": an
    ellipsis at the end of a label is plain enough, but after a paragraph a reader should be told
    that the rest exists.

    Example:
        >>> clip("Permutation language modeling", 12)
        'Permutation…'
    """
    text = str(text)
    if len(text) <= limit:
        return text
    note = f" (cut at {limit:,} characters)" if limit >= NOTE_FROM else ""
    return text[: max(limit - 1, 0)] + "…" + note


def visible(text: str, keep: str = "", *, json: bool = False) -> str:
    """`text` with control and bidi characters written as escapes (`\\x1b`, `\\u202e`), except
    those in `keep` (e.g. "\\n" for the line breaks of a whole page of output). With `json`, the
    escapes are JSON's (`\\u001b`): applied to a JSON document whose only raw control characters
    are its line breaks (json.dumps escapes C0 but not C1 or bidi), it stays valid JSON.

    Example:
        >>> visible("\\x1b]0;pwned\\x07BERT")
        '\\\\x1b]0;pwned\\\\x07BERT'
    """
    def escape(m: re.Match) -> str:
        c = m.group()
        if c in keep:
            return c
        return f"\\x{ord(c):02x}" if ord(c) < 0x100 and not json else f"\\u{ord(c):04x}"

    return _INVISIBLE.sub(escape, text)


def display_text(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """Text from the graph as a tooltip, a table cell or a picker option shows it: cut to `limit`
    characters (clip), control and bidi characters as escapes (visible)."""
    return visible(clip(text, limit))


def columns(text: str) -> int:
    """How many terminal columns `text` takes: a wide (Chinese) character two, any other one."""
    from unicodedata import east_asian_width

    return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)


def fill(text: str, width: int = 100, *, indent: str = "", subsequent: str | None = None) -> str:
    """`text` wrapped to `width` terminal columns, for English and Chinese alike: a line may break at
    a space or between two Chinese characters (each takes two columns), never inside a Latin word
    (unless the word is wider than a line), and a Chinese punctuation mark never starts a line."""
    rest = indent if subsequent is None else subsequent
    units = _WRAP_UNITS.findall(" ".join(text.split()))
    lines, line, used = [], indent, columns(indent)
    for unit in units:
        if unit == " ":
            if used > columns(indent if not lines else rest):
                line, used = line + " ", used + 1
            continue
        need = columns(unit)
        glued = unit[0] in _NO_LINE_START
        if used + need > width and line.strip() and not glued:
            lines.append(line.rstrip())
            line, used = rest, columns(rest)
        while need > width - columns(rest) and len(unit) > 1:   # a word wider than a line is cut
            room = max(1, width - used)
            cut = 0
            while cut < len(unit) and columns(unit[:cut + 1]) <= room:
                cut += 1
            lines.append((line + unit[:max(cut, 1)]).rstrip())
            unit = unit[max(cut, 1):]
            line, used, need = rest, columns(rest), columns(unit)
        line, used = line + unit, used + need
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


_NO_LINE_START = "。，、；：？！）」』”’》"
# a space, one wide (Chinese) character with any punctuation that follows it, or a run of anything else
_WRAP_UNITS = re.compile(r" |[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]"
                                       r"[。，、；：？！）」』”’》]*|[^ \u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+")
