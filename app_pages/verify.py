"""Verify: every claim check, its verdict and key number; run them all again here."""

import pandas as pd
import streamlit as st

import mechanisms
from app_pages._shared import VERDICT_ICON, backend, esc, node_href
from kg.limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS, clip, display_text
from mechanisms.verify import claim_order, fmt, rows, verify

st.title("Verify the survey's claims")
st.caption(f"{len(mechanisms.DEMOS)} PyTorch demos check {sum(len(d.claims) for d in mechanisms.DEMOS)} claims at "
           "toy scale. Each verdict comes from the numbers the demo just measured, against thresholds written "
           "out in its code.")

LAST = """SELECT ?claim ?verdict ?key ?value ?demo ?why WHERE {
  GRAPH <https://w3id.org/plm-map/graph/verification> {
    ?f plm:onClaim ?c ; plm:verdict ?verdict ; schema:description ?why ; prov:wasGeneratedBy/prov:used ?d .
    OPTIONAL { ?f plm:keyMetric ?key ; plm:keyValue ?value } }
  ?c dcterms:identifier ?claim . ?d plm:demoId ?demo }"""


def _number(value: str) -> str:
    try:
        return fmt(float(value))
    except ValueError:
        return value


def table(records: list[dict]) -> None:
    df = pd.DataFrame(records)
    counts = df["verdict"].value_counts().to_dict()
    st.markdown(" · ".join(f"{VERDICT_ICON[v]} {counts.get(v, 0)} {v}" for v in ("supports", "contradicts", "inconclusive")))
    verdict = st.multiselect("Show verdicts", ["supports", "contradicts", "inconclusive"],
                             default=["supports", "contradicts", "inconclusive"], key="v_filter")
    df = df[df["verdict"].isin(verdict)]
    df.insert(1, "", df["verdict"].map(VERDICT_ICON))
    st.dataframe(df, hide_index=True, width="stretch", column_config={
        "claim_page": st.column_config.LinkColumn("claim", display_text=r"claim-(.*)$"),
        "demo_page": st.column_config.LinkColumn("demo", display_text=r"demo-(.*)$"),
        "why": st.column_config.TextColumn("why", width="large"),
    }, column_order=["claim_page", "", "verdict", "key number", "demo_page", "why"], key="v_table")


if st.button("Run every check now", type="primary", key="v_run",
             help="Runs every demo at its defaults on this machine (about 10–20 s)"):
    bar = st.progress(0.0, text="starting…")
    try:
        results = verify(progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=esc(m, 80)))
        st.session_state["v_results"] = results
    except Exception as e:  # a failing demo shows an error; the app keeps working
        st.error(f"A check failed: {esc(type(e).__name__)}: {esc(e, 300)}")
    finally:
        bar.empty()

results = st.session_state.get("v_results")
if results:
    st.subheader(f"This run: {sum(r.runtime for r in results):.1f} s of demo time")
    records = [{"claim_page": node_href("claim-" + r.claim), "verdict": r.verdict,
                "key number": f"{r.key} = {fmt(r.value)}" if r.key else "",
                "demo_page": node_href("demo-" + r.demo), "why": r.explanation} for r in rows(results)]
else:
    found = backend().query(LAST).dicts()
    st.subheader("Last recorded run (`kg verify`)")
    if not found:
        st.info("No recorded run yet: press the button above, or run `kg verify`.")
        st.stop()
    found.sort(key=lambda f: (claim_order(f["claim"]), f["demo"]))
    # the recorded run is graph data: its ids, numbers and explanations are cut like any other text
    records = [{"claim_page": node_href("claim-" + clip(f["claim"], MAX_INPUT_CHARS)),
                "verdict": display_text(f["verdict"], 40),
                "key number": display_text(f"{f.get('key', '')} = {_number(f['value'])}", MAX_LABEL_CHARS)
                              if "value" in f else "",
                "demo_page": node_href("demo-" + clip(f["demo"], MAX_INPUT_CHARS)), "why": display_text(f["why"])}
               for f in found]
table(records)
