"""Benchmark: graph load time and p50/p95 latency of every example query.

Runs on the survey graph and on synthetic graphs of the same shape (the survey graph plus generated
model families, see kg/synthetic.py) of about 100k and 1M triples. Each query is timed through the
user-facing path (`backend.query(text)`: static check and canonical rewrite, a sandboxed worker of the pool, result conversion) and,
for comparison, straight on the in-process engine.

    python bench/benchmark.py                 # survey, 100k, 1M
    python bench/benchmark.py --sizes 100000  # survey and 100k only
    python bench/benchmark.py --repeat 50 --out bench/out/results.md

Budgets (issue #2, this 2-core machine): survey graph loads < 0.5 s and answers every example
query < 5 ms at p95; 100k triples: every example query < 50 ms at p95; 1M triples load < 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kg import EmbeddedBackend  # noqa: E402
from kg.examples import examples  # noqa: E402
from kg.store import default_sources, load_store  # noqa: E402
from kg.synthetic import write_synthetic  # noqa: E402
from kg.vocab import PREFIXES  # noqa: E402
from kg.worker import _execute  # noqa: E402

BUDGETS = {"survey": (0.5, 5.0), 100_000: (None, 50.0), 1_000_000: (10.0, None)}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def time_load(sources, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        load_store(sources)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_graph(name, sources, repeat: int, load_runs: int) -> dict:
    load = time_load(sources, load_runs)
    t0 = time.perf_counter()
    backend = EmbeddedBackend(sources, timeout=60, max_rows=10**7, max_result_bytes=1 << 30)
    backend.pool.start()
    startup = time.perf_counter() - t0
    triples = len(backend.store)
    rows = []
    for ex in examples():
        backend.query(ex.text)  # warm-up
        user, engine, n = [], [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            r = backend.query(ex.text)
            user.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            _execute(backend.store, ex.text, 10**7, PREFIXES)
            engine.append((time.perf_counter() - t0) * 1000)
            n = len(r.rows)
        rows.append((ex.question, ex.name, n, pct(user, 0.5), pct(user, 0.95), pct(engine, 0.5), pct(engine, 0.95)))
    backend.close()
    return {"name": name, "triples": triples, "load": load, "startup": startup, "rows": rows}


def report(results: list[dict]) -> str:
    out = ["# Benchmark results", "", f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M')}", ""]
    out += ["| graph | triples | load (median) | backend start (load + worker) | slowest p95, user path | budget |",
            "|---|---|---|---|---|---|"]
    verdicts = []
    for r in results:
        load_budget, query_budget = BUDGETS.get(r["name"] if r["name"] == "survey" else r["size"], (None, None))
        worst = max(row[4] for row in r["rows"])
        parts = []
        if load_budget:
            ok = r["load"] < load_budget
            parts.append(f"load < {load_budget:g} s: {'ok' if ok else 'MISSED'}")
            verdicts.append(ok)
        if query_budget:
            ok = worst < query_budget
            parts.append(f"p95 < {query_budget:g} ms: {'ok' if ok else 'MISSED'}")
            verdicts.append(ok)
        out.append(f"| {r['name']} | {r['triples']:,} | {r['load']:.3f} s | {r['startup']:.2f} s | {worst:.2f} ms | "
                   f"{'; '.join(parts) or '-'} |")
    for r in results:
        out += ["", f"## {r['name']} ({r['triples']:,} triples)", "",
                "| # | query | rows | user p50 (ms) | user p95 (ms) | engine p50 (ms) | engine p95 (ms) |",
                "|---|---|---|---|---|---|---|"]
        for q, name, n, up50, up95, ep50, ep95 in r["rows"]:
            out.append(f"| {q} | {name} | {n:,} | {up50:.2f} | {up95:.2f} | {ep50:.2f} | {ep95:.2f} |")
    out += ["", "All budgets met." if all(verdicts) else "Some budgets were MISSED (see above)."]
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=30, help="timed runs per query (default %(default)s)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "results.md"))
    args = ap.parse_args()
    out_dir = Path(args.out).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    results = [bench_graph("survey", default_sources(), args.repeat, load_runs=11)]
    results[0]["size"] = None
    for size in args.sizes:
        path = out_dir / f"synthetic_{size}.nt"
        if not path.exists():
            t0 = time.perf_counter()
            n = write_synthetic(path, size)
            print(f"generated {path.name}: {n:,} triples in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        r = bench_graph(f"synthetic {size:,}", [path], max(5, args.repeat // (3 if size > 200_000 else 1)),
                        load_runs=3 if size > 200_000 else 5)
        r["size"] = size
        results.append(r)
        print(f"done {r['name']}", file=sys.stderr)
    text = report(results)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
