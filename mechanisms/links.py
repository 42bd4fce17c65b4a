"""The demos as RDF: the Turtle in data/demos.ttl, generated from the registry.

    python -m mechanisms links > data/demos.ttl

Each demo becomes a plm:Demo node; every mechanism it shows points to it with plm:demonstratedBy
and every claim it checks with plm:checkedBy. tests/mechanisms/test_registry.py checks that the
committed file is exactly what the registry generates, so the graph and the registry agree.
"""

from __future__ import annotations

import json

from . import DEMOS


def _lit(text: str, lang: str | None = None) -> str:
    out = json.dumps(text, ensure_ascii=False)
    return f"{out}@{lang}" if lang else out


def traditional(text: str) -> str:
    """Simplified Chinese to traditional: the project's one conversion (kg/hant.py: OpenCC s2twp and its
    exceptions), so a demo writes a word as the concepts do."""
    from kg.hant import to_hant

    return to_hant(text)


def demo_graph() -> str:
    lines = [
        "# The demos and what they show and check. Generated from mechanisms/__init__.py by",
        "# `python -m mechanisms links > data/demos.ttl`; do not edit by hand.",
        "",
        "@prefix plm:    <https://w3id.org/plm-map/ontology#> .",
        "@prefix pm:     <https://w3id.org/plm-map/id/> .",
        "@prefix skos:   <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix schema: <https://schema.org/> .",
        "",
    ]
    for demo in sorted(DEMOS, key=lambda d: d.id):
        node = f"pm:demo-{demo.id}"
        lines.append(f"{node} a plm:Demo ;")
        lines.append(f"    plm:demoId {_lit(demo.id)} ; plm:module {_lit(demo.module)} ;")
        lines.append(f"    skos:prefLabel {_lit(demo.title, 'en')} , {_lit(demo.title_zh, 'zh-Hans')} , "
                     f"{_lit(traditional(demo.title_zh), 'zh-Hant')} ;")
        if demo.summary:
            lines.append(f"    schema:description {_lit(demo.summary, 'en')} ;")
        lines.append('    schema:programmingLanguage "Python" .')
        for mechanism in demo.mechanisms:
            lines.append(f"pm:{mechanism} plm:demonstratedBy {node} .")
        for claim in demo.claims:
            lines.append(f"pm:claim-{claim} plm:checkedBy {node} .")
        lines.append("")
    return "\n".join(lines)
