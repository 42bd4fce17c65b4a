"""The registry: every demo is listed once, lazily, with bounded parameters, and agrees with the graph."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from mechanisms import DEMOS, ParamError, get
from mechanisms.links import demo_graph

ROOT = Path(__file__).resolve().parents[2]
INFRA = {"__init__", "__main__", "_base", "evidence", "links", "runner", "verify", "phrasebook"}


def test_importing_the_registry_does_not_import_torch():
    code = "import sys, mechanisms, kg; kg.open_backend(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_every_demo_module_is_registered_and_every_entry_has_a_module():
    files = {p.stem for p in (ROOT / "mechanisms").glob("*.py")} - INFRA
    modules = {d.module.split(".", 1)[1] for d in DEMOS}
    assert files == modules
    for d in DEMOS:
        assert importlib.util.find_spec(d.module) is not None, d.module


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.id)
def test_entries_are_complete_and_defaults_within_bounds(demo):
    assert demo.id == demo.id.lower() and " " not in demo.id
    assert demo.title and demo.title_zh and demo.claims and demo.mechanisms
    assert demo.validate() == demo.defaults()
    for p in demo.params:
        if p.low is not None:
            assert p.low <= p.default <= p.high
            with pytest.raises(ParamError):
                demo.validate({p.name: p.high * 10 + 1})
        if p.kind in (int, float):
            with pytest.raises(ParamError):
                demo.validate({p.name: "not a number"})


def test_get_normalises_case_and_separators():
    first = DEMOS[0]
    assert get(first.id.upper().replace("-", "_")) is first
    with pytest.raises(KeyError):
        get("no-such-demo")


def test_the_graph_holds_exactly_the_registry_links(kg):
    """data/demos.ttl is what the registry generates, and the loaded graph links both ways."""
    assert (ROOT / "data" / "demos.ttl").read_text(encoding="utf-8") == demo_graph()
    checked = {(c.value.rsplit("claim-", 1)[1], d.value) for c, d in kg.select(
        "SELECT ?c ?id WHERE { ?c plm:checkedBy/plm:demoId ?id }").rows}
    shown = {(m.value.rsplit("/", 1)[1], d.value) for m, d in kg.select(
        "SELECT ?m ?id WHERE { ?m plm:demonstratedBy/plm:demoId ?id }").rows}
    assert checked == {(c, d.id) for d in DEMOS for c in d.claims}
    assert shown == {(m, d.id) for d in DEMOS for m in d.mechanisms}


def test_every_claim_and_mechanism_a_demo_names_is_in_the_graph(kg):
    claims = {r[0].value for r in kg.select("SELECT ?id WHERE { ?c a plm:Claim ; dcterms:identifier ?id }").rows}
    concepts = {r[0].value.rsplit("/", 1)[1] for r in kg.select(
        "SELECT ?m WHERE { ?m a ?k VALUES ?k { plm:Mechanism plm:FeatureExtractor plm:Objective plm:Model } }").rows}
    for d in DEMOS:
        assert set(d.claims) <= claims, d.id
        assert set(d.mechanisms) <= concepts, d.id


def test_every_claim_with_a_suggested_toy_check_has_a_demo(kg):
    rows = kg.select("SELECT ?id WHERE { ?c plm:suggestedCheck ?x ; dcterms:identifier ?id "
                     "FILTER NOT EXISTS { ?c plm:checkedBy ?d } }").rows
    assert sorted(r[0].value for r in rows) == []
