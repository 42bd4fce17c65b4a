"""Scaled dot-product attention: dividing by √d keeps the softmax out of saturation.

Claims checked
    Q5.2  With large d, dot products have a large variance, the softmax saturates and its gradients
          shrink; scaling by 1/√d fixes it.
    Q5.7  Splitting d_model into h heads keeps each dot product's dimension small (d_k = d_model / h),
          which keeps the softmax's gradients alive even without scaling.

Paper: Vaswani et al., "Attention Is All You Need" (arXiv 1706.03762), §3.2.1: "for large values of
d_k, the dot products grow large in magnitude, pushing the softmax function into regions where it
has extremely small gradients". If q and k have independent N(0, 1) components, q·k has mean 0 and
variance d_k; dividing by √d_k brings the variance back to 1.

Criteria (mechanisms/criteria/attention-scaling.toml). Q5.2 used to be judged on the gradients alone,
so dividing by d instead of √d still "supported" it (the gradient stays flat either way); it now also
requires the scaled logits' variance to stay within ±25 % of 1 at every d (`scaled_logit_var_stray`),
which 1/d fails. Both claims are experiments over random draws, judged over seeds.
"""

from __future__ import annotations

import math

import torch

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def scale(d: int) -> float:
    """What the logits are divided by: √d."""
    return math.sqrt(d)


def attention_logits(q: torch.Tensor, k: torch.Tensor, scaled: bool) -> torch.Tensor:
    """q kᵀ, divided by √d when `scaled`, for a batch of single queries.  q: (B, d), k: (B, n, d) -> (B, n)."""
    logits = torch.einsum("bd,bnd->bn", q, k)
    return logits / scale(q.shape[-1]) if scaled else logits


def attention_weights(q: torch.Tensor, k: torch.Tensor, scaled: bool) -> torch.Tensor:
    """softmax(q kᵀ / √d).  q: (B, d), k: (B, n, d) -> (B, n)."""
    return attention_logits(q, k, scaled).softmax(dim=-1)


def softmax_jacobian_norm(p: torch.Tensor) -> torch.Tensor:
    """‖∂softmax/∂logits‖_F per row: the Jacobian is diag(p) − p pᵀ.  p: (B, n) -> (B,)."""
    jac = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)   # (B, n, n)
    return jac.flatten(1).norm(dim=-1)


# --------------------------------------------------------------------------- the experiment


def measure(d: int, n: int, draws: int, scaled: bool, device: str) -> dict:
    q = torch.randn(draws, d, device=device)
    k = torch.randn(draws, n, d, device=device)
    logits = attention_logits(q, k, scaled)   # the logits the softmax below is given
    p = logits.softmax(dim=-1)
    entropy = -(p * p.clamp_min(1e-30).log()).sum(-1)
    return {
        "logit_var": float(logits.var()),
        "entropy": float(entropy.mean()),
        "max_weight": float(p.max(-1).values.mean()),
        "jacobian": float(softmax_jacobian_norm(p).mean()),
    }


def run(p: dict, progress) -> Outcome:
    n, draws, device = p["n_keys"], p["draws"], p["device"]
    dims = [d for d in (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192) if d <= p["d_max"]]
    raw, scaled = {}, {}
    for i, d in enumerate(dims):
        raw[d] = measure(d, n, draws, scaled=False, device=device)
        scaled[d] = measure(d, n, draws, scaled=True, device=device)
        progress((i + 1) / (len(dims) + 2), f"d = {d}")

    # Q5.7: d_model fixed, split into h heads of d_k = d_model / h, no scaling at all.
    d_model = p["d_model"]
    heads = [h for h in (1, 2, 4, 8, 16) if d_model % h == 0 and d_model // h >= 4]
    per_head = {h: measure(d_model // h, n, draws, scaled=False, device=device) for h in heads}
    progress((len(dims) + 1) / (len(dims) + 2), "heads")

    lo, hi = dims[0], dims[-1]
    var_growth = raw[hi]["logit_var"] / raw[lo]["logit_var"]
    raw_jac_ratio = raw[hi]["jacobian"] / raw[lo]["jacobian"]
    scaled_jacs = [scaled[d]["jacobian"] for d in dims]
    scaled_spread = (max(scaled_jacs) - min(scaled_jacs)) / (sum(scaled_jacs) / len(scaled_jacs))
    h_many = max(h for h in heads if d_model // h >= 16)
    head_gain = per_head[h_many]["jacobian"] / per_head[1]["jacobian"]
    # the scaled logits' variance should be 1 at every d: the largest |ln variance| says how far it strays
    scaled_var_stray = max(abs(math.log(scaled[d]["logit_var"])) for d in dims)

    metrics = {
        "logit_var_growth": var_growth, "dimension_growth": hi / lo, "var_growth_per_dim_growth": var_growth / (hi / lo),
        "scaled_logit_var_stray": scaled_var_stray,
        "raw_jacobian_ratio": raw_jac_ratio, "scaled_jacobian_spread": scaled_spread,
        "raw_entropy_at_max_d": raw[hi]["entropy"], "scaled_entropy_at_max_d": scaled[hi]["entropy"],
        "uniform_entropy": math.log(n), "heads_compared": h_many, "head_jacobian_gain": head_gain,
    }
    for d in dims:
        metrics[f"raw_jacobian_d{d}"] = raw[d]["jacobian"]
        metrics[f"scaled_jacobian_d{d}"] = scaled[d]["jacobian"]

    # The verdicts come from mechanisms/criteria/attention-scaling.toml: the variance grows at least half
    # as fast as d, the unscaled gradient at least halves while the scaled one stays within ±15 % and the
    # scaled variance within ±25 % of 1; a head split raises the gradient by half.
    verdicts = [
        judge("Q5.2", key="raw_jacobian_ratio",
              explanation=(f"From d={lo} to d={hi} the logit variance grew {var_growth:.0f}× (d grew {hi // lo}×) and "
                           f"the unscaled softmax gradient fell to {raw_jac_ratio:.2f} of its size, while with 1/√d "
                           f"it stayed within {scaled_spread:.0%} and the logits' variance within "
                           f"{math.exp(scaled_var_stray) - 1:.0%} of 1.")),
        judge("Q5.7", key="head_jacobian_gain",
              explanation=(f"Without scaling, splitting d_model={d_model} into {h_many} heads (d_k={d_model // h_many}) "
                           f"gives a softmax gradient {head_gain:.1f}× that of one head with d_k={d_model}.")),
    ]
    plots = [
        Plot("Softmax gradient ‖∂softmax/∂logits‖ against dimension", "line", "dimension d", "mean Jacobian norm",
             [Series("unscaled q·k", dims, [raw[d]["jacobian"] for d in dims]),
              Series("scaled q·k/√d", dims, [scaled[d]["jacobian"] for d in dims])], log_x=True),
        Plot("Variance of the attention logits", "line", "dimension d", "variance",
             [Series("unscaled", dims, [raw[d]["logit_var"] for d in dims]),
              Series("scaled", dims, [scaled[d]["logit_var"] for d in dims])], log_x=True, log_y=True),
        Plot(f"Unscaled gradient per head, d_model = {d_model}", "bar", "heads h (d_k = d_model / h)",
             "mean Jacobian norm", [Series("unscaled", [str(h) for h in heads],
                                           [per_head[h]["jacobian"] for h in heads])]),
    ]
    return Outcome(metrics, plots, verdicts)
