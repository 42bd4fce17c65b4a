"""Tracing why models exist: chains from a weakness to the mechanism that fixes it and the model
that brings the mechanism, hop by hop, each hop with the survey claims that back it.

    BERT --has weakness--> Independence assumption --is addressed by--> Permutation LM --introduced by--> XLNet

The chains walk a directed "reasoning graph" projected from the RDF graph:

    X  --has weakness-->        W     (X has weakness W: a model, mechanism, objective, extractor, stage)
    W  --is addressed by-->     M     (M addresses W)
    W  --is eased by-->         M     (M eases W)
    M  --introduced by/used by--> Y   (mechanism M is brought by model Y)
    Y  --uses / objective / feature extractor--> M   (so a model inherits its parts' weaknesses)

`fixes(A)` follows weakness -> fix -> model from A; `between(A, B)` finds every such chain from
A to B, and falls back to the shortest connections over all relations when no chain exists.

A chain never offers as the fix of a weakness what still has it: not a mechanism that has the
weakness itself (the cause is not its own fix; `kg validate` also refuses such an edge), and not a
model that suffers it through its feature extractor (SiATL puts self-attention on top of an LSTM, so
it still has the LSTM's long-range dependency failure and brings no fix for it) or that has it
itself, unless that model is where the chain starts (a model may trace its own weakness to a fix it
brings).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .backends import Backend
from .language import DEFAULT, pick
from .nodes import ClaimRef, Node, claim_sort_key, claims, index, property_labels, resolve
from .vocab import PLM

HAS_WEAKNESS, ADDRESSES, EASES = PLM + "hasWeakness", PLM + "addresses", PLM + "eases"
INTRODUCED_BY, USED_BY = PLM + "introducedBy", PLM + "usedBy"
OBJECTIVE, EXTRACTOR = PLM + "objective", PLM + "featureExtractor"

# predicate -> walked forwards (subject -> object) or backwards (object -> subject)
REASONING_EDGES = {
    HAS_WEAKNESS: "forward", ADDRESSES: "backward", EASES: "backward",
    INTRODUCED_BY: "forward", USED_BY: "forward", OBJECTIVE: "forward", EXTRACTOR: "forward",
}
# the model-to-part direction of usedBy is read as "uses"
PART_OF_MODEL = {USED_BY}

DEFAULT_CUTOFF = 4
MAX_CHAINS = 25


@dataclass
class Hop:
    source: Node
    target: Node
    predicate: str   # the RDF property behind the hop
    label: str       # how the hop reads from source to target, in English
    evidence: list[ClaimRef] = field(default_factory=list)
    evidence_kind: str = "backs"  # "backs": the claims back this relation; "related": claims about both ends
    labels: dict[str, str] = field(default_factory=dict)   # lang -> how the hop reads

    def name(self, lang: str = DEFAULT) -> str:
        return pick(self.labels, lang) or self.label


@dataclass
class Chain:
    hops: list[Hop]
    kind: str = "fix"  # "fix" (weakness -> fix -> model) or "connection"

    @property
    def nodes(self) -> list[Node]:
        return [self.hops[0].source] + [h.target for h in self.hops] if self.hops else []

    def text(self, lang: str = DEFAULT) -> str:
        return " → ".join(n.name(lang) for n in self.nodes)


@dataclass
class _Edge:
    predicate: str
    labels: dict[str, str]   # lang -> how the edge reads along its direction
    triple: tuple[str, str, str]


def _evidence_index(backend: Backend) -> dict[tuple[str, str, str], list[str]]:
    def build():
        out: dict[tuple[str, str, str], list[str]] = {}
        rows = backend.select(
            "SELECT ?c ?s ?p ?o WHERE { ?c plm:backs ?st . ?st rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o }"
        ).rows
        for c, s, p, o in rows:
            out.setdefault((s.value, p.value, o.value), []).append(c.value)
        return out

    return backend.memo("trace.evidence", build)


def _about_index(backend: Backend) -> dict[str, set[str]]:
    def build():
        out: dict[str, set[str]] = {}
        for c, n in backend.select("SELECT ?c ?n WHERE { ?c plm:about ?n }").rows:
            out.setdefault(n.value, set()).add(c.value)
        return out

    return backend.memo("trace.about", build)


def reasoning_graph(backend: Backend):
    """The directed graph that traces walk (networkx.MultiDiGraph, edge attribute `edge`)."""

    def build():
        import networkx as nx

        values = " ".join(f"<{p}>" for p in REASONING_EDGES)
        rows = backend.select(f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} ?s ?p ?o FILTER(isIRI(?o)) }}").rows
        g = nx.MultiDiGraph()
        introduced = {(s.value, o.value) for s, p, o in rows if p.value == INTRODUCED_BY}
        for s, p, o in rows:
            s, p, o = s.value, p.value, o.value
            if p == USED_BY and (s, o) in introduced:
                g.add_edge(o, s, key="uses", edge=_Edge(p, property_labels(backend, p, inverse=True), (s, p, o)))
                continue  # the introducedBy edge says it more precisely
            if REASONING_EDGES[p] == "forward":
                g.add_edge(s, o, key=p, edge=_Edge(p, property_labels(backend, p), (s, p, o)))
            else:
                g.add_edge(o, s, key=p, edge=_Edge(p, property_labels(backend, p, inverse=True), (s, p, o)))
            if p in PART_OF_MODEL:
                g.add_edge(o, s, key="uses", edge=_Edge(p, property_labels(backend, p, inverse=True), (s, p, o)))
        return g

    return backend.memo("trace.graph", build)


def _sufferers(backend: Backend) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per node, the weaknesses it has itself (plm:hasWeakness); and per model, those of its feature
    extractor and of the extractors that one is a kind of (skos:broader)."""

    def build():
        own: dict[str, set[str]] = {}
        for x, w in backend.select("SELECT ?x ?w WHERE { ?x plm:hasWeakness ?w FILTER(isIRI(?w)) }").rows:
            own.setdefault(x.value, set()).add(w.value)
        through: dict[str, set[str]] = {}
        for x, w in backend.select(
                "SELECT ?x ?w WHERE { ?x a plm:Model ; plm:featureExtractor/skos:broader* ?e . "
                "?e plm:hasWeakness ?w FILTER(isIRI(?w)) }").rows:
            through.setdefault(x.value, set()).add(w.value)
        return own, through

    return backend.memo("trace.sufferers", build)


def _still_has(backend: Backend, node: str, weakness: str, start: str | None = None) -> bool:
    """Whether a mechanism or model offered as the fix of `weakness` still has it: itself (unless it
    is the chain's `start`), or, for a model, through its feature extractor."""
    own, through = _sufferers(backend)
    return (weakness in own.get(node, set()) and node != start) or weakness in through.get(node, set())


def _hop(backend: Backend, u: str, v: str, edge: _Edge) -> Hop:
    nodes, all_claims = index(backend), claims(backend)
    backing = _evidence_index(backend).get(edge.triple, [])
    kind = "backs"
    if not backing:
        about = _about_index(backend)
        backing = sorted(about.get(u, set()) & about.get(v, set()))
        kind = "related"
    refs = sorted((all_claims[c] for c in backing if c in all_claims), key=claim_sort_key)
    return Hop(nodes[u], nodes[v], edge.predicate, pick(edge.labels, "en") or "", refs, kind, edge.labels)


def _edge_rank(edge: _Edge) -> int:
    # prefer "addresses" over "eases", and "introduced by" over "used by" when two edges join the same nodes
    return {ADDRESSES: 0, INTRODUCED_BY: 0, HAS_WEAKNESS: 0, EASES: 1, USED_BY: 1}.get(edge.predicate, 2)


def _chain(backend: Backend, g, path: list[str], kind: str = "fix") -> Chain:
    hops = []
    for u, v in zip(path, path[1:]):
        edge = min((d["edge"] for d in g.get_edge_data(u, v).values()), key=_edge_rank)
        hops.append(_hop(backend, u, v, edge))
    return Chain(hops, kind)


def fixes(backend: Backend, start: str, *, inherited: bool = False) -> list[Chain]:
    """Every chain start -> weakness -> fixing mechanism -> model that brings it.

    For a weakness the chains start at the weakness itself. With `inherited`, a model's chains also
    go through its objective, feature extractor and the mechanisms it uses (GPT -> autoregressive LM
    -> unidirectional context -> ...).
    """
    g = reasoning_graph(backend)
    node = resolve(backend, start)
    kinds = node.kinds
    if node.iri not in g:
        return []
    starts: list[list[str]] = []
    if "weakness" in kinds:
        starts = [[node.iri]]
    else:
        for _, w, d in g.out_edges(node.iri, data=True):
            if d["edge"].predicate == HAS_WEAKNESS:
                starts.append([node.iri, w])
        if inherited:
            for _, part, d in g.out_edges(node.iri, data=True):
                if d["edge"].predicate in (OBJECTIVE, EXTRACTOR) or (d["edge"].predicate == USED_BY):
                    for _, w, d2 in g.out_edges(part, data=True):
                        if d2["edge"].predicate == HAS_WEAKNESS:
                            starts.append([node.iri, part, w])
    paths: list[list[str]] = []
    for prefix in starts:
        w = prefix[-1]
        for _, m, d in g.out_edges(w, data=True):
            if d["edge"].predicate not in (ADDRESSES, EASES) or _still_has(backend, m, w):
                continue
            models = [y for _, y, d2 in g.out_edges(m, data=True)
                      if d2["edge"].predicate in (INTRODUCED_BY, USED_BY) and not _still_has(backend, y, w, node.iri)]
            if not models and any(d2["edge"].predicate in (INTRODUCED_BY, USED_BY) for _, _, d2 in g.out_edges(m, data=True)):
                continue   # every model that brings it still has the weakness: no fix here
            for y in models or [None]:
                path = prefix + [m] + ([y] if y else [])
                loops_home = path[-1] == path[0] and len(set(path)) == len(path) - 1
                if len(set(path)) == len(path) or loops_home:
                    paths.append(path)
    unique = list(dict.fromkeys(tuple(p) for p in paths))
    chains = [_chain(backend, g, list(p)) for p in unique]

    def reading_order(c: Chain):  # the survey's order of the claims that name the weakness
        weakness_hop = next(h for h in c.hops if h.target.kind == "weakness" or h.source.kind == "weakness")
        first = min((claim_sort_key(r) for r in weakness_hop.evidence), default=(True, 99, 0))
        return (len(c.hops), first, any(h.predicate == EASES for h in c.hops), c.text())

    chains.sort(key=reading_order)
    return chains


def between(backend: Backend, a: str, b: str, *, cutoff: int = DEFAULT_CUTOFF) -> list[Chain]:
    """Every weakness-and-fix chain from a to b (shortest first, at most MAX_CHAINS); when there is
    none, the shortest connections between them over all relations (kind "connection")."""
    import networkx as nx

    g = reasoning_graph(backend)
    src, dst = resolve(backend, a), resolve(backend, b)
    chains: list[Chain] = []
    if src.iri in g and dst.iri in g and src.iri != dst.iri:
        paths = nx.all_simple_paths(g, src.iri, dst.iri, cutoff=cutoff)
        found = sorted({tuple(p) for p in paths}, key=lambda p: (len(p), p))
        chains = [_chain(backend, g, list(p)) for p in found
                  if _is_fix_path(g, list(p)) and not _fix_still_has(backend, g, list(p), src.iri)]
        chains.sort(key=lambda c: (len(c.hops), sum(_edge_rank(_best(g, h)) for h in _pairs(c)), c.text()))
    if chains:
        return chains[:MAX_CHAINS]
    return connections(backend, src, dst)


def _pairs(chain: Chain) -> list[tuple[str, str]]:
    return [(h.source.iri, h.target.iri) for h in chain.hops]


def _best(g, pair: tuple[str, str]) -> _Edge:
    return min((d["edge"] for d in g.get_edge_data(*pair).values()), key=_edge_rank)


def _is_fix_path(g, path: list[str]) -> bool:
    """A chain must pass through a weakness to a mechanism that addresses or eases it."""
    preds = [_best(g, (u, v)).predicate for u, v in zip(path, path[1:])]
    return any(p in (ADDRESSES, EASES) for p in preds)


def _fix_still_has(backend: Backend, g, path: list[str], start: str) -> bool:
    """Whether the path offers, as the fix of a weakness, a mechanism that has it, or goes on from that
    fix to a model that still suffers it."""
    for i, (u, v) in enumerate(zip(path, path[1:])):
        if _best(g, (u, v)).predicate not in (ADDRESSES, EASES):
            continue
        if _still_has(backend, v, u):
            return True
        if i + 2 < len(path) and _best(g, (v, path[i + 2])).predicate in (INTRODUCED_BY, USED_BY) \
                and _still_has(backend, path[i + 2], u, start):
            return True
    return False


def connections(backend: Backend, src: Node, dst: Node, *, limit: int = 10) -> list[Chain]:
    """Shortest paths between two nodes over every relation between concepts, either direction."""
    import networkx as nx

    from .project import semantic_graph

    g = semantic_graph(backend)
    if src.iri not in g or dst.iri not in g or src.iri == dst.iri:
        return []
    u = g.to_undirected(as_view=True)
    try:
        paths = list(nx.all_shortest_paths(u, src.iri, dst.iri))
    except nx.NetworkXNoPath:
        return []
    out = []
    for path in sorted(paths)[:limit]:
        hops = []
        for x, y in zip(path, path[1:]):
            if g.has_edge(x, y):
                p = next(iter(g.get_edge_data(x, y)))
                edge = _Edge(p, property_labels(backend, p), (x, p, y))
            else:
                p = next(iter(g.get_edge_data(y, x)))
                edge = _Edge(p, property_labels(backend, p, inverse=True), (y, p, x))
            hops.append(_hop(backend, x, y, edge))
        out.append(Chain(hops, "connection"))
    return out


def format_chain(chain: Chain, *, number: int | None = None, width: int = 100, lang: str = DEFAULT) -> str:
    """A chain as text: the path on one line, then each hop with its evidence; labels, relations and
    claims in `lang` (the frame around them is English)."""
    from .limits import fill

    head = f"{number}. " if number is not None else ""
    lines = [f"{head}{chain.text(lang)}" + ("   (connection, not a fix chain)" if chain.kind == "connection" else "")]
    for i, hop in enumerate(chain.hops, 1):
        lines.append(f"   {i}) {hop.source.name(lang)} —{hop.name(lang)}→ {hop.target.name(lang)}")
        if not hop.evidence:
            lines.append("        (no claim of the survey backs this relation)")
        for ref in hop.evidence:
            tag = "" if hop.evidence_kind == "backs" else " (about both)"
            text = f"{ref.id} [section {ref.section}]{tag}: {ref.text_in(lang)}"
            lines.append(fill(text, width, indent="        ", subsequent="          "))
    return "\n".join(lines)
