"""MASS: masking a fragment of length k interpolates between BERT's MLM (k = 1) and GPT's LM (k = m).

Claims checked
    Q11.3  With fragment length k = 1 MASS reduces to BERT's MLM; with k = sequence length m it
           reduces to GPT's LM.

Paper: Song et al., "MASS: Masked Sequence to Sequence Pre-training" (arXiv 1905.02450) §2.2: the
encoder reads the sentence with the fragment x^{u:v} replaced by [M]; the decoder predicts the
fragment from its inputs, the fragment shifted right with every other position [M]. "When k = 1,
the masked fragment in the encoder contains only one token, and the decoder predicts this token
without any tokens as input but conditioned on the unmasked source tokens ... When k = m, all the
tokens on the encoder side are masked, and the decoder needs to predict all tokens given previous
tokens." Here one tiny encoder-decoder with random weights is built, and each prediction's
conditioning set is MEASURED: the tokens x_j whose content has a non-zero gradient on it.

Criteria (mechanisms/criteria/mass-masks.toml). Q11.3 is an identity (the conditioning sets follow
from the masks at any weights), checked once: 0 mismatches between MASS k = 1 and BERT's MLM, between
MASS k = m and GPT's LM, and between those two and the textbook sets; the k = 1 decoder and the k = m
encoder read no token. The conditions are the old ones.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._base import Outcome, Plot, judge

# --------------------------------------------------------------------------- the mechanism


def attend(x: torch.Tensor, mem: torch.Tensor, lin: nn.Linear, allowed: torch.Tensor | None) -> torch.Tensor:
    """Single-head attention of queries x (T, d) over keys/values mem (S, d); allowed: (T, S) bool or None."""
    d = x.shape[-1]
    q, k, v = x @ lin.weight[:d].T, mem @ lin.weight[d:2 * d].T, mem @ lin.weight[2 * d:].T
    scores = q @ k.T / math.sqrt(d)                                            # (T, S)
    if allowed is not None:
        scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(-1) @ v


class Block(nn.Module):
    """Pre-LN block: self-attention under a mask, cross-attention to `memory` if given, FFN."""

    def __init__(self, d: int):
        super().__init__()
        self.self_qkv, self.cross_qkv = nn.Linear(d, 3 * d, bias=False), nn.Linear(d, 3 * d, bias=False)
        self.ln1, self.ln2, self.ln3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.ffn = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def forward(self, h: torch.Tensor, allowed: torch.Tensor | None, memory: torch.Tensor | None) -> torch.Tensor:
        h = h + attend(self.ln1(h), self.ln1(h), self.self_qkv, allowed)
        if memory is not None:
            h = h + attend(self.ln2(h), memory, self.cross_qkv, None)
        return h + self.ffn(self.ln3(h))


def causal_mask(m: int) -> torch.Tensor:
    """The decoder's self-attention mask (m, m): position t may attend to positions j ≤ t."""
    return torch.ones(m, m, dtype=torch.bool).tril()


class EncoderDecoder(nn.Module):
    """Inputs are given as `src` indices: position p reads the content e[src[p]] of token x_src[p],
    or the [M] vector where src[p] = -1. So every [M] carries no information about any token."""

    def __init__(self, m: int, d: int, layers: int):
        super().__init__()
        self.mask_vec, self.pos = nn.Parameter(torch.randn(d)), nn.Parameter(torch.randn(m, d))
        self.enc = nn.ModuleList(Block(d) for _ in range(layers))
        self.dec = nn.ModuleList(Block(d) for _ in range(layers))

    def embed(self, e: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
        return torch.where((src >= 0)[:, None], e[src.clamp_min(0)], self.mask_vec) + self.pos    # (m, d)

    def encode(self, e: torch.Tensor, src: torch.Tensor) -> torch.Tensor:         # bidirectional, as BERT
        h = self.embed(e, src)
        for block in self.enc:
            h = block(h, None, None)
        return h

    def decode(self, e: torch.Tensor, src: torch.Tensor, memory: torch.Tensor | None) -> torch.Tensor:
        h, causal = self.embed(e, src), causal_mask(len(src))                 # causal, as GPT
        for block in self.dec:
            h = block(h, causal, memory)
        return h


def mass_inputs(m: int, u: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """MASS with fragment x[u:u+k]: encoder sees x outside the fragment; the decoder input at fragment
    position t > u is x_{t-1} (shifted right) and [M] everywhere else.  -> (enc_src, dec_src), each (m,)."""
    pos = torch.arange(m)
    inside = (pos >= u) & (pos < u + k)
    enc_src = torch.where(inside, -1, pos)
    dec_src = torch.where(inside & (pos > u), pos - 1, -1)
    return enc_src, dec_src


# --------------------------------------------------------------------------- the experiment


def conditioning(fn, e: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """‖∂ (fn(e) · r) / ∂ e_j‖ for every output row and token j.  fn: e (m, d) -> (rows, d).  -> (rows, m)."""
    return torch.autograd.functional.jacobian(lambda e_: fn(e_) @ r, e).norm(dim=-1)


def run(p: dict, progress) -> Outcome:
    m, k_mid = p["length"], min(p["k"], p["length"])
    model = EncoderDecoder(m, p["width"], p["layers"]).double()     # float64: non-zeros stay far from 0
    e = torch.randn(m, p["width"], dtype=torch.float64)               # the content of tokens x_0 .. x_{m-1}
    r = torch.randn(p["width"], dtype=torch.float64)                  # a fixed readout of each output

    def mass(u: int, k: int) -> torch.Tensor:        # rows: the k predictions of the fragment x[u:u+k]
        enc_src, dec_src = mass_inputs(m, u, k)
        return conditioning(lambda e_: model.decode(e_, dec_src, model.encode(e_, enc_src))[u:u + k], e, r)

    def mlm(t: int) -> torch.Tensor:                  # BERT: x_t replaced by [M], predicted from the encoder
        src = torch.where(torch.arange(m) == t, -1, torch.arange(m))
        return conditioning(lambda e_: model.encode(e_, src)[t:t + 1], e, r)

    pos, u_mid = torch.arange(m), (m - k_mid) // 2
    J = {"mlm": torch.cat([mlm(t) for t in range(m)]), "mass_k1": torch.cat([mass(t, 1) for t in range(m)])}
    progress(0.5, "k = 1 and MLM")
    J["gpt"] = conditioning(lambda e_: model.decode(e_, pos - 1, None), e, r)   # input [BOS]=[M], x_0 .. x_{m-2}
    J["mass_km"], J["mass_kmid"] = mass(0, m), mass(u_mid, k_mid)
    sets = {name: jac != 0 for name, jac in J.items()}                     # conditioning sets (rows, m)
    labels = {"mlm": "BERT's MLM", "mass_k1": "MASS, k = 1", "gpt": "GPT's LM", "mass_km": f"MASS, k = m = {m}",
              "mass_kmid": f"MASS, k = {k_mid} (fragment x_{u_mid}..x_{u_mid + k_mid - 1})"}

    expect_mlm, expect_lm = pos[None, :] != pos[:, None], pos[None, :] < pos[:, None]   # all j ≠ t; all j < t
    k1_vs_mlm = int((sets["mass_k1"] != sets["mlm"]).sum())
    km_vs_gpt = int((sets["mass_km"] != sets["gpt"]).sum())
    off_theory = int((sets["mlm"] != expect_mlm).sum() + (sets["gpt"] != expect_lm).sum())
    k1_dec_tokens = sum(int((mass_inputs(m, u, 1)[1] >= 0).sum()) for u in range(m))
    km_enc_tokens = int((mass_inputs(m, 0, m)[0] >= 0).sum())
    smallest_kept = min(float(jac[sets[n]].min()) for n, jac in J.items() if sets[n].any())
    metrics = {"k1_vs_mlm_mismatches": k1_vs_mlm, "km_vs_gpt_mismatches": km_vs_gpt,
               "mlm_gpt_vs_theory_mismatches": off_theory, "k1_decoder_token_inputs": k1_dec_tokens,
               "km_encoder_token_inputs": km_enc_tokens, "smallest_nonzero_gradient": smallest_kept,
               **{f"conditioning_size_{name}": int(s.sum()) for name, s in sets.items()}}

    # The verdict comes from mechanisms/criteria/mass-masks.toml: the claim is an identity, so the
    # conditioning sets must be EQUAL (0 mismatches), the MLM / GPT sets must be the textbook ones
    # (all j ≠ t; all j < t), and the k = 1 decoder and the k = m encoder read no token.
    verdicts = [judge(
        "Q11.3",
        key="k1_vs_mlm_mismatches",
        explanation=(f"Measured by gradients on a random encoder-decoder (m={m}), the tokens each prediction "
                     f"conditions on differ in {k1_vs_mlm} of {m * m} entries between MASS k=1 and BERT's MLM (all "
                     f"other tokens; its decoder reads {k1_dec_tokens} tokens) and in {km_vs_gpt} between MASS k={m} "
                     f"and GPT (the previous tokens; its encoder reads {km_enc_tokens} tokens); with k={k_mid}, x_t "
                     f"sees the {m - k_mid} tokens outside the fragment plus the fragment's prefix."))]
    plots = [Plot(f"Tokens each prediction conditions on: {labels[name]}", "heatmap", "token j", "prediction of x_t",
                  z=s.double().tolist(), x_ticks=[str(j) for j in range(m)],
                  y_ticks=[f"x_{t}" for t in (range(u_mid, u_mid + k_mid) if name == "mass_kmid" else range(m))])
             for name, s in sets.items()]
    return Outcome(metrics, plots, verdicts)
