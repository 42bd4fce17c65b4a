"""Additive (Bahdanau) versus scaled dot-product attention: same order of work, different speed.

Claims checked
    Q5.4  Additive and dot-product attention have similar theoretical cost, but dot-product
          attention is faster in practice because it is a matrix multiplication.

Papers: Vaswani et al., "Attention Is All You Need" (arXiv 1706.03762), §3.2.1: "While the two are
similar in theoretical complexity, dot-product attention is much faster and more space-efficient in
practice, since it can be implemented using highly optimized matrix multiplication code."
Additive attention is Bahdanau et al. (arXiv 1409.0473): e_ij = vᵀ tanh(W_q q_i + W_k k_j).

Both score every (query, key) pair with O(d) work, so both cost O(n·m·d). The dot product is one
batched matmul; the additive score must build an (n, m, d_h) tensor, apply tanh to every element,
then reduce it with v — elementwise work that no matmul kernel can absorb.
"""

from __future__ import annotations

import math
import statistics
import time

import torch

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanisms


def dot_product_attention(q, k, v, w_q, w_k):
    """softmax((q W_q)(k W_k)ᵀ / √d_h) v.  q: (B, n, d), k, v: (B, m, d), w_q, w_k: (d, d_h)."""
    hq, hk = q @ w_q, k @ w_k                                       # (B, n, d_h), (B, m, d_h)
    scores = hq @ hk.transpose(-2, -1) / math.sqrt(hq.shape[-1])    # (B, n, m): one matmul
    return scores.softmax(-1) @ v                                   # (B, n, d)


def additive_attention(q, k, v, w_q, w_k, w_v):
    """softmax(w_vᵀ tanh(q W_q + k W_k)) v.  w_q, w_k: (d, d_h), w_v: (d_h,)."""
    hq, hk = q @ w_q, k @ w_k                                       # (B, n, d_h), (B, m, d_h)
    feats = torch.tanh(hq.unsqueeze(2) + hk.unsqueeze(1))           # (B, n, m, d_h): every pair
    scores = feats @ w_v                                            # (B, n, m)
    return scores.softmax(-1) @ v                                   # (B, n, d)


# --------------------------------------------------------------------------- theoretical counts


def score_flops(n: int, m: int, d: int, d_h: int) -> dict:
    """Floating-point operations to score all n·m pairs (a multiply-add counts 2).

    Both project queries and keys first (as in a Transformer), so that part is shared."""
    project = 2 * (n + m) * d * d_h
    dot = project + 2 * n * m * d_h + n * m                          # q·k for every pair, then /√d_h
    additive = (project
                + n * m * d_h                                        # broadcast add
                + n * m * d_h                                        # tanh (counted as one op)
                + 2 * n * m * d_h)                                   # reduce with w_v
    return {"dot": dot, "additive": additive,
            "dot_intermediate": n * m, "additive_intermediate": n * m * d_h}


def median_seconds(fn, repeats: int) -> float:
    fn()                                                             # warm-up (allocations, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --------------------------------------------------------------------------- the experiment


def run(p: dict, progress) -> Outcome:
    batch, d, repeats, device = p["batch"], p["d_model"], p["repeats"], p["device"]
    d_h = d                                                          # equal widths: a fair comparison
    sizes = [n for n in (16, 32, 64, 128, 256, 512) if n <= p["n_max"]]
    w_q, w_k = torch.randn(d, d_h, device=device) / math.sqrt(d), torch.randn(d, d_h, device=device) / math.sqrt(d)
    w_v = torch.randn(d_h, device=device) / math.sqrt(d_h)

    metrics, timings, t_dot, t_add, flop_ratio = {}, {}, [], [], []
    with torch.no_grad():
        for i, n in enumerate(sizes):
            q, k, v = (torch.randn(batch, n, d, device=device) for _ in range(3))
            out_dot = dot_product_attention(q, k, v, w_q, w_k)
            out_add = additive_attention(q, k, v, w_q, w_k, w_v)
            assert out_dot.shape == out_add.shape == (batch, n, d)
            t_dot.append(median_seconds(lambda: dot_product_attention(q, k, v, w_q, w_k), repeats))
            t_add.append(median_seconds(lambda: additive_attention(q, k, v, w_q, w_k, w_v), repeats))
            c = score_flops(n, n, d, d_h)
            flop_ratio.append(c["additive"] / c["dot"])
            metrics[f"flops_dot_n{n}"], metrics[f"flops_additive_n{n}"] = c["dot"], c["additive"]
            metrics[f"intermediate_ratio_n{n}"] = c["additive_intermediate"] / c["dot_intermediate"]
            timings[f"dot_ms_n{n}"], timings[f"additive_ms_n{n}"] = 1e3 * t_dot[-1], 1e3 * t_add[-1]
            progress((i + 1) / len(sizes), f"n = {n}")

    n_hi = sizes[-1]
    ratio_hi, ratio_max = flop_ratio[-1], max(flop_ratio)
    speedup = t_add[-1] / t_dot[-1]
    metrics.update({"flop_ratio_at_n_max": ratio_hi, "flop_ratio_max": ratio_max, "n_max": n_hi})
    timings["speedup_at_n_max"] = speedup

    # Thresholds: "similar theoretical complexity" = at every size the op counts stay within a
    # constant factor below 4 (both O(n·m·d); the factor tends to 2 as n grows); "much faster in
    # practice" = dot-product at least 2× faster at the largest size (wall time is noisy on a shared
    # CPU, hence the median and the wide margin).
    similar = ratio_max < 4
    verdicts = [judge(
        "Q5.4", supports=similar and speedup >= 2.0, contradicts=not similar or speedup < 1.0,
        key="flop_ratio_at_n_max",
        explanation=(f"At n = m = {n_hi}, d = {d} additive attention needs {ratio_hi:.1f}× the operations of the dot "
                     f"product (at most {ratio_max:.1f}× at any size: both are O(n·m·d)) and "
                     f"materialises a {d_h}× larger intermediate, yet it ran {speedup:.1f}× slower "
                     f"(median of {repeats} runs)."))]
    plots = [
        Plot("Wall time per attention call (median)", "line", "sequence length n = m", "milliseconds",
             [Series("dot-product (matmul)", sizes, [1e3 * t for t in t_dot]),
              Series("additive (tanh MLP)", sizes, [1e3 * t for t in t_add])], log_x=True, log_y=True),
        Plot("Theoretical score FLOPs", "line", "sequence length n = m", "FLOPs",
             [Series("dot-product", sizes, [metrics[f"flops_dot_n{n}"] for n in sizes]),
              Series("additive", sizes, [metrics[f"flops_additive_n{n}"] for n in sizes])],
             log_x=True, log_y=True),
    ]
    return Outcome(metrics, plots, verdicts, timings)
