"""Relative positional encoding: with a cache, absolute positions collide; distances i − j do not.

Claims checked
    Q18.3 Each segment needs distinct positions, so Transformer-XL uses relative positional encoding.

Paper: Dai et al., "Transformer-XL" (arXiv 1901.02860), §3.3. Reusing absolute encodings per
segment gives the token at index k of the cached segment τ and the token at index k of segment τ+1
the same code U_k, so the model "has no information to distinguish the positional difference".
Transformer-XL scores query i against key j with
    A_ij = (a) E_iᵀW_qᵀW_{k,E}E_j + (b) E_iᵀW_qᵀW_{k,R}R_{i−j} + (c) uᵀW_{k,E}E_j + (d) vᵀW_{k,R}R_{i−j}
(content addressing, content-dependent positional bias, global content bias, global positional
bias), where R is the sinusoid of the distance i − j and u, v are trained vectors. Here q is taken
from the current segment (indices M..M+L−1 of the extended context) and keys from [cache ∘ segment].
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def sinusoid(positions: torch.Tensor, d: int) -> torch.Tensor:
    """[sin(p·ω) , cos(p·ω)] with ω_k = 10000^(−2k/d) (Vaswani §3.5).  positions: (...) -> (..., d)."""
    freq = torch.exp(-math.log(10000.0) * torch.arange(0, d, 2) / d)      # (d/2,)
    angle = positions.float().unsqueeze(-1) * freq
    return torch.cat([angle.sin(), angle.cos()], dim=-1)[..., :d]        # odd d: drop the last cosine


class AbsoluteScores(nn.Module):
    """q·k/√d with the position code added to the token: (E_i + U_i)ᵀ W_qᵀ W_k (E_j + U_j)."""

    def __init__(self, d: int):
        super().__init__()
        self.w_q, self.w_k = nn.Linear(d, d, bias=False), nn.Linear(d, d, bias=False)

    def forward(self, e_q, e_k, pos_q, pos_k):            # e_q: (Q, d), e_k: (K, d), pos_*: indices
        d = e_q.shape[-1]
        q, k = self.w_q(e_q + sinusoid(pos_q, d)), self.w_k(e_k + sinusoid(pos_k, d))
        return q @ k.T / math.sqrt(d)                     # (Q, K)


class RelativeScores(nn.Module):
    """Transformer-XL's A^rel: positions enter only through R_{i−j}, never added to the tokens."""

    def __init__(self, d: int):
        super().__init__()
        self.w_q, self.w_kE, self.w_kR = (nn.Linear(d, d, bias=False) for _ in range(3))
        self.u, self.v = nn.Parameter(torch.randn(d)), nn.Parameter(torch.randn(d))

    def terms(self, e_q, e_k, dist):                      # dist: (Q, K) distances i − j
        q, k_E = self.w_q(e_q), self.w_kE(e_k)            # (Q, d), (K, d)
        k_R = self.w_kR(sinusoid(dist, e_q.shape[-1]))    # (Q, K, d)
        a = q @ k_E.T                                     # (a) content addressing
        b = torch.einsum("qd,qkd->qk", q, k_R)            # (b) content-dependent positional bias
        c = (k_E @ self.u).expand_as(a)                   # (c) global content bias
        dd = torch.einsum("d,qkd->qk", self.v, k_R)       # (d) global positional bias
        return a, b, c, dd

    def forward(self, e_q, e_k, dist):
        return sum(self.terms(e_q, e_k, dist)) / math.sqrt(e_q.shape[-1])   # (Q, K)


# --------------------------------------------------------------------------- the experiment


def toeplitz_error(scores: torch.Tensor) -> float:
    """max |A[i, j] − A[i+1, j+1]|: zero iff the score depends on i − j only."""
    return float((scores[1:, 1:] - scores[:-1, :-1]).abs().max())


def run(p: dict, progress) -> Outcome:
    L, d, V = p["seg_len"], p["d_model"], p["vocab"]
    M = L                                                  # memory length = segment length
    embed = nn.Embedding(V, d)
    absolute, relative = AbsoluteScores(d), RelativeScores(d)
    # A text that repeats: the cached segment τ holds the same tokens as the current segment τ+1, so
    # the cached token at index k and the current token at index k differ only in where they are.
    tokens = torch.randint(V, (L,))
    with torch.no_grad():
        e_cur = embed(tokens)                                              # (L, d) queries
        e_ext = torch.cat([e_cur, e_cur])                                  # (M+L, d) keys [cache ∘ segment]
        local = torch.arange(L)
        a_abs = absolute(e_cur, e_ext, local, torch.cat([local, local]))   # each segment reuses 0..L−1
        dist = (M + local).unsqueeze(1) - torch.arange(M + L).unsqueeze(0)  # (L, M+L) global i − j
        a_rel = relative(e_cur, e_ext, dist)
    abs_gap = (a_abs[:, :M] - a_abs[:, M:]).abs()                          # (L, L) cached k vs current k
    rel_gap = (a_rel[:, :M] - a_rel[:, M:]).abs()
    code_gap = (sinusoid(dist[:, :M], d) - sinusoid(dist[:, M:], d)).norm(dim=-1)
    progress(0.5, "cached vs current")

    # Shift invariance: one token repeated over 4 segments' worth of positions, so content is constant.
    n = 4 * L
    pos = torch.arange(n)
    with torch.no_grad():
        same = embed(torch.full((n,), int(tokens[0])))                     # (n, d)
        t_rel = relative(same, same, pos.unsqueeze(1) - pos.unsqueeze(0))  # (n, n)
        t_abs = absolute(same, same, pos, pos)
    rel_toeplitz, abs_toeplitz = toeplitz_error(t_rel), toeplitz_error(t_abs)
    distinguished = float((rel_gap > 1e-5).float().mean())

    metrics = {
        "abs_same_index_max_gap": float(abs_gap.max()), "rel_same_index_min_gap": float(rel_gap.min()),
        "rel_same_index_mean_gap": float(rel_gap.mean()), "rel_code_min_distance": float(code_gap.min()),
        "rel_distinguished_fraction": distinguished,
        "rel_toeplitz_error": rel_toeplitz, "abs_toeplitz_error": abs_toeplitz,
    }
    # Thresholds: "identical" and "depends on i − j only" are float round-off (< 1e-5); "distinguished"
    # asks the position codes to differ and 99 % of (query, index) pairs' scores to differ beyond round-off.
    m = metrics
    verdicts = [
        judge("Q18.3", supports=m["abs_same_index_max_gap"] < 1e-6 and m["rel_code_min_distance"] > 1e-3
              and distinguished >= 0.99 and rel_toeplitz < 1e-5,
              contradicts=m["rel_same_index_mean_gap"] < 1e-6 or rel_toeplitz > 1e-3, key="rel_distinguished_fraction",
              explanation=(f"With absolute codes reused per segment, a cached and a current token at the same index "
                           f"get scores differing by at most {m['abs_same_index_max_gap']:.1e} (indistinguishable); "
                           f"with relative encoding {distinguished:.0%} of such pairs differ (mean "
                           f"{m['rel_same_index_mean_gap']:.2f}, min {m['rel_same_index_min_gap']:.3f}; distance codes "
                           f"at least {m['rel_code_min_distance']:.2f} apart) and, for constant content, the score "
                           f"depends on i − j only (Toeplitz error {rel_toeplitz:.1e}, against {abs_toeplitz:.2f} for "
                           f"absolute codes).")),
    ]
    i = L - 1                                                              # the segment's last query
    plots = [
        Plot(f"Scores of query {i} over [cache ∘ segment], same tokens in both", "line", "key index in segment",
             "score", [Series("absolute: cached", list(range(L)), a_abs[i, :M].tolist()),
                       Series("absolute: current", list(range(L)), a_abs[i, M:].tolist()),
                       Series("relative: cached", list(range(L)), a_rel[i, :M].tolist()),
                       Series("relative: current", list(range(L)), a_rel[i, M:].tolist())]),
        Plot("Relative scores with constant content: constant along diagonals (depends on i − j)", "heatmap",
             "key position j", "query position i", z=t_rel.tolist(),
             x_ticks=[str(j) for j in range(n)], y_ticks=[str(j) for j in range(n)]),
        Plot("Absolute scores with constant content: not a function of i − j", "heatmap",
             "key position j", "query position i", z=t_abs.tolist(),
             x_ticks=[str(j) for j in range(n)], y_ticks=[str(j) for j in range(n)]),
    ]
    return Outcome(metrics, plots, verdicts)
