"""Compare: the models against the survey's dimensions, one row per model, filterable and
downloadable (CSV, JSON): the structured comparison ORKG offers, generated from the graph."""

import pandas as pd
import streamlit as st

from app_pages._shared import backend, capped
from kg.limits import MAX_INPUT_CHARS, MAX_TEXT_CHARS, display_text
from kg.views import (COMPARE_COLUMNS, COMPARE_FILTERS, compare_csv, compare_json, compare_options,
                      compare_records, compare_rows, filter_compare)

LABELS = {"extractor": "Feature extractor", "objective": "Objective", "representation": "Representation",
          "direction": "Improvement direction", "organisation": "Organisation"}

rows = compare_rows(backend())
options = compare_options(rows)
years = [r["year"] for r in rows if r["year"] is not None]

st.title("Compare the models")
st.caption("Every model of the survey against its dimensions: feature extractor, pre-training objective, "
           "representation, how it improves on BERT, organisation, year, the mechanisms it introduces and the "
           "weaknesses the survey gives it. Filters combine (any chosen value within a dimension).")

with st.container(border=True):
    cols = st.columns(3)
    chosen = {}
    for i, key in enumerate(COMPARE_FILTERS):
        with cols[i % 3]:
            chosen[key] = st.multiselect(LABELS[key], options[key], key=f"compare-{key}", placeholder="any",
                                         format_func=lambda v: display_text(v, 80))
    with cols[2]:
        span = st.slider("Year", min(years), max(years), (min(years), max(years)), key="compare-years")
    text = st.text_input("Search", key="compare-search", max_chars=MAX_INPUT_CHARS,
                         placeholder="any cell, e.g. Google, mask, 自编码")
text = capped(text, "The search")

shown = filter_compare(rows, text=text, years=span, **chosen)
st.caption(f"{len(shown)} of {len(rows)} models")
frame = pd.DataFrame(compare_records(shown, limit=MAX_TEXT_CHARS), columns=list(COMPARE_COLUMNS))
WIDE = {"model": "medium", "objective": "medium", "organisation": "medium", "mechanisms": "large",
        "weaknesses": "large", "improves_on": "medium"}
config = {key: st.column_config.TextColumn(title, width=WIDE.get(key)) for key, title in COMPARE_COLUMNS.items()}
config["year"] = st.column_config.NumberColumn("Year", format="%d")
config["page"] = st.column_config.LinkColumn("Page", display_text="open ↗", help="The model's node page")
st.dataframe(frame, column_config=config, hide_index=True, key="compare-table",
             height=38 + 35 * max(len(frame), 1),
             column_order=["model", "page", *[k for k in COMPARE_COLUMNS if k not in ("model", "page")]])

# The downloads keep every character, so they are written only when clicked, not on every rerun.
left, right, _ = st.columns([1, 1, 4])
with left:
    st.download_button("Download CSV", lambda: compare_csv(shown), file_name="plm-comparison.csv", mime="text/csv",
                       key="compare-csv", icon=":material/download:")
with right:
    st.download_button("Download JSON", lambda: compare_json(shown), file_name="plm-comparison.json",
                       mime="application/json", key="compare-json", icon=":material/download:")
