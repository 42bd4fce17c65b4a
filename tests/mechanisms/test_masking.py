"""The masking demos: what is masked together (pieces, words, phrases, entities), SpanBERT's spans and
boundary objective, RoBERTa's dynamic masking, and Chinese word versus character units."""

from __future__ import annotations

import random

import pytest
import torch

from ._support import refuses_before_running as _refuses_before_running
from ._support import run as _run


# ------------------------------------------------------------------ masking-units (Q14.2, Q12.3, Q12.4)


@pytest.fixture(scope="module")
def units():
    return _run("masking-units")


def test_whole_word_masking_leaves_no_piece_of_a_masked_word_visible(units):
    assert units.verdict_for("Q14.2").verdict == "supports"
    assert units.metrics["word_leak_rate"] == 0
    assert units.metrics["basic_leak_rate"] > 0.3            # sub-word masking leaks siblings often
    assert abs(units.metrics["word_mask_rate"] - 0.15) < 0.01  # "the overall masking rate remains the same"


def test_phrase_and_entity_masking_respect_their_boundaries(units):
    assert units.verdict_for("Q12.3").verdict == "supports"
    assert units.verdict_for("Q12.4").verdict == "supports"
    assert units.metrics["phrase_whole_phrase_share"] == 1.0
    assert units.metrics["entity_whole_entity_share"] == 1.0
    assert units.metrics["basic_whole_phrase_share"] < 0.5


def test_mask_units_masks_each_unit_entirely_or_not_at_all():
    from mechanisms.masking_units import make_lexicon, make_sequence, mask_units

    random.seed(1)
    seq = make_sequence(make_lexicon(50), 40)
    for _ in range(20):
        masked = mask_units(seq["words"], len(seq["pieces"]), 0.15)
        assert all(len({masked[i] for i in w}) == 1 for w in seq["words"])
        assert sum(masked) <= round(0.15 * len(seq["pieces"]))


def test_masking_units_is_deterministic(units):
    assert _run("masking-units").metrics == units.metrics


def test_masking_units_refuses_bad_parameters(monkeypatch):
    for bad in ({"n_seqs": "many"}, {"mask_rate": 0.9}, {"n_seqs": 20000, "words_per_seq": 512}):
        _refuses_before_running("masking-units", bad, monkeypatch)


# ------------------------------------------------------------------ span-masking (Q14.4)


@pytest.fixture(scope="module")
def spans():
    return _run("span-masking")


def test_span_lengths_average_3_8_words_with_uniform_starts(spans):
    assert spans.verdict_for("Q14.4").verdict == "supports"
    assert abs(spans.metrics["empirical_mean_length"] - 3.797) < 0.02
    assert abs(spans.metrics["truncated_geometric_mean"] - 3.797) < 5e-4
    assert abs(spans.metrics["clip_as_min_mean"] - 4.463) < 5e-4   # min(ℓ, 10) would not give 3.8
    assert abs(spans.metrics["masked_share"] - 0.15) < 0.01


def test_span_length_pmf_matches_spanbert_and_torch_geometric():
    """Oracle: torch.distributions.Geometric counts failures before the first success (ℓ − 1)."""
    from mechanisms.span_masking import span_length_pmf

    pmf = span_length_pmf(0.2, 10)
    oracle = torch.distributions.Geometric(probs=torch.tensor(0.2, dtype=torch.float64)).log_prob(
        torch.arange(10, dtype=torch.float64)).exp()
    torch.testing.assert_close(pmf, oracle / oracle.sum(), atol=1e-12, rtol=0)
    spanbert = [0.22405805, 0.17924644, 0.14339715, 0.11471772, 0.09177418,   # SpanBERT's hard-coded list
                0.07341934, 0.05873547, 0.04698838, 0.03759070, 0.03007256]
    torch.testing.assert_close(pmf, torch.tensor(spanbert, dtype=torch.float64), atol=1e-8, rtol=0)


def test_a_different_clip_gives_a_different_mean_and_is_not_supported():
    result = _run("span-masking", {"l_max": 100, "n_lengths": 20000, "n_seqs": 20})
    assert abs(result.metrics["empirical_mean_length"] - 5.0) < 0.15
    assert result.verdict_for("Q14.4").verdict == "contradicts"


def test_span_masking_is_deterministic(spans):
    assert _run("span-masking").metrics == spans.metrics


def test_span_masking_refuses_bad_parameters(monkeypatch):
    for bad in ({"p": 0}, {"l_max": "ten"}, {"n_lengths": 5_000_000, "n_seqs": 20000, "seq_len": 2048}):
        _refuses_before_running("span-masking", bad, monkeypatch)


# ------------------------------------------------------------------ span-boundary (Q14.5)


@pytest.fixture(scope="module")
def boundary():
    return _run("span-boundary")


def test_span_boundaries_and_position_predict_the_span(boundary):
    assert boundary.verdict_for("Q14.5").verdict == "supports"
    assert boundary.metrics["sbo_accuracy"] > 0.9
    assert boundary.metrics["position_only_accuracy"] < 0.1            # about chance, 1/32
    assert 0.2 < boundary.metrics["left_boundary_accuracy"] < 0.5      # one boundary: step k unknown, 1 in 3


def test_sbo_head_matches_the_same_layers_in_torch():
    """Oracle: LN(GeLU(W2 · LN(GeLU(W1 · h)))) equals an nn.Sequential of torch's own layers."""
    from mechanisms.span_boundary import MLPWithLayerNorm

    torch.manual_seed(0)
    ours = MLPWithLayerNorm(24, 8)
    theirs = torch.nn.Sequential(ours.fc1, torch.nn.GELU(), ours.ln1, ours.fc2, torch.nn.GELU(), ours.ln2)
    h = torch.randn(5, 3, 24)
    torch.testing.assert_close(ours(h), theirs(h), atol=1e-5, rtol=0)


def test_span_boundary_is_deterministic():
    short = {"steps": 20, "batch": 32}                                 # training is the slow part: keep it short
    assert _run("span-boundary", short).metrics == _run("span-boundary", short).metrics


def test_span_boundary_refuses_bad_parameters(monkeypatch):
    for bad in ({"span_len": 11}, {"lr": "fast"}, {"batch": 4096, "width": 256, "vocab": 4096, "span_len": 10}):
        _refuses_before_running("span-boundary", bad, monkeypatch)


# ------------------------------------------------------------------ dynamic-masking (Q15.2)


@pytest.fixture(scope="module")
def dynamic():
    return _run("dynamic-masking")


def test_static_masking_repeats_ten_masks_and_dynamic_draws_one_per_epoch(dynamic):
    assert dynamic.verdict_for("Q15.2").verdict == "supports"
    assert dynamic.metrics["static_distinct_masks"] == 10
    assert dynamic.metrics["static_uses_per_mask"] == 4
    assert dynamic.metrics["dynamic_distinct_masks"] == 40
    assert abs(dynamic.metrics["static_coverage"] - (1 - 0.85 ** 10)) < 0.02    # ≈ 80.3 %
    assert abs(dynamic.metrics["dynamic_coverage"] - (1 - 0.85 ** 40)) < 0.01   # ≈ 99.8 %


def test_dynamic_masking_is_deterministic(dynamic):
    assert _run("dynamic-masking").metrics == dynamic.metrics


def test_dynamic_masking_refuses_bad_parameters(monkeypatch):
    for bad in ({"epochs": 1}, {"mask_rate": "a lot"}, {"n_seqs": 100_000, "seq_len": 4096}):
        _refuses_before_running("dynamic-masking", bad, monkeypatch)


# ------------------------------------------------------------------ chinese-units (Q9.1)


@pytest.fixture(scope="module")
def chinese():
    return _run("chinese-units")


def test_chinese_words_give_a_larger_vocabulary_and_more_oov_than_characters(chinese):
    assert chinese.verdict_for("Q9.1").verdict == "supports"
    assert chinese.metrics["word_vocab_size"] > 2 * chinese.metrics["char_vocab_size"]
    assert chinese.metrics["word_oov_rate"] > 3 * chinese.metrics["char_oov_rate"]


def test_the_jieba_lexicon_is_parsed_once():
    from mechanisms.chinese_units import lexicon

    words, freqs, lengths = lexicon()
    assert lexicon()[0] is words
    assert len(words) == len(freqs) == len(lengths) > 300_000
    assert "中国" in words


def test_chinese_units_is_deterministic(chinese):
    assert _run("chinese-units").metrics == chinese.metrics


def test_chinese_units_refuses_bad_parameters(monkeypatch):
    for bad in ({"top_words": 10}, {"train_words": "all"}, {"train_words": 50_000_000}):
        _refuses_before_running("chinese-units", bad, monkeypatch)
