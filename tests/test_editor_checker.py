"""The editor's syntax check (sparqljs in the browser, frontend/src/_sparql_syntax.js) agrees with the
engine: over every example query and hundreds of broken variants of them, the editor marks an error
exactly when the engine (Oxigraph) refuses to parse the query, on the same line in most cases and never
more than one line away.

The check runs in node against the very bundle the app serves (app_pages/static/sparql_editor.js);
the engine parses the same texts, with the page's prologue, in an empty store (nothing to run)."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from pathlib import Path

import pyoxigraph
import pytest

from kg.examples import examples
from kg.vocab import PREFIXES, prologue

BUNDLE = Path(__file__).resolve().parents[1] / "app_pages" / "static" / "sparql_editor.js"
RUN = """
const m = await import(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(input.texts.map((t) => m.checkSyntax(t, input.prefixes))));
"""


def editor_checks(texts: list[str]) -> list[dict | None]:
    node = shutil.which("node")
    assert node, "node is needed to run the editor's checker (test.sh installs Debian's nodejs)"
    script = "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" + RUN
    out = subprocess.run([node, "--input-type=module", "-e", script, str(BUNDLE)],
                         input=json.dumps({"texts": texts, "prefixes": PREFIXES}), capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def engine_error_line(text: str) -> int | None:
    """None when the engine parses the query; else the line (of `text`) it names."""
    head = prologue()
    try:
        pyoxigraph.Store().query(head + text)
        return None
    except SyntaxError as e:
        m = re.search(r"error at (\d+):(\d+)", str(e))
        return int(m[1]) - head.count("\n") if m else 0


def broken_variants(text: str, rng: random.Random, n: int = 12) -> list[str]:
    """Small, typical mistakes: a token dropped, a brace or bracket dropped, a keyword misspelt."""
    tokens = list(re.finditer(r"\S+", text))
    out = []
    for _ in range(n):
        kind = rng.choice(["drop", "brace", "misspell"])
        if kind == "drop" and tokens:
            t = rng.choice(tokens)
            out.append(text[:t.start()] + text[t.end():])
        elif kind == "brace":
            closers = [i for i, c in enumerate(text) if c in "})]"]
            if closers:
                i = rng.choice(closers)
                out.append(text[:i] + text[i + 1:])
        else:
            words = [t for t in tokens if t.group().isupper() and len(t.group()) > 3]
            if words:
                t = rng.choice(words)
                out.append(text[:t.start()] + t.group()[:-1] + text[t.end():])
    return out


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    rng = random.Random(20261201)
    texts = [ex.text for ex in examples()]
    texts += [v for ex in examples() for v in broken_variants(ex.text, rng)]
    texts += ["SELECT * WHERE { ?x plm:longRangeRank ?r FILTER(?r<3&&?r>1) }",
              "SELECT * WHERE { ?s <http://example.org/p?a=1&b=2> ?o }",
              'SELECT ?l WHERE { pm:BERT skos:prefLabel ?l FILTER(lang(?l) = "zh-Hans") }',
              "ASK { pm:XLNet plm:improvesOn pm:BERT }", "SELECT ?x WHERE { ?x ?p }", "SELEC ?x WHERE {}"]
    return texts


def test_the_editor_marks_an_error_exactly_when_the_engine_refuses_the_query(corpus):
    marks = editor_checks(corpus)
    disagree = [(t, m) for t, m in zip(corpus, marks) if (m is None) != (engine_error_line(t) is None)]
    assert len(corpus) > 250
    assert disagree == [], f"{len(disagree)} of {len(corpus)} disagree; first: {disagree[:2]}"


def test_the_editor_marks_the_line_the_engine_names_or_the_one_before(corpus):
    """Where they differ, the engine names the furthest place it tried (for `FILTER(LANG(?l = "en")`
    followed by `}`, the line after it), the editor the token that cannot follow: one line apart."""
    marks = editor_checks(corpus)
    pairs = [(t[:m["from"]].count("\n") + 1, engine_error_line(t)) for t, m in zip(corpus, marks) if m is not None]
    assert len(pairs) > 150
    assert all(abs(mine - engine) <= 1 for mine, engine in pairs)
    same = sum(1 for mine, engine in pairs if mine == engine)
    assert same / len(pairs) >= 0.8, f"same line in {same} of {len(pairs)}"
