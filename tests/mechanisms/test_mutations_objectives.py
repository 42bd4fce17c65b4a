"""Can-fail proofs for the objectives demos: break each mechanism on purpose and the verdict on its
claim is no longer "supports" (an identity: no longer "holds"); and a model that did not learn makes
every experiment inconclusive, never contradicted."""

from __future__ import annotations

import torch

import mechanisms
from mechanisms import causal_lm, mask_discrepancy, mass_masks, mlm_independence, unilm_masks


def _verdicts(demo_id: str, params: dict | None = None, seed: int = 0) -> dict[str, str]:
    return {v.claim: v.verdict for v in mechanisms.get(demo_id).run(params, seed=seed).verdicts}


# ------------------------------------------------------------------ causal-lm (Q3.1, Q3.2, Q4.16)


def test_a_transformer_lm_without_the_causal_mask_depends_on_later_inputs(monkeypatch):
    def unmasked(q, k, v):
        return (q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5).softmax(-1) @ v

    monkeypatch.setattr(causal_lm, "causal_self_attention", unmasked)
    result = mechanisms.get("causal-lm").run({"steps": 20}, seed=0)
    assert result.metrics["jacobian_future_max"] > 1e-6
    assert result.verdict_for("Q3.2").verdict == "fails"
    assert result.verdict_for("Q4.16").verdict == "fails"


def test_a_model_that_reads_the_token_it_predicts_is_not_a_normalised_joint(monkeypatch):
    def unshifted(self, x):                     # input t is x_t itself, not x_{t-1}: no shift right
        return self.tok(x) + self.pos(torch.arange(x.shape[1], device=x.device))

    monkeypatch.setattr(causal_lm.TinyGPT, "embed", unshifted)
    result = mechanisms.get("causal-lm").run(seed=0)
    assert result.metrics["total_probability_error"] > 1e-3
    assert result.verdict_for("Q3.1").verdict != "supports"


def test_an_output_that_reads_no_input_is_no_evidence_of_one_sided_context(monkeypatch):
    forward = causal_lm.TinyGPT.forward_embedded
    monkeypatch.setattr(causal_lm.TinyGPT, "forward_embedded", lambda self, h: forward(self, h.detach()))
    result = mechanisms.get("causal-lm").run({"steps": 20}, seed=0)
    assert result.metrics["jacobian_future_max"] == 0.0        # trivially "causal"...
    assert result.verdict_for("Q3.2").verdict == "fails"      # ...but it reads no left context either
    assert result.verdict_for("Q4.16").verdict == "fails"


def test_an_untrained_causal_lm_leaves_the_density_claim_inconclusive():
    verdicts = _verdicts("causal-lm", {"steps": 0})
    assert verdicts["Q3.1"] == "inconclusive"
    assert verdicts["Q3.2"] == verdicts["Q4.16"] == "holds"    # identities: the mask works at any weights


def test_one_training_step_is_not_yet_a_learned_density():
    assert _verdicts("causal-lm", {"steps": 1})["Q3.1"] == "inconclusive"


# ------------------------------------------------------------------ mask-discrepancy (Q3.7, Q7.3)


def _corruption_with_rule(monkeypatch, rule: tuple[float, float, float]) -> None:
    corrupt = mask_discrepancy.corrupt
    monkeypatch.setattr(mask_discrepancy, "corrupt", lambda x, vocab, rate, _rule: corrupt(x, vocab, rate, rule))


def test_without_an_all_mask_pre_training_the_two_stages_do_not_differ(monkeypatch):
    _corruption_with_rule(monkeypatch, (0.8, 0.1, 0.1))        # both models see random and kept tokens
    result = mechanisms.get("mask-discrepancy").run(seed=0)
    assert result.metrics["mask100_gap"] < 0.3
    assert result.verdict_for("Q3.7").verdict != "supports"
    assert result.verdict_for("Q7.3").verdict != "supports"


def test_an_80_10_10_rule_that_only_masks_does_not_ease_the_mismatch(monkeypatch):
    _corruption_with_rule(monkeypatch, (1.0, 0.0, 0.0))        # both models see only [MASK]
    result = mechanisms.get("mask-discrepancy").run(seed=0)
    assert result.metrics["gap_reduction"] < 0.2
    assert result.verdict_for("Q7.3").verdict != "supports"
    assert result.verdict_for("Q3.7").verdict == "supports"    # the mismatch itself is still there


def test_an_untrained_mlm_leaves_the_mask_discrepancy_claims_inconclusive():
    assert set(_verdicts("mask-discrepancy", {"steps": 1}).values()) == {"inconclusive"}


# ------------------------------------------------------------------ mlm-independence (Q3.5, Q7.2, Q14.6, Q17.1)


def test_an_mlm_that_predicts_masked_words_jointly_has_no_independence_bias(monkeypatch):
    joint = mlm_independence.model_joint
    monkeypatch.setattr(mlm_independence, "model_joint",
                        lambda model, order: joint(model, "12" if order == "mlm" else order))
    result = mechanisms.get("mlm-independence").run(seed=0)
    assert result.metrics["mlm_inconsistent_mass"] < 0.05
    for claim in ("Q3.5", "Q7.2", "Q14.6", "Q17.1"):
        assert result.verdict_for(claim).verdict != "supports"
    assert result.verdict_for("Q3.5").verdict == result.verdict_for("Q7.2").verdict == "contradicts"


def test_lms_whose_second_word_cannot_see_the_first_do_not_model_the_dependency(monkeypatch):
    predictions, log_q = mlm_independence.predictions, mlm_independence.log_q
    MASK = mlm_independence.MASK

    def context_only(seq, objective):           # AR and PLM: every prediction sees c alone
        inputs, target, label = predictions(seq, objective)
        if objective != "mlm":
            inputs = inputs.clone()
            inputs[:, 1:] = MASK
        return inputs, target, label

    monkeypatch.setattr(mlm_independence, "predictions", context_only)
    monkeypatch.setattr(mlm_independence, "log_q", lambda model, grid, hidden, target:
                        log_q(model, grid, (False, True, True), target))
    result = mechanisms.get("mlm-independence").run(seed=0)
    assert result.metrics["ar_dependency_captured"] < 0.5 and result.metrics["plm_dependency_captured"] < 0.5
    for claim in ("Q3.5", "Q7.2", "Q14.6", "Q17.1"):
        assert result.verdict_for(claim).verdict != "supports"


def test_one_training_step_gives_inconclusive_never_contradicts_for_every_claim():
    verdicts = _verdicts("mlm-independence", {"steps": 1})
    assert verdicts == {"Q3.5": "inconclusive", "Q7.2": "inconclusive", "Q14.6": "inconclusive",
                        "Q17.1": "inconclusive"}


def test_an_under_trained_joint_model_withholds_support_but_contradicts_nothing():
    for seed in (0, 1):                         # 20 steps: learned, but the PLM still leaks onto non-names
        verdicts = _verdicts("mlm-independence", {"steps": 20}, seed=seed)
        assert "contradicts" not in verdicts.values()
        assert verdicts["Q3.5"] == verdicts["Q14.6"] == "inconclusive"


# ------------------------------------------------------------------ mass-masks (Q11.3)


def test_a_mass_decoder_that_reads_the_token_it_predicts_is_not_bert_at_k_1(monkeypatch):
    def unshifted(m, u, k):
        pos = torch.arange(m)
        inside = (pos >= u) & (pos < u + k)
        return torch.where(inside, -1, pos), torch.where(inside, pos, -1)

    monkeypatch.setattr(mass_masks, "mass_inputs", unshifted)
    result = mechanisms.get("mass-masks").run(seed=0)
    assert result.metrics["k1_decoder_token_inputs"] > 0 and result.metrics["k1_vs_mlm_mismatches"] > 0
    assert result.verdict_for("Q11.3").verdict == "fails"


def test_a_mass_decoder_without_its_causal_mask_is_not_gpt(monkeypatch):
    monkeypatch.setattr(mass_masks, "causal_mask", lambda m: torch.ones(m, m, dtype=torch.bool))
    result = mechanisms.get("mass-masks").run(seed=0)
    assert result.metrics["mlm_gpt_vs_theory_mismatches"] > 0
    assert result.verdict_for("Q11.3").verdict == "fails"


# ------------------------------------------------------------------ unilm-masks (Q11.5)


def test_attention_that_ignores_unilms_mask_depends_on_forbidden_tokens(monkeypatch):
    attention = unilm_masks.masked_attention
    monkeypatch.setattr(unilm_masks, "masked_attention", lambda q, k, v, M: attention(q, k, v, torch.zeros_like(M)))
    result = mechanisms.get("unilm-masks").run(seed=0)
    assert result.metrics["total_mismatches"] > 0 and result.metrics["blocked_jacobian_max"] > 0
    assert result.verdict_for("Q11.5").verdict == "fails"


def test_a_seq2seq_mask_whose_source_sees_the_target_is_not_unilms(monkeypatch):
    mask = unilm_masks.unilm_mask

    def leaky(kind, s, t):
        M = mask(kind, s, t)
        if kind == "seq2seq":
            M[:s] = 0.0                         # source rows attend to the target too
        return M

    monkeypatch.setattr(unilm_masks, "unilm_mask", leaky)
    result = mechanisms.get("unilm-masks").run(seed=0)
    assert result.metrics["allowed_count_errors"] > 0          # not the paper's s² + s·t + t(t+1)/2
    assert result.metrics["total_mismatches"] > 0              # and, over two layers, targets see later targets
    assert result.verdict_for("Q11.5").verdict == "fails"
