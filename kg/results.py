"""Query results, independent of the engine that produced them, and their output formats.

Both backends (the embedded engine and a remote SPARQL endpoint) return these types, so every
caller, the CLI's writers and the explorer see the same thing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field

from .vocab import shorten

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


@dataclass(frozen=True)
class Term:
    """An RDF term: kind is 'uri', 'bnode' or 'literal' (the names of SPARQL's JSON results)."""

    kind: str
    value: str
    datatype: str | None = None
    lang: str | None = None

    @property
    def is_iri(self) -> bool:
        return self.kind == "uri"

    def n3(self) -> str:
        """N-Triples syntax of the term."""
        if self.kind == "uri":
            return f"<{self.value}>"
        if self.kind == "bnode":
            return f"_:{self.value}"
        text = json.dumps(self.value, ensure_ascii=False)
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype and self.datatype != XSD_STRING:
            return f"{text}^^<{self.datatype}>"
        return text

    def display(self) -> str:
        """Short human form: prefixed IRIs, bare literal values."""
        if self.kind == "uri":
            return shorten(self.value)
        if self.kind == "bnode":
            return f"_:{self.value}"
        return self.value

    def to_json(self) -> dict:
        out = {"type": self.kind, "value": self.value}
        if self.lang:
            out["xml:lang"] = self.lang
        elif self.datatype and self.datatype not in (XSD_STRING, RDF_LANGSTRING):
            out["datatype"] = self.datatype
        return out

    @classmethod
    def from_json(cls, d: dict) -> "Term":
        kind = {"typed-literal": "literal"}.get(d["type"], d["type"])
        return cls(kind, d["value"], d.get("datatype"), d.get("xml:lang"))


@dataclass
class SelectResult:
    variables: list[str]
    rows: list[tuple]  # tuples of Term or None (unbound)
    truncated: bool = False
    elapsed: float = 0.0
    form: str = field(default="SELECT", init=False)

    def dicts(self) -> list[dict]:
        """Rows as {variable: display string} (unbound variables are absent)."""
        return [
            {v: t.display() for v, t in zip(self.variables, row) if t is not None} for row in self.rows
        ]

    def column(self, name: str) -> list[Term | None]:
        i = self.variables.index(name)
        return [row[i] for row in self.rows]


@dataclass
class AskResult:
    value: bool
    elapsed: float = 0.0
    truncated: bool = field(default=False, init=False)
    form: str = field(default="ASK", init=False)


@dataclass
class GraphResult:
    triples: list[tuple]  # (Term, Term, Term)
    truncated: bool = False
    elapsed: float = 0.0
    form: str = field(default="CONSTRUCT", init=False)


Result = SelectResult | AskResult | GraphResult

# ---------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_cell(value: object) -> str:
    """A cell for a CSV download (or a TSV literal's value): text a spreadsheet would run as a
    formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _cell(term: Term | None, short: bool, guard_formulas: bool) -> str:
    if term is None:
        return ""
    text = term.display() if short else term.value
    return guard_cell(text) if guard_formulas else text


def to_csv(result: SelectResult, *, guard_formulas: bool = False) -> str:
    """SPARQL 1.1 CSV results (plain values). `guard_formulas` prefixes cells a spreadsheet would run."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(result.variables)
    for row in result.rows:
        w.writerow([_cell(t, False, guard_formulas) for t in row])
    return buf.getvalue()


# The XSD numeric datatypes, and a number as they write it ("-5", "+1.5", ".5e-3"; not INF or NaN)
NUMERIC_TYPES = {"http://www.w3.org/2001/XMLSchema#" + t for t in (
    "integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
    "positiveInteger", "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong")}
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _tsv_term(term: Term | None, guard_formulas: bool) -> str:
    if term is None:
        return ""
    if guard_formulas and term.kind == "literal" and term.value.startswith(FORMULA_START) and not (
            term.datatype in NUMERIC_TYPES and PLAIN_NUMBER.fullmatch(term.value)):
        term = Term(term.kind, guard_cell(term.value), term.datatype, term.lang)
    return term.n3()


def to_tsv(result: SelectResult, *, guard_formulas: bool = False) -> str:
    """SPARQL 1.1 TSV results (terms in N-Triples syntax).

    With `guard_formulas`, a literal whose value a spreadsheet would run as a formula (it starts
    with =, +, -, @, a tab or a CR: FORMULA_START, the rule of to_csv) gets a leading ' inside its
    quotes: `"=HYPERLINK(...)"@en` is written `"'=HYPERLINK(...)"@en`. A spreadsheet takes a
    TSV cell's double quotes as text delimiters, so what it reads starts with the literal's value:
    it would evaluate `"=1+1"`, and shows `"'=1+1"` as text. A ' in front of the quotes would guard
    too, but the cell would no longer be an RDF term; inside them, every cell stays a valid
    N-Triples term and the file valid SPARQL 1.1 TSV, and only the guarded literals' values change
    (by that one ', as CSV cells do). IRIs (`<...>`), blank nodes (`_:...`) and the header
    (`?name`) never start like a formula. A value that starts with a tab or a CR is written with
    the escape `\\t` or `\\r`, which a spreadsheet does not run, but is guarded all the same, by
    the one rule. A numeric literal written as a plain number (`"-5"^^xsd:integer`, PLAIN_NUMBER)
    is left alone: a number is not a formula, and `"'-5"^^xsd:integer` would be ill-typed.
    """
    lines = ["\t".join(f"?{v}" for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join(_tsv_term(t, guard_formulas) for t in row))
    return "\n".join(lines) + "\n"


def to_json(result: SelectResult | AskResult) -> str:
    """SPARQL 1.1 Query Results JSON."""
    if isinstance(result, AskResult):
        return json.dumps({"head": {}, "boolean": result.value})
    bindings = [
        {v: t.to_json() for v, t in zip(result.variables, row) if t is not None} for row in result.rows
    ]
    return json.dumps(
        {"head": {"vars": result.variables}, "results": {"bindings": bindings}}, ensure_ascii=False, indent=1
    )


# What XML 1.0 cannot carry, even escaped: C0 controls but tab, LF and CR; lone surrogates; U+FFFE, U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def to_xml(result: SelectResult | AskResult) -> str:
    """SPARQL 1.1 Query Results XML. A value holding a character XML 1.0 cannot carry (a control
    character such as U+0001) raises ValueError naming it: the file would not parse, and dropping
    the character would change the value (JSON and TSV carry every value)."""
    from xml.sax.saxutils import escape, quoteattr

    def text(value: str) -> str:
        bad = _NOT_XML.search(value)
        if bad:
            raise ValueError(f"a value holds U+{ord(bad[0]):04X}, which XML 1.0 cannot carry "
                             "(JSON and TSV results carry it)")
        return escape(value, {"\r": "&#13;"})   # a raw CR would be read back as LF
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if isinstance(result, AskResult):
        out += ["  <head/>", f"  <boolean>{'true' if result.value else 'false'}</boolean>", "</sparql>"]
        return "\n".join(out) + "\n"
    out.append("  <head>" + "".join(f"<variable name={quoteattr(text(v))}/>" for v in result.variables) + "</head>")
    out.append("  <results>")
    for row in result.rows:
        out.append("    <result>")
        for var, term in zip(result.variables, row):
            if term is None:
                continue
            if term.kind == "uri":
                value = f"<uri>{text(term.value)}</uri>"
            elif term.kind == "bnode":
                value = f"<bnode>{text(term.value)}</bnode>"
            else:
                attr = (f" xml:lang={quoteattr(text(term.lang))}" if term.lang else
                        f" datatype={quoteattr(text(term.datatype))}"
                        if term.datatype and term.datatype not in (XSD_STRING, RDF_LANGSTRING) else "")
                value = f"<literal{attr}>{text(term.value)}</literal>"
            out.append(f"      <binding name={quoteattr(text(var))}>{value}</binding>")
        out.append("    </result>")
    out += ["  </results>", "</sparql>"]
    return "\n".join(out) + "\n"


def to_ntriples(result: GraphResult) -> str:
    return "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in result.triples)


def to_table(result: Result, *, max_width: int = 60) -> str:
    """A plain-text table for the terminal, IRIs shortened with the project's prefixes."""
    if isinstance(result, AskResult):
        return "yes" if result.value else "no"
    if isinstance(result, GraphResult):
        header, rows = ["subject", "predicate", "object"], [
            [t.display() for t in triple] for triple in result.triples
        ]
    else:
        header = result.variables
        rows = [[_cell(t, True, False) for t in row] for row in result.rows]

    def clip(s: str) -> str:
        s = s.replace("\n", " ")
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    rows = [[clip(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    fmt = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    out = [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    return "\n".join(out)
