"""A graph far larger than the survey: the graph page caps what it draws, says so, and stays fast
(security notes §10 E, test 31: a graph with 20,000 nodes)."""

from __future__ import annotations

import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from kg.synthetic import write_synthetic
from kg.views import MAX_NODES

from ._support import EXPLORER

NODES = 20_000
SECONDS = 3.0


@pytest.fixture(scope="module")
def large_app(tmp_path_factory):
    """The app reading a synthetic graph of the survey's shape with over 20,000 nodes."""
    from app_pages._shared import backend

    path = tmp_path_factory.mktemp("large") / "large.nt"
    write_synthetic(path, 200_000)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLM_MAP_GRAPH", str(path))
        mp.delenv("PLM_MAP_ENDPOINT", raising=False)
        backend.clear()
        yield backend
        backend.clear()


def graph_page() -> tuple[AppTest, float]:
    at = AppTest.from_file(EXPLORER, default_timeout=120)
    t0 = time.perf_counter()
    at.run()
    return at, time.perf_counter() - t0


def test_a_20000_node_graph_is_capped_with_a_notice_and_drawn_within_3_seconds(large_app):
    from kg.nodes import index

    assert len(index(large_app())) >= NODES
    first, cold = graph_page()       # loads the graph and builds its indexes
    again, warm = graph_page()       # another visitor
    for at in (first, again):
        assert not at.exception, at.exception
        [notice] = [w.value for w in at.warning if "best-connected" in w.value]
        shown, total = map(int, re.search(r"Showing the (\d+) best-connected of (\d+) nodes", notice).groups())
        assert shown <= MAX_NODES < total
    print(f"\n20k-node graph page: first visit {cold:.2f} s (graph loaded, indexes built), next {warm:.2f} s")
    assert warm < SECONDS
