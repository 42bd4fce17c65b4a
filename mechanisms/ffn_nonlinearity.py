"""The position-wise FFN as the Transformer's source of non-linearity: a per-token XOR test.

Claims checked
    Q5.8  The FFN maps each position to a wider space, applies ReLU and maps back; without
          recurrence it is the Transformer's main source of non-linearity.

Paper: Vaswani et al., "Attention Is All You Need" (arXiv 1706.03762), §3.3:
FFN(x) = max(0, x W1 + b1) W2 + b2, applied "to each position separately and identically"
(d_ff = 4 d_model).

Toy task: every token carries two ±1 features and must output their XOR — a function no affine map
can compute. Three models of the same width are trained: an attention-only stack (residual
connections, no FFN) on isolated tokens, the same stack on sequences of T tokens, and the stack with
one FFN added on top. For a single token softmax has one key, so attention is an affine map of that
token. With other tokens present, though, the softmax's choice of *which* token to read depends
non-linearly on the query — the measurement shows how far that gets an attention-only stack.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


class PositionWiseFFN(nn.Module):
    """max(0, x W1 + b1) W2 + b2 on every position alone.  (B, T, C) -> (B, T, C)."""

    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        self.w1, self.w2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, x):
        return self.w2(torch.relu(self.w1(x)))                           # (B, T, d_ff) in between


class SelfAttention(nn.Module):
    """Multi-head self-attention written out (no mask, no dropout)."""

    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.qkv, self.out = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_head, -1).transpose(1, 2) for t in self.qkv(x).split(C, -1))
        weights = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1)   # (B, h, T, T)
        return self.out((weights @ v).transpose(1, 2).reshape(B, T, C))


class Stack(nn.Module):
    """Linear input -> n_layer × (x + attention(x)) -> optionally x + FFN(x) -> one logit per token."""

    def __init__(self, d_model: int, n_head: int, n_layer: int, with_ffn: bool):
        super().__init__()
        self.inp = nn.Linear(2, d_model)
        self.attn = nn.ModuleList(SelfAttention(d_model, n_head) for _ in range(n_layer))
        self.ffn = PositionWiseFFN(d_model, 4 * d_model) if with_ffn else None
        self.readout = nn.Linear(d_model, 1)

    def forward(self, x):                                                # x: (B, T, 2)
        h = self.inp(x)                                                  # (B, T, C)
        for layer in self.attn:
            h = h + layer(h)
        if self.ffn is not None:
            h = h + self.ffn(h)
        return self.readout(h).squeeze(-1)                               # (B, T) logits


# --------------------------------------------------------------------------- the experiment


def xor_batch(batch: int, length: int, device: str):
    s = torch.randint(2, (batch, length, 2), device=device).float() * 2 - 1   # (B, T, 2) of ±1
    return s, (s[..., 0] != s[..., 1]).float()                          # XOR of the token's own features


def train(with_ffn: bool, length: int, p: dict) -> tuple[float, float]:
    device = p["device"]
    model = Stack(p["d_model"], p["n_head"], p["n_layer"], with_ffn).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=p["lr"])
    for _ in range(p["steps"]):
        x, y = xor_batch(p["batch"], length, device)
        loss = nn.functional.binary_cross_entropy_with_logits(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        x, y = xor_batch(2000, length, device)
        accuracy = ((model(x) > 0).float() == y).float().mean()
    return float(accuracy), float(loss.detach())


def run(p: dict, progress) -> Outcome:
    T = p["seq_len"]
    acc_alone, loss_alone = train(False, 1, p)
    progress(0.33, "attention only, isolated tokens")
    acc_ctx, loss_ctx = train(False, T, p)
    progress(0.66, f"attention only, {T} tokens")
    acc_ffn, loss_ffn = train(True, T, p)
    metrics = {"accuracy_attention_only_isolated": acc_alone, "accuracy_attention_only_in_context": acc_ctx,
               "accuracy_with_ffn": acc_ffn, "final_loss_attention_only_isolated": loss_alone,
               "final_loss_attention_only_in_context": loss_ctx, "final_loss_with_ffn": loss_ffn,
               "affine_ceiling": 0.75}

    # Thresholds: "solves" = ≥ 95 % accuracy; "fails" = below 80 % (an affine map can reach at most 75 %
    # on XOR). The claim's check — attention-only fails where one FFN succeeds — is read on sequences,
    # the Transformer's real input. Contradicted if attention alone solves it there too.
    ffn_solves = acc_ffn >= 0.95
    verdicts = [judge(
        "Q5.8", supports=ffn_solves and acc_ctx < 0.8, contradicts=acc_ctx >= 0.95,
        key="accuracy_attention_only_in_context",
        explanation=(f"On per-token XOR, {p['n_layer']} attention-only layers reach {acc_alone:.0%} on isolated tokens "
                     f"(attention is affine there; ceiling 75 %) and adding one FFN reaches {acc_ffn:.0%} on "
                     f"{T}-token sequences, but the attention-only stack also reaches {acc_ctx:.0%} on those "
                     f"sequences: the softmax over other tokens is itself a non-linearity, so at toy scale the FFN "
                     f"is not the only one."
                     if acc_ctx >= 0.95 else
                     f"On per-token XOR, attention-only layers reach {acc_alone:.0%} on isolated tokens and "
                     f"{acc_ctx:.0%} on {T}-token sequences, while adding one position-wise FFN reaches {acc_ffn:.0%}.")),
    ]
    plots = [Plot("Per-token XOR accuracy", "bar", "model", "accuracy",
                  [Series("accuracy", ["attention only, 1 token", f"attention only, {T} tokens",
                                       f"attention + FFN, {T} tokens"], [acc_alone, acc_ctx, acc_ffn]),
                   Series("best affine map", ["attention only, 1 token", f"attention only, {T} tokens",
                                              f"attention + FFN, {T} tokens"], [0.75] * 3)])]
    return Outcome(metrics, plots, verdicts)
