"""What gets masked together: sub-word pieces, whole words, whole phrases or whole entities.

Claims checked
    Q14.2  BERT-WWM masks and predicts whole words.
    Q12.3  Phrase-level masking (ERNIE 1.0) masks whole contiguous phrases.
    Q12.4  Entity-level masking (ERNIE 1.0) masks whole entities.
    Q12.2  Basic-level masking masks sub-words as BERT does and so cannot capture higher-level
           semantics: a masked piece can be restored from its own word's visible pieces.

Papers: Devlin et al., BERT (arXiv 1810.04805) and its whole-word-masking release (google-research/bert
README: "we always mask all of the tokens corresponding to a word at once. The overall masking rate
remains the same"; Cui et al. arXiv 1906.08101 for Chinese); Sun et al., "ERNIE: Enhanced
Representation through Knowledge Integration" (arXiv 1904.09223), §3.2: basic-level masking of 15 %
of the basic units, phrase-level masking of all units of randomly chosen phrases, entity-level masking
of all units of named entities.

All four maskers are the same procedure over different units, as in BERT's
create_pretraining_data.py: shuffle the candidate units and take whole units while the budget
(15 % of the pieces) allows, skipping a unit that would overshoot it. The toy corpus is synthetic:
Zipf-distributed word types, each split into 1–3 word pieces, sentences chunked into phrases of 1–4
words, and entity spans of 1–3 words drawn independently of the chunks.
"""

from __future__ import annotations

import random
from collections import Counter
from itertools import permutations

from ._base import Outcome, Plot, Series, judge

MASKERS = ("basic", "word", "phrase", "entity")

# --------------------------------------------------------------------------- the toy corpus


def make_lexicon(n_types: int, n_heads: int = 300, n_tails: int = 100) -> list[tuple[int, ...]]:
    """Word types as piece ids: a head piece then 0–2 '##' continuation pieces (55/30/15 %)."""
    lexicon = []
    for _ in range(n_types):
        k = random.choices((1, 2, 3), weights=(55, 30, 15))[0]
        lexicon.append((random.randrange(n_heads),) + tuple(n_heads + random.randrange(n_tails) for _ in range(k - 1)))
    return lexicon


def make_sequence(lexicon: list, n_words: int) -> dict:
    """One sequence: its pieces, and its words, phrases and entities as lists of piece positions."""
    zipf = [1 / (r + 1) for r in range(len(lexicon))]
    words, pieces = [], []
    for w in random.choices(range(len(lexicon)), weights=zipf, k=n_words):
        words.append(list(range(len(pieces), len(pieces) + len(lexicon[w]))))
        pieces.extend(lexicon[w])
    def span(i, k):                                      # the piece positions of words i .. i+k−1
        return [j for w in words[i:i + k] for j in w]
    phrases, i = [], 0
    while i < n_words:                                   # a chunker's phrases: 1–4 words each
        k = random.randint(1, 4)
        phrases.append(span(i, k))
        i += k
    entities, i = [], 0
    while i < n_words:                                   # named entities: 1–3 words, at 15 % of the positions
        k = random.randint(1, 3) if random.random() < 0.15 else 0
        entities += [span(i, k)] if k else []
        i += max(k, 1)
    return {"pieces": pieces, "words": words, "phrases": phrases, "entities": entities}


# --------------------------------------------------------------------------- the mechanism


def mask_units(units: list[list[int]], n_pieces: int, rate: float) -> list[bool]:
    """Mask whole units, in random order, until round(rate · n_pieces) pieces are masked."""
    budget = max(1, round(rate * n_pieces))
    order = units[:]
    random.shuffle(order)
    masked, count = [False] * n_pieces, 0
    for unit in order:
        if count + len(unit) <= budget:                  # a unit that would overshoot is skipped, as in BERT
            for i in unit:
                masked[i] = True
            count += len(unit)
    return masked


def units_for(masker: str, seq: dict) -> list[list[int]]:
    """basic: every piece alone (BERT); word: whole words (WWM); phrase / entity: ERNIE 1.0's units."""
    if masker == "basic":
        return [[i] for i in range(len(seq["pieces"]))]
    return seq[{"word": "words", "phrase": "phrases", "entity": "entities"}[masker]]


# --------------------------------------------------------------------------- the measurement


def tally(masked: list[bool], units: list[list[int]]) -> tuple[int, int, int]:
    """(units touched by the mask, touched units masked entirely, masked pieces whose unit is partly visible)."""
    touched = whole = leaked = 0
    for unit in units:
        hits = sum(masked[i] for i in unit)
        touched += hits > 0
        whole += hits == len(unit)
        leaked += hits if 0 < hits < len(unit) else 0
    return touched, whole, leaked


def sibling_table(corpus: list[dict]) -> tuple[dict, int]:
    """Counts of (visible piece, offset) -> sibling piece over the corpus's words, and the commonest piece."""
    table, freq = {}, Counter()
    for seq in corpus:
        freq.update(seq["pieces"])
        for a, b in (pair for word in seq["words"] for pair in permutations(word, 2)):
            table.setdefault((seq["pieces"][a], b - a), Counter())[seq["pieces"][b]] += 1
    return table, freq.most_common(1)[0][0]


def sibling_guess(masked: list[bool], seq: dict, table: dict, fallback: int) -> tuple[int, int]:
    """A count model guesses each masked piece of a multi-piece word from a visible sibling. -> (right, tried)."""
    right = tried = 0
    for word in (w for w in seq["words"] if len(w) > 1):
        seen = [j for j in word if not masked[j]]
        for i in (i for i in word if masked[i]):
            guess = table[(seq["pieces"][seen[0]], i - seen[0])].most_common(1)[0][0] if seen else fallback
            right, tried = right + (guess == seq["pieces"][i]), tried + 1
    return right, tried


def run(p: dict, progress) -> Outcome:
    rate = p["mask_rate"]
    lexicon = make_lexicon(p["n_types"])
    corpus = [make_sequence(lexicon, p["words_per_seq"]) for _ in range(p["n_seqs"])]
    table, fallback = sibling_table(corpus)
    progress(0.3, "corpus built")

    metrics, example = {}, {}
    for k, m in enumerate(MASKERS):
        sums = Counter()
        for seq in corpus:
            masked = mask_units(units_for(m, seq), len(seq["pieces"]), rate)
            example.setdefault(m, masked)
            sums["pieces"], sums["masked"] = sums["pieces"] + len(masked), sums["masked"] + sum(masked)
            for kind in ("words", "phrases", "entities"):
                sums.update(dict(zip((kind + "_touched", kind + "_whole", kind + "_leak"), tally(masked, seq[kind]))))
            sums.update(dict(zip(("right", "tried"), sibling_guess(masked, seq, table, fallback))))
        metrics[f"{m}_mask_rate"] = sums["masked"] / sums["pieces"]
        metrics[f"{m}_leak_rate"] = sums["words_leak"] / max(1, sums["masked"])
        metrics[f"{m}_whole_phrase_share"] = sums["phrases_whole"] / max(1, sums["phrases_touched"])
        metrics[f"{m}_whole_entity_share"] = sums["entities_whole"] / max(1, sums["entities_touched"])
        metrics[f"{m}_sibling_guess_accuracy"] = sums["right"] / max(1, sums["tried"])
        progress(0.3 + 0.15 * (k + 1), f"{m} masking")
    r, leak = ({m: metrics[f"{m}_{x}_rate"] for m in MASKERS} for x in ("mask", "leak"))

    # Thresholds: the claimed masker leaves no unit partly visible (exactly 0 leaks / share 1.0) at
    # the same overall rate (within ±0.02 of the target), while basic masking visibly breaks units
    # (leak ≥ 0.1, whole share ≤ 0.5), which shows the measurement can see a broken unit.
    rate_ok = lambda m: abs(r[m] - rate) <= 0.02        # noqa: E731
    ph, en = ({m: metrics[f"{m}_whole_{x}_share"] for m in MASKERS} for x in ("phrase", "entity"))
    guess = {m: metrics[f"{m}_sibling_guess_accuracy"] for m in MASKERS}
    verdicts = [
        judge("Q14.2", supports=leak["word"] == 0 and rate_ok("word") and leak["basic"] >= 0.1,
              contradicts=leak["word"] > 0, key="word_leak_rate",
              explanation=(f"With sub-word masking {leak['basic']:.1%} of masked pieces keep a visible sibling "
                           f"piece (a count model then guesses them {guess['basic']:.0%} right); with whole-word "
                           f"masking {leak['word']:.1%} do (guess {guess['word']:.0%}), at masking rates "
                           f"{r['basic']:.3f} vs {r['word']:.3f}.")),
        judge("Q12.3", supports=ph["phrase"] == 1 and rate_ok("phrase") and ph["basic"] <= 0.5,
              contradicts=ph["phrase"] < 1, key="phrase_whole_phrase_share",
              explanation=(f"Phrase-level masking masked {ph['phrase']:.0%} of the phrases it touched entirely "
                           f"(basic {ph['basic']:.0%}, whole-word {ph['word']:.0%}), at masking rate "
                           f"{r['phrase']:.3f}.")),
        judge("Q12.4", supports=en["entity"] == 1 and rate_ok("entity") and en["basic"] <= 0.5,
              contradicts=en["entity"] < 1, key="entity_whole_entity_share",
              explanation=(f"Entity-level masking masked {en['entity']:.0%} of the entities it touched entirely "
                           f"(basic {en['basic']:.0%}, whole-word {en['word']:.0%}, phrase {en['phrase']:.0%}), "
                           f"at masking rate {r['entity']:.3f}.")),
        # Q12.2: basic-level masking leaves a shortcut: if most masked pieces have a visible sibling that a
        # count model exploits (≥ 50 % right, at least twice whole-word masking), no higher-level meaning is needed.
        judge("Q12.2", supports=leak["basic"] >= 0.5 and guess["basic"] >= 0.5 and guess["basic"] >= 2 * guess["word"],
              contradicts=leak["basic"] < 0.1, key="basic_leak_rate",
              explanation=(f"Under basic-level masking {leak['basic']:.1%} of masked pieces keep a visible piece of "
                           f"their own word, from which a count model restores {guess['basic']:.0%} of them, against "
                           f"{guess['word']:.0%} when whole words are masked.")),
    ]

    seq0 = corpus[0]
    shown = min(48, len(seq0["pieces"]))
    labels = [f"t{x}" if x < 300 else f"##{x - 300}" for x in seq0["pieces"][:shown]]
    plots = [
        Plot("Masked pieces whose word stays partly visible", "bar", "masker", "leak rate",
             [Series("leak rate", list(MASKERS), [leak[m] for m in MASKERS])]),
        Plot("Touched phrases / entities that are masked entirely", "bar", "masker", "share",
             [Series("phrases", list(MASKERS), [ph[m] for m in MASKERS]),
              Series("entities", list(MASKERS), [en[m] for m in MASKERS])]),
        Plot("The four masks on the first sequence (1 = masked)", "heatmap", "piece", "masker",
             z=[[float(x) for x in example[m][:shown]] for m in MASKERS], x_ticks=labels, y_ticks=list(MASKERS)),
    ]
    return Outcome(metrics, plots, verdicts)
