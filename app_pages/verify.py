"""Verify: every claim check, its verdict and key number; run them all again here."""

import pandas as pd
import streamlit as st

import mechanisms
from app_pages._shared import VERDICT_ICON, backend, esc, node_href, verdict_word
from app_pages.i18n import language, t
from kg.limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS, clip, display_text
from kg.nodes import claims as graph_claims
from mechanisms.phrasebook import say
from mechanisms.verify import claim_order, fmt, rows, verify

st.title(t("verify.title"))
st.caption(t("verify.caption", demos=len(mechanisms.DEMOS), claims=sum(len(d.claims) for d in mechanisms.DEMOS)))

LAST = """SELECT ?claim ?verdict ?key ?value ?demo ?why WHERE {
  GRAPH <https://w3id.org/plm-map/graph/verification> {
    ?f plm:onClaim ?c ; plm:verdict ?verdict ; schema:description ?why ; prov:wasGeneratedBy/prov:used ?d .
    OPTIONAL { ?f plm:keyMetric ?key ; plm:keyValue ?value } }
  ?c dcterms:identifier ?claim . ?d plm:demoId ?demo }"""
VERDICTS = list(VERDICT_ICON)                                 # supports, contradicts, inconclusive
CLAIM_ID, DEMO_ID = r"claim-(.*)$", r"demo-(.*)$"             # a link's text: the id out of its node page's address


def _number(value: str) -> str:
    try:
        return fmt(float(value))
    except ValueError:
        return value


def table(records: list[dict]) -> None:
    df = pd.DataFrame(records)
    counts = df["verdict"].value_counts().to_dict()
    st.markdown(" · ".join(t("verify.verdict_count", icon=VERDICT_ICON[v], count=counts.get(v, 0),
                             verdict=verdict_word(v)) for v in VERDICTS))
    words = {v: verdict_word(v) for v in VERDICTS}   # made in this run (AppTest calls format_func outside it)
    verdict = st.multiselect(t("verify.show_verdicts"), VERDICTS, default=VERDICTS, key="v_filter",
                             format_func=words.get)
    df = df[df["verdict"].isin(verdict)]
    df.insert(1, "", df["verdict"].map(VERDICT_ICON))
    df = df.assign(verdict=df["verdict"].map(verdict_word))    # the verdict's word in the interface's language
    st.dataframe(df, hide_index=True, width="stretch", column_config={
        "claim_page": st.column_config.LinkColumn(t("verify.column_claim"), display_text=CLAIM_ID),
        "verdict": st.column_config.TextColumn(t("verify.column_verdict")),
        "key number": st.column_config.TextColumn(t("verify.column_key_number")),
        "demo_page": st.column_config.LinkColumn(t("verify.column_demo"), display_text=DEMO_ID),
        "statement": st.column_config.TextColumn(t("verify.column_statement"), width="large"),
        "why": st.column_config.TextColumn(t("verify.column_why"), width="large"),
    }, column_order=["claim_page", "", "verdict", "statement", "key number", "demo_page", "why"], key="v_table")


if st.button(t("verify.run_all"), type="primary", key="v_run", help=t("verify.run_all_help")):
    bar = st.progress(0.0, text=t("shared.starting"))
    try:
        results = verify(progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=esc(m, 80)))
        st.session_state["v_results"] = results
    except Exception as e:  # a failing demo shows an error; the app keeps working
        st.error(t("verify.check_failed", kind=esc(type(e).__name__), error=esc(e, 300)))
    finally:
        bar.empty()

# each claim's statement in the interface's language, beside the verdict the demo gave it
statement_of = {ref.id: display_text(ref.text_in(language()), 300) for ref in graph_claims(backend()).values()}
results = st.session_state.get("v_results")
if results:
    st.subheader(t("verify.this_run", seconds=sum(r.runtime for r in results)))
    records = [{"claim_page": node_href("claim-" + r.claim), "verdict": r.verdict,
                "key number": f"{r.key} = {fmt(r.value)}" if r.key else "",
                "demo_page": node_href("demo-" + r.demo), "why": say(r.explanation, language()),
                "statement": statement_of.get(r.claim, "")} for r in rows(results)]
else:
    found = backend().query(LAST).dicts()
    st.subheader(t("verify.last_run"))
    if not found:
        st.info(t("verify.no_run"))
        st.stop()
    found.sort(key=lambda f: (claim_order(f["claim"]), f["demo"]))
    # the recorded run is graph data: its ids, numbers and explanations are cut like any other text
    records = [{"claim_page": node_href("claim-" + clip(f["claim"], MAX_INPUT_CHARS)),
                "verdict": display_text(f["verdict"], 40),
                "key number": display_text(f"{f.get('key', '')} = {_number(f['value'])}", MAX_LABEL_CHARS)
                              if "value" in f else "",
                "demo_page": node_href("demo-" + clip(f["demo"], MAX_INPUT_CHARS)),
                "why": display_text(say(f["why"], language())),
                "statement": statement_of.get(f["claim"], "")}
               for f in found]
table(records)
