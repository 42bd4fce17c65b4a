"""The family tree of the models (the explorer's Family tree page), computed from the graph.

    tree = family_tree(backend, group="direction")     # or "objective", "extractor"
    tree.models   # each model at the month of its paper: year, month, `t` (months), `x` on the axis, lane
    tree.lanes    # horizontal lanes, top to bottom: the survey's improvement directions (or objectives,
                  # or feature extractors), and for models with none a lane named for their role
    tree.links    # every improves-on link, drawn from the model improved on to the model that improves
                  # on it (forward in time), with the mechanisms that carry it and the claims behind it
    tree.axis     # the time axis: true time (distance ∝ months) from `dense_from`, and before it one
                  # compressed stretch (still linear in time), which the drawing marks as a break

A model's date is the month of its paper (`dcterms:date`, xsd:gYearMonth, on the paper node); a model
whose paper has none is placed in the middle of its year (`dcterms:issued`) with `month = None`.

Why a link holds is what the graph says, nothing more: the mechanisms the newer model uses
(`plm:usedBy`, `plm:introducedBy`) that the older one does not, first those that address or ease
(`plm:addresses`, `plm:eases`) a weakness of the older model (its own `plm:hasWeakness`, or one of a
mechanism, objective or extractor it has); and the claims that back the link (`plm:backs` a statement
of it) or that are about both models (`plm:about`).

No Streamlit, and no interface words: roles and relations are keys that the page words from its
message catalogue. Everything is sorted, so the same graph gives the same tree; labels are cut and
their control characters escaped with kg.limits.display_text.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .backends import Backend
from .language import DEFAULT as DEFAULT_LANG
from .limits import MAX_LABEL_CHARS, display_text
from .nodes import Node, claim_sort_key, claims, index
from .vocab import local_name
from .views import compare_rows

GROUPS = ("direction", "objective", "extractor")
LABEL_CHARS = 32           # a model's label as drawn
LANE_CHARS = 40            # a lane's name
TERM_CHARS = 80            # a mechanism's or weakness's name in a tooltip
CLAIM_CHARS = 280          # a claim's statement in a tooltip
MAX_MODELS = 150           # a larger graph draws its best-linked models (the page says so)
DENSE_GAP_MONTHS = 12      # the true-time stretch is the latest run of papers at most this far apart
COMPRESSED_SHARE = 0.15    # of the axis, for the compressed stretch before the break
BREAK_SHARE = 0.03         # of the axis, the gap that marks the break
# Lane colours: Tableau 10 for the groups' values, greys for the roles.
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7",
           "#9c755f", "#17becf", "#bcbd22", "#8c564b")
ROLE_COLOURS = {"foundations": "#8a8a8a", "after_hub": "#6f6f6f", "up_to_hub": "#3b3b3b", "none": "#8a8a8a",
                "other": "#6f6f6f"}
ROLES = ("foundations", "after_hub", "up_to_hub", "other", "none")   # their order, top to bottom

_PART_ORDER = ("mechanism", "objective", "extractor")
_YEAR_MONTH = re.compile(r"^(-?\d{1,4})-(\d{2})")
_YEAR = re.compile(r"^-?\d{1,4}")


@dataclass
class Lane:
    key: str                  # a node id (a direction, objective, extractor) or a role
    kind: str                 # "value" or "role"
    label: str                # the value's English label, cut; for a role, its key (the page words it)
    colour: str
    hub: str | None = None    # for the roles up_to_hub / after_hub: the hub model's label


@dataclass
class Place:
    id: str
    iri: str
    label: str                # cut to LABEL_CHARS for the drawing
    name: str                 # cut to MAX_LABEL_CHARS for tooltips and lists
    year: int
    month: int | None         # None: the paper has no month in the graph
    t: float                  # months since year 0 (mid-year when the month is unknown)
    x: float                  # 0..1 along the axis
    lane: str                 # a Lane.key
    also: list[str]           # the other lanes' keys the model belongs to (several directions)
    colour: str
    facts: dict[str, list[str]]   # objective, extractor, direction, organisation: English labels, cut
    improves_on: list[str]        # ids
    improved_on_by: list[str]     # ids


@dataclass
class Fix:
    mechanism: str            # label, cut
    mechanism_id: str
    introduced: bool          # the newer model introduces it (not only uses it)
    # the older model's weaknesses it fixes: (relation "addresses" or "eases", weakness label, label of
    # what holds the weakness, its role): the holder is the older model itself (role "") or a
    # mechanism, objective or extractor it has; empty when the graph says it fixes none of them
    weaknesses: list[tuple[str, str, str, str]]

    @property
    def fixes(self) -> bool:
        return bool(self.weaknesses)


@dataclass
class ClaimNote:
    id: str
    text: str
    backs: bool               # True: it backs the link itself; False: it is about both models


@dataclass
class Link:
    source: str               # the model improved on (the arrow starts here)
    target: str               # the model that improves on it (the arrowhead is here)
    mechanisms: list[Fix]
    claims: list[ClaimNote]


@dataclass
class Tick:
    x: float
    year: int
    month: int                # 1 = a year's start (labelled with the year), 4/7/10 = a quarter, else a month
    compressed: bool


@dataclass
class Axis:
    start: float              # months, the axis's left end
    end: float                # months, its right end
    dense_from: int | None    # the year from which the axis is true time; None: no break
    break_x: tuple[float, float] | None   # the gap that marks the break, on 0..1
    ticks: list[Tick]


@dataclass
class FamilyTree:
    group: str
    models: list[Place]       # by date, then label
    lanes: list[Lane]         # top to bottom, only lanes with a model
    links: list[Link]         # sorted by (target's date, source's date, ids)
    axis: Axis
    undated: list[str] = field(default_factory=list)   # ids of models with no year at all (not drawn)
    total: int = 0            # dated models before the cap
    hub: str | None = None    # the id of the model most of the directional models improve on (BERT)


def _month_of(text: str | None) -> tuple[int, int] | None:
    m = _YEAR_MONTH.match(text or "")
    if m and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2))
    return None


def _year_of(text: str | None) -> int | None:
    m = _YEAR.match(text or "")
    return int(m.group()) if m else None


def months(year: int, month: int | None) -> float:
    """A date as months since year 0: the middle of the month, or of the year when the month is unknown."""
    return year * 12 + (month - 0.5 if month else 6.0)


def paper_dates(backend: Backend) -> dict[str, tuple[int, int]]:
    """Each model's (year, month) from its paper's dcterms:date (the earliest, if it has several)."""

    def build() -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for m, d in backend.select(
                "SELECT ?m ?d WHERE { ?m a plm:Model ; plm:paper ?p . ?p dcterms:date ?d }").rows:
            ym = _month_of(d.value)
            if ym is not None and (m.value not in out or ym < out[m.value]):
                out[m.value] = ym
        return out

    return backend.memo("family.paper_dates", build)


def _axis(ts: list[float]) -> Axis:
    """The axis over these dates (months): true time over the latest run of papers at most
    DENSE_GAP_MONTHS apart, from the January of its first; before that one compressed stretch."""
    if not ts:
        return Axis(0.0, 12.0, None, None, [])
    ts = sorted(set(ts))
    first = len(ts) - 1
    while first > 0 and ts[first] - ts[first - 1] <= DENSE_GAP_MONTHS:
        first -= 1
    dense_from = math.floor(ts[first] / 12)
    start = math.floor(ts[0] / 12) * 12
    end = math.floor(ts[-1]) + 2.0        # a month and a half past the last paper's middle
    if dense_from * 12 <= start:
        dense_from = None
    axis = Axis(float(start), end, dense_from, None, [])
    if dense_from is not None:
        axis.break_x = (COMPRESSED_SHARE, COMPRESSED_SHARE + BREAK_SHARE)
    first_tick_year = dense_from if dense_from is not None else start // 12
    for year in range(int(first_tick_year), int(end // 12) + 1):
        for month in range(1, 13):
            m = year * 12 + month - 1
            if axis.start <= m <= end and (dense_from is None or m >= dense_from * 12):
                axis.ticks.append(Tick(round(position(axis, m), 6), year, month, False))
    if dense_from is not None:
        years = sorted({math.floor(t / 12) for t in ts if t < dense_from * 12} | {int(start // 12)})
        axis.ticks[:0] = [Tick(round(position(axis, y * 12), 6), y, 1, True) for y in years]
    return axis


def position(axis: Axis, t: float) -> float:
    """Where a date (months) falls on the axis, 0..1: linear in time on each side of the break."""
    if axis.dense_from is None:
        return (t - axis.start) / ((axis.end - axis.start) or 1.0)
    split = axis.dense_from * 12
    if t < split:
        return COMPRESSED_SHARE * (t - axis.start) / ((split - axis.start) or 1.0)
    lo = COMPRESSED_SHARE + BREAK_SHARE
    return lo + (1 - lo) * (t - split) / ((axis.end - split) or 1.0)


def _facts(row: dict, lang: str = DEFAULT_LANG) -> dict[str, list[str]]:
    return {key: [display_text(v, TERM_CHARS) for v in row[key + "_names"][lang]]
            for key in ("objective", "extractor", "direction", "organisation")}


def _usage(backend: Backend) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per model, the mechanisms it uses, and those it introduces."""

    def build():
        used: dict[str, set[str]] = {}
        introduced: dict[str, set[str]] = {}
        for x, m, p in backend.select(
                "SELECT ?x ?m ?p WHERE { VALUES ?p { plm:usedBy plm:introducedBy } ?x ?p ?m . ?m a plm:Model . "
                "?x a plm:Mechanism }").rows:
            used.setdefault(m.value, set()).add(x.value)
            if p.value.endswith("introducedBy"):
                introduced.setdefault(m.value, set()).add(x.value)
        return used, introduced

    return backend.memo("family.usage", build)


def _weakness_facts(backend: Backend):
    """Who has which weakness, what each model is made of, and what addresses or eases what."""

    def build():
        has: dict[str, set[str]] = {}
        for s, w in backend.select("SELECT ?s ?w WHERE { ?s plm:hasWeakness ?w FILTER(isIRI(?w)) }").rows:
            has.setdefault(s.value, set()).add(w.value)
        parts: dict[str, dict[str, str]] = {}   # model -> part -> its role: mechanism, objective, extractor
        for m, x, role in sorted(backend.select(
                "SELECT ?m ?x ?role WHERE { ?m a plm:Model . { ?x plm:usedBy ?m BIND('mechanism' AS ?role) } "
                "UNION { ?m plm:objective ?x BIND('objective' AS ?role) } "
                "UNION { ?m plm:featureExtractor ?x BIND('extractor' AS ?role) } FILTER(isIRI(?x)) }").rows,
                key=lambda r: (r[0].value, r[1].value, _PART_ORDER.index(r[2].value))):
            parts.setdefault(m.value, {}).setdefault(x.value, role.value)
        fixes: dict[str, dict[str, str]] = {}
        for x, p, w in backend.select(
                "SELECT ?x ?p ?w WHERE { VALUES ?p { plm:addresses plm:eases } ?x ?p ?w FILTER(isIRI(?w)) }").rows:
            rel = "addresses" if p.value.endswith("addresses") else "eases"
            if fixes.setdefault(x.value, {}).get(w.value) != "addresses":
                fixes[x.value][w.value] = rel
        return has, parts, fixes

    return backend.memo("family.weaknesses", build)


def _claims_of_links(backend: Backend):
    """Claims backing each improves-on statement, and the models each claim is about."""

    def build():
        backs: dict[tuple[str, str], set[str]] = {}
        for c, s, o in backend.select(
                "SELECT ?c ?s ?o WHERE { ?c plm:backs ?st . ?st rdf:subject ?s ; rdf:predicate plm:improvesOn ; "
                "rdf:object ?o }").rows:
            backs.setdefault((s.value, o.value), set()).add(c.value)
        about: dict[str, set[str]] = {}
        for c, x in backend.select("SELECT ?c ?x WHERE { ?c a plm:Claim ; plm:about ?x . ?x a plm:Model }").rows:
            about.setdefault(x.value, set()).add(c.value)
        return backs, about

    return backend.memo("family.claims", build)


def _link(backend: Backend, newer: str, older: str, nodes: dict[str, Node], lang: str = DEFAULT_LANG) -> Link:
    used, introduced = _usage(backend)
    has, parts, fixes = _weakness_facts(backend)
    backs, about = _claims_of_links(backend)
    label = lambda iri, n=TERM_CHARS: display_text((nodes.get(iri) or Node(iri)).name(lang), n)  # noqa: E731
    # the older model's weaknesses, each with what holds it (the model itself first)
    held: dict[str, tuple[str, str]] = {}    # weakness -> (holder's label, its role; "" for the model itself)
    mine = parts.get(older, {})
    for holder in [older] + sorted(mine, key=lambda i: (_PART_ORDER.index(mine[i]), label(i).casefold(), i)):
        for w in has.get(holder, ()):
            held.setdefault(w, (label(holder), mine.get(holder, "") if holder != older else ""))
    mechanisms = []
    for x in used.get(newer, set()) - used.get(older, set()):
        fixed = sorted((w for w in fixes.get(x, {}) if w in held),
                       key=lambda w: (fixes[x][w] != "addresses", label(w).casefold(), w))
        mechanisms.append(Fix(label(x), local_name(x), x in introduced.get(newer, set()),
                              [(fixes[x][w], label(w), *held[w]) for w in fixed]))
    mechanisms.sort(key=lambda f: (not f.fixes, not f.introduced, f.mechanism.casefold(), f.mechanism_id))
    refs = claims(backend)
    backing = backs.get((newer, older), set())
    both = (about.get(newer, set()) & about.get(older, set())) - backing
    chosen = sorted((c for c in backing | both if c in refs), key=lambda c: (c not in backing, claim_sort_key(refs[c]), c))
    notes = [ClaimNote(refs[c].id, display_text(refs[c].text_in(lang), CLAIM_CHARS), c in backing) for c in chosen]
    return Link(local_name(older), local_name(newer), mechanisms, notes)


def family_tree(backend: Backend, group: str = "direction", *, max_models: int = MAX_MODELS,
                lang: str = DEFAULT_LANG) -> FamilyTree:
    """The tree with lanes by `group` (one of GROUPS), its names and tooltips' facts in `lang`; the
    arrangement (lanes, their order and colours, the models' order) is the same in every language.
    Memoised per backend, group and language."""
    if group not in GROUPS:
        raise ValueError(f"unknown grouping {group!r}: one of {', '.join(GROUPS)}")
    return backend.memo(f"family.tree.{group}.{max_models}.{lang}", lambda: _build(backend, group, max_models, lang))


def _build(backend: Backend, group: str, max_models: int, lang: str = DEFAULT_LANG) -> FamilyTree:
    nodes = index(backend)
    rows = {r["iri"]: r for r in compare_rows(backend)}
    dates = paper_dates(backend)
    dated: dict[str, tuple[int, int | None]] = {}
    undated = []
    for iri, row in rows.items():
        if iri in dates:
            dated[iri] = dates[iri]
        elif row["year"] is not None:
            dated[iri] = (row["year"], None)
        else:
            undated.append(row["id"])
    total = len(dated)
    iri_of = {row["id"]: iri for iri, row in rows.items()}
    links_all = sorted({(iri, iri_of[b]) for iri in dated for b in rows[iri]["improves_on_ids"]
                        if iri_of.get(b) in dated and iri_of[b] != iri})
    if len(dated) > max_models:  # keep the best-linked models, then the earliest
        degree = {iri: 0 for iri in dated}
        for a, b in links_all:
            degree[a] += 1
            degree[b] += 1
        keep = sorted(dated, key=lambda i: (-degree[i], months(*dated[i]), i))[:max_models]
        dated = {i: dated[i] for i in keep}
        links_all = [(a, b) for a, b in links_all if a in dated and b in dated]
    t_of = {iri: months(*ym) for iri, ym in dated.items()}
    axis = _axis(list(t_of.values()))

    # the hub: the model that most models with a direction improve on (BERT in the survey)
    directional = {iri for iri in dated if rows[iri]["direction_ids"]}
    votes: dict[str, int] = {}
    for a, b in links_all:
        if a in directional:
            votes[b] = votes.get(b, 0) + 1
    hub = min(votes, key=lambda i: (-votes[i], t_of[i], i)) if votes else None
    hub_label = display_text(rows[hub]["model_names"][lang], LANE_CHARS) if hub else None

    # lanes: a model goes in the lane of its rarest value (the most specific), the others are `also`
    value_ids = {iri: sorted(rows[iri][group + "_ids"]) for iri in dated}
    count: dict[str, int] = {}
    for values in value_ids.values():
        for v in values:
            count[v] = count.get(v, 0) + 1
    value_label, value_shown = {}, {}   # English (which orders the lanes in every language), and in `lang`
    for iri in dated:
        for v, text, shown in zip(rows[iri][group + "_ids"], rows[iri][group], rows[iri][group + "_names"][lang]):
            value_label[v], value_shown[v] = text, shown
    lane_of: dict[str, str] = {}
    also: dict[str, list[str]] = {}
    for iri, values in value_ids.items():
        if values:
            ordered = sorted(values, key=lambda v: (count[v], value_label[v].casefold(), v))
            lane_of[iri], also[iri] = ordered[0], ordered[1:]
        else:
            also[iri] = []
            if group != "direction":
                lane_of[iri] = "none"
            elif axis.dense_from is not None and t_of[iri] < axis.dense_from * 12:
                lane_of[iri] = "foundations"
            elif hub is None:
                lane_of[iri] = "other"
            else:
                lane_of[iri] = "up_to_hub" if t_of[iri] <= t_of[hub] else "after_hub"
    first_t: dict[str, float] = {}
    for iri, lane in lane_of.items():
        first_t[lane] = min(first_t.get(lane, math.inf), t_of[iri])
    value_lanes = sorted((k for k in first_t if k not in ROLES),
                         key=lambda k: (first_t[k], value_label[k].casefold(), k))
    role_lanes = [r for r in ROLES if r in first_t]
    order = role_lanes + value_lanes if group == "direction" else value_lanes + role_lanes
    lanes = []
    colours: dict[str, str] = {}
    for i, key in enumerate(value_lanes):
        colours[key] = PALETTE[i % len(PALETTE)]
    for key in sorted(value_label, key=lambda k: (value_label[k].casefold(), k)):
        colours.setdefault(key, PALETTE[len(colours) % len(PALETTE)])   # a value met only in `also`
    for key in order:
        if key in ROLES:
            lanes.append(Lane(key, "role", key, ROLE_COLOURS[key],
                              hub_label if key in ("up_to_hub", "after_hub") else None))
        else:
            lanes.append(Lane(local_name(key), "value", display_text(value_shown[key], LANE_CHARS), colours[key]))

    improved_by: dict[str, list[str]] = {}
    for a, b in links_all:
        improved_by.setdefault(b, []).append(local_name(a))
    places = []
    for iri, (year, month) in dated.items():
        row = rows[iri]
        lane = lane_of[iri]
        places.append(Place(
            id=row["id"], iri=iri, label=display_text(row["model_names"][lang], LABEL_CHARS),
            name=display_text(row["model_names"][lang], MAX_LABEL_CHARS), year=year, month=month, t=t_of[iri],
            x=round(position(axis, t_of[iri]), 6), lane=lane if lane in ROLES else local_name(lane),
            also=[local_name(v) for v in also[iri]],
            colour=ROLE_COLOURS[lane] if lane in ROLES else colours[lane], facts=_facts(row, lang),
            improves_on=sorted(local_name(b) for a, b in links_all if a == iri),  # drawn ones only
            improved_on_by=sorted(improved_by.get(iri, [])),
        ))
    places.sort(key=lambda p: (p.t, rows[p.iri]["model"].casefold(), p.id))
    links = [_link(backend, a, b, nodes, lang) for a, b in links_all]
    links.sort(key=lambda k: (t_of[iri_of[k.target]], t_of[iri_of[k.source]], k.target, k.source))
    return FamilyTree(group, places, lanes, links, axis, sorted(undated), total, local_name(hub) if hub else None)
