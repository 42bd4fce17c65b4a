"""A grammar-based generator of SPARQL 1.1 (and Oxigraph's RDF 1.2) queries, driven by a seeded
`random.Random`, so a run is reproducible from its seed and fast enough for 50,000 cases.

The queries mix the four forms, groups, OPTIONAL, MINUS, UNION, FILTER (NOT) EXISTS, BIND, VALUES,
sub-queries, GRAPH, property paths, blank nodes, collections, triple terms; strings in all four
quote kinds with escapes; IRIs with `#`, `'`, `(` and escapes; prefixed names with `\\`-escaped
local parts; comments ended by `\\n`, `\\r` or the end of the text; tokens glued together
(`?x<3&&?y>2`); non-ASCII variable and prefix names; keywords in any case. A share of the queries
carries a forbidden construct - SERVICE, FROM / FROM NAMED or an update - in any position and
spelling (`service`, `SERVICE<url>`, `SERVICE:x` with `PREFIX : <url/>`, `SERVICESILENT<url>`,
`\\u0053ERVICE`, a comment between the keyword and its IRI), always aimed at the logging server,
so a SERVICE that gets through is seen there. `Case.forbidden` names what was injected.

Every IRI the generator writes outside the project's namespaces is on the logging server, and so
is `BASE`, so a SERVICE built by accident (or by a mutation) is aimed there too.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

PM = "https://w3id.org/plm-map/id/"


@dataclass(frozen=True)
class Case:
    text: str
    origin: str                  # "generated", "mutated", "seed", "deep"
    forbidden: str | None = None  # SERVICE, FROM or UPDATE when the generator injected one


# Terms the small store holds (tests/fuzz/harness.py STORE_TURTLE), so patterns find solutions
# and a SERVICE hidden in OPTIONAL / EXISTS / MINUS is really evaluated.
CONSTANTS = ["pm:BERT", "pm:XLNet", "pm:GPT", "pm:ELMo", "pm:independence-assumption",
             "pm:permutation-lm", "plm:Model", "plm:Mechanism", f"<{PM}BERT>", f"<{PM}XLNet>"]
PREDICATES = ["plm:improvesOn", "plm:hasWeakness", "plm:addresses", "plm:introducedBy",
              "skos:prefLabel", "rdf:type", "dcterms:issued", "dcterms:identifier", "plm:backs",
              "rdfs:label", "a"]
VARIABLES = ["?s", "?p", "?o", "?s", "?o", "?x", "?y", "$s", "$o", "?m", "?label", "?变量", "?é",
             "?ñame", "?x·y", "?_u", "?n1", "?e\u0301", "?x\u203fy", "?1", "?SERVICE"]
NUMBERS = ["1", "2", "3", "0", "-1", "+4", "2.5", ".5", "1e3", "1.0E-2", "2019", "42", "1.", "1.e3"]

STRING_PIECES = ["a", "BERT", "en", "x y", "SERVICE <{url}/in-string> { }", "#", "# not a comment",
                 "<", ">", "{", "}", "(", ")", "?x", ":", "排列语言模型", "é", "😀", "\\\"", "\\'",
                 "\\\\", "\\u0022", "\\u0027", "\\U0001F600", "\\n", "\\t", "\\r", "\\u0053ERVICE",
                 "'", '"', "\\u005C", "FROM <{url}/s>"]
COMMENT_PIECES = ["", " c", " SERVICE <{url}/in-comment> { }", " '", ' "', " '''", " <", " {",
                  " }", " \\u0027", " #", " é 注释", " FROM <{url}/c>", " \\"]
LANGS = ["@en", "@zh-Hans", "@zh-Hant", "@EN", "@en-GB", "@en--ltr", "@ar--rtl"]
DATATYPES = ["^^xsd:string", "^^xsd:integer", "^^<http://www.w3.org/2001/XMLSchema#string>",
             "^^xsd:gYear"]

SERVICE_WORDS = ["SERVICE", "service", "Service", "sErViCe", "\\u0053ERVICE", "SERVIC\\u0045",
                 "\\u0073ervice", "SERV\\u0049CE"]
SILENT_WORDS = ["", " SILENT", "SILENT", " silent", " \\u0053ILENT", " Silent"]
FROM_WORDS = ["FROM", "from", "From", "\\u0046ROM", "FRO\\u004D"]
NAMED_WORDS = ["", " NAMED", "NAMED", " named", " \\u004EAMED"]
KEYWORD_GAPS = [" ", " ", " ", "", "\t", "\n", "\r", "\r\n", " #c\n ", " #c\r ", "#\r", " # SERVICE\n"]


_PUNCT = set("{}()[];,")


def _gluable(prev: str, nxt: str) -> bool:
    """True when writing `prev` and `nxt` with nothing between them keeps them two tokens."""
    if not prev or not nxt:
        return True
    if prev in ("<<", "<<(", "^", "!") or nxt in (">>", ")>>"):
        return False
    return prev[-1] in _PUNCT or nxt[0] in _PUNCT or (prev[-1] in "\"'>" and nxt[0] in "?$")


def _case(rng: random.Random, word: str) -> str:
    r = rng.random()
    if r < 0.82:
        return word
    if r < 0.9:
        return word.lower()
    if r < 0.95:
        return word.capitalize()
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in word)


class QueryGenerator:
    """`next()` returns a `Case`; `url` is the logging server every foreign IRI points at."""

    def __init__(self, rng: random.Random, url: str, *, forbidden_rate: float = 0.2):
        self.rng, self.url, self.forbidden_rate = rng, url, forbidden_rate
        self.protected: set[str] = set()

    # -- small pieces ----------------------------------------------------------------------
    def kw(self, word: str) -> str:
        return _case(self.rng, word)

    def var(self) -> str:
        return self.rng.choice(VARIABLES)

    def fresh(self) -> str:
        self.counter += 1
        return f"?b{self.counter}"

    def iri(self) -> str:
        r = self.rng
        u = self.url
        return r.choice([
            f"<{u}/a>", f"<{u}/a#b>", f"<{u}/it's>", f"<{u}/(x)>", f"<{u}/\\u0041>", f"<{u}/\\U0001F600>",
            "<a>", "<#frag>", "<>", f"<{u}/a%20b>", f"<{u}/排列>", f"<{u}/x?y=1&z=2>", f"<{u}/a'b>",
            f"<{u}/a#SERVICE>", "<s>", f"<{PM}BERT>", f"<{PM}GPT>",
        ])

    def pname(self) -> str:
        r = self.rng
        names = ["pm:BERT", "pm:XLNet", "plm:Model", "e:a", "e:a\\'b", "e:a\\#b", "e:a\\.b", "e:a\\,b",
                 "e:a\\(b", "e:a%41", "e:a.b", "e:1", "e:a-b", "e:", "e:SERVICE", "e:名前", "e:a\\~b",
                 "e:a:b", "e:a\\!b", "e:a\\&b", "e:a.b.c", "e:a..b", "e:a\\.", "e:%41%42", "e:_x", "e:a·b"]
        if self.prefixes:
            p = r.choice(sorted(self.prefixes))
            names += [f"{p}:x", f"{p}:a\\'b", f"{p}:"]
        return r.choice(names)

    def constant(self) -> str:
        r = self.rng.random()
        if r < 0.6:
            return self.rng.choice(CONSTANTS)
        if r < 0.8:
            return self.iri()
        return self.pname()

    def string(self) -> str:
        r = self.rng
        quote = r.choice(['"', "'", '"""', "'''"])
        parts = []
        for _ in range(r.randrange(0, 4)):
            piece = r.choice(STRING_PIECES).replace("{url}", self.url)
            if len(quote) == 1:
                if piece == quote:
                    piece = "\\" + quote
            elif r.random() < 0.3:
                piece = r.choice(["\n", "\r", quote[0], quote[0] * 2 + "x", piece])
            parts.append(piece)
        body = "".join(parts)
        if len(quote) == 3:  # keep the generated strings well formed: no early end
            while quote in body:
                body = body.replace(quote, quote[0] * 2 + "\\" + quote[0])
            if body.endswith(quote[0]):
                body += "z"
        s = quote + body + quote
        tail = r.random()
        if tail < 0.2:
            s += r.choice(LANGS)
        elif tail < 0.3:
            s += r.choice(DATATYPES)
        return s

    def literal(self) -> str:
        r = self.rng.random()
        if r < 0.5:
            return self.string()
        if r < 0.85:
            return self.rng.choice(NUMBERS)
        return self.rng.choice(["true", "false"])  # case-sensitive, unlike the keywords

    def comment(self, at_end: bool = False) -> str:
        body = self.rng.choice(COMMENT_PIECES).replace("{url}", self.url)
        end = "" if at_end and self.rng.random() < 0.5 else self.rng.choice(["\n", "\r", "\r\n"])
        return "#" + body + end

    # -- triples ---------------------------------------------------------------------------
    def path(self, depth: int = 0) -> list[str]:
        r = self.rng
        x = r.random()
        if depth > 2 or x < 0.45:
            elt = [r.choice(PREDICATES)]
        elif x < 0.55:
            elt = ["^"] + self.path(depth + 1)
        elif x < 0.7:
            elt = ["("] + self.path(depth + 1) + [")"]
        elif x < 0.8:
            elt = ["!", "(", r.choice(PREDICATES), "|", "^", r.choice(PREDICATES), ")"]
        elif x < 0.85:
            elt = ["!", r.choice(PREDICATES)]
        else:
            elt = [r.choice(PREDICATES)]
        if r.random() < 0.25:
            elt.append(r.choice(["*", "+", "?"]))
        if r.random() < 0.3 and depth < 3:
            elt += [r.choice(["/", "|"])] + self.path(depth + 1)
        return elt

    def verb(self) -> list[str]:
        r = self.rng.random()
        if r < 0.35:
            return [self.var()]
        if r < 0.75:
            return [self.rng.choice(PREDICATES)]
        if r < 0.85:
            return [self.iri()]
        return self.path()

    def obj(self, depth: int) -> list[str]:
        r = self.rng.random()
        if r < 0.45:
            return [self.var()]
        if r < 0.65:
            return [self.constant()]
        if r < 0.8:
            return [self.literal()]
        if depth > 2:
            return [self.var()]
        if r < 0.87:
            return ["["] + self.pred_objs(depth + 1, simple=True) + ["]"]
        if r < 0.9:
            return ["[", "]"]
        if r < 0.95:
            return ["("] + [t for _ in range(self.rng.randrange(0, 3)) for t in self.obj(depth + 1)] + [")"]
        return ["<<("] + [self.var(), self.rng.choice(PREDICATES), self.var()] + [")>>"]

    def subject(self, depth: int) -> list[str]:
        r = self.rng.random()
        if r < 0.6:
            return [self.var()]
        if r < 0.8:
            return [self.constant()]
        if r < 0.87:
            self.counter += 1
            return [f"_:n{self.counter}"]
        if r < 0.93 and depth < 2:
            return ["["] + self.pred_objs(depth + 1, simple=True) + ["]"]
        if r < 0.97:
            return ["<<", self.var(), self.rng.choice(PREDICATES), self.var(), ">>"]
        return ["(", self.var(), self.constant(), ")"]

    def pred_objs(self, depth: int, simple: bool = False) -> list[str]:
        out: list[str] = []
        for k in range(self.rng.randrange(1, 3)):
            if k:
                out.append(";")
            out += [self.rng.choice(PREDICATES)] if simple else self.verb()
            for j in range(self.rng.randrange(1, 3)):
                if j:
                    out.append(",")
                out += self.obj(depth)
        if self.rng.random() < 0.1:
            out.append(";")
        return out

    def triples(self, depth: int = 0) -> list[str]:
        out = self.subject(depth) + self.pred_objs(depth)
        x = self.rng.random()
        if x < 0.04:  # RDF 1.2: a reifier, an annotation
            out += ["~", self.var()]
        elif x < 0.08:
            out += ["{|", self.rng.choice(PREDICATES[:-1]), self.var(), "|}"]
        if self.rng.random() < 0.97:  # two triple patterns in a row need the "." between them
            out.append(".")
        return out

    # -- expressions -----------------------------------------------------------------------
    def expr(self, depth: int = 0) -> list[str]:
        r = self.rng
        x = r.random()
        if depth > 3 or x < 0.25:
            return [r.choice([self.var(), self.literal(), self.var(), self.constant()])]
        if x < 0.45:
            op = r.choice(["<", ">", "<=", ">=", "=", "!=", "&&", "||", "+", "-", "*", "/"])
            left, right = self.expr(depth + 1), self.expr(depth + 1)
            return ["("] + left + [op] + right + [")"] if len(left) + len(right) > 2 else left + [op] + right
        if x < 0.5:
            return [r.choice(["!", "-", "+"]), "("] + self.expr(depth + 1) + [")"]
        if x < 0.57:
            return ["("] + self.expr(depth + 1) + [")"]
        if x < 0.62:  # the one a naive tokenizer reads as an IRI
            return ["(" + r.choice(["?x<3&&?y>2", "?o<3||?s>2", "?x<?y&&?y>?x", "1<2&&3>2"]) + ")"]
        if x < 0.67:
            return [self.kw("NOT") + " " + self.kw("EXISTS") if r.random() < 0.4 else self.kw("EXISTS")] + \
                self.group(depth + 1)
        if x < 0.72:
            return ["(", self.var(), self.kw(r.choice(["IN", "NOT IN"])), "("] + \
                self.expr(depth + 1) + [","] + self.expr(depth + 1) + [")", ")"]
        name = r.choice(["BOUND", "STR", "LANG", "STRLEN", "UCASE", "LCASE", "ISIRI", "ISLITERAL",
                         "DATATYPE", "ISBLANK", "ABS", "CONTAINS", "STRSTARTS", "REGEX", "LANGMATCHES",
                         "IF", "COALESCE", "CONCAT", "SUBSTR", "sameTerm", "xsd:integer", "xsd:string",
                         "e:customFunction", "ENCODE_FOR_URI", "IRI", "STRDT", "NOW", "TRIPLE",
                         "isTRIPLE", "SUBJECT"])
        if name == "NOW":
            return [self.kw(name), "(", ")"]
        if name == "BOUND":
            return [self.kw(name), "(", self.var(), ")"]
        nargs = {"CONTAINS": 2, "STRSTARTS": 2, "REGEX": 2, "LANGMATCHES": 2, "IF": 3, "COALESCE": 2,
                 "CONCAT": 2, "SUBSTR": 2, "sameTerm": 2, "STRDT": 2, "TRIPLE": 3}.get(name, 1)
        args: list[str] = []
        for k in range(nargs):
            if k:
                args.append(",")
            args += self.expr(depth + 1)
        return [self.kw(name) if name.isupper() else name, "("] + args + [")"]

    # -- groups ----------------------------------------------------------------------------
    def element(self, depth: int) -> list[str]:
        r = self.rng
        x = r.random()
        if depth > 2 or x < 0.4:
            return self.triples(depth)
        if x < 0.48:
            return [self.kw("OPTIONAL")] + self.group(depth + 1)
        if x < 0.53:
            return [self.kw("MINUS")] + self.group(depth + 1)
        if x < 0.6:
            return self.group(depth + 1) + [self.kw("UNION")] + self.group(depth + 1)
        if x < 0.7:
            return [self.kw("FILTER"), "("] + self.expr(depth) + [")"]
        if x < 0.74:
            return [self.kw("FILTER"), self.kw("NOT") + " " + self.kw("EXISTS") if r.random() < 0.5
                    else self.kw("EXISTS")] + self.group(depth + 1)
        if x < 0.8:
            return [self.kw("BIND"), "("] + self.expr(depth) + [self.kw("AS"), self.fresh(), ")"]
        if x < 0.86:
            return self.values()
        if x < 0.92:
            return ["{"] + self.select(depth + 1, sub=True) + ["}"]
        if x < 0.96:
            return [self.kw("GRAPH"), r.choice([self.var(), self.constant()])] + self.group(depth + 1)
        return self.group(depth + 1)

    def values(self) -> list[str]:
        r = self.rng
        if r.random() < 0.5:
            v = self.var()
            data = [r.choice([self.constant(), self.literal(), "UNDEF"]) for _ in range(r.randrange(0, 3))]
            return [self.kw("VALUES"), v, "{"] + data + ["}"]
        a, b = self.fresh(), self.fresh()
        rows: list[str] = []
        for _ in range(r.randrange(0, 3)):
            rows += ["(", r.choice([self.constant(), self.literal()]), r.choice([self.constant(), "UNDEF"]), ")"]
        return [self.kw("VALUES"), "(", a, b, ")", "{"] + rows + ["}"]

    def group(self, depth: int) -> list[str]:
        out = ["{"]
        for _ in range(self.rng.randrange(0 if depth else 1, 4 if depth < 2 else 2)):
            out += self.element(depth)
        return out + ["}"]

    # -- the four forms --------------------------------------------------------------------
    def projection(self) -> list[str]:
        r = self.rng
        x = r.random()
        if x < 0.35:
            return ["*"]
        out: list[str] = []
        for _ in range(r.randrange(1, 4)):
            if r.random() < 0.75:
                v = self.var()
                if v[1:] not in {t[1:] for t in out}:
                    out.append(v)
            else:
                out += ["("] + self.expr(2) + [self.kw("AS"), self.fresh(), ")"]
        return out

    def aggregate_projection(self) -> tuple[list[str], str]:
        r = self.rng
        key = r.choice(["?s", "?p", "?o"])
        agg = r.choice([["COUNT", "(", "*", ")"], ["COUNT", "(", "DISTINCT", "?o", ")"],
                        ["SAMPLE", "(", "?o", ")"], ["MAX", "(", "?o", ")"], ["MIN", "(", "?s", ")"],
                        ["GROUP_CONCAT", "(", "STR", "(", "?o", ")", ";", "SEPARATOR", "=", self.string(), ")"],
                        ["SUM", "(", "1", ")"], ["AVG", "(", "2", ")"]])
        return [key, "("] + [self.kw(t) if t.isalpha() and t.isupper() else t for t in agg] + \
            [self.kw("AS"), self.fresh(), ")"], key

    def modifiers(self, grouped_key: str | None) -> list[str]:
        r = self.rng
        out: list[str] = []
        if grouped_key:
            out += [self.kw("GROUP"), self.kw("BY"), grouped_key]
            if r.random() < 0.3:
                out += [self.kw("HAVING"), "(", self.kw("COUNT"), "(", "*", ")", ">", "0", ")"]
        if r.random() < 0.3:
            key = grouped_key or self.var()
            out += [self.kw("ORDER"), self.kw("BY"),
                    r.choice([key, self.kw("DESC") + "(" + key + ")", self.kw("ASC") + "(" + key + ")"])]
        if r.random() < 0.4:
            out += [self.kw("LIMIT"), str(r.choice([0, 1, 5, 10, 100]))]
        if r.random() < 0.15:
            out += [self.kw("OFFSET"), str(r.choice([0, 1, 2]))]
        return out

    def select(self, depth: int, sub: bool = False) -> list[str]:
        r = self.rng
        out = [self.kw("SELECT")]
        if r.random() < 0.2:
            out.append(self.kw(r.choice(["DISTINCT", "REDUCED"])))
        grouped = None
        if r.random() < 0.15:
            proj, grouped = self.aggregate_projection()
        else:
            proj = self.projection()
        out += proj
        if not sub:
            out += self.dataset_slot
        if r.random() < 0.8:
            out.append(self.kw("WHERE"))
        out += self.group(depth)
        out += self.modifiers(grouped)
        return out

    def construct(self) -> list[str]:
        r = self.rng
        if r.random() < 0.3:
            template = [t for _ in range(r.randrange(1, 3))
                        for t in [self.var(), r.choice(PREDICATES[:-1]), self.var(), "."]]
            return [self.kw("CONSTRUCT")] + self.dataset_slot + [self.kw("WHERE"), "{"] + template + ["}"] + \
                self.modifiers(None)
        template = ["{"] + [t for _ in range(r.randrange(0, 3))
                            for t in self.subject(2) + self.pred_objs(2, simple=True) + ["."]] + ["}"]
        return [self.kw("CONSTRUCT")] + template + self.dataset_slot + [self.kw("WHERE")] + self.group(0) + \
            self.modifiers(None)

    def describe(self) -> list[str]:
        r = self.rng
        targets = ["*"] if r.random() < 0.2 else [r.choice([self.var(), self.constant()])
                                                   for _ in range(r.randrange(1, 3))]
        out = [self.kw("DESCRIBE")] + targets + self.dataset_slot
        if r.random() < 0.8:
            out += [self.kw("WHERE")] + self.group(0)
        return out + self.modifiers(None)

    def ask(self) -> list[str]:
        return [self.kw("ASK")] + self.dataset_slot + ([self.kw("WHERE")] if self.rng.random() < 0.5 else []) + \
            self.group(0)

    # -- forbidden constructs --------------------------------------------------------------
    def service_clause(self) -> tuple[list[str], list[str]]:
        """(prologue additions, the SERVICE clause), in one of many spellings."""
        r, u = self.rng, self.url
        word = r.choice(SERVICE_WORDS)
        silent = r.choice(SILENT_WORDS)
        prologue: list[str] = []
        target_kind = r.choice(["iri", "iri", "relative", "pname", "empty", "unicode", "var"])
        if target_kind == "iri":
            target = r.choice([f"<{u}/sparql>", f"<{u}/s#x>", f"<{u}/it's>", f"<{u}/\\u0073parql>"])
        elif target_kind == "relative":
            prologue.append(f"BASE <{u}/>")
            target = "<sparql>"
        elif target_kind == "pname":
            prologue.append(f"PREFIX e: <{u}/>")
            target = r.choice(["e:sparql", "e:s\\'q", "e:s\\#q"])
        elif target_kind == "empty":
            prologue.append(f"PREFIX : <{u}/>")
            target = r.choice([":sparql", ":"])
        elif target_kind == "unicode":
            prologue.append(f"PREFIX é: <{u}/>")
            target = "é:sparql"
        else:
            target = "?svc"
        gap = r.choice(KEYWORD_GAPS)
        inner = r.choice([["{", "}"], ["{", "?s", "?p", "?o", "}"], ["{", "?a", "?b", "?c", "}"]])
        clause = [word + silent + gap + target] + inner
        self.protected.add(clause[0])  # never glued into a neighbour (?oSERVICE is a variable)
        if target == "?svc":
            clause = [self.kw("BIND"), "(", f"<{u}/sparql>", self.kw("AS"), "?svc", ")"] + clause
        return prologue, clause

    def dataset_clause(self) -> list[str]:
        r, u = self.rng, self.url
        target = r.choice([f"<{u}/data.ttl>", f"<{u}/g#x>", "e:data"])
        clause = r.choice(FROM_WORDS) + r.choice(NAMED_WORDS) + r.choice(KEYWORD_GAPS) + target
        self.protected.add(clause)  # never glued into a neighbour (?yFROM is a variable)
        return [clause]

    def update(self) -> str:
        r, u = self.rng, self.url
        op = r.choice([
            f"LOAD <{u}/x.ttl>", f"LOAD SILENT <{u}/x.ttl> INTO GRAPH <{u}/g>", f"load<{u}/x.ttl>",
            "DROP ALL", "CLEAR DEFAULT", "drop silent graph <g>", "CREATE GRAPH <g>",
            "DELETE WHERE { ?s ?p ?o }", "INSERT DATA { <a:x> <a:y> <a:z> }",
            "DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
            "WITH <g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
            "ADD DEFAULT TO <g>", "MOVE <g> TO DEFAULT", "COPY DEFAULT TO <g>", "\\u004COAD <" + u + "/x>",
            f"INSERT {{ ?s ?p ?o }} USING <{u}/d> WHERE {{ ?s ?p ?o }}",
        ])
        return op

    # -- assembling ------------------------------------------------------------------------
    def join(self, tokens: list[str]) -> str:
        r = self.rng
        out: list[str] = []
        for k, tok in enumerate(tokens):
            if k:
                x = r.random()
                if x < 0.82:
                    out.append(" ")
                elif x < 0.88:
                    out.append(r.choice(["\n", "\t", "\r", "\r\n", "  "]))
                elif x < 0.95 and (_gluable(tokens[k - 1], tok) or
                                   (x < 0.885 and not {tok, tokens[k - 1]} & self.protected)):
                    out.append("")  # glued: SPARQL needs no white space between most tokens
                elif x < 0.95:
                    out.append(" ")
                else:
                    out.append(" " + self.comment())
            out.append(tok)
        if r.random() < 0.1:
            out.append(" " + self.comment(at_end=True))
        return "".join(out)

    def next(self) -> Case:
        r = self.rng
        self.counter = 0
        self.prefixes: set[str] = set()
        self.protected: set[str] = set()
        prologue: list[str] = []
        if r.random() < 0.3:
            prologue.append(self.comment())
        if r.random() < 0.05:
            prologue.append(self.kw("VERSION") + ' "1.2"')
        for decl in r.sample([f"PREFIX e: <{self.url}/>", f"PREFIX : <{self.url}/>", f"PREFIX é: <{self.url}/>",
                              f"PREFIX 前缀: <{self.url}/>", f"BASE <{self.url}/>", f"prefix pm: <{PM}>",
                              f"PREFIX ex\u00b7a: <{self.url}/>", f"PREFIX SERVICE: <{self.url}/>"],
                             r.randrange(0, 4)):
            prologue.append(decl)
            if decl.upper().startswith("PREFIX"):
                self.prefixes.add(decl.split()[1].rstrip(":"))
        self.prefixes.discard("")
        forbidden = None
        self.dataset_slot: list[str] = []
        service: list[str] | None = None
        if r.random() < self.forbidden_rate:
            forbidden = r.choice(["SERVICE", "SERVICE", "SERVICE", "FROM", "UPDATE"])
            if forbidden == "SERVICE":
                extra, service = self.service_clause()
                prologue += extra
            elif forbidden == "FROM":
                prologue.append(f"PREFIX e: <{self.url}/>")
                self.dataset_slot = self.dataset_clause()
        form = r.choices(["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"], weights=[6, 2, 2, 1])[0]
        body = {"SELECT": lambda: self.select(0), "ASK": self.ask, "CONSTRUCT": self.construct,
                "DESCRIBE": self.describe}[form]()
        if service is not None:
            body = self._place(body, service)
        # declare what the body uses, most of the time (an undeclared prefix is a syntax error)
        flat = " ".join(body)
        if "e" not in self.prefixes and re.search(r"(?<![\w:/.])e:", flat) and r.random() < 0.95:
            prologue.append(f"PREFIX e: <{self.url}/>")
        if not any(d.startswith("BASE") for d in prologue) and re.search(r"<(a|s|#frag|)>", flat) \
                and r.random() < 0.9:
            prologue.append(f"BASE <{self.url}/>")
        tokens = prologue + body
        if r.random() < 0.1:
            tokens += self.values()
        text = self.join(tokens)
        if forbidden == "UPDATE":
            x = r.random()
            if x < 0.4:
                text = self.join(prologue) + " " + self.update()
            elif x < 0.7:
                text = text + " ;" + r.choice([" ", "", "\n"]) + self.update()
            else:
                text = self.update() + " ; " + text
        return Case(text, "generated", forbidden)

    def _place(self, body: list[str], clause: list[str]) -> list[str]:
        """Put the SERVICE clause right after an opening brace of the WHERE part (any depth)."""
        opens = [k for k, t in enumerate(body) if t == "{"]
        if not opens:
            return body + ["{"] + clause + ["}"]
        # the first brace of CONSTRUCT is its template: prefer a later one there
        k = self.rng.choice(opens[1:] if len(opens) > 1 and self.rng.random() < 0.7 else opens)
        return body[: k + 1] + clause + body[k + 1:]
