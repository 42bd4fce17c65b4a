"""Static versus dynamic masking: how many different masks does each sequence meet in training?

Claims checked
    Q15.2  RoBERTa varies the mask: the original BERT data is duplicated 10 times with different
           masks (the static baseline), while dynamic masking draws a new mask every time a sequence
           is fed to the model.

Paper: Liu et al., "RoBERTa: A Robustly Optimized BERT Pretraining Approach" (arXiv 1907.11692),
§4.1: BERT's "training data was duplicated 10 times so that each sequence is masked in 10 different
ways over the 40 epochs of training. Thus, each training sequence was seen with the same mask four
times during training." Dynamic masking instead "generate[s] the masking pattern every time we feed
a sequence to the model".

The toy: every position is chosen for prediction with probability 0.15 (as in BERT). With static
masking the masks are drawn once per duplicate; with dynamic masking once per epoch. A position is
ever masked with probability 1 − 0.85^k after k independent masks, so over 40 epochs the dynamic
model is asked to predict ≈ 1 − 0.85^40 ≈ 99.8 % of positions, the static one ≈ 1 − 0.85^10 ≈ 80.3 %.
"""

from __future__ import annotations

import torch

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def draw_masks(n_seqs: int, n_masks: int, seq_len: int, rate: float) -> torch.Tensor:
    """Independent BERT-style masks: each position is chosen with probability `rate`.  -> (N, M, T) bool."""
    return torch.rand(n_seqs, n_masks, seq_len) < rate


def static_schedule(n_seqs: int, seq_len: int, epochs: int, dupe: int, rate: float) -> torch.Tensor:
    """BERT's static masking: `dupe` masked copies made once in preprocessing; epoch e feeds copy e mod dupe."""
    copies = draw_masks(n_seqs, dupe, seq_len, rate)           # (N, dupe, T), fixed before training
    which = torch.arange(epochs) % dupe                        # (E,)
    return copies[:, which]                                    # (N, E, T)


def dynamic_schedule(n_seqs: int, seq_len: int, epochs: int, rate: float) -> torch.Tensor:
    """RoBERTa's dynamic masking: a fresh mask every time a sequence is fed.  -> (N, E, T)."""
    return draw_masks(n_seqs, epochs, seq_len, rate)


# --------------------------------------------------------------------------- the measurement


def distinct_masks(schedule: torch.Tensor) -> torch.Tensor:
    """Number of different mask patterns each sequence was fed with.  (N, E, T) -> (N,)."""
    return torch.tensor([len(torch.unique(seq, dim=0)) for seq in schedule], dtype=torch.float)


def coverage_by_epoch(schedule: torch.Tensor) -> torch.Tensor:
    """Share of positions masked at least once after each epoch.  (N, E, T) -> (E,)."""
    ever = schedule.cummax(dim=1).values                       # (N, E, T): masked at or before epoch e
    return ever.float().mean(dim=(0, 2))


def run(p: dict, progress) -> Outcome:
    n, t, epochs, dupe, rate = p["n_seqs"], p["seq_len"], p["epochs"], p["dupe_factor"], p["mask_rate"]
    static = static_schedule(n, t, epochs, dupe, rate)
    dynamic = dynamic_schedule(n, t, epochs, rate)
    progress(0.5, "masks drawn")

    static_distinct = float(distinct_masks(static).mean())
    dynamic_distinct = float(distinct_masks(dynamic).mean())
    # How often each static copy is fed: every epoch uses one of the `dupe` copies.
    uses = torch.bincount(torch.arange(epochs) % dupe, minlength=dupe).float()
    static_cov, dynamic_cov = coverage_by_epoch(static), coverage_by_epoch(dynamic)
    lo, hi = int(uses.min()), int(uses.max())
    fed = f"{lo}×" if lo == hi else f"{lo}–{hi}×"
    expected_static = 1 - (1 - rate) ** min(dupe, epochs)
    expected_dynamic = 1 - (1 - rate) ** epochs
    metrics = {
        "static_distinct_masks": static_distinct, "dynamic_distinct_masks": dynamic_distinct,
        "static_uses_per_mask": float(uses.mean()), "static_uses_min": float(uses.min()),
        "static_coverage": float(static_cov[-1]), "dynamic_coverage": float(dynamic_cov[-1]),
        "expected_static_coverage": expected_static, "expected_dynamic_coverage": expected_dynamic,
        "masked_share": float(dynamic.float().mean()),
    }
    progress(0.9, "measured")

    # Thresholds: static must feed min(dupe, epochs) patterns and dynamic one per epoch (allowing 1 %
    # for two random masks that happen to coincide), and both coverages must match 1 − (1 − rate)^k
    # within 0.02.
    static_ok = 0.99 * min(dupe, epochs) <= static_distinct <= min(dupe, epochs)
    dynamic_ok = dynamic_distinct >= 0.99 * epochs
    cov_ok = (abs(metrics["static_coverage"] - expected_static) < 0.02
              and abs(metrics["dynamic_coverage"] - expected_dynamic) < 0.02)
    verdicts = [judge(
        "Q15.2", supports=static_ok and dynamic_ok and cov_ok,
        contradicts=dynamic_distinct <= static_distinct, key="dynamic_distinct_masks",
        explanation=(f"Over {epochs} epochs each sequence met {static_distinct:.0f} distinct masks with static "
                     f"masking ({dupe} copies, each fed {fed}) and {dynamic_distinct:.1f} with "
                     f"dynamic masking; positions ever masked: {metrics['static_coverage']:.1%} static "
                     f"(1−{1 - rate:.2f}^{min(dupe, epochs)} = {expected_static:.1%}) vs "
                     f"{metrics['dynamic_coverage']:.1%} dynamic "
                     f"(1−{1 - rate:.2f}^{epochs} = {expected_dynamic:.1%})."))]

    xs = list(range(1, epochs + 1))
    distinct_static_curve = [float(distinct_masks(static[:, :e]).mean()) for e in (1, epochs // 2, epochs)]
    distinct_dynamic_curve = [float(distinct_masks(dynamic[:, :e]).mean()) for e in (1, epochs // 2, epochs)]
    ticks = [str(e) for e in (1, epochs // 2, epochs)]
    plots = [
        Plot("Positions ever chosen for prediction", "line", "epoch", "share of positions",
             [Series("static (measured)", xs, static_cov.tolist()),
              Series("dynamic (measured)", xs, dynamic_cov.tolist()),
              Series("static 1−(1−r)^min(e,dupe)", xs, [1 - (1 - rate) ** min(e, dupe) for e in xs]),
              Series("dynamic 1−(1−r)^e", xs, [1 - (1 - rate) ** e for e in xs])]),
        Plot("Distinct mask patterns per sequence", "bar", "after epoch", "distinct masks",
             [Series("static", ticks, distinct_static_curve), Series("dynamic", ticks, distinct_dynamic_curve)]),
    ]
    return Outcome(metrics, plots, verdicts)
