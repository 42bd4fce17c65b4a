"""Writing the graph out: Turtle, N-Triples, JSON-LD (RDF), or GraphML (the networkx projection)."""

from __future__ import annotations

import io

from .backends import Backend
from .results import Term
from .vocab import PREFIXES

FORMATS = ("turtle", "ntriples", "jsonld", "graphml")


def to_oxigraph(term: Term):
    import pyoxigraph as ox

    if term.kind == "uri":
        return ox.NamedNode(term.value)
    if term.kind == "bnode":
        return ox.BlankNode(term.value)
    if term.lang:
        return ox.Literal(term.value, language=term.lang)
    if term.datatype:
        return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype))
    return ox.Literal(term.value)


def serialize_triples(triples, fmt: str) -> bytes:
    """Serialize (Term, Term, Term) triples as turtle, ntriples or jsonld."""
    import pyoxigraph as ox

    rdf_format = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
                  "jsonld": ox.RdfFormat.JSON_LD}[fmt]
    data = [ox.Triple(*(to_oxigraph(t) for t in triple)) for triple in triples]
    prefixes = PREFIXES if fmt == "turtle" else None
    return ox.serialize(data, format=rdf_format, prefixes=prefixes)


def export(backend: Backend, fmt: str) -> bytes:
    """The whole graph in one of FORMATS."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if fmt == "graphml":
        import networkx as nx

        from .project import to_networkx

        g = nx.DiGraph()  # GraphML readers expect simple graphs; parallel edges join their labels
        for s, o, data in to_networkx(backend).edges(data=True):
            if g.has_edge(s, o):
                g.edges[s, o]["label"] += "; " + data["label"]
            else:
                g.add_edge(s, o, label=data["label"], predicate=data["predicate"])
        for n, data in to_networkx(backend).nodes(data=True):
            g.add_node(n, **data)
        buf = io.BytesIO()
        nx.write_graphml(g, buf)
        return buf.getvalue()
    return serialize_triples(backend.triples(), fmt)
