"""SpanBERT's span masking: geometric span lengths clipped at 10 words, uniformly random starts.

Claims checked
    Q14.4  SpanBERT masks random spans without any word/entity/phrase boundary prior: the span
           length comes from a geometric distribution, the start is drawn uniformly at random, and
           spans average 3.8 words.

Paper: Joshi et al., "SpanBERT: Improving Pre-training by Representing and Predicting Spans"
(arXiv 1907.10529), §3.1: "we sample a span length (number of words) from a geometric distribution
ℓ ~ Geo(p), which is skewed towards shorter spans ... we set p = 0.2, and also clip ℓ at ℓ_max = 10.
This yields a mean span length of ℓ̄ = 3.8." The reference code (facebookresearch/SpanBERT,
pretraining/fairseq/data/masking.py) builds `len_distrib = [p*(1-p)**(i-1) for i in 1..10]` and
renormalises it: a truncated geometric with mean 3.797. Taking min(ℓ, 10) instead would give 4.46,
and no clip at all 1/p = 5. The starting word (`anchor = np.random.choice(sent_length)`) is uniform
over the sequence; a start already masked is redrawn, and spans are added until 15 % is masked.
"""

from __future__ import annotations

import math
import random

import torch

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def span_length_pmf(p: float, l_max: int) -> torch.Tensor:
    """P(ℓ) ∝ p (1 − p)^(ℓ−1) for ℓ = 1..l_max, renormalised (SpanBERT's `len_distrib`).  -> (l_max,)."""
    lengths = torch.arange(1, l_max + 1, dtype=torch.float64)
    pmf = p * (1 - p) ** (lengths - 1)
    return pmf / pmf.sum()


def span_mask(n_words: int, pmf: torch.Tensor, rate: float, anchors: list) -> list[bool]:
    """One sequence's mask: draw (length, uniform start) pairs until ⌈rate·n⌉ words are masked.

    Every proposed start is appended to `anchors` (for the measurement); a span runs right from its
    start and stops at the sequence end or when the budget is used up.
    """
    budget = math.ceil(round(rate * n_words, 9))              # ⌈rate·n⌉ words to mask
    masked = [False] * n_words
    count = 0
    while count < budget:
        length = int(torch.multinomial(pmf, 1)) + 1
        start = random.randrange(n_words)                       # uniform, no boundary prior
        anchors.append(start)
        if masked[start]:
            continue
        for i in range(start, min(start + length, n_words)):
            if count >= budget:
                break
            count += not masked[i]
            masked[i] = True
    return masked


# --------------------------------------------------------------------------- the experiment


def run(p: dict, progress) -> Outcome:
    geo_p, l_max, n_samples = p["p"], p["l_max"], p["n_lengths"]
    pmf = span_length_pmf(geo_p, l_max)
    ls = torch.arange(1, l_max + 1, dtype=torch.float64)

    # 1. Span lengths: n samples from the truncated geometric, compared with its pmf and with 3.8.
    samples = torch.multinomial(pmf, n_samples, replacement=True) + 1          # (n,)
    hist = torch.bincount(samples, minlength=l_max + 1)[1:].double() / n_samples
    mean = float(samples.double().mean())
    exact_mean = float((ls * pmf).sum())
    clip_min_mean = float(sum(min(k, l_max) * geo_p * (1 - geo_p) ** (k - 1) for k in range(1, 2000)))
    progress(0.4, "span lengths sampled")

    # 2. Starts: run the masker on many sequences and test the proposed starts for uniformity.
    n_words, n_seqs = p["seq_len"], p["n_seqs"]
    anchors = []
    masks = torch.tensor([span_mask(n_words, pmf, 0.15, anchors) for _ in range(n_seqs)])   # (S, T)
    counts = torch.bincount(torch.tensor(anchors), minlength=n_words).double()
    expected = len(anchors) / n_words
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    dof = n_words - 1
    chi2_limit = dof + 4 * (dof * (2 + 1 / expected)) ** 0.5   # mean + 4 standard deviations (Poisson counts)
    progress(0.9, "sequences masked")

    metrics = {
        "empirical_mean_length": mean, "truncated_geometric_mean": exact_mean,
        "clip_as_min_mean": clip_min_mean, "untruncated_mean": 1 / geo_p,
        "max_pmf_deviation": float((hist - pmf).abs().max()),
        "start_chi2": chi2, "start_chi2_dof": float(dof), "start_chi2_limit": chi2_limit,
        "starts_proposed": float(len(anchors)), "masked_share": float(masks.float().mean()),
    }

    # Thresholds: the mean within ±0.1 of the paper's 3.8; each bar of the histogram within 0.01
    # of the pmf; starts' χ² below its mean (dof) plus 4 standard deviations.
    mean_ok = abs(mean - 3.8) <= 0.1
    verdicts = [judge(
        "Q14.4", supports=mean_ok and metrics["max_pmf_deviation"] <= 0.01 and chi2 <= chi2_limit,
        contradicts=abs(mean - 3.8) > 0.3 or chi2 > 2 * chi2_limit, key="empirical_mean_length",
        explanation=(f"{n_samples} span lengths from Geo(p={geo_p:g}) truncated at {l_max} average {mean:.3f} words "
                     f"(exact {exact_mean:.3f}; paper 3.8; min(ℓ,{l_max}) would give {clip_min_mean:.2f}, no clip "
                     f"{1 / geo_p:.1f}), the histogram is within {metrics['max_pmf_deviation']:.4f} of the pmf, and "
                     f"the {len(anchors)} span starts give χ² = {chi2:.0f} for {dof} degrees of freedom "
                     f"(limit {chi2_limit:.0f}: {'consistent with' if chi2 <= chi2_limit else 'not'} uniform)."))]

    plots = [
        Plot("Span length: sampled histogram vs truncated geometric pmf", "bar", "span length ℓ (words)",
             "probability", [Series("sampled", ls.int().tolist(), hist.tolist()),
                             Series("pmf p(1−p)^(ℓ−1) / Z", ls.int().tolist(), pmf.tolist())]),
        Plot("Proposed span starts per position", "line", "word position", "starts",
             [Series("measured", list(range(n_words)), counts.tolist()),
              Series("uniform", list(range(n_words)), [expected] * n_words)]),
        Plot("How often each position ends up masked", "line", "word position", "share masked",
             [Series("masked", list(range(n_words)), masks.float().mean(0).tolist())]),
    ]
    return Outcome(metrics, plots, verdicts)
