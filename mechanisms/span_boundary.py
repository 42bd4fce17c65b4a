"""SpanBERT's span boundary objective: the tokens just outside a masked span predict its contents.

Claims checked
    Q14.5  SpanBERT's span boundary objective (SBO) makes the representations at a span's boundaries
           predict the masked span's contents; it is used together with MLM.

Paper: Joshi et al., "SpanBERT" (arXiv 1907.10529), §3.2: for a masked span (x_s, ..., x_e), each
token x_i is predicted from the encoder outputs of the boundary tokens and a relative position
embedding, y_i = f(x_{s−1}, x_{e+1}, p_{i−s+1}), where f is "a 2-layer feed-forward network with GeLU
activations and layer normalization"; the loss is L_MLM(x_i) + L_SBO(x_i). The reference code
(pair_bert.py, MLPWithLayerNorm) computes LN(GeLU(W2 · LN(GeLU(W1 · [h_left; h_right; p]))))
and decodes with the (tied) input embeddings.

The toy: random token sequences in which one span of `span_len` tokens is an arithmetic run from its
left boundary a towards its right boundary: a+k, a+2k, ..., and the right boundary is a+(ℓ+1)k (mod V),
with a random step k ∈ {1, 2, 3}. Both boundaries plus the relative position determine every span
token; one boundary leaves k unknown (1 chance in 3). To keep the demo fast and the information path
plain, the boundary "representations" are the boundary tokens' embeddings: there is no Transformer
encoder and so no MLM head (in SpanBERT the SBO loss is added to the MLM loss of the same encoder;
this toy does not measure that half of the claim). Two probe heads of the same shape, trained on
detached tensors, see less: only the relative position, or the left boundary and the position.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the toy data


def make_batch(batch: int, seq_len: int, span_len: int, vocab: int):
    """Sequences with one arithmetic span x_s..x_e. -> tokens (B, T), span starts s (B,)."""
    tokens = torch.randint(vocab, (batch, seq_len))                         # (B, T)
    start = torch.randint(1, seq_len - span_len, (batch,))                  # 1 ≤ s and e + 1 ≤ T − 1
    step = torch.randint(1, 4, (batch, 1))                                  # k ∈ {1, 2, 3}, (B, 1)
    left = tokens.gather(1, (start - 1)[:, None])                           # (B, 1): x_{s−1}
    run_ = (left + step * torch.arange(1, span_len + 2)) % vocab            # (B, ℓ+1): span, then x_{e+1}
    tokens.scatter_(1, start[:, None] + torch.arange(span_len + 1), run_)
    return tokens, start


# --------------------------------------------------------------------------- the mechanism


class MLPWithLayerNorm(nn.Module):
    """SpanBERT's f: two layers, each Linear → GeLU → LayerNorm (pair_bert.py)."""

    def __init__(self, d_in: int, d: int):
        super().__init__()
        self.fc1, self.ln1 = nn.Linear(d_in, d), nn.LayerNorm(d)
        self.fc2, self.ln2 = nn.Linear(d, d), nn.LayerNorm(d)

    def forward(self, h):
        return self.ln2(F.gelu(self.fc2(self.ln1(F.gelu(self.fc1(h))))))


class SpanBoundaryHeads(nn.Module):
    def __init__(self, vocab: int, span_len: int, d: int):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)                                   # token representations x
        self.rel = nn.Embedding(span_len, d)                                # p_1..p_ℓ, relative to the span
        self.sbo = MLPWithLayerNorm(3 * d, d)                               # f(x_{s−1}, x_{e+1}, p_i)
        self.probe_pos = MLPWithLayerNorm(d, d)                             # f(p_i) only
        self.probe_left = MLPWithLayerNorm(2 * d, d)                        # f(x_{s−1}, p_i)

    def decode(self, y, probe: bool = False):                               # tied output embeddings
        w = self.tok.weight.detach() if probe else self.tok.weight          # probes must not train x
        return y @ w.T                                                      # (B, ℓ, V)

    def forward(self, tokens, start, span_len):
        b = tokens.shape[0]
        left = self.tok(tokens.gather(1, (start - 1)[:, None]))             # (B, 1, d): x_{s−1}
        right = self.tok(tokens.gather(1, (start + span_len)[:, None]))     # (B, 1, d): x_{e+1}
        left, right = left.expand(-1, span_len, -1), right.expand(-1, span_len, -1)   # (B, ℓ, d)
        p = self.rel.weight.expand(b, -1, -1)                               # (B, ℓ, d)
        sbo = self.decode(self.sbo(torch.cat([left, right, p], -1)))        # (B, ℓ, V)
        # The probes read (and decode with) detached tensors: they measure what is there, shaping nothing.
        pos_only = self.decode(self.probe_pos(p.detach()), probe=True)
        left_only = self.decode(self.probe_left(torch.cat([left, p], -1).detach()), probe=True)
        return {"sbo": sbo, "position only": pos_only, "left boundary + position": left_only}


# --------------------------------------------------------------------------- the experiment


def run(p: dict, progress) -> Outcome:
    vocab, t, span, steps = p["vocab"], p["seq_len"], p["span_len"], p["steps"]
    model = SpanBoundaryHeads(vocab, span, p["width"])
    opt = torch.optim.Adam(model.parameters(), lr=p["lr"])
    curves = {name: [] for name in ("sbo", "position only", "left boundary + position")}
    for step in range(steps):
        tokens, start = make_batch(p["batch"], t, span, vocab)
        target = tokens.gather(1, start[:, None] + torch.arange(span))      # (B, ℓ): the masked span
        out = model(tokens, start, span)                                    # reads only x_{s−1}, x_{e+1}
        losses = {k: F.cross_entropy(v.flatten(0, 1), target.flatten()) for k, v in out.items()}
        opt.zero_grad()
        sum(losses.values()).backward()
        opt.step()
        if step % max(1, steps // 20) == 0 or step == steps - 1:
            for k in curves:
                curves[k].append((step, losses[k].item()))
        if step % max(1, steps // 5) == 0:
            progress(0.9 * step / steps, f"step {step}")

    with torch.no_grad():
        tokens, start = make_batch(2000, t, span, vocab)
        target = tokens.gather(1, start[:, None] + torch.arange(span))
        acc = {k: float((v.argmax(-1) == target).float().mean()) for k, v in model(tokens, start, span).items()}
    sbo, pos, left = acc["sbo"], acc["position only"], acc["left boundary + position"]
    metrics = {"sbo_accuracy": sbo, "position_only_accuracy": pos, "left_boundary_accuracy": left,
               "chance_accuracy": 1 / vocab, "final_sbo_loss": curves["sbo"][-1][1]}

    # Thresholds: the SBO head must recover ≥ 90 % of span tokens and beat the head that sees only
    # the relative position by ≥ 0.3 ("far better"); it contradicts if it is no better than that head.
    verdicts = [judge(
        "Q14.5", supports=sbo >= 0.9 and sbo - pos >= 0.3, contradicts=sbo <= pos + 0.05, key="sbo_accuracy",
        explanation=(f"After {steps} steps the SBO head f(x_s−1, x_e+1, p_i) recovers {sbo:.0%} of masked span "
                     f"tokens on fresh sequences; a head given only the relative position gets {pos:.0%} (chance "
                     f"{1 / vocab:.0%}) and one given the left boundary + position {left:.0%}. (The toy has no "
                     f"encoder, so the 'used with MLM' half is not measured.)"))]
    plots = [
        Plot("Training loss per head", "line", "step", "cross-entropy",
             [Series(k, [s for s, _ in v], [loss for _, loss in v]) for k, v in curves.items()]),
        Plot("Span-token accuracy on fresh sequences", "bar", "head", "accuracy",
             [Series("accuracy", list(acc), list(acc.values()))]),
    ]
    return Outcome(metrics, plots, verdicts)
