"""SPARQL's tokens, read exactly as the embedded engine reads them.

Oxigraph parses SPARQL with a PEG grammar (spargebra 0.4.8, `lib/spargebra/src/parser.rs`), so
there is no separate lexer to copy: each terminal below is a transcription of the grammar rule of
the same name, quirks included, because a checker that reads a single character differently from
the engine can be walked around (security notes, §10 A):

* `\\u` escapes are decoded only inside strings and IRIs (pyoxigraph is built without the
  `standard-unicode-escaping` feature, so `\\u0053ERVICE` is not a keyword to it, and neither is it
  anything else here: a backslash outside a string or IRI is refused);
* a comment runs from `#` to the first `\\r` or `\\n`, and only space, tab, `\\r` and `\\n` separate
  tokens (a no-break space is not white space to the engine, so it is refused here);
* keywords are matched case-insensitively with no word boundary (`SERVICE<…>`, `SERVICE:x`), so a
  word is read as the longest run of letters, digits and `_` and must then be exactly one keyword;
* prefixed names follow PN_PREFIX / PN_LOCAL as spargebra writes them (a local part may hold one
  group of inner dots, and `\\'`, `\\#` … escapes whose backslash the engine drops);
* names use PN_CHARS_BASE up to U+FFFD only (spargebra leaves out the astral planes).

Where the grammar reads a character by context (`<` is an IRI in a triple and "less than" in an
expression) the tokenizer decides one way; kg/safety.py then writes the query out again from these
tokens so that the engine is left no other way to read it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

_BASE = (
    "A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
    "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
)
_U = "_" + _BASE  # PN_CHARS_U
_CHARS = "\\-0-9\u00B7\u0300-\u036F\u203F-\u2040" + _U  # PN_CHARS
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"

_WS = re.compile(r"[ \t\r\n]+")
_COMMENT = re.compile(r"#[^\r\n]*")
_LANGDIR = re.compile(r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[A-Za-z]+)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_EXPONENT = r"[eE][+-]?[0-9]+"
_NUMBER = re.compile(  # NumericLiteralUnsigned: DOUBLE, then DECIMAL, then INTEGER
    f"(?:[0-9]+\\.[0-9]*{_EXPONENT}|\\.[0-9]+{_EXPONENT}|[0-9]+{_EXPONENT})|[0-9]*\\.[0-9]+|[0-9]+"
)
_NIL_OR_ANON = re.compile(r"\([ \t\r\n]*\)|\[[ \t\r\n]*\]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_HEX = re.compile(r"[0-9A-Fa-f]+")
# characters never allowed in an IRIREF (SPARQL 1.1, [139]); the engine's IRI parser refuses them too
_NOT_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')
# the longest text an IRIREF can span (the engine reads up to the next `>`; past one of the
# characters above it can no longer be an IRI)
_IRIREF = re.compile(r'<([^<>"{}|^`\x00-\x20]*)>')

PUNCTUATION = ("<<(", ")>>", "<<", ">>", "{|", "|}", "^^", "&&", "||", "!=", "<=", ">=",
               "{", "}", "(", ")", "[", "]", ".", ",", ";", "*", "/", "+", "-", "!", "^", "=",
               "<", ">", "|", "~", "?")


class _Names:
    """The name patterns, compiled on first use: their Unicode classes take 60 ms to compile, which
    every `kg` command would pay at import although most never read a query."""

    def __init__(self):
        self.pn_prefix = re.compile(f"[{_BASE}][{_CHARS}]*(?:\\.+[{_CHARS}]+)*")
        self.pn_local = re.compile(
            f"(?:[{_U}:0-9]|{_PLX})(?:[{_CHARS}:]|{_PLX})*(?:\\.+(?:[{_CHARS}:]|{_PLX})+)?")
        self.bnode = re.compile(f"_:[0-9{_U}][{_CHARS}]*(?:\\.+[{_CHARS}]+)*")
        self.varname = re.compile(f"[0-9{_U}][0-9\u00B7\u0300-\u036F\u203F-\u2040{_U}]*")
        self.base_char = re.compile(f"[{_BASE}]")


@cache
def _names() -> _Names:
    return _Names()


_PUNCT = re.compile("|".join(map(re.escape, PUNCTUATION)))  # longest first, as listed
OPENERS = frozenset({"{", "(", "[", "<<(", "<<", "{|"})
CLOSERS = frozenset({"}", ")", "]", ")>>", ">>", "|}"})
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


class LexError(ValueError):
    """Text the engine's grammar has no token for; `line` and `column` are 1-based."""

    def __init__(self, message: str, line: int, column: int, spells: str | None = None):
        self.line, self.column = line, column
        self.spells = spells  # for an escape outside strings: the word it would spell
        super().__init__(message)


@dataclass(frozen=True)
class Token:
    """One token: `kind` is word, iri, pname, bnode, var, string, number, langtag, nil, anon or punct.

    `value` is what the engine makes of it: a word as written, an IRI with its `\\u` escapes decoded,
    a string's decoded content, a prefixed name's prefix (its decoded local part is in `local`)."""

    kind: str
    text: str
    value: str
    start: int
    line: int
    column: int
    local: str = ""


def _unhex(digits: str) -> str | None:
    if len(digits) not in (4, 8) or not _HEX.fullmatch(digits):
        return None
    code = int(digits, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:  # Rust's char::from_u32 refuses these
        return None
    return chr(code)


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, index: int) -> tuple[int, int]:
        """1-based line and column of a character index (lines end at \\n, as the engine counts them)."""
        line = bisect_right(self.line_starts, index)
        return line, index - self.line_starts[line - 1] + 1

    def fail(self, message: str, index: int):
        line, column = self.where(index)
        raise LexError(f"{message} at line {line}, column {column}", line, column)


def _string(reader: _Reader, i: int) -> tuple[int, str] | None:
    """A string literal starting at i, as String() reads it (long forms first); (end, content) or None."""
    text, n = reader.text, len(reader.text)
    for quote in ("'''", '"""'):
        if text.startswith(quote, i):
            q = quote[0]
            j = i + 3
            while True:  # STRING_LITERAL_LONG_inner* : ("qq" / "q")? (simple_char / ECHAR / UCHAR)
                k = j
                if text.startswith(q * 2, k):
                    k += 2
                elif text.startswith(q, k):
                    k += 1
                step = _string_char(text, k, n, q, long=True)
                if step is None:
                    break
                j = step
            if text.startswith(quote, j):
                return j + 3, _decode_string(reader, text[i + 3:j], i + 3)
            # no closing quote: the engine falls back to the short forms below
    if i < n and text[i] in "'\"":
        q = text[i]
        j = i + 1
        while (step := _string_char(text, j, n, q, long=False)) is not None:
            j = step
        if j < n and text[j] == q:
            return j + 1, _decode_string(reader, text[i + 1:j], i + 1)
    return None


def _string_char(text: str, k: int, n: int, q: str, *, long: bool) -> int | None:
    if k >= n:
        return None
    c = text[k]
    if c == "\\":
        nxt = text[k + 1] if k + 1 < n else ""
        if nxt in _ECHAR:
            return k + 2
        if nxt == "u" and _HEX.fullmatch(text[k + 2:k + 6] or "x") and len(text[k + 2:k + 6]) == 4:
            return k + 6
        if nxt == "U" and _HEX.fullmatch(text[k + 2:k + 10] or "x") and len(text[k + 2:k + 10]) == 8:
            return k + 10
        return None
    if c == q or (not long and c in "\n\r"):
        return None
    return k + 1


def _decode_string(reader: _Reader, raw: str, offset: int) -> str:
    """unescape_string: ECHAR and UCHAR; an escape naming no character is refused, as the engine does."""
    if "\\" not in raw:
        return raw
    out, i = [], 0
    while i < len(raw):
        c = raw[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt in _ECHAR:
            out.append(_ECHAR[nxt])
            i += 2
            continue
        size = 4 if nxt == "u" else 8
        ch = _unhex(raw[i + 2:i + 2 + size])
        if ch is None:
            reader.fail(f"The escape {raw[i:i + 2 + size]} names no Unicode character", offset + i)
        out.append(ch)
        i += 2 + size
    return "".join(out)


def _iri(reader: _Reader, i: int, base_known: bool) -> tuple[int, str] | None:
    """An IRIREF starting at i, or None when `<` is to be read as an operator.

    The engine takes everything up to the next `>` and keeps it as an IRI only if it parses as
    one (absolute, unless a BASE was declared). Reading something as an IRI that the engine reads
    as `<` is harmless here, because kg/safety.py writes IRIs back with every character that could
    mean something outside an IRI escaped."""
    m = _IRIREF.match(reader.text, i)
    if m is None:
        return None
    raw, j = m.group(1), m.end() - 1
    if "\\" in raw:
        parts, k = [], 0
        while (b := raw.find("\\", k)) >= 0:
            parts.append(raw[k:b])
            size = 4 if raw[b + 1:b + 2] == "u" else 8 if raw[b + 1:b + 2] == "U" else 0
            ch = _unhex(raw[b + 2:b + 2 + size]) if size else None
            if ch is None:
                return None  # unescape_iriref refuses it, so this `<` is not an IRI to the engine
            parts.append(ch)
            k = b + 2 + size
        value = "".join(parts) + raw[k:]
    else:
        value = raw
    if _NOT_IRI.search(raw.replace("\\", "")) or _NOT_IRI.search(value):
        return None
    if not (_SCHEME.match(value) or base_known):
        return None
    return j + 1, value


def tokenize(text: str) -> list[Token]:
    """Every token of `text`, comments and white space left out.

    Raises:
        LexError: a character or sequence the grammar has no token for (with line and column).
    """
    reader = _Reader(text)
    names = _names()
    n = len(text)
    tokens: list[Token] = []
    base_known = False
    i = 0

    def add(kind: str, end: int, value: str, local: str = "") -> None:
        line, column = reader.where(i)
        tokens.append(Token(kind, text[i:end], value, i, line, column, local))

    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i = _WS.match(text, i).end()
            continue
        if c == "#":
            i = _COMMENT.match(text, i).end()
            continue
        if c in "'\"":
            found = _string(reader, i)
            if found is None:
                reader.fail("A string is not closed (short strings end on the same line)", i)
            end, value = found
            add("string", end, value)
            i = end
            continue
        if c == "<":
            found = _iri(reader, i, base_known)
            if found is not None:
                end, value = found
                add("iri", end, value)
                i = end
                if len(tokens) >= 2 and tokens[-2].kind == "word" and tokens[-2].value.upper() == "BASE":
                    base_known = True
                continue
        if c in "?$":
            m = names.varname.match(text, i + 1)
            if m:
                add("var", m.end(), m.group(0))
                i = m.end()
                continue
            if c == "$":
                reader.fail("A $ must start a variable name", i)
        if c == "_" and text.startswith("_:", i):
            m = names.bnode.match(text, i)
            if not m:
                reader.fail("A blank node label must follow _:", i)
            add("bnode", m.end(), m.group(0))
            i = m.end()
            continue
        if c == ":" or names.base_char.match(c):
            m = names.pn_prefix.match(text, i) if c != ":" else None
            colon = m.end() if m else i
            if colon < n and text[colon] == ":":
                lm = names.pn_local.match(text, colon + 1)
                end = lm.end() if lm else colon + 1
                local = text[colon + 1:end].replace("\\", "")  # PNAME_LN drops every backslash
                add("pname", end, text[i:colon], local)
                i = end
                continue
            w = _WORD.match(text, i)
            if w:
                add("word", w.end(), w.group(0))
                i = w.end()
                continue
            reader.fail(f"Unexpected character {_describe(c)}", i)
        if "0" <= c <= "9" or (c == "." and i + 1 < n and "0" <= text[i + 1] <= "9"):
            m = _NUMBER.match(text, i)
            if m and m.end() > i:
                add("number", m.end(), m.group(0))
                i = m.end()
                continue
        if c == "@":
            m = _LANGDIR.match(text, i)
            if not m:
                reader.fail("A language tag must follow @", i)
            add("langtag", m.end(), m.group(0))
            i = m.end()
            continue
        if c in "([":
            m = _NIL_OR_ANON.match(text, i)
            if m:
                add("nil" if c == "(" else "anon", m.end(), m.group(0))
                i = m.end()
                continue
        if c == "\\":
            raise_escape_outside(reader, i)
        m = _PUNCT.match(text, i)
        if m is None:
            reader.fail(f"Unexpected character {_describe(c)}", i)
        add("punct", m.end(), m.group(0))
        i = m.end()
    return tokens


def raise_escape_outside(reader: _Reader, i: int) -> None:
    """A backslash outside strings, IRIs and prefixed names: the engine has no token for it."""
    text = reader.text
    size = 4 if text[i + 1:i + 2] == "u" else 8 if text[i + 1:i + 2] == "U" else 0
    decoded = _unhex(text[i + 2:i + 2 + size]) if size else None
    if decoded is not None:
        rest = _WORD.match(text, i + 2 + size)
        word = decoded + (rest.group(0) if rest else "")
        line, column = reader.where(i)
        raise LexError(
            f"Escapes such as {text[i:i + 2 + size]} are allowed only inside strings and IRIs "
            f"(here it would spell {word!r}) at line {line}, column {column}", line, column, word)
    reader.fail("A backslash is allowed only inside strings, IRIs and prefixed names", i)


def _describe(c: str) -> str:
    import unicodedata

    name = unicodedata.name(c, "")
    shown = repr(c) if c.isprintable() and not c.isspace() else ""
    return f"U+{ord(c):04X}" + (f" {shown}" if shown else "") + (f" ({name.lower()})" if name else "")
