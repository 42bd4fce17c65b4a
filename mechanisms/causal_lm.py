"""Causal (autoregressive) language model: a normalised joint density that only looks left.

Claims checked
    Q3.1  An autoregressive LM estimates the joint probability of a text (density estimation): the
          exact log-likelihood of a sequence is the sum of its next-token log-probabilities, so the
          probabilities of all sequences add up to 1.
    Q3.2  Factorising left to right means an autoregressive LM cannot condition a token on both
          sides: under the causal mask, position i's output does not depend on any later input.
    Q4.16 GPT and GPT-2 remain unidirectional autoregressive LMs without two-sided context (the
          model measured here is a GPT-style causal Transformer LM).

Paper: Radford et al., "Improving Language Understanding by Generative Pre-Training" (GPT, 2018),
L1 = Σ_i log P(u_i | u_<i), which the survey's Q3 sets against BERT's masked LM.
p(x_1..x_T) = Π_t p(x_t | x_<t), so summing over every sequence of a tiny vocabulary must give 1.

Criteria (mechanisms/criteria/causal-lm.toml). Q3.2 and Q4.16 are identities: under the causal mask
every output's Jacobian with respect to every later input is exactly 0. They used to demand, too,
that every past/present entry exceed 1e-6; a correct model of a first-order chain rightly learns to
ignore all but the previous token, so that floor failed at some seeds without saying anything about
the claims. They now demand only the exact zero to the right, plus that the prediction does read its
left context (the LARGEST left entry above 1e-6, so that "no future dependence" is not vacuous).
Q3.1 is an experiment (training on samples): the joint must sum to 1 and training must at least
halve KL(true‖model). The model has learned when KL(true‖model) is below a fifth of the uniform
guess's KL(true‖uniform), measured on the true joint itself (every sequence, not training samples).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def causal_self_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q kᵀ/√d + M) v with M = −∞ above the diagonal.  q, k, v: (B, H, T, D) -> (B, H, T, D)."""
    T = q.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])          # (B, H, T, T)
    future = torch.ones(T, T, dtype=torch.bool, device=q.device).triu(1)  # j > i: forbidden
    return scores.masked_fill(future, float("-inf")).softmax(-1) @ v


class TinyGPT(nn.Module):
    """One pre-LN Transformer block with causal attention: reads [BOS, x_1..x_{T-1}], outputs p(x_t | x_<t)."""

    def __init__(self, vocab: int, length: int, d: int = 32, heads: int = 1):
        super().__init__()
        self.heads = heads
        self.tok = nn.Embedding(vocab + 1, d)          # the last id is BOS
        self.pos = nn.Embedding(length, d)
        self.ln1, self.ln2, self.ln_f = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.ffn = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.head = nn.Linear(d, vocab)

    def forward_embedded(self, h: torch.Tensor) -> torch.Tensor:
        """h: (B, T, d) input embeddings -> next-token logits (B, T, vocab)."""
        B, T, d = h.shape
        q, k, v = self.qkv(self.ln1(h)).view(B, T, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        h = h + self.proj(causal_self_attention(q, k, v).transpose(1, 2).reshape(B, T, d))
        h = h + self.ffn(self.ln2(h))
        return self.head(self.ln_f(h))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, T) tokens -> embeddings of [BOS, x_1..x_{T-1}] (B, T, d): shifted right."""
        bos = torch.full_like(x[:, :1], self.tok.num_embeddings - 1)
        inp = torch.cat([bos, x[:, :-1]], dim=1)
        return self.tok(inp) + self.pos(torch.arange(x.shape[1], device=x.device))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) = Σ_t log p(x_t | x_<t).  x: (B, T) -> (B,)."""
        logp = self.forward_embedded(self.embed(x)).log_softmax(-1)      # (B, T, V)
        return logp.gather(-1, x.unsqueeze(-1)).squeeze(-1).sum(-1)


def output_input_jacobian(model: TinyGPT, x: torch.Tensor) -> torch.Tensor:
    """‖∂ logits_i / ∂ input_j‖_F for one sequence, every output i and input j.  x: (1, T) -> (T, T)."""
    h = model.embed(x)                                                   # (1, T, d)
    jac = torch.autograd.functional.jacobian(lambda e: model.forward_embedded(e)[0], h)  # (T, V, 1, T, d)
    return jac.squeeze(2).pow(2).sum(dim=(1, 3)).sqrt()


# --------------------------------------------------------------------------- the experiment


def markov_chain(vocab: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A random first-order Markov chain: start distribution (V,) and transitions (V, V)."""
    return (2 * torch.randn(vocab)).softmax(-1), (2 * torch.randn(vocab, vocab)).softmax(-1)


def true_log_prob(x: torch.Tensor, start: torch.Tensor, trans: torch.Tensor) -> torch.Tensor:
    """log p_true(x) for every row of x: (N, T) -> (N,)."""
    return start.log()[x[:, 0]] + trans.log()[x[:, :-1], x[:, 1:]].sum(-1)


def sample(n: int, length: int, start: torch.Tensor, trans: torch.Tensor) -> torch.Tensor:
    x = [torch.multinomial(start, n, replacement=True)]
    for _ in range(length - 1):
        x.append(torch.multinomial(trans[x[-1]], 1).squeeze(-1))
    return torch.stack(x, dim=1)                                         # (n, T)


def run(p: dict, progress) -> Outcome:
    V, T, device = p["vocab"], p["length"], p["device"]
    start, trans = (t.to(device) for t in markov_chain(V))
    model = TinyGPT(V, T, p["width"]).to(device)
    every = torch.tensor(list(itertools.product(range(V), repeat=T)), device=device)   # (V^T, T)
    p_true = true_log_prob(every, start, trans).exp()
    entropy = float(-(p_true * p_true.log()).sum())

    def kl_from_truth() -> float:
        with torch.no_grad():
            return float((p_true * (p_true.log() - model.log_prob(every))).sum())

    kl_before = kl_from_truth()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(p["steps"]):
        loss = -model.log_prob(sample(p["batch"], T, start, trans)).mean()   # NLL of whole sequences
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 50 == 0:
            progress(0.8 * step / p["steps"], f"training step {step}")

    # Q3.1: Σ over all V^T sequences of Π_t p(x_t | x_<t) — in float64 so the sum itself adds no error.
    with torch.no_grad():
        log_p = model.double().log_prob(every)
    total = float(log_p.exp().sum())
    kl_after = kl_from_truth()
    progress(0.9, "Jacobian")

    # Q3.2: ∂ logits_i / ∂ input_j for every pair (i, j), reduced to a Frobenius norm per pair.
    norms = output_input_jacobian(model, every[:1])                       # (T_out, T_in)
    future = torch.ones(T, T, dtype=torch.bool, device=device).triu(1)   # input j > i: x_j and later
    future_max, left_max = float(norms[future].max()), float(norms[~future].max())
    kl_uniform = T * math.log(V) - entropy                               # KL(true ‖ uniform): the chance guess

    metrics = {"sequences": V ** T, "total_probability": total, "total_probability_error": abs(total - 1.0),
               "true_entropy_nats": entropy, "kl_before_training": kl_before, "kl_after_training": kl_after,
               "kl_after_over_before": kl_after / kl_before, "kl_uniform": kl_uniform,
               "kl_after_over_uniform": kl_after / kl_uniform,
               "jacobian_future_max": future_max, "jacobian_left_max": left_max}
    # The verdicts come from mechanisms/criteria/causal-lm.toml: the joint sums to 1 within 1e-5 and
    # training at least halves KL(true‖model); no output depends on any later input (exactly 0), while
    # it does read its left context.
    verdicts = [
        judge("Q3.1", key="total_probability_error",
              explanation=(f"Summing Π_t p(x_t|x_<t) over all {V ** T} sequences gives {total:.8f} "
                           f"(error {abs(total - 1):.1e}); training moved KL(true‖model) from {kl_before:.3f} "
                           f"to {kl_after:.3f} nats (true entropy {entropy:.3f}).")),
        judge("Q3.2", key="jacobian_future_max",
              explanation=(f"‖∂output_i/∂input_j‖ is {future_max:.1e} for every later input j > i, and up to "
                           f"{left_max:.2e} for the inputs j ≤ i to its left.")),
        # Q4.16: GPT and GPT-2 are exactly this kind of model (a causal Transformer LM), so the same
        # measurement decides it.
        judge("Q4.16", key="jacobian_future_max",
              explanation=(f"In a GPT-style causal Transformer LM no output depends on any later input "
                           f"(largest gradient to the right: {future_max:.1e}), so its representations are one-sided.")),
    ]
    plots = [
        Plot("‖∂ logits_i / ∂ input_j‖ under the causal mask", "heatmap", "input j", "output position i",
             z=norms.tolist(), x_ticks=[str(j) for j in range(T)], y_ticks=[str(i) for i in range(T)]),
        Plot("Distance of the model's joint from the true joint", "bar", "", "KL(true ‖ model), nats",
             [Series("KL", ["before training", "after training"], [kl_before, kl_after])]),
    ]
    return Outcome(metrics, plots, verdicts)
