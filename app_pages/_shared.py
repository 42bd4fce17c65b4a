"""What every page shares: the graph (loaded once per process), escaping, links, plots, demo runs.

Pages stay thin: they read from kg/ and mechanisms/ and render. Text that comes from the graph or
from a query always goes through `esc()` (or `st.text`/`st.code`), so a label such as
`<img src=x onerror=alert(1)>` or `![x](http://host/beacon)` shows as text and loads nothing.
"""

from __future__ import annotations

import re

import streamlit as st

from kg import open_backend
from kg.nodes import Node, index

NODE_PAGE = "app_pages/node.py"
TRACE_PAGE = "app_pages/trace.py"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")
_AUTOLINK = re.compile(r"(:|www)(?=//|\.)", re.IGNORECASE)


@st.cache_resource(show_spinner="Loading the graph…")
def backend():
    """The graph, shared by every session of this process (read-only; $PLM_MAP_ENDPOINT reads an endpoint)."""
    return open_backend()


def nodes() -> dict[str, Node]:
    return index(backend())


def esc(text: object, limit: int = 2000) -> str:
    """Text safe to put inside st.markdown: every Markdown/HTML character escaped, long text cut."""
    text = str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("\r", " ").replace("\n", " ")
    text = _AUTOLINK.sub(lambda m: m.group(1) + "\u2060", text)  # a word joiner stops GFM's bare-URL links
    return _MD_SPECIAL.sub(r"\\\1", text)


def node_link(node: Node, *, label: str | None = None, key: str | None = None) -> None:
    """A link to the node's page in this session (its permalink is /node?node=<id>)."""
    st.page_link(NODE_PAGE, label=esc(label or node.label, 120), query_params={"node": node.id},
                 help=esc(f"{node.kind}: {node.id}"))


def node_href(node_id: str) -> str:
    """The permalink of a node page (for tables and downloads)."""
    from kg.views import node_path

    return node_path(node_id)


def kind_badge(kind: str) -> str:
    from kg.views import KIND_COLORS

    color = KIND_COLORS.get(kind, "#bab0ac")
    return f":small[:{_badge_color(color)}-badge[{esc(kind)}]]"


def _badge_color(hex_color: str) -> str:
    # Streamlit badges take named colours; map the palette to the nearest one
    return {"#4e79a7": "blue", "#59a14f": "green", "#e15759": "red", "#b07aa1": "violet", "#f28e2b": "orange",
            "#edc948": "orange", "#76b7b2": "blue", "#ff9da7": "red"}.get(hex_color, "gray")


def show_plot(plot, key: str) -> None:
    """Draw a mechanisms Plot (line, bar, scatter or heatmap) with Altair."""
    import altair as alt
    import pandas as pd

    if plot.kind == "heatmap" and plot.z is not None:
        rows = [{"x": (plot.x_ticks or [])[j] if plot.x_ticks else j, "y": (plot.y_ticks or [])[i] if plot.y_ticks else i,
                 "value": v} for i, row in enumerate(plot.z) for j, v in enumerate(row)]
        chart = alt.Chart(pd.DataFrame(rows)).mark_rect().encode(
            x=alt.X("x:O", title=plot.x_label), y=alt.Y("y:O", title=plot.y_label),
            color=alt.Color("value:Q", title=""), tooltip=["x", "y", "value"])
    else:
        rows = [{"series": s.name, "x": x, "y": y} for s in plot.series for x, y in zip(s.x, s.y) if y is not None]
        df = pd.DataFrame(rows)
        numeric_x = bool(rows) and all(isinstance(r["x"], (int, float)) for r in rows)
        x_type = "Q" if numeric_x and plot.kind != "bar" else "N"
        x = alt.X(f"x:{x_type}", title=plot.x_label, sort=None if x_type == "N" else "ascending",
                  scale=alt.Scale(type="log") if plot.log_x and x_type == "Q" else alt.Undefined)
        y = alt.Y("y:Q", title=plot.y_label, scale=alt.Scale(type="log") if plot.log_y else alt.Undefined)
        base = alt.Chart(df)
        if plot.kind == "bar":
            chart = base.mark_bar().encode(x=x, y=y, color="series:N", xOffset="series:N",
                                           tooltip=["series", "x", "y"])
        elif plot.kind == "scatter":
            chart = base.mark_point().encode(x=x, y=y, color="series:N", tooltip=["series", "x", "y"])
        else:
            chart = base.mark_line(point=True).encode(x=x, y=y, color="series:N", tooltip=["series", "x", "y"])
    st.altair_chart(chart.properties(title=plot.title, height=260), width="stretch", key=key)


VERDICT_ICON = {"supports": "✔", "contradicts": "✘", "inconclusive": "?"}


def show_result(result, key: str) -> None:
    """Verdicts first (with the numbers they rest on), then the plots and the key metrics."""
    for v in result.verdicts:
        box = st.success if v.verdict == "supports" else st.error if v.verdict == "contradicts" else st.warning
        box(f"**{esc(v.claim)} — {v.verdict}.** {esc(v.explanation)}")
    cols = st.columns(2)
    for i, plot in enumerate(result.plots):
        with cols[i % 2]:
            show_plot(plot, key=f"{key}-plot-{i}")
    keys = [v.key for v in result.verdicts if v.key in result.metrics]
    if keys:
        st.caption(" · ".join(f"{esc(k)} = {result.metrics[k]:.4g}" for k in keys)
                   + f" · ran in {result.runtime:.2f} s · seed {result.seed}")


def demo_runner(demo, key: str) -> None:
    """Parameter widgets (bounds from the registry), a Run button, a progress bar and the result."""
    from mechanisms import ParamError

    st.markdown(f"**{esc(demo.title)}**  \n{esc(demo.title_zh)}")
    if demo.summary:
        st.caption(esc(demo.summary))
    values = {}
    with st.expander("Parameters", expanded=False):
        cols = st.columns(3)
        for i, p in enumerate(demo.params):
            with cols[i % 3]:
                wkey = f"{key}-{p.name}"
                if p.kind is bool:
                    values[p.name] = st.checkbox(p.name, value=p.default, help=p.help, key=wkey)
                elif p.kind is str:
                    values[p.name] = st.selectbox(p.name, p.choices, index=p.choices.index(p.default),
                                                  help=p.help, key=wkey)
                elif p.kind is int:
                    values[p.name] = st.number_input(p.name, min_value=int(p.low), max_value=int(p.high),
                                                     value=int(p.default), step=1, help=p.help, key=wkey)
                else:
                    values[p.name] = st.number_input(p.name, min_value=float(p.low), max_value=float(p.high),
                                                     value=float(p.default), help=p.help, key=wkey, format="%g")
        seed = st.number_input("seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key=f"{key}-seed")
    state_key = f"{key}-result"
    if st.button("Run", key=f"{key}-run", type="primary", help="Run the demo on this machine's CPU"):
        bar = st.progress(0.0, text="starting…")
        try:
            result = demo.run(values, seed=int(seed),
                              progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=esc(m, 80)))
            st.session_state[state_key] = result
        except ParamError as e:
            st.error(f"Parameters refused: {esc(e)}")
        except Exception as e:  # a failing demo shows an error; the app keeps working
            st.error(f"The demo failed: {esc(type(e).__name__)}: {esc(e, 300)}")
        finally:
            bar.empty()
    result = st.session_state.get(state_key)
    if result is not None:
        show_result(result, key=key)
