"""Verdicts over many seeds: criteria written before the run, intervals, a learning guard, two kinds of
check (mechanisms/evidence.py and the run contract in mechanisms/_base.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mechanisms
from mechanisms import evidence
from mechanisms.evidence import Bound, Check, Criteria

ROOT = Path(__file__).resolve().parents[2]
BELOW = Bound("m", "<", 1.0, "stated effect size")
ABOVE = Bound("m", ">", 2.0, "no effect")


def test_one_value_is_its_own_interval_and_many_give_a_bootstrap_interval_around_their_mean():
    assert evidence.interval([0.5]) == (0.5, 0.5, 0.5)
    mean, low, high = evidence.interval([1.0, 2.0, 3.0, 4.0, 5.0])
    assert mean == 3.0 and 1.0 < low < 3.0 < high < 5.0
    assert evidence.interval([1.0, 2.0, 3.0, 4.0, 5.0]) == (mean, low, high), "the same seeds, the same interval"


def test_a_bound_holds_only_when_the_whole_interval_is_on_its_side():
    assert BELOW.holds(0.2, 0.9) and not BELOW.holds(0.2, 1.1)
    assert ABOVE.holds(2.1, 9.0) and not ABOVE.holds(1.9, 9.0)
    assert not BELOW.holds(float("nan"), 0.5)


@pytest.mark.parametrize("values, verdict", [
    ([0.5, 0.6, 0.55, 0.52, 0.58], "supports"),        # clear of the supporting threshold
    ([0.5, 1.6, 0.55, 1.52, 0.58], "inconclusive"),    # the spread straddles it: no vote hides that
    ([3.0, 3.5, 2.8, 3.1, 3.3], "contradicts"),        # clear of the opposite one
])
def test_an_experiment_is_judged_on_the_interval_of_its_key_number(values, verdict):
    check = Check("Q0.1", "experiment", "m", (BELOW,), (ABOVE,))
    assert evidence.decide(check, (), {"m": values})[0] == verdict


def test_a_model_that_did_not_learn_makes_every_experiment_inconclusive_never_contradicts():
    check = Check("Q0.1", "experiment", "m", (BELOW,), (ABOVE,))
    learned = (Bound("heldout_loss", "<", 2.0, "chance: log V"),)
    assert evidence.decide(check, learned, {"m": [3.0] * 5, "heldout_loss": [2.3] * 5}) == ("inconclusive", False)
    assert evidence.decide(check, learned, {"m": [3.0] * 5, "heldout_loss": [1.0] * 5}) == ("contradicts", True)


def test_an_identity_holds_or_fails_and_ignores_the_learning_guard():
    check = Check("Q0.1", "identity", "m", (BELOW,))
    assert evidence.decide(check, (), {"m": [0.0]})[0] == "holds"
    assert evidence.decide(check, (), {"m": [1.5]})[0] == "fails"


def test_every_criteria_file_covers_its_demo_s_claims_and_says_where_each_threshold_comes_from():
    files = sorted(evidence.CRITERIA.glob("*.toml"))
    assert files, "no criteria written"
    for path in files:
        demo = mechanisms.get(path.stem)
        crit = evidence.criteria(demo.id)
        assert {c.claim for c in crit.checks} == set(demo.claims), path.name
        for c in crit.checks:
            assert c.supports and all(b.source.strip() for b in (*c.supports, *c.contradicts, *crit.learned))


def test_the_run_contract_turns_a_run_that_did_not_learn_into_inconclusive(monkeypatch):
    demo = mechanisms.get("attention-scaling")
    real = evidence.criteria(demo.id)
    never = Criteria(demo.id, real.checks, (Bound("head_jacobian_gain", "<", 0.0, "a guard no run meets"),))
    monkeypatch.setattr(evidence, "criteria", lambda demo_id: never)
    result = demo.run({"draws": 100, "d_max": 256}, seed=0)
    assert {v.verdict for v in result.verdicts} == {"inconclusive"}
    assert all("did not learn" in v.explanation for v in result.verdicts)


def test_scaling_by_d_instead_of_root_d_no_longer_supports_the_scaling_claim(monkeypatch):
    demo = mechanisms.get("attention-scaling")
    assert demo.run(seed=0).verdict_for("Q5.2").verdict == "supports"
    monkeypatch.setattr(demo.load(), "scale", lambda d: float(d))
    broken = demo.run(seed=0)
    assert broken.verdict_for("Q5.2").verdict != "supports"
    assert broken.metrics["scaled_logit_var_stray"] > 1.0


def test_kg_verify_json_gives_one_object_per_claim_with_its_interval_and_leaves_the_shipped_results_alone():
    shipped = (ROOT / "verification" / "results.trig").read_bytes()
    out = subprocess.run([sys.executable, "-m", "kg.cli", "verify", "--only", "attention-scaling", "--seeds", "3",
                          "--first-seed", "7000", "--json"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert [f["claim"] for f in found] == ["Q5.2", "Q5.7"]
    for f in found:
        assert f["kind"] == "experiment" and f["seeds"] == [7000, 7001, 7002] and f["verdict"] in evidence.VERDICTS
        low, high = f["interval"]
        assert low <= f["estimate"] <= high
        assert f["criteria"]["supports"] and all(b["source"] for b in f["criteria"]["supports"])
    assert (ROOT / "verification" / "results.trig").read_bytes() == shipped
