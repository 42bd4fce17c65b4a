"""Self-attention with a padding mask: variable lengths, no positional bias, every pair one step apart.

Claims checked
    Q5.1  Self-attention with an attention mask encodes variable-length sequences, handles
          long-range dependencies, has no positional bias and computes in parallel.
    Q2.5  Self-attention handles long-range dependencies and has no positional bias (any two
          positions are one step apart).

Paper: Vaswani et al., "Attention Is All You Need" (arXiv 1706.03762), §4 and Table 1: self-attention
connects all positions with a constant number of operations (maximum path length O(1), against O(n)
for recurrent and O(n/k) for convolutional layers). Padding is hidden by setting the scores of padded
keys to −∞ before the softmax, so their weight is exactly 0.

Three measurements on one randomly initialised self-attention layer: (1) a batch of padded
sequences gives, at the real positions, the same outputs as each sequence run alone; (2) without a
positional encoding, permuting the input permutes the output (no positional bias), while adding one
breaks that; (3) the Jacobian ∂y_i/∂x_j is non-zero for every pair (i, j) — path length 1 — whereas a
kernel-3 convolution only links neighbours.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


class SelfAttention(nn.Module):
    """Multi-head self-attention with a key padding mask (True = a real token that may be attended)."""

    def __init__(self, d_model: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.qkv, self.out = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)

    def forward(self, x, keep=None):                                   # x: (B, T, C), keep: (B, T) bool
        B, T, C = x.shape
        q, k, v = (t.view(B, T, self.n_head, -1).transpose(1, 2) for t in self.qkv(x).split(C, -1))
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])     # (B, h, T, T)
        if keep is not None:
            scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))   # hide padded keys
        return self.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C))


def sinusoid(T: int, d: int) -> torch.Tensor:
    omega = 10000.0 ** (-torch.arange(0, d, 2) / d)
    angle = torch.arange(T)[:, None] * omega                           # (T, d/2)
    return torch.stack([angle.sin(), angle.cos()], -1).flatten(1)      # (T, d)


def influence(f, x: torch.Tensor) -> torch.Tensor:
    """‖∂y_i/∂x_j‖_F for one sequence.  x: (T, C) -> (T, T)."""
    jac = torch.autograd.functional.jacobian(lambda t: f(t.unsqueeze(0)).squeeze(0), x)   # (T, C, T, C)
    return jac.pow(2).sum(dim=(1, 3)).sqrt()


# --------------------------------------------------------------------------- the experiment


def run(p: dict, progress) -> Outcome:
    B, T, C, device = p["batch"], p["max_len"], p["d_model"], p["device"]
    attn = SelfAttention(C, p["n_head"]).to(device)

    # (1) Variable lengths: pad with garbage, mask it, compare with each sequence run alone.
    lengths = torch.randint(1, T + 1, (B,)).tolist()
    lengths[0], lengths[-1] = T, T // 2                                 # one full row, one padded row
    x = torch.randn(B, T, C, device=device)                            # padded positions hold noise
    keep = torch.arange(T)[None, :] < torch.tensor(lengths)[:, None]   # (B, T)
    with torch.no_grad():
        masked, unmasked = attn(x, keep.to(device)), attn(x)
        pad_err = max(float((masked[b, :n] - attn(x[b:b + 1, :n])[0]).abs().max()) for b, n in enumerate(lengths))
        nomask_err = max(float((unmasked[b, :n] - attn(x[b:b + 1, :n])[0]).abs().max())
                         for b, n in enumerate(lengths) if n < T)
    progress(0.3, "padding checked")

    # (2) No positional bias: attention(x[perm]) == attention(x)[perm] unless positions are added.
    perm = torch.randperm(T)
    pe = sinusoid(T, C).to(device)
    with torch.no_grad():
        y = attn(x)
        perm_err = float((attn(x[:, perm]) - y[:, perm]).abs().max())
        perm_err_pe = float((attn(x[:, perm] + pe) - attn(x + pe)[:, perm]).abs().max())
    progress(0.6, "permutation checked")

    # (3) Path length: who influences whom in one layer, attention against a kernel-3 convolution.
    conv = nn.Conv1d(C, C, kernel_size=3, padding=1).to(device)
    att_inf = influence(attn, x[0])                                     # (T, T)
    conv_inf = influence(lambda t: conv(t.transpose(1, 2)).transpose(1, 2), x[0])
    linked_att = int((att_inf > 1e-6 * att_inf.max()).sum())
    linked_conv = int((conv_inf > 1e-6 * conv_inf.max()).sum())
    far_over_near = float(att_inf.diagonal(T - 1).mean() / att_inf.diagonal(1).mean()) if T > 2 else 1.0
    progress(0.9, "Jacobians computed")

    metrics = {"padding_max_error": pad_err, "no_mask_max_error": nomask_err, "permutation_error": perm_err,
               "permutation_error_with_positions": perm_err_pe, "pairs": T * T,
               "pairs_linked_attention": linked_att, "pairs_linked_conv3": linked_conv,
               "attention_far_over_near": far_over_near, "shortest_length": min(lengths)}

    # Thresholds: "same outputs" = max error ≤ 1e-5 (float32 round-off), against ≥ 1e-3 without the
    # mask; equivariance error ≤ 1e-5 without positions and ≥ 1e-3 with them; path length 1 = every one
    # of the T² pairs has a Jacobian above 1e-6 of the largest.
    padded_ok = pad_err <= 1e-5 and nomask_err >= 1e-3
    equivariant = perm_err <= 1e-5 and perm_err_pe >= 1e-3
    one_step = linked_att == T * T
    verdicts = [
        judge("Q5.1", supports=padded_ok and equivariant and one_step, contradicts=pad_err > 1e-3,
              key="padding_max_error",
              explanation=(f"With lengths {min(lengths)}–{T} padded with noise, masked outputs at real positions "
                           f"match each sequence run alone to {pad_err:.1e} (without the mask: {nomask_err:.2f}); "
                           f"permuting the input permutes the output to {perm_err:.1e}, and all {linked_att} of "
                           f"{T * T} position pairs interact in one layer.")),
        judge("Q2.5", supports=equivariant and one_step, contradicts=perm_err > 1e-3 or linked_att < T * T,
              key="pairs_linked_attention",
              explanation=(f"Without positional encoding self-attention is permutation-equivariant (error "
                           f"{perm_err:.1e}, {perm_err_pe:.2f} once sinusoids are added); in one layer all "
                           f"{linked_att}/{T * T} pairs (i, j) have ∂y_i/∂x_j ≠ 0, against {linked_conv} for a "
                           f"kernel-3 convolution, and the farthest pair is influenced {far_over_near:.2f}× as "
                           f"strongly as neighbours.")),
    ]
    plots = [
        Plot("Self-attention: ‖∂y_i/∂x_j‖ in one layer", "heatmap", "input position j", "output position i",
             z=att_inf.tolist()),
        Plot("Kernel-3 convolution: ‖∂y_i/∂x_j‖ in one layer", "heatmap", "input position j", "output position i",
             z=conv_inf.tolist()),
        Plot("Max error at real positions, padded batch vs alone", "bar", "", "max |difference|",
             [Series("error", ["with padding mask", "without mask"], [pad_err, nomask_err])], log_y=True),
    ]
    return Outcome(metrics, plots, verdicts)
