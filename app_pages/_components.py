"""The graph drawing shared by the Graph, Node and SPARQL pages: a st.components.v2 component from the
sigma.js bundle (frontend/src/graph.js, built into app_pages/static/graph.js; nothing fetched).

The server lays the nodes out (kg.views.layout) and the browser only draws them, labels included
(collision-free, by priority), reporting the node a user clicks so that the page can select it.
Labels and tooltips are drawn on canvases or set as text: hostile labels cannot inject markup.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from app_pages._bundles import component
from app_pages.i18n import t, table
from kg.views import KIND_COLORS


def legend(nodes: list[dict]) -> list[dict]:
    """One entry per kind drawn, in the palette's order, with exactly the colour its nodes have, named
    in the interface's language."""
    from app_pages._shared import kind_name

    kinds = {n.get("kind") for n in nodes}
    return [{"label": kind_name(kind), "color": color} for kind, color in KIND_COLORS.items() if kind in kinds] + \
        ([{"label": kind_name("literal"), "color": "#bdbdbd"}] if "literal" in kinds else [])


class Events(NamedTuple):
    """What the user did in the drawing during this run (None: nothing)."""
    clicked: str | None     # a node's id; "" for a click on the background (clears the selection)
    searched: str | None    # the text sent from the search box (graph page)


def graph(nodes: list[dict], edges: list[dict], *, key: str, height: int = 620, selected: str | None = None,
          layout_key: str = "", centre_selected: bool = True, search: dict | None = None) -> Events:
    """Draw the graph; return what the user clicked or searched in this run.

    `selected` is drawn enlarged with its neighbours and its edges highlighted (the camera flies to
    it unless the user just clicked it there, or `centre_selected` is False: the node page frames
    the whole neighbourhood), everything else faded; `layout_key` names the laid-out view, so that
    the user's zoom survives reruns of the same view. With `search` ({"query", "hits":
    [{"id", "label", "kind", "matched", "outside"}], "max_chars"}) the drawing carries a search box
    with those hits listed under it.
    """
    words = dict(table("graph"))  # {count} is filled in by the drawing
    if search and search.get("query"):
        words["no_results"] = t("graph.no_results", query=search["query"])
    data = {"nodes": nodes, "edges": edges, "height": height, "selected": selected, "layout_key": layout_key,
            "legend": legend(nodes), "text": words, "centre_selected": centre_selected}
    if search is not None:
        data["search"] = search
    result = component("graph")(
        key=key, data={"json": json.dumps(data)},  # one JSON text: a list of dicts would be sent as a table
        on_node_clicked_change=lambda: None, on_searched_change=lambda: None,
    )
    return Events(getattr(result, "node_clicked", None), getattr(result, "searched", None))


def view_key(*parts) -> str:
    """A short stable name for a laid-out view (what the camera is remembered by)."""
    import hashlib

    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:16]
