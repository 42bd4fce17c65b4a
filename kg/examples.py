"""The example queries: one `.rq` file per competency question in kg/queries/.

Each file starts with comment lines `# title: ...`, `# description: ...` and `# question: N`
(the number of the competency question it answers); the rest is the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .textmatch import fold

QUERY_DIR = Path(__file__).resolve().parent / "queries"


@dataclass(frozen=True)
class Example:
    name: str          # file name without .rq
    title: str
    description: str
    question: int | None
    text: str          # the whole file, header comments included (valid SPARQL)

    @property
    def number(self) -> str:
        """How the example is named: "CQ 5" for competency question 5 (never "Q5", the survey's section)."""
        return f"CQ {self.question}" if self.question else self.name


def _parse(path: Path) -> Example:
    text = path.read_text(encoding="utf-8")
    meta = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line[1:].partition(":")
        meta[key.strip().lower()] = value.strip()
    if "title" not in meta:
        raise ValueError(f"{path}: the first lines must include '# title: ...'")
    q = meta.get("question")
    return Example(path.stem, meta["title"], meta.get("description", ""), int(q) if q else None, text)


def examples() -> list[Example]:
    """All example queries, in the order of their competency questions."""
    found = [_parse(p) for p in sorted(QUERY_DIR.glob("*.rq"))]
    return sorted(found, key=lambda e: (e.question or 999, e.name))


def get(name: str) -> Example:
    for ex in examples():
        if ex.name == name or str(ex.question) == name.lstrip("cq").lstrip("0"):
            return ex
    raise KeyError(f"No example query {name!r}; `kg examples` lists them.")


def search(found: list[Example], text: str) -> list[Example]:
    """The examples that hold every word of `text` in their title, description or query, in their
    order; "CQ 5" (or "cq5") names competency question 5 itself. All of them for an empty text."""
    folded = re.sub(r"\bcq\s*(\d+)\b", r"cq\1", fold(text))
    words = folded.split()
    numbers = {int(w[2:]) for w in words if re.fullmatch(r"cq\d+", w)}
    words = [w for w in words if not re.fullmatch(r"cq\d+", w)]

    def matches(ex: Example) -> bool:
        haystack = fold(" ".join([ex.name, ex.title, ex.description, ex.text]))
        return (not numbers or ex.question in numbers) and all(w in haystack for w in words)
    return [ex for ex in found if matches(ex)]
