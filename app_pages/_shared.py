"""What every page shares: the graph (loaded once per process), escaping, links, plots, demo runs.

Pages stay thin: they read from kg/ and mechanisms/ and render. Text that comes from the graph or
from a query always goes through `esc()` (or `st.text`/`st.code`), so a label such as
`<img src=x onerror=alert(1)>` or `![x](http://host/beacon)` shows as text and loads nothing.
Text that is not Markdown (table cells, picker options, tooltips) goes through
`kg.limits.display_text()`, and input from a widget or the address bar through `capped()`, so
neither can grow a page without bound.
"""

from __future__ import annotations

import re

import streamlit as st

from app_pages.i18n import language, messages, t, with_language
from kg import open_backend
from kg.limits import MAX_INPUT_CHARS, MAX_TEXT_CHARS, clip, display_text, visible
from kg.nodes import Node, index

GRAPH_PAGE = "app_pages/graph.py"
NODE_PAGE = "app_pages/node.py"
TRACE_PAGE = "app_pages/trace.py"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")
_AUTOLINK = re.compile(r"(:|www)(?=//|\.)", re.IGNORECASE)


@st.cache_resource(show_spinner=False)
def backend():
    """The graph, shared by every session of this process (read-only; $PLM_MAP_ENDPOINT reads an endpoint).
    No spinner: opening it takes milliseconds (the files are read on the first query), less than a
    spinner waits before it shows, and a spinner's text would be fixed in one language at import."""
    return open_backend()


@st.cache_resource(show_spinner=False)
def freeze_what_is_loaded() -> bool:
    """Once per process, after its first page: collect the garbage once more and move every object alive
    (the graph, its indexes, the modules) out of the collector's sight (gc.freeze). Streamlit collects
    the garbage after every run (runner.postScriptGC), which with the graph in memory took 45-70 ms with
    the interpreter's lock held: the finished page waited that long to be sent, and the browser's requests
    to be served. Frozen objects are never freed; what is frozen here lives as long as the process anyway."""
    import gc

    gc.collect()
    gc.freeze()
    return True


def graph_name() -> str:
    """Which graph the backend reads (its files or its endpoint): the key of views cached per graph."""
    b = backend()
    return str(getattr(b, "url", None) or [str(p) for p in getattr(b, "sources", [])])


def nodes() -> dict[str, Node]:
    return index(backend())


def sandbox_notice() -> None:
    """The backend's warning when the operator turned the query sandbox off (None otherwise)."""
    warning = getattr(backend(), "sandbox_warning", None)
    if warning:
        st.warning(esc(warning), icon=":material/gpp_maybe:")


def capped(value: str | None, what: str, limit: int = MAX_INPUT_CHARS) -> str | None:
    """`value` (a widget's text or an address parameter) at most `limit` characters, before any
    work; `what` names it in the message, in the interface's language (t("shared.what_search"),
    t("shared.what_param", name="section")). A longer value is cut, with a warning. A
    text widget's value arrives already cut by Streamlit (its `max_chars`), so one that reaches the
    limit gets the warning too: the user may have pasted more."""
    if value is None or len(value) < limit:
        return value
    given = t("shared.capped_given", count=len(value)) if len(value) > limit else ""
    st.warning(t("shared.capped", what=esc(what), limit=limit, given=given), icon=":material/content_cut:")
    return value[:limit]


def kind_name(kind: str) -> str:
    """A node's kind (kg.vocab.KINDS: "model", "mechanism", ...) in the interface's language."""
    return t(f"kinds.{kind}") if kind in messages("kinds", "en") else kind


def node_label(node: Node) -> str:
    """A node's label in the interface's language (kg.language.pick: a traditional page converts the
    simplified label when the graph has no traditional one), else English."""
    return node.name(language())


def demo_title(demo, lang: str | None = None) -> str:
    """A demo's title (a registry entry or a kg.views.DemoRef) in the interface's language: its
    Chinese title on a Chinese page (converted on a traditional one), else its English one."""
    lang = lang or language()
    if lang != "en" and getattr(demo, "title_zh", ""):
        from kg.hant import to_hant

        return demo.title_zh if lang == "zh-Hans" else to_hant(demo.title_zh)
    return demo.title


def option_label(node: Node) -> str:
    """A node as a picker option, short (a picker sends every option to the page): its label in the
    interface's language, its label in the other script of names (so typing 排列 or "permutation"
    finds it, whichever the page's language), and its kind."""
    first = node_label(node)
    other = node.label if first != node.label else node.labels.get("zh-Hans", "")
    both = display_text(first, 60) + (f" · {display_text(other, 40)}" if other and other != first else "")
    return f"{both} ({kind_name(node.kind)})"


def esc(text: object, limit: int = MAX_TEXT_CHARS) -> str:
    """Text safe to put inside st.markdown: every Markdown/HTML character escaped, long text cut
    (kg.limits.clip: "…", and "(cut at N characters)" for long limits), control and bidi
    characters shown as escapes (U+202E cannot reverse the line)."""
    text = clip(text, limit).replace("\r", " ").replace("\n", " ")
    text = visible(text)
    text = _AUTOLINK.sub(lambda m: m.group(1) + "\u2060", text)  # a word joiner stops GFM's bare-URL links
    return _MD_SPECIAL.sub(r"\\\1", text)


def node_link(node: Node, *, label: str | None = None, key: str | None = None) -> None:
    """A link to the node's page in this session (its permalink is /node?node=<id>)."""
    st.page_link(NODE_PAGE, label=esc(label or node_label(node), 120), query_params=with_language({"node": node.id}),
                 help=esc(f"{kind_name(node.kind)}: {node.id}"))


def node_href(node_id: str) -> str:
    """The permalink of a node page (for tables and downloads)."""
    from kg.views import node_path

    return node_path(node_id)


def kind_badge(kind: str) -> str:
    from kg.views import KIND_COLORS

    color = KIND_COLORS.get(kind, "#bab0ac")
    return f":small[:{_badge_color(color)}-badge[{esc(kind_name(kind))}]]"


def _badge_color(hex_color: str) -> str:
    # Streamlit badges take named colours; map the palette to the nearest one
    return {"#4e79a7": "blue", "#59a14f": "green", "#e15759": "red", "#b07aa1": "violet", "#f28e2b": "orange",
            "#edc948": "orange", "#76b7b2": "blue", "#ff9da7": "red"}.get(hex_color, "gray")


def show_plot(plot, key: str) -> None:
    """Draw a mechanisms Plot (line, bar, scatter or heatmap) with Altair, its words in the interface's
    language (mechanisms.phrasebook)."""
    import altair as alt
    import pandas as pd

    from mechanisms.phrasebook import say

    lang = language()
    said = lambda text: say(text, lang)  # noqa: E731

    if plot.kind == "heatmap" and plot.z is not None:
        rows = [{"x": (plot.x_ticks or [])[j] if plot.x_ticks else j, "y": (plot.y_ticks or [])[i] if plot.y_ticks else i,
                 "value": v} for i, row in enumerate(plot.z) for j, v in enumerate(row)]
        chart = alt.Chart(pd.DataFrame(rows)).mark_rect().encode(
            x=alt.X("x:O", title=said(plot.x_label)), y=alt.Y("y:O", title=said(plot.y_label)),
            color=alt.Color("value:Q", title=""),
            tooltip=["x", "y", alt.Tooltip("value", title=t("shared.plot_value"))])
    else:
        rows = [{"series": said(s.name), "x": x, "y": y} for s in plot.series for x, y in zip(s.x, s.y) if y is not None]
        df = pd.DataFrame(rows)
        numeric_x = bool(rows) and all(isinstance(r["x"], (int, float)) for r in rows)
        x_type = "Q" if numeric_x and plot.kind != "bar" else "N"
        x = alt.X(f"x:{x_type}", title=said(plot.x_label), sort=None if x_type == "N" else "ascending",
                  scale=alt.Scale(type="log") if plot.log_x and x_type == "Q" else alt.Undefined)
        y = alt.Y("y:Q", title=said(plot.y_label), scale=alt.Scale(type="log") if plot.log_y else alt.Undefined)
        series = alt.Color("series:N", title=t("shared.plot_series"))
        tooltip = [alt.Tooltip("series", title=t("shared.plot_series")), "x", "y"]
        base = alt.Chart(df)
        if plot.kind == "bar":
            chart = base.mark_bar().encode(x=x, y=y, color=series, xOffset="series:N", tooltip=tooltip)
        elif plot.kind == "scatter":
            chart = base.mark_point().encode(x=x, y=y, color=series, tooltip=tooltip)
        else:
            chart = base.mark_line(point=True).encode(x=x, y=y, color=series, tooltip=tooltip)
    st.altair_chart(chart.properties(title=said(plot.title), height=260), width="stretch", key=key)


VERDICT_ICON = {"supports": "✔", "contradicts": "✘", "inconclusive": "?", "holds": "≡", "fails": "≢"}


def verdict_word(verdict: str) -> str:
    """A verdict (an experiment's "supports", "contradicts", "inconclusive"; an identity's "holds",
    "fails") in the interface's language; any other
    value (a recorded run is graph data) as it is."""
    return t(f"shared.verdict_{verdict}") if verdict in VERDICT_ICON else verdict


def show_result(result, key: str) -> None:
    """Verdicts first (with the numbers they rest on), then the plots and the key metrics."""
    from mechanisms.phrasebook import say

    for v in result.verdicts:
        box = st.success if v.verdict == "supports" else st.error if v.verdict == "contradicts" else st.warning
        box(t("shared.verdict_line", claim=esc(v.claim), verdict=verdict_word(v.verdict),
              explanation=esc(say(v.explanation, language()))))
    cols = st.columns(2)
    for i, plot in enumerate(result.plots):
        with cols[i % 2]:
            show_plot(plot, key=f"{key}-plot-{i}")
    keys = [v.key for v in result.verdicts if v.key in result.metrics]
    if keys:
        st.caption(" · ".join([*(f"{esc(k)} = {result.metrics[k]:.4g}" for k in keys),
                               t("shared.run_stats", seconds=result.runtime, seed=result.seed)]))


def demo_runner(demo, key: str) -> None:
    """Parameter widgets (bounds from the registry), a Run button, a progress bar and the result.

    The demo runs in a worker process of `mechanisms.runner.pool()` (shared by every session of this
    process, so other sessions' pages stay fast), within its time budget, and one at a time per
    session. If the script is interrupted mid-run (the user clicks elsewhere), the run goes on in
    its worker, bounded by its budget: the page shows its progress, then its result.
    """
    from mechanisms import ParamError, runner
    from mechanisms.phrasebook import say

    lang = language()

    first = demo_title(demo)
    second = demo.title if first != demo.title else demo_title(demo, "zh-Hans")
    st.markdown(f"**{esc(first)}**" + (f"  \n{esc(second)}" if second and second != first else ""))
    if demo.summary:
        st.caption(esc(say(demo.summary, lang)))
    values = {}
    with st.expander(t("shared.parameters"), expanded=False):
        cols = st.columns(3)
        for i, p in enumerate(demo.params):
            with cols[i % 3]:
                wkey = f"{key}-{p.name}"
                if p.kind is bool:
                    values[p.name] = st.checkbox(p.name, value=p.default, help=say(p.help, lang), key=wkey)
                elif p.kind is str:
                    values[p.name] = st.selectbox(p.name, p.choices, index=p.choices.index(p.default),
                                                  help=say(p.help, lang), key=wkey)
                elif p.kind is int:
                    values[p.name] = st.number_input(p.name, min_value=int(p.low), max_value=int(p.high),
                                                     value=int(p.default), step=1, help=say(p.help, lang), key=wkey)
                else:
                    values[p.name] = st.number_input(p.name, min_value=float(p.low), max_value=float(p.high),
                                                     value=float(p.default), help=say(p.help, lang), key=wkey, format="%g")
        seed = st.number_input(t("shared.seed"), min_value=0, max_value=2**31 - 1, value=0, step=1, key=f"{key}-seed")
    state_key, error_key, job_key = f"{key}-result", f"{key}-error", "demo-runner-job"
    try:
        budget = runner.default_budget()
        pool = runner.pool()
    except runner.DemoError as e:  # a bad $PLM_MAP_DEMO_* setting: say which
        st.error(esc(e))
        return
    pool.warm()  # the first Run need not wait for a worker to load torch

    def why(e: BaseException) -> str:
        if isinstance(e, ParamError):
            return t("shared.params_refused", error=esc(e))
        if isinstance(e, runner.DemoTimeout):
            return esc(str(e)[:1].upper() + str(e)[1:] + ".")
        if isinstance(e, runner.DemoError):
            return t("shared.demo_failed", error=esc(e, 300))
        return t("shared.demo_failed", error=f"{esc(type(e).__name__)}: {esc(e, 300)}")

    def collect(job) -> None:  # a finished run's result or error goes where its own runner shows it
        if job.error is None:
            st.session_state[f"{job.key}-result"] = job.result
        else:
            st.session_state[f"{job.key}-error"] = why(job.error)
        st.session_state.pop(job_key, None)

    job = st.session_state.get(job_key)  # this session's run, while it runs and until it is shown
    if job is not None and job.done():
        collect(job)
        job = None
    started = None
    if st.button(t("shared.run"), key=f"{key}-run", type="primary", help=t("shared.run_help", budget=budget)):
        if job is not None:
            st.warning(t("shared.already_running", demo=esc(job.demo_id), elapsed=job.elapsed(), budget=job.budget))
        else:
            try:
                job = started = pool.submit(demo, values, seed=int(seed), budget=budget, key=key)
                st.session_state[job_key] = job
            except ParamError as e:  # refused before a worker was taken
                st.error(why(e))
            except runner.DemoError as e:  # every worker busy, or a bad setting
                st.warning(esc(e))
    if started is not None:  # started by this script run: follow it here
        bar = st.progress(0.0, text=t("shared.starting"))
        try:
            started.follow(lambda f, m: bar.progress(f, text=esc(say(m, lang), 80)))
        except Exception:  # the run's own error, collected below; an interrupted script leaves the run going
            pass
        finally:
            bar.empty()
        collect(started)
    elif job is not None and job.key == key:  # started by an earlier, interrupted script run
        @st.fragment(run_every=1.0, key=f"{key}-watch")
        def watch():
            if job.done():
                st.rerun()  # the whole page, which collects and shows the result
            st.progress(job.fraction, text=esc(t("shared.still_running", message=say(job.message, lang), elapsed=job.elapsed(),
                                                 budget=job.budget), 100))

        watch()
    error = st.session_state.pop(error_key, None)
    if error:
        st.error(error)
    result = st.session_state.get(state_key)
    if result is not None:
        show_result(result, key=key)
