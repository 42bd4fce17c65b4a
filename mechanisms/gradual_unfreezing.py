"""Gradual unfreezing: unfreeze one layer group per epoch, top first, to forget less of pre-training.

Claims checked
    Q4.11  ULMFiT and SiATL use such tricks against catastrophic forgetting in fine-tuning; gradual
           unfreezing helps most when pre-training and task data come from different domains.

Paper: Howard & Ruder, "Universal Language Model Fine-tuning for Text Classification" (ULMFiT,
arXiv 1801.06146), §3.3: "we first unfreeze the last layer and fine-tune all unfrozen layers for one
epoch. We then unfreeze the next lower frozen layer and repeat, until we fine-tune all layers".
SiATL (Chronopoulou et al., arXiv 1902.10547) unfreezes sequentially in the same spirit.

Toy: a small language model (embedding -> two ReLU layers over a 3-token window, like Bengio's
neural LM) is pre-trained on a synthetic "source domain" (a Markov chain over 24 tokens that mostly
uses the lower half of the vocabulary). It is then fine-tuned as a classifier (ULMFiT-style pooling
[h_T, mean(H)]; the task: are there more even than odd token ids?) on 256 labelled sequences, either
from a different domain (another chain that mostly uses the upper half) or from the source domain
itself, with all layer groups trained from the start or gradually unfrozen. Forgetting = how much
the source-domain LM loss (fine-tuned encoder + the pre-trained decoder, kept aside) rises during
fine-tuning. Each setting is fine-tuned `repeats` times (own task sample and head); to stay fast,
all those runs train at once: every weight has a leading "run" dimension R, runs never share a number.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._base import Outcome, Plot, Series, judge

V, T, K = 24, 11, 3  # vocabulary size, sequence length (odd: the label has no ties), context window

# --------------------------------------------------------------------------- the mechanism


def linear(x, w, b):
    """Each run's own affine map: x (R, ..., i) @ w (R, i, o) + b (R, 1, o) -> (R, ..., o)."""
    return torch.baddbmm(b, x.flatten(1, -2), w).view(*x.shape[:-1], w.shape[-1])


def weights(R: int, *shape: int) -> torch.Tensor:
    return (torch.randn(R, *shape) / shape[0] ** 0.5).requires_grad_()


def encoder(P: dict, x):
    """Embedding -> layer1 -> layer2 over the window of tokens t-K+1..t.  x: (R, B, T) -> (R, B, T, H)."""
    R = x.shape[0]
    e = P["emb"][torch.arange(R).view(R, 1, 1), F.pad(x, (K - 1, 0), value=V)]   # (R, B, T+K-1, d); id V pads
    window = torch.cat([e[:, :, i:i + x.shape[2]] for i in range(K)], -1)        # (R, B, T, K*d)
    return F.relu(linear(F.relu(linear(window, P["w1"], P["b1"])), P["w2"], P["b2"]))


GROUPS = (("emb",), ("w1", "b1"), ("w2", "b2"), ("head_w", "head_b"))   # bottom -> top


def n_unfrozen(epoch: int, gradual: bool) -> int:
    """How many top groups train in `epoch` (0-based): all, or one more per epoch from the top (ULMFiT)."""
    return min(epoch + 1, len(GROUPS)) if gradual else len(GROUPS)


def set_trainable(P: dict, n_top: int) -> None:
    """ULMFiT §3.3: only the top `n_top` layer groups train; the rest are frozen (no gradient at all)."""
    for i, group in enumerate(GROUPS):
        for name in group:
            P[name].requires_grad_(i >= len(GROUPS) - n_top)


def pool(h):
    """ULMFiT's concat pooling (without max): last state and mean state.  (R, B, T, H) -> (R, B, 2H)."""
    return torch.cat([h[:, :, -1], h.mean(2)], dim=-1)


# --------------------------------------------------------------------------- the experiment


def markov_chain(favoured: range, g: torch.Generator) -> torch.Tensor:
    """A random transition matrix (V, V) that prefers the tokens in `favoured` (its domain)."""
    bias = torch.full((V,), -2.0)
    bias[favoured.start:favoured.stop] = 1.0
    return (2.0 * torch.randn(V, V, generator=g) + bias).softmax(-1)


def sample(chain: torch.Tensor, n: int, g: torch.Generator) -> torch.Tensor:
    x = torch.empty(n, T, dtype=torch.long)
    x[:, 0] = torch.multinomial(chain.mean(0), n, replacement=True, generator=g)
    for t in range(1, T):
        x[:, t] = torch.multinomial(chain[x[:, t - 1]], 1, generator=g).squeeze(1)
    return x                                                 # (n, T)


def label(x):
    """The task: are there more even token ids than odd ones in the sequence?"""
    return ((x % 2 == 0).sum(-1) * 2 > T).long()


def lm_loss(P, x, per_run=False):
    """Next-token cross-entropy: the state at t predicts token t+1.  x: (R, B, T)."""
    logits = linear(encoder(P, x[:, :, :-1]), P["dec_w"], P["dec_b"])           # (R, B, T-1, V)
    loss = F.cross_entropy(logits.flatten(0, 2), x[:, :, 1:].flatten(), reduction="none")
    return loss.view(x.shape[0], -1).mean(1) if per_run else loss.mean()


def run(p: dict, progress) -> Outcome:
    g = torch.Generator().manual_seed(torch.initial_seed())
    d, R = p["d"], p["repeats"]
    source, target = markov_chain(range(0, V // 2), g), markov_chain(range(V // 2, V), g)

    # Pre-train one LM (R = 1) on unlabelled source-domain text.
    P0 = {"emb": torch.randn(1, V + 1, d).requires_grad_(), "w1": weights(1, K * d, 2 * d),
          "w2": weights(1, 2 * d, 2 * d), "dec_w": weights(1, 2 * d, V)}
    P0.update({b: torch.zeros(1, 1, n, requires_grad=True) for b, n in (("b1", 2 * d), ("b2", 2 * d), ("dec_b", V))})
    opt = torch.optim.Adam(P0.values(), lr=1e-2, fused=True)
    corpus = sample(source, 2048, g)                         # (2048, T)
    for step in range(p["pretrain_steps"]):
        loss = lm_loss(P0, corpus[torch.randint(0, len(corpus), (1, 32), generator=g)])
        opt.zero_grad()
        loss.backward()
        opt.step()
    progress(0.4, "pre-trained the source-domain LM")

    # 2R fine-tuning runs per schedule: R on the different-domain task, then R on the same-domain task.
    chains = [target] * R + [source] * R
    x = torch.stack([sample(c, p["n_task"], g) for c in chains])                 # (2R, n, T)
    x_test = torch.stack([sample(target, 512, g)] * R + [sample(source, 512, g)] * R)
    xs_test = sample(source, 512, g).expand(2 * R, -1, -1)                       # (2R, 512, T)
    head = {"head_w": weights(2 * R, 4 * d, 2), "head_b": torch.zeros(2 * R, 1, 2)}
    stacks = {}
    for mode in ("all_at_once", "gradual"):                  # both start from the same LM and heads
        P = {k: v.detach().expand(2 * R, *v.shape[1:]).clone().requires_grad_() for k, v in P0.items()}
        P.update({k: v.detach().clone().requires_grad_() for k, v in head.items()})
        stacks[mode] = (P, torch.optim.Adam(P.values(), lr=p["lr"], fused=True))
    before = {k: v.detach().clone() for k, v in stacks["gradual"][0].items()}
    with torch.no_grad():
        base_loss = lm_loss(stacks["gradual"][0], xs_test, per_run=True)         # (2R,)

    frozen_change = 0.0
    for epoch in range(p["epochs"]):
        for mode, (P, _) in stacks.items():
            set_trainable(P, n_unfrozen(epoch, gradual=mode == "gradual"))
        n_top = n_unfrozen(epoch, gradual=True)
        order = torch.rand(2 * R, p["n_task"], generator=g).argsort(1)           # each run's own shuffle
        for b in order.split(32, dim=1):
            xb = torch.gather(x, 1, b.unsqueeze(-1).expand(-1, -1, T))         # (2R, 32, T)
            for P, opt in stacks.values():                   # same batches for both schedules
                loss = F.cross_entropy(linear(pool(encoder(P, xb)), P["head_w"], P["head_b"]).flatten(0, 1),
                                       label(xb).flatten(), reduction="sum") / len(b[0])
                opt.zero_grad(set_to_none=True)              # frozen weights get no grad, so Adam skips them
                loss.backward()
                opt.step()
        for group in GROUPS[:len(GROUPS) - n_top]:           # groups still frozen after this epoch
            for name in group:
                frozen_change = max(frozen_change, float((stacks["gradual"][0][name] - before[name]).abs().max()))
        progress(0.4 + 0.6 * (epoch + 1) / p["epochs"], f"fine-tuning epoch {epoch + 1}")

    acc, forget = {}, {}
    with torch.no_grad():
        for mode, (P, _) in stacks.items():
            hits = (linear(pool(encoder(P, x_test)), P["head_w"], P["head_b"]).argmax(-1) == label(x_test))
            a, f = hits.float().mean(1), lm_loss(P, xs_test, per_run=True) - base_loss   # (2R,) each
            for i, domain in enumerate(("different", "same")):
                acc[domain, mode] = float(a[i * R:(i + 1) * R].mean())
                forget[domain, mode] = float(f[i * R:(i + 1) * R].mean())

    saved = {dom: forget[dom, "all_at_once"] - forget[dom, "gradual"] for dom in ("different", "same")}
    metrics = {"source_lm_loss_pretrained": float(base_loss.mean()), "frozen_max_change": frozen_change,
               **{f"{dom}_{m}_accuracy": a for (dom, m), a in acc.items()},
               **{f"{dom}_{m}_forgetting": f for (dom, m), f in forget.items()},
               "forgetting_saved_different": saved["different"], "forgetting_saved_same": saved["same"]}

    # Thresholds. (1) Across domains, gradual unfreezing must forget at most 80 % as much as training all
    # layers at once, with task accuracy no more than 5 points lower. (2) "Helps most across domains": the
    # forgetting it saves must be larger across domains than within the source domain. Contradicted if it
    # saves nothing across domains, or if it saves at least twice as much (and > 0.01 nats) within the domain.
    f_full, f_grad = forget["different", "all_at_once"], forget["different", "gradual"]
    a_full, a_grad = acc["different", "all_at_once"], acc["different", "gradual"]
    less = f_grad <= 0.8 * f_full and a_grad >= a_full - 0.05
    reversed_ = saved["same"] >= 2 * saved["different"] and saved["same"] > 0.01
    verdicts = [judge(
        "Q4.11", supports=less and saved["different"] > saved["same"], contradicts=f_grad >= f_full or reversed_,
        key="forgetting_saved_different",
        explanation=(f"Across domains the source LM loss rose by {f_full:.3f} nats with all layers fine-tuned at once "
                     f"and by {f_grad:.3f} with gradual unfreezing (task accuracy {a_full:.1%} vs {a_grad:.1%}); "
                     f"within the source domain by {forget['same', 'all_at_once']:.3f} vs "
                     f"{forget['same', 'gradual']:.3f}: gradual unfreezing saved {saved['different']:.3f} nats of "
                     f"forgetting across domains and {saved['same']:.3f} within one."))]
    names, modes, domains = ["all at once", "gradual"], ("all_at_once", "gradual"), ("different", "same")
    plots = [
        Plot("Forgetting: rise of the source-domain LM loss during fine-tuning", "bar", "fine-tuning",
             "Δ source LM loss (nats)", [Series(f"{dom} domain", names, [forget[dom, m] for m in modes])
                                         for dom in domains]),
        Plot("Task accuracy after fine-tuning", "bar", "fine-tuning", "accuracy",
             [Series(f"{dom} domain", names, [acc[dom, m] for m in modes]) for dom in domains]),
    ]
    return Outcome(metrics, plots, verdicts)
