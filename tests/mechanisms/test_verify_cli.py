"""`kg demo list|run` and `kg verify` as a user runs them; the verification graph as RDF."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

import mechanisms
from kg import EmbeddedBackend, examples
from kg.store import DATA_DIR, GRAPH_FILES
from mechanisms import verify

ROOT = Path(__file__).resolve().parents[2]


def kg(*args):
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_demo_list_names_every_demo_and_its_claims():
    out = kg("demo", "list", "--json")
    assert out.returncode == 0, out.stderr
    listed = {d["id"]: d for d in json.loads(out.stdout)}
    assert set(listed) == set(mechanisms.REGISTRY)
    assert listed["attention-scaling"]["claims"] == ["Q5.2", "Q5.7"]


def test_demo_run_prints_verdicts_with_a_progress_bar():
    out = kg("demo", "run", "attention-scaling", "--d_max", "256", "--draws", "200")
    assert out.returncode == 0, out.stderr
    assert "100% done" in out.stderr and "[####" in out.stderr
    assert "Q5.2    SUPPORTS" in out.stdout and "d_max=256" in out.stdout


def test_demo_run_json_has_metrics_plots_and_verdicts():
    out = kg("demo", "run", "attention_scaling", "--draws=200", "--json")
    result = json.loads(out.stdout)
    assert result["demo"] == "attention-scaling" and result["params"]["draws"] == 200
    assert {v["claim"] for v in result["verdicts"]} == {"Q5.2", "Q5.7"}
    assert result["plots"][0]["series"][0]["x"] and result["runtime"] > 0


@pytest.mark.parametrize("args, message", [
    (("--d_max", "100000"), "d_max must be between 64 and 8192"),
    (("--draws", "lots"), "draws must be a whole number"),
    (("--draws", "20000", "--d_max", "8192"), "would need about"),
    (("--nope", "1"), "has no parameter 'nope'"),
    (("--draws",), "needs a value"),
])
def test_bad_demo_parameters_are_refused_with_a_clear_message(args, message):
    out = kg("demo", "run", "attention-scaling", *args)
    assert out.returncode == 1 and message in out.stderr and "Traceback" not in out.stderr


def test_verify_writes_a_named_graph_of_prov_activities_and_a_report(tmp_path):
    demo = mechanisms.get("attention-scaling")
    results = verify.verify([demo], seeds=[0, 1, 2])
    trig, md = verify.write(results, tmp_path)
    assert "| Q5.2 | experiment | supports | raw_jacobian_ratio = " in md.read_text()
    store = ox.Store()
    store.load(path=str(trig), format=ox.RdfFormat.TRIG)
    rows = list(store.query(
        "PREFIX plm: <https://w3id.org/plm-map/ontology#> PREFIX prov: <http://www.w3.org/ns/prov#> "
        "SELECT ?claim ?verdict ?kind ?n ?seed ?low ?high WHERE { GRAPH <https://w3id.org/plm-map/graph/verification> { "
        "?f plm:onClaim ?claim ; plm:verdict ?verdict ; plm:checkKind ?kind ; plm:intervalLow ?low ; "
        "plm:intervalHigh ?high ; prov:wasGeneratedBy ?v . ?v a plm:Verification , prov:Activity ; "
        "plm:seedCount ?n ; prov:used ?demo ; prov:wasInformedBy ?run . ?run a plm:DemoRun ; plm:seed ?seed ; "
        "prov:used ?demo ; prov:startedAtTime ?t } }"))
    assert {(r[0].value.rsplit("-", 1)[1], r[1].value, r[2].value, r[3].value, r[4].value) for r in rows} == {
        (claim, "supports", "experiment", "3", seed) for claim in ("Q5.2", "Q5.7") for seed in "012"}
    assert all(float(r[5].value) <= float(r[6].value) for r in rows)
    # the graph loads it as a separate named graph; the default graph is untouched
    backend = EmbeddedBackend([DATA_DIR / f for f in GRAPH_FILES] + [trig])
    try:
        answers = backend.query(examples.get("22").text)
        found = {(r["claim"], r["verdict"]) for r in answers.dicts() if "verdict" in r}
        assert found == {("Q5.2", "supports"), ("Q5.7", "supports")}
        (n,) = backend.query("SELECT (COUNT(*) AS ?n) WHERE { ?s plm:verdict ?v }").rows[0]
        assert n.value == "0"
    finally:
        backend.close()


def test_the_committed_verification_results_cover_every_check_and_match_fresh_runs(kg):
    """verification/results.trig (from `kg verify`) holds one finding per claim check, and the fast,
    deterministic demos reach the same verdicts when run again now."""
    rows = kg.query(
        "SELECT ?demo ?claim ?verdict WHERE { GRAPH <https://w3id.org/plm-map/graph/verification> { "
        "?f plm:onClaim ?c ; plm:verdict ?verdict ; prov:wasGeneratedBy/prov:used ?d } "
        "?d plm:demoId ?demo . ?c dcterms:identifier ?claim }").dicts()
    committed = {(r["demo"], r["claim"]): r["verdict"] for r in rows}
    assert set(committed) == {(d.id, c) for d in mechanisms.DEMOS for c in d.claims}
    for demo_id in ("bilinear-asymmetry", "span-masking", "dynamic-masking", "unilm-masks", "permutation-lm"):
        demo = mechanisms.get(demo_id)
        fresh = demo.run(seed=0)
        assert {v.claim: v.verdict for v in fresh.verdicts} == {c: committed[(demo_id, c)] for c in demo.claims}
