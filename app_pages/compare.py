"""Compare: the models against the survey's dimensions, one row per model, filterable and
downloadable (CSV, JSON): the structured comparison ORKG offers, generated from the graph."""

import pandas as pd
import streamlit as st

from app_pages._shared import backend, capped
from app_pages.i18n import language, t
from kg.limits import MAX_INPUT_CHARS, MAX_TEXT_CHARS, display_text
from kg.views import (COMPARE_COLUMNS, COMPARE_FILTERS, compare_csv, compare_json, compare_option_names,
                      compare_options, compare_records, compare_rows, filter_compare)


def column_title(column: str) -> str:
    """The title of a column of kg.views.COMPARE_COLUMNS (a filter's label too), in the interface's language
    (on a Chinese page the second name column holds the English name)."""
    if column == "model_zh" and lang != "en":
        return t("compare.column_model_en")
    return t(f"compare.column_{column}")


lang = language()
rows = compare_rows(backend())
options = compare_options(rows)
option_names = compare_option_names(rows, lang)   # built in the run: a picker reads its labels later
years = [r["year"] for r in rows if r["year"] is not None]

st.title(t("compare.title"))
st.caption(t("compare.caption"))

with st.container(border=True):
    cols = st.columns(3)
    chosen = {}
    for i, key in enumerate(COMPARE_FILTERS):
        with cols[i % 3]:
            chosen[key] = st.multiselect(column_title(key), options[key], key=f"compare-{key}",
                                         placeholder=t("compare.any"),
                                         format_func=lambda v: display_text(option_names.get(v, v), 80))
    with cols[2]:
        span = st.slider(t("compare.years"), min(years), max(years), (min(years), max(years)), key="compare-years")
    text = st.text_input(t("compare.search"), key="compare-search", max_chars=MAX_INPUT_CHARS,
                         placeholder=t("compare.search_placeholder"))
text = capped(text, t("shared.what_search"))

shown = filter_compare(rows, text=text, years=span, **chosen)
st.caption(t("compare.counts", shown=len(shown), total=len(rows)))
frame = pd.DataFrame(compare_records(shown, limit=MAX_TEXT_CHARS, lang=lang), columns=list(COMPARE_COLUMNS))
WIDE = {"model": "medium", "objective": "medium", "organisation": "medium", "mechanisms": "large",
        "weaknesses": "large", "improves_on": "medium"}
config = {key: st.column_config.TextColumn(column_title(key), width=WIDE.get(key)) for key in COMPARE_COLUMNS}
config["year"] = st.column_config.NumberColumn(column_title("year"), format="%d")
config["page"] = st.column_config.LinkColumn(column_title("page"), display_text=t("compare.open_page"),
                                             help=t("compare.page_help"))
st.dataframe(frame, column_config=config, hide_index=True, key="compare-table",
             height=38 + 35 * max(len(frame), 1),
             column_order=["model", "page", *[k for k in COMPARE_COLUMNS if k not in ("model", "page")]])

# The downloads keep every character, so they are written only when clicked, not on every rerun.
left, right, _ = st.columns([1, 1, 4])
with left:
    st.download_button(t("compare.download_csv"), lambda: compare_csv(shown), file_name="plm-comparison.csv",
                       mime="text/csv", key="compare-csv", icon=":material/download:")
with right:
    st.download_button(t("compare.download_json"), lambda: compare_json(shown), file_name="plm-comparison.json",
                       mime="application/json", key="compare-json", icon=":material/download:")
