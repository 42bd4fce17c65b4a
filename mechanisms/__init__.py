"""The demos: one readable PyTorch program per mechanism, each measuring a claim of the survey.

`REGISTRY` lists every demo as data (id, titles, the graph's mechanisms it shows, the claims it
checks, typed parameters with bounds); importing it does not import torch. `get(name)` finds a demo
by id, case- and dash-insensitive; `demo.run(params, seed=...)` imports the demo's module and runs it.
"""

from __future__ import annotations

from typing import Callable

from ._base import Demo, Outcome, Param, ParamError, Plot, Result, Series, Verdict, judge  # noqa: F401

F32 = 4  # bytes per float32
PY_OBJ = 100  # rough bytes per element of a Python list (object plus pointer)


# Cost functions estimate the bytes a run allocates and refuse parameter combinations it cannot use.


def _multi_head_cost(p: dict) -> float:
    """Bytes for the training batches; refuses head counts and offsets the toy task cannot use."""
    if p["d_model"] % p["n_head"]:
        raise ParamError(f"d_model ({p['d_model']}) must be divisible by n_head ({p['n_head']})")
    if p["back"] + p["ahead"] >= p["seq_len"]:
        raise ParamError("back + ahead must be smaller than seq_len (the two targets must differ)")
    tokens = max(p["batch"], 1000) * p["seq_len"]
    return 8 * tokens * (p["d_model"] + p["vocab"]) * F32 + 4 * tokens * p["seq_len"] * p["n_head"] * F32


def _positional_cost(p: dict) -> float:
    """Bytes for the 1000-sequence evaluation of the copier; refuses odd widths (sin/cos pairs)."""
    if p["d_model"] % 2:
        raise ParamError(f"d_model ({p['d_model']}) must be even: the sinusoid comes in sin/cos pairs")
    tokens = max(p["batch"], 1000) * p["max_len"]
    return tokens * (8 * p["d_model"] + 2 * p["max_len"] + 2 * p["vocab"]) * F32 + 16 * p["max_len"] ** 2 * 8


def _self_attention_cost(p: dict) -> float:
    """Bytes for the batch's scores and the (T·C)² Jacobian; refuses widths heads cannot split."""
    if p["d_model"] % p["n_head"]:
        raise ParamError(f"d_model ({p['d_model']}) must be divisible by n_head ({p['n_head']})")
    if p["d_model"] % 2:
        raise ParamError(f"d_model ({p['d_model']}) must be even (sinusoidal positions)")
    T, C = p["max_len"], p["d_model"]
    return 8 * p["batch"] * T * (C + p["n_head"] * T) * F32 + 3 * (T * C) ** 2 * F32


def _ffn_cost(p: dict) -> float:
    """Bytes for the 2000-sequence evaluation batch (the largest); refuses widths heads cannot split."""
    if p["d_model"] % p["n_head"]:
        raise ParamError(f"d_model ({p['d_model']}) must be divisible by n_head ({p['n_head']})")
    tokens = max(p["batch"], 2000) * p["seq_len"]
    return tokens * (12 * p["d_model"] * p["n_layer"] + 3 * p["n_head"] * p["seq_len"] * p["n_layer"]) * F32


# Run-time estimates: (optimizer steps, multiply-adds) of a whole run, from its parameters; Adam's
# update counts 4 multiply-adds per parameter. A run estimated past `Demo.max_seconds` (30 s, half the
# 60 s time budget) is refused before it starts, like one that would not fit in memory.


def _timed(c_step: float, c_mac: float, work: Callable[[dict], tuple[float, float]]) -> Callable[[dict], float]:
    """Seconds = c_step × steps + c_mac × multiply-adds. Both constants are fitted per demo to two runs
    (at the defaults and at large sizes) on one core of the development machine while it was shared
    with other work (`kg verify` took 22 s there, about 11 s on a quiet laptop): an upper estimate."""
    def seconds(p: dict) -> float:
        steps, macs = work(p)
        return c_step * steps + c_mac * macs
    return seconds


def _multi_head_work(p: dict) -> tuple[float, float]:
    """Two models (1 and h heads) × steps; q, k, v, o projections, scores and two read-outs per token."""
    B, T, d, V, s = p["batch"], p["seq_len"], p["d_model"], p["vocab"], p["steps"]
    per_token = 4 * d * d + 2 * T * d + 2 * d * V
    return 2 * s, 2 * s * (B * T * per_token + 4 * (4 * d * d + 3 * d * V)) + 2 * 1000 * T * per_token


def _ffn_work(p: dict) -> tuple[float, float]:
    """Three stacks (isolated tokens, sequences, sequences with an FFN) × steps, then a 2000-sequence test."""
    B, T, d, n, s = p["batch"], p["seq_len"], p["d_model"], p["n_layer"], p["steps"]
    per_seq = n * ((4 * d * d + 2 * d) + T * (4 * d * d + 2 * T * d) + T * (12 * d * d + 2 * T * d))
    return 3 * s, s * (B * per_seq + 4 * 3 * n * 12 * d * d) + 2000 * per_seq


def _residual_work(p: dict) -> tuple[float, float]:
    """Two stacks of n_layer FFNs (d → 4d → d) × steps on one full batch."""
    B, d, n, s = p["batch"], p["d_model"], p["n_layer"], p["steps"]
    return 2 * s, 2 * s * (B * n * 8 * d * d + 4 * n * 8 * d * d)


def _positional_work(p: dict) -> tuple[float, float]:
    """Two one-head copiers (learned, sinusoidal) × steps, then a 1000-sequence test each."""
    B, T, d, V, s = p["batch"], p["max_len"], p["d_model"], p["vocab"], p["steps"]
    per_token = 3 * d * d + 2 * T * d + d * V
    return 2 * s, 2 * s * (B * T * per_token + 4 * (3 * d * d + 2 * d * V + T * d)) + 2 * 1000 * T * per_token


def _mlp_order_work(p: dict) -> tuple[float, float]:
    """CBOW and NNLM × steps at batch 64 (their V-wide embeddings and softmax dominate), three test passes."""
    V, d, w, s = p["vocab"], p["d"], p["window"], p["steps"]
    per_example = d * V + w * d * 2 * d + 2 * d * V
    return 2 * s, s * (64 * per_example + 4 * (3 * V * d + 2 * w * d * d + 2 * d * V)) + 3 * 2000 * per_example


def _elmo_work(p: dict) -> tuple[float, float]:
    """Two biLMs (4 LSTMs each) × steps at batch 32, then the V-copy Jacobian: 2T backward passes."""
    V, T, d, s = p["vocab"], p["seq_len"], p["d"], p["steps"]
    per_token = 40 * d * d + 2 * d * V
    return 2 * s, (2 * s * (32 * T * per_token + 4 * (2 * V * d + 40 * d * d)) + 2 * V * T * per_token * (1 + 4 * T)
                   + 2 * 256 * T * per_token)


def _causal_lm_work(p: dict) -> tuple[float, float]:
    """One pre-LN block × steps, and three passes over all vocab^length sequences."""
    V, T, d, s, B = p["vocab"], p["length"], p["width"], p["steps"], p["batch"]
    per_token = 12 * d * d + 2 * T * d + d * V
    return s, s * (B * T * per_token + 4 * 12 * d * d) + 3 * V ** T * T * per_token


def _mlm_independence_work(p: dict) -> tuple[float, float]:
    """Three objectives × steps of a 4d → 4d → 14 predictor."""
    d, s, B, n = p["width"], p["steps"], p["batch"], p["test"]
    return 3 * s, 3 * s * (B * (16 * d * d + 56 * d) + 4 * 16 * d * d) + 3 * n * 10


def _mask_discrepancy_work(p: dict) -> tuple[float, float]:
    """Two one-block MLMs × steps, then three passes over the test sentences each."""
    V, T, d, s, B, n = p["vocab"], p["length"], p["width"], p["steps"], p["batch"], p["test"]
    per_token = 12 * d * d + 2 * T * d + d * V
    return 2 * s, 2 * s * (B * T * per_token + 4 * 12 * d * d) + 2 * 3 * n * T * per_token


def _gradual_unfreezing_work(p: dict) -> tuple[float, float]:
    """LM pre-training (batch 32, 11 tokens, window 3), then 2 schedules × 2R runs × epochs of batches of 32."""
    d, pre, n, e, R = p["d"], p["pretrain_steps"], p["n_task"], p["epochs"], p["repeats"]
    lm = 11 * (10 * d * d + 2 * d * 24)
    fine = e * -(-n // 32) * 2
    return pre + fine, pre * 32 * lm + fine * 2 * R * (32 * 11 * 10 * d * d + 40 * d * d) + 12 * R * 512 * lm


def _auxiliary_lm_work(p: dict) -> tuple[float, float]:
    """LM pre-training, then 4R fine-tuning runs batched together × steps, and their tests."""
    d, pre, s, R, n_large = p["d"], p["pretrain_steps"], p["steps"], p["repeats"], p["n_large"]
    lm = 12 * (10 * d * d + 2 * d * 24)
    return pre + s, pre * 32 * lm + s * 4 * R * (32 * lm + 40 * d * d) + 4 * R * (1024 + n_large) * lm


def _multi_task_work(p: dict) -> tuple[float, float]:
    """2R runs batched together × steps (32 small- and 32 large-task sentences), and their data and tests."""
    d, s, R = p["d"], p["steps"], p["repeats"]
    token = 10 * (2 * d * d + 4 * d)
    return s, s * 2 * R * (64 * token + 16 * d * d) + 2 * R * 1024 * token + R * (p["n_small"] + p["n_large"] + 1024) * 80


def _continual_work(p: dict) -> tuple[float, float]:
    """Three stages × stage_steps of 2R runs batched together, and task tests after every stage."""
    d, H, S, R = p["d"], p["hidden"], p["stage_steps"], p["repeats"]
    token = 12 * (d * H + 3 * H)
    return 3 * S, 3 * S * 2 * R * (32 * token + 4 * d * H) + 18 * R * 1024 * token


def _span_boundary_work(p: dict) -> tuple[float, float]:
    """Three heads × steps over span_len targets per sequence, then a 2000-sequence test."""
    V, L, w, s, B, T = p["vocab"], p["span_len"], p["width"], p["steps"], p["batch"], p["seq_len"]
    per_sequence = L * (3 * w * w + w * V) + T * w
    return 3 * s, 3 * s * (B * per_sequence + 4 * (V * w + 3 * w * w)) + 3 * 2000 * per_sequence


def _two_stream_work(p: dict) -> tuple[float, float]:
    """Two models (with and without the query stream) × steps, both streams through every layer."""
    T, V, d, n, s, B = p["seq_len"], p["vocab"], p["d_model"], p["layers"], p["steps"], p["batch"]
    per_token = n * 2 * (12 * d * d + 2 * T * d) + d * V
    return 2 * s, 2 * s * (B * T * per_token + 4 * n * 12 * d * d) + 2 * 1024 * T * per_token


def _additive_vs_dot_work(p: dict) -> tuple[float, float]:
    """Timed repeats of both scores at each power-of-two size up to n_max."""
    B, d, r = p["batch"], p["d_model"], p["repeats"]
    sizes = [m for m in (16, 32, 64, 128, 256, 512) if m <= p["n_max"]]
    return r * len(sizes) * 2, r * sum(3 * B * m * m * d for m in sizes)


def _xl_reach_work(p: dict) -> tuple[float, float]:
    """For L/2 and L, and N = 1 … max_layers: (total + 1) perturbed copies of (N + 2)·L tokens, twice."""
    L, d = p["seg_len"], p["d_model"]
    steps = macs = 0
    for Lk in sorted({max(1, L // 2), L}):
        for N in range(1, p["max_layers"] + 1):
            total = (N + 2) * Lk
            macs += 2 * (total + 1) * total * N * (4 * d * d + 4 * Lk * d)
            steps += 2 * (N + 2) * N
    return steps, macs


def _xl_eval_work(p: dict) -> tuple[float, float]:
    """Per context C (five at most) and repeat: eval_tokens predictions × layers, recomputed and cached."""
    E, d, N, R = p["eval_tokens"], p["d_model"], p["layers"], p["repeats"]
    contexts = [C for C in (8, 16, 32, 64, 128, 256, 512) if C <= p["max_context"]][-5:]
    macs = sum(R * E * N * (4 * C * d * d + C * C * d + 4 * d * d + C * d) for C in contexts)
    return 2 * R * E * N * len(contexts), macs


DEMOS: tuple[Demo, ...] = (
    # ------------------------------------------------------------------ attention and the Transformer's blocks (Q5, Q6)
    Demo(
        id="attention-scaling", module="mechanisms.attention_scaling",
        title="Scaling by 1/√d keeps softmax gradients alive",
        title_zh="缩放点积：除以√d 让 softmax 梯度不消失",
        mechanisms=("scaled-dot-product-attention", "dot-product-attention", "multi-head-attention"),
        claims=("Q5.2", "Q5.7"),
        params=(
            Param("n_keys", int, 16, 2, 256, help="keys each query attends over"),
            Param("draws", int, 1000, 50, 20000, help="random query/key sets per dimension"),
            Param("d_max", int, 1024, 64, 8192, help="largest dimension measured"),
            Param("d_model", int, 512, 16, 4096, help="model width split into heads for Q5.7"),
        ),
        cost=lambda p: 3 * p["draws"] * p["n_keys"] * max(p["d_max"], p["d_model"]) * F32
        + p["draws"] * p["n_keys"] ** 2 * F32,
        summary="Measures the variance of q·k, the softmax's entropy and its Jacobian as d grows, with and without 1/√d.",
    ),
    Demo(
        id="additive-vs-dot", module="mechanisms.additive_vs_dot",
        title="Additive and dot-product attention: same order of work, dot-product runs faster",
        title_zh="加性注意力与点积注意力：理论复杂度相近，点积在实践中更快",
        mechanisms=("additive-attention", "scaled-dot-product-attention", "dot-product-attention"),
        claims=("Q5.4",),
        params=(
            Param("batch", int, 4, 1, 64, help="sequences per call"),
            Param("d_model", int, 64, 8, 512, help="width of queries, keys and the additive hidden layer"),
            Param("n_max", int, 128, 16, 512, help="longest sequence timed (n = m)"),
            Param("repeats", int, 9, 3, 101, help="timed repeats per size (the median is kept)"),
        ),
        # The additive score's (B, n, m, d_h) tanh tensor dominates; a few copies live at once.
        cost=lambda p: 3 * p["batch"] * p["n_max"] ** 2 * p["d_model"] * F32,
        seconds=_timed(0, 3.7e-09, _additive_vs_dot_work),
        summary="Counts the operations of both scores and times them at equal shapes (median of repeats).",
    ),
    Demo(
        id="bilinear-asymmetry", module="mechanisms.bilinear_asymmetry",
        title="Untied query and key projections let a token attend away from itself",
        title_zh="双线性注意力：Q、K 使用不同投影，使注意力不对称，词元不必最关注自身",
        mechanisms=("bilinear-attention", "dot-product-attention", "self-attention"),
        claims=("Q5.3",),
        params=(
            Param("n_tokens", int, 16, 2, 256, help="tokens per sequence"),
            Param("d_model", int, 64, 4, 1024, help="width of the token vectors"),
            Param("d_k", int, 64, 2, 1024, help="width of the query/key projections"),
            Param("draws", int, 500, 10, 20000, help="random sequences"),
        ),
        cost=lambda p: p["draws"] * p["n_tokens"] * (p["d_model"] + 2 * p["d_k"]) * F32
        + 6 * p["draws"] * p["n_tokens"] ** 2 * F32,
        summary="Compares the diagonal-argmax share and ‖S−Sᵀ‖/‖S‖ of plain x·x, tied and untied projections.",
    ),
    Demo(
        id="multi-head", module="mechanisms.multi_head",
        title="Different heads fetch different positions, like a CNN's channels",
        title_zh="多头注意力：不同的头像 CNN 的通道一样选取不同的特征",
        mechanisms=("multi-head-attention", "scaled-dot-product-attention", "self-attention"),
        claims=("Q5.6",),
        params=(
            Param("n_head", int, 2, 2, 16, help="heads of the multi-head model (the baseline has one)"),
            Param("d_model", int, 32, 4, 256, help="width of both models"),
            Param("vocab", int, 8, 2, 256, help="token types"),
            Param("seq_len", int, 8, 3, 64, help="tokens per sequence"),
            Param("back", int, 1, 1, 32, help="first target: the token this many steps back"),
            Param("ahead", int, 2, 1, 32, help="second target: the token this many steps ahead"),
            Param("steps", int, 150, 10, 5000, help="Adam steps per model"),
            Param("batch", int, 32, 4, 1024, help="sequences per step"),
            Param("lr", float, 0.01, 1e-5, 1.0, help="Adam learning rate"),
        ),
        cost=_multi_head_cost,
        seconds=_timed(0.0092, 3.2e-10, _multi_head_work),
        summary="Trains one head and h heads of equal width to copy two offsets at once; compares accuracy "
                "and where each head looks.",
    ),
    Demo(
        id="ffn-nonlinearity", module="mechanisms.ffn_nonlinearity",
        title="Per-token XOR: attention-only layers versus one position-wise FFN",
        title_zh="逐位置前馈网络：仅注意力的堆叠与加一层 FFN 在逐词元异或任务上的对比",
        mechanisms=("position-wise-ffn", "self-attention"),
        claims=("Q5.8",),
        params=(
            Param("seq_len", int, 8, 2, 64, help="tokens per sequence (the isolated-token model uses 1)"),
            Param("d_model", int, 16, 4, 256, help="width of every model"),
            Param("n_head", int, 2, 1, 16, help="attention heads"),
            Param("n_layer", int, 2, 1, 8, help="attention layers in each stack"),
            Param("steps", int, 100, 10, 5000, help="Adam steps per model"),
            Param("batch", int, 32, 4, 1024, help="sequences per step"),
            Param("lr", float, 0.01, 1e-5, 1.0, help="Adam learning rate"),
        ),
        cost=_ffn_cost,
        seconds=_timed(0.009, 4.1e-10, _ffn_work),
        summary="Trains attention-only stacks (isolated tokens and sequences) and one with an FFN on per-token XOR.",
    ),
    Demo(
        id="residual-layernorm", module="mechanisms.residual_layernorm",
        title="Residual connections and LayerNorm keep a deep stack's gradients and training alive",
        title_zh="残差连接与层归一化：让深层网络梯度稳定、训练更快",
        mechanisms=("residual-layer-norm", "position-wise-ffn", "Transformer"),
        claims=("Q6.3",),
        params=(
            Param("n_layer", int, 24, 2, 96, help="FFN sub-layers in the deep stack"),
            Param("d_model", int, 16, 4, 256, help="width (the FFN's hidden layer is 4×)"),
            Param("batch", int, 64, 8, 4096, help="training examples (one full batch)"),
            Param("steps", int, 60, 5, 2000, help="Adam steps per stack"),
            Param("lr", float, 1e-3, 1e-6, 1.0, help="Adam learning rate"),
        ),
        # Activations kept for backward: per layer the (B, 4C) hidden and a few (B, C) tensors; and weights.
        cost=lambda p: 2 * p["n_layer"] * p["batch"] * 8 * p["d_model"] * F32
        + 3 * p["n_layer"] * 8 * p["d_model"] ** 2 * F32,
        seconds=_timed(0.027, 1.5e-10, _residual_work),
        summary="Compares a deep FFN stack with and without post-LN residual connections: gradient at layer 1 "
                "and loss after N steps.",
    ),
    Demo(
        id="positional-encoding", module="mechanisms.positional_encoding",
        title="Sinusoidal positions: defined everywhere, offsets are rotations, distances depend only on k",
        title_zh="正弦位置编码与可学习位置嵌入：任意位置可用、偏移即旋转、距离只取决于 k",
        mechanisms=("sinusoidal-positional-encoding", "learned-positional-embedding", "relative-positional-encoding"),
        claims=("Q5.9", "Q5.10", "Q5.11"),
        params=(
            Param("d_model", int, 32, 4, 512, help="width of the position codes (even)"),
            Param("max_len", int, 16, 4, 512, help="rows of the learned table = training sequence length"),
            Param("vocab", int, 8, 2, 256, help="token types in the copy task"),
            Param("steps", int, 100, 10, 5000, help="Adam steps per copy model"),
            Param("batch", int, 32, 4, 1024, help="sequences per step"),
            Param("lr", float, 0.01, 1e-5, 1.0, help="Adam learning rate"),
        ),
        cost=_positional_cost,
        seconds=_timed(0.0045, 1.6e-10, _positional_work),
        summary="Indexes both position codes past max_len, fits PE(p)→PE(p+k) by least squares, measures "
                "‖PE(p+k)−PE(p)‖ over p, and trains a tiny copier with each.",
    ),
    Demo(
        id="self-attention-mask", module="mechanisms.self_attention_mask",
        title="Masked self-attention: variable lengths, no positional bias, every pair one step apart",
        title_zh="带掩码的自注意力：处理变长序列、无位置偏置、任意两位置一步相连",
        mechanisms=("self-attention", "attention-mask"),
        claims=("Q5.1", "Q2.5"),
        params=(
            Param("batch", int, 6, 2, 256, help="padded sequences (lengths drawn at random)"),
            Param("max_len", int, 12, 3, 64, help="padded length T"),
            Param("d_model", int, 16, 2, 128, help="width"),
            Param("n_head", int, 2, 1, 16, help="attention heads"),
        ),
        cost=_self_attention_cost,
        summary="Checks padded vs unpadded outputs under a padding mask, permutation equivariance without "
                "positions, and the one-layer Jacobian ∂y_i/∂x_j for every pair.",
    ),
    # ------------------------------------------------------------------ feature extractors (Q2) and ELMo (Q4)
    Demo(
        id="long-range-dependency", module="mechanisms.long_range_dependency",
        title="How far back each extractor's gradient reaches: RNN, LSTM, CNN, Transformer, Transformer-XL",
        title_zh="长距离依赖：各特征抽取器的梯度能回溯多远",
        mechanisms=("RNN", "LSTM", "CNN", "Transformer", "Transformer-XL", "self-attention",
                    "segment-level-recurrence"),
        claims=("Q2.1", "Q2.4", "Q4.4"),
        params=(
            Param("d", int, 32, 4, 128, help="width of every extractor"),
            Param("segment_len", int, 16, 2, 64, help="Transformer window / Transformer-XL segment length L"),
            Param("n_segments", int, 4, 2, 8, help="segments in the input (T = n_segments × segment_len)"),
            Param("n_layers", int, 2, 1, 6, help="layers N of the Transformers and of the CNN"),
            Param("kernel", int, 3, 2, 9, help="CNN kernel size k"),
        ),
        # the d copies of the input plus the attention scores and activations kept for the backward pass
        cost=lambda p: F32 * p["d"] * (p["segment_len"] * p["n_segments"]) * (
            p["d"] * (12 + 4 * p["n_layers"]) + 4 * p["n_layers"] * p["segment_len"]),
        summary="Measures ‖∂y_T/∂x_t‖ against distance for each extractor, and trains an LSTM to recall tokens up to 32 steps back to measure how far it reaches.",
    ),
    Demo(
        id="mlp-order-blindness", module="mechanisms.mlp_order_blindness",
        title="MLP language models: averaging ignores order, concatenation fixes the length",
        title_zh="MLP 语言模型：平均词向量忽略词序，拼接窗口长度固定",
        mechanisms=("MLP",),
        claims=("Q2.2",),
        params=(
            Param("vocab", int, 16, 4, 100_000, help="vocabulary size V"),
            Param("d", int, 16, 4, 128, help="embedding width"),
            Param("window", int, 4, 2, 16, help="context window w of both models"),
            Param("steps", int, 150, 10, 2000, help="Adam steps on the first-slot task (batch 64)"),
        ),
        cost=lambda p: F32 * (2000 * p["vocab"] * 3 + 2000 * p["window"] * p["d"] * 2
                              + p["vocab"] * p["d"] * 4 + p["window"] * p["d"] ** 2 * 2),
        seconds=_timed(0.0012, 2.4e-10, _mlp_order_work),
        summary="Permutes the window of a CBOW bag and an NNLM concatenation, trains both to find the first word, "
                "and feeds them windows of other lengths.",
    ),
    Demo(
        id="cnn-receptive-field", module="mechanisms.cnn_receptive_field",
        title="CNNs see order only within their receptive field; max-pooling over time forgets position",
        title_zh="CNN 只在感受野内看到词序；时间维最大池化丢弃位置",
        mechanisms=("CNN",),
        claims=("Q2.3",),
        params=(
            Param("kernel", int, 3, 2, 9, help="kernel width k"),
            Param("n_layers", int, 4, 1, 8, help="stacked convolution layers"),
            Param("d", int, 16, 4, 2048, help="embedding width = filters per layer"),
            Param("shift", int, 8, 1, 64, help="positions the phrase is moved for the pooling test"),
        ),
        cost=lambda p: F32 * (p["n_layers"] * p["d"] ** 2 * p["kernel"]
                              + 8 * p["d"] * (8 + p["shift"] + 2 * p["n_layers"] * p["kernel"] + 2) * p["n_layers"]),
        summary="Measures the gradient support of a conv stack layer by layer and the effect of a neighbour swap "
                "and of a shift on the feature map and on its max-over-time pooling.",
    ),
    Demo(
        id="layer-cost", module="mechanisms.layer_cost",
        title="Per-layer cost and seriality: RNN, CNN, self-attention, MLP, Transformer, Transformer-XL",
        title_zh="每层计算量与串行性：RNN、CNN、自注意力、MLP、Transformer、Transformer-XL",
        mechanisms=("RNN", "CNN", "self-attention", "MLP", "Transformer", "Transformer-XL",
                    "segment-level-recurrence"),
        claims=("Q2.6", "Q2.7"),
        params=(
            Param("grid", int, 3, 2, 6, help="sizes per axis: n and d run over 16, 32, …, 2^(3+grid)"),
            Param("kernel", int, 3, 2, 9, help="CNN kernel size k"),
            Param("n_layers", int, 2, 1, 4, help="layers of the CNN, Transformer and Transformer-XL"),
            Param("segment_len", int, 16, 4, 256, help="Transformer-XL segment length L"),
        ),
        # FLOPs are counted on shape-only tensors; real ones: the seriality runs at width 16 up to
        # n = L·2^(grid-1), whose attention scores and MLP window weights dominate
        cost=lambda p: F32 * ((p["segment_len"] * 2 ** (p["grid"] - 1)) ** 2 * 4 * p["n_layers"]
                              + p["segment_len"] * 2 ** (p["grid"] - 1) * 16 * 16 * p["n_layers"] + 256 * 64 * 8),
        summary="Counts each layer's FLOPs over a grid of n and d and fits the exponents; measures the longest "
                "chain of dependent matrix products as n grows.",
    ),
    Demo(
        id="elmo-label-leakage", module="mechanisms.elmo_label_leakage",
        title="A stacked biLSTM language model sees the word it predicts; ELMo's separate directions do not",
        title_zh="堆叠双向 LSTM 语言模型会泄露目标词；ELMo 的前后向分离则不会",
        mechanisms=("bidirectional-lm", "LSTM", "autoregressive-lm"),
        claims=("Q4.5",),
        params=(
            Param("vocab", int, 16, 2, 100_000, help="vocabulary size V of the i.i.d. tokens"),
            Param("seq_len", int, 8, 3, 64, help="tokens per sequence"),
            Param("d", int, 32, 4, 128, help="embedding and LSTM width"),
            Param("steps", int, 80, 10, 2000, help="Adam steps per model (batch 32)"),
        ),
        # the batch's activations and logits, and the V copies of one sequence for the Jacobian
        cost=lambda p: F32 * (256 + p["vocab"]) * p["seq_len"] * (2 * p["vocab"] + 40 * p["d"]),
        seconds=_timed(0.0092, 3.2e-11, _elmo_work),
        summary="Trains an interleaved two-layer biLSTM LM and an ELMo-style one on random tokens and measures "
                "their loss against ln V and the gradient of each prediction w.r.t. the word it predicts.",
    ),
    # ------------------------------------------------------------------ language-model objectives (Q3), MASS and UniLM (Q11)
    Demo(
        id="causal-lm", module="mechanisms.causal_lm",
        title="A causal LM is a normalised joint density that only looks left",
        title_zh="自回归语言模型：归一化的联合概率，只看左侧上下文",
        mechanisms=("autoregressive-lm", "attention-mask", "Transformer"),
        claims=("Q3.1", "Q3.2", "Q4.16"),
        params=(
            Param("vocab", int, 4, 2, 6, help="vocabulary size of the toy Markov-chain language"),
            Param("length", int, 4, 2, 6, help="sequence length (every vocab^length sequence is enumerated)"),
            Param("width", int, 32, 8, 128, help="model width d (one attention head)"),
            Param("steps", int, 120, 0, 2000, help="Adam steps on sampled sequences"),
            Param("batch", int, 64, 1, 4096, help="sequences per training step"),
        ),
        cost=lambda p: p["vocab"] ** p["length"] * p["length"] * 8 * p["width"] * 2 * 8
        + p["batch"] * p["length"] * 8 * p["width"] * F32,
        seconds=_timed(0.0068, 2e-10, _causal_lm_work),
        summary="Enumerates every sequence of a tiny vocabulary to show Π p(x_t|x_<t) sums to 1, and measures "
                "the Jacobian of each output with respect to later inputs under the causal mask.",
    ),
    Demo(
        id="mlm-independence", module="mechanisms.mlm_independence",
        title="MLM predicts masked words independently; AR and permutation LMs model their joint",
        title_zh="MLM 独立预测被遮盖的词；自回归与排列语言模型建模其联合分布",
        mechanisms=("masked-language-model", "permutation-lm", "autoregressive-lm", "factorisation-order-sampling"),
        claims=("Q3.5", "Q7.2", "Q14.6", "Q17.1"),
        params=(
            Param("width", int, 16, 4, 64, help="embedding width d of the shared predictor"),
            Param("steps", int, 100, 1, 1000, help="Adam steps per objective (learning rate decays linearly to 0)"),
            Param("batch", int, 256, 1, 384, help="sentences per training step"),
            Param("test", int, 2000, 10, 200000, help="held-out sentences for the joint NLL"),
        ),
        # bounds chosen so that even every maximum at once fits the time estimate (about 28 s)
        cost=lambda p: 2 * p["batch"] * (11 * p["width"] + 14) * F32 * 3 + p["test"] * 3 * 8 * 4,
        seconds=_timed(0.0034, 2.2e-10, _mlm_independence_work),
        summary="Trains one small predictor as MLM, AR LM and permutation LM on 'New York'-style two-word names and "
                "measures the mass each joint puts on non-names and its held-out NLL against the true entropy.",
    ),
    Demo(
        id="mask-discrepancy", module="mechanisms.mask_discrepancy",
        title="[MASK] appears in pre-training but not in fine-tuning; BERT's 80/10/10 rule eases the mismatch",
        title_zh="[MASK] 只在预训练中出现、微调时没有；BERT 的 80/10/10 规则缓解这一差异",
        mechanisms=("masked-language-model", "Transformer"),
        claims=("Q3.7", "Q7.3"),
        params=(
            Param("vocab", int, 20, 5, 200, help="tokens of the arithmetic-progression language"),
            Param("length", int, 10, 4, 64, help="sentence length"),
            Param("width", int, 32, 8, 128, help="model width d"),
            Param("mask_rate", float, 0.15, 0.05, 0.5, help="fraction of positions chosen for prediction"),
            Param("steps", int, 150, 1, 3000, help="Adam steps per model"),
            Param("batch", int, 128, 1, 2048, help="sentences per training step"),
            Param("test", int, 1000, 10, 100000, help="held-out sentences"),
        ),
        cost=lambda p: max(p["batch"], p["test"]) * p["length"] * (12 * p["width"] + p["length"] + p["vocab"])
        * F32 * 3,
        seconds=_timed(0.005, 4e-10, _mask_discrepancy_work),
        summary="Trains two tiny MLMs, 100% [MASK] vs 80/10/10, and compares how well each predicts tokens on "
                "inputs without [MASK], the fine-tuning condition.",
    ),
    Demo(
        id="mass-masks", module="mechanisms.mass_masks",
        title="MASS with k = 1 is BERT's MLM, with k = m it is GPT's LM",
        title_zh="MASS：片段长度 k = 1 即 BERT 的 MLM，k = m 即 GPT 的语言模型",
        mechanisms=("masked-seq2seq", "masked-language-model", "autoregressive-lm", "attention-mask"),
        claims=("Q11.3",),
        params=(
            Param("length", int, 8, 2, 32, help="sentence length m"),
            Param("k", int, 4, 1, 32, help="fragment length of the in-between example (capped at m)"),
            Param("width", int, 16, 4, 64, help="model width d"),
            Param("layers", int, 2, 1, 4, help="encoder and decoder layers"),
        ),
        cost=lambda p: p["length"] ** 2 * p["width"] * p["layers"] * 64 * 8,
        summary="Builds MASS's encoder and decoder inputs for k = 1 and k = m and measures, by gradients, which "
                "tokens each prediction conditions on, against BERT's MLM and GPT's LM.",
    ),
    Demo(
        id="unilm-masks", module="mechanisms.unilm_masks",
        title="UniLM: one shared Transformer, three self-attention masks",
        title_zh="UniLM：同一个共享 Transformer，三种自注意力掩码",
        mechanisms=("unilm-attention-masks", "attention-mask", "self-attention", "Transformer"),
        claims=("Q11.5",),
        params=(
            Param("source", int, 4, 2, 32, help="source segment length s ([SOS] … [EOS])"),
            Param("target", int, 4, 2, 32, help="target segment length t (… [EOS])"),
            Param("heads", int, 2, 1, 8, help="attention heads"),
            Param("head_dim", int, 8, 2, 32, help="width of each head (model width = heads × head_dim)"),
            Param("layers", int, 2, 1, 4, help="Transformer layers, shared by the three masks"),
        ),
        cost=lambda p: (p["source"] + p["target"]) ** 2 * p["heads"] * p["head_dim"] * 8 * 2      # the Jacobian
        + p["layers"] * (p["source"] + p["target"]) * (24 * p["heads"] * p["head_dim"]
                                                       + 4 * p["heads"] * (p["source"] + p["target"])) * 8,
        summary="Runs one tiny Transformer under UniLM's bidirectional, left-to-right and seq2seq masks and checks "
                "that each output's Jacobian vanishes exactly where the mask forbids attention.",
    ),
    # ------------------------------------------------------------------ fine-tuning and multi-task learning (Q4, Q13)
    Demo(
        id="gradual-unfreezing", module="mechanisms.gradual_unfreezing",
        title="Gradual unfreezing forgets less of the pre-trained LM",
        title_zh="逐层解冻：微调时更少遗忘预训练语言模型",
        mechanisms=("gradual-unfreezing", "MLP", "autoregressive-lm"),
        claims=("Q4.11",),
        params=(
            Param("d", int, 16, 4, 128, help="embedding width (hidden layers are 2d wide)"),
            Param("pretrain_steps", int, 300, 10, 3000, help="LM pre-training steps on the source domain"),
            Param("n_task", int, 256, 32, 20000, help="labelled fine-tuning examples"),
            Param("epochs", int, 6, 4, 40, help="fine-tuning epochs (one layer group unfreezes per epoch)"),
            Param("lr", float, 3e-3, 1e-5, 0.1, help="fine-tuning learning rate (Adam)"),
            Param("repeats", int, 6, 1, 20, help="fine-tuning runs averaged per setting"),
        ),
        # per run: the 512-sentence test pass (window K*d, two 2d layers, V logits) and the task set
        cost=lambda p: 2 * p["repeats"] * (2 * 512 * 11 * (7 * p["d"] + 24) * F32 + p["n_task"] * 11 * 8),
        seconds=_timed(0.0025, 1.4e-10, _gradual_unfreezing_work),
        summary="Pre-trains a small 2-layer neural LM on one domain, fine-tunes a classifier with all layers at once "
                "or ULMFiT's gradual unfreezing, and measures how much source-domain LM loss each forgets.",
    ),
    Demo(
        id="auxiliary-lm", module="mechanisms.auxiliary_lm",
        title="Does an auxiliary LM loss help fine-tuning on small or on large data sets?",
        title_zh="辅助语言模型目标：在小数据集还是大数据集上有帮助？",
        mechanisms=("auxiliary-lm-objective", "MLP", "autoregressive-lm"),
        claims=("Q4.9", "Q4.13"),
        params=(
            Param("d", int, 16, 4, 128, help="embedding width (hidden layers are 2d wide)"),
            Param("pretrain_steps", int, 200, 10, 3000, help="LM pre-training steps on unlabelled text"),
            Param("n_small", int, 128, 4, 1000, help="labelled examples in the small set"),
            Param("n_large", int, 1024, 32, 20000, help="labelled examples in the large set"),
            Param("steps", int, 80, 10, 2000, help="fine-tuning steps (batch 32) for every run"),
            Param("lam", float, 0.5, 0.0, 10.0, help="weight λ of the auxiliary LM loss (GPT: 0.5)"),
            Param("lr", float, 1e-2, 1e-5, 0.1, help="fine-tuning learning rate (Adam)"),
            Param("repeats", int, 4, 2, 20, help="paired runs per size (noise band from their spread)"),
        ),
        # per run: the padded training set (ids and labels) and the 1024-sentence test pass
        cost=lambda p: 4 * p["repeats"] * (2 * p["n_large"] * 12 * 8 + 2 * 1024 * 12 * 7 * p["d"] * F32),
        seconds=_timed(0.0042, 2.1e-10, _auxiliary_lm_work),
        summary="Fine-tunes a pre-trained toy LM on a small and a large labelled set with and without "
                "GPT's auxiliary LM loss (λ·L_LM) and compares held-out accuracy against a noise band.",
    ),
    Demo(
        id="multi-task", module="mechanisms.multi_task",
        title="A small task gains from sharing an encoder with a related large task",
        title_zh="多任务学习：小任务与相关大任务共享编码器而受益",
        mechanisms=("multi-task-learning", "MLP"),
        claims=("Q13.1",),
        params=(
            Param("d", int, 16, 4, 128, help="embedding width (the shared layer is 2d wide)"),
            Param("n_small", int, 32, 4, 2000, help="training examples of the small task"),
            Param("n_large", int, 2000, 50, 50000, help="training examples of the related large task"),
            Param("steps", int, 150, 10, 3000, help="training steps (batch 32 per task)"),
            Param("lr", float, 1e-2, 1e-5, 0.1, help="learning rate (Adam)"),
            Param("repeats", int, 8, 2, 40, help="paired single-/multi-task runs (noise band from their spread)"),
        ),
        # per run: the token ids of all three sets and the embedded test sentences
        cost=lambda p: 2 * p["repeats"] * (2 * (p["n_small"] + p["n_large"] + 1024) * 10 * 8
                                           + 2 * 1024 * 10 * p["d"] * F32),
        seconds=_timed(0.0071, 9.5e-11, _multi_task_work),
        summary="Trains a small yes/no task alone or with an encoder shared with a related large topic task "
                "and compares the small task's held-out accuracy.",
    ),
    Demo(
        id="continual-multitask", module="mechanisms.continual_multitask",
        title="Continual multi-task training keeps the first task; sequential training forgets it",
        title_zh="持续多任务学习：逐步加任务且继续训练旧任务，不遗忘第一个任务",
        mechanisms=("continual-multi-task-pre-training", "multi-task-learning", "MLP"),
        claims=("Q13.5",),
        params=(
            Param("d", int, 16, 4, 128, help="embedding width"),
            Param("hidden", int, 8, 2, 128, help="width of the shared ReLU layer"),
            Param("stage_steps", int, 150, 10, 3000, help="training steps per stage (batch 32)"),
            Param("lr", float, 1e-2, 1e-5, 0.1, help="learning rate (Adam)"),
            Param("repeats", int, 6, 1, 40, help="paired sequential/continual runs averaged"),
        ),
        # per run: the embedded 1024-sentence test set, its ids and word weights
        cost=lambda p: 2 * p["repeats"] * 1024 * (12 * (2 * p["d"] * F32 + 8 + F32) + p["hidden"] * F32),
        seconds=_timed(0.0052, 1.2e-10, _continual_work),
        summary="Trains three tasks on a shared encoder one after another, either alone (sequential) or "
                "together with all earlier tasks (ERNIE 2.0), and tracks task 1's accuracy.",
    ),
    # ------------------------------------------------------------------ masking strategies (Q12, Q14, Q15) and Chinese input units (Q9)
    Demo(
        id="masking-units", module="mechanisms.masking_units",
        title="Masking whole words, phrases and entities instead of word pieces",
        title_zh="整词、短语与实体掩码：整单元一起遮盖",
        mechanisms=("basic-level-masking", "whole-word-masking", "phrase-level-masking", "entity-level-masking"),
        claims=("Q14.2", "Q12.3", "Q12.4", "Q12.2"),
        params=(
            Param("n_seqs", int, 200, 10, 20000, help="synthetic sequences in the corpus"),
            Param("words_per_seq", int, 64, 8, 512, help="words per sequence (each word is 1–3 pieces)"),
            Param("n_types", int, 500, 20, 20000, help="word types in the synthetic lexicon"),
            Param("mask_rate", float, 0.15, 0.05, 0.5, help="share of pieces to mask (BERT: 0.15)"),
        ),
        cost=lambda p: p["n_seqs"] * p["words_per_seq"] * 1.6 * 4 * PY_OBJ,
        summary="Masks a synthetic word-piece corpus four ways and counts masked pieces whose word, phrase or "
                "entity stays partly visible.",
    ),
    Demo(
        id="span-masking", module="mechanisms.span_masking",
        title="SpanBERT's span lengths: a geometric distribution truncated at 10 averages 3.8 words",
        title_zh="SpanBERT 片段掩码：截断几何分布的平均长度为 3.8 个词",
        mechanisms=("span-masking",),
        claims=("Q14.4",),
        params=(
            Param("p", float, 0.2, 0.01, 0.99, help="geometric parameter p (paper: 0.2)"),
            Param("l_max", int, 10, 1, 100, help="longest span ℓ_max in words (paper: 10)"),
            Param("n_lengths", int, 100_000, 1000, 5_000_000, help="span lengths sampled for the mean"),
            Param("seq_len", int, 256, 16, 2048, help="words per sequence for the start-position test"),
            Param("n_seqs", int, 200, 10, 20000, help="sequences masked for the start-position test"),
        ),
        cost=lambda p: p["n_lengths"] * 8 * 3 + p["n_seqs"] * p["seq_len"] * (PY_OBJ + 1),
        summary="Samples SpanBERT span lengths and starts, compares the mean with 3.8 and the histogram with "
                "the truncated geometric pmf, and tests the starts for uniformity.",
    ),
    Demo(
        id="dynamic-masking", module="mechanisms.dynamic_masking",
        title="Dynamic masking shows each sequence with a new mask every epoch",
        title_zh="动态掩码：每个轮次为序列生成新的掩码",
        mechanisms=("dynamic-masking",),
        claims=("Q15.2",),
        params=(
            Param("n_seqs", int, 64, 1, 100_000, help="training sequences"),
            Param("seq_len", int, 128, 8, 4096, help="tokens per sequence"),
            Param("epochs", int, 40, 2, 400, help="training epochs (paper: 40)"),
            Param("dupe_factor", int, 10, 1, 100, help="static copies with different masks (paper: 10)"),
            Param("mask_rate", float, 0.15, 0.01, 0.9, help="share of positions chosen for prediction"),
        ),
        cost=lambda p: p["n_seqs"] * p["seq_len"] * (2 * p["epochs"] + p["dupe_factor"]) * (F32 + 1),
        summary="Counts the distinct masks and the positions ever masked per sequence over training, for "
                "BERT's 10 static copies and RoBERTa's dynamic masking.",
    ),
    Demo(
        id="span-boundary", module="mechanisms.span_boundary",
        title="The span boundary objective: a span's two boundary tokens predict its contents",
        title_zh="片段边界目标：用片段两端的边界词预测被遮盖的内容",
        mechanisms=("span-boundary-objective", "span-masking"),
        claims=("Q14.5",),
        params=(
            Param("vocab", int, 32, 8, 4096, help="token vocabulary size V"),
            Param("seq_len", int, 16, 12, 512, help="tokens per sequence (≥ span_len + 2 for both boundaries)"),
            Param("span_len", int, 3, 1, 10, help="masked span length ℓ"),
            Param("width", int, 32, 8, 256, help="representation width d"),
            Param("steps", int, 60, 10, 5000, help="training steps"),
            Param("batch", int, 256, 8, 4096, help="sequences per step"),
            Param("lr", float, 1e-2, 1e-5, 1.0, help="Adam learning rate"),
        ),
        cost=lambda p: (max(p["batch"], 2000) * p["span_len"] * (6 * p["width"] + 3 * p["vocab"]) * 3 * F32
                        + max(p["batch"], 2000) * p["seq_len"] * 8
                        + (p["vocab"] + 12 * p["width"]) * p["width"] * 4 * F32),
        seconds=_timed(0.0028, 1.9e-10, _span_boundary_work),
        summary="Trains SpanBERT's SBO head f(x_s−1, x_e+1, p_i) on spans determined by their boundaries and "
                "compares it with heads that see only the position or only the left boundary.",
    ),
    Demo(
        id="chinese-units", module="mechanisms.chinese_units",
        title="Chinese words versus characters: vocabulary size and out-of-vocabulary rate",
        title_zh="中文以词还是以字为单位：词表大小与未登录词率",
        mechanisms=("character-input", "word-input"),
        claims=("Q9.1",),
        params=(
            Param("train_words", int, 100_000, 1000, 50_000_000, help="words in the sampled training text"),
            Param("test_words", int, 20_000, 1000, 1_000_000, help="words in the sampled held-out text"),
            Param("top_words", int, 400_000, 1000, 400_000,
                  help="sample from the most frequent words of jieba's lexicon (≈ 349k: all)"),
        ),
        cost=lambda p: 60e6 + (p["train_words"] + p["test_words"]) * 8 * 4,
        summary="Samples Chinese text from jieba's word frequencies and measures vocabulary size and held-out "
                "OOV rate for word units versus character units.",
    ),
    # ------------------------------------------------------------------ XLNet (Q3.3, Q17)
    Demo(
        id="permutation-lm", module="mechanisms.permutation_lm",
        title="Permutation LM: every factorisation order, one mask each, bidirectional context",
        title_zh="排列语言模型：对分解顺序取期望，以注意力掩码实现双向上下文",
        mechanisms=("permutation-lm", "factorisation-order-sampling", "attention-mask", "autoregressive-lm"),
        claims=("Q3.3", "Q17.3", "Q17.4", "Q17.5"),
        params=(
            Param("seq_len", int, 8, 2, 64, help="tokens per sequence for the mask and model checks"),
            Param("orders", int, 32, 1, 512, help="factorisation orders sampled"),
            Param("vocab", int, 16, 2, 1000, help="vocabulary of the one-layer model"),
            Param("d_model", int, 32, 2, 256, help="width of the one-layer model"),
            Param("enum_len", int, 6, 2, 8, help="sequence length whose T! orders are all enumerated"),
            Param("mc_max", int, 4096, 64, 65536, help="most orders sampled for the Monte-Carlo estimate"),
            Param("mc_repeats", int, 16, 2, 64, help="independent Monte-Carlo estimates per sample size"),
        ),
        cost=lambda p: p["mc_repeats"] * p["mc_max"] * (10 * 16 + 100 * 2)
        + p["orders"] * 8 * p["seq_len"] * (p["vocab"] + 4 * p["d_model"]) * F32,
        summary="Builds the attention mask of sampled orders, checks it is the causal mask permuted, "
                "counts context sets over all T! orders and shows Monte-Carlo convergence over orders.",
    ),
    Demo(
        id="two-stream-attention", module="mechanisms.two_stream_attention",
        title="Two-stream attention: the query stream knows the target's position, never its token",
        title_zh="双流自注意力：查询流知道目标位置，却看不到目标内容",
        mechanisms=("two-stream-self-attention", "permutation-lm", "attention-mask"),
        claims=("Q17.6", "Q17.7"),
        params=(
            Param("seq_len", int, 6, 4, 32, help="tokens per sequence; the second half of each order is predicted"),
            Param("vocab", int, 12, 2, 1000, help="vocabulary"),
            Param("d_model", int, 32, 4, 256, help="width of both streams"),
            Param("layers", int, 2, 1, 6, help="two-stream layers (shared weights across streams)"),
            Param("steps", int, 60, 0, 2000, help="training steps of each model on arithmetic sequences"),
            Param("batch", int, 64, 1, 1024, help="sequences per training step"),
        ),
        cost=lambda p: 4 * p["layers"] * max(p["batch"], 1024) * p["seq_len"]
        * (12 * p["d_model"] + p["seq_len"] + p["vocab"]) * F32 + 4 * p["layers"] * 12 * p["d_model"] ** 2 * F32,
        seconds=_timed(0.019, 1.8e-10, _two_stream_work),
        summary="A tiny two-stream XLNet: same context, two target positions; Jacobian of the query stream "
                "w.r.t. the target's own token; accuracy with and without the query stream.",
    ),
    # ------------------------------------------------------------------ Transformer-XL (Q18)
    Demo(
        id="segment-recurrence", module="mechanisms.segment_recurrence",
        title="Segment recurrence: the cached segment shapes the outputs but receives no gradient",
        title_zh="片段级循环：缓存的上一片段影响输出，却不接收梯度",
        mechanisms=("segment-level-recurrence", "Transformer-XL"),
        claims=("Q18.4", "Q18.8"),
        params=(
            Param("seg_len", int, 8, 2, 256, help="tokens per segment (= memory length)"),
            Param("layers", int, 2, 1, 8, help="Transformer-XL layers"),
            Param("d_model", int, 32, 4, 256, help="width"),
            Param("vocab", int, 16, 2, 1000, help="vocabulary"),
            Param("batch", int, 4, 1, 256, help="sequences per batch"),
        ),
        cost=lambda p: 3 * p["layers"] * p["batch"] * (2 * p["seg_len"])
        * (8 * p["d_model"] + 2 * p["seg_len"]) * F32 + p["batch"] * p["seg_len"] * p["vocab"] * F32 * 6 + 3 * p["layers"] * 12 * p["d_model"] ** 2 * F32,
        summary="Runs a tiny Transformer-XL over two segments: swaps the cached segment and measures the output "
                "change, then the gradient that reaches segment τ with and without stop-gradient.",
    ),
    Demo(
        id="xl-dependency-length", module="mechanisms.xl_dependency_length",
        title="Transformer-XL's reach grows with depth: N layers see N segments back",
        title_zh="Transformer-XL 的依赖长度随层数线性增长：N 层回看 N 个片段",
        mechanisms=("segment-level-recurrence", "Transformer-XL"),
        claims=("Q18.5",),
        params=(
            Param("seg_len", int, 8, 2, 64, help="segment length L (= memory length); L/2 is measured too"),
            Param("max_layers", int, 4, 2, 8, help="deepest model measured (N = 1 … max_layers)"),
            Param("d_model", int, 16, 4, 128, help="width"),
        ),
        cost=lambda p: 6 * ((p["max_layers"] + 2) * p["seg_len"] + 1) ** 2 * p["d_model"] * F32
        + 3 * ((p["max_layers"] + 2) * p["seg_len"] + 1) * 2 * p["seg_len"] ** 2 * F32,
        seconds=_timed(0.0011, 1.5e-10, _xl_reach_work),
        summary="Perturbs each past token of a tiny N-layer Transformer-XL and finds the farthest one that moves "
                "the current output, for N = 1…4, against N×L and a vanilla fixed-segment model.",
    ),
    Demo(
        id="relative-positions", module="mechanisms.relative_positions",
        title="Relative positions: cached and current tokens collide under absolute codes, not under i − j",
        title_zh="相对位置编码：绝对位置在缓存与当前片段间重复，相对距离 i − j 则可区分",
        mechanisms=("relative-positional-encoding", "sinusoidal-positional-encoding", "Transformer-XL"),
        claims=("Q18.3",),
        params=(
            Param("seg_len", int, 8, 2, 128, help="segment length L (= memory length)"),
            Param("d_model", int, 32, 2, 256, help="width"),
            Param("vocab", int, 16, 2, 1000, help="vocabulary"),
        ),
        cost=lambda p: 3 * (4 * p["seg_len"]) ** 2 * p["d_model"] * F32 * 3,
        summary="Scores a query against a cached and a current copy of the same token: equal under per-segment "
                "absolute codes, different under Transformer-XL's relative A^rel, which depends on i − j only.",
    ),
    Demo(
        id="xl-eval-speed", module="mechanisms.xl_eval_speed",
        title="Cached evaluation beats sliding-window recomputation, more so for longer contexts",
        title_zh="缓存评估比滑动窗口重算更快，且上下文越长加速越大",
        mechanisms=("segment-level-recurrence", "Transformer-XL"),
        claims=("Q18.7",),
        params=(
            Param("max_context", int, 256, 16, 512, help="longest context C measured (five contexts up to it)"),
            Param("eval_tokens", int, 16, 4, 128, help="tokens predicted per evaluation"),
            Param("d_model", int, 32, 4, 128, help="width"),
            Param("layers", int, 2, 1, 4, help="layers"),
            Param("repeats", int, 5, 1, 15, help="timed repeats; the median is reported"),
        ),
        cost=lambda p: 2 * p["layers"] * (p["max_context"] ** 2 + 16 * p["max_context"] * p["d_model"]) * F32
        + 4 * p["layers"] * 12 * p["d_model"] ** 2 * F32,
        seconds=_timed(0.00076, 1.6e-10, _xl_eval_work),
        summary="Evaluates a sequence token by token, recomputing a C-token window each time or reusing cached "
                "states; counts multiplications and times both for growing C.",
    ),
)

REGISTRY: dict[str, Demo] = {d.id: d for d in DEMOS}
assert len(REGISTRY) == len(DEMOS), "demo ids must be unique"


def _key(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def get(name: str) -> Demo:
    """The demo called `name` (case, '-' and '_' do not matter)."""
    found = REGISTRY.get(_key(name))
    if found is None:
        raise KeyError(f"No demo {name!r}; `kg demo list` shows them all.")
    return found


def for_claim(claim_id: str) -> list[Demo]:
    return [d for d in DEMOS if claim_id in d.claims]


def for_mechanism(local_id: str) -> list[Demo]:
    return [d for d in DEMOS if local_id in d.mechanisms]
