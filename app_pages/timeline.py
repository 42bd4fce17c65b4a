"""Timeline: the models by year with their improves-on links, generated from the graph."""

import altair as alt
import pandas as pd
import streamlit as st

from app_pages._shared import backend, node_link, nodes
from kg.views import TIMELINE_COLOURS, timeline, timeline_segments, years_list

tl = timeline(backend())
index = nodes()

st.title("Timeline")
st.caption("Every model of the survey by the year of its paper. A line joins a model to each model it "
           "improves on; models of one year are spread over lanes so their names stay readable.")

colour = st.segmented_control("Colour by", TIMELINE_COLOURS, default="objective", key="timeline-colour",
                              format_func=str.capitalize) or "objective"

points = pd.DataFrame([{
    "model": p["model"], "year": p["year"], "lane": p["lane"], "objective": p["objective_text"],
    "direction": p["direction_text"], "extractor": p["extractor_text"], "organisation": p["organisation_text"],
    "improves on": ", ".join(p["improves_on"]) or "—", "colour": p[f"{colour}_text"],
} for p in tl.points])
segments = pd.DataFrame(timeline_segments(tl), columns=["edge", "end", "year", "lane", "link"])

x = alt.X("year:O", title="Year", axis=alt.Axis(labelAngle=0), scale=alt.Scale(paddingOuter=0.35))
y = alt.Y("lane:Q", axis=None, scale=alt.Scale(padding=14))
lines = alt.Chart(segments).mark_line(color="#9a9a9a", strokeWidth=1.2, opacity=0.7).encode(
    x=x, y=y, detail="edge:N", tooltip=[alt.Tooltip("link:N", title="Improves on")])
dots = alt.Chart(points).mark_circle(size=140, opacity=1).encode(
    x=x, y=y, color=alt.Color("colour:N", title=colour.capitalize(), legend=alt.Legend(orient="bottom",
                                                                                     columns=2, labelLimit=420)),
    tooltip=["model", "year", "objective", "extractor", "direction", "organisation", "improves on"])
names = alt.Chart(points).mark_text(align="left", dx=9, fontSize=12).encode(x=x, y=y, text="model:N")
halo = names.mark_text(align="left", dx=9, fontSize=12, stroke="white", strokeWidth=4, strokeJoin="round")
lanes = max([abs(p["lane"]) for p in tl.points] or [0])
chart = (lines + halo + dots + names).properties(height=int(80 + 2 * lanes * 34))
st.altair_chart(chart, width="stretch", key="timeline-chart")

st.subheader("By year")
with st.container(border=True):
    for year, group in years_list(tl):
        with st.container(horizontal=True, gap="small", vertical_alignment="center"):
            st.markdown(f"**{year}**", width=60)
            for p in group:
                node_link(index[p["iri"]])
