"""After its first page, a server process keeps what it loaded (the graph, its indexes) out of the garbage
collector's sight, so that Streamlit's collection after every run does not hold the interpreter's lock
for tens of milliseconds (app_pages/_shared.py freeze_what_is_loaded)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys, time
from streamlit.testing.v1 import AppTest
before = gc.get_freeze_count()
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.run()
assert not at.exception, at.exception
frozen = gc.get_freeze_count()
t = time.perf_counter(); gc.collect(2); full = time.perf_counter() - t
print(before, frozen, len(gc.get_objects()), full)
"""


def test_the_first_page_leaves_the_loaded_graph_frozen_out_of_the_collector():
    out = subprocess.run([sys.executable, "-c", PROBE, str(ROOT / "explorer.py")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    before, frozen, tracked, _ = out.stdout.split()[-4:]
    assert int(before) == 0
    assert int(frozen) > 50_000, "the graph's objects are frozen after the first page"
    assert int(tracked) < int(frozen) / 4, "what the collector still walks is a small part of what is alive"
