"""Continual multi-task learning: add tasks one at a time, but keep training the earlier ones.

Claims checked
    Q13.5  ERNIE 2.0 adds tasks incrementally, always training the earlier ones alongside
           ((t1) -> (t1,t2) -> (t1,t2,t3)), so it does not forget what it learned.

Paper: Sun et al., "ERNIE 2.0: A Continual Pre-training Framework for Language Understanding"
(arXiv 1907.12412), §3–4: new pre-training tasks are introduced one after another, and each new stage
trains the new task together with all the earlier ones (iterations are allocated among the tasks),
unlike plain sequential training that moves on from task to task and forgets the earlier ones.
ERNIE 2.0 also adds a task embedding to the input; it is left out here, the heads tell tasks apart.

Toy: sentences are 12 tokens drawn uniformly from 32. Task k (k = 1, 2, 3) asks whether the sum of
its own random word weights over the sentence is positive; each task has its own head on a shared
encoder (mean of token embeddings -> a narrow ReLU layer). Three stages of equal length: sequential
training trains only task s in stage s; continual multi-task training gives stage s's steps in turn
to tasks 1..s (same number of steps, so the same compute). We track task 1's held-out accuracy after
every stage. `repeats` pairs (own tasks and initialisation, same batches within a pair) are averaged;
all runs train at once, every weight with a leading "run" dimension.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._base import Outcome, Plot, Series, judge

V, T, TASKS = 32, 12, 3  # vocabulary, tokens per sentence, tasks

# --------------------------------------------------------------------------- the mechanism


def encoder(P, x):
    """Shared encoder: mean of token embeddings, then a ReLU layer.  x: (R, B, T) -> (R, B, H)."""
    R = x.shape[0]
    e = P["emb"][torch.arange(R).view(R, 1, 1), x]          # (R, B, T, d)
    return F.relu(torch.baddbmm(P["b"], e.mean(2), P["w"]))


def task_logits(P, h, task):
    """Each run's head for its task.  h (R, B, H), task (R,) -> (R, B, 2)."""
    runs = torch.arange(len(task))
    return torch.baddbmm(P["head_b"][runs, task], h, P["head_w"][runs, task])


def schedule(mode: str, stage: int, step: int) -> int:
    """Which task (0-based) a step trains: sequential = only the newest task; continual = all tasks so
    far, in turn (ERNIE 2.0's (t1) -> (t1, t2) -> (t1, t2, t3))."""
    return stage if mode == "sequential" else step % (stage + 1)


# --------------------------------------------------------------------------- the experiment


def labels(word_w, x, task):
    """Task k's answer: is the sum of its word weights over the sentence positive?  -> (R, B)."""
    runs = torch.arange(len(task)).view(-1, 1, 1)
    return (word_w[runs, task.view(-1, 1, 1), x].sum(-1) > 0).long()


def run(p: dict, progress) -> Outcome:
    g = torch.Generator().manual_seed(torch.initial_seed())
    R, d, H, S = p["repeats"], p["d"], p["hidden"], p["stage_steps"]
    modes = ("sequential", "continual")
    N = 2 * R                                                # runs: (sequential, continual) per repeat
    word_w = torch.randn(R, TASKS, V, generator=g).repeat_interleave(2, 0)       # (N, TASKS, V)
    P = {"emb": torch.randn(R, V, d), "w": torch.randn(R, d, H) / d ** 0.5, "b": torch.zeros(R, 1, H),
         "head_w": torch.randn(R, TASKS, H, 2) / H ** 0.5, "head_b": torch.zeros(R, TASKS, 1, 2)}
    P = {k: v.repeat_interleave(2, 0).requires_grad_() for k, v in P.items()}   # same start within a pair
    # Heads of all tasks share one tensor, so a head without a task this step gets a zero gradient; Adam's
    # momentum still nudges it for a few steps, a small effect next to forgetting.
    opt = torch.optim.Adam(P.values(), lr=p["lr"], fused=True)
    x_test = torch.randint(0, V, (N, 1024, T), generator=g)

    def accuracy(task: int) -> torch.Tensor:                 # (R, 2): held-out accuracy on one task
        t = torch.full((N,), task)
        with torch.no_grad():
            hits = task_logits(P, encoder(P, x_test), t).argmax(-1) == labels(word_w, x_test, t)
        return hits.float().mean(1).view(R, 2)

    task1 = []                                               # task 1's accuracy after each stage
    for stage in range(TASKS):
        for step in range(S):
            x = torch.randint(0, V, (R, 32, T), generator=g).repeat_interleave(2, 0)    # (N, 32, T)
            task = torch.tensor([schedule(m, stage, step) for m in modes]).repeat(R)   # (N,)
            logits = task_logits(P, encoder(P, x), task)                               # (N, 32, 2)
            loss = F.cross_entropy(logits.flatten(0, 1), labels(word_w, x, task).flatten(), reduction="sum") / 32
            opt.zero_grad()
            loss.backward()
            opt.step()
        task1.append(accuracy(0).mean(0))                    # (2,) mean over repeats
        progress((stage + 1) / TASKS, f"stage {stage + 1}: tasks {'1..' if stage else ''}{stage + 1}")
    final = torch.stack([accuracy(k).mean(0) for k in range(TASKS)])             # (TASKS, 2)

    seq, cont = float(task1[-1][0]), float(task1[-1][1])
    learned = float(task1[0].mean())                         # task 1 after stage 1 (both modes are identical then)
    metrics = {"task1_after_stage1": learned, "task1_final_sequential": seq, "task1_final_continual": cont,
               "continual_advantage": cont - seq, "sequential_drop": learned - seq, "continual_drop": learned - cont}
    for k in range(1, TASKS):
        metrics[f"task{k + 1}_final_sequential"], metrics[f"task{k + 1}_final_continual"] = map(float, final[k])

    # Thresholds: continual training must keep task 1 at least 10 points above sequential training and
    # within 5 points of what it had learned after stage 1; it contradicts the claim if it keeps task 1
    # no better than sequential training does.
    verdicts = [judge(
        "Q13.5", supports=cont - seq >= 0.10 and learned - cont <= 0.05, contradicts=cont <= seq,
        key="continual_advantage",
        explanation=(f"Task 1 reached {learned:.1%} after stage 1; after tasks 2 and 3 it fell to {seq:.1%} with "
                     f"sequential training but stood at {cont:.1%} with continual multi-task training "
                     f"(+{cont - seq:.1%}), at the same number of steps."))]
    stages = ["t1", "t1→t2", "t1→t2→t3"]
    plots = [
        Plot("Task 1 accuracy after each stage", "line", "stage", "held-out accuracy on task 1",
             [Series(m, stages, [float(a[i]) for a in task1]) for i, m in enumerate(modes)]),
        Plot("Final accuracy on each task", "bar", "task", "held-out accuracy",
             [Series(m, [f"task {k + 1}" for k in range(TASKS)], final[:, i].tolist()) for i, m in enumerate(modes)]),
    ]
    return Outcome(metrics, plots, verdicts)
