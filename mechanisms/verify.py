"""Running every claim check: the table claim → verdict → key number, as RDF and as Markdown.

`kg verify` calls `verify()` and writes `verification/results.trig` (each run a PROV-O activity in the
named graph <https://w3id.org/plm-map/graph/verification>, which the graph loads when the file
exists) and `verification/report.md`. The demos run in one worker process of `mechanisms.runner`
(torch loads once for all of them), each with its own time budget.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import DEMOS, Demo, ParamError, Result
from . import runner

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "verification"
GRAPH = "https://w3id.org/plm-map/graph/verification"
RUN_NS = "https://w3id.org/plm-map/run/"


@dataclass
class Row:
    claim: str
    verdict: str
    key: str
    value: float | None
    demo: str
    explanation: str


def verify(demos: list[Demo] | None = None, *, seed: int = 0,
           progress: Callable[[float, str], None] | None = None, budget: float | None = None,
           in_process: bool = False) -> list[Result]:
    """Run each demo at its defaults; `progress(fraction, message)` follows all of them.

    Each demo gets `budget` seconds (default $PLM_MAP_DEMO_BUDGET or 60 s) on one worker of the
    process's pool; `in_process=True` runs them here instead, without a budget (tests, library use).

    Raises:
        DemoError: a demo ran past its budget or failed; the message starts with its id.
    """
    demos = list(demos or DEMOS)
    results = []

    def step_for(i: int, demo: Demo):
        def step(fraction: float, message: str):
            if progress:
                progress((i + min(max(fraction, 0.0), 1.0)) / len(demos), f"{demo.id}: {message}")
        return step

    if in_process:
        results = [demo.run(seed=seed, progress=step_for(i, demo)) for i, demo in enumerate(demos)]
    else:
        budget = runner.default_budget() if budget is None else runner.check_budget(budget)
        with runner.pool().worker() as worker:
            for i, demo in enumerate(demos):
                try:
                    results.append(worker.run(demo, seed=seed, progress=step_for(i, demo), budget=budget))
                except (runner.DemoError, ParamError) as e:
                    e.args = (f"{demo.id}: {e}", *e.args[1:])
                    raise
    if progress:
        progress(1.0, "done")
    return results


def claim_order(claim: str) -> tuple:
    section, _, number = claim.partition(".")
    return (section == "F", int(section[1:]) if section[1:].isdigit() else 0, int(number or 0))


def rows(results: list[Result]) -> list[Row]:
    out = []
    for r in results:
        for v in r.verdicts:
            value = r.metrics.get(v.key) if v.key else None
            out.append(Row(v.claim, v.verdict, v.key, value, r.demo, v.explanation))
    return sorted(out, key=lambda row: (claim_order(row.claim), row.demo))


def fmt(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4g}"
    return f"{value:.3e}"


# ---------------------------------------------------------------------------------------------
# RDF
# ---------------------------------------------------------------------------------------------


def _lit(value) -> str:
    if isinstance(value, bool):
        return f'"{str(value).lower()}"^^xsd:boolean'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return f'"{"INF" if value > 0 else "-INF" if value < 0 else "NaN"}"^^xsd:double'
        return f'"{value!r}"^^xsd:double'
    return json.dumps(str(value), ensure_ascii=False)


def to_trig(results: list[Result]) -> str:
    """The runs as PROV-O activities in the verification named graph (TriG)."""
    lines = [
        "# Results of `kg verify`: one plm:DemoRun (a prov:Activity) per demo, with its findings.",
        "@prefix plm:  <https://w3id.org/plm-map/ontology#> .",
        "@prefix pm:   <https://w3id.org/plm-map/id/> .",
        "@prefix prov: <http://www.w3.org/ns/prov#> .",
        "@prefix rdf:  <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .",
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .",
        "@prefix schema: <https://schema.org/> .",
        "@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .",
        "",
        f"<{GRAPH}> {{",
    ]
    for r in results:
        run = f"<{RUN_NS}{r.demo}/seed-{r.seed}>"
        lines += [
            f"  {run} a plm:DemoRun , prov:Activity ;",
            f"    prov:used pm:demo-{r.demo} ;",
            f'    prov:startedAtTime "{_iso(r.started)}"^^xsd:dateTime ;',
            f"    plm:seed {r.seed} ; plm:parameters {_lit(json.dumps(r.params, sort_keys=True))} ;",
            f"    plm:runtimeSeconds {_lit(round(r.runtime, 4))} ;",
            f'    schema:device "{r.device}" .',
        ]
        for name, value in sorted(r.metrics.items()):
            if isinstance(value, (int, float)):
                lines.append(f"  {run} plm:measured [ a plm:Measurement ; rdfs:label {_lit(name)} ; "
                             f"rdf:value {_lit(float(value))} ] .")
        for v in r.verdicts:
            finding = f"<{RUN_NS}{r.demo}/seed-{r.seed}/{v.claim}>"
            key_value = r.metrics.get(v.key) if v.key else None
            lines += [
                f"  {finding} a plm:Finding , prov:Entity ; prov:wasGeneratedBy {run} ;",
                f"    plm:onClaim pm:claim-{v.claim} ; plm:verdict {_lit(v.verdict)} ;",
                f"    schema:description {_lit(v.explanation)}"
                + (f" ;\n    plm:keyMetric {_lit(v.key)}" if v.key else "")
                + (f" ; plm:keyValue {_lit(float(key_value))}" if isinstance(key_value, (int, float)) else "")
                + " .",
            ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _iso(stamp: str) -> str:
    # time.strftime("%z") gives +0000; xsd:dateTime wants +00:00
    if len(stamp) > 5 and stamp[-5] in "+-" and stamp[-4:].isdigit():
        return stamp[:-2] + ":" + stamp[-2:]
    return stamp


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def to_markdown(results: list[Result]) -> str:
    table = rows(results)
    counts = {v: sum(1 for r in table if r.verdict == v) for v in ("supports", "contradicts", "inconclusive")}
    total_time = sum(r.runtime for r in results)
    out = [
        "# Verification report",
        "",
        f"{len(table)} claim checks by {len(results)} demos in {total_time:.1f} s of demo time "
        f"(seed {results[0].seed if results else 0}): {counts['supports']} supports, "
        f"{counts['contradicts']} contradicts, {counts['inconclusive']} inconclusive.",
        "",
        "| claim | verdict | key number | demo | why |",
        "|---|---|---|---|---|",
    ]
    for row in table:
        key = f"{row.key} = {fmt(row.value)}" if row.key else ""
        why = row.explanation.replace("|", "\\|")
        out.append(f"| {row.claim} | {row.verdict} | {key} | `{row.demo}` | {why} |")
    out += ["", "| demo | runtime (s) |", "|---|---|"]
    out += [f"| `{r.demo}` | {r.runtime:.2f} |" for r in results]
    return "\n".join(out) + "\n"


def write(results: list[Result], out_dir: Path = OUT_DIR) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    trig, md = out_dir / "results.trig", out_dir / "report.md"
    trig.write_text(to_trig(results), encoding="utf-8")
    md.write_text(to_markdown(results), encoding="utf-8")
    return trig, md
