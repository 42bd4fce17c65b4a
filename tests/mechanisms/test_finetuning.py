"""The fine-tuning demos: each claim's verdict at the defaults, determinism, refused parameters, the
mechanisms' exact properties (frozen weights never move, the schedules) and oracles against PyTorch's
own modules (same weights, same outputs)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import mechanisms
from mechanisms import ParamError
from mechanisms import auxiliary_lm, continual_multitask, gradual_unfreezing, multi_task


def _run(demo_id: str, **params):
    return mechanisms.get(demo_id).run(params, seed=0)


@pytest.fixture(scope="module")
def unfreezing():
    return _run("gradual-unfreezing")


@pytest.fixture(scope="module")
def auxiliary():
    return _run("auxiliary-lm")


@pytest.fixture(scope="module")
def multitask():
    return _run("multi-task")


@pytest.fixture(scope="module")
def continual():
    return _run("continual-multitask")


# ------------------------------------------------------------------------------- verdicts


def test_gradual_unfreezing_forgets_less_but_not_most_across_domains(unfreezing):
    m = unfreezing.metrics
    # The anti-forgetting half of Q4.11 reproduces: across domains gradual unfreezing forgets at most
    # 80 % as much as fine-tuning everything at once, at task accuracy within 5 points ...
    assert m["different_gradual_forgetting"] <= 0.8 * m["different_all_at_once_forgetting"]
    assert m["different_gradual_accuracy"] >= m["different_all_at_once_accuracy"] - 0.05
    # ... but "helps most when the domains differ" does not: in this toy, fine-tuning on the other domain
    # barely touches the source domain's tokens, so there is little to save, and gradual unfreezing saves
    # several times more forgetting within the source domain. Honest verdict: contradicts.
    assert m["forgetting_saved_same"] >= 2 * m["forgetting_saved_different"]
    assert unfreezing.verdict_for("Q4.11").verdict == "contradicts"


def test_frozen_layer_groups_do_not_move_at_all_before_they_unfreeze(unfreezing):
    assert unfreezing.metrics["frozen_max_change"] == 0.0


def test_the_auxiliary_lm_loss_does_not_help_small_sets_and_hurts_large_ones(auxiliary):
    m = auxiliary.metrics
    # SiATL's Q4.9 and GPT's Q4.13 contradict each other; one experiment can support at most one.
    verdicts = {c: auxiliary.verdict_for(c).verdict for c in ("Q4.9", "Q4.13")}
    assert list(verdicts.values()).count("supports") <= 1
    # Honest toy result: on the small set the auxiliary loss stays within the noise band (Q4.9
    # inconclusive); on the large set it lowers accuracy beyond the noise band, the opposite of GPT's
    # "helps large data sets" (Q4.13 contradicted).
    assert abs(m["small_aux_gain"]) <= m["small_noise_band"]
    assert m["large_aux_gain"] < -m["large_noise_band"]
    assert verdicts == {"Q4.9": "inconclusive", "Q4.13": "contradicts"}


def test_a_small_task_gains_from_sharing_an_encoder_with_a_related_large_task(multitask):
    m = multitask.metrics
    assert multitask.verdict_for("Q13.1").verdict == "supports"
    assert m["multi_task_accuracy"] - m["single_task_accuracy"] > m["noise_band"]
    assert m["multi_task_accuracy"] <= m["bayes_accuracy"] + 0.01


def test_continual_multi_task_training_keeps_task_one_while_sequential_training_forgets_it(continual):
    m = continual.metrics
    assert continual.verdict_for("Q13.5").verdict == "supports"
    assert m["task1_final_continual"] - m["task1_final_sequential"] >= 0.10
    assert m["task1_after_stage1"] - m["task1_final_continual"] <= 0.05


# ------------------------------------------------------------------------------- the mechanisms


def test_ulmfit_schedule_unfreezes_one_more_group_per_epoch_from_the_top():
    assert [gradual_unfreezing.n_unfrozen(e, gradual=True) for e in range(6)] == [1, 2, 3, 4, 4, 4]
    assert [gradual_unfreezing.n_unfrozen(e, gradual=False) for e in range(3)] == [4, 4, 4]
    P = {name: torch.zeros(1, requires_grad=True) for group in gradual_unfreezing.GROUPS for name in group}
    gradual_unfreezing.set_trainable(P, 2)
    assert [P[n].requires_grad for n in ("emb", "w1", "w2", "head_w")] == [False, False, True, True]


def test_ernie2_schedule_trains_every_task_so_far_in_turn():
    assert [continual_multitask.schedule("sequential", 2, s) for s in range(4)] == [2, 2, 2, 2]
    assert [continual_multitask.schedule("continual", 1, s) for s in range(4)] == [0, 1, 0, 1]
    assert [continual_multitask.schedule("continual", 2, s) for s in range(6)] == [0, 1, 2, 0, 1, 2]


def test_gpt_fine_tuning_loss_is_task_loss_plus_lambda_times_lm_loss():
    torch.manual_seed(0)
    d, H, V = 4, 8, auxiliary_lm.V
    P = {"emb": torch.randn(2, V + 1, d), "w1": torch.randn(2, 3 * d, H), "b1": torch.randn(2, 1, H),
         "w2": torch.randn(2, H, H), "b2": torch.randn(2, 1, H), "dec_w": torch.randn(2, H, V),
         "dec_b": torch.randn(2, 1, V), "head_w": torch.randn(2, 2 * H, 2), "head_b": torch.randn(2, 1, 2)}
    x, y = torch.randint(0, V, (2, 5, auxiliary_lm.T)), torch.randint(0, 2, (2, 5))
    plain = auxiliary_lm.fine_tune_loss(P, x, y, torch.zeros(2))
    lm = auxiliary_lm.lm_loss(P, auxiliary_lm.encoder(P, x), x)
    both = auxiliary_lm.fine_tune_loss(P, x, y, torch.tensor([0.5, 0.0]))
    torch.testing.assert_close(both, plain + 0.5 * lm[0], atol=1e-5, rtol=0)


# ------------------------------------------------------------------------------- oracles


def test_window_encoder_equals_a_causal_conv1d_stack():
    """Our embedding-window MLP is a causal Conv1d (kernel K) + ReLU + Linear + ReLU in PyTorch."""
    torch.manual_seed(0)
    V, K, d, H = gradual_unfreezing.V, gradual_unfreezing.K, 6, 10
    emb, conv, lin = nn.Embedding(V + 1, d), nn.Conv1d(d, H, K), nn.Linear(H, H)
    P = {"emb": emb.weight[None], "w1": conv.weight.permute(2, 1, 0).reshape(1, K * d, H),
         "b1": conv.bias.view(1, 1, H), "w2": lin.weight.T[None], "b2": lin.bias.view(1, 1, H)}
    x = torch.randint(0, V, (3, 9))
    padded = F.pad(x, (K - 1, 0), value=V)                   # the pad token fills the window before t = 0
    reference = F.relu(lin(F.relu(conv(emb(padded).transpose(1, 2))).transpose(1, 2)))
    torch.testing.assert_close(gradual_unfreezing.encoder(P, x[None])[0], reference, atol=1e-5, rtol=0)
    torch.testing.assert_close(auxiliary_lm.encoder(P, x[None])[0], reference, atol=1e-5, rtol=0)


def test_bag_of_embeddings_encoder_equals_embedding_bag_mean():
    torch.manual_seed(0)
    bag, lin = nn.EmbeddingBag(multi_task.V, 5, mode="mean"), nn.Linear(5, 7)
    P = {"emb": bag.weight[None], "w": lin.weight.T[None], "b": lin.bias.view(1, 1, 7)}
    x = torch.randint(0, multi_task.V, (4, multi_task.T))
    reference = F.relu(lin(bag(x)))
    torch.testing.assert_close(multi_task.encoder(P, x[None])[0], reference, atol=1e-5, rtol=0)
    torch.testing.assert_close(continual_multitask.encoder(P, x[None])[0], reference, atol=1e-5, rtol=0)


def test_each_run_uses_its_own_weights_and_task_head():
    torch.manual_seed(0)
    P = {"head_w": torch.randn(2, 3, 4, 2), "head_b": torch.randn(2, 3, 1, 2)}
    h = torch.randn(2, 5, 4)
    out = continual_multitask.task_logits(P, h, torch.tensor([2, 0]))
    torch.testing.assert_close(out[0], F.linear(h[0], P["head_w"][0, 2].T, P["head_b"][0, 2, 0]), atol=1e-5, rtol=0)
    torch.testing.assert_close(out[1], F.linear(h[1], P["head_w"][1, 0].T, P["head_b"][1, 0, 0]), atol=1e-5, rtol=0)


# ------------------------------------------------------------------------------- determinism and parameters


@pytest.mark.parametrize("demo_id,fixture", [("gradual-unfreezing", "unfreezing"), ("auxiliary-lm", "auxiliary"),
                                             ("multi-task", "multitask"), ("continual-multitask", "continual")])
def test_same_seed_gives_the_same_metrics(demo_id, fixture, request):
    assert _run(demo_id).metrics == request.getfixturevalue(fixture).metrics


@pytest.mark.parametrize("demo_id,bad", [
    ("gradual-unfreezing", {"epochs": "six"}), ("gradual-unfreezing", {"epochs": 2}),
    ("gradual-unfreezing", {"d": 128, "repeats": 20, "n_task": 20000}),
    ("auxiliary-lm", {"lam": "half"}), ("auxiliary-lm", {"repeats": 1}),
    ("auxiliary-lm", {"n_large": 20000, "repeats": 20, "d": 128}),
    ("multi-task", {"n_small": 2.5}), ("multi-task", {"d": 0}),
    ("multi-task", {"n_large": 50000, "repeats": 40, "d": 128}),
    ("continual-multitask", {"hidden": True}), ("continual-multitask", {"lr": 1.0}),
    ("continual-multitask", {"repeats": 40, "d": 128, "hidden": 128}),
])
def test_bad_parameters_are_refused_before_anything_runs(demo_id, bad, monkeypatch):
    demo = mechanisms.get(demo_id)

    def must_not_run(p, progress):
        raise AssertionError("the demo ran with refused parameters")

    monkeypatch.setattr(demo.load(), "run", must_not_run)
    with pytest.raises(ParamError):
        demo.run(bad, seed=0)
