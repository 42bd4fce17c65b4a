"""Benchmark of the demos: default runtime of each (median of repeats) and the whole `kg verify`.

    python bench/bench_demos.py               # 3 runs per demo, then one `kg verify` in a subprocess
    python bench/bench_demos.py --repeat 5 --out bench/out/demos.md

Budgets (issue #3, this 2-core machine): every demo's default run < 3 s; `kg verify` < 90 s in all.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "demos.md"))
    args = ap.parse_args()

    t0 = time.perf_counter()
    import torch  # noqa: F401  (timed: the first demo a process runs pays for it)

    import_s = time.perf_counter() - t0
    import mechanisms

    rows = []
    for demo in mechanisms.DEMOS:
        t0 = time.perf_counter()
        demo.load()
        load_s = time.perf_counter() - t0
        runs = [demo.run(seed=0).runtime for _ in range(args.repeat)]
        rows.append((demo.id, load_s, statistics.median(runs), max(runs)))
        print(f"{demo.id:<26} median {statistics.median(runs):.2f} s  max {max(runs):.2f} s", file=sys.stderr)

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "kg.cli", "verify", "--out", tmp], cwd=ROOT,
                             capture_output=True, text=True)
        verify_s = time.perf_counter() - t0
    summary = [line for line in out.stdout.splitlines() if " checks: " in line]

    worst = max(r[2] for r in rows)
    lines = ["# Demo benchmark", "", f"python {sys.version.split()[0]}, torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads, {time.strftime('%Y-%m-%d %H:%M')}", "",
             f"- `import torch`: {import_s:.2f} s (once per process)",
             f"- slowest demo (median of {args.repeat}): {worst:.2f} s — budget 3 s: {'ok' if worst < 3 else 'MISSED'}",
             f"- `kg verify` (whole process, {len(rows)} demos): {verify_s:.1f} s — budget 90 s: "
             f"{'ok' if verify_s < 90 and out.returncode == 0 else 'MISSED'}"
             + (f"; {summary[0].strip()}" if summary else ""), "",
             "| demo | module import (s) | median run (s) | slowest run (s) |", "|---|---|---|---|"]
    lines += [f"| `{d}` | {load:.2f} | {med:.2f} | {mx:.2f} |" for d, load, med, mx in rows]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0 if out.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
