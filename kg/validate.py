"""Checking the graph's promises with SHACL (data/shapes.ttl) through pyshacl."""

from __future__ import annotations

from dataclasses import dataclass

from .backends import Backend
from .export import serialize_triples
from .store import SHAPES_FILE
from .vocab import shorten


@dataclass
class Violation:
    focus: str
    path: str
    message: str


@dataclass
class Report:
    conforms: bool
    violations: list[Violation]
    triples: int

    def text(self) -> str:
        if self.conforms:
            return f"The graph conforms to its shapes ({self.triples:,} triples checked)."
        lines = [f"{len(self.violations)} violation(s) of data/shapes.ttl:"]
        lines += [f"  {v.focus}  {v.path}: {v.message}" for v in self.violations]
        return "\n".join(lines)


def validate(backend: Backend) -> Report:
    """Validate the backend's graph against data/shapes.ttl."""
    import rdflib
    from pyshacl import validate as shacl

    triples = backend.triples()
    data = rdflib.Graph().parse(data=serialize_triples(triples, "ntriples").decode(), format="nt")
    shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
    conforms, results, _ = shacl(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    violations = []
    for r in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        focus = results.value(r, SH.focusNode)
        path = results.value(r, SH.resultPath)
        msg = results.value(r, SH.resultMessage)
        violations.append(Violation(shorten(str(focus)), shorten(str(path)) if path else "", str(msg)))
    violations.sort(key=lambda v: (v.focus, v.path))
    return Report(bool(conforms), violations, len(triples))
