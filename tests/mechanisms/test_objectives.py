"""The objectives demos: what an autoregressive LM, a masked LM, a permutation LM, MASS and UniLM
condition each prediction on, and what that costs (independence, the [MASK] mismatch)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import mechanisms

from ._support import refuses_before_running as _refuses_before_running
from ._support import run as _run


def _largest_allowed(demo_id: str) -> dict:
    demo = mechanisms.get(demo_id)
    return {p.name: p.high for p in demo.params if p.high is not None}


# ------------------------------------------------------------------ causal-lm (Q3.1, Q3.2, Q4.16)


@pytest.fixture(scope="module")
def causal():
    return _run("causal-lm")


def test_an_autoregressive_lm_is_a_normalised_joint_density(causal):
    assert causal.verdict_for("Q3.1").verdict == "supports"
    assert abs(causal.metrics["total_probability"] - 1.0) < 1e-5
    assert causal.metrics["kl_after_training"] < 0.5 * causal.metrics["kl_before_training"]


def test_a_causal_lm_cannot_see_the_right_context(causal):
    assert causal.verdict_for("Q3.2").verdict == "holds"
    assert causal.verdict_for("Q4.16").verdict == "holds"
    assert causal.metrics["jacobian_future_max"] == 0.0
    assert causal.metrics["jacobian_left_max"] > 1e-6


def test_oracle_causal_attention_matches_torch_sdpa():
    from mechanisms.causal_lm import causal_self_attention

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 7, 8, generator=g) for _ in range(3))
    ours = causal_self_attention(q, k, v)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-5, rtol=0)


def test_causal_lm_is_deterministic(causal):
    assert _run("causal-lm").metrics == causal.metrics


def test_causal_lm_refuses_bad_parameters(monkeypatch):
    for bad in ({"steps": "many"}, {"vocab": 9}, {"vocab": 6, "length": 6, "width": 128}):
        _refuses_before_running("causal-lm", bad, monkeypatch)


# ------------------------------------------------------------------ mlm-independence (Q3.5, Q7.2, Q14.6, Q17.1)


@pytest.fixture(scope="module")
def independence():
    return _run("mlm-independence")


def test_mlm_puts_mass_on_new_angeles_and_is_a_biased_joint(independence):
    m = independence.metrics
    assert independence.verdict_for("Q3.5").verdict == "supports"
    assert independence.verdict_for("Q7.2").verdict == "supports"
    assert m["mlm_inconsistent_mass"] > 0.2 > 0.05 > max(m["ar_inconsistent_mass"], m["plm_inconsistent_mass"])
    # MLM reaches its own optimum: the product of the true marginals
    assert abs(m["mlm_inconsistent_mass"] - m["true_marginals_product_inconsistent_mass"]) < 0.05


def test_permutation_lm_learns_the_relation_mlm_only_knows_implicitly(independence):
    m = independence.metrics
    assert independence.verdict_for("Q14.6").verdict == "supports"
    assert m["mlm_inconsistent_given_x1"] < 0.05       # MLM knows York follows New when it sees New...
    assert m["mlm_dependency_captured"] < 0.2          # ...but not when both are masked


def test_a_left_to_right_lm_models_every_dependency(independence):
    assert independence.verdict_for("Q17.1").verdict == "supports"
    assert independence.metrics["ar_dependency_captured"] > 0.8


def test_mlm_independence_is_deterministic(independence):
    assert _run("mlm-independence").metrics == independence.metrics


def test_mlm_independence_refuses_bad_parameters(monkeypatch):
    for bad in ({"width": 2.5}, {"steps": 0}, {"test": 10**7}):
        _refuses_before_running("mlm-independence", bad, monkeypatch)
    demo = mechanisms.get("mlm-independence")     # the bounds alone keep it far from gigabytes
    assert demo.cost(demo.validate(_largest_allowed("mlm-independence"))) < demo.max_bytes


# ------------------------------------------------------------------ mask-discrepancy (Q3.7, Q7.3)


@pytest.fixture(scope="module")
def discrepancy():
    return _run("mask-discrepancy")


def test_a_mask_only_mlm_transfers_badly_to_inputs_without_mask(discrepancy):
    m = discrepancy.metrics
    assert discrepancy.verdict_for("Q3.7").verdict == "supports"
    assert m["mask100_masked_acc"] > 0.8              # it did learn the pre-training task
    assert m["mask100_gap"] > 0.3


def test_the_80_10_10_rule_eases_the_mismatch(discrepancy):
    m = discrepancy.metrics
    assert discrepancy.verdict_for("Q7.3").verdict == "supports"
    assert m["bert801010_mask_free_acc"] > m["mask100_mask_free_acc"] + 0.2
    assert m["bert801010_mask_shift"] < m["mask100_mask_shift"]


def test_bert_corruption_keeps_the_80_10_10_proportions():
    from mechanisms.mask_discrepancy import corrupt

    torch.manual_seed(0)
    x = torch.randint(0, 50, (2000, 50))
    inp, chosen = corrupt(x, 50, 0.15, (0.8, 0.1, 0.1))
    masked, kept = (inp == 50)[chosen].float().mean(), (inp == x)[chosen].float().mean()
    assert abs(chosen.float().mean() - 0.15) < 0.01 + 1 / 50        # + the one forced position per row
    assert abs(masked - 0.8) < 0.02 and abs(kept - (0.1 + 0.1 / 50)) < 0.02
    assert not (inp == 50)[~chosen].any() and (inp == x)[~chosen].all()


def test_mask_discrepancy_is_deterministic(discrepancy):
    assert _run("mask-discrepancy").metrics == discrepancy.metrics


def test_mask_discrepancy_refuses_bad_parameters(monkeypatch):
    for bad in ({"mask_rate": "most"}, {"mask_rate": 0.9}, {"test": 100000, "length": 64, "width": 128}):
        _refuses_before_running("mask-discrepancy", bad, monkeypatch)


# ------------------------------------------------------------------ mass-masks (Q11.3)


@pytest.fixture(scope="module")
def mass():
    return _run("mass-masks")


def test_mass_with_k_1_is_bert_and_with_k_m_is_gpt(mass):
    m = mass.metrics
    assert mass.verdict_for("Q11.3").verdict == "holds"
    assert m["k1_vs_mlm_mismatches"] == m["km_vs_gpt_mismatches"] == m["mlm_gpt_vs_theory_mismatches"] == 0
    assert m["conditioning_size_mass_k1"] == 8 * 7 and m["conditioning_size_mass_km"] == 8 * 7 // 2


def test_mass_inputs_follow_the_paper():
    from mechanisms.mass_masks import mass_inputs

    enc, dec = mass_inputs(8, 2, 4)                   # fragment x2..x5
    assert enc.tolist() == [0, 1, -1, -1, -1, -1, 6, 7]
    assert dec.tolist() == [-1, -1, -1, 2, 3, 4, -1, -1]   # shifted right, [M] elsewhere


def test_mass_masks_holds_for_other_lengths():
    result = mechanisms.get("mass-masks").run({"length": 5, "k": 2, "layers": 1}, seed=3)
    assert result.verdict_for("Q11.3").verdict == "holds"


def test_mass_masks_is_deterministic(mass):
    assert _run("mass-masks").metrics == mass.metrics


def test_mass_masks_refuses_bad_parameters(monkeypatch):
    for bad in ({"length": "eight"}, {"length": 1}, {"layers": 9}):
        _refuses_before_running("mass-masks", bad, monkeypatch)
    demo = mechanisms.get("mass-masks")
    assert demo.cost(demo.validate(_largest_allowed("mass-masks"))) < demo.max_bytes


# ------------------------------------------------------------------ unilm-masks (Q11.5)


@pytest.fixture(scope="module")
def unilm():
    return _run("unilm-masks")


def test_unilm_jacobians_vanish_exactly_where_each_mask_forbids(unilm):
    m = unilm.metrics
    assert unilm.verdict_for("Q11.5").verdict == "holds"
    assert m["total_mismatches"] == 0
    assert (m["bidirectional_allowed"], m["left_to_right_allowed"], m["seq2seq_allowed"]) == (64, 36, 42)
    assert m["paper_example_rows_match"] == 1.0


@pytest.mark.parametrize("kind", ["bidirectional", "left-to-right", "seq2seq"])
def test_oracle_unilm_masked_attention_matches_torch_sdpa(kind):
    from mechanisms.unilm_masks import masked_attention, unilm_mask

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 2, 9, 8, generator=g) for _ in range(3))
    M = unilm_mask(kind, 4, 5)
    ours = masked_attention(q, k, v, M)
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, attn_mask=M), atol=1e-5, rtol=0)


def test_unilm_masks_is_deterministic(unilm):
    assert _run("unilm-masks").metrics == unilm.metrics


def test_unilm_masks_refuses_bad_parameters(monkeypatch):
    for bad in ({"heads": 1.5}, {"source": 1}, {"layers": 0}):
        _refuses_before_running("unilm-masks", bad, monkeypatch)
    demo = mechanisms.get("unilm-masks")
    assert demo.cost(demo.validate(_largest_allowed("unilm-masks"))) < demo.max_bytes
