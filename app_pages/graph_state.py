"""The graph page's state as it lives in the address, so that every view has a permalink.

    /?kinds=model,mechanism&rel=improves+on&rel=uses&section=Q17&direction=masking
      &q=permutation&focus=XLNet&center=BERT&depth=2&expand=XLNet

| parameter   | what it holds                                                       | default                  |
|-------------|---------------------------------------------------------------------|--------------------------|
| `kinds`     | the kinds drawn, comma-separated                                    | model,mechanism,weakness |
| `rel`       | a relation drawn (repeat for several)                               | every relation           |
| `section`   | a survey section (Q1 … Q18, future): its claims and what they are about | none                 |
| `direction` | an improvement direction of BERT (masking, knowledge, …)            | none                     |
| `q`         | the search text                                                     | none                     |
| `focus`     | the selected node: drawn highlighted with its neighbours, centred   | none                     |
| `center`    | draw only the neighbourhood of this node …                          | none                     |
| `depth`     | … to this many hops (1–3)                                           | 1                        |
| `expand`    | a node whose neighbours are added to the view (repeat for several)  | none                     |

Parameters left at their default are left out of the address. A value that names nothing (an unknown
kind, section or node) is dropped with a message that says why; nothing else changes. Every value
is cut to MAX_INPUT_CHARS characters before it is read, and a list to MAX_LIST items.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.limits import MAX_INPUT_CHARS
from kg.views import DEFAULT_KINDS, FILTER_KINDS

MAX_LIST = 20
DEPTHS = (1, 2, 3)


@dataclass(frozen=True)
class GraphState:
    kinds: tuple[str, ...] = DEFAULT_KINDS
    relations: tuple[str, ...] = ()
    section: str | None = None
    direction: str | None = None
    q: str = ""
    focus: str | None = None
    center: str | None = None
    depth: int = 1
    expand: tuple[str, ...] = ()
    problems: tuple[tuple[str, str, str], ...] = field(default=(), compare=False)  # (name, value, why)


def _values(params, name: str) -> list[str]:
    getter = getattr(params, "get_all", None)
    values = getter(name) if getter else ([params[name]] if name in params else [])
    return [v[:MAX_INPUT_CHARS] for v in values[:MAX_LIST]]


def from_params(params, *, nodes: set[str], sections: set[str], directions: set[str],
                relations: set[str]) -> GraphState:
    """The state an address describes (`params`: st.query_params or a dict). `nodes`, `sections`,
    `directions` and `relations` are the names that exist; anything else is dropped, with a reason."""
    problems: list[tuple[str, str, str]] = []
    state: dict = {}

    def one(name: str) -> str | None:
        values = _values(params, name)
        return values[-1].strip() if values and values[-1].strip() else None

    if "kinds" in params:
        asked = [k.strip() for raw in _values(params, "kinds") for k in raw.split(",") if k.strip()][:MAX_LIST]
        bad = [k for k in asked if k not in FILTER_KINDS]
        for k in bad:
            problems.append(("kinds", k, "no such kind; the kinds are " + ", ".join(FILTER_KINDS)))
        good = tuple(k for k in FILTER_KINDS if k in asked)
        state["kinds"] = good if good or not asked else DEFAULT_KINDS
    rels = []
    for r in _values(params, "rel"):
        (rels.append(r) if r in relations else problems.append(("rel", r, "no relation has this name")))
    state["relations"] = tuple(sorted(set(rels)))
    for name, known in (("section", sections), ("direction", directions)):
        value = one(name)
        if value is not None:
            (state.__setitem__(name, value) if value in known else problems.append((name, value, f"no such {name}")))
    state["q"] = (one("q") or "")
    for name in ("focus", "center"):
        value = one(name)
        if value is not None:
            (state.__setitem__(name, value) if value in nodes else problems.append((name, value, "no such node")))
    depth = one("depth")
    if depth is not None:
        if depth.isdigit() and int(depth) in DEPTHS:
            state["depth"] = int(depth)
        else:
            problems.append(("depth", depth, "the depth is 1, 2 or 3"))
    expand = []
    for n in _values(params, "expand"):
        (expand.append(n) if n in nodes else problems.append(("expand", n, "no such node")))
    state["expand"] = tuple(dict.fromkeys(expand))
    return GraphState(**state, problems=tuple(problems))


def to_params(state: GraphState) -> dict[str, str | list[str]]:
    """The address's query parameters for `state`, defaults left out (st.query_params.from_dict)."""
    out: dict[str, str | list[str]] = {}
    if tuple(state.kinds) != tuple(DEFAULT_KINDS):
        out["kinds"] = ",".join(state.kinds)
    if state.relations:
        out["rel"] = list(state.relations)
    for name in ("section", "direction", "focus", "center"):
        if getattr(state, name):
            out[name] = getattr(state, name)
    if state.q:
        out["q"] = state.q
    if state.center and state.depth != 1:
        out["depth"] = str(state.depth)
    if state.expand:
        out["expand"] = list(state.expand)
    return out
