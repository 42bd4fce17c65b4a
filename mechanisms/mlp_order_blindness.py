"""MLP language models: the averaged bag is blind to order, the concatenated window is fixed-length.

Claims checked
    Q2.2  MLP-based models (NNLM, word2vec) ignore word order and cannot take variable-length input.

Papers: Bengio et al., "A Neural Probabilistic Language Model" (JMLR 2003): the n-1 previous words'
embeddings are concatenated, x = [C(w_{t-1}), …, C(w_{t-n+1})], then y = b + U tanh(d + Hx); Mikolov
et al., "Efficient Estimation of Word Representations in Vector Space" (arXiv 1301.3781): CBOW
averages the context words' vectors ("the order of words in the history does not influence the
projection").

The two MLPs are tested separately, because they differ: concatenation gives every slot of the
window its own weights (so it does see order inside the window, but its input layer has a fixed
size), while averaging drops the slots (order-blind, but any number of words can be averaged).
A toy task makes "ignores order" operational: from a window of w random tokens, predict the token
in the FIRST slot. Only a model that knows which token came first can beat ≈1/w accuracy.

Criteria (mechanisms/criteria/mlp-order-blindness.toml). The claim is read as written: MLP language
models (both of them) ignore word order AND refuse inputs of other lengths. It used to be supported
only if all four (model, limitation) pairs held and contradicted only if none did; since CBOW takes
any length and NNLM refuses other lengths by construction, neither could ever happen and the verdict
was always inconclusive, whatever was measured. Supports still needs all four; it now contradicts
when a trained MLP is measured to use word order: it finds the first-slot token more than 20 points
above the best order-blind accuracy (NNLM's concatenation gives every slot its own weights, so it
does). The length half stays a condition of supports only: it is fixed by construction and cannot
move with the numbers. A learning guard (the demo trains): both models must come within 5 points of
the best order-blind accuracy on held-out windows (what a bag can learn without order); an
under-trained NNLM would otherwise look order-blind. Q2.2 is an experiment (training on random
windows); its permutation and length parts are exact.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the two MLPs


class CBOW(torch.nn.Module):
    """word2vec CBOW: mean of the context embeddings, then a linear softmax layer."""

    def __init__(self, V: int, d: int):
        super().__init__()
        self.emb, self.out = torch.nn.Embedding(V, d), torch.nn.Linear(d, V)

    def forward(self, window):                              # (B, w) token ids, any w
        return self.out(self.emb(window).mean(dim=1))       # (B, d) -> (B, V)


class NNLM(torch.nn.Module):
    """Bengio's NNLM: concatenated embeddings of a fixed window of w words, tanh hidden layer."""

    def __init__(self, V: int, d: int, w: int, hidden: int):
        super().__init__()
        self.emb = torch.nn.Embedding(V, d)
        self.H = torch.nn.Linear(w * d, hidden)             # the input size w·d is fixed here
        self.U = torch.nn.Linear(hidden, V)

    def forward(self, window):                              # (B, w) token ids, w fixed
        x = self.emb(window).flatten(1)                     # (B, w·d): slot i has its own columns of H
        return self.U(torch.tanh(self.H(x)))                # (B, V)


# --------------------------------------------------------------------------- the experiment


def train_first_slot(model, V: int, w: int, steps: int, batch: int) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        window = torch.randint(V, (batch, w))
        loss = F.cross_entropy(model(window), window[:, 0])     # target: the token in slot 0
        opt.zero_grad()
        loss.backward()
        opt.step()


def accepts(model, window) -> bool:
    try:
        model(window)
        return True
    except RuntimeError:                                    # mat1 and mat2 shapes cannot be multiplied
        return False


def run(p: dict, progress) -> Outcome:
    V, d, w, steps = p["vocab"], p["d"], p["window"], p["steps"]
    models = {"CBOW (average)": CBOW(V, d), "NNLM (concatenate)": NNLM(V, d, w, hidden=2 * d)}
    test = torch.randint(V, (2000, w))                       # (N, w)
    perm = torch.randperm(w)
    while w > 1 and bool((perm == torch.arange(w)).all()):  # a real permutation of the slots
        perm = torch.randperm(w)
    res = {}
    for i, (name, model) in enumerate(models.items()):
        train_first_slot(model, V, w, steps, batch=64)
        with torch.no_grad():
            acc = float((model(test).argmax(-1) == test[:, 0]).float().mean())
            logits = model(test)                               # (N, V); the change is relative to its scale
            perm_diff = float((logits - model(test[:, perm])).abs().max() / logits.abs().max())
        lengths = {L: accepts(model, test[:8, :1].expand(8, L)) for L in (w - 1, w + 2) if L >= 1}
        res[name] = {"acc": acc, "perm_diff": perm_diff, "variable": all(lengths.values())}
        progress((i + 1) / len(models), name)

    cb, nn = res["CBOW (average)"], res["NNLM (concatenate)"]
    # best order-blind accuracy: every order of a bag is equally likely, so guess its most frequent token
    blind_best = float((test.unsqueeze(1) == test.unsqueeze(2)).sum(1).max(1).values.float().mean() / w)
    metrics = {"cbow_permutation_rel_change": cb["perm_diff"], "nnlm_permutation_rel_change": nn["perm_diff"],
               "cbow_first_slot_accuracy": cb["acc"], "nnlm_first_slot_accuracy": nn["acc"],
               "order_blind_best_accuracy": blind_best, "chance_accuracy": 1 / V,
               "cbow_order_gain": cb["acc"] - blind_best, "nnlm_order_gain": nn["acc"] - blind_best,
               "min_order_gain": min(cb["acc"], nn["acc"]) - blind_best,
               "cbow_accepts_other_lengths": float(cb["variable"]), "nnlm_accepts_other_lengths": float(nn["variable"])}

    # The verdict comes from mechanisms/criteria/mlp-order-blindness.toml. A model ignores order if permuting
    # its window moves no logit by more than 1e-5 of the largest and it cannot beat the best order-blind
    # accuracy by 10 points; it is fixed-length if other lengths are refused. All four (model, limitation)
    # pairs support the claim; a model beating the order-blind accuracy by 20 points contradicts it.
    blind = {m: r["perm_diff"] < 1e-5 and r["acc"] < blind_best + 0.10 for m, r in res.items()}
    fixed = {m: not r["variable"] for m, r in res.items()}
    holds = sum(blind.values()) + sum(fixed.values())       # of the 4 (model, limitation) pairs

    def describe(name: str, r: dict) -> str:
        return (f"{name}: permuting the window moves its logits by {r['perm_diff']:.1e} of their scale, it finds "
                f"the first-slot token {r['acc']:.0%} of the time, and it "
                f"{'accepts' if r['variable'] else 'refuses'} windows of other lengths")

    verdicts = [judge(
        "Q2.2", key="nnlm_order_gain",
        explanation=(f"{holds} of the 4 (model, limitation) pairs hold (order-blind best accuracy {blind_best:.0%}, "
                     f"chance {1 / V:.0%}, window {w}). " + "; ".join(describe(m.split()[0], r) for m, r in res.items())
                     + ". " f"Order-blind: {[m.split()[0] for m in blind if blind[m]] or 'none'}; fixed-length: "
                     f"{[m.split()[0] for m in fixed if fixed[m]] or 'none'}.")),
    ]
    plots = [
        Plot(f"Predicting the token in the first of {w} slots", "bar", "model", "accuracy",
             [Series("trained", list(res), [r["acc"] for r in res.values()]),
              Series("best without order", list(res), [blind_best] * 2)]),
        Plot("Largest logit change when the window is permuted", "bar", "model", "max |Δ logit| / max |logit|",
             [Series("permuted", list(res), [r["perm_diff"] for r in res.values()])]),
    ]
    return Outcome(metrics, plots, verdicts)
