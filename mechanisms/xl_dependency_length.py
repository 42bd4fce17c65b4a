"""Transformer-XL's longest dependency grows with depth: N layers reach N segments back.

Claims checked
    Q18.5 The longest dependency grows N-fold, N being the depth: O(N × L) for segment length L.

Paper: Dai et al., "Transformer-XL" (arXiv 1901.02860), §3.2: "the largest possible dependency
length grows linearly w.r.t. the number of layers as well as the segment length, i.e., O(N × L)".
Each layer's queries see the previous segment's states of the layer below (memory length M = L), so
every layer reaches one more segment back. With the causal mask the bound is exact: the token at
offset i of a segment depends on inputs up to i + N·L positions back, i.e. N·L positions before its
segment starts. A vanilla Transformer trained on fixed segments sees only its own segment (< L back).
Same toy layer as the segment-recurrence demo: one head, no positional encoding.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def attend(q, k, v, mask):
    """softmax(q kᵀ/√d, blocked where mask is False) v.  q: (B, L, d), k, v: (B, M+L, d), mask: (L, M+L)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])          # (B, L, M+L)
    return scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v


class XLLayer(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, h, mem):                            # h: (B, L, d) current, mem: (B, M, d) cached
        L, M = h.shape[1], mem.shape[1]
        ext = torch.cat([mem, h], dim=1)                  # [SG(mem) ∘ h]  (B, M+L, d)
        mask = torch.ones(L, M + L, dtype=torch.bool).tril(M)      # all of the cache, current j ≤ i
        a = self.ln1(h + self.o(attend(self.q(h), self.k(ext), self.v(ext), mask)))
        return self.ln2(a + self.ffn(a))


def read_sequence(layers, e, L: int, recurrent: bool):
    """Feed e: (B, S·L, d) segment by segment; -> the top layer's outputs (B, S·L, d).
    recurrent: each layer's cache is the previous segment's input to it (memory length L), detached."""
    B, total, d = e.shape
    mems = [torch.zeros(B, 0, d) for _ in layers]
    outputs = []
    for start in range(0, total, L):
        h = e[:, start:start + L]
        new = []
        for layer, mem in zip(layers, mems):
            new.append(h.detach())
            h = layer(h, mem)
        mems = new if recurrent else mems                 # vanilla: every segment starts from scratch
        outputs.append(h)
    return torch.cat(outputs, dim=1)


# --------------------------------------------------------------------------- the experiment


def reach(layers, L: int, segments: int, d: int, recurrent: bool) -> dict:
    """Perturb each past token in turn (one batch row each) and find the farthest one that changes the
    outputs of the first and of the last token of the final segment."""
    total = segments * L
    e = torch.randn(1, total, d).expand(total + 1, total, d).clone()   # row 0 clean, row 1+j perturbs j
    e[torch.arange(1, total + 1), torch.arange(total)] += 3.0 * torch.randn(total, d)
    with torch.no_grad():
        out = read_sequence(layers, e, L, recurrent)                   # (total+1, total, d)
    start = total - L                                                  # the final segment's first index
    found = {}
    for name, t in (("first", start), ("last", total - 1)):
        change = (out[1:, t] - out[0, t]).abs().amax(-1)               # (total,) per perturbed position
        moved = torch.nonzero(change > 1e-6).flatten()
        found[name] = t - int(moved.min())                             # farthest distance back
        found[f"{name}_change"] = change
    found["before_segment"] = start - (total - 1 - found["last"])      # reach past the segment start
    return found


def run(p: dict, progress) -> Outcome:
    d, n_max, L = p["d_model"], p["max_layers"], p["seg_len"]
    depths = list(range(1, n_max + 1))
    lengths = sorted({max(1, L // 2), L})
    xl, vanilla, rows = {}, {}, []
    for k, Lk in enumerate(lengths):
        for N in depths:
            layers = nn.ModuleList(XLLayer(d) for _ in range(N))
            xl[Lk, N] = reach(layers, Lk, N + 2, d, recurrent=True)
            vanilla[Lk, N] = reach(layers, Lk, N + 2, d, recurrent=False)
            rows.append((Lk, N))
            progress(len(rows) / (len(lengths) * n_max), f"L={Lk}, N={N}")

    # Exact bound from the mask: first token N·L back; last token N·L + L − 1; vanilla ≤ L − 1.
    exact = all(xl[Lk, N]["first"] == N * Lk and xl[Lk, N]["last"] == N * Lk + Lk - 1 for Lk, N in rows)
    vanilla_max = max(vanilla[r]["last"] for r in rows)
    growth = xl[L, n_max]["before_segment"] / xl[L, 1]["before_segment"]
    metrics = {"vanilla_max_reach": vanilla_max, "reach_growth_1_to_max_layers": growth, "exact_match": int(exact)}
    for Lk, N in rows:
        metrics[f"xl_reach_L{Lk}_N{N}"] = xl[Lk, N]["last"]
        metrics[f"xl_reach_before_segment_L{Lk}_N{N}"] = xl[Lk, N]["before_segment"]
        metrics[f"vanilla_reach_L{Lk}_N{N}"] = vanilla[Lk, N]["last"]

    measured = ", ".join(f"N={N}: {xl[L, N]['before_segment']}" for N in depths)
    verdicts = [
        judge("Q18.5", supports=exact and growth == n_max and vanilla_max <= L,
              contradicts=growth <= 1.0, key="reach_growth_1_to_max_layers",
              explanation=(f"With segments of L={L} tokens the last token's outputs depend on inputs reaching "
                           f"{measured} positions before its segment (N×L exactly, so {growth:.0f}× from 1 to "
                           f"{n_max} layers; total reach {xl[L, n_max]['last']} = N·L + L − 1), while the vanilla "
                           f"fixed-segment Transformer never reaches beyond {vanilla_max} < L positions.")),
    ]
    plots = [
        Plot("Farthest input that changes the last token's output", "line", "layers N", "positions back",
             [Series(f"Transformer-XL, L={Lk}", depths, [xl[Lk, N]["last"] for N in depths]) for Lk in lengths]
             + [Series(f"N·L + L − 1, L={L}", depths, [N * L + L - 1 for N in depths]),
                Series(f"vanilla, L={L}", depths, [vanilla[L, N]["last"] for N in depths])]),
        Plot(f"Output change of the last token per perturbed input, L={L}, N={n_max}", "line",
             "positions back", "max |Δ output|",
             [Series("Transformer-XL", list(range(len(xl[L, n_max]["last_change"]))),
                     xl[L, n_max]["last_change"].flip(0).tolist())]),
    ]
    return Outcome(metrics, plots, verdicts)
