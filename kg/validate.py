"""Checking the graph's promises: the SHACL shapes of data/shapes.ttl (through pyshacl), and the
content rules below, which need more than one node at a time and are written in SPARQL.

The content rules keep the survey's reasoning sound:

    fix-is-not-the-cause     a mechanism that addresses or eases a weakness does not have it itself
    fix-is-backed            every addresses / eases edge is backed by a claim that speaks of it
    introduced-first         no model introduces a mechanism that an earlier model already uses
    organisation-of-paper    every organisation of a model is one of its paper's organisations

(the fifth, "every claim is about at least one entity", is a cardinality and lives in the shapes).
Each violation names the offending nodes by label and id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .backends import Backend
from .export import serialize_triples
from .store import SHAPES_FILE
from .vocab import shorten


@dataclass
class Violation:
    focus: str
    path: str
    message: str
    rule: str = ""   # the content rule's id; "" for a SHACL shape


@dataclass
class Report:
    conforms: bool
    violations: list[Violation]
    triples: int
    rules: list[str] = field(default_factory=list)

    def text(self) -> str:
        if self.conforms:
            return (f"The graph conforms to its shapes and its {len(self.rules)} content rules "
                    f"({self.triples:,} triples checked).")
        lines = [f"{len(self.violations)} violation(s) of data/shapes.ttl and the content rules of kg/validate.py:"]
        for v in self.violations:
            where = f"[{v.rule}] " if v.rule else ""
            lines.append(f"  {v.focus}  {where}{v.path}: {v.message}")
        return "\n".join(lines)


@dataclass
class Rule:
    id: str
    says: str                                              # the promise, in one sentence
    check: Callable[[Backend], list[Violation]]


def _name(labels: dict[str, str], iri: str) -> str:
    """A node as a message names it: its English label and its short id."""
    short = shorten(iri)
    label = labels.get(iri)
    return f"{label} ({short})" if label and label != short else short


def _labels(backend: Backend, iris: set[str]) -> dict[str, str]:
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in sorted(iris))
    rows = backend.select(
        f"SELECT ?n ?l WHERE {{ VALUES ?n {{ {values} }} {{ ?n skos:prefLabel ?l }} UNION {{ ?n dcterms:title ?l }} "
        "FILTER(LANG(?l) = 'en' || LANG(?l) = '') }").rows
    out: dict[str, str] = {}
    for n, lab in sorted(rows, key=lambda r: (r[0].value, r[1].lang != "en", r[1].value)):
        out.setdefault(n.value, lab.value)
    return out


# --------------------------------------------------------------------------------------------- the rules


def _fix_violations(backend: Backend, query: str, rule: str, why: str) -> list[Violation]:
    """A Violation for each (?m ?p ?w) row of `query`: mechanism ?m addresses or eases weakness ?w,
    and `why` ("but ...") says what is wrong with that."""
    rows = backend.select(query).rows
    labels = _labels(backend, {r[0].value for r in rows} | {r[2].value for r in rows})
    return [Violation(shorten(m.value), shorten(p.value),
                      f"{_name(labels, m.value)} {'addresses' if p.value.endswith('addresses') else 'eases'} "
                      f"{_name(labels, w.value)}, {why}", rule)
            for m, p, w in rows]


def fix_is_not_the_cause(backend: Backend) -> list[Violation]:
    """A mechanism that addresses or eases a weakness must not be what has (causes) that weakness:
    a trace would otherwise offer the cause as its own fix."""
    return _fix_violations(
        backend, "SELECT ?m ?p ?w WHERE { VALUES ?p { plm:addresses plm:eases } ?m ?p ?w . ?m plm:hasWeakness ?w }",
        "fix-is-not-the-cause", "but it has that weakness itself (plm:hasWeakness): the mechanism that causes a "
        "weakness cannot be its fix")


def fix_is_backed(backend: Backend) -> list[Violation]:
    """Every addresses / eases edge is backed (plm:backs) by a claim that speaks of (plm:about) the
    mechanism or the weakness."""
    return _fix_violations(
        backend, "SELECT ?m ?p ?w WHERE { VALUES ?p { plm:addresses plm:eases } ?m ?p ?w FILTER(isIRI(?w)) "
        "FILTER NOT EXISTS { ?c a plm:Claim ; plm:backs ?st . ?st rdf:subject ?m ; rdf:predicate ?p ; rdf:object ?w . "
        "{ ?c plm:about ?m } UNION { ?c plm:about ?w } } }",
        "fix-is-backed", "but no claim about either of them backs it (plm:backs a statement of it): say which claim "
        "of the survey states it")


def _appearance(backend: Backend) -> dict[str, tuple]:
    """Per model, when it appeared: (year, month or None, arXiv id as (YYMM, number, text) or None), from its
    paper's dcterms:date and plm:arxivId, else its own dcterms:issued year."""
    out: dict[str, tuple] = {}
    rows = backend.select(
        "SELECT ?m ?y ?d ?a WHERE { ?m a plm:Model . OPTIONAL { ?m dcterms:issued ?y } "
        "OPTIONAL { ?m plm:paper ?p . OPTIONAL { ?p dcterms:date ?d } OPTIONAL { ?p plm:arxivId ?a } } }").rows
    for m, y, d, a in rows:
        year = month = arxiv = None
        if d is not None and len(d.value) >= 7 and d.value[:4].isdigit() and d.value[5:7].isdigit():
            year, month = int(d.value[:4]), int(d.value[5:7])
        elif y is not None and y.value[:4].isdigit():
            year = int(y.value[:4])
        if a is not None and "." in a.value and all(x.isdigit() for x in a.value.split(".")):
            head, tail = a.value.split(".")
            arxiv = (int(head), int(tail), a.value)
        if year is None:
            continue
        when = (year, month, arxiv)
        if m.value not in out or _before(when, out[m.value]):
            out[m.value] = when
    return out


def _before(a, b) -> bool:
    """Whether appearance a is strictly before appearance b (as far as the two dates can tell)."""
    (ya, ma, xa), (yb, mb, xb) = a, b
    if ma is None or mb is None:
        return ya < yb
    if (ya, ma) != (yb, mb):
        return (ya, ma) < (yb, mb)
    return xa is not None and xb is not None and xa < xb   # same month: arXiv numbers run in time


def _when(a) -> str:
    year, month, arxiv = a
    text = f"{year}-{month:02d}" if month else str(year)
    return text + (f", arXiv {arxiv[2]}" if arxiv else "")


def introduced_first(backend: Backend) -> list[Violation]:
    """A mechanism is not introduced by a model that appeared after another model that uses it."""
    rows = backend.select(
        "SELECT ?x ?intro ?user WHERE { ?x plm:introducedBy ?intro ; plm:usedBy ?user FILTER(?intro != ?user) }").rows
    when = _appearance(backend)
    bad = [(x.value, i.value, u.value) for x, i, u in rows
           if i.value in when and u.value in when and _before(when[u.value], when[i.value])]
    labels = _labels(backend, {n for triple in bad for n in triple})
    return [Violation(shorten(x), "plm:introducedBy", (
        f"{_name(labels, x)} is introduced by {_name(labels, i)} ({_when(when[i])}), but "
        f"{_name(labels, u)} ({_when(when[u])}), which uses it, appeared earlier: a mechanism is introduced "
        f"by the first model that uses it, or by none"), "introduced-first") for x, i, u in sorted(bad)]


def organisation_of_paper(backend: Backend) -> list[Violation]:
    """Every organisation of a model (dcterms:creator) is an organisation of its paper's authors (the
    paper's dcterms:creator)."""
    rows = backend.select(
        "SELECT ?m ?org ?paper WHERE { ?m a plm:Model ; dcterms:creator ?org ; plm:paper ?paper "
        "FILTER NOT EXISTS { ?paper dcterms:creator ?org } }").rows
    papers = backend.select(
        "SELECT ?paper ?org WHERE { ?m a plm:Model ; plm:paper ?paper . ?paper dcterms:creator ?org }").rows
    of_paper: dict[str, set[str]] = {}
    for paper, org in papers:
        of_paper.setdefault(paper.value, set()).add(org.value)
    nodes = {r[i].value for r in rows for i in range(3)} | {o for os in of_paper.values() for o in os}
    labels = _labels(backend, nodes)
    out = []
    for m, org, paper in sorted(rows, key=lambda r: (r[0].value, r[1].value, r[2].value)):
        theirs = sorted(of_paper.get(paper.value, ()))
        said = ", ".join(_name(labels, o) for o in theirs) if theirs else "no organisation at all"
        out.append(Violation(shorten(m.value), "dcterms:creator", (
            f"{_name(labels, m.value)} names {_name(labels, org.value)} as its organisation, but its paper "
            f"{_name(labels, paper.value)} records {said} for its authors: a model's organisations are "
            f"its paper's"), "organisation-of-paper"))
    return out


RULES = [
    Rule("fix-is-not-the-cause", "A mechanism that addresses or eases a weakness does not have that weakness itself.",
         fix_is_not_the_cause),
    Rule("fix-is-backed", "Every addresses / eases edge is backed by a claim about the mechanism or the weakness.",
         fix_is_backed),
    Rule("introduced-first", "No model introduces a mechanism that an earlier model already uses.", introduced_first),
    Rule("organisation-of-paper", "Every organisation of a model is one of its paper's organisations.",
         organisation_of_paper),
]


def check_rules(backend: Backend, rules: list[Rule] | None = None) -> list[Violation]:
    """The content rules' violations on the backend's graph (all rules, or the ones given)."""
    out: list[Violation] = []
    for rule in RULES if rules is None else rules:
        out.extend(rule.check(backend))
    return out


def _shacl(backend: Backend) -> tuple[list[Violation], int]:
    import rdflib
    from pyshacl import validate as shacl

    triples = backend.triples()
    data = rdflib.Graph().parse(data=serialize_triples(triples, "ntriples").decode(), format="nt")
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    _, results, _ = shacl(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    violations = []
    for r in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = results.value(r, SH.resultSeverity)
        if severity is not None and severity != SH.Violation:
            continue   # warnings are allowed
        focus = results.value(r, SH.focusNode)
        path = results.value(r, SH.resultPath)
        msg = results.value(r, SH.resultMessage)
        violations.append(Violation(shorten(str(focus)), shorten(str(path)) if path else "", str(msg)))
    return violations, len(triples)


def validate(backend: Backend) -> Report:
    """Validate the backend's graph against data/shapes.ttl and the content rules."""
    violations, triples = _shacl(backend)
    violations += check_rules(backend)
    violations.sort(key=lambda v: (v.rule, v.focus, v.path, v.message))
    return Report(not violations, violations, triples, [r.id for r in RULES])
