"""Seed queries and their mutations.

Seeds: the 25 example queries (kg/queries/*.rq), every known bypass of the old checker
(`BYPASSES`), and queries the generator wrote. Mutations insert, delete and replace characters
drawn from a syntax-significant alphabet, insert whole SERVICE / FROM / update fragments aimed at
the logging server, escape letters as `\\uXXXX`, glue tokens together, duplicate and splice
fragments, flip case, and wrap the query in deep nesting of every bracket kind.

`{url}` in a seed stands for the logging server; `Mutator.fill` puts it in.
"""

from __future__ import annotations

import math
import random
import re

from kg.examples import examples

from .generate import Case

# ---------------------------------------------------------------------------------------------
# The known bypass classes of the old checker, one seed each (readable names: the regression
# table in tests/test_check_fuzz.py uses them). Every SERVICE is aimed at the logging server.
# ---------------------------------------------------------------------------------------------
BYPASSES: dict[str, str] = {
    # 1) escapes inside strings that move where a checker thinks the string ends
    "string: '\\u0027' read as the start of a ''' string":
        "SELECT * WHERE { ?s ?p ?o FILTER(?o != '\\u0027') SERVICE <{url}/b1> { ?s ?p ?o } } LIMIT 1",
    "string: \"\\u0022\" read as the start of a \"\"\" string":
        'SELECT * WHERE { ?s ?p ?o FILTER(?o != "\\u0022") SERVICE <{url}/b1> { ?s ?p ?o } } LIMIT 1',
    "string: '\\u005C' read as an escaped quote":
        "SELECT * WHERE { ?s ?p ?o FILTER(?o != '\\u005C') SERVICE <{url}/b1> { } FILTER(?o != '') } LIMIT 1",
    # 2) an escaped quote in a prefixed name looks like the start of a string
    "prefixed name: e:a\\' opens a string for a naive checker":
        "PREFIX e: <{url}/> SELECT * WHERE { ?s ?p ?o OPTIONAL { ?s e:a\\' ?x } SERVICE <{url}/b2> { } } LIMIT 1 #'",
    "prefixed name: e:a\\\" opens a string for a naive checker":
        'PREFIX e: <{url}/> SELECT * WHERE { ?s ?p ?o OPTIONAL { ?s e:a\\" ?x } SERVICE <{url}/b2> { } } LIMIT 1 #"',
    # 3) keywords glued to what follows (Oxigraph: case-insensitive, no word boundary)
    "glued: SERVICE:x with PREFIX : <url/>":
        "PREFIX : <{url}/> SELECT * WHERE { ?s ?p ?o SERVICE:b3 { } } LIMIT 1",
    "glued: SERVICESILENT<url>":
        "SELECT * WHERE { ?s ?p ?o SERVICESILENT<{url}/b3>{ } } LIMIT 1",
    "glued: servicesilent:x, lower case":
        "PREFIX : <{url}/> SELECT * WHERE { ?s ?p ?o servicesilent:b3 { } } LIMIT 1",
    "glued: FROMNAMED<url>":
        "SELECT * FROMNAMED<{url}/b3> WHERE { ?s ?p ?o } LIMIT 1",
    # 4) a comment ended by \r (Oxigraph: '#' (!['\r' | '\n'] [_])*)
    "comment ended by \\r hides SERVICE":
        "SELECT * WHERE { ?s ?p ?o # a comment\r SERVICE <{url}/b4> { } } LIMIT 1",
    "comment ended by \\r hides FROM":
        "SELECT * # a comment\rFROM <{url}/b4> WHERE { ?s ?p ?o } LIMIT 1",
    # 5) nesting the engine cannot survive: behind a \r comment, or of a kind not counted
    "nesting: 3,000-deep group behind a \\r comment":
        "SELECT * WHERE { ?s ?p ?o # hidden\r" + "{" * 3000 + "}" * 3000 + " }",
    "nesting: 6,000-deep [ ]":
        "SELECT * WHERE { ?s ?p " + "[a" * 6000 + " ?o" + "]" * 6000 + " }",
    "nesting: 1,000-deep << >>":
        "PREFIX : <{url}/> SELECT * WHERE { " + "<<" * 1000 + ":s :p :o" + ">>:p :o" * 1000 + " }",
    # 6) non-ASCII names crashed the old checker (AttributeError)
    "non-ASCII variable ?变量":
        "SELECT ?变量 WHERE { ?变量 ?p ?o } LIMIT 1",
    "non-ASCII prefix é:":
        "PREFIX é: <{url}/> SELECT * WHERE { ?s é:a ?o } LIMIT 1",
}

ALPHABET = list("\"'\\#<>{}()[]:?$;.,*|^!@ \t\r\n") + ["\\u0053", "SERVICE ", "FROM ", "#", "\r", "\\u0027",
                                                      "\\u0022", "\\u005C", '"""', "'''", "a", "e:", "_:"]
# characters and sequences at the edges of the grammar: white space the engine does not count
# as such, letters Python upper-cases to ASCII (ı, ſ), lone surrogates, escapes naming no
# character, RDF 1.2 tokens, the astral planes
EDGE = ["\u00a0", "\u2028", "\x85", "\x0c", "\x0b", "\ufeff", "\u200b", "ı", "ſ", "Ｓ", "\u0301", "\u203f",
        "\ud800", "\\U00110000", "\\uD800", "\\u12", "{|", "|}", "~", "^^", "@en--ltr", "1.", ".5e", "%4",
        "%41", "\x7f", "\x01", "\U0001d412", "VERSION ", "<<(", ")>>", "<<", ">>", "\\U0001F600", "\\t", "\\"]
PAYLOADS = [
    "SERVICE <{url}/m> { }", "SERVICE SILENT <{url}/m> { }", "SERVICE<{url}/m>{}", "SERVICESILENT<{url}/m>{}",
    "service <{url}/m> {}", "\\u0053ERVICE <{url}/m> {}", "SERVICE # c\r <{url}/m> {}", "SERVICE:m {}",
    "FROM <{url}/d> ", "FROM NAMED <{url}/d> ", "from<{url}/d>", "} SERVICE <{url}/m> { ",
    "OPTIONAL { SERVICE <{url}/m> { } }",
    "#\r SERVICE <{url}/m> {}", "'\\u0027' ", '"\\u0022" ', "e:a\\' ", "PREFIX : <{url}/> ", "LOAD <{url}/l>",
    " ; DROP ALL", " . ", "?x<3&&?y>2", "# comment\r", "# comment\n", "<{url}/i#x>", "SERVICE e:m {}",
    "SERVICE <m> {}", "FILTER EXISTS { SERVICE <{url}/m> { } }", "MINUS { SERVICE <{url}/m> {} }",
]
KEYWORDS = re.compile(r"(?i)\b(SELECT|WHERE|OPTIONAL|FILTER|UNION|MINUS|VALUES|BIND|GRAPH|EXISTS|LIMIT|ORDER|"
                      r"GROUP|DISTINCT|PREFIX|ASK|CONSTRUCT|DESCRIBE|SERVICE|AS)\b")
PROLOGUE = "PREFIX : <{url}/> PREFIX e: <{url}/> BASE <{url}/>\n"

# Nesting of every bracket kind, written compactly, so a deep one still fits under the check's
# length limit and the check's depth limit is what decides. "/" and "+" nest without brackets:
# a flat sequence path or sum is a deep tree in the engine all the same.
NESTING_KINDS = ("{", "(", "[", "<<(", "<<", "coll", "path", "OPTIONAL", "SELECT", "EXISTS", "/", "+")


def nested(kind: str, depth: int) -> str:
    """A group element (or FILTER) nested `depth` deep with the bracket kind `kind`."""
    d = depth
    if kind == "{":
        return "{" * d + "}" * d
    if kind == "(":
        return "FILTER(" + "(" * d + "1" + ")" * d + ")"
    if kind == "[":
        return "?s ?p " + "[a" * d + " ?o" + "]" * d + " ."
    if kind == "<<(":
        return "?s ?p " + "<<(?s ?p " * d + "?o" + ")>>" * d + " ."
    if kind == "<<":
        return "<<" * d + "?s ?p ?o" + ">>?p ?o" * d + " ."
    if kind == "coll":
        return "?s ?p " + "(" * d + ")" * d + " ."
    if kind == "path":
        return "?s " + "(" * d + "a" + ")" * d + " ?o ."
    if kind == "OPTIONAL":
        return "OPTIONAL{" * d + "}" * d
    if kind == "SELECT":
        return "{SELECT*{" * d + "}}" * d
    if kind == "EXISTS":
        return "FILTER EXISTS{" * d + "}" * d
    if kind == "/":
        return "?s " + "a/" * d + "a ?o ."
    if kind == "+":
        return "FILTER(" + "1+" * d + "1)"
    raise ValueError(kind)


def example_seeds() -> list[str]:
    return [e.text for e in examples()]


class Mutator:
    """Mutates seeds; seeds over `max_seed` characters (the deep bypasses) are not mutated, as the
    check's cost grows with the length and `deep()` already writes nesting of every kind."""

    def __init__(self, rng: random.Random, url: str, seeds: list[str], *, max_seed: int = 3000):
        self.rng, self.url = rng, url
        self.seeds = [self.fill(s) for s in seeds if len(s) <= max_seed]
        self.deep_rate = 0.06

    def fill(self, text: str) -> str:
        return text.replace("{url}", self.url)

    def add_seed(self, text: str) -> None:
        if len(self.seeds) < 5000:
            self.seeds.append(text)
        else:
            self.seeds[self.rng.randrange(25, len(self.seeds))] = text

    # -- single mutations ------------------------------------------------------------------
    def _token(self) -> str:
        x = self.rng.random()
        if x < 0.2:
            return self.fill(self.rng.choice(PAYLOADS))
        if x < 0.3:
            return self.rng.choice(EDGE)
        return self.rng.choice(ALPHABET)

    def _pos(self, text: str) -> int:
        return self.rng.randrange(len(text) + 1)

    def mutate_once(self, text: str) -> str:
        r = self.rng
        op = r.randrange(10)
        n = len(text)
        if n == 0:
            return self._token()
        if op <= 2:  # insert
            i = self._pos(text)
            return text[:i] + self._token() + text[i:]
        if op == 3:  # delete a short span, white space more often (glues tokens)
            spaces = [m.start() for m in re.finditer(r"\s", text)]
            i = r.choice(spaces) if spaces and r.random() < 0.4 else r.randrange(n)
            return text[:i] + text[i + r.randint(1, 5):]
        if op == 4:  # replace one character
            i = r.randrange(n)
            return text[:i] + self._token() + text[i + 1:]
        if op == 5:  # duplicate a fragment
            i = r.randrange(n)
            frag = text[i:i + r.randint(1, 40)]
            j = self._pos(text)
            return text[:j] + frag + text[j:]
        if op == 6:  # splice a fragment of another seed
            other = r.choice(self.seeds)
            if not other:
                return text
            i = r.randrange(len(other))
            frag = other[i:i + r.randint(1, 80)]
            j = self._pos(text)
            return text[:j] + frag + text[j:]
        if op == 7:  # flip case of a span
            i = r.randrange(n)
            k = r.randint(1, 20)
            return text[:i] + text[i:i + k].swapcase() + text[i + k:]
        if op == 8:  # escape a letter as \uXXXX (or respell a keyword so)
            m = list(KEYWORDS.finditer(text))
            if m and r.random() < 0.6:
                w = r.choice(m)
                i = w.start() + r.randrange(len(w.group(0)))
            else:
                letters = [k for k, c in enumerate(text) if c.isalpha()]
                if not letters:
                    return text
                i = r.choice(letters)
            esc = f"\\u{ord(text[i]):04X}" if r.random() < 0.8 else f"\\U{ord(text[i]):08X}"
            return text[:i] + esc + text[i + 1:]
        # op == 9: a comment ended by \r or \n or the end, somewhere
        i = self._pos(text)
        return text[:i] + "#" + r.choice(["", " x", " '", ' "', " {", " SERVICE"]) + \
            r.choice(["\r", "\n", "\r\n", ""]) + text[i:]

    def mutate(self, text: str) -> str:
        if self.rng.random() < 0.3:
            text = self.fill(PROLOGUE) + text
        for _ in range(self.rng.choice([1, 1, 1, 2, 2, 3, 4, 6])):
            text = self.mutate_once(text)
        return text

    # -- deep nesting ----------------------------------------------------------------------
    def depth(self) -> int:
        """Log-uniform in 10..6000, with extra weight near the usual limits (32..128)."""
        if self.rng.random() < 0.4:
            return self.rng.randint(30, 130)
        return int(math.exp(self.rng.uniform(math.log(10), math.log(6000))))

    def deep(self, text: str | None = None) -> tuple[str, str, int]:
        """Insert a deeply nested element right after the first `{` of a seed (or a bare query)."""
        r = self.rng
        kind = r.choice(NESTING_KINDS)
        d = self.depth()
        element = nested(kind, d)
        if r.random() < 0.25:  # hidden behind a comment a naive checker thinks runs on
            element = "# hidden" + r.choice(["\r", "\r\n", "\n"]) + element
        if text is None or "{" not in text:
            text = "SELECT * WHERE { ?s ?p ?o }"
        i = text.index("{") + 1
        return text[:i] + " " + element + " " + text[i:], kind, d

    def case(self) -> Case:
        r = self.rng
        seed = r.choice(self.seeds)
        if r.random() < self.deep_rate:
            text, kind, d = self.deep(seed)
            return Case(text, "deep")
        return Case(self.mutate(seed), "mutated")
