"""Bilinear attention: separate query and key projections let a position look away from itself.

Claims checked
    Q5.3  Projecting queries and keys with different matrices (a bilinear form) makes attention
          asymmetric, so a position need not attend most to itself.

Paper: Vaswani et al., "Attention Is All You Need" (arXiv 1706.03762), §3.2.2: queries and keys are
projected with different learned matrices W_i^Q and W_i^K. The score is then bilinear,
s_ij = x_iᵀ W_q W_kᵀ x_j = x_iᵀ M x_j. With no projection (or with W_q = W_k) M = W Wᵀ is symmetric
and positive semi-definite, so S = Sᵀ and — since x_i·x_j ≤ ‖x_i‖‖x_j‖ — every token tends to score
itself highest. An untied M has no such pull towards the diagonal.
"""

from __future__ import annotations

import math

import torch

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def bilinear_scores(x: torch.Tensor, w_q: torch.Tensor, w_k: torch.Tensor) -> torch.Tensor:
    """S = (x W_q)(x W_k)ᵀ / √d_k.  x: (B, n, d), w_q, w_k: (d, d_k) -> (B, n, n)."""
    q, k = x @ w_q, x @ w_k                                    # (B, n, d_k) each
    return q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])


def diagonal_argmax_share(s: torch.Tensor) -> float:
    """Share of rows whose largest score is on the diagonal (the token itself)."""
    n = s.shape[-1]
    return float((s.argmax(-1) == torch.arange(n, device=s.device)).float().mean())


def asymmetry(s: torch.Tensor) -> float:
    """‖S − Sᵀ‖_F / ‖S‖_F, averaged over the batch: 0 for a symmetric score, √2 for an antisymmetric one."""
    return float(((s - s.transpose(-2, -1)).flatten(1).norm(dim=-1) / s.flatten(1).norm(dim=-1)).mean())


# --------------------------------------------------------------------------- the experiment


def run(p: dict, progress) -> Outcome:
    n, d, d_k, draws, device = p["n_tokens"], p["d_model"], p["d_k"], p["draws"], p["device"]
    x = torch.randn(draws, n, d, device=device)                               # (B, n, d) token vectors
    identity = torch.eye(d, device=device)
    w = torch.randn(d, d_k, device=device) / math.sqrt(d)
    w_q, w_k = torch.randn(d, d_k, device=device) / math.sqrt(d), torch.randn(d, d_k, device=device) / math.sqrt(d)

    settings = {
        "plain x·x": bilinear_scores(x, identity, identity),                  # no projection at all
        "tied W x · W x": bilinear_scores(x, w, w),                           # W_q = W_k
        "untied W_q x · W_k x": bilinear_scores(x, w_q, w_k),                 # the Transformer's form
    }
    progress(0.6, "scores computed")
    share = {name: diagonal_argmax_share(s) for name, s in settings.items()}
    asym = {name: asymmetry(s) for name, s in settings.items()}
    self_rank = {}                                                            # mean rank of the self-score
    for name, s in settings.items():
        diag = s.diagonal(dim1=-2, dim2=-1).unsqueeze(-1)                     # (B, n, 1)
        self_rank[name] = float((s > diag).sum(-1).float().mean() + 1)

    plain, tied, untied = share["plain x·x"], share["tied W x · W x"], share["untied W_q x · W_k x"]
    chance = 1.0 / n
    metrics = {
        "diag_share_plain": plain, "diag_share_tied": tied, "diag_share_untied": untied, "chance": chance,
        "asymmetry_plain": asym["plain x·x"], "asymmetry_tied": asym["tied W x · W x"],
        "asymmetry_untied": asym["untied W_q x · W_k x"],
        "self_rank_plain": self_rank["plain x·x"], "self_rank_untied": self_rank["untied W_q x · W_k x"],
    }

    # Thresholds: the plain score must be symmetric (asymmetry < 1e-5, float round-off) and pick the
    # diagonal in at least 90 % of rows; the untied score must be clearly asymmetric (> 0.5) and pick
    # the diagonal in under half the rows. Contradicted if untying leaves it as self-centred as plain.
    verdicts = [judge(
        "Q5.3",
        supports=(asym["plain x·x"] < 1e-5 and plain >= 0.9 and asym["untied W_q x · W_k x"] > 0.5
                  and untied < 0.5),
        contradicts=untied >= plain or asym["untied W_q x · W_k x"] < 1e-5,
        key="diag_share_untied",
        explanation=(f"Over {draws}×{n} random tokens (d={d}), plain x·x is symmetric (‖S−Sᵀ‖/‖S‖ = "
                     f"{asym['plain x·x']:.1e}) and puts each row's maximum on itself {plain:.0%} of the time; "
                     f"with untied W_q ≠ W_k the asymmetry is {asym['untied W_q x · W_k x']:.2f} and only "
                     f"{untied:.1%} of rows peak on themselves (chance {chance:.1%})."))]
    names = list(settings)
    plots = [
        Plot("Share of rows whose highest score is the token itself", "bar", "score", "share of rows",
             [Series("diagonal argmax", names, [share[k] for k in names]),
              Series("chance 1/n", names, [chance] * len(names))]),
        Plot("Untied scores S for one sequence (rows: queries)", "heatmap", "key position", "query position",
             z=settings["untied W_q x · W_k x"][0].tolist()),
        Plot("Plain x·x scores for the same sequence", "heatmap", "key position", "query position",
             z=settings["plain x·x"][0].tolist()),
    ]
    progress(1.0, "done")
    return Outcome(metrics, plots, verdicts)
