"""Multi-head attention: like a CNN's channels, different heads pick out different features.

Claims checked
    Q5.6  Multiple heads act like the channels of a CNN, letting different heads select different
          features.

Paper: Vaswani et al., "Attention Is All You Need" (arXiv 1706.03762), §3.2.2:
MultiHead(Q, K, V) = Concat(head_1, …, head_h) W^O with head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V);
"multi-head attention allows the model to jointly attend to information from different
representation subspaces at different positions. With a single attention head, averaging inhibits
this." With d_k = d_model / h the parameter count does not depend on h.

Toy task: every position must output two tokens at once, the one `a` steps back and the one `b`
steps ahead (cyclically). One head of width d_model can only average the two, losing which token came
from where, so at best it gets each read-out right half the time (loss ≈ 2 ln 2); two heads of width
d_model / 2 (same parameters) can each fetch one.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q kᵀ / √d_k) v.  q: (..., n, d_k), k, v: (..., m, d_k); mask (..., n, m), True = may attend."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])          # (..., n, m)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(-1)
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    """h heads of width d_k = d_model / h, each with its own slice of W_q, W_k, W_v; then W_o."""

    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        assert d_model % n_head == 0, "d_model must be divisible by n_head"
        self.n_head = n_head
        self.w_q, self.w_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.w_v, self.w_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, x_q, x_kv=None, mask=None):
        """x_q: (B, n, C), x_kv: (B, m, C) (default x_q); mask: (B, n, m) or (n, m), True = may attend."""
        x_kv = x_q if x_kv is None else x_kv
        (B, n, C), m, h = x_q.shape, x_kv.shape[1], self.n_head

        def split(t, length):                                           # (B, T, C) -> (B, h, T, C/h)
            return t.view(B, length, h, C // h).transpose(1, 2)

        q, k, v = split(self.w_q(x_q), n), split(self.w_k(x_kv), m), split(self.w_v(x_kv), m)
        if mask is not None:
            mask = mask.unsqueeze(-3)                                   # broadcast over heads
        out, weights = scaled_dot_product_attention(q, k, v, mask)      # (B, h, n, C/h), (B, h, n, m)
        out = out.transpose(1, 2).reshape(B, n, C)                      # concatenate the heads
        return self.w_o(out), weights


class TwoOffsetCopier(nn.Module):
    """Token + learned position embeddings -> one attention layer -> two linear read-outs."""

    def __init__(self, vocab: int, length: int, d_model: int, n_head: int):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d_model), nn.Embedding(length, d_model)
        self.attn = MultiHeadAttention(d_model, n_head)
        self.back, self.ahead = nn.Linear(d_model, vocab), nn.Linear(d_model, vocab)

    def forward(self, x):                                               # x: (B, T) token ids
        h = self.tok(x) + self.pos(torch.arange(x.shape[1], device=x.device))   # (B, T, C)
        h, weights = self.attn(h)
        return self.back(h), self.ahead(h), weights                    # (B, T, V) twice, (B, h, T, T)


# --------------------------------------------------------------------------- the experiment


def batch_of(n, vocab, length, a, b, device):
    x = torch.randint(vocab, (n, length), device=device)
    return x, x.roll(a, dims=1), x.roll(-b, dims=1)                     # y_back[i] = x[i-a], y_ahead[i] = x[i+b]


def train(n_head, p, progress, share):
    vocab, length, a, b, device = p["vocab"], p["seq_len"], p["back"], p["ahead"], p["device"]
    model = TwoOffsetCopier(vocab, length, p["d_model"], n_head).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=p["lr"])
    for step in range(p["steps"]):
        x, y_back, y_ahead = batch_of(p["batch"], vocab, length, a, b, device)
        back, ahead, _ = model(x)
        loss = nn.functional.cross_entropy(back.flatten(0, 1), y_back.flatten()) + \
            nn.functional.cross_entropy(ahead.flatten(0, 1), y_ahead.flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            progress(share[0] + share[1] * step / p["steps"], f"{n_head} head(s), step {step}")
    with torch.no_grad():
        x, y_back, y_ahead = batch_of(1000, vocab, length, a, b, device)
        back, ahead, weights = model(x)
        both = ((back.argmax(-1) == y_back) & (ahead.argmax(-1) == y_ahead)).float().mean()
        i = torch.arange(length, device=device)
        on_back = weights[..., i, (i - a) % length].mean(dim=(0, 2))    # (h,) mean weight on x[i-a]
        on_ahead = weights[..., i, (i + b) % length].mean(dim=(0, 2))   # (h,) mean weight on x[i+b]
    n_params = sum(t.numel() for t in model.parameters())
    return float(both), on_back.tolist(), on_ahead.tolist(), n_params, float(loss.detach())


def run(p: dict, progress) -> Outcome:
    h = p["n_head"]
    single = train(1, p, progress, (0.0, 0.5))
    multi = train(h, p, progress, (0.5, 0.5))
    acc_1, acc_h = single[0], multi[0]
    back_w, ahead_w = multi[1], multi[2]
    # Head specialisation: the best head for "a back" and the best *other* head for "b ahead".
    split = max((back_w[i] + ahead_w[j]) / 2 for i in range(h) for j in range(h) if i != j)
    single_split = (single[1][0] + single[2][0]) / 2
    metrics = {"accuracy_single_head": acc_1, f"accuracy_{h}_heads": acc_h,
               "params_single_head": single[3], f"params_{h}_heads": multi[3],
               "final_loss_single_head": single[4], f"final_loss_{h}_heads": multi[4],
               "head_split": split, "single_head_back_weight": single[1][0],
               "single_head_ahead_weight": single[2][0], "single_head_split": single_split}
    for i in range(h):
        metrics[f"head{i}_weight_back"], metrics[f"head{i}_weight_ahead"] = back_w[i], ahead_w[i]

    # Thresholds: both positions right in ≥ 90 % of cases with h heads, and at least 20 points above
    # one head of the same width; the heads specialise when one head puts ≥ 0.7 of its weight on
    # x[i−a] and another ≥ 0.7 on x[i+b] (their mean ≥ 0.7). Contradicted if one head does as well.
    verdicts = [judge(
        "Q5.6", supports=acc_h >= 0.9 and acc_h - acc_1 >= 0.2 and split >= 0.7,
        contradicts=acc_1 >= acc_h - 0.02, key="head_split",
        explanation=(f"Copying x[i−{p['back']}] and x[i+{p['ahead']}] at once, {h} heads of width "
                     f"{p['d_model'] // h} got both right {acc_h:.0%} of the time against {acc_1:.0%} for one "
                     f"head of width {p['d_model']} (same {multi[3]} parameters); the heads split the work "
                     f"(mean weight {split:.2f} on their own target), while the single head spread "
                     f"{single[1][0]:.2f} / {single[2][0]:.2f} over the two."))]
    labels = [f"head {i}" for i in range(h)] + ["single head"]
    plots = [
        Plot("Mean attention weight on the two target positions", "bar", "head", "mean attention weight",
             [Series(f"x[i−{p['back']}]", labels, back_w + single[1]),
              Series(f"x[i+{p['ahead']}]", labels, ahead_w + single[2])]),
        Plot("Accuracy (both tokens right)", "bar", "model", "accuracy",
             [Series("accuracy", ["1 head", f"{h} heads"], [acc_1, acc_h])]),
    ]
    return Outcome(metrics, plots, verdicts)
