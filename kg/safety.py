"""The static check every user query passes, and the canonical text the engine is given instead.

"Parse, don't validate": the check reads the query into tokens exactly as the engine's grammar
reads them (kg/sparql_tokens.py) and then writes the query out again from those tokens, so the
engine executes what the check saw and nothing else:

* comments are dropped and every token is separated from the next by white space;
* prefixed names are expanded to full IRIs (so `SERVICE:x` cannot be read as the keyword SERVICE
  followed by `:x`, and `e:a\\'b` cannot open a string), and PREFIX declarations are left out;
* strings are written between double quotes with the quotes, backslashes and line breaks in them
  escaped; IRIs with every character that could mean something outside an IRI (`#`, `'`,
  brackets, anything not ASCII) written as a `\\u` escape, which the engine decodes inside IRIs;
* every bare word must be exactly one SPARQL keyword or function name of the engine's grammar.

It refuses, with the rule and the place:

* anything but SELECT, ASK, CONSTRUCT and DESCRIBE (every SPARQL Update operation, LOAD included);
* `SERVICE` (federated queries make the engine send requests);
* `FROM` / `FROM NAMED` (a dataset clause names graphs to fetch; queries read the loaded graph);
* text over MAX_QUERY_CHARS characters, NUL, characters or words the grammar has no token for,
  undeclared prefixes, brackets of any kind nested deeper than MAX_NESTING, and more than
  MAX_OPERATORS operators (long chains overflow the engine's stack as deep nesting does).

For the embedded engine this is the first of two walls (the query then runs in a sandboxed worker
with no network, kg/worker.py); for a remote endpoint (`--endpoint`) it is the only one.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from urllib.parse import urljoin

from .vocab import PREFIXES
from .sparql_tokens import CLOSERS, OPENERS, LexError, Token, tokenize

MAX_QUERY_CHARS = 20_000
MAX_NESTING = 40
# The engine parses and evaluates operator chains recursively: on an 8 MiB stack a chain of
# 2,656 MINUS groups, 6,562 UNIONs or 7,187 `+` overflowed it (SIGSEGV). The cap leaves a 2.6x
# margin below the smallest of those.
MAX_OPERATORS = 1_000
# A sequence path `p1/p2/…` costs the engine's parser about n³: 200 steps took 2.3 s, 400 over 10 s
# (found by the differential fuzzer). No property path of the survey is longer than 4 steps.
MAX_SLASHES = 100
CHAIN_WORDS = frozenset({"UNION", "MINUS", "OPTIONAL", "FILTER", "BIND", "NOT", "EXISTS", "GRAPH",
                         "LATERAL", "VALUES", "IN"})
CHAIN_PUNCTUATION = frozenset({"&&", "||", "!", "+", "-", "*", "/", "|", "^", "=", "!=", "<", ">",
                               "<=", ">="})

QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = frozenset({
    "INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH", "USING",
    "DATA", "INTO", "TO", "ALL", "DEFAULT",
})
# Every keyword and function name the engine's query grammar matches with i("…") (spargebra
# 0.4.8, case-insensitive), less the update-only words above and SERVICE / FROM, refused apart.
KEYWORDS = frozenset("""
    ABS ADJUST AS ASC ASK AVG BASE BIND BNODE BOUND BY CEIL COALESCE CONCAT CONSTRUCT CONTAINS
    COUNT DATATYPE DAY DESC DESCRIBE DISTINCT ENCODE_FOR_URI EXISTS FILTER FLOOR GRAPH GROUP
    GROUP_CONCAT HAVING HOURS IF IN IRI LANG LANGDIR LANGMATCHES LATERAL LCASE LIMIT MAX MD5 MIN
    MINUS MINUTES MONTH NAMED NOT NOW OBJECT OFFSET OPTIONAL ORDER PREDICATE PREFIX RAND REDUCED
    REGEX REPLACE ROUND SAMPLE SECONDS SELECT SEPARATOR SHA1 SHA256 SHA384 SHA512 SILENT STR
    STRAFTER STRBEFORE STRDT STRENDS STRLANG STRLANGDIR STRLEN STRSTARTS STRUUID SUBJECT SUBSTR
    SUM TIMEZONE TRIPLE TZ UCASE UNDEF UNION URI UUID VALUES VERSION WHERE YEAR HASLANG
    HASLANGDIR ISBLANK ISIRI ISLITERAL ISNUMERIC ISTRIPLE ISURI SAMETERM
""".split())
# the three places where the grammar allows no white space between two tokens:
# i("BNODE") NIL(), i("CONCAT") ExpressionList(), i("COALESCE") ExpressionList()
GLUED_WORDS = frozenset({"BNODE", "CONCAT", "COALESCE"})
EXACT_WORDS = frozenset({"a", "true", "false"})  # matched case-sensitively by the grammar

# characters written as themselves inside a canonical IRI; all others become \u escapes
_IRI_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/?.-_~%@!$&*+,;=")
_SURROGATE = re.compile("[\ud800-\udfff]")
_IRI_SAFE_TEXT = re.compile(r"[A-Za-z0-9:/?.\-_~%@!$&*+,;=]*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_STRING_ESCAPES = {'"': '\\"', "'": "\\'", "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                   "\b": "\\b", "\f": "\\f"}


class QueryRefused(ValueError):
    """A query that is not allowed to run; the message says which rule it broke and where."""


@dataclass(frozen=True)
class CheckedQuery:
    """A query that passed the check.

    `text` is what the engine runs (the canonical form); `original` is what the user wrote.
    `position(line, column)` turns a place in `text` (from an engine's syntax error) back into
    the place in `original`."""

    text: str
    form: str                      # SELECT, ASK, CONSTRUCT or DESCRIBE
    original: str = ""
    _map: tuple = field(default=(), repr=False)
    # per token: (canonical line, column, original line, column, canonical length, original length)
    _end: tuple = field(default=(1, 1), repr=False)  # line and column of the canonical text's last character

    def position(self, line: int, column: int) -> tuple[int, int]:
        if not self._map:
            return line, column
        if (line, column) > self._end:  # the end of what the engine read: the end of what was written
            lines = self.original.split("\n")
            return len(lines), len(lines[-1]) + 1
        i = bisect_right(self._map, (line, column, float("inf"))) - 1
        if i < 0:
            return line, column
        cl, cc, ol, oc, canonical_len, original_len = self._map[i]
        if cl != line:
            return ol, oc
        offset = column - cc
        if offset < canonical_len:  # inside the token: its start, or as far in as the original goes
            return ol, oc + min(offset, max(original_len - 1, 0))
        return ol, oc + original_len + (offset - canonical_len)  # past it: the same distance past


def _where(t: Token) -> str:
    return f"line {t.line}, column {t.column}"


def _refuse_word(t: Token) -> None:
    word = t.value.upper()
    if word in UPDATE_KEYWORDS:
        raise QueryRefused(
            f"Only SELECT, ASK, CONSTRUCT and DESCRIBE queries are allowed: {word} at {_where(t)} "
            "is an update operation, and the graph is read-only.")
    if word == "SERVICE":
        raise QueryRefused(
            f"SERVICE is not allowed (at {_where(t)}): queries run on the loaded graph only and "
            "never contact other endpoints.")
    if word == "FROM":
        raise QueryRefused(
            f"FROM and FROM NAMED are not allowed (at {_where(t)}): queries run on the loaded graph "
            "only and never fetch or read other graphs.")
    if not (word in KEYWORDS or t.value in EXACT_WORDS):
        raise QueryRefused(
            f"Unknown word {t.value!r} at {_where(t)}: SPARQL has no such keyword or function "
            "(a name needs a prefix, as in pm:BERT, and a variable a ?, as in ?x).")


def _canonical_iri(value: str) -> str:
    if _IRI_SAFE_TEXT.fullmatch(value):
        return "<" + value + ">"
    out = []
    for ch in value:
        if ch in _IRI_SAFE:
            out.append(ch)
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(f"\\U{ord(ch):08X}")
    return "<" + "".join(out) + ">"


def _canonical_string(value: str) -> str:
    out = []
    for ch in value:
        if ch in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[ch])
        elif ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _refused_escape(e: LexError) -> None:
    """`\\u0053ERVICE` is no keyword to the engine, but say what it spells when that is refused."""
    word = (e.spells or "").upper()
    if word in UPDATE_KEYWORDS or word in ("SERVICE", "FROM"):
        _refuse_word(Token("word", word, word, 0, e.line, e.column))


def check_query(text: str, prefixes: dict[str, str] | None = None) -> CheckedQuery:
    """Refuse what must not run; return the canonical text and the query's form when it may.

    `prefixes` are declared for every query (the user's PREFIX lines override them); by default
    the project's own (kg/vocab.py: plm:, pm:, skos:, rdfs: …), as every query page promises.

    Raises:
        QueryRefused: with a message naming the rule and where in the query it was broken.
    """
    if not isinstance(text, str) or not text.strip():
        raise QueryRefused("The query is empty.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRefused(f"Query too long: {len(text):,} characters (the limit is {MAX_QUERY_CHARS:,}).")
    if "\x00" in text:
        raise QueryRefused("The query contains a NUL character.")
    if surrogate := _SURROGATE.search(text):
        raise QueryRefused(f"The query contains an unpaired surrogate (U+{ord(surrogate.group()):04X}), "
                           "which is not a character.")
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors add
    try:
        tokens = tokenize(text)
    except LexError as e:
        _refused_escape(e)
        raise QueryRefused(f"{e}.") from None

    declared = dict(PREFIXES if prefixes is None else prefixes)
    depth, operators, slashes, form, base = 0, 0, 0, None, None
    out: list[str] = []
    mapping: list[tuple[int, int, int, int, int, int]] = []
    line, column = 1, 1
    skip = 0
    for k, t in enumerate(tokens):
        if t.kind == "word":
            _refuse_word(t)
            operators += t.value.upper() in CHAIN_WORDS
        elif t.kind == "punct":
            operators += t.value in CHAIN_PUNCTUATION
            slashes += t.value == "/"
            if slashes > MAX_SLASHES:
                raise QueryRefused(
                    f"Query too complex: more than {MAX_SLASHES} '/' (path steps or divisions) by "
                    f"{_where(t)}; the engine's parser slows down as the cube of a path's length.")
            if t.value in OPENERS:
                depth += 1
                if depth > MAX_NESTING:
                    raise QueryRefused(
                        f"Query nested too deeply (more than {MAX_NESTING} levels of brackets of any "
                        f"kind) at {_where(t)}.")
            elif t.value in CLOSERS:
                depth = max(0, depth - 1)
        if operators > MAX_OPERATORS:
            raise QueryRefused(
                f"Query too complex: more than {MAX_OPERATORS:,} operators (UNION, MINUS, OPTIONAL, "
                f"FILTER, &&, ||, +, /, …) by {_where(t)}; the engine evaluates chains of them "
                "recursively and would run out of stack.")
        if skip:
            skip -= 1
            continue
        upper = t.value.upper() if t.kind == "word" else ""
        if form is None and t.kind == "word" and upper not in ("PREFIX", "BASE", "VERSION"):
            form = upper
            if form not in QUERY_FORMS:
                raise QueryRefused(
                    f"Only SELECT, ASK, CONSTRUCT and DESCRIBE queries are allowed; the query starts "
                    f"with {t.value} ({_where(t)}).")
        if upper == "PREFIX":
            nxt = tokens[k + 1:k + 3]
            if len(nxt) < 2 or nxt[0].kind != "pname" or nxt[0].local or nxt[1].kind != "iri":
                raise QueryRefused(f"PREFIX must be followed by a name ending in ':' and an IRI ({_where(t)}).")
            iri = nxt[1].value
            declared[nxt[0].value] = urljoin(base, iri) if base and not _SCHEME.match(iri) else iri
            skip = 2  # declarations are left out: every prefixed name is written out in full
            continue
        if t.kind == "iri":
            if k and tokens[k - 1].kind == "word" and tokens[k - 1].value.upper() == "BASE":
                base = t.value
            piece = _canonical_iri(t.value)
        elif t.kind == "pname":
            if t.value not in declared:
                raise QueryRefused(
                    f"Unknown prefix {t.value}: at {_where(t)} (declare it with PREFIX {t.value}: <…>).")
            piece = _canonical_iri(declared[t.value] + t.local)
        elif t.kind == "string":
            piece = _canonical_string(t.value)
        elif t.kind == "nil":
            piece = "()"
        elif t.kind == "anon":
            piece = "[]"
        else:
            piece = t.text
        # keep every token on its own line of the original, so line numbers stay true
        glued = k and tokens[k - 1].kind == "word" and tokens[k - 1].value.upper() in GLUED_WORDS \
            and (t.kind == "nil" or t.value == "(")
        if glued:
            pass
        elif t.line > line:
            out.append("\n" * (t.line - line))
            line, column = t.line, 1
        elif out:
            out.append(" ")
            column += 1
        mapping.append((line, column, t.line, t.column, len(piece), len(t.text)))
        out.append(piece)
        column += len(piece)
    if form is None:
        raise QueryRefused("Only SELECT, ASK, CONSTRUCT and DESCRIBE queries are allowed; the query has none.")
    return CheckedQuery(text="".join(out), form=form, original=text, _map=tuple(mapping), _end=(line, column - 1))
