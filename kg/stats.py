"""Counts that summarise the graph."""

from __future__ import annotations

from .backends import Backend
from .vocab import shorten


def stats(backend: Backend) -> dict:
    """Triples in all, nodes per class of the ontology, and uses of each plm: property."""
    total = backend.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0]
    classes = backend.select(
        "SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?c FILTER(STRSTARTS(STR(?c), STR(plm:))) } "
        "GROUP BY ?c ORDER BY DESC(?n)"
    ).rows
    props = backend.select(
        "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?p), STR(plm:))) } "
        "GROUP BY ?p ORDER BY DESC(?n)"
    ).rows
    return {
        "triples": int(total.value),
        "classes": {shorten(c.value): int(n.value) for c, n in classes},
        "properties": {shorten(p.value): int(n.value) for p, n in props},
    }
