"""Residual connections and layer normalization keep a deep stack trainable.

Claims checked
    Q6.3  Layer normalization and residual connections speed up training and keep deep networks
          stable.

Paper: Vaswani et al., "Attention Is All You Need" (arXiv 1706.03762), §3.1: "We employ a residual
connection around each of the two sub-layers, followed by layer normalization. That is, the output of
each sub-layer is LayerNorm(x + Sublayer(x))" (post-LN, also used by BERT, arXiv 1810.04805).
LayerNorm (Ba et al., arXiv 1607.06450) rescales every token to mean 0 and variance 1, then applies a
learned gain and bias.

Toy experiment: the same deep stack of FFN sub-layers (default PyTorch initialisation), once plain,
x ← FFN(x), and once post-LN, x ← LayerNorm(x + FFN(x)); we compare the gradient reaching the first
layer and the loss after a fixed number of Adam steps on a small regression task. `EncoderLayer` is a
full post-LN Transformer encoder layer written out; the tests check it against PyTorch's.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def layer_norm(x, gain, bias, eps: float = 1e-5):
    """(x − mean) / √(var + eps) · gain + bias over the last axis (biased variance, like nn.LayerNorm)."""
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * gain + bias


class LayerNorm(nn.Module):
    def __init__(self, d_model: int, eps: float = 1e-5):
        super().__init__()
        self.weight, self.bias, self.eps = nn.Parameter(torch.ones(d_model)), nn.Parameter(torch.zeros(d_model)), eps

    def forward(self, x):
        return layer_norm(x, self.weight, self.bias, self.eps)


def post_ln(x, sublayer, norm):
    """The Transformer's sub-layer connection: LayerNorm(x + Sublayer(x))."""
    return norm(x + sublayer(x))


class FFN(nn.Module):
    def __init__(self, d_model: int, d_ff: int):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)

    def forward(self, x):                                              # (B, T, C) -> (B, T, C)
        return self.linear2(torch.relu(self.linear1(x)))


class SelfAttention(nn.Module):
    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.w_q, self.w_k = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)
        self.w_v, self.w_o = nn.Linear(d_model, d_model), nn.Linear(d_model, d_model)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = (w(x).view(B, T, self.n_head, -1).transpose(1, 2) for w in (self.w_q, self.w_k, self.w_v))
        weights = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).softmax(-1)   # (B, h, T, T)
        return self.w_o((weights @ v).transpose(1, 2).reshape(B, T, C))


class EncoderLayer(nn.Module):
    """x = LN(x + SelfAttention(x)); x = LN(x + FFN(x)) — post-LN, ReLU, no dropout."""

    def __init__(self, d_model: int, n_head: int, d_ff: int):
        super().__init__()
        self.attn, self.ffn = SelfAttention(d_model, n_head), FFN(d_model, d_ff)
        self.norm1, self.norm2 = LayerNorm(d_model), LayerNorm(d_model)

    def forward(self, x):
        x = post_ln(x, self.attn, self.norm1)
        return post_ln(x, self.ffn, self.norm2)


class DeepStack(nn.Module):
    """n_layer FFN sub-layers, either plain (x ← FFN(x)) or post-LN (x ← LN(x + FFN(x)))."""

    def __init__(self, d_model: int, d_ff: int, n_layer: int, residual_ln: bool):
        super().__init__()
        self.blocks = nn.ModuleList(FFN(d_model, d_ff) for _ in range(n_layer))
        self.norms = nn.ModuleList(LayerNorm(d_model) for _ in range(n_layer)) if residual_ln else None

    def forward(self, x):
        for i, block in enumerate(self.blocks):
            x = post_ln(x, block, self.norms[i]) if self.norms is not None else block(x)
        return x


# --------------------------------------------------------------------------- the experiment


def train(residual_ln: bool, x, y, p) -> dict:
    model = DeepStack(p["d_model"], 4 * p["d_model"], p["n_layer"], residual_ln).to(p["device"])
    opt = torch.optim.Adam(model.parameters(), lr=p["lr"])
    losses, grads = [], {}
    for step in range(p["steps"]):
        loss = ((model(x) - y) ** 2).mean() / y.var()                  # 1.0 = predicting the mean
        opt.zero_grad()
        loss.backward()
        if step == 0:                                                   # gradients at initialisation
            grads = {i: float(b.linear1.weight.grad.norm()) for i, b in enumerate(model.blocks)}
        opt.step()
        losses.append(float(loss.detach()))
    return {"losses": losses, "grads": grads}


def run(p: dict, progress) -> Outcome:
    d, L, device = p["d_model"], p["n_layer"], p["device"]
    x = torch.randn(p["batch"], d, device=device)                      # (B, C) inputs
    teacher = torch.randn(d, d, device=device) / math.sqrt(d)
    y = torch.tanh(x @ teacher) @ teacher                              # (B, C) a smooth non-linear target
    plain = train(False, x, y, p)
    progress(0.5, "plain stack trained")
    normed = train(True, x, y, p)

    def first_over_last(r):
        return r["grads"][0] / r["grads"][L - 1]

    ratio_plain, ratio_ln = first_over_last(plain), first_over_last(normed)
    loss_plain, loss_ln = plain["losses"][-1], normed["losses"][-1]
    metrics = {"grad_first_layer_plain": plain["grads"][0], "grad_first_layer_residual_ln": normed["grads"][0],
               "grad_first_over_last_plain": ratio_plain, "grad_first_over_last_residual_ln": ratio_ln,
               "initial_loss_plain": plain["losses"][0], "initial_loss_residual_ln": normed["losses"][0],
               "final_loss_plain": loss_plain, "final_loss_residual_ln": loss_ln}

    # Thresholds: "stable" = the first layer gets at least 1/10 of the last layer's gradient with
    # residual+LN while the plain stack passes back under 1/1000 (vanished); "faster training" = after
    # the same steps the residual+LN loss is at most half the plain one. Contradicted if the plain
    # stack ends with the lower loss.
    stable = ratio_ln >= 0.1 and ratio_plain < 1e-3
    faster = loss_ln <= 0.5 * loss_plain
    verdicts = [judge(
        "Q6.3", supports=stable and faster, contradicts=loss_plain <= loss_ln, key="final_loss_residual_ln",
        explanation=(f"In a {L}-layer stack the first layer gets {ratio_ln:.2g}× the last layer's gradient with "
                     f"residual+LayerNorm against {ratio_plain:.1e}× without; after {p['steps']} Adam steps the "
                     f"relative loss is {loss_ln:.3f} with them and {loss_plain:.3f} without."))]
    layers = list(range(1, L + 1))
    steps = list(range(p["steps"]))
    plots = [
        Plot("Gradient norm per layer at initialisation", "line", "layer", "‖∂loss/∂W1‖",
             [Series("plain", layers, [plain["grads"][i] for i in range(L)]),
              Series("residual + LayerNorm", layers, [normed["grads"][i] for i in range(L)])], log_y=True),
        Plot("Training loss (1.0 = predicting the mean)", "line", "step", "relative MSE",
             [Series("plain", steps, plain["losses"]), Series("residual + LayerNorm", steps, normed["losses"])],
             log_y=True),
    ]
    return Outcome(metrics, plots, verdicts)
