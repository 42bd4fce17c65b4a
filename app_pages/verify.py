"""Verify: every claim check, its kind, verdict, key number and interval over the seeds; run them all again here."""

import pandas as pd
import streamlit as st

import mechanisms
from app_pages._shared import VERDICT_ICON, backend, esc, node_href, verdict_word
from app_pages.i18n import language, t
from kg.limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS, clip, display_text
from kg.nodes import claims as graph_claims
from mechanisms.evidence import DEFAULT_SEEDS
from mechanisms.phrasebook import say
from mechanisms.verify import claim_order, criterion_text, fmt, judgements, key_text, verify

st.title(t("verify.title"))
st.caption(t("verify.caption", demos=len(mechanisms.DEMOS), claims=sum(len(d.claims) for d in mechanisms.DEMOS),
             seeds=DEFAULT_SEEDS))

LAST = """SELECT ?claim ?verdict ?kind ?key ?value ?low ?high ?n ?demo ?why
       (GROUP_CONCAT(?criterion; separator=" · ") AS ?criteria) WHERE {
  GRAPH <https://w3id.org/plm-map/graph/verification> {
    ?f plm:onClaim ?c ; plm:verdict ?verdict ; schema:description ?why ; prov:wasGeneratedBy ?act .
    ?act prov:used ?d .
    OPTIONAL { ?act plm:seedCount ?n }
    OPTIONAL { ?f plm:checkKind ?kind }
    OPTIONAL { ?f plm:keyMetric ?key ; plm:keyValue ?value }
    OPTIONAL { ?f plm:intervalLow ?low ; plm:intervalHigh ?high }
    OPTIONAL { ?f plm:criterion ?criterion } }
  ?c dcterms:identifier ?claim . ?d plm:demoId ?demo }
GROUP BY ?claim ?verdict ?kind ?key ?value ?low ?high ?n ?demo ?why"""
VERDICTS = list(VERDICT_ICON)                     # supports, contradicts, inconclusive, holds, fails
KINDS = ("identity", "experiment", "unstated")
CLAIM_ID, DEMO_ID = r"claim-(.*)$", r"demo-(.*)$"   # a link's text: the id out of its node page's address


def _number(value) -> str:
    try:
        return fmt(float(value))
    except (TypeError, ValueError):
        return str(value)


def _key(f: dict) -> str:
    """The recorded key number: mean [low, high] (an identity, or one seed: the value alone)."""
    if "value" not in f:
        return ""
    text = f"{f.get('key', '')} = {_number(f['value'])}"
    if "low" in f and f.get("low") != f.get("high"):
        text += f" [{_number(f['low'])}, {_number(f['high'])}]"
    return display_text(text, MAX_LABEL_CHARS)


def table(records: list[dict]) -> None:
    df = pd.DataFrame(records)
    by_kind = {k: df[df["kind"] == k]["verdict"].value_counts().to_dict() for k in KINDS}
    lines = [t("verify.counts_identity", holds=by_kind["identity"].get("holds", 0),
               fails=by_kind["identity"].get("fails", 0)),
             t("verify.counts_experiment", **{v: by_kind["experiment"].get(v, 0)
                                             for v in ("supports", "contradicts", "inconclusive")})]
    if by_kind["unstated"]:
        lines.append(t("verify.counts_unstated", count=sum(by_kind["unstated"].values())))
    st.markdown("  \n".join(lines))
    present = [v for v in VERDICTS if v in set(df["verdict"])] or VERDICTS
    words = {v: verdict_word(v) for v in VERDICTS}   # made in this run (AppTest calls format_func outside it)
    verdict = st.multiselect(t("verify.show_verdicts"), present, default=present, key="v_filter",
                             format_func=words.get)
    df = df[df["verdict"].isin(verdict)]
    df.insert(1, "", df["verdict"].map(lambda v: VERDICT_ICON.get(v, "")))
    kinds = {k: t(f"verify.kind_{k}") for k in KINDS}
    df = df.assign(verdict=df["verdict"].map(verdict_word), kind=df["kind"].map(lambda k: kinds.get(k, k)))
    st.dataframe(df, hide_index=True, width="stretch", column_config={
        "claim_page": st.column_config.LinkColumn(t("verify.column_claim"), display_text=CLAIM_ID),
        "kind": st.column_config.TextColumn(t("verify.column_kind")),
        "verdict": st.column_config.TextColumn(t("verify.column_verdict")),
        "key number": st.column_config.TextColumn(t("verify.column_key_number")),
        "seeds": st.column_config.NumberColumn(t("verify.column_seeds")),
        "demo_page": st.column_config.LinkColumn(t("verify.column_demo"), display_text=DEMO_ID),
        "statement": st.column_config.TextColumn(t("verify.column_statement"), width="large"),
        "criteria": st.column_config.TextColumn(t("verify.column_criteria"), width="large"),
        "why": st.column_config.TextColumn(t("verify.column_why"), width="large"),
    }, column_order=["claim_page", "", "kind", "verdict", "statement", "key number", "seeds", "demo_page", "why",
                     "criteria"], key="v_table")


if st.button(t("verify.run_all"), type="primary", key="v_run", help=t("verify.run_all_help", seeds=DEFAULT_SEEDS)):
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
    st.subheader(t("verify.this_run", seconds=sum(r.runtime for r in results), runs=len(results)))
    records = [{"claim_page": node_href("claim-" + j.claim), "kind": j.kind, "verdict": j.verdict,
                "key number": key_text(j), "seeds": len(j.seeds),
                "demo_page": node_href("demo-" + j.demo), "why": say(j.explanation, language()),
                "criteria": " · ".join(criterion_text(side, b) for side in ("supports", "contradicts", "learned")
                                       for b in j.criteria.get(side, [])),
                "statement": statement_of.get(j.claim, "")} for j in judgements(results)]
else:
    found = backend().query(LAST).dicts()
    st.subheader(t("verify.last_run"))
    if not found:
        st.info(t("verify.no_run"))
        st.stop()
    found.sort(key=lambda f: (claim_order(f["claim"]), f["demo"]))
    # the recorded run is graph data: its ids, numbers and explanations are cut like any other text
    records = [{"claim_page": node_href("claim-" + clip(f["claim"], MAX_INPUT_CHARS)),
                "kind": display_text(f.get("kind", "unstated"), 40),
                "verdict": display_text(f["verdict"], 40),
                "key number": _key(f),
                "seeds": int(f["n"]) if str(f.get("n", "")).isdigit() else None,
                "demo_page": node_href("demo-" + clip(f["demo"], MAX_INPUT_CHARS)),
                "why": display_text(say(f["why"], language())),
                "criteria": display_text(f.get("criteria", ""), 600),
                "statement": statement_of.get(f["claim"], "")}
               for f in found]
table(records)
