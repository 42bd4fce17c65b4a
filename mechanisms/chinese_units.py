"""Chinese input units: words make a big vocabulary full of unseen words, characters do not.

Claims checked
    Q9.1  For Chinese, word input worsens out-of-vocabulary (OOV) words and enlarges the input space,
          needing far more data; character input avoids it.

Papers: Devlin et al., BERT (arXiv 1810.04805) feeds Chinese as characters; Cui et al., "Pre-Training
with Whole Word Masking for Chinese BERT" (arXiv 1906.08101) keeps character input and uses words only
to choose what to mask; Meng, Li et al., "Is Word Segmentation Necessary for Deep Learning of Chinese
Representations?" (arXiv 1905.05526) make the OOV and data-sparsity argument, segmenting with jieba.

The toy: the word list and frequencies bundled with the `jieba` segmenter (dict.txt, ≈ 349k lines
"word frequency tag", read from the installed package; nothing is downloaded) stand in for the
word distribution of Chinese text. A training text and a held-out text are sampled as i.i.d. words
from these frequencies (the `top_words` most frequent words form the population; the default keeps the
whole lexicon). The word vocabulary is the set of training words, the character vocabulary the set of
their characters; a held-out word (character) is OOV when it is not in the word (character) vocabulary.
"""

from __future__ import annotations

from importlib import resources

import torch

from ._base import Outcome, Plot, Series, judge

_LEXICON: tuple | None = None     # (words, frequencies, lengths in characters), parsed once per process


def lexicon() -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """jieba's dict.txt as words (N,), frequencies (N,) and word lengths in characters (N,)."""
    global _LEXICON
    if _LEXICON is None:
        try:
            text = resources.files("jieba").joinpath("dict.txt").read_text(encoding="utf-8")
        except ModuleNotFoundError:
            raise RuntimeError("chinese-units needs the jieba package (pip install -r requirements.txt)") from None
        fields = text.split()                                     # word freq tag word freq tag ...
        words = fields[0::3]
        freqs = torch.tensor([int(f) for f in fields[1::3]], dtype=torch.float64)
        lengths = torch.tensor([len(w) for w in words])
        _LEXICON = (words, freqs, lengths)
    return _LEXICON


# --------------------------------------------------------------------------- the measurement


def oov_rates(words, seen: torch.Tensor, char_vocab: set, types: torch.Tensor, counts: torch.Tensor):
    """OOV rates of a held-out text given as its word types (K,) and their counts (K,): the share of
    words not in the word vocabulary (`seen`, a bool mask over word ids) and the share of characters
    not in the character vocabulary."""
    word_oov = float(counts[~seen[types]].sum() / counts.sum())
    chars = [words[i] for i in types.tolist()]
    unseen = torch.tensor([sum(c not in char_vocab for c in w) for w in chars])             # (K,)
    total = torch.tensor([len(w) for w in chars])                                          # (K,)
    return word_oov, float((unseen * counts).sum() / (total * counts).sum())


def run(p: dict, progress) -> Outcome:
    words, all_freqs, lengths = lexicon()
    progress(0.3, "lexicon read")
    top = torch.topk(all_freqs, min(p["top_words"], len(words))).indices        # the population, by frequency
    freqs = torch.zeros_like(all_freqs)
    freqs[top] = all_freqs[top]
    n_train, n_test = p["train_words"], p["test_words"]
    sample = torch.multinomial(freqs, n_train + n_test, replacement=True)        # i.i.d. word ids, Zipf-like
    train, test = sample[:n_train], sample[n_train:]
    progress(0.5, "texts sampled")

    # Grow the training text and measure both vocabularies on the same held-out text.
    sizes = sorted({min(n_train, s) for s in (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)} | {n_train})
    types, counts = torch.unique(test, return_counts=True)
    seen, char_vocab, n_seen, done, curve = torch.zeros(len(words), dtype=torch.bool), set(), 0, 0, {}
    for size in sizes:
        new = train[done:size][~seen[train[done:size]]].unique()                # word types not seen before
        seen[new], n_seen, done = True, n_seen + len(new), size
        char_vocab.update("".join(words[i] for i in new.tolist()))
        curve[size] = (n_seen, len(char_vocab), *oov_rates(words, seen, char_vocab, types, counts))
    progress(0.9, "vocabularies measured")
    n_word, n_char, word_oov, char_oov = curve[n_train]
    train_chars = int(lengths[train].sum())
    # The smallest training text whose character OOV rate is already as low as the full word OOV rate.
    enough = min((s for s in sizes if curve[s][3] <= word_oov), default=n_train)
    metrics = {
        "word_vocab_size": float(n_word), "char_vocab_size": float(n_char),
        "word_oov_rate": word_oov, "char_oov_rate": char_oov,
        "vocab_ratio": n_word / n_char, "oov_ratio": word_oov / max(char_oov, 1e-9),
        "train_chars": float(train_chars), "population_words": float(len(top)),
        "mean_word_length_chars": float(lengths[sample].double().mean()),
        "char_train_words_matching_word_oov": float(enough),
    }

    # Thresholds: "much larger" and "much higher" read as a word vocabulary ≥ 2× the character one
    # and a word OOV rate ≥ 3× the character one (and at least 1 %); contradicted if words do not
    # give both a larger vocabulary and a higher OOV rate.
    verdicts = [judge(
        "Q9.1", supports=n_word >= 2 * n_char and word_oov >= 3 * char_oov and word_oov >= 0.01,
        contradicts=n_word <= n_char or word_oov <= char_oov, key="oov_ratio",
        explanation=(f"From {n_train:,} training words ({train_chars:,} characters) the word vocabulary has "
                     f"{n_word:,} entries vs {n_char:,} characters ({n_word / n_char:.0f}×), and on {n_test:,} "
                     f"held-out words {word_oov:.1%} of words are OOV vs {char_oov:.2%} of characters (characters "
                     f"reach {curve[enough][3]:.1%} OOV from only {enough:,} training words)."))]
    plots = [
        Plot("Held-out OOV rate against training-text size", "line", "training words", "OOV rate",
             [Series("word units", sizes, [curve[s][2] for s in sizes]),
              Series("character units", sizes, [curve[s][3] for s in sizes])], log_x=True),
        Plot("Vocabulary size against training-text size", "line", "training words", "vocabulary entries",
             [Series("word units", sizes, [curve[s][0] for s in sizes]),
              Series("character units", sizes, [curve[s][1] for s in sizes])], log_x=True, log_y=True),
    ]
    return Outcome(metrics, plots, verdicts)
