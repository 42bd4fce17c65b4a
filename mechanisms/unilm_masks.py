"""UniLM: one shared Transformer, three self-attention masks, three language models.

Claims checked
    Q11.5  UniLM uses three masks - left-to-right LM, bidirectional MLM, and seq2seq LM - over one
           shared Transformer.

Paper: Dong et al., "Unified Language Model Pre-training for Natural Language Understanding and
Generation" (arXiv 1905.03197) §2.2: A_l = softmax(QKᵀ/√d_k + M) V_l with M_ij = 0 if token i may
attend to token j and −∞ if not. Bidirectional: M = 0. Left-to-right: −∞ above the diagonal.
Seq2seq: source tokens see the source; target tokens see the source and their own target prefix
("[SOS] t1 t2 [EOS] t3 t4 t5 [EOS]": t1, t2 see the first four tokens; t4 sees the first six).
Here the SAME weights run under each mask, and the Jacobian of every output with respect to every
input is measured: it must vanish exactly where M = −∞ and nowhere else.

Criteria (mechanisms/criteria/unilm-masks.toml). Q11.5 is an identity (the Jacobian's zeros follow
from the masks at any weights), checked once: no entry where the Jacobian's zeros and the mask
disagree, every blocked entry exactly 0, the allowed counts n², n(n+1)/2 and s² + s·t + t(t+1)/2, and
the paper's example rows. The conditions are the old ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def unilm_mask(kind: str, s: int, t: int) -> torch.Tensor:
    """The additive mask M (n, n), n = s + t: 0 where row i may attend to column j, −∞ elsewhere."""
    n = s + t
    i, j = torch.arange(n)[:, None], torch.arange(n)[None, :]
    allowed = {"bidirectional": torch.ones(n, n, dtype=torch.bool),
               "left-to-right": j <= i,
               "seq2seq": (j < s) | ((i >= s) & (j <= i))}[kind]     # source: source; target: source + prefix
    return torch.zeros(n, n).masked_fill(~allowed, float("-inf"))


def masked_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ / √d + M) v.  q, k, v: (B, H, n, D), M: (n, n) -> (B, H, n, D)."""
    return (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1]) + M).softmax(-1) @ v


class SharedTransformer(nn.Module):
    """A stack of pre-LN blocks whose every self-attention uses the mask it is given."""

    def __init__(self, d: int, layers: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.ModuleList(nn.Linear(d, 3 * d) for _ in range(layers))
        self.out = nn.ModuleList(nn.Linear(d, d) for _ in range(layers))
        self.ln1 = nn.ModuleList(nn.LayerNorm(d) for _ in range(layers))
        self.ln2 = nn.ModuleList(nn.LayerNorm(d) for _ in range(layers))
        self.ffn = nn.ModuleList(nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))
                                 for _ in range(layers))

    def forward(self, h: torch.Tensor, M: torch.Tensor) -> torch.Tensor:
        """h: (B, n, d) input embeddings, M: (n, n) -> (B, n, d)."""
        B, n, d = h.shape
        for qkv, out, ln1, ln2, ffn in zip(self.qkv, self.out, self.ln1, self.ln2, self.ffn):
            q, k, v = qkv(ln1(h)).view(B, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
            h = h + out(masked_attention(q, k, v, M).transpose(1, 2).reshape(B, n, d))
            h = h + ffn(ln2(h))
        return h


# --------------------------------------------------------------------------- the experiment


def run(p: dict, progress) -> Outcome:
    s, t = p["source"], p["target"]
    n = s + t
    d = p["heads"] * p["head_dim"]
    model = SharedTransformer(d, p["layers"], p["heads"]).double()        # float64: non-zeros stay far from 0
    x = torch.randn(1, n, d, dtype=torch.float64)                          # embeddings of [SOS] s.. [EOS] t.. [EOS]
    r = torch.randn(d, dtype=torch.float64)                                # a fixed readout of each output
    expected = {"bidirectional": n * n, "left-to-right": n * (n + 1) // 2, "seq2seq": s * s + s * t + t * (t + 1) // 2}

    metrics, heat = {}, {}
    for step, kind in enumerate(expected):
        M = unilm_mask(kind, s, t).double()
        jac = torch.autograd.functional.jacobian(lambda h: model(h, M)[0] @ r, x)   # (n, 1, n, d)
        norms = jac[:, 0].norm(dim=-1)                                      # ‖∂(out_i · r) / ∂in_j‖  (n, n)
        allowed = M == 0
        heat[kind] = norms
        key = kind.replace("-", "_")
        metrics |= {f"{key}_allowed": int(allowed.sum()), f"{key}_expected": expected[kind],
                    f"{key}_mismatches": int(((norms > 1e-12) != allowed).sum()),
                    f"{key}_blocked_max": float(norms[~allowed].max()) if (~allowed).any() else 0.0,
                    f"{key}_allowed_min": float(norms[allowed].min())}
        progress((step + 1) / 3, kind)

    s2s = heat["seq2seq"] > 1e-12
    # The paper's example (s = t = 4): t1 (row 1) sees the first four tokens, t4 (row s + 1) the first six.
    paper_rows = bool(s2s[1, :s].all() and not s2s[1, s:].any()
                      and s2s[s + 1, :s + 2].all() and not s2s[s + 1, s + 2:].any())
    kinds = [k.replace("-", "_") for k in expected]
    mismatches = sum(metrics[f"{k}_mismatches"] for k in kinds)
    leak = max(metrics[f"{k}_blocked_max"] for k in kinds)
    count_errors = sum(abs(metrics[f"{k}_allowed"] - metrics[f"{k}_expected"]) for k in kinds)
    metrics |= {"total_mismatches": mismatches, "paper_example_rows_match": float(paper_rows),
                "blocked_jacobian_max": leak, "allowed_count_errors": count_errors}

    # The verdict comes from mechanisms/criteria/unilm-masks.toml: the claim is structural, so every
    # blocked entry must have a Jacobian of exactly 0, every allowed entry a clearly non-zero one
    # (> 1e-12 in float64), and the counts must equal n², n(n+1)/2 and s² + s·t + t(t+1)/2.
    verdicts = [judge(
        "Q11.5", key="total_mismatches",
        explanation=(f"One shared {p['layers']}-layer Transformer under three masks (s={s}, t={t}): the Jacobian is "
                     f"exactly 0 on every blocked entry (largest {leak:.1e}) and non-zero on every allowed one "
                     f"({mismatches} mismatches); allowed entries: bidirectional {metrics['bidirectional_allowed']}, "
                     f"left-to-right {metrics['left_to_right_allowed']}, seq2seq {metrics['seq2seq_allowed']} of "
                     f"{n * n} (s² + s·t + t(t+1)/2 = {expected['seq2seq']})."))]
    ticks = [f"s{i}" for i in range(s)] + [f"t{i}" for i in range(t)]
    plots = [Plot(f"‖∂ (output_i · r) / ∂ input_j‖, {kind} mask", "heatmap", "input j", "output i",
                  z=norms.tolist(), x_ticks=ticks, y_ticks=ticks) for kind, norms in heat.items()]
    plots.append(Plot("Allowed attention entries per mask", "bar", "mask", "entries",
                      [Series("allowed", list(expected), [metrics[f"{k}_allowed"] for k in kinds])]))
    return Outcome(metrics, plots, verdicts)
