"""What the explorer's pages show, computed from the graph (no Streamlit here, so it is testable alone).

    graph_view(...)   the nodes and edges of the graph page after its filters, coloured by kind, each
                      node at a position computed here (`layout`), so the browser only draws
    compare_rows(...) the models against the survey's dimensions (the Compare page)
    sections(...)     the survey's questions in reading order with their claims, entities and demos

What a page draws from these is bounded: labels in the graph and its tooltips are cut,
their control and bidi characters escaped, with kg.limits.display_text (tables cut their cells
through compare_records' `limit`); search texts are cut to MAX_INPUT_CHARS before they are matched.
"""

from __future__ import annotations

import csv as _csv
import itertools
import math
import io as _io
import json as _json
import re as _re
from dataclasses import dataclass, field
from urllib.parse import quote as _quote

from .backends import Backend
from .language import DEFAULT as DEFAULT_LANG
from .language import LANGUAGES, pick, spelling
from .limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS, MAX_TEXT_CHARS, columns, display_text
from .nodes import Node, index
from .nodes import claim_sort_key as _claim_sort_key
from .nodes import claims as _claims
from .nodes import normalize as _normalize
from .project import to_networkx
from .results import guard_cell
from .textmatch import Spoken as _Spoken
from .textmatch import finds as _finds

from .vocab import KINDS, PLM, PM, local_name

# Colour per kind (Tableau 10), and the legend's order.
KIND_COLORS = {
    "model": "#4e79a7", "mechanism": "#59a14f", "weakness": "#e15759", "claim": "#b07aa1",
    "extractor": "#f28e2b", "objective": "#edc948", "section": "#76b7b2", "demo": "#ff9da7",
    "stage": "#9c755f", "paper": "#bab0ac", "organisation": "#bab0ac", "direction": "#bab0ac",
    "representation": "#bab0ac", "reference": "#bab0ac", "survey": "#bab0ac",
}
FILTER_KINDS = ("model", "mechanism", "weakness", "extractor", "objective", "claim", "section", "demo", "stage")
DEFAULT_KINDS = ("model", "mechanism", "weakness")
MAX_NODES = 400
RELATION_CHARS = 80    # a relation's label: on an edge, in the filter and in its tooltip


@dataclass
class GraphView:
    nodes: list[dict]
    edges: list[dict]
    total_nodes: int          # before the cap
    capped: bool
    relations: list[str] = field(default_factory=list)   # relation labels present (for the filter)


def relation_labels(backend: Backend) -> list[str]:
    """Every relation label that joins two concepts in the graph, sorted: the English labels, which
    the filters and the address use in every language (relation_names says them in another)."""
    g = to_networkx(backend)
    return sorted({display_text(d["label"], RELATION_CHARS) for _, _, d in g.edges(data=True)})


def relation_names(backend: Backend, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Each relation label of relation_labels (English) as a reader of `lang` reads it."""

    def build():
        g = to_networkx(backend)
        return {display_text(d["label"], RELATION_CHARS): display_text(pick(d.get("labels", {}), lang) or d["label"],
                                                                        RELATION_CHARS)
                for _, _, d in g.edges(data=True)}

    return backend.memo(f"views.relation_names.{lang}", build)


def _section_members(backend: Backend, section: str) -> set[str]:
    """Claims of a section and everything those claims are about."""
    rows = backend.select(
        f"SELECT ?c ?x WHERE {{ ?c plm:section <{PM}section-{section}> OPTIONAL {{ ?c plm:about ?x }} }}").rows
    out = {PM + f"section-{section}"}
    for c, x in rows:
        out.add(c.value)
        if x is not None:
            out.add(x.value)
    return out


def _direction_members(backend: Backend, direction: str) -> set[str]:
    """Models improving BERT in a direction, BERT itself, and the mechanisms those models use."""
    rows = backend.select(
        f"SELECT ?m ?x WHERE {{ ?m plm:improvementDirection <{PM}direction-{direction}> "
        f"OPTIONAL {{ ?x plm:usedBy ?m }} }}").rows
    out = {PM + "BERT"}
    for m, x in rows:
        out.add(m.value)
        if x is not None:
            out.add(x.value)
    return out


# How much a kind's label matters when labels compete for room: models are always labelled first.
KIND_PRIORITY = {"model": 4, "mechanism": 3, "weakness": 3, "objective": 2, "extractor": 2}


def graph_view(backend: Backend, *, kinds=DEFAULT_KINDS, relations: list[str] | None = None,
               section: str | None = None, direction: str | None = None, center: str | None = None,
               depth: int = 1, expand: tuple[str, ...] = (), include: tuple[str, ...] = (),
               only: set[str] | None = None, max_nodes: int = MAX_NODES,
               positions: dict[str, tuple[float, float]] | None = None, lang: str = DEFAULT_LANG) -> GraphView:
    """The subgraph the graph page draws, each node at its position.

    `center` (an IRI) keeps its neighbourhood to `depth` hops. `expand` (IRIs) adds the neighbours
    of those nodes, of any kind, and `include` (IRIs) adds those nodes themselves (a search hit the
    filters leave out): the filtered view is laid out alone (`layout`), and what is added is placed
    around the node it hangs from, so expanding never moves what was already drawn. `only` (IRIs)
    keeps no node outside it. `positions` (node id -> x, y) places the nodes instead of the layout.
    Labels are drawn in `lang`; `relations` names relations by their English labels, and the layout
    does not depend on the language (a view has the same shape in every language).
    """
    import networkx as nx

    nodes = index(backend)
    g = to_networkx(backend)
    keep = {n for n in g if nodes[n].kind in kinds and (only is None or n in only)}
    if section:
        keep &= _section_members(backend, section)
    if direction:
        keep &= _direction_members(backend, direction)
    if center and center in g:
        hood = nx.single_source_shortest_path_length(g.to_undirected(as_view=True), center, cutoff=depth)
        keep = (keep | {center}) & set(hood)
    base = _capped(g, keep, relations, center, nodes, max_nodes)
    extra = {n for n in include if n in g}
    for n in expand:
        if n in g:
            extra |= {n} | set(g.successors(n)) | set(g.predecessors(n))
    extra -= base.chosen
    extra = set(sorted(extra, key=lambda n: nodes[n].label)[:max(0, max_nodes - len(base.chosen))])
    chosen = base.chosen | extra
    sub = g.subgraph(chosen)
    edges = [(u, v, label) for u, v, label in _labelled(sub) if relations is None or label in relations]
    degree = {n: 0 for n in sub}
    for u, v, _ in edges:
        degree[u] += 1
        degree[v] += 1
    ordered = sorted(chosen, key=lambda n: (n != center, -degree[n], nodes[n].label))
    kinds_said = kind_names(backend, lang) if lang != DEFAULT_LANG else {}   # English tooltips say the kind's id
    out_nodes = [_drawn_node(nodes[n], degree[n], n == center, lang, kinds_said) for n in ordered]
    names = relation_names(backend, lang) if lang != DEFAULT_LANG else {}
    out_edges = [{"from": local_name(u), "to": local_name(v), "label": names.get(label, label)} for u, v, label in edges]
    if positions is None:
        positions = layout([local_name(n) for n in base.chosen],
                           [(local_name(u), local_name(v)) for u, v, _ in edges
                            if u in base.chosen and v in base.chosen])
        positions.update(_around(positions, [local_name(n) for n in extra],
                                 [(local_name(u), local_name(v)) for u, v, _ in edges],
                                 prefer=[local_name(n) for n in expand]))
    added = {local_name(n) for n in extra}
    for n in out_nodes:
        n["x"], n["y"] = positions[n["id"]]
        if n["id"] in added:
            n["added"] = True  # framed by the view it was added to, not counted in its extent
    return GraphView(out_nodes, out_edges, base.total, base.total > max_nodes, base.present)


@dataclass
class _Base:
    chosen: set[str]
    total: int
    present: list[str]


def _labelled(sub) -> list[tuple[str, str, str]]:
    return [(u, v, display_text(d["label"], RELATION_CHARS)) for u, v, d in sub.edges(data=True)]


def _capped(g, keep: set[str], relations, center, nodes, max_nodes: int) -> _Base:
    """The filtered nodes, at most `max_nodes` of them: the centre, then the best-connected."""
    sub = g.subgraph(keep)
    labelled = _labelled(sub)
    degree = {n: 0 for n in sub}
    for u, v, label in labelled:
        if relations is None or label in relations:
            degree[u] += 1
            degree[v] += 1
    ordered = sorted(sub, key=lambda n: (n != center, -degree[n], nodes[n].label))
    return _Base(set(ordered[:max_nodes]), len(sub), sorted({label for _, _, label in labelled}))


def _around(positions: dict[str, tuple[float, float]], added: list[str], edges: list[tuple[str, str]],
            radius: float = 70.0, prefer: list[str] = ()) -> dict[str, tuple[float, float]]:
    """Places for nodes added to a laid-out view: around the node it hangs from (the first of
    `prefer`, the expanded nodes, that it is joined to, else the first laid-out node in sorted
    order), on a golden-angle spiral so that siblings do not stack, or on a ring outside the view
    for a node joined to none of it. Deterministic: the same view gives the same places."""
    import math

    links: dict[str, list[str]] = {}
    for u, v in edges:
        links.setdefault(u, []).append(v)
        links.setdefault(v, []).append(u)
    out: dict[str, tuple[float, float]] = {}
    count: dict[str, int] = {}
    reach = max((math.hypot(x, y) for x, y in positions.values()), default=0.0) + 2 * radius
    for i, n in enumerate(sorted(added)):
        joined = set(links.get(n, []))
        anchor = next((a for a in [*prefer, *sorted(joined)] if a in joined and a in positions), None)
        if anchor is None:
            angle = i * 2.399963
            out[n] = (round(reach * math.cos(angle), 1), round(reach * math.sin(angle), 1))
            continue
        k = count[anchor] = count.get(anchor, 0) + 1
        ax, ay = positions[anchor]
        angle, r = k * 2.399963, radius * (1 + 0.35 * (k // 6))
        out[n] = (round(ax + r * math.cos(angle), 1), round(ay + r * math.sin(angle), 1))
    return out


def layout(ids: list[str], edges: list[tuple[str, str]], *, spacing: float = 110.0) -> dict[str, tuple[float, float]]:
    """Where each node is drawn, in pixels: the same nodes and edges give the same positions on every
    load and in every session, and nothing moves after the first draw (the browser's own physics
    took 2-34 s to settle and settled somewhere else each time).

    A force-directed layout (networkx's ForceAtlas2, with strong gravity so that a node or a small
    group without links to the rest stays in view instead of drifting off and shrinking the rest
    to a dot, and in lin-log mode, which pulls clusters apart: on the survey's default view it
    leaves room for 55 labels at the fitted zoom against 40 without) from a fixed seed, over the
    nodes and edges in sorted order, so neither the order of a query's rows nor a dict's changes
    the picture.
    """
    import networkx as nx

    if not ids:
        return {}
    g = nx.Graph()
    g.add_nodes_from(sorted(ids))
    g.add_edges_from(sorted({tuple(sorted(e)) for e in edges if e[0] != e[1]}))
    if len(g) == 1:
        return {ids[0]: (0.0, 0.0)}
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):  # linlog's log(1+d)/d on the diagonal (masked after)
        found = nx.forceatlas2_layout(g, seed=0, max_iter=300, gravity=2.0, strong_gravity=True, linlog=True)
    pos = {n: (float(x), float(y)) for n, (x, y) in found.items()}
    cx = sum(x for x, _ in pos.values()) / len(pos)
    cy = sum(y for _, y in pos.values()) / len(pos)
    radius = max(((x - cx) ** 2 + (y - cy) ** 2) ** 0.5 for x, y in pos.values()) or 1.0
    scale = spacing * len(g) ** 0.5 / radius
    return {n: (round((x - cx) * scale, 1), round((y - cy) * scale, 1)) for n, (x, y) in pos.items()}


def kind_names(backend: Backend, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Each kind of node (kg.vocab.KINDS: "model", "weakness", …) as the ontology names its class in
    `lang` (Model / 模型 / 模型), for tooltips the library writes."""
    from .nodes import property_labels

    return {name: pick(property_labels(backend, PLM + cls), lang) or name for cls, name in KINDS}


def _drawn_node(node: Node, degree: int, is_center: bool, lang: str = DEFAULT_LANG,
                kinds_said: dict[str, str] | None = None) -> dict:
    """A node as the browser draws it: label (in `lang`), tooltip (its names in both scripts of
    names), colour, size in pixels and label priority."""
    shown = node.name(lang)
    other = node.label if shown != node.label else node.labels.get("zh-Hans")
    title = display_text(shown, MAX_LABEL_CHARS)
    title += f" / {display_text(other, MAX_LABEL_CHARS)}" if other and other != shown else ""
    title += f"\n({(kinds_said or {}).get(node.kind, node.kind)})"
    return {
        "id": node.id, "label": _short(shown), "title": title, "kind": node.kind,
        "color": KIND_COLORS.get(node.kind, "#bab0ac"),
        "size": round(min(16.0, 4.0 + 1.6 * degree ** 0.5) + (2 if node.kind == "model" else 0), 1),
        "priority": KIND_PRIORITY.get(node.kind, 1) * 1000 + degree + (10_000 if is_center else 0),
    }


def _short(text: str, width: int = 28) -> str:
    """A label cut to about `width` columns: a Chinese character takes two, so a Chinese label keeps
    about half as many characters as an English one."""
    used = 0
    for i, c in enumerate(text[:width + 1]):
        used += columns(c)
        if used > width:
            return display_text(text, max(i, 1))
    return display_text(text, width)


# Which neighbours a node page draws first when it cannot draw them all.
HOOD_KIND_ORDER = ("model", "mechanism", "weakness", "objective", "extractor", "representation", "stage",
                   "direction", "organisation", "paper", "claim", "demo", "section")
HOOD_NODES = 16


def neighbourhood(backend: Backend, iri: str, max_nodes: int = HOOD_NODES, *, lang: str = DEFAULT_LANG) -> GraphView:
    """A node with its nearest neighbours, for the node page: at most `max_nodes` in all, taken in
    turns from each kind (a model, a mechanism, a weakness, an objective, …, a claim, a demo, a
    section, then the next model …), within a kind by how many relations join them to the node,
    then by name, so that a node with thirteen descendants still shows its mechanisms. `total_nodes` counts every
    neighbour, so that the page can say how many it left out."""
    g = to_networkx(backend)
    if iri not in g:
        return GraphView([], [], 0, False)
    nodes = index(backend)
    joins: dict[str, int] = {}
    for _, v in g.out_edges(iri):
        joins[v] = joins.get(v, 0) + 1
    for u, _ in g.in_edges(iri):
        joins[u] = joins.get(u, 0) + 1
    joins.pop(iri, None)
    order = {k: i for i, k in enumerate(HOOD_KIND_ORDER)}
    groups: dict[int, list[str]] = {}
    for n in sorted(joins, key=lambda n: (-joins[n], nodes[n].label.casefold())):
        groups.setdefault(order.get(nodes[n].kind, len(order)), []).append(n)
    ranked = [n for round_ in itertools.zip_longest(*(groups[k] for k in sorted(groups))) for n in round_ if n]
    shown = ranked[:max_nodes - 1]
    # A star, drawn as one: the node in the middle, its neighbours around it grouped by kind (in the
    # order of HOOD_KIND_ORDER), on an ellipse wider than tall like the panel that shows it.
    ring = sorted(shown, key=lambda n: (order.get(nodes[n].kind, len(order)), nodes[n].label.casefold()))
    place = {local_name(iri): (0.0, 0.0)}
    for i, n in enumerate(ring):
        angle = -math.pi / 2 + 2 * math.pi * i / max(1, len(ring))
        place[local_name(n)] = (round(420 * math.cos(angle), 1), round(200 * math.sin(angle), 1))
    view = graph_view(backend, kinds=tuple(KIND_COLORS), only={iri, *shown}, center=iri, depth=1,
                      max_nodes=max_nodes, positions=place, lang=lang)
    return GraphView(view.nodes, view.edges, len(joins) + 1, len(joins) + 1 > max_nodes, view.relations)


def triples_view(triples) -> GraphView:
    """CONSTRUCT/DESCRIBE results as a drawable graph (literals become small grey nodes)."""
    nodes: dict[str, dict] = {}
    edges = []

    def add(term) -> str:
        key = term.n3()
        if key not in nodes:
            kind = "literal" if term.kind == "literal" else "resource"
            label = term.display()
            # the id goes to the browser with every node: a long term gets a short one of its own
            vis_id = key if len(key) <= MAX_TEXT_CHARS else f"_:long-term-{len(nodes)}"
            nodes[key] = {"id": vis_id, "label": _short(label), "title": display_text(label), "kind": kind,
                          "color": "#bdbdbd" if kind == "literal" else KIND_COLORS["model"],
                          "size": 4 if kind == "literal" else 7, "priority": 1 if kind == "literal" else 2}
        return key

    for s, p, o in triples:
        relation = display_text(p.display(), RELATION_CHARS)
        edges.append({"from": add(s), "to": add(o), "label": relation})
    capped = len(nodes) > MAX_NODES
    keep = set(list(nodes)[:MAX_NODES])
    kept = [n for k, n in nodes.items() if k in keep]
    ids = {k: n["id"] for k, n in nodes.items()}
    drawn = [dict(e, **{"from": ids[e["from"]], "to": ids[e["to"]]}) for e in edges
             if e["from"] in keep and e["to"] in keep]
    positions = layout([n["id"] for n in kept], [(e["from"], e["to"]) for e in drawn])
    for n in kept:
        n["x"], n["y"] = positions[n["id"]]
    return GraphView(kept, drawn, len(nodes), capped)


# ---------------------------------------------------------------------------------------------
# Compare and Questions: the survey's own views (the family tree is kg/family.py), generated from the graph
# ---------------------------------------------------------------------------------------------

# (row key, predicate, direction): "out" reads ?model pred ?x, "in" reads ?x pred ?model
COMPARE_DIMENSIONS = (
    ("extractor", "plm:featureExtractor", "out"),
    ("objective", "plm:objective", "out"),
    ("representation", "plm:representation", "out"),
    ("direction", "plm:improvementDirection", "out"),
    ("organisation", "dcterms:creator", "out"),
    ("improves_on", "plm:improvesOn", "out"),
    ("mechanisms", "plm:introducedBy", "in"),
    ("weaknesses", "plm:hasWeakness", "out"),
)
# Column titles of the comparison table, in order (the keys of compare_records' rows).
COMPARE_COLUMNS = {
    "model": "Model", "model_zh": "模型", "year": "Year", "extractor": "Feature extractor",
    "objective": "Objective", "representation": "Representation", "direction": "Improvement direction",
    "organisation": "Organisation", "improves_on": "Improves on", "mechanisms": "Key mechanisms",
    "weaknesses": "Weaknesses", "page": "Page",
}
# The dimensions the Compare page filters on (multi-select; a row matches if any of its values is chosen).
COMPARE_FILTERS = ("extractor", "objective", "representation", "direction", "organisation")
MULTI_SEPARATOR = "; "
NO_VALUE = "(none)"


def node_path(node_id: str) -> str:
    """The node page's permalink, `/node?node=<id>`."""
    return f"/node?node={_quote(node_id, safe='')}"


def _year(text: str | None) -> int | None:
    match = _re.match(r"-?\d{1,4}", text or "")
    return int(match.group()) if match else None


def compare_rows(backend: Backend) -> list[dict]:
    """One row per model with the survey's dimensions, sorted by year then name.

    Each dimension holds a list of English labels (sorted) and `<dim>_ids` the node ids behind them;
    `mechanisms` are those the model introduces, `weaknesses` those the graph gives it.
    """

    def build() -> list[dict]:
        nodes = index(backend)
        models = backend.select(
            "SELECT ?m ?year WHERE { ?m a plm:Model OPTIONAL { ?m dcterms:issued ?year } }").rows
        rows: dict[str, dict] = {}
        for m, year in models:
            node = nodes.get(m.value) or Node(m.value)
            row = rows.setdefault(m.value, {
                "id": node.id, "iri": node.iri, "model": node.label, "model_zh": node.labels.get("zh-Hans", ""),
                "year": None, "page": node_path(node.id),
                "model_names": {lang: node.name(lang) for lang in LANGUAGES},
            })
            y = _year(year.value if year is not None else None)
            if y is not None and (row["year"] is None or y < row["year"]):
                row["year"] = y
        values: dict[tuple[str, str], set[str]] = {}
        for key, pred, way in COMPARE_DIMENSIONS:
            pattern = "?m " + pred + " ?x" if way == "out" else "?x " + pred + " ?m"
            for m, x in backend.select(f"SELECT ?m ?x WHERE {{ ?m a plm:Model . {pattern} FILTER(isIRI(?x)) }}").rows:
                if m.value in rows:
                    values.setdefault((m.value, key), set()).add(x.value)
        for iri, row in rows.items():
            for key, _, _ in COMPARE_DIMENSIONS:
                targets = [nodes.get(x) or Node(x) for x in values.get((iri, key), ())]
                targets.sort(key=lambda n: (n.label.casefold(), n.id))
                row[key] = [n.label for n in targets]
                row[key + "_ids"] = [n.id for n in targets]
                row[key + "_names"] = {lang: [n.name(lang) for n in targets] for lang in LANGUAGES}
                # what a search finds them by besides the English: their Chinese labels and aliases
                row.setdefault("names", []).extend(name for n in targets
                                                   for name in [*n.labels.values(), *n.alt_labels])
        return sorted(rows.values(), key=lambda r: (r["year"] is None, r["year"] or 0, r["model"].casefold()))

    return backend.memo("views.compare_rows", build)


def compare_options(rows: list[dict]) -> dict[str, list[str]]:
    """The values each filterable dimension takes, sorted (for the filter widgets): English labels,
    whatever the page's language (compare_option_names says them in another)."""
    return {key: sorted({v for r in rows for v in r[key]}, key=str.casefold) for key in COMPARE_FILTERS}


def compare_option_names(rows: list[dict], lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Each value of compare_options (an English label) as a reader of `lang` reads it."""
    return {en: name for r in rows for key in COMPARE_FILTERS for en, name in zip(r[key], r[key + "_names"][lang])}


def _row_text(row: dict) -> tuple[str, str]:
    """A row's text as a search compares it: folded, and (lazily) the pinyin of its Chinese."""
    parts = [row["model"], row["model_zh"], row["id"], str(row["year"] or "")]
    for key, _, _ in COMPARE_DIMENSIONS:
        parts.extend(row[key])
    parts.extend(row.get("names", []))
    text = " | ".join(p[:MAX_TEXT_CHARS] for p in parts)
    return _normalize(text), _Spoken(text)


def filter_compare(rows: list[dict], *, text: str = "", years: tuple[int, int] | None = None,
                   **chosen) -> list[dict]:
    """The rows that match every filter: `chosen` maps a dimension of COMPARE_FILTERS to the values
    allowed (empty = no filter); `years` is an inclusive range; `text` matches any cell (any case;
    only its first MAX_INPUT_CHARS characters)."""
    unknown = set(chosen) - set(COMPARE_FILTERS)
    if unknown:
        raise ValueError(f"unknown filter(s): {', '.join(sorted(unknown))}")
    query = _normalize(text[:MAX_INPUT_CHARS])
    out = []
    for row in rows:
        if any(allowed and not set(allowed) & set(row[key]) for key, allowed in chosen.items()):
            continue
        if years is not None and (row["year"] is None or not years[0] <= row["year"] <= years[1]):
            continue
        if query and not _finds(text[:MAX_INPUT_CHARS], *_row_text(row)):
            continue
        out.append(row)
    return out


def compare_records(rows: list[dict], *, limit: int | None = None, lang: str = DEFAULT_LANG) -> list[dict]:
    """The table's rows: COMPARE_COLUMNS' keys, multi-valued cells joined with '; '. With `limit`,
    text cells are cut to that many characters and their control characters escaped (for the page;
    the downloads keep every character). In another language than English the cells name the
    nodes in it, and the "model_zh" column holds the model's English name instead."""
    out = []
    for row in rows:
        rec = {}
        for key in COMPARE_COLUMNS:
            value = row[key]
            if lang != DEFAULT_LANG:
                if key == "model":
                    value = row["model_names"][lang]
                elif key == "model_zh":
                    value = row["model"]
                elif key + "_names" in row:
                    value = row[key + "_names"][lang]
            value = MULTI_SEPARATOR.join(value) if isinstance(value, list) else value
            rec[key] = display_text(value, limit) if limit is not None and isinstance(value, str) else value
        out.append(rec)
    return out


def compare_csv(rows: list[dict]) -> str:
    """The table as CSV with the column titles as header; formula-like cells are quoted."""
    buf = _io.StringIO()
    writer = _csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COMPARE_COLUMNS.values())
    for rec in compare_records(rows):
        writer.writerow([guard_cell(rec[k]) for k in COMPARE_COLUMNS])
    return buf.getvalue()


def compare_json(rows: list[dict]) -> str:
    """The rows as JSON: lists stay lists, with the node ids beside the labels."""
    return _json.dumps(rows, ensure_ascii=False, indent=2)


@dataclass
class DemoRef:
    id: str          # the registry id, e.g. "causal-lm"
    node_id: str     # its node, "demo-causal-lm"
    title: str
    title_zh: str = ""


@dataclass
class ClaimView:
    id: str
    iri: str
    text: str                                   # in English
    papers: list[tuple[str, str, str | None]]   # (iri, title, arXiv id)
    entities: list[Node]
    demos: list[DemoRef]
    texts: dict[str, str] = field(default_factory=dict)   # lang -> statement

    def text_in(self, lang: str = DEFAULT_LANG) -> str:
        return pick(self.texts, lang) or self.text


@dataclass
class SectionView:
    id: str                       # "Q1" … "Q18", "future"
    iri: str
    position: int
    label: str                    # in English
    question: dict[str, str]      # lang -> question ("en", "zh-Hans", "zh-Hant")
    claims: list[ClaimView]
    labels: dict[str, str] = field(default_factory=dict)  # lang -> title
    survey_heading: str = ""      # the survey's own words for the question (plm:surveyCitation)

    @property
    def node_id(self) -> str:
        return local_name(self.iri)

    def name(self, lang: str = DEFAULT_LANG) -> str:
        return pick(self.labels, lang) or self.label

    def question_in(self, lang: str = DEFAULT_LANG) -> str:
        return pick(self.question, lang) or ""


_ARXIV_ID = _re.compile(r"^(\d{4}\.\d{4,5}|[a-z][a-z.-]*/\d{7})(v\d+)?$", _re.I)


def arxiv_url(arxiv_id: str | None) -> str | None:
    """https://arxiv.org/abs/<id> for a well-formed arXiv id, None for anything else."""
    if not arxiv_id or not _ARXIV_ID.match(arxiv_id.strip()):
        return None
    return f"https://arxiv.org/abs/{arxiv_id.strip()}"


def sections(backend: Backend) -> list[SectionView]:
    """The survey's sections in reading order (schema:position) with their questions in English and
    Chinese, and each section's claims (in claim order) with the entities they are about and the
    demos that check them."""

    def build() -> list[SectionView]:
        nodes = index(backend)
        found: dict[str, SectionView] = {}
        for s, sid, pos in backend.select(
                "SELECT ?s ?id ?pos WHERE { ?s a plm:Section ; dcterms:identifier ?id "
                "OPTIONAL { ?s schema:position ?pos } }").rows:
            position = int(pos.value) if pos is not None and pos.value.lstrip("-").isdigit() else 10_000
            node = nodes.get(s.value) or Node(s.value)
            found.setdefault(s.value, SectionView(sid.value, s.value, position, node.label, {}, [],
                                                  dict(node.labels)))
        for s, h in backend.select("SELECT ?s ?h WHERE { ?s a plm:Section ; plm:surveyCitation ?h }").rows:
            if s.value in found and not found[s.value].survey_heading:
                found[s.value].survey_heading = h.value
        for s, q in backend.select("SELECT ?s ?q WHERE { ?s a plm:Section ; plm:question ?q }").rows:
            if s.value in found:
                found[s.value].question.setdefault(spelling(q.lang) or "en", q.value)
        about: dict[str, list[Node]] = {}
        for c, x in backend.select("SELECT ?c ?x WHERE { ?c a plm:Claim ; plm:about ?x FILTER(isIRI(?x)) }").rows:
            about.setdefault(c.value, []).append(nodes.get(x.value) or Node(x.value))
        demos: dict[str, list[DemoRef]] = {}
        for c, d, did, title in backend.select(
                "SELECT ?c ?d ?did ?t WHERE { ?c plm:checkedBy ?d . ?d a plm:Demo "
                "OPTIONAL { ?d plm:demoId ?did } "
                "OPTIONAL { ?d skos:prefLabel ?t FILTER(langMatches(lang(?t), 'en')) } }"
        ).rows:
            node = nodes.get(d.value) or Node(d.value)
            ref = DemoRef(did.value if did is not None else node.id.removeprefix("demo-"), node.id,
                          title.value if title is not None else node.label, node.labels.get("zh-Hans", ""))
            if all(r.node_id != ref.node_id for r in demos.get(c.value, [])):
                demos.setdefault(c.value, []).append(ref)
        by_id = {sec.id: sec for sec in found.values()}
        for ref in sorted(_claims(backend).values(), key=_claim_sort_key):
            sec = by_id.get(ref.section)
            if sec is None:
                continue
            entities = sorted(about.get(ref.iri, []), key=lambda n: (n.label.casefold(), n.id))
            sec.claims.append(ClaimView(ref.id, ref.iri, ref.text, sorted(ref.papers, key=lambda p: p[1]),
                                        entities, sorted(demos.get(ref.iri, []), key=lambda r: r.id),
                                        dict(ref.texts)))
        return sorted(found.values(), key=lambda s: (s.position, s.id))

    return backend.memo("views.sections", build)


def find_section(secs: list[SectionView], name: str | None) -> str | None:
    """The id of the section `name` means ("Q17", "q17", "17", "section-Q17", "future"), or None
    (also for a name longer than MAX_INPUT_CHARS, which no section has)."""
    if not name or len(name) > MAX_INPUT_CHARS:
        return None
    key = name.strip().casefold().removeprefix("section-")
    for sec in secs:
        if key in (sec.id.casefold(), sec.id.casefold().removeprefix("q")):
            return sec.id
    return None


def _claim_text(claim: ClaimView) -> tuple[str, str]:
    """A claim's text as a search compares it (folded, and pinyin): its statement, its entities by
    every label and alias, its papers and demos."""
    parts = [claim.id, claim.text, *claim.texts.values()] + [p[1] for p in claim.papers]
    parts += [name for n in claim.entities for name in [n.label, *n.labels.values(), *n.alt_labels]]
    parts += [d.title for d in claim.demos] + [d.id for d in claim.demos]
    text = " | ".join(p[:MAX_TEXT_CHARS] for p in parts)
    return _normalize(text), _Spoken(text)


def filter_sections(secs: list[SectionView], *, section: str | None = None, text: str = "") -> list[SectionView]:
    """The sections to show: one (`section`, an id) or all; with `text`, only the claims whose id,
    statement, entities, papers or demos contain it (a section whose question matches keeps all its
    claims), and only sections left with something to show. Only the first MAX_INPUT_CHARS
    characters of `text` are searched for."""
    query = _normalize(text[:MAX_INPUT_CHARS])
    out = []
    for sec in secs:
        if section and sec.id != section:
            continue
        if not query:
            out.append(sec)
            continue
        question = " | ".join(p[:MAX_TEXT_CHARS] for p in [sec.id, sec.label, *sec.labels.values(),
                                                            *sec.question.values(), sec.survey_heading])
        asked = text[:MAX_INPUT_CHARS]
        kept = (sec.claims if _finds(asked, _normalize(question), _Spoken(question))
                else [c for c in sec.claims if _finds(asked, *_claim_text(c))])
        if kept:
            out.append(SectionView(sec.id, sec.iri, sec.position, sec.label, sec.question, kept, sec.labels,
                                   sec.survey_heading))
    return out
