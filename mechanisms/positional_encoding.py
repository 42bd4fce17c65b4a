"""Sinusoidal versus learned positions: range, relative offsets as rotations, constant distances.

Claims checked
    Q5.9   A fixed sinusoidal encoding and a learned positional embedding (as in BERT) train about
           equally fast and well; the learned one covers a fixed range of positions, the sinusoid any.
    Q5.10  With sin and cos, PE(pos + k) is a fixed linear function of PE(pos), so relative positions
           are easy to learn.
    Q5.11  ‖PE(p + k) − PE(p)‖ is the same wherever p is; it depends only on k.

Paper: Vaswani et al., "Attention Is All You Need" (arXiv 1706.03762), §3.5:
PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)); "for any fixed offset
k, PE_pos+k can be represented as a linear function of PE_pos"; learned embeddings "produced nearly
identical results" (Table 3, row E). Each (sin, cos) pair at frequency ω is rotated by the angle kω, so
the map is block-diagonal with 2×2 rotations, whatever pos is — and rotations preserve distances.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanisms


def sinusoidal_encoding(positions: torch.Tensor, d: int, dtype=torch.float64) -> torch.Tensor:
    """PE for any integer positions.  positions: (n,) -> (n, d); columns alternate sin, cos."""
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=dtype) / d)            # (d/2,) frequencies
    angle = positions.to(dtype)[:, None] * omega                            # (n, d/2)
    return torch.stack([angle.sin(), angle.cos()], dim=-1).flatten(1)       # (n, d)


def rotation_for_offset(k: int, d: int) -> torch.Tensor:
    """The block-diagonal M_k with PE(p + k) = PE(p) M_k (row vectors), the same for every p."""
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    c, s = torch.cos(k * omega), torch.sin(k * omega)
    blocks = torch.stack([torch.stack([c, -s], -1), torch.stack([s, c], -1)], -2)   # (d/2, 2, 2)
    return torch.block_diag(*blocks)                                        # (d, d)


class Copier(nn.Module):
    """Token embedding + position code -> one attention head -> read-out (predicts x[i−1])."""

    def __init__(self, vocab: int, max_len: int, d: int, learned: bool):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(max_len, d) if learned else None            # a table of max_len rows
        self.register_buffer("pe", sinusoidal_encoding(torch.arange(max_len), d, torch.float32))
        self.q, self.k, self.v, self.out = (nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, vocab))

    def forward(self, x):                                                   # x: (B, T)
        T = x.shape[1]
        h = self.tok(x) + (self.pos(torch.arange(T, device=x.device)) if self.pos is not None else self.pe[:T])
        w = (self.q(h) @ self.k(h).transpose(-2, -1) / math.sqrt(h.shape[-1])).softmax(-1)   # (B, T, T)
        return self.out(w @ self.v(h))                                      # (B, T, vocab)


# --------------------------------------------------------------------------- the experiments


def train_copier(learned: bool, p: dict) -> tuple[float, int]:
    """Accuracy on held-out data and the first step whose batch accuracy reached 95 %."""
    vocab, T, device = p["vocab"], p["max_len"], p["device"]
    model = Copier(vocab, T, p["d_model"], learned).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=p["lr"])
    reached = p["steps"]                                                    # "never" = the step budget
    for step in range(p["steps"]):
        x = torch.randint(vocab, (p["batch"], T), device=device)
        logits = model(x)[:, 1:]                                            # position 0 has no x[i−1]
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), x[:, :-1].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        if reached == p["steps"] and (logits.argmax(-1) == x[:, :-1]).float().mean() >= 0.95:
            reached = step
    with torch.no_grad():
        x = torch.randint(vocab, (1000, T), device=device)
        accuracy = (model(x)[:, 1:].argmax(-1) == x[:, :-1]).float().mean()
    return float(accuracy), reached


def least_squares_map(src: torch.Tensor, dst: torch.Tensor):
    """A minimising ‖src A − dst‖ and the relative residual."""
    a = torch.linalg.lstsq(src, dst, driver="gelsd").solution
    return a, float((src @ a - dst).norm() / dst.norm())


def run(p: dict, progress) -> Outcome:
    d, L, n = p["d_model"], p["max_len"], 256
    offsets = [1, 2, 5, 10, 50]
    # Q5.9 — range: index both position codes from 0 to 4·max_len.
    table = nn.Embedding(L, d, dtype=torch.float64)
    learned_rows = 0
    for pos in range(4 * L):
        try:
            learned_rows += table(torch.tensor([pos])).shape[0]
        except IndexError:                                                  # no row for this position
            pass
    far = sinusoidal_encoding(torch.arange(4 * L), d)                       # (4L, d)
    sin_finite = bool(torch.isfinite(far).all())
    sin_min_gap = float(torch.cdist(far, far).add(torch.eye(4 * L, dtype=far.dtype) * 1e9).min())
    acc_sin, steps_sin = train_copier(False, p)
    progress(0.35, "sinusoidal model trained")
    acc_learned, steps_learned = train_copier(True, p)
    progress(0.7, "learned model trained")
    speed_ratio = max(steps_sin, steps_learned) / max(1, min(steps_sin, steps_learned))

    # Q5.10 — fit PE(p) -> PE(p + k) on random positions in [0, 2^16), test on [2^16, 2^17). The range
    # is wide because the slowest sinusoids are nearly collinear over a few hundred positions, which
    # would leave the least-squares map ill-determined (not wrong, just not unique).
    fit_pos, test_pos = torch.randint(0, 2**16, (n,)), torch.randint(2**16, 2**17, (n,))
    random_table = torch.randn(n + max(offsets), d, dtype=torch.float64)   # a learned table, untrained
    fit_res, held_res, to_rotation, rotation_err, table_res = [], [], [], [], []
    for k in offsets:
        a, res = least_squares_map(sinusoidal_encoding(fit_pos, d), sinusoidal_encoding(fit_pos + k, d))
        test_src, test_dst = sinusoidal_encoding(test_pos, d), sinusoidal_encoding(test_pos + k, d)
        m_k = rotation_for_offset(k, d)
        fit_res.append(res)
        held_res.append(float((test_src @ a - test_dst).norm() / test_dst.norm()))
        to_rotation.append(float((a - m_k).norm() / m_k.norm()))
        rotation_err.append(float((test_src @ m_k - test_dst).abs().max()))
        table_res.append(least_squares_map(random_table[:n], random_table[k:n + k])[1])

    # Q5.11 — distance between codes k apart, over many p.
    dist_spread, table_spread, dist_value = [], [], []
    for k in offsets:
        dist = (sinusoidal_encoding(fit_pos + k, d) - sinusoidal_encoding(fit_pos, d)).norm(dim=-1)   # (n,)
        dist_t = (random_table[k:n + k] - random_table[:n]).norm(dim=-1)
        dist_value.append(float(dist.mean()))
        dist_spread.append(float((dist.max() - dist.min()) / dist.mean()))
        table_spread.append(float((dist_t.max() - dist_t.min()) / dist_t.mean()))

    metrics = {"learned_rows_of_4x_max_len": learned_rows, "max_len": L, "sinusoid_finite": float(sin_finite),
               "sinusoid_min_gap": sin_min_gap, "accuracy_sinusoidal": acc_sin, "accuracy_learned": acc_learned,
               "steps_to_95_sinusoidal": steps_sin, "steps_to_95_learned": steps_learned,
               "steps_ratio": speed_ratio, "max_fit_residual": max(fit_res), "max_heldout_residual": max(held_res),
               "max_fit_vs_rotation": max(to_rotation), "max_rotation_error": max(rotation_err),
               "min_table_fit_residual": min(table_res), "max_distance_spread": max(dist_spread),
               "min_table_distance_spread": min(table_spread)}
    for k, v in zip(offsets, dist_value):
        metrics[f"distance_k{k}"] = v

    # Thresholds. Q5.9: the table must have exactly max_len rows, the sinusoid be finite and distinct
    # (gap > 1e-3) at 4× that; "about equally well" = both ≥ 95 % and within 5 points; "about equally
    # fast" = steps to 95 % within a factor of 2. Q5.10/Q5.11 are exact identities: float64 residuals,
    # rotation errors and relative spreads under 1e-6, against ≥ 0.1 for an (untrained) learned table.
    range_ok = learned_rows == L and sin_finite and sin_min_gap > 1e-3
    well = min(acc_sin, acc_learned) >= 0.95 and abs(acc_sin - acc_learned) <= 0.05
    one_fails = max(acc_sin, acc_learned) >= 0.95 and min(acc_sin, acc_learned) < 0.8
    linear_ok = max(fit_res) < 1e-6 and max(held_res) < 1e-6 and max(rotation_err) < 1e-6
    verdicts = [
        judge("Q5.9", supports=range_ok and well and speed_ratio <= 2, contradicts=not range_ok or one_fails,
              key="steps_ratio",
              explanation=(f"The learned table answers {learned_rows} of {4 * L} positions (max_len {L}) while the "
                           f"sinusoid is finite and distinct at all of them; copying x[i−1], sinusoidal reached "
                           f"{acc_sin:.0%} (95 % at step {steps_sin}) and learned {acc_learned:.0%} (step "
                           f"{steps_learned}), a {speed_ratio:.1f}× difference in speed.")),
        judge("Q5.10", supports=linear_ok and max(to_rotation) < 1e-6 and min(table_res) > 0.1,
              contradicts=max(held_res) > 1e-2, key="max_heldout_residual",
              explanation=(f"A least-squares map PE(p) → PE(p+k) (k in {offsets}) fits with relative residual "
                           f"{max(fit_res):.1e}, predicts unseen positions 2^16–2^17 with {max(held_res):.1e}, and "
                           f"equals the block rotation M_k to {max(to_rotation):.1e}; a random learned table "
                           f"leaves a residual of {min(table_res):.2f}.")),
        judge("Q5.11", supports=max(dist_spread) < 1e-6 and min(table_spread) > 0.1,
              contradicts=max(dist_spread) > 1e-2, key="max_distance_spread",
              explanation=(f"Over {n} positions, ‖PE(p+k) − PE(p)‖ varies by at most {max(dist_spread):.1e} "
                           f"(relative) for each k (k=1: {dist_value[0]:.4f}, k=50: {dist_value[-1]:.4f}), "
                           f"against {min(table_spread):.2f} for a random learned table.")),
    ]
    plots = [
        Plot("‖PE(p+k) − PE(p)‖ depends only on k", "line", "offset k", "distance",
             [Series("sinusoidal", offsets, dist_value)], log_x=True),
        Plot("Sinusoidal encoding (rows: positions)", "heatmap", "dimension", "position",
             z=sinusoidal_encoding(torch.arange(min(L, 64)), d).tolist()),
        Plot("Copying x[i−1]: steps to 95 % batch accuracy", "bar", "position code", "steps",
             [Series("steps", ["sinusoidal", "learned"], [steps_sin, steps_learned])]),
    ]
    progress(1.0, "done")
    return Outcome(metrics, plots, verdicts)
