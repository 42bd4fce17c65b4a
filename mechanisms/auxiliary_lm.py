"""The auxiliary LM objective: keep training the language model while fine-tuning on the task.

Claims checked
    Q4.9   SiATL keeps the LM as an auxiliary objective while fine-tuning; the auxiliary objective helps
           small data sets (the opposite of GPT's finding).
    Q4.13  GPT adds an auxiliary LM objective during fine-tuning against catastrophic forgetting; it
           helps large data sets and slightly hurts small ones (the opposite of SiATL).

Papers: Radford et al., "Improving Language Understanding by Generative Pre-Training" (GPT, 2018),
§3.2: L3(C) = L2(C) + λ·L1(C) with "λ was set to 0.5"; §5 ablation: the auxiliary objective helps on
the larger data sets but not on the smaller ones. Chronopoulou et al., "An Embarrassingly Simple
Approach for Transfer Learning from Pretrained Language Models" (SiATL, arXiv 1902.10547):
L = L_task + γ·L_LM, reported to help most on small data sets. The two claims pull in opposite
directions, so one experiment can support at most one of them.

Toy: a small neural LM (embedding -> two ReLU layers over a 3-token window) is pre-trained on
unlabelled text mixed from two Markov chains ("styles"); the task is to tell which chain wrote a
sequence. Fine-tuning runs a fixed number of steps on a small and on a large labelled set, with
L = L_task (λ = 0) or L = L_task + λ·L_LM on the same task sequences; each such pair shares data, head
initialisation and batches, and `repeats` pairs per size are averaged. To stay fast, all runs train
at once: every weight has a leading "run" dimension, and runs never share a number.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._base import Outcome, Plot, Series, judge

V, T, K = 24, 12, 3  # vocabulary size, sequence length, context window of the LM

# --------------------------------------------------------------------------- the mechanism


def linear(x, w, b):
    """Each run's own affine map: x (R, ..., i) @ w (R, i, o) + b (R, 1, o) -> (R, ..., o)."""
    return torch.baddbmm(b, x.flatten(1, -2), w).view(*x.shape[:-1], w.shape[-1])


def encoder(P: dict, x):
    """Embedding -> two ReLU layers over the window of tokens t-K+1..t.  x: (R, B, T) -> (R, B, T, H)."""
    R = x.shape[0]
    e = P["emb"][torch.arange(R).view(R, 1, 1), F.pad(x, (K - 1, 0), value=V)]   # (R, B, T+K-1, d); id V pads
    window = torch.cat([e[:, :, i:i + x.shape[2]] for i in range(K)], -1)        # (R, B, T, K*d)
    return F.relu(linear(F.relu(linear(window, P["w1"], P["b1"])), P["w2"], P["b2"]))


def lm_loss(P, h, x):
    """Per-run next-token cross-entropy from the states h (R, B, T, H) of x (R, B, T) -> (R,)."""
    logits = linear(h[:, :, :-1], P["dec_w"], P["dec_b"])                        # (R, B, T-1, V)
    return F.cross_entropy(logits.flatten(0, 2), x[:, :, 1:].flatten(), reduction="none").view(len(x), -1).mean(1)


def classify(P, h):
    """Task logits from ULMFiT-style pooling [h_T, mean(h)].  (R, B, T, H) -> (R, B, 2)."""
    return linear(torch.cat([h[:, :, -1], h.mean(2)], -1), P["head_w"], P["head_b"])


def fine_tune_loss(P, x, y, lam):
    """GPT's L3 = L2 (task) + λ·L1 (LM on the task's own inputs), λ (R,) per run; summed over runs."""
    h = encoder(P, x)                                                            # (R, B, T, H)
    task = F.cross_entropy(classify(P, h).flatten(0, 1), y.flatten(), reduction="none").view(len(x), -1).mean(1)
    return (task + lam * lm_loss(P, h, x)).sum()


# --------------------------------------------------------------------------- the experiment


def sample(chain, n, g):
    x = torch.empty(n, T, dtype=torch.long)
    x[:, 0] = torch.randint(0, V, (n,), generator=g)
    for t in range(1, T):
        x[:, t] = torch.multinomial(chain[x[:, t - 1]], 1, generator=g).squeeze(1)
    return x                                                 # (n, T)


def labelled(chains, n, g):
    """n sequences in random order, half from each chain; the label names the chain."""
    x = torch.cat([sample(chains[0], n - n // 2, g), sample(chains[1], n // 2, g)])   # (n, T)
    y = (torch.arange(n) >= n - n // 2).long()
    perm = torch.randperm(n, generator=g)
    return x[perm], y[perm]


def run(p: dict, progress) -> Outcome:
    g = torch.Generator().manual_seed(torch.initial_seed())
    d, R, H = p["d"], p["repeats"], 2 * p["d"]
    base = (2.0 * torch.randn(V, V, generator=g)).softmax(-1)
    chains = [base, 0.5 * base + 0.5 * (2.0 * torch.randn(V, V, generator=g)).softmax(-1)]   # two styles

    def weights(runs, *shape):
        return (torch.randn(runs, *shape) / shape[0] ** 0.5).requires_grad_()

    # Pre-train one LM (a single run) on unlabelled text from both styles.
    P0 = {"emb": torch.randn(1, V + 1, d).requires_grad_(), "w1": weights(1, K * d, H),
          "b1": torch.zeros(1, 1, H, requires_grad=True), "w2": weights(1, H, H),
          "b2": torch.zeros(1, 1, H, requires_grad=True), "dec_w": weights(1, H, V),
          "dec_b": torch.zeros(1, 1, V, requires_grad=True)}
    corpus = torch.cat([sample(chains[0], 1024, g), sample(chains[1], 1024, g)])   # (2048, T)
    opt = torch.optim.Adam(P0.values(), lr=1e-2, fused=True)
    for step in range(p["pretrain_steps"]):
        x = corpus[torch.randint(0, len(corpus), (1, 32), generator=g)]            # (1, 32, T)
        loss = lm_loss(P0, encoder(P0, x), x).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    progress(0.3, "pre-trained the LM")

    # Runs: for size in (small, large), for each repeat, a pair (plain, aux) sharing data, head and batches.
    sizes, lam_of = {"small": p["n_small"], "large": p["n_large"]}, {"plain": 0.0, "aux": p["lam"]}
    runs = [(s, r, c) for s in sizes for r in range(R) for c in lam_of]
    data = {(s, r): labelled(chains, n, g) for s, n in sizes.items() for r in range(R)}
    n_max = max(sizes.values())
    x_all = torch.stack([F.pad(data[s, r][0], (0, 0, 0, n_max - sizes[s])) for s, r, c in runs])  # (N, n_max, T)
    y_all = torch.stack([F.pad(data[s, r][1], (0, n_max - sizes[s])) for s, r, c in runs])        # (N, n_max)
    n_of = torch.tensor([sizes[s] for s, r, c in runs]).view(-1, 1)                              # (N, 1)
    lam = torch.tensor([lam_of[c] for s, r, c in runs])                                          # (N,)
    heads = {"head_w": weights(2 * R, 2 * H, 2), "head_b": torch.zeros(2 * R, 1, 2)}             # one per pair
    P = {k: v.detach().expand(len(runs), *v.shape[1:]).clone().requires_grad_() for k, v in P0.items()}
    P.update({k: v.detach().repeat_interleave(2, 0).requires_grad_() for k, v in heads.items()})
    opt = torch.optim.Adam(P.values(), lr=p["lr"], fused=True)
    for step in range(p["steps"]):
        pick = (torch.rand(len(runs) // 2, 32, generator=g).repeat_interleave(2, 0) * n_of).long()  # (N, 32)
        xb = torch.gather(x_all, 1, pick.unsqueeze(-1).expand(-1, -1, T))                          # (N, 32, T)
        loss = fine_tune_loss(P, xb, torch.gather(y_all, 1, pick), lam)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 20 == 0:
            progress(0.3 + 0.6 * (step + 1) / p["steps"], f"fine-tuning step {step + 1}")

    x_test, y_test = labelled(chains, 1024, g)
    with torch.no_grad():
        xt = x_test.expand(len(runs), -1, -1)
        acc = (classify(P, encoder(P, xt)).argmax(-1) == y_test).float().mean(1)                   # (N,)
    acc = acc.view(len(sizes), R, 2)                        # [size, repeat, (plain, aux)]

    metrics, gain, band = {}, {}, {}
    for i, s in enumerate(sizes):
        diffs = (acc[i, :, 1] - acc[i, :, 0]).tolist()      # paired: aux minus plain
        mean = sum(diffs) / R
        sd = math.sqrt(sum((x - mean) ** 2 for x in diffs) / (R - 1))
        # Noise band: 1 accuracy point, or twice the standard error of the paired differences if larger.
        gain[s], band[s] = mean, max(0.01, 2 * sd / math.sqrt(R))
        metrics[f"{s}_plain_accuracy"] = float(acc[i, :, 0].mean())
        metrics[f"{s}_aux_accuracy"] = float(acc[i, :, 1].mean())
        metrics[f"{s}_aux_gain"], metrics[f"{s}_noise_band"] = gain[s], band[s]
    helps = {s: gain[s] > band[s] for s in sizes}
    hurts = {s: gain[s] < -band[s] for s in sizes}
    word = {s: "helped" if helps[s] else "hurt" if hurts[s] else "within noise" for s in sizes}
    said = (f"With λ = {p['lam']:g} the auxiliary LM loss changed held-out accuracy by {gain['small']:+.1%} on "
            f"{p['n_small']} examples (noise band ±{band['small']:.1%}: {word['small']}) and by "
            f"{gain['large']:+.1%} on {p['n_large']} (±{band['large']:.1%}: {word['large']}).")
    verdicts = [
        judge("Q4.9", supports=helps["small"], contradicts=hurts["small"], key="small_aux_gain", explanation=said),
        judge("Q4.13", supports=helps["large"] and hurts["small"], contradicts=hurts["large"] or helps["small"],
              key="large_aux_gain", explanation=said),
    ]
    names = [f"small ({p['n_small']})", f"large ({p['n_large']})"]
    plots = [Plot("Task accuracy with and without the auxiliary LM loss", "bar", "training-set size",
                  "held-out accuracy",
                  [Series("task loss only", names, [metrics[f"{s}_plain_accuracy"] for s in sizes]),
                   Series(f"task + {p['lam']:g}·LM", names, [metrics[f"{s}_aux_accuracy"] for s in sizes])])]
    return Outcome(metrics, plots, verdicts)
