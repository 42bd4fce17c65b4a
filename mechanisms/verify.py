"""Running every claim check: the table claim → verdict → key number, as RDF and as Markdown.

`kg verify` calls `verify()` over several seeds and writes `verification/results.trig` (each run a
PROV-O activity, each demo's verification over its runs another, with one finding per claim, in the
named graph <https://w3id.org/plm-map/graph/verification>, which the graph loads when the file
exists) and `verification/report.md`. The verdicts come from `mechanisms.evidence`: each claim's
criteria applied to the interval of its numbers over the seeds. The demos run in one worker process
of `mechanisms.runner` (torch loads once for all of them), each run with its own time budget.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Callable

from . import DEMOS, Demo, ParamError, Result
from . import evidence, runner

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "verification"
GRAPH = "https://w3id.org/plm-map/graph/verification"
RUN_NS = "https://w3id.org/plm-map/run/"


def verify(demos: list[Demo] | None = None, *, seeds: list[int] | None = None,
           progress: Callable[[float, str], None] | None = None, budget: float | None = None,
           in_process: bool = False) -> list[Result]:
    """Run each demo at its defaults: once (at the first seed) when all its checks are identities,
    else at every seed of `seeds` (default: 0 … evidence.DEFAULT_SEEDS − 1). `progress(fraction,
    message)` follows all of them.

    Each run gets `budget` seconds (default $PLM_MAP_DEMO_BUDGET or 60 s) on one worker of the
    process's pool; `in_process=True` runs them here instead, without a budget (tests, library use).

    Raises:
        DemoError: a demo ran past its budget or failed; the message starts with its id.
    """
    demos = list(demos or DEMOS)
    seeds = list(seeds) if seeds else evidence.seeds_from(0, evidence.DEFAULT_SEEDS)
    plan = [(demo, seed) for demo in demos for seed in (seeds if runs_over_seeds(demo) else seeds[:1])]
    results = []

    def step_for(i: int, demo: Demo, seed: int):
        def step(fraction: float, message: str):
            if progress:
                progress((i + min(max(fraction, 0.0), 1.0)) / len(plan), f"{demo.id} (seed {seed}): {message}")
        return step

    if in_process:
        results = [demo.run(seed=seed, progress=step_for(i, demo, seed)) for i, (demo, seed) in enumerate(plan)]
    else:
        budget = runner.default_budget() if budget is None else runner.check_budget(budget)
        with runner.pool().worker() as worker:
            for i, (demo, seed) in enumerate(plan):
                try:
                    results.append(worker.run(demo, seed=seed, progress=step_for(i, demo, seed), budget=budget))
                except (runner.DemoError, ParamError) as e:
                    e.args = (f"{demo.id}: {e}", *e.args[1:])
                    raise
    if progress:
        progress(1.0, "done")
    return results


def runs_over_seeds(demo: Demo) -> bool:
    """Does the demo have a check that depends on the seed (an experiment, or criteria not written yet)?"""
    crit = evidence.criteria(demo.id)
    return crit is None or crit.experimental


def judgements(results: list[Result]) -> list[evidence.Judgement]:
    """Each claim's verdict over its demo's runs, in the survey's order."""
    by_demo: dict[str, list[Result]] = {}
    for r in results:
        by_demo.setdefault(r.demo, []).append(r)
    out = [j for demo, runs in by_demo.items() for j in evidence.combine(demo, runs)]
    return sorted(out, key=lambda j: (claim_order(j.claim), j.demo))


def claim_order(claim: str) -> tuple:
    section, _, number = claim.partition(".")
    return (section == "F", int(section[1:]) if section[1:].isdigit() else 0, int(number or 0))


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


def to_trig(results: list[Result], found: list[evidence.Judgement] | None = None) -> str:
    """The runs (plm:DemoRun) and each demo's verification over them (plm:Verification), with one
    plm:Finding per claim, as PROV-O in the verification named graph (TriG)."""
    found = judgements(results) if found is None else found
    lines = [
        "# Results of `kg verify`: each demo's seeded runs (plm:DemoRun), and its verification over them",
        "# (plm:Verification) with one plm:Finding per claim: verdict, key number's mean and interval, criteria.",
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
    verifications = {}
    for j in found:
        verifications.setdefault(j.demo, set()).update(j.seeds)
    for demo, seeds in verifications.items():
        act = f"<{RUN_NS}{demo}/{_seeds_name(sorted(seeds))}>"
        informed = " , ".join(f"<{RUN_NS}{demo}/seed-{s}>" for s in sorted(seeds))
        lines += [f"  {act} a plm:Verification , prov:Activity ; prov:used pm:demo-{demo} ;",
                  f"    plm:seedCount {len(seeds)} ; prov:wasInformedBy {informed} ."]
    for j in found:
        act = f"<{RUN_NS}{j.demo}/{_seeds_name(sorted(verifications[j.demo]))}>"
        finding = act[:-1] + f"/{j.claim}>"
        extra = [f"plm:checkKind {_lit(j.kind)}", f"plm:confidenceLevel {_lit(evidence.LEVEL)}"]
        if j.key:
            extra.append(f"plm:keyMetric {_lit(j.key)}")
        for name, value in (("keyValue", j.estimate), ("intervalLow", j.low), ("intervalHigh", j.high)):
            if isinstance(value, (int, float)):
                extra.append(f"plm:{name} {_lit(float(value))}")
        for side in ("supports", "contradicts", "learned"):
            for b in j.criteria.get(side, []):
                extra.append(f"plm:criterion {_lit(criterion_text(side, b))}")
        lines += [
            f"  {finding} a plm:Finding , prov:Entity ; prov:wasGeneratedBy {act} ;",
            f"    plm:onClaim pm:claim-{j.claim} ; plm:verdict {_lit(j.verdict)} ;",
            f"    schema:description {_lit(j.explanation)} ;",
            "    " + " ;\n    ".join(extra) + " .",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _seeds_name(seeds: list[int]) -> str:
    if len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"seeds-{seeds[0]}-{seeds[-1]}"
    return "seeds-" + "_".join(str(s) for s in seeds)


def criterion_text(side: str, bound: dict) -> str:
    """'supports if m < 0.5 (source)', 'contradicts if …', 'learned if …'."""
    return f"{side} if {bound['metric']} {bound['op']} {bound['threshold']:g} ({bound['source']})"


def _iso(stamp: str) -> str:
    # time.strftime("%z") gives +0000; xsd:dateTime wants +00:00
    if len(stamp) > 5 and stamp[-5] in "+-" and stamp[-4:].isdigit():
        return stamp[:-2] + ":" + stamp[-2:]
    return stamp


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def counts(found: list[evidence.Judgement]) -> dict[str, dict[str, int]]:
    """Verdicts counted apart for identities, experiments and checks whose criteria are not written."""
    out: dict[str, dict[str, int]] = {"identity": {"holds": 0, "fails": 0},
                                      "experiment": {"supports": 0, "contradicts": 0, "inconclusive": 0},
                                      "unstated": {"supports": 0, "contradicts": 0, "inconclusive": 0}}
    for j in found:
        out[j.kind][j.verdict] = out[j.kind].get(j.verdict, 0) + 1
    return out


def headline(found: list[evidence.Judgement]) -> str:
    c = counts(found)
    ident, exper = sum(c["identity"].values()), sum(c["experiment"].values())
    holds, fails = c["identity"]["holds"], c["identity"]["fails"]
    parts = [f"{ident} identit{'y' if ident == 1 else 'ies'}: {holds} hold{'s' if holds == 1 else ''}, "
             f"{fails} fail{'s' if fails == 1 else ''}",
             f"{exper} experiment{'' if exper == 1 else 's'}: " + ", ".join(f"{n} {v}" for v, n in c["experiment"].items())]
    if sum(c["unstated"].values()):
        parts.append(f"{sum(c['unstated'].values())} without written criteria (a verdict only where every seed "
                     "agrees): " + ", ".join(f"{n} {v}" for v, n in c["unstated"].items()))
    return "; ".join(parts)


def key_text(j: evidence.Judgement) -> str:
    if not j.key or j.estimate is None:
        return ""
    if j.low is None or len(j.seeds) == 1 or j.low == j.high:
        return f"{j.key} = {fmt(j.estimate)}"
    return f"{j.key} = {fmt(j.estimate)} [{fmt(j.low)}, {fmt(j.high)}]"


def to_markdown(results: list[Result], found: list[evidence.Judgement] | None = None) -> str:
    found = judgements(results) if found is None else found
    seeds = sorted({r.seed for r in results})
    total_time = sum(r.runtime for r in results)
    out = [
        "# Verification report",
        "",
        f"{len(found)} claim checks by {len({r.demo for r in results})} demos, {len(results)} runs in "
        f"{total_time:.1f} s of demo time (seeds {seeds[0]}–{seeds[-1]}; an identity runs once, at the first). "
        f"{headline(found)}.",
        "",
        f"An experiment's key number is its mean over the seeds, with a {evidence.LEVEL:.0%} percentile-bootstrap "
        "interval; a bound counts only when the interval is wholly on its side of the threshold.",
        "",
        "| claim | kind | verdict | key number [interval] | seeds | demo | criteria | why |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for j in found:
        crit = "; ".join(criterion_text(side, b) for side in ("supports", "contradicts", "learned")
                         for b in j.criteria.get(side, []))
        cells = [j.claim, j.kind, j.verdict, key_text(j), str(len(j.seeds)), f"`{j.demo}`", crit, j.explanation]
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += ["", "| demo | runs | runtime (s) |", "|---|---|---|"]
    per: dict[str, list[float]] = {}
    for r in results:
        per.setdefault(r.demo, []).append(r.runtime)
    out += [f"| `{d}` | {len(ts)} | {sum(ts):.2f} |" for d, ts in per.items()]
    return "\n".join(out) + "\n"


def write(results: list[Result], out_dir: Path = OUT_DIR) -> tuple[Path, Path]:
    found = judgements(results)
    out_dir.mkdir(parents=True, exist_ok=True)
    trig, md = out_dir / "results.trig", out_dir / "report.md"
    trig.write_text(to_trig(results, found), encoding="utf-8")
    md.write_text(to_markdown(results, found), encoding="utf-8")
    return trig, md
