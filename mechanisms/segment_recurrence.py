"""Segment-level recurrence: Transformer-XL reuses the previous segment's states, without gradient.

Claims checked
    Q18.4 Transformer-XL caches the previous segment's hidden states (fixed, no gradient) and reuses
          them as extended context for the next segment.
    Q18.8 The recurrence is not trained by backpropagation through time.

Paper: Dai et al., "Transformer-XL: Attentive Language Models Beyond a Fixed-Length Context"
(arXiv 1901.02860), §3.2: h̃ⁿ⁻¹_{τ+1} = [SG(hⁿ⁻¹_τ) ∘ hⁿ⁻¹_{τ+1}]; queries come from the current
segment, keys and values from the extended context h̃; SG is stop-gradient (`.detach()`). Deviation,
for a short page: no positional encoding (the causal mask orders the tokens; the relative encoding
has its own demo), one attention head.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def attend(q, k, v, mask):
    """softmax(q kᵀ/√d, blocked where mask is False) v.  q: (B, L, d), k, v: (B, M+L, d), mask: (L, M+L)."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])          # (B, L, M+L)
    return scores.masked_fill(~mask, float("-inf")).softmax(-1) @ v


def xl_mask(L: int, M: int) -> torch.Tensor:
    """Query i of the segment sees all M cached positions and current positions j ≤ i.  -> (L, M+L)."""
    return torch.ones(L, M + L, dtype=torch.bool).tril(M)


class XLLayer(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, h, mem):                            # h: (B, L, d) current, mem: (B, M, d) cached
        ext = torch.cat([mem, h], dim=1)                  # h̃ = [mem ∘ h]  (B, M+L, d)
        a = attend(self.q(h), self.k(ext), self.v(ext), xl_mask(h.shape[1], mem.shape[1]))
        a = self.ln1(h + self.o(a))
        return self.ln2(a + self.ffn(a))


class TinyXL(nn.Module):
    def __init__(self, vocab: int, d: int, layers: int):
        super().__init__()
        self.tok, self.head = nn.Embedding(vocab, d), nn.Linear(d, vocab)
        self.layers = nn.ModuleList(XLLayer(d) for _ in range(layers))

    def forward(self, e, mems, stop_gradient: bool = True):
        """e: (B, L, d) embedded segment; mems: one (B, M, d) cache per layer.
        -> logits (B, L, vocab) and the new caches (each layer's input on this segment)."""
        h, new_mems = e, []
        for layer, mem in zip(self.layers, mems):
            new_mems.append(h.detach() if stop_gradient else h)     # SG(hⁿ⁻¹_τ): cached for segment τ+1
            h = layer(h, mem)
        return self.head(h), new_mems


# --------------------------------------------------------------------------- the experiment


def grad_norm(tensors) -> float:
    """‖gradient‖ over tensors; a tensor the loss never reached has .grad None and counts as 0."""
    return math.sqrt(sum(float(t.grad.pow(2).sum()) for t in tensors if t.grad is not None))


def two_segments(model, seg1, seg2, stop_gradient: bool):
    """Segment τ is played by a copy of the model so that its parameters' use there has its own .grad."""
    past = copy.deepcopy(model)
    e1 = past.tok(seg1).detach().requires_grad_()            # segment τ's inputs, a leaf
    B, L, d = e1.shape
    empty = [torch.zeros(B, 0, d) for _ in model.layers]
    _, mems = past(e1, empty, stop_gradient)
    logits, _ = model(model.tok(seg2), mems, stop_gradient)
    loss = nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), seg2[:, 1:].flatten())   # next token
    loss.backward()
    return {"inputs_tau": grad_norm([e1]), "params_tau": grad_norm(past.parameters()),
            "params_tau1": grad_norm(model.parameters()), "cache_requires_grad": any(m.requires_grad for m in mems),
            "logits": logits.detach()}


def run(p: dict, progress) -> Outcome:
    V, d, L, N, B = p["vocab"], p["d_model"], p["seg_len"], p["layers"], p["batch"]
    model = TinyXL(V, d, N)
    seg_a, seg_b, seg2 = (torch.randint(V, (B, L)) for _ in range(3))

    # Q18.4: segment τ+1 read with the cache of segment τ = A, of segment τ = B, and with no cache.
    with torch.no_grad():
        empty = [torch.zeros(B, 0, d) for _ in model.layers]
        out = {}
        for name, seg in (("A", seg_a), ("B", seg_b)):
            _, mems = model(model.tok(seg), empty)
            out[name] = model(model.tok(seg2), mems)[0]                  # (B, L, vocab)
        out["none"] = model(model.tok(seg2), empty)[0]
    dep_ab = float((out["A"] - out["B"]).abs().max())
    dep_none = float((out["A"] - out["none"]).abs().max())
    per_position = (out["A"] - out["B"]).abs().amax(dim=(0, 2)).tolist()     # (L,)
    progress(0.4, "outputs with different caches")

    # Q18.8: gradient of the loss on segment τ+1 with respect to segment τ, with SG and without it.
    sg = two_segments(copy.deepcopy(model), seg_a, seg2, stop_gradient=True)
    bptt = two_segments(copy.deepcopy(model), seg_a, seg2, stop_gradient=False)
    forward_same = float((sg["logits"] - bptt["logits"]).abs().max())    # SG changes gradients only
    progress(0.9, "gradients")

    metrics = {
        "output_change_other_cache": dep_ab, "output_change_no_cache": dep_none,
        "cache_requires_grad": int(sg["cache_requires_grad"]),
        "sg_grad_inputs_tau": sg["inputs_tau"], "sg_grad_params_tau": sg["params_tau"],
        "sg_grad_params_tau1": sg["params_tau1"],
        "bptt_grad_inputs_tau": bptt["inputs_tau"], "bptt_grad_params_tau": bptt["params_tau"],
        "sg_vs_bptt_forward_diff": forward_same,
    }
    verdicts = [
        judge("Q18.4", supports=dep_ab > 1e-3 and dep_none > 1e-3 and not sg["cache_requires_grad"]
              and sg["inputs_tau"] == 0.0,
              contradicts=dep_ab == 0.0 or sg["cache_requires_grad"], key="output_change_other_cache",
              explanation=(f"Segment τ+1's outputs change by up to {dep_ab:.2f} when the cached segment τ changes "
                           f"(and by {dep_none:.2f} without a cache), while the cache holds no gradient "
                           f"(requires_grad={sg['cache_requires_grad']}) and the gradient reaching segment τ's "
                           f"inputs is {sg['inputs_tau']:.1f}.")),
        # Exact zero, not small: with SG the loss's graph never reaches segment τ.
        judge("Q18.8", supports=sg["inputs_tau"] == 0.0 and sg["params_tau"] == 0.0 and sg["params_tau1"] > 0.0
              and bptt["params_tau"] > 0.0,
              contradicts=sg["inputs_tau"] > 0.0 or sg["params_tau"] > 0.0, key="sg_grad_params_tau",
              explanation=(f"The loss on segment τ+1 sends a gradient of norm {sg['params_tau']:.1f} to the "
                           f"parameters' use in segment τ and {sg['inputs_tau']:.1f} to its inputs (against "
                           f"{bptt['params_tau']:.3f} and {bptt['inputs_tau']:.3f} if the cache were not detached, "
                           f"same forward values to {forward_same:.0e}); only segment τ+1's use, "
                           f"{sg['params_tau1']:.2f}, is trained.")),
    ]
    plots = [
        Plot("Segment τ+1: output change when the cached segment τ changes", "bar", "position in segment τ+1",
             "max |Δ logits|", [Series("cache A vs cache B", list(range(L)), per_position)]),
        Plot("Gradient of the loss on segment τ+1 reaching segment τ", "bar", "what segment τ holds",
             "gradient norm", [Series("with stop-gradient (Transformer-XL)", ["parameters", "inputs"],
                                      [sg["params_tau"], sg["inputs_tau"]]),
                               Series("without (backprop through time)", ["parameters", "inputs"],
                                      [bptt["params_tau"], bptt["inputs_tau"]])]),
    ]
    return Outcome(metrics, plots, verdicts)
