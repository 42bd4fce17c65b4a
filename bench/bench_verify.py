"""Benchmark of the claim checks' own costs (issue 11), measured side by side in one run:

    python bench/bench_verify.py              # 3 rounds; kg verify once
    python bench/bench_verify.py --rounds 5 --out bench/out/verify.md

    import torch            `python -c "import torch"`, the floor of any process that runs a demo
    kg demo run             `kg demo run attention-scaling`, the whole process (parser, worker, torch, run),
                            beside the demo's own runtime as it reports it ("ran in … s")
    kg verify               every demo at the default seeds (identities once), the whole process

Budgets on this 2-core machine: `kg demo run attention-scaling` within 1.3 × (import torch + the
demo's own runtime), medians of the rounds; `kg verify` under 90 s.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(*args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=900)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return seconds, out.stdout + out.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    torch_s, demo_s, demo_own = [], [], []
    for _ in range(args.rounds):
        torch_s.append(timed("-c", "import torch")[0])
        seconds, text = timed("-m", "kg.cli", "demo", "run", "attention-scaling")
        demo_s.append(seconds)
        demo_own.append(float(re.search(r"ran in ([0-9.]+) s", text).group(1)))
    with tempfile.TemporaryDirectory() as tmp:
        verify_s, text = timed("-m", "kg.cli", "verify", "--out", tmp)
    summary = next((line for line in text.splitlines() if " checks over seeds " in line), "")

    floor = statistics.median(torch_s) + statistics.median(demo_own)
    ratio = statistics.median(demo_s) / floor
    lines = [
        f"{args.rounds} rounds, medians (this machine, 2 cores):", "",
        "| measured | s |", "|---|---|",
        f"| `python -c \"import torch\"` | {statistics.median(torch_s):.2f} |",
        f"| attention-scaling's own runtime (\"ran in\") | {statistics.median(demo_own):.2f} |",
        f"| `kg demo run attention-scaling`, whole process | {statistics.median(demo_s):.2f} |",
        f"| `kg verify` (default seeds), whole process | {verify_s:.1f} |", "",
        f"budget: kg demo run ≤ 1.3 × (import torch + its runtime) = {1.3 * floor:.2f} s: {ratio:.2f} × "
        f"({'met' if ratio <= 1.3 else 'MISSED'})",
        f"budget: kg verify < 90 s: {verify_s:.1f} s ({'met' if verify_s < 90 else 'MISSED'})",
        f"kg verify said: {summary}",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
