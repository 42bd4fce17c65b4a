"""Family tree: every model at the month of its paper on a true time axis, in lanes by the survey's
improvement directions (or objective, or feature extractor), with its improves-on links as arrows
that say, on hover, which mechanisms carry the improvement and which claims back it.

The view is kg.family (no Streamlit); the drawing is the browser bundle frontend/src/family_tree.js
(SVG built node by node, text set as text, nothing fetched). Every word comes from
app_pages/messages/family_tree.json. Below the drawing, the same models as links, by date.
"""

import streamlit as st

from app_pages._bundles import component
from app_pages._shared import NODE_PAGE, backend, esc, node_link, nodes
from app_pages.i18n import language, t, table, with_language
from kg.family import GROUPS, FamilyTree, Fix, Link, Place, family_tree

MAX_MECHANISMS = 5      # lines of a link's tooltip
MAX_CLAIMS = 3


def month_name(month: int) -> str:
    return t(f"family_tree.month_{month}")


def date_text(p: Place) -> str:
    if p.month is None:
        return t("family_tree.date_year_only", year=p.year)
    return t("family_tree.date", month=month_name(p.month), year=p.year)


def lane_names(tree: FamilyTree) -> dict[str, str]:
    year = tree.axis.dense_from
    out = {}
    for lane in tree.lanes:
        if lane.kind == "value":
            out[lane.key] = lane.label
        elif lane.key == "none":
            out[lane.key] = t(f"family_tree.role_none_{tree.group}")
        else:
            out[lane.key] = t(f"family_tree.role_{lane.key}", year=year, hub=lane.hub or "")
    return out


def compression(tree: FamilyTree) -> int | None:
    """How many times less room a month gets before the break than after it (None: no break)."""
    axis = tree.axis
    if axis.dense_from is None or axis.break_x is None:
        return None
    split = axis.dense_from * 12
    before = axis.break_x[0] / max(split - axis.start, 1)
    after = (1 - axis.break_x[1]) / max(axis.end - split, 1)
    return max(1, round(after / before))


def model_tip(p: Place, names: dict[str, str], labels: dict[str, str]) -> list[list[str]]:
    none = t("family_tree.none")
    joined = lambda values: ", ".join(values) or none  # noqa: E731
    lines = [["head", p.name], ["sub", date_text(p)], ["item", t("family_tree.tip_lane", lane=names.get(p.lane, p.lane))]]
    if p.also:
        lines.append(["item", t("family_tree.tip_also", lanes=joined(names.get(a, a) for a in p.also))])
    for key in ("direction", "objective", "extractor", "organisation"):
        lines.append(["item", t(f"family_tree.tip_{key}", values=joined(p.facts[key]))])
    lines.append(["item", t("family_tree.tip_improves_on", models=joined(labels[i] for i in p.improves_on))])
    lines.append(["item", t("family_tree.tip_improved_by", models=joined(labels[i] for i in p.improved_on_by))])
    lines.append(["note", t("family_tree.tip_click")])
    return lines


def fix_text(f: Fix, newer: str, older: str) -> str:
    introduced = t("family_tree.edge_introduced", newer=newer) if f.introduced else ""
    if not f.fixes:
        return t("family_tree.edge_plain", mechanism=f.mechanism, introduced=introduced)
    items = []
    for relation, weakness, holder, role in f.weaknesses:
        held = (t("family_tree.holder_self", model=older) if not role else
                t("family_tree.holder_part", model=older, role=t(f"family_tree.part_{role}"), holder=holder))
        items.append(t("family_tree.edge_fix_item", relation=t(f"family_tree.rel_{relation}"), weakness=weakness,
                       holder=held))
    return t("family_tree.edge_fix", mechanism=f.mechanism, introduced=introduced, fixes="; ".join(items))


def link_tip(link: Link, labels: dict[str, str]) -> list[list[str]]:
    newer, older = labels[link.target], labels[link.source]
    lines = [["head", t("family_tree.edge_head", newer=newer, older=older)]]
    if link.mechanisms:
        lines.append(["sub", t("family_tree.edge_mechanisms", newer=newer, older=older)])
        lines += [["item", fix_text(f, newer, older)] for f in link.mechanisms[:MAX_MECHANISMS]]
        if len(link.mechanisms) > MAX_MECHANISMS:
            lines.append(["item", t("family_tree.edge_more", n=len(link.mechanisms) - MAX_MECHANISMS)])
    else:
        lines.append(["sub", t("family_tree.edge_no_mechanism", newer=newer, older=older)])
    if link.claims:
        lines.append(["sub", t("family_tree.edge_claims")])
        for c in link.claims[:MAX_CLAIMS]:
            key = "edge_claim_backs" if c.backs else "edge_claim_about"
            lines.append(["item", t(f"family_tree.{key}", id=c.id, text=c.text)])
        if len(link.claims) > MAX_CLAIMS:
            lines.append(["item", t("family_tree.edge_more", n=len(link.claims) - MAX_CLAIMS)])
    else:
        lines.append(["sub", t("family_tree.edge_no_claim")])
    lines.append(["note", t("family_tree.edge_source")])
    return lines


def drawing_data(tree: FamilyTree) -> dict:
    """What the browser draws: positions on 0..1, lanes, tooltips as lines of text, and its words."""
    names = lane_names(tree)
    labels = {p.id: p.name for p in tree.models}
    colour = {lane.key: lane.colour for lane in tree.lanes}
    ratio = compression(tree)
    words = table("family_tree")
    legend = [["model", words["legend_model"]], ["arrow", words["legend_arrow"]]]
    if any(p.also for p in tree.models):
        legend.append(["also", words["legend_also"]])
    if ratio is not None:
        legend.append(["break", t("family_tree.legend_break", ratio=ratio, year=tree.axis.dense_from)])
    ticks = []
    for k in tree.axis.ticks:
        if k.month == 1:
            ticks.append({"x": k.x, "text": str(k.year), "kind": "year"})
        elif k.month in (4, 7, 10):
            ticks.append({"x": k.x, "text": month_name(k.month), "kind": "quarter"})
        else:
            ticks.append({"x": k.x, "text": "", "kind": "month"})
    also_colour = {lane.key: lane.colour for lane in tree.lanes}
    return {
        "lanes": [{"key": lane.key, "label": names[lane.key], "colour": lane.colour} for lane in tree.lanes],
        "models": [{
            "id": p.id, "label": p.label, "x": p.x, "lane": p.lane, "colour": colour.get(p.lane, p.colour),
            "also": [also_colour.get(a, "#999999") for a in p.also], "aria": f"{p.name}, {date_text(p)}",
            "tip": model_tip(p, names, labels),
        } for p in tree.models],
        "edges": [{"from": k.source, "to": k.target, "tip": link_tip(k, labels)} for k in tree.links],
        "ticks": ticks,
        "break": list(tree.axis.break_x) if tree.axis.break_x else None,
        "legend": legend,
        "words": {key: words[key] for key in ("svg_button", "png_button", "file_svg", "file_png", "export_title")}
        | {"aria": t("family_tree.aria", models=len(tree.models), links=len(tree.links))},
    }


index = nodes()
st.title(t("family_tree.title"))
group_names = {g: t(f"family_tree.group_{g}") for g in GROUPS}   # built in the run: the control reads them later
group = st.segmented_control(t("family_tree.group_label"), GROUPS, default="direction", key="family-group",
                             format_func=group_names.get,
                             help=t("family_tree.group_help")) or "direction"
tree = family_tree(backend(), group, lang=language())
caption = t("family_tree.caption", grouping=t(f"family_tree.grouping_{group}"))
if compression(tree) is not None:
    caption += ("" if caption.endswith(("。", "；")) else " ") + t("family_tree.caption_break", year=tree.axis.dense_from, ratio=compression(tree))
st.caption(esc(caption, 2000))
if tree.total > len(tree.models):
    st.info(t("family_tree.capped", shown=len(tree.models), total=tree.total))

try:
    draw = component("family_tree")
except FileNotFoundError as e:
    st.error(t("family_tree.missing_bundle", error=esc(e)))
else:
    result = draw(key="family-tree", data=drawing_data(tree), on_node_clicked_change=lambda: None)
    clicked = getattr(result, "node_clicked", None)
    if clicked and clicked in {p.id for p in tree.models}:
        st.switch_page(NODE_PAGE, query_params=with_language({"node": clicked}))

st.subheader(t("family_tree.list_heading"))
st.caption(t("family_tree.list_caption"))
by_iri = {p.iri: p for p in tree.models}
with st.container(border=True):
    groups: dict[tuple, list[Place]] = {}
    for p in tree.models:
        groups.setdefault((p.year, p.month or 13), []).append(p)
    for (year, month), members in sorted(groups.items()):
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            when = t("family_tree.list_year_only", year=year) if month == 13 else t(
                "family_tree.date", month=month_name(month), year=year)
            st.markdown(f"**{esc(when)}**", width=150)
            for p in members:   # in the tree's order (the same in every language)
                node_link(index[p.iri])
    if tree.undated:
        ids = {n.id: n for n in index.values()}
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            st.markdown(f"**{esc(t('family_tree.undated'))}**", width=150)
            for node_id in tree.undated:
                if node_id in ids:
                    node_link(ids[node_id])
