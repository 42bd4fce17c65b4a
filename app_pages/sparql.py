"""SPARQL: an editor (CodeMirror, with completion from the graph and errors marked as you type) with the
project's prefixes declared, the example queries beside it, results as a table (IRIs link to node
pages), a graph, a chart or a timeline as their shape allows, downloads, and the query in the URL (?q=...).

Queries are untrusted text: `backend().query()` checks them (update operations, SERVICE and FROM
are refused), runs them sandboxed under a time limit and a row cap, and every message it returns
is shown escaped. What a run shows is kept in session_state (the query text, the table's rows
with their cells cut, the graph, the downloads, a summary), not the engine's result itself, so a
rerun that is not a run request never queries again and a session holds no second copy of the rows.
Query text, from the editor, the plain text area or the address (`?q=`), is cut to the query limit
(MAX_QUERY_CHARS) before anything else happens to it.
"""

from __future__ import annotations

import os
import time
import uuid

import streamlit as st

from app_pages._components import graph
from app_pages._editor import sparql_editor
from app_pages._result_views import plan_views, show_views
from app_pages._shared import NODE_PAGE, backend, capped, esc, node_href, nodes
from kg.backends import (DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT, QueryBusy, QueryFailed, QueryRefused,
                         QuerySyntaxError, QueryTimeout)
from app_pages.i18n import t, with_language
from kg.examples import examples, search
from kg.lang_case import lang_case_warnings
from kg.limits import display_text
from kg.results import (NUMERIC_TYPES, AskResult, GraphResult, SelectResult, to_csv, to_json, to_ntriples, to_tsv,
                        to_xml)
from kg.safety import MAX_QUERY_CHARS
from kg.vocab import PM, PREFIXES, local_name, prologue

TIMEOUT_ENV = "PLM_MAP_QUERY_TIMEOUT"   # seconds (tests use a short one)
MAX_ROWS_ENV = "PLM_MAP_MAX_ROWS"

DEFAULT_QUERY = """SELECT ?model ?label WHERE {
  ?model plm:improvesOn pm:BERT ; skos:prefLabel ?label .
  FILTER(LANG(?label) = "en")
}
ORDER BY ?label
"""   # under a comment in the interface's language (_default_query)


def _default_query() -> str:
    return "# " + t("sparql.default_query_comment") + "\n" + DEFAULT_QUERY


# the example list reads as a list: buttons' text to the left (static CSS, no data in it)
_EXAMPLES_CSS = ("<style>.st-key-sparql_examples .stTooltipHoverTarget, .st-key-sparql_history .stTooltipHoverTarget { justify-content: flex-start !important;"
                 " width: 100%; }"
                 ".st-key-sparql_examples button > div, .st-key-sparql_history button > div"
                 " { justify-content: flex-start !important; }"
                 ".st-key-sparql_examples button, .st-key-sparql_history button"
                 " { width: 100%; justify-content: flex-start; text-align: left; }"
                 ".st-key-sparql_examples button p, .st-key-sparql_history button p { text-align: left; }"
                 ".st-key-sparql_examples [data-testid=stCaptionContainer] { margin: -10px 0 6px 0; }</style>")

# session_state keys
TEXT = "sparql_query"          # the query being edited (the page's source of truth)
VERSION = "sparql_version"     # bumped whenever Python replaces the editor's text
PLAIN = "sparql_text"          # the plain text area ("Edit as plain text")
PENDING = "sparql_pending"     # an example was clicked: run it in this run
OUTCOME = "sparql_outcome"     # the last run: {"text", "summary", "frame", "downloads" | "error", ...}
URL_Q = "sparql_url_q"         # the ?q= value already handled
HISTORY = "sparql_history"     # the last queries run: [{"text", "at", "said"}], newest first
SEARCH = "sparql_example_search"

MAX_HISTORY = 20   # queries kept, each at most MAX_QUERY_CHARS: at most 400,000 characters a session


def _env_number(name: str, default: float, cast):
    try:
        value = cast(os.environ.get(name, default))
        return value if value > 0 else default
    except ValueError:
        return default


def _set_text(text: str) -> None:
    """Replace the query in the editor (and the plain text area)."""
    st.session_state[TEXT] = text
    st.session_state[VERSION] = st.session_state.get(VERSION, 0) + 1


def _load_example(text: str) -> None:
    _set_text(text)
    st.session_state[PENDING] = True


def _plain_changed() -> None:
    _set_text(st.session_state[PLAIN])  # already cut to max_chars by Streamlit


def _remember(outcome: dict) -> None:
    """Put the query just run at the top of the history (once: running it again moves it up)."""
    if "error" in outcome:
        said = t({"refused": "sparql.history_refused", "syntax": "sparql.history_syntax",
                  "timeout": "sparql.history_timeout"}.get(outcome["error"], "sparql.history_failed"))
    else:
        summary = outcome["summary"]
        said = (t("sparql.history_yes" if summary["value"] else "sparql.history_no") if summary["form"] == "ASK"
                else t("sparql.history_rows" if summary["form"] == "SELECT" else "sparql.history_triples",
                       count=f"{summary['count']:,}"))
        said = t("sparql.history_said", said=said, ms=f"{summary['elapsed'] * 1000:,.0f}")
    entry = {"text": outcome["text"], "at": time.strftime("%H:%M:%S"), "said": said}
    rest = [h for h in st.session_state.get(HISTORY, []) if h["text"] != entry["text"]]
    st.session_state[HISTORY] = [entry, *rest][:MAX_HISTORY]


def _first_line(text: str) -> str:
    """What names a query in the history: its first line that is not a comment (or its first)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if not line.startswith("#")), lines[0] if lines else "")


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------

def _run(text: str, timeout: float, max_rows: int) -> dict:
    outcome: dict = {"text": text, "timeout": timeout, "max_rows": max_rows}
    t0 = time.perf_counter()
    try:
        # one query in flight per session: the pool refuses a second one (QueryBusy) meanwhile
        outcome["result"] = backend().query(
            text, timeout=timeout, max_rows=max_rows,
            session=st.session_state.setdefault("sparql_session", uuid.uuid4().hex))
    except QueryRefused as e:
        outcome["error"], outcome["message"] = "refused", str(e)
    except QueryBusy as e:  # every worker busy, or this session's last query still running
        outcome["error"], outcome["message"] = "refused", str(e)[:1].upper() + str(e)[1:] + "."
    except QuerySyntaxError as e:
        outcome["error"], outcome["message"] = "syntax", str(e)
    except QueryTimeout as e:
        outcome["error"], outcome["message"] = "timeout", str(e)
    except QueryFailed as e:
        outcome["error"], outcome["message"] = "failed", str(e)
    except Exception as e:  # the page keeps working whatever the engine does; no traceback is shown
        outcome["error"], outcome["message"] = "failed", type(e).__name__
    outcome["wall_ms"] = (time.perf_counter() - t0) * 1000
    if outcome.get("error") in (None, "failed", "timeout"):   # it parsed: say if a lang() test cannot match
        outcome["lang"] = [w.message for w in lang_case_warnings(text, prologue())][:5]
    return outcome


def _shown(outcome: dict) -> dict:
    """The outcome as the page keeps it: the result replaced by what is shown of it (a summary, the
    table, the graph for CONSTRUCT/DESCRIBE, the downloads), each built once."""
    result = outcome.pop("result", None)
    if result is None:
        return outcome
    outcome["summary"] = {
        "form": "ASK" if isinstance(result, AskResult) else "SELECT" if isinstance(result, SelectResult) else "GRAPH",
        "value": getattr(result, "value", None), "elapsed": result.elapsed, "truncated": result.truncated,
        "count": len(result.rows) if isinstance(result, SelectResult) else len(getattr(result, "triples", ())),
        "variables": len(result.variables) if isinstance(result, SelectResult) else 3,
    }
    outcome["downloads"] = _downloads(result)
    if isinstance(result, SelectResult):
        outcome["frame"] = _frame(result.variables, result.rows)
        outcome["plan"] = plan_views(result.variables, result.rows, set(nodes()))
    elif isinstance(result, GraphResult):
        from kg.views import triples_view

        outcome["frame"] = _frame(["subject", "predicate", "object"], result.triples)
        outcome["view"] = triples_view(result.triples)
    return outcome


# ---------------------------------------------------------------------------------------------
# Showing
# ---------------------------------------------------------------------------------------------

def _show_error(outcome: dict) -> None:
    kind, message = outcome["error"], outcome["message"]
    keep = t("sparql.error_keep")
    if kind == "refused":
        st.error(t("sparql.error_refused", message=esc(message), keep=keep), icon=":material/block:")
    elif kind == "syntax":
        first, _, where = message.partition("\n")
        st.error(t("sparql.error_syntax", message=esc(first), keep=keep), icon=":material/error:")
        if where.strip():
            st.code(where, language=None)
    elif kind == "timeout":
        st.error(t("sparql.error_timeout", message=esc(message), timeout=f"{outcome['timeout']:g}", keep=keep),
                 icon=":material/timer_off:")
    else:
        st.error(t("sparql.error_failed", message=esc(message, 400), keep=keep), icon=":material/error:")


def _frame(variables: list[str], rows: list[tuple]):
    """A DataFrame of display strings (numbers as numbers); node IRIs become links to node pages."""
    import pandas as pd

    known = nodes()
    data, config = {}, {}
    for i, var in enumerate(variables):
        col = [row[i] for row in rows]
        present = [t for t in col if t is not None]
        is_node = [t is not None and t.kind == "uri" and t.value.startswith(PM) and t.value in known for t in col]
        hrefs = [node_href(local_name(t.value)) if node else None for t, node in zip(col, is_node)]
        if present and all(node or t is None for t, node in zip(col, is_node)):
            data[var] = hrefs
            config[var] = st.column_config.LinkColumn(var, display_text=r"/node\?node=(.*)$",
                                                      help=t("sparql.node_link_help"))
            continue
        if present and all(t.kind == "literal" and t.datatype in NUMERIC_TYPES for t in present):
            values = pd.to_numeric(pd.Series([t.value if t is not None else None for t in col], dtype=object),
                                   errors="coerce")
            if values.notna().sum() == len(present):
                data[var] = values
                continue
        # long literals end in "… (cut at 2,000 characters)"; the downloads keep them whole
        data[var] = [display_text(t.display()) if t is not None else None for t in col]
        if any(is_node):
            data[f"{var} ↗"] = hrefs
            config[f"{var} ↗"] = st.column_config.LinkColumn(f"{var} ↗", display_text=t("sparql.node_page"),
                                                             help=t("sparql.node_page_help", var=var))
    frame = pd.DataFrame(data, columns=list(data)) if data else pd.DataFrame()
    return frame, config


def _downloads(result) -> list[tuple[str, bytes, str, str]]:
    """(label, data, file name, MIME type): every value whole, as the engine returned it."""
    if isinstance(result, (SelectResult, AskResult)):
        out = [("CSV", to_csv(result, guard_formulas=True).encode(), "query-results.csv", "text/csv"),
               ("TSV", to_tsv(result, guard_formulas=True).encode(), "query-results.tsv", "text/tab-separated-values"),
               ] if isinstance(result, SelectResult) else []
        out.append(("JSON", to_json(result).encode(), "query-results.srj", "application/sparql-results+json"))
        try:   # a value XML 1.0 cannot carry (a control character) leaves XML out, saying why
            out.append(("XML", to_xml(result).encode(), "query-results.srx", "application/sparql-results+xml"))
        except ValueError as e:
            out.append(("XML", None, str(e), ""))
    else:
        from kg.export import serialize_triples

        out = [("Turtle", serialize_triples(result.triples, "turtle"), "query-results.ttl", "text/turtle"),
               ("N-Triples", to_ntriples(result).encode(), "query-results.nt", "application/n-triples"),
               ("JSON-LD", serialize_triples(result.triples, "jsonld"), "query-results.jsonld",
                "application/ld+json")]
    return out


def _show_downloads(outcome: dict) -> None:
    with st.container(horizontal=True, key="sparql_downloads"):
        for label, data, name, mime in outcome["downloads"]:
            if data is None:   # this format cannot carry the result: `name` says why
                st.button(label, key=f"sparql_dl_{label}", disabled=True, icon=":material/block:",
                          help=t("sparql.download_impossible", reason=name))
                continue
            st.download_button(label, data, file_name=name, mime=mime, on_click="ignore",
                               icon=":material/download:", key=f"sparql_dl_{label}",
                               help=t("sparql.download_help_guarded" if label in ("CSV", "TSV")
                                      else "sparql.download_help", name=name, mime=mime))


def _show_result(outcome: dict) -> None:
    summary = outcome["summary"]
    timing = t("sparql.timing", engine=f"{summary['elapsed'] * 1000:,.0f}", total=f"{outcome['wall_ms']:,.0f}")
    if summary["form"] == "ASK":
        if summary["value"]:
            st.success(t("sparql.ask_yes"), icon=":material/check_circle:")
        else:
            st.info(t("sparql.ask_no"), icon=":material/cancel:")
        st.caption(timing)
        _show_downloads(outcome)
        return
    cap, n, select = outcome["max_rows"], summary["count"], summary["form"] == "SELECT"
    if select:
        columns = summary["variables"]
        st.caption(t("sparql.select_caption", timing=timing,
                     rows=t("sparql.rows_one" if n == 1 else "sparql.rows", count=f"{n:,}"),
                     columns=t("sparql.columns_one" if columns == 1 else "sparql.columns", count=columns)))
    else:
        st.caption(t("sparql.graph_caption", timing=timing,
                     triples=t("sparql.triples_one" if n == 1 else "sparql.triples", count=f"{n:,}")))
    if summary["truncated"]:
        st.warning(t("sparql.truncated_rows" if select else "sparql.truncated_triples", cap=f"{cap:,}"),
                   icon=":material/content_cut:")
    frame, config = outcome["frame"]
    if not select:
        _show_graph(outcome)
        st.markdown(t("sparql.triples_heading"))
    if select and not summary["variables"]:
        st.info(t("sparql.no_variables"))
    else:
        def table() -> None:
            st.dataframe(frame, column_config=config, hide_index=True, key="sparql_table",
                         height="auto" if len(frame) <= 12 else 420)
        if select and outcome.get("plan"):
            show_views(outcome["plan"], key="sparql_views", table=table)   # table, graph, chart, timeline
        else:
            table()
    _show_downloads(outcome)


def _show_graph(outcome: dict) -> None:
    view = outcome["view"]
    if not view.nodes:
        st.info(t("sparql.no_triples"))
        return
    if view.capped:
        st.caption(t("sparql.graph_capped", shown=len(view.nodes), total=f"{view.total_nodes:,}"))
    clicked = graph(view.nodes, view.edges, key="sparql_graph", height=460).clicked
    if clicked and clicked.startswith(f"<{PM}") and clicked.endswith(">"):
        iri = clicked[1:-1]
        if iri in nodes():
            st.switch_page(NODE_PAGE, query_params=with_language({"node": local_name(iri)}))


# ---------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------

def _library():
    """Beside the editor: the example queries, searchable, and a tab for this session's history
    (returned: it is filled after this run's query, if any, has run)."""
    st.html(_EXAMPLES_CSS)
    ex_tab, history_tab = st.tabs([t("sparql.tab_examples"), t("sparql.tab_history")])
    with ex_tab:
        every = examples()
        text = capped(st.text_input(t("sparql.search_examples"), key=SEARCH, max_chars=200,
                                    placeholder=t("sparql.search_examples_placeholder"),
                                    help=t("sparql.search_examples_help")), t("sparql.capped_search"), 200) or ""
        shown = search(every, text)
        st.caption(t("sparql.examples_found", shown=len(shown), total=len(every)))
        if not shown:
            st.info(t("sparql.examples_none", text=esc(text, 80)), icon=":material/search_off:")
        with st.container(height=380, border=False, key="sparql_examples"):
            for ex in shown:
                st.button(f"**{esc(ex.number)}** · {esc(ex.title, 160)}", key=f"sparql_ex_{ex.name}",
                          help=esc(ex.description, 600) or None, on_click=_load_example, args=(ex.text,),
                          type="tertiary", width="stretch")
                if ex.description:
                    st.caption(esc(ex.description, 150))
    return history_tab


def _history() -> None:
    history = st.session_state.get(HISTORY, [])
    if not history:
        st.caption(t("sparql.history_empty"))
        return
    st.caption(t("sparql.history_caption", max=MAX_HISTORY))
    with st.container(height=380, border=False, key="sparql_history"):
        for i, entry in enumerate(history):
            st.button(f"{esc(entry['at'])} · {esc(_first_line(entry['text']), 90)}", key=f"sparql_hist_{i}",
                      help=t("sparql.history_item_help"), on_click=_load_example, args=(entry["text"],),
                      type="tertiary", width="stretch")
            st.caption(esc(entry["said"], 120))
    st.button(t("sparql.history_clear"), key="sparql_history_clear", icon=":material/delete_sweep:",
              on_click=lambda: st.session_state.pop(HISTORY, None))


def main() -> None:
    ss = st.session_state
    timeout = _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT, float)
    max_rows = _env_number(MAX_ROWS_ENV, DEFAULT_MAX_ROWS, int)
    if TEXT not in ss:
        ss[TEXT] = _default_query()
    ss.setdefault(VERSION, 0)
    run_text: str | None = None

    q = st.query_params.get("q")
    if q is not None and len(q) > MAX_QUERY_CHARS:  # cut, shown, not run: it is not the query the link meant
        _set_text(capped(q, t("sparql.capped_address_query"), MAX_QUERY_CHARS))
        del st.query_params["q"]
    elif q is not None and q != ss.get(URL_Q):      # a shared link: show its query and run it
        ss[URL_Q] = q
        _set_text(q)
        run_text = q
    elif q is None and OUTCOME in ss:               # back on the page: the URL shows the last query again
        last = ss[OUTCOME]["text"]
        if len(last) <= MAX_QUERY_CHARS:
            st.query_params["q"] = ss[URL_Q] = last
    if ss.pop(PENDING, False):
        run_text = ss[TEXT]

    st.title(t("sparql.title"))
    st.caption(t("sparql.intro", timeout=f"{timeout:g}", max_rows=f"{max_rows:,}"))

    editor_col, examples_col = st.columns([2.6, 1], gap="medium")
    with examples_col:
        history_tab = _library()
    with editor_col:
        edited, ctrl_run = sparql_editor(ss[TEXT], key="sparql_editor", version=ss[VERSION], height=330,
                                         max_chars=MAX_QUERY_CHARS)
        if edited is not None:
            ss[TEXT] = capped(edited, t("sparql.capped_query"), MAX_QUERY_CHARS)
        if ctrl_run is not None:
            ss[TEXT] = run_text = capped(ctrl_run, t("sparql.capped_query"), MAX_QUERY_CHARS)
        run_col, note_col = st.columns([1, 5], vertical_alignment="center")
        with run_col:
            if st.button(t("sparql.run"), type="primary", key="sparql_run", icon=":material/play_arrow:",
                         help=t("sparql.run_help")):
                run_text = ss[TEXT]
        with note_col:
            st.caption(t("sparql.prefixes_declared", count=len(PREFIXES),
                         prefixes=t("sparql.list_separator").join(f"`{p}:`" for p in PREFIXES)))
        with st.expander(t("sparql.plain_text"), icon=":material/edit_note:"):
            ss[PLAIN] = ss[TEXT]
            st.text_area(t("sparql.query_text"), key=PLAIN, height=200, on_change=_plain_changed,
                         max_chars=MAX_QUERY_CHARS, help=t("sparql.query_text_help"))
        with st.expander(t("sparql.declared_prefixes"), icon=":material/code:"):
            st.code(prologue(), language="sparql")

    if run_text is not None:
        with st.spinner(t("sparql.running")):
            ss[OUTCOME] = _shown(_run(run_text, timeout, max_rows))
        _remember(ss[OUTCOME])
        if len(run_text) <= MAX_QUERY_CHARS:
            st.query_params["q"] = ss[URL_Q] = run_text
    with history_tab:
        _history()

    outcome = ss.get(OUTCOME)
    if outcome is None:
        st.info(t("sparql.start_hint"), icon=":material/info:")
        return
    st.subheader(t("sparql.result"))
    if outcome["text"] != ss[TEXT]:
        st.caption(t("sparql.result_stale"))
    if outcome.get("lang"):
        st.warning(t("sparql.lang_warning", count=len(outcome["lang"]),
                     details=" ".join(esc(m, 400) for m in outcome["lang"])), icon=":material/translate:")
    if "error" in outcome:
        _show_error(outcome)
    else:
        _show_result(outcome)


main()
