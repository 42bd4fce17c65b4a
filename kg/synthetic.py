"""Synthetic graphs of the survey graph's shape, for benchmarks and stress tests.

`write_synthetic(path, triples)` writes the survey graph itself plus generated "families" (a model
with its paper, organisation, mechanisms, a weakness, the mechanism that addresses it and claims
that back each relation), all in the project's own vocabulary, until the file holds about
`triples` triples. The example queries therefore keep their answers and gain many more rows.
"""

from __future__ import annotations

import random
from pathlib import Path

from .store import DATA_DIR, GRAPH_FILES, load_store
from .vocab import DCTERMS, PLM, PM, PROV, RDF, SCHEMA, SKOS, XSD

DIRECTIONS = ["knowledge", "multi-task", "generation", "masking", "tuning"]
EXTRACTORS = ["Transformer", "Transformer-XL", "LSTM", "CNN", "RNN", "MLP"]
OBJECTIVES = ["autoregressive-lm", "autoencoding-lm", "permutation-lm"]
ORGS = ["google", "microsoft", "baidu", "openai", "facebook-ai", "cmu", "tsinghua", "ai2"]
WORDS = ["sparse", "span", "entity", "relative", "cross", "deep", "dual", "masked", "causal", "light",
         "dense", "segment", "global", "local", "multi", "token", "phrase", "knowledge", "latent", "gated"]
ZH = ["稀疏", "片段", "實體", "相對", "交叉", "深層", "雙重", "掩碼", "因果", "輕量", "稠密", "全局", "局部", "多頭"]


def _iri(local: str) -> str:
    return f"<{PM}{local}>"


def _lit(text: str, lang: str | None = None, dtype: str | None = None) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    if lang:
        return f'"{text}"@{lang}'
    if dtype:
        return f'"{text}"^^<{dtype}>'
    return f'"{text}"'


def _family(i: int, rng: random.Random) -> list[str]:
    t: list[str] = []

    def add(s, p, o):
        t.append(f"{s} <{p}> {o} .")

    w1, w2 = rng.choice(WORDS), rng.choice(WORDS)
    name = f"{w1.title()}{w2.title()}-{i}"
    zh = rng.choice(ZH) + rng.choice(ZH)
    model, paper, mech, weak = _iri(f"syn-model-{i}"), _iri(f"syn-paper-{i}"), _iri(f"syn-mech-{i}"), _iri(f"syn-weak-{i}")
    year = str(2019 + i % 6)
    for node, cls, en, zh_label in (
        (model, "Model", name, f"{name}模型"),
        (mech, "Mechanism", f"{w1} {w2} attention {i}", f"{zh}注意力{i}"),
        (weak, "Weakness", f"{w2} {w1} bottleneck {i}", f"{zh}瓶頸{i}"),
    ):
        add(node, RDF + "type", f"<{PLM}{cls}>")
        add(node, SKOS + "prefLabel", _lit(en, "en"))
        add(node, SKOS + "prefLabel", _lit(zh_label, "zh-Hans"))
        add(node, SKOS + "prefLabel", _lit(zh_label, "zh-Hant"))
        add(node, SKOS + "definition", _lit(f"A generated {cls.lower()} named {en}, used to measure the engine at scale.", "en"))
        add(node, SKOS + "inScheme", _iri("scheme"))
    add(model, DCTERMS + "issued", _lit(year, dtype=XSD + "gYear"))
    add(model, DCTERMS + "creator", _iri("org-" + rng.choice(ORGS)))
    add(model, PLM + "paper", paper)
    add(model, PLM + "featureExtractor", _iri(rng.choice(EXTRACTORS)))
    add(model, PLM + "objective", _iri(rng.choice(OBJECTIVES)))
    add(model, PLM + "representation", _iri(rng.choice(["unidirectional", "bidirectional"])))
    base = _iri(f"syn-model-{rng.randrange(i)}") if i and rng.random() < 0.7 else _iri("BERT")
    add(model, PLM + "improvesOn", base)
    add(model, PLM + "improvementDirection", _iri("direction-" + rng.choice(DIRECTIONS)))
    add(paper, RDF + "type", f"<{PLM}Paper>")
    add(paper, DCTERMS + "title", _lit(f"{name}: {w1} {w2} pre-training for language understanding"))
    add(paper, DCTERMS + "issued", _lit(year, dtype=XSD + "gYear"))
    add(paper, PLM + "arxivId", _lit(f"{19 + i % 6}{(i % 12) + 1:02d}.{i % 100000:05d}"))
    add(mech, PLM + "introducedBy", model)
    add(mech, PLM + "usedBy", model)
    add(mech, PLM + "addresses", weak)
    add(model, PLM + "hasWeakness", _iri(f"syn-weak-{rng.randrange(i)}") if i else _iri("independence-assumption"))
    add(base, PLM + "hasWeakness", weak)
    for j, (s, p, o) in enumerate(((mech, "addresses", weak), (mech, "introducedBy", model), (base, "hasWeakness", weak))):
        claim = _iri(f"syn-claim-{i}-{j}")
        section = _iri(f"section-Q{rng.randint(1, 18)}")
        add(claim, RDF + "type", f"<{PLM}Claim>")
        add(claim, DCTERMS + "identifier", _lit(f"S{i}.{j}"))
        add(claim, PLM + "section", section)
        add(claim, SCHEMA + "text", _lit(f"Generated claim {j} of family {i} about {name}.", "en"))
        add(claim, PLM + "about", s)
        add(claim, PLM + "about", o)
        add(claim, PROV + "wasDerivedFrom", _iri("survey"))
        add(claim, PLM + "backs", f"_:st{i}x{j}")
        add(f"_:st{i}x{j}", RDF + "subject", s)
        add(f"_:st{i}x{j}", RDF + "predicate", f"<{PLM}{p}>")
        add(f"_:st{i}x{j}", RDF + "object", o)
    return t


def write_synthetic(path: Path, triples: int, *, seed: int = 0) -> int:
    """Write about `triples` triples (the survey's own graph included; the verification runs' records,
    which grow with the seeds `kg verify` ran, left out) as N-Triples; return the exact count."""
    import pyoxigraph as ox

    rng = random.Random(seed)
    base = load_store([DATA_DIR / name for name in GRAPH_FILES])
    lines = [
        ox.serialize([q.triple for q in base], format=ox.RdfFormat.N_TRIPLES).decode("utf-8").rstrip("\n")
    ]
    count, i = len(base), 0
    while count < triples:
        fam = _family(i, rng)
        lines.append("\n".join(fam))
        count += len(fam)
        i += 1
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return count


def write_chain(path: Path, length: int) -> None:
    """A `pm:next` chain of `length` nodes, for property-path stress tests."""
    with open(path, "w", encoding="utf-8") as f:
        for k in range(length):
            f.write(f"<{PM}n{k}> <{PM}next> <{PM}n{k + 1}> .\n")
