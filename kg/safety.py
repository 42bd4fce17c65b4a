"""The static check every user query passes before it reaches an engine.

The check reads the query as SPARQL's own tokenizer would (escapes decoded first, then strings,
IRIs, comments, variables and prefixed names set aside), so a keyword is found however it is
spelled: `service`, `\\u0053ERVICE`, a comment between `SERVICE` and its IRI, or nested inside
OPTIONAL, MINUS, UNION, a sub-query or FILTER EXISTS. It refuses:

* anything but SELECT, ASK, CONSTRUCT and DESCRIBE (every SPARQL Update operation, LOAD included);
* `SERVICE` (federated queries would make the engine send requests);
* `FROM` / `FROM NAMED` (a dataset clause names graphs to fetch; the console queries the loaded graph);
* query text over MAX_QUERY_CHARS characters, NUL bytes, and nesting deeper than MAX_NESTING.

It is the first of two walls: the query then runs in a worker process that has no network
(see kg/worker.py), so a bypass of this check still cannot reach the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_QUERY_CHARS = 20_000
MAX_NESTING = 40

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING"}
)

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_IRI = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_PN_CHARS = re.compile(r"[^\s{}()\[\],;\"'<>#]*")


class QueryRefused(ValueError):
    """A query that is not allowed to run; the message says which rule it broke."""


@dataclass(frozen=True)
class Keyword:
    word: str  # upper-cased
    line: int
    column: int


@dataclass(frozen=True)
class CheckedQuery:
    text: str   # the query as given (the engine applies the escapes itself)
    form: str   # SELECT, ASK, CONSTRUCT or DESCRIBE


def _decode_escapes(text: str) -> str:
    def repl(m: re.Match) -> str:
        code = int(m.group(1) or m.group(2), 16)
        return chr(code) if code <= 0x10FFFF else m.group(0)

    return _ESCAPE.sub(repl, text)


def keywords(text: str) -> list[Keyword]:
    """Bare words of the query outside strings, IRIs, comments, variables and prefixed names."""
    out: list[Keyword] = []
    i, n, line, line_start = 0, len(text), 1, 0
    depth = 0
    while i < n:
        c = text[i]
        if c == "\n":
            line, line_start = line + 1, i + 1
            i += 1
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    line, line_start = line + 1, j + 1
                j += 1
            i = j + len(quote)
        elif c == "<" and (m := _IRI.match(text, i)):
            i = m.end()
        elif c in "?$":
            m = _WORD.match(text, i + 1)
            i = m.end() if m else i + 1
        elif c in "{(":
            depth += 1
            if depth > MAX_NESTING:
                raise QueryRefused(
                    f"Query nested too deeply (more than {MAX_NESTING} levels of {{ }} or ( )) "
                    f"at line {line}, column {i - line_start + 1}."
                )
            i += 1
        elif c in "})":
            depth = max(0, depth - 1)
            i += 1
        elif c.isalpha() or c == "_":
            m = _WORD.match(text, i)
            end = m.end()
            if end < n and text[end] == ":":  # a prefixed name such as ex:SERVICE or SERVICE:x
                i = _PN_CHARS.match(text, end + 1).end()
            else:
                out.append(Keyword(m.group(0).upper(), line, i - line_start + 1))
                i = end
        elif c == ":":  # a prefixed name with the empty prefix
            i = _PN_CHARS.match(text, i + 1).end()
        else:
            i += 1
    return out


def check_query(text: str) -> CheckedQuery:
    """Refuse what must not run; return the query's form when it may.

    Raises:
        QueryRefused: with a message naming the rule and where the offending keyword is.
    """
    if not isinstance(text, str) or not text.strip():
        raise QueryRefused("The query is empty.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRefused(
            f"Query too long: {len(text):,} characters (the limit is {MAX_QUERY_CHARS:,})."
        )
    if "\x00" in text:
        raise QueryRefused("The query contains a NUL character.")
    words = keywords(_decode_escapes(text))
    form = next((k for k in words if k.word not in ("PREFIX", "BASE")), None)
    for k in words:
        where = f"line {k.line}, column {k.column}"
        if k.word in UPDATE_KEYWORDS:
            raise QueryRefused(
                f"Only SELECT, ASK, CONSTRUCT and DESCRIBE queries are allowed: {k.word} at {where} "
                "is an update operation, and the graph is read-only."
            )
        if k.word == "SERVICE":
            raise QueryRefused(
                f"SERVICE is not allowed (at {where}): queries run on the loaded graph only and "
                "never contact other endpoints."
            )
        if k.word == "FROM":
            raise QueryRefused(
                f"FROM and FROM NAMED are not allowed (at {where}): queries run on the loaded "
                "graph only and never fetch or read other graphs."
            )
    if form is None or form.word not in QUERY_FORMS:
        found = form.word if form else "nothing"
        raise QueryRefused(
            f"Only SELECT, ASK, CONSTRUCT and DESCRIBE queries are allowed; the query starts with {found}."
        )
    return CheckedQuery(text=text, form=form.word)
