"""The attention demos: each claim's verdict at the defaults, determinism, refused parameters and
oracles against PyTorch's own modules (same weights, same outputs)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import mechanisms
from mechanisms import ParamError


def _run(demo_id: str):
    return mechanisms.get(demo_id).run(seed=0)


@pytest.fixture(scope="module")
def additive():
    return _run("additive-vs-dot")


@pytest.fixture(scope="module")
def bilinear():
    return _run("bilinear-asymmetry")


@pytest.fixture(scope="module")
def multi_head():
    return _run("multi-head")


@pytest.fixture(scope="module")
def ffn():
    return _run("ffn-nonlinearity")


@pytest.fixture(scope="module")
def residual():
    return _run("residual-layernorm")


@pytest.fixture(scope="module")
def positions():
    return _run("positional-encoding")


@pytest.fixture(scope="module")
def masked():
    return _run("self-attention-mask")


# ------------------------------------------------------------------------------- verdicts


def test_dot_product_is_as_costly_in_theory_but_faster_in_practice(additive):
    assert additive.verdict_for("Q5.4").verdict == "supports"
    assert additive.metrics["flop_ratio_max"] < 4
    assert additive.timings["speedup_at_n_max"] >= 2


def test_untied_projections_let_a_token_look_away_from_itself(bilinear):
    assert bilinear.verdict_for("Q5.3").verdict == "supports"
    assert bilinear.metrics["asymmetry_plain"] < 1e-5 < 0.5 < bilinear.metrics["asymmetry_untied"]
    assert bilinear.metrics["diag_share_plain"] >= 0.9 > 0.5 > bilinear.metrics["diag_share_untied"]


def test_two_heads_split_two_relations_that_one_head_must_average(multi_head):
    assert multi_head.verdict_for("Q5.6").verdict == "supports"
    m = multi_head.metrics
    assert m["params_single_head"] == m["params_2_heads"]          # equal width, equal parameters
    assert m["accuracy_2_heads"] >= 0.9 and m["accuracy_single_head"] <= 0.7


def test_attention_alone_also_solves_per_token_xor_in_context(ffn):
    # Honest result: the claim's check ("an attention-only stack fails a per-position non-linear
    # task that one FFN solves") does not reproduce. On isolated tokens attention is affine and fails
    # XOR (≈ 50 %), but on 8-token sequences the softmax over other tokens supplies the non-linearity
    # and attention-only layers reach ≈ 100 %, like the model with an FFN.
    assert ffn.verdict_for("Q5.8").verdict == "contradicts"
    assert ffn.metrics["accuracy_attention_only_isolated"] < 0.8
    assert ffn.metrics["accuracy_with_ffn"] >= 0.95


def test_residual_and_layernorm_keep_a_deep_stack_trainable(residual):
    assert residual.verdict_for("Q6.3").verdict == "supports"
    assert residual.metrics["grad_first_over_last_plain"] < 1e-3
    assert residual.metrics["final_loss_residual_ln"] < residual.metrics["final_loss_plain"]


def test_sinusoid_covers_any_position_but_trains_slower_than_a_learned_table(positions):
    # Honest result: the range half of Q5.9 holds (the table has max_len rows, the sinusoid is defined
    # everywhere) and both models reach ≈ 100 % on the copy task, but the learned table reaches 95 %
    # about 2.7× sooner, beyond the "about equally fast" factor of 2 — hence inconclusive.
    assert positions.verdict_for("Q5.9").verdict == "inconclusive"
    m = positions.metrics
    assert m["learned_rows_of_4x_max_len"] == m["max_len"] and m["sinusoid_finite"] == 1.0
    assert min(m["accuracy_sinusoidal"], m["accuracy_learned"]) >= 0.95


def test_an_offset_is_a_fixed_rotation_of_the_sinusoid(positions):
    assert positions.verdict_for("Q5.10").verdict == "supports"
    assert positions.metrics["max_heldout_residual"] < 1e-6


def test_distance_between_sinusoids_depends_only_on_the_offset(positions):
    assert positions.verdict_for("Q5.11").verdict == "supports"
    assert positions.metrics["max_distance_spread"] < 1e-6


def test_padding_mask_gives_variable_length_outputs(masked):
    assert masked.verdict_for("Q5.1").verdict == "supports"
    assert masked.metrics["padding_max_error"] <= 1e-5


def test_self_attention_has_no_positional_bias_and_path_length_one(masked):
    assert masked.verdict_for("Q2.5").verdict == "supports"
    assert masked.metrics["pairs_linked_attention"] == masked.metrics["pairs"]
    assert masked.metrics["permutation_error"] <= 1e-5


# ------------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("demo_id", ["bilinear-asymmetry", "self-attention-mask", "additive-vs-dot"])
def test_same_seed_same_metrics(demo_id):
    demo = mechanisms.get(demo_id)
    assert demo.run(seed=3).metrics == demo.run(seed=3).metrics


def test_training_demos_are_deterministic(multi_head, ffn, residual, positions):
    small = {"multi-head": {"steps": 20}, "ffn-nonlinearity": {"steps": 10},
             "residual-layernorm": {"steps": 5, "n_layer": 6}, "positional-encoding": {"steps": 10}}
    for demo_id, params in small.items():
        demo = mechanisms.get(demo_id)
        assert demo.run(params, seed=1).metrics == demo.run(params, seed=1).metrics, demo_id


# ------------------------------------------------------------------------------- refused parameters


@pytest.mark.parametrize("demo_id, params", [
    ("additive-vs-dot", {"n_max": "many"}),                   # wrong type
    ("additive-vs-dot", {"repeats": 1}),                      # below its bound
    ("additive-vs-dot", {"batch": 64, "n_max": 512, "d_model": 512}),   # gigabytes
    ("bilinear-asymmetry", {"d_k": 2.5}),
    ("bilinear-asymmetry", {"draws": 20000, "n_tokens": 256}),
    ("multi-head", {"n_head": 3}),                            # 32 is not divisible by 3
    ("multi-head", {"back": 4, "ahead": 4}),                  # the two targets coincide
    ("multi-head", {"lr": float("nan")}),
    ("ffn-nonlinearity", {"n_layer": 0}),
    ("ffn-nonlinearity", {"d_model": 256, "n_layer": 8, "seq_len": 64, "batch": 1024, "n_head": 16}),
    ("residual-layernorm", {"n_layer": True}),
    ("residual-layernorm", {"n_layer": 96, "d_model": 256, "batch": 4096}),
    ("positional-encoding", {"d_model": 31}),                 # sin/cos come in pairs
    ("positional-encoding", {"max_len": 100000}),
    ("positional-encoding", {"max_len": 512, "batch": 1024, "d_model": 512}),
    ("self-attention-mask", {"batch": 1}),
    ("self-attention-mask", {"max_len": 64, "d_model": 128, "batch": 256, "n_head": 16}),
])
def test_bad_parameters_are_refused_before_running(demo_id, params, monkeypatch):
    demo = mechanisms.get(demo_id)
    monkeypatch.setattr(type(demo), "load", lambda self: pytest.fail("module loaded for refused parameters"))
    with pytest.raises(ParamError):
        demo.run(params, seed=0)


# ------------------------------------------------------------------------------- oracles


def _copy_into_torch_mha(ours, theirs, w_q, w_k, w_v, w_o):
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([w_q.weight, w_k.weight, w_v.weight]))
        theirs.in_proj_bias.copy_(torch.cat([w_q.bias, w_k.bias, w_v.bias]))
        theirs.out_proj.weight.copy_(w_o.weight)
        theirs.out_proj.bias.copy_(w_o.bias)


def test_oracle_multi_head_attention_matches_torch():
    from mechanisms.multi_head import MultiHeadAttention

    torch.manual_seed(0)
    E, h, B, n, m = 32, 4, 3, 5, 7
    ours, theirs = MultiHeadAttention(E, h), nn.MultiheadAttention(E, h, batch_first=True)
    _copy_into_torch_mha(ours, theirs, ours.w_q, ours.w_k, ours.w_v, ours.w_o)
    q, kv = torch.randn(B, n, E), torch.randn(B, m, E)
    keep = torch.rand(B, m) > 0.3
    keep[:, 0] = True                                         # every row keeps at least one key
    out, weights = ours(q, kv, mask=keep[:, None, :].expand(B, n, m))
    ref, ref_weights = theirs(q, kv, kv, key_padding_mask=~keep, average_attn_weights=False)  # True = ignored
    assert torch.allclose(out, ref, atol=1e-5)
    assert torch.allclose(weights, ref_weights, atol=1e-5)
    out, _ = ours(q)                                          # self-attention, no mask
    assert torch.allclose(out, theirs(q, q, q)[0], atol=1e-5)


def test_oracle_scaled_dot_product_matches_torch_sdpa():
    from mechanisms.multi_head import scaled_dot_product_attention

    torch.manual_seed(1)
    q, k, v = torch.randn(2, 3, 6, 8), torch.randn(2, 3, 9, 8), torch.randn(2, 3, 9, 8)
    may_attend = torch.rand(6, 9) > 0.4
    may_attend[:, 0] = True
    out, _ = scaled_dot_product_attention(q, k, v, may_attend)
    ref = nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=may_attend)   # True = may attend
    assert torch.allclose(out, ref, atol=1e-5)
    assert torch.allclose(scaled_dot_product_attention(q, k, v)[0],
                          nn.functional.scaled_dot_product_attention(q, k, v), atol=1e-5)


def test_oracle_packed_self_attention_with_padding_matches_torch():
    from mechanisms.self_attention_mask import SelfAttention

    torch.manual_seed(2)
    ours, theirs = SelfAttention(16, 2), nn.MultiheadAttention(16, 2, batch_first=True)
    with torch.no_grad():                                     # qkv is packed exactly like in_proj
        theirs.in_proj_weight.copy_(ours.qkv.weight)
        theirs.in_proj_bias.copy_(ours.qkv.bias)
        theirs.out_proj.weight.copy_(ours.out.weight)
        theirs.out_proj.bias.copy_(ours.out.bias)
    x, keep = torch.randn(3, 7, 16), torch.arange(7)[None, :] < torch.tensor([[7], [4], [1]])
    assert torch.allclose(ours(x, keep), theirs(x, x, x, key_padding_mask=~keep)[0], atol=1e-5)


def test_oracle_layer_norm_and_post_ln_sublayer_match_torch():
    from mechanisms.residual_layernorm import FFN, LayerNorm, layer_norm, post_ln

    torch.manual_seed(3)
    x, ref = torch.randn(4, 5, 16), nn.LayerNorm(16)
    with torch.no_grad():
        ref.weight.normal_()
        ref.bias.normal_()
    assert torch.allclose(layer_norm(x, ref.weight, ref.bias), ref(x), atol=1e-5)
    ours, sub = LayerNorm(16), FFN(16, 64)
    ours.load_state_dict(ref.state_dict())
    assert torch.allclose(post_ln(x, sub, ours), ref(x + sub(x)), atol=1e-5)


def test_oracle_post_ln_encoder_layer_matches_torch_transformer_encoder_layer():
    from mechanisms.residual_layernorm import EncoderLayer

    torch.manual_seed(4)
    d, h, d_ff = 32, 4, 64
    ours = EncoderLayer(d, h, d_ff)
    theirs = nn.TransformerEncoderLayer(d, h, d_ff, dropout=0.0, activation="relu", batch_first=True,
                                        norm_first=False)
    a = ours.attn
    _copy_into_torch_mha(a, theirs.self_attn, a.w_q, a.w_k, a.w_v, a.w_o)
    theirs.linear1.load_state_dict(ours.ffn.linear1.state_dict())
    theirs.linear2.load_state_dict(ours.ffn.linear2.state_dict())
    theirs.norm1.load_state_dict(ours.norm1.state_dict())
    theirs.norm2.load_state_dict(ours.norm2.state_dict())
    x = torch.randn(3, 6, d)
    assert torch.allclose(ours(x), theirs(x), atol=1e-5)
    theirs.eval()                                             # the fused inference path agrees too
    with torch.no_grad():
        assert torch.allclose(ours(x), theirs(x), atol=1e-5)


def test_oracle_position_wise_ffn_is_a_kernel_1_convolution():
    from mechanisms.ffn_nonlinearity import PositionWiseFFN

    torch.manual_seed(5)
    ffn = PositionWiseFFN(8, 32)
    conv1, conv2 = nn.Conv1d(8, 32, 1), nn.Conv1d(32, 8, 1)
    with torch.no_grad():
        conv1.weight.copy_(ffn.w1.weight[:, :, None])
        conv1.bias.copy_(ffn.w1.bias)
        conv2.weight.copy_(ffn.w2.weight[:, :, None])
        conv2.bias.copy_(ffn.w2.bias)
    x = torch.randn(2, 10, 8)
    ref = conv2(torch.relu(conv1(x.transpose(1, 2)))).transpose(1, 2)
    assert torch.allclose(ffn(x), ref, atol=1e-5)
    perm = torch.randperm(10)                                 # position-wise: permuting commutes
    assert torch.allclose(ffn(x[:, perm]), ffn(x)[:, perm], atol=1e-6)


def test_oracle_sinusoid_matches_the_annotated_transformer_formula():
    import math

    from mechanisms.positional_encoding import rotation_for_offset, sinusoidal_encoding

    d, pos = 64, torch.arange(200, dtype=torch.float64)[:, None]
    div_term = torch.exp(torch.arange(0, d, 2, dtype=torch.float64) * (-math.log(10000.0) / d))
    ref = torch.zeros(200, d, dtype=torch.float64)
    ref[:, 0::2], ref[:, 1::2] = torch.sin(pos * div_term), torch.cos(pos * div_term)
    pe = sinusoidal_encoding(torch.arange(200), d)
    assert torch.allclose(pe, ref, atol=1e-12)
    assert torch.allclose(pe.pow(2).sum(-1), torch.full((200,), d / 2, dtype=torch.float64))   # ‖PE‖² = d/2
    assert (pe[:-5] @ rotation_for_offset(5, d) - pe[5:]).abs().max() < 1e-12
