"""CNNs see order only locally, and max-pooling over time throws position away.

Claims checked
    Q2.3  CNNs see order but only locally (n-grams); they miss long-range dependencies and pooling
          discards position.

Paper: Kim, "Convolutional Neural Networks for Sentence Classification" (arXiv 1408.5882): filters of
width h slide over word vectors and "a max-over-time pooling operation" keeps one value per filter;
Vaswani et al. (arXiv 1706.03762) §4: "a single convolutional layer with kernel width k < n does not
connect all pairs of input and output positions", stacks of contiguous kernels need O(n/k) layers.

Measurement. Receptive field: the support (first to last non-zero entry) of ∂y_j/∂x for one output
position j after each of the l layers; each layer of width k should add exactly k-1 positions, so
l layers see l(k-1)+1 tokens and two tokens further apart than l(k-1) never meet in any output.
Local order: swapping two neighbouring tokens changes the features. Position: the same 8-token
phrase placed at two offsets in a zero-padded sentence gives different feature maps but identical
max-over-time features, so no classifier on top of the pooled vector can tell where the phrase was.

Criteria (mechanisms/criteria/cnn-receptive-field.toml). The conditions are the old ones, written as
bounds on returned metrics: the per-layer growth of the field may differ from k-1 by nothing
(`receptive_field_growth_error`), the field stays inside the sentence (`receptive_field_margin`), a
neighbour swap and a shift move the feature map by more than 0.1 %, and the max-pooled vector by less
than 1e-6 (float rounding). Q2.3 is an identity: the field's width is set by the kernel and the depth,
and the pooled vector's shift-invariance by the zero padding; only their non-zero size depends on the
random weights, and any generic weights give it. It runs once and holds or fails.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._base import Outcome, Plot, Series, judge

# --------------------------------------------------------------------------- the mechanism


def conv_stack(x, layers):
    """'valid' 1-D convolutions with ReLU, as in Kim (2014).  x: (B, T, d) -> (B, T - l(k-1), d)."""
    h = x.transpose(1, 2)                                   # (B, d, T): channels first for conv1d
    for w, b in layers:                                     # w: (d, d, k), b: (d,)
        h = torch.relu(F.conv1d(h, w, b))
    return h.transpose(1, 2)


def max_over_time(h):
    """One value per filter, the largest over all positions.  h: (B, T', d) -> (B, d)."""
    return h.max(dim=1).values


# --------------------------------------------------------------------------- the experiment


def gradient_support(layers, T: int, d: int) -> tuple[int, list[float]]:
    """Width of the span of inputs that the middle output depends on, and |∂y_j/∂x_i| per input i."""
    x = torch.randn(1, T, d, requires_grad=True)
    y = conv_stack(x, layers)                               # (1, T', d)
    y[0, y.shape[1] // 2].sum().backward()
    g = x.grad[0].abs().sum(-1)                             # (T,)
    nz = g.nonzero().flatten()
    return int(nz.max() - nz.min() + 1), g.tolist()


def rel(a, b) -> float:
    return float((a - b).abs().max() / a.abs().max())


def run(p: dict, progress) -> Outcome:
    d, k, L, shift, m = p["d"], p["kernel"], p["n_layers"], p["shift"], 8
    a = 1 / math.sqrt(d * k)                                # PyTorch's default Conv1d initialisation
    layers = [((torch.rand(d, d, k) * 2 - 1) * a, (torch.rand(d) * 2 - 1) * a) for _ in range(L)]
    rf_bound = L * (k - 1) + 1
    T = m + shift + 2 * rf_bound                            # room for the phrase, the shift and zero margins

    # 1. receptive field after 1..L layers
    widths, profile = [], []
    for l in range(1, L + 1):
        width, g = gradient_support(layers[:l], T, d)
        widths.append(width)
        profile = g
        progress(0.7 * l / L, f"{l} layers")
    growth = [widths[0] - 1] + [widths[i] - widths[i - 1] for i in range(1, L)]

    # 2. local order: swap two neighbouring tokens of a random sentence
    x = torch.randn(1, T, d)
    swapped = x.clone()
    swapped[0, [T // 2, T // 2 + 1]] = x[0, [T // 2 + 1, T // 2]]
    with torch.no_grad():
        swap_change = rel(conv_stack(x, layers), conv_stack(swapped, layers))

        # 3. one phrase at two offsets inside zero padding: feature maps move, pooled features do not
        phrase = torch.randn(m, d)
        at = lambda o: F.pad(phrase, (0, 0, o, T - m - o)).unsqueeze(0)   # (1, T, d)
        h1, h2 = conv_stack(at(rf_bound), layers), conv_stack(at(rf_bound + shift), layers)
        map_change = rel(h1, h2)
        pooled_change = rel(max_over_time(h1), max_over_time(h2))
    progress(0.9, "pooling")

    metrics = {"kernel": k, "layers": L, "receptive_field": widths[-1], "receptive_field_bound": rf_bound,
               "max_growth_per_layer": max(growth), "min_growth_per_layer": min(growth),
               "receptive_field_growth_error": max(abs(g - (k - 1)) for g in growth),
               "receptive_field_growth_excess": max(growth) - (k - 1),
               "max_interaction_distance": widths[-1] - 1, "sequence_length": T,
               "receptive_field_margin": T - widths[-1],
               "neighbour_swap_change": swap_change, "feature_map_shift_change": map_change,
               "pooled_shift_change": pooled_change}
    for l, w in enumerate(widths, 1):
        metrics[f"receptive_field_{l}_layers"] = w

    # The verdict comes from mechanisms/criteria/cnn-receptive-field.toml: the field must grow by exactly
    # k-1 per layer and stay inside the sentence; a neighbour swap must move the features by > 0.1 %; the
    # shifted phrase must move the feature map by > 0.1 % but the pooled vector by < 1e-6 (rounding).
    verdicts = [judge(
        "Q2.3", key="receptive_field",
        explanation=(f"With k={k}, the receptive field grew by {min(growth)}–{max(growth)} tokens per layer "
                     f"(widths {widths}), so after {L} layers tokens more than {widths[-1] - 1} apart never share an "
                     f"output in a {T}-token sentence; swapping two neighbours changes the features by "
                     f"{swap_change:.1%}; shifting a phrase by {shift} changes the feature map by {map_change:.0%} "
                     f"but the max-pooled vector by {pooled_change:.1e}.")),
    ]
    plots = [
        Plot("Receptive field against depth", "line", "layers", "tokens seen by one output",
             [Series("measured (gradient support)", list(range(1, L + 1)), widths),
              Series("l(k-1)+1", list(range(1, L + 1)), [l * (k - 1) + 1 for l in range(1, L + 1)])]),
        Plot(f"|∂y_j/∂x_i| of the middle output after {L} layers", "bar", "input position i", "gradient",
             [Series("gradient", list(range(T)), profile)]),
        Plot(f"Shifting a phrase by {shift}", "bar", "representation", "relative change",
             [Series("change", ["feature map", "max-pooled"], [map_change, pooled_change])]),
    ]
    return Outcome(metrics, plots, verdicts)
