"""The warning for `lang(?l) = "zh-Hans"`: a comparison the engine makes false on every row.

Oxigraph keeps language tags in lower case, so `lang("x"@zh-Hans)` is `"zh-hans"` and a query that
compares `lang(…)` with `"zh-Hans"` silently returns nothing. The editor warns as the user types with
a regular expression (`langWarnings` in frontend/src/_sparql_syntax.js); this module gives the same
warning after the query is run, read from a real parse of the query, so it also sees `lang(str(?x))`,
`IN ("en", "zh-Hans")` lists and brackets, and is not fooled by comments or by strings holding the
words `lang(?l) = "zh-Hans"`.

How it finds the comparisons: rdflib's SPARQL parser (`parseQuery`) gives a tree of `CompValue`
nodes, walked generically, whatever the query form: every `RelationalExpression` whose `op` is `=`,
`!=`, `IN` or `NOT IN`, with a `Builtin_LANG` on one side and a plain string literal (no `@lang`, no
`^^datatype`) on the other, shaped like a language tag and holding an upper-case letter. Single-child
wrappers (`ConditionalOrExpression` … `MultiplicativeExpression`, which is also all a pair of
brackets leaves) are looked through.

How it finds the lines: the tree keeps no text positions. So before parsing, every string literal of
the query, as the engine's own lexer reads it (kg/sparql_tokens.py, which knows comments), is
replaced by a numbered marker `"0"`, `"1"`, …; a marker found in the tree names its token, and the
token knows its line, its column and what it said. Only string contents change, so the rewritten
query has the same tokens and the same parse, and the same tag written twice gives two lines.

Bounds: text over MAX_QUERY_CHARS characters, or of more than MAX_TOKENS tokens, gives no warnings, nor does text the lexer or rdflib
cannot read (syntax errors are reported elsewhere; so do Oxigraph's extensions rdflib does not know)
or text that rdflib's recursive parser cannot read within Python's recursion limit (RecursionError:
at the default limit, about 23 nested brackets or 84 triple patterns in one block). The walk itself
is iterative. Text with no mixed-case tag-like string or no `lang` is not parsed at all: the lexer
takes under a millisecond for a typical query, where rdflib takes tens of milliseconds, and seconds
for 20,000 characters of comparisons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .safety import MAX_QUERY_CHARS
from .sparql_tokens import LexError, Token, tokenize

# rdflib's parser takes about 0.3 ms a token here (0.4 s for 1,200 tokens): a query of more than
# MAX_TOKENS tokens is not parsed for this warning (about 0.2 s at the cap; the editor still warns)
MAX_TOKENS = 600

TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
WRAPPERS = frozenset({"ConditionalOrExpression", "ConditionalAndExpression", "RelationalExpression",
                      "AdditiveExpression", "MultiplicativeExpression"})
OUTCOME = {"=": "the comparison is false on every row",
           "!=": "the comparison is true on every row",
           "IN": "that member of the list never matches",
           "NOT IN": "that member of the list never matches"}


@dataclass(frozen=True)
class LangCaseWarning:
    """A mixed-case tag compared with `lang(…)`; `line` and `column` (1-based, in the user's text, not
    counting the prologue) are those of the string literal's opening quote."""

    tag: str      # as written, "zh-Hans"
    lower: str    # what the engine's lang() gives, "zh-hans"
    line: int
    column: int
    op: str       # "=", "!=", "IN" or "NOT IN"

    @property
    def message(self) -> str:
        return (f'lang(…) is compared with "{self.tag}", but the engine gives language tags in lower '
                f'case ("{self.lower}"), so {OUTCOME[self.op]}. Write "{self.lower}", or '
                f'langMatches(lang(…), "{self.tag}"), which ignores case.')


def lang_case_warnings(text: str, prologue: str = "") -> list[LangCaseWarning]:
    """Every `lang(…)` compared with a mixed-case tag in `text`, in the order they are written.

    `prologue` (PREFIX lines, e.g. kg.vocab.prologue()) is put before the text so that the page's
    prefixed names parse (rdflib 7 leaves them unresolved while parsing, so this only guards against
    a parser that checks them); it must hold no strings, and its lines are not counted."""
    if not isinstance(text, str) or len(text) > MAX_QUERY_CHARS:
        return []
    text = text.removeprefix("\ufeff")  # a byte-order mark: refused by the lexer, dropped by the check
    try:
        tokens = tokenize(text)
    except LexError:
        return []
    if len(tokens) > MAX_TOKENS:
        return []
    strings = [t for t in tokens if t.kind == "string"]
    if not (any(_mixed_case_tag(t.value) for t in strings)
            and any(t.kind == "word" and t.value.lower() == "lang" for t in tokens)):
        return []  # nothing to warn about, and the parse is the expensive part
    # rdflib is imported here, not above: it takes half a second, and only these queries need it
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        tree = parseQuery(prologue + _with_markers(text, strings))
    except (ParseBaseException, ValueError, RecursionError):  # ValueError: a \u escape of no character
        return []
    found = {}
    for op, literal in _lang_comparisons(tree):
        index = _marker(literal)
        if index is None or index >= len(strings):
            continue
        token = strings[index]
        if _mixed_case_tag(token.value):
            found[index] = LangCaseWarning(token.value, token.value.lower(), token.line, token.column, op)
    return [found[i] for i in sorted(found)]


def _mixed_case_tag(value: str) -> bool:
    return value != value.lower() and TAG.fullmatch(value) is not None


def _with_markers(text: str, strings: list[Token]) -> str:
    """The text with the k-th string literal written `"k"`."""
    out, at = [], 0
    for k, t in enumerate(strings):
        out += [text[at:t.start], f'"{k}"']
        at = t.start + len(t.text)
    return "".join(out) + text[at:]


def _lang_comparisons(tree):
    """(op, other side) for every =, !=, IN, NOT IN with LANG(…) on one side; walked without recursion."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "RelationalExpression" and "op" in node:
                op, left, right = str(node["op"]).upper(), _bare(node["expr"]), node["other"]
                if op in ("IN", "NOT IN"):
                    if _is_lang(left):
                        yield from ((op, _bare(member)) for member in right)
                elif op in ("=", "!="):
                    right = _bare(right)
                    if _is_lang(left):
                        yield op, right
                    if _is_lang(right):
                        yield op, left
            stack.extend(node.values())
        elif isinstance(node, (ParseResults, list, tuple)):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())


def _bare(node):
    """Through the one-child wrappers the grammar puts around every expression (and brackets leave)."""
    while _named(node) in WRAPPERS and list(node.keys()) == ["expr"]:
        node = node["expr"]
    return node


def _named(node) -> str | None:
    """The rule name of a CompValue (a dict with a `name`), else None."""
    return node.name if isinstance(node, dict) and isinstance(getattr(node, "name", None), str) else None


def _is_lang(node) -> bool:
    return _named(node) == "Builtin_LANG"


def _marker(node) -> int | None:
    """The number of a marker string literal with no language tag and no datatype, else None."""
    if not (_named(node) == "literal" and set(node.keys()) == {"string"}):
        return None
    value = str(node["string"])
    return int(value) if value.isdecimal() else None
