"""Multi-task learning: a small task borrows knowledge from a related large task through a shared encoder.

Claims checked
    Q13.1  Multi-task learning trains related tasks together so that they share knowledge; it is
           inductive transfer, with simultaneous or alternating training.

Papers: Caruana, "Multitask Learning" (Machine Learning 28, 1997) — hard parameter sharing, one
encoder and one output head per task; Liu et al., "Multi-Task Deep Neural Networks for Natural
Language Understanding" (MT-DNN, arXiv 1901.11504) — a shared Transformer encoder with task-specific
heads.

Toy: sentences are 10 tokens drawn from one of 8 latent "topics" (each a distribution over 32
tokens). The large task (2000 examples) names the topic; the small task (32 examples) asks a yes/no
question about it (is the topic one of a random half of the topics?). Single-task training fits an
encoder (mean of token embeddings -> ReLU layer) and a head on the small task alone; multi-task
training shares that encoder between two heads and, at every step, adds the large task's loss
(simultaneous training). Both see the same small-task batches for the same number of steps; we
compare held-out accuracy on the small task. `repeats` pairs (fresh topics, data and initialisation)
are averaged; all runs train at once, every weight with a leading "run" dimension.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._base import Outcome, Plot, Series, judge

V, T, TOPICS = 32, 10, 8  # vocabulary, tokens per sentence, latent topics

# --------------------------------------------------------------------------- the mechanism


def linear(x, w, b):
    """Each run's own affine map: x (R, B, i) @ w (R, i, o) + b (R, 1, o) -> (R, B, o)."""
    return torch.baddbmm(b, x, w)


def encoder(P, x):
    """Shared encoder: mean of token embeddings, then a ReLU layer.  x: (R, B, T) -> (R, B, H)."""
    R = x.shape[0]
    e = P["emb"][torch.arange(R).view(R, 1, 1), x]          # (R, B, T, d)
    return F.relu(linear(e.mean(2), P["w"], P["b"]))


def ce(logits, y):
    """Cross-entropy of each run.  logits (R, B, C), y (R, B) -> (R,)."""
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(1)


def multi_task_loss(P, xa, ya, xb, yb, share):
    """L_small + share·L_large: hard parameter sharing, one head per task.  share (R,) is 0 or 1."""
    small = ce(linear(encoder(P, xa), P["wa"], P["ba"]), ya)
    large = ce(linear(encoder(P, xb), P["wb"], P["bb"]), yb)
    return (small + share * large).sum()


# --------------------------------------------------------------------------- the experiment


def sentences(topic_words, n, g):
    """n sentences: a topic per sentence, then T tokens from that topic's word distribution."""
    topic = torch.randint(0, TOPICS, (n,), generator=g)
    return torch.multinomial(topic_words[topic], T, replacement=True, generator=g), topic   # (n, T), (n,)


def run(p: dict, progress) -> Outcome:
    g = torch.Generator().manual_seed(torch.initial_seed())
    R, d, H, n_small, n_large = p["repeats"], p["d"], 2 * p["d"], p["n_small"], p["n_large"]
    xa, ya, xb, yb, xt, yt, tt, bayes = [], [], [], [], [], [], [], []
    for r in range(R):                                       # each repeat: its own topics and data
        topic_words = (1.5 * torch.randn(TOPICS, V, generator=g)).softmax(-1)    # (TOPICS, V)
        yes = torch.randperm(TOPICS, generator=g)[:TOPICS // 2]                # the small task's "yes" topics
        x, topic = sentences(topic_words, n_small, g)
        xa.append(x), ya.append(torch.isin(topic, yes).long())                 # small task: yes / no
        x, topic = sentences(topic_words, n_large, g)
        xb.append(x), yb.append(topic)                                         # large task: which topic
        x, topic = sentences(topic_words, 1024, g)
        xt.append(x), yt.append(torch.isin(topic, yes).long()), tt.append(topic)   # held-out test
        log_like = topic_words.log()[:, x].sum(-1)                             # (TOPICS, 1024): log p(x | topic)
        p_yes = log_like.softmax(0)[yes].sum(0)                                # exact posterior P(yes | x)
        bayes.append(float(((p_yes > 0.5).long() == yt[-1]).float().mean()))  # the best any model can do
    # Two runs per repeat, single-task then multi-task, sharing data, initialisation and batches.
    xa, ya, xb, yb, xt, yt, tt = (torch.stack(ts).repeat_interleave(2, 0) for ts in (xa, ya, xb, yb, xt, yt, tt))
    share = torch.tensor([0.0, 1.0]).repeat(R)                                 # (2R,)
    shapes = {"emb": (V, d), "w": (d, H), "wa": (H, 2), "wb": (H, TOPICS)}
    P = {k: (torch.randn(R, *s) / (s[0] ** 0.5 if k != "emb" else 1.0)).repeat_interleave(2, 0)
         for k, s in shapes.items()}
    P.update({"b": torch.zeros(2 * R, 1, H), "ba": torch.zeros(2 * R, 1, 2), "bb": torch.zeros(2 * R, 1, TOPICS)})
    for v in P.values():
        v.requires_grad_()
    opt = torch.optim.Adam(P.values(), lr=p["lr"], fused=True)
    for step in range(p["steps"]):
        ia = torch.randint(0, n_small, (R, 32), generator=g).repeat_interleave(2, 0)   # (2R, 32)
        ib = torch.randint(0, n_large, (R, 32), generator=g).repeat_interleave(2, 0)
        loss = multi_task_loss(P, torch.gather(xa, 1, ia.unsqueeze(-1).expand(-1, -1, T)), torch.gather(ya, 1, ia),
                               torch.gather(xb, 1, ib.unsqueeze(-1).expand(-1, -1, T)), torch.gather(yb, 1, ib), share)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 50 == 0:
            progress((step + 1) / p["steps"], f"step {step + 1}")
    with torch.no_grad():
        h = encoder(P, xt)                                   # (2R, 1024, H)
        acc = (linear(h, P["wa"], P["ba"]).argmax(-1) == yt).float().mean(1).view(R, 2)
        large_acc = float((linear(h, P["wb"], P["bb"]).argmax(-1) == tt).float().mean(1).view(R, 2)[:, 1].mean())

    diffs = (acc[:, 1] - acc[:, 0]).tolist()                  # multi-task minus single-task, per repeat
    gain = sum(diffs) / R
    sd = math.sqrt(sum((x - gain) ** 2 for x in diffs) / max(R - 1, 1))
    band = max(0.01, 2 * sd / math.sqrt(R))                  # noise: 1 point or twice the paired standard error
    single, multi = float(acc[:, 0].mean()), float(acc[:, 1].mean())
    metrics = {"single_task_accuracy": single, "multi_task_accuracy": multi, "multi_task_gain": gain,
               "noise_band": band, "bayes_accuracy": sum(bayes) / R,
               "large_task_accuracy": large_acc}

    # Threshold: the shared encoder must raise the small task's held-out accuracy by more than the noise
    # band; it contradicts the claim if it lowers it by more than the noise band.
    verdicts = [judge(
        "Q13.1", supports=gain > band, contradicts=gain < -band, key="multi_task_gain",
        explanation=(f"On the small task ({n_small} examples) held-out accuracy was {single:.1%} trained alone and "
                     f"{multi:.1%} when its encoder was shared with the related {n_large}-example task: "
                     f"{gain:+.1%} (noise band ±{band:.1%}, {R} paired repeats; the Bayes-optimal accuracy is "
                     f"{metrics['bayes_accuracy']:.1%})."))]
    plots = [Plot("Small-task accuracy: alone versus sharing an encoder", "bar", "repeat", "held-out accuracy",
                  [Series("single-task", list(range(1, R + 1)), acc[:, 0].tolist()),
                   Series("multi-task", list(range(1, R + 1)), acc[:, 1].tolist())])]
    return Outcome(metrics, plots, verdicts)
