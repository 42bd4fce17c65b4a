"""Projecting the RDF graph onto networkx.

Only relations between the data's named nodes become edges: rdf:type, literals, blank nodes and
the ontology's own terms stay out, so paths do not run through class hubs such as plm:Model.
"""

from __future__ import annotations

from .backends import Backend
from .nodes import index
from .vocab import PM, RDF, shorten

_SKIP = (RDF + "type", "http://www.w3.org/2004/02/skos/core#inScheme")


def to_networkx(backend: Backend, *, include_claims: bool = True, include_demos: bool = True):
    """A networkx.MultiDiGraph with one edge per IRI-to-IRI triple, keyed by the predicate IRI.

    Nodes carry `label` (English), `kind` and `id`; edges carry `label` (the predicate's name).
    Built once per backend and shared: treat it as read-only (copy it before changing it).

    Example:
        >>> from kg import open_backend
        >>> g = to_networkx(open_backend())
        >>> g.nodes["https://w3id.org/plm-map/id/XLNet"]["label"]
        'XLNet'
    """
    key = f"project.networkx.{include_claims}.{include_demos}"
    return backend.memo(key, lambda: _build(backend, include_claims, include_demos))


def _build(backend: Backend, include_claims: bool, include_demos: bool):
    import networkx as nx

    from .nodes import property_labels

    nodes = index(backend)
    rows = backend.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(isIRI(?s) && isIRI(?o)) }").rows
    g = nx.MultiDiGraph()
    for s, p, o in rows:
        if p.value in _SKIP or s.value not in nodes or o.value not in nodes:
            continue
        if not (s.value.startswith(PM) and o.value.startswith(PM)):  # the ontology's own terms stay out
            continue
        if not include_claims and ("claim" in nodes[s.value].kinds or "claim" in nodes[o.value].kinds):
            continue
        if not include_demos and ("demo" in nodes[s.value].kinds or "demo" in nodes[o.value].kinds):
            continue
        labels = property_labels(backend, p.value)
        g.add_edge(s.value, o.value, key=p.value, label=labels.get("en") or shorten(p.value), labels=labels,
                   predicate=shorten(p.value))
    for iri in g.nodes:
        node = nodes[iri]
        g.nodes[iri].update(label=node.label, kind=node.kind, id=node.id)
    return g


def semantic_graph(backend: Backend):
    """The projection without claims and demos: concepts and their relations."""
    return to_networkx(backend, include_claims=False, include_demos=False)
