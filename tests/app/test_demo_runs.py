"""Demos on node pages run in worker processes: one per session at a time, within a budget, while
other sessions' pages stay fast (security notes §10 F 36–37).

The node page of multi-head attention shows two demos: attention-scaling (fast) and multi-head
(which, at 1500 Adam steps, trains for 5-10 s, estimated 29 s: a long run that its limits accept).
"""

from __future__ import annotations

import statistics
import time

import pytest

import mechanisms
from mechanisms import runner

from ._support import open_page

PAGE, NODE = "app_pages/node.py", "multi-head-attention"
JOB = "demo-runner-job"  # the session's running demo, in st.session_state


@pytest.fixture
def pool(monkeypatch):
    """A pool of its own for each test (the app takes `runner.pool()`), its workers killed afterwards."""
    own = runner.DemoPool(2)
    monkeypatch.setattr(runner, "_POOL", own)
    yield own
    own.close()


def run_button(at, demo_id: str):
    return at.button(key=f"demo-{demo_id}-run")


def long_job(pool, budget: float = 60):
    job = pool.submit(mechanisms.get("multi-head"), {"steps": 1500}, budget=budget, key="demo-multi-head")
    while job.message == "starting" and not job.done():  # wait until it really runs in its worker
        time.sleep(0.05)
    return job


def test_a_demo_runs_in_a_worker_process_and_its_verdict_shows(pool):
    at = open_page(PAGE, node=NODE)
    run_button(at, "attention-scaling").click().run()
    assert not at.exception
    assert any("Q5\\.2 — supports" in s.value for s in at.success)
    (worker,) = pool._idle
    assert worker.pid and worker.last_stats["torch_threads"] == 1   # it ran there, on one thread


def test_a_second_run_in_the_same_session_is_refused_while_the_first_runs(pool):
    at = open_page(PAGE, node=NODE)
    job = long_job(pool)
    at.session_state[JOB] = job            # as if an earlier, interrupted script run had started it
    run_button(at, "attention-scaling").click().run()
    assert not at.exception and not job.done()
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("A demo is already running in this session (multi\\-head,")
    assert "budget); one runs at a time" in warning
    assert not any("Q5\\.2" in s.value for s in at.success)    # attention-scaling did not run
    assert any("still running" in str(p.proto.text) for p in at.get("progress"))  # the first run's progress


def test_a_run_left_by_an_interrupted_script_shows_its_result_when_the_page_comes_back(pool):
    at = open_page(PAGE, node=NODE)
    job = pool.submit(mechanisms.get("attention-scaling"), {"draws": 100}, budget=60, key="demo-attention-scaling")
    at.session_state[JOB] = job
    job.follow()
    at.run()
    assert any("Q5\\.2 — supports" in s.value for s in at.success)
    assert JOB not in at.session_state    # collected: the session may run another demo


def test_a_full_pool_says_it_is_busy_and_when_to_try_again(monkeypatch):
    one = runner.DemoPool(1)
    monkeypatch.setattr(runner, "_POOL", one)
    try:
        at = open_page(PAGE, node=NODE)
        long_job(one, budget=30)           # another session's run holds the only worker
        run_button(at, "attention-scaling").click().run()
        assert not at.exception
        (warning,) = [w.value for w in at.warning]
        assert "all 1 demo worker\\(s\\) are busy; try again in about" in warning
        seconds = int(warning.split("about ")[1].split(" s")[0])
        assert 1 <= seconds <= 30
    finally:
        one.close()


def test_a_demo_past_its_budget_shows_the_message_and_the_page_keeps_working(pool, monkeypatch):
    monkeypatch.setenv(runner.BUDGET_ENV, "1")
    at = open_page(PAGE, node=NODE)
    with pool.worker() as worker:          # torch loaded before the clock starts: the budget times the demo
        worker.info()
    t0 = time.monotonic()
    at.run()
    page = time.monotonic() - t0           # the page's own rerun, on this (shared) machine
    at.number_input(key="demo-multi-head-steps").set_value(1500)
    t0 = time.monotonic()
    run_button(at, "multi-head").click().run()
    assert time.monotonic() - t0 < 1 + 2 + 2 * page   # the budget, the kill, and the page's own rerun
    assert not at.exception
    assert any("The demo ran past its 1 s budget and was stopped" in e.value for e in at.error)
    # the next run works, on the replaced worker, under an ordinary budget: the new worker's start
    # (torch's import) must not count against 1 s on a machine busy with the other test worker
    monkeypatch.setenv(runner.BUDGET_ENV, "60")
    run_button(at, "attention-scaling").click().run()
    assert any("Q5\\.2 — supports" in s.value for s in at.success)


def test_a_failing_demo_in_its_worker_shows_an_error_and_the_page_keeps_working(monkeypatch):
    """A worker capped at 1 GiB of address space (torch maps ~0.76 GB by itself); permutation-lm at
    these sizes maps ~0.78 GB more, so it fails in its worker, and the page says why."""
    capped = runner.DemoPool(1, memory=1 << 30)
    monkeypatch.setattr(runner, "_POOL", capped)
    big = {"seq_len": 30, "orders": 189, "vocab": 226, "d_model": 121, "enum_len": 8, "mc_max": 24154,
           "mc_repeats": 39}
    try:
        at = open_page(PAGE, node="permutation-lm")
        for name, value in big.items():
            at.number_input(key=f"demo-permutation-lm-{name}").set_value(value)
        run_button(at, "permutation-lm").click().run()
        assert not at.exception
        assert any("The demo failed: the demo needed more memory than its worker may use" in e.value
                   and "1,073,741,824 bytes" in e.value for e in at.error)
        at.run()
        assert at.title[0].value == "Permutation language modeling" and not at.exception
    finally:
        capped.close()


def test_other_sessions_pages_stay_fast_while_a_demo_runs(pool, kg):
    """The graph page of another session and a trusted query, measured with no demo running and
    then while one runs (each measurement counted only if the demo was still running after it)."""
    other = open_page()                     # another session, on the graph page
    query = "SELECT ?m WHERE { ?m plm:improvesOn pm:BERT }"

    def page_and_query() -> tuple[float, float]:
        t0 = time.perf_counter()
        other.run()
        t1 = time.perf_counter()
        kg.query(query)
        return t1 - t0, time.perf_counter() - t1

    quiet = [page_and_query() for _ in range(3)]
    busy, job = [], long_job(pool)
    cpu = time.process_time()
    time.sleep(1.0)                         # the app process does no demo work while the demo runs
    assert job.done() or time.process_time() - cpu < 0.3
    while len(busy) < 3:
        sample = page_and_query()
        if job.done():                      # it ended during this sample: that one does not count
            job = long_job(pool)
        else:
            busy.append(sample)
    assert not other.exception
    page_quiet, page_busy = (statistics.median(p for p, _ in m) for m in (quiet, busy))
    query_busy = max(q for _, q in busy)
    assert query_busy < 1.0, f"a trusted query took {query_busy:.2f} s while a demo ran"
    assert page_busy < max(1.0, 2 * page_quiet), f"graph page {page_quiet:.2f} s quiet, {page_busy:.2f} s busy"
