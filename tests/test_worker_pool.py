"""The query worker pool: fair to every session, bounded in bytes, JSON on the wire, and no worker
outlives its parent or survives as anything but a clean error (security notes, section 10 C)."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kg.backends import EmbeddedBackend, QueryBusy, QueryFailed, QueryTimeout, ResultTooLarge
from kg import pool as pool_mod
from kg import sandbox
from kg import wire
from kg.results import SelectResult
from kg.synthetic import write_synthetic

ROOT = Path(__file__).resolve().parent.parent
RUNAWAY = "SELECT (COUNT(*) AS ?c) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }"
SMALL = "SELECT ?m WHERE { ?m a plm:Model } LIMIT 5"
# each BIND doubles the string: 26 of them make one 64 MiB literal from "a"
DOUBLING = ('SELECT ?a26 WHERE { BIND("a" AS ?a0) '
            + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(26)) + " }")


@pytest.fixture(scope="module")
def big_graph(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("graphs") / "kg12k.nt"
    write_synthetic(path, 12_000)
    return path


@pytest.fixture(scope="module")
def tiny_graph(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("graphs") / "tiny.nt"
    path.write_text("".join(f"<http://x/s{i}> <http://x/p> \"{i}\" .\n" for i in range(10)))
    return path


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def wait_until(condition, timeout: float, step: float = 0.02) -> float | None:
    """Seconds until condition() held, or None if it did not within `timeout`."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if condition():
            return time.monotonic() - t0
        time.sleep(step)
    return None


def vm_rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


# ---------------------------------------------------------------------------------------------
# fairness
# ---------------------------------------------------------------------------------------------


def test_one_session_s_runaway_query_leaves_another_session_s_small_queries_under_1_s(big_graph):
    backend = EmbeddedBackend([big_graph], timeout=3.0, workers=2)
    backend.pool.start()
    outcome = {}

    def session_a():
        t0 = time.monotonic()
        try:
            backend.query(RUNAWAY, session="A")
        except QueryTimeout as e:
            outcome["a"] = (str(e), time.monotonic() - t0)

    a = threading.Thread(target=session_a)
    a.start()
    assert wait_until(lambda: any(r.session == "A" for r in backend.pool.running()), 5)
    latencies = []
    for _ in range(10):
        t0 = time.monotonic()
        result = backend.query(SMALL, session="B")
        latencies.append(time.monotonic() - t0)
        assert len(result.rows) == 5
    a_was_running = a.is_alive()
    a.join(10)
    backend.close()
    print(f"\nsession B while A runs away: max {max(latencies) * 1000:.0f} ms, "
          f"median {statistics.median(latencies) * 1000:.0f} ms")
    assert a_was_running, "B's queries must have run while A's was still running"
    assert max(latencies) < 1.0
    message, took = outcome["a"]
    assert "the 3 s time limit" in message and took < 3.0 + 2


def test_twenty_rapid_submissions_from_one_session_have_at_most_one_in_flight(big_graph):
    backend = EmbeddedBackend([big_graph], timeout=1.5, workers=2)
    backend.pool.start()
    peak, stop = [0], threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], sum(r.session == "S" for r in backend.pool.running()))
            time.sleep(0.001)

    outcomes = []

    def submit(text):
        try:
            outcomes.append(backend.query(text, session="S"))
        except Exception as e:  # noqa: BLE001 - collected and asserted on below
            outcomes.append(e)

    watcher = threading.Thread(target=watch)
    watcher.start()
    first = threading.Thread(target=submit, args=(RUNAWAY,))
    first.start()
    assert wait_until(lambda: backend.pool.running(), 5)
    rapid = [threading.Thread(target=submit, args=(SMALL,)) for _ in range(19)]
    for t in rapid:
        t.start()
    for t in [first, *rapid]:
        t.join(15)
    after = backend.query(SMALL, session="S")
    stop.set()
    watcher.join()
    backend.close()
    assert peak[0] == 1
    refused = [o for o in outcomes if isinstance(o, QueryBusy)]
    assert len(refused) == 19
    assert all("a query from this session is still running" in str(e) for e in refused)
    assert sum(isinstance(o, QueryTimeout) for o in outcomes) == 1
    assert len(after.rows) == 5


def test_a_full_pool_refuses_after_a_short_wait_and_says_when_to_try_again(big_graph):
    backend = EmbeddedBackend([big_graph], timeout=6.0, workers=2)
    backend.pool.start()
    runaways = [threading.Thread(target=lambda s=s: pytest.raises(QueryTimeout, backend.query, RUNAWAY, session=s))
                for s in ("A", "B")]
    for t in runaways:
        t.start()
    assert wait_until(lambda: len(backend.pool.running()) == 2, 5)
    t0 = time.monotonic()
    with pytest.raises(QueryBusy) as refused:
        backend.query(SMALL, session="C")
    waited = time.monotonic() - t0
    for t in runaways:
        t.join(10)
    backend.close()
    m = re.fullmatch(r"all 2 query workers are busy; try again in about (\d+) s", str(refused.value))
    assert m, str(refused.value)
    assert 1 <= int(m[1]) <= 6
    assert pool_mod.QUEUE_WAIT - 0.1 <= waited < pool_mod.QUEUE_WAIT + 1.5


def test_time_spent_waiting_for_a_worker_does_not_count_against_the_time_limit(big_graph):
    backend = EmbeddedBackend([big_graph], timeout=1.5, workers=1)
    backend.pool.start()
    a = threading.Thread(target=lambda: pytest.raises(QueryTimeout, backend.query, RUNAWAY, session="A"))
    a.start()
    assert wait_until(lambda: backend.pool.running(), 5)
    t0 = time.monotonic()
    result = backend.query(SMALL, session="B", timeout=1.0)  # waits ~1.5 s for A, then for a new worker
    waited = time.monotonic() - t0
    a.join(10)
    backend.close()
    assert len(result.rows) == 5
    assert waited > 1.0, "B waited longer than its own 1 s limit and still got its answer"
    assert result.elapsed < 1.0


def test_a_timed_out_worker_is_killed_and_replaced(big_graph):
    backend = EmbeddedBackend([big_graph], timeout=1.0, workers=2)
    pool = backend.pool.start()
    before = set(pool.pids())
    with pytest.raises(QueryTimeout, match="the 1 s time limit"):
        backend.query(RUNAWAY)
    (killed,) = before - set(pool.pids())
    assert gone(killed)
    assert wait_until(lambda: len(pool.pids()) == 2, 30)
    assert len(set(pool.pids()) - before) == 1
    assert len(backend.query(SMALL).rows) == 5
    backend.close()


def test_the_library_s_own_queries_stay_in_process(big_graph):
    backend = EmbeddedBackend([big_graph], workers=1)
    rows = backend.select("SELECT ?m WHERE { ?m a plm:Model } LIMIT 3").rows
    assert len(rows) == 3 and backend.pool.pids() == []
    backend.close()


# ---------------------------------------------------------------------------------------------
# bytes
# ---------------------------------------------------------------------------------------------


def test_a_doubling_concat_query_is_stopped_at_the_byte_cap_and_the_parent_stays_small(big_graph):
    backend = EmbeddedBackend([big_graph], timeout=30.0, workers=1)
    assert backend.pool.max_result_bytes == pool_mod.DEFAULT_MAX_RESULT_BYTES == 32 << 20
    backend.pool.start()
    before = vm_rss()
    with pytest.raises(ResultTooLarge, match=r"the result passed the 32 MiB byte cap \(PLM_MAP_MAX_RESULT_BYTES\)"):
        backend.query(DOUBLING, timeout=30, max_rows=10)  # through the check, as a user sends it
    rise = vm_rss() - before
    print(f"\nparent RSS rise for the 64 MiB literal: {rise / 2**20:.1f} MiB")
    assert rise < 100 << 20
    assert len(backend.query(SMALL).rows) == 5  # the same worker answers the next query
    backend.close()


def test_many_rows_are_stopped_at_the_byte_cap_too(big_graph):
    backend = EmbeddedBackend([big_graph], workers=1, max_result_bytes=64 << 10)
    with pytest.raises(ResultTooLarge, match="the 64 KiB byte cap"):
        backend.query("SELECT * WHERE { ?s ?p ?o }")
    result = backend.query("SELECT * WHERE { ?s ?p ?o } LIMIT 50")
    assert len(result.rows) == 50 and not result.truncated
    with pytest.raises(ResultTooLarge):
        backend.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    backend.close()


@pytest.mark.parametrize("name, value, expected", [
    ("PLM_MAP_MAX_RESULT_BYTES", "1048576", 1 << 20),
    ("PLM_MAP_MAX_RESULT_BYTES", None, 32 << 20),
    ("PLM_MAP_QUERY_WORKERS", "3", 3),
    ("PLM_MAP_QUERY_WORKERS", None, max(2, min(os.cpu_count() or 2, 8))),
])
def test_the_settings_come_from_the_environment(monkeypatch, name, value, expected):
    if value is None:
        monkeypatch.delenv(name, raising=False)
    else:
        monkeypatch.setenv(name, value)
    read = pool_mod.default_max_result_bytes if "BYTES" in name else pool_mod.default_workers
    assert read() == expected


@pytest.mark.parametrize("name, value", [("PLM_MAP_MAX_RESULT_BYTES", "lots"), ("PLM_MAP_MAX_RESULT_BYTES", "10"),
                                         ("PLM_MAP_QUERY_WORKERS", "0")])
def test_a_bad_setting_is_an_error_not_a_silent_default(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    read = pool_mod.default_max_result_bytes if "BYTES" in name else pool_mod.default_workers
    with pytest.raises(ValueError, match=name):
        read()


# ---------------------------------------------------------------------------------------------
# the wire: JSON frames, every message checked
# ---------------------------------------------------------------------------------------------


def test_the_pipe_carries_no_pickle():
    for module in ("wire", "pool", "worker", "sandbox"):
        tree = ast.parse((ROOT / "kg" / f"{module}.py").read_text())
        imported = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
        assert not imported & {"pickle", "multiprocessing", "marshal", "shelve", "dill"}, module


# a stand-in worker that answers every query with the frame given as its argument
FAKE_WORKER = r"""
import socket, struct, sys
s = socket.socket(fileno=int(sys.argv[1]))
def read(n):
    b = b""
    while len(b) < n:
        b += s.recv(n - len(b))
    return b
read(struct.unpack(">I", read(4))[0])
ack = b'{"t":"ack"}'
body = sys.argv[2].encode()
s.sendall(struct.pack(">I", len(ack)) + ack + struct.pack(">I", len(body)) + body)
s.recv(1)
"""

SELECT_X = '{"t": "select", "vars": ["x"], "truncated": false, "rows": '
MALFORMED = {
    "not JSON": "cos\nsystem\n(S'echo pwned'\ntR.",
    "not an object": "[1, 2]",
    "unknown kind": '{"t": "exec", "code": "print(1)"}',
    "unknown term kind": SELECT_X + '[[["function", "os.system"]]]}',
    "row of the wrong width": '{"t": "select", "vars": ["x", "y"], "truncated": false, "rows": [[["uri", "x"]]]}',
    "value not text": SELECT_X + '[[["uri", 42]]]}',
    "literal without datatype": SELECT_X + '[[["literal", "a"]]]}',
    "truncated not a flag": '{"t": "select", "vars": ["x"], "rows": [], "truncated": "no"}',
    "more rows than asked": SELECT_X + json.dumps([[None]] * 11) + "}",
    "triple with a hole": '{"t": "graph", "triples": [[["uri", "s"], null, ["uri", "o"]]], "truncated": false}',
    "ask without a boolean": '{"t": "ask", "value": "yes"}',
    "duplicate variables": '{"t": "select", "vars": ["x", "x"], "rows": [], "truncated": false}',
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_answer_becomes_a_clean_error_and_the_worker_is_stopped(case):
    import socket

    mine, theirs = socket.socketpair()
    proc = subprocess.Popen([sys.executable, "-c", FAKE_WORKER, str(theirs.fileno()), MALFORMED[case]],
                            pass_fds=[theirs.fileno()])
    theirs.close()
    worker = pool_mod.WorkerProcess(proc, wire.Channel(mine, max_frame=1 << 20), isolation=("netns", "seccomp"),
                                    unsandboxed=None, triples=0, memory_limit=1 << 30, max_result_bytes=1 << 20)
    with pytest.raises(QueryFailed, match="the query worker sent a malformed answer"):
        worker.run("SELECT * WHERE { ?s ?p ?o }", timeout=10, max_rows=10)
    assert not worker.healthy
    worker.kill()
    assert gone(proc.pid)


def test_an_oversized_frame_is_refused_before_it_is_read():
    import socket

    a, b = socket.socketpair()
    b.sendall(wire.HEADER.pack(1 << 31))
    with pytest.raises(wire.WireError, match="a frame of 2,147,483,648 bytes"):
        wire.Channel(a, max_frame=1 << 20).recv(time.monotonic() + 2)
    a.close(), b.close()


def test_a_well_formed_answer_becomes_the_public_result_types():
    message = {"t": "select", "vars": ["x", "y"], "truncated": True,
               "rows": [[["uri", "http://x/a"], ["literal", "été", None, "fr"]], [["bnode", "b0"], None]]}
    result = wire.select_result(message, max_rows=2, elapsed=0.5)
    assert isinstance(result, SelectResult) and result.truncated and result.variables == ["x", "y"]
    assert result.rows[0][1].lang == "fr" and result.rows[1] == (result.rows[1][0], None)


# ---------------------------------------------------------------------------------------------
# the worker's life
# ---------------------------------------------------------------------------------------------


def test_killing_an_idle_worker_and_querying_at_once_gives_an_answer_or_a_clean_error_100_times(tiny_graph):
    backend = EmbeddedBackend([tiny_graph], workers=1)
    pool = backend.pool.start()
    answered, clean = 0, []
    for _ in range(100):
        assert wait_until(lambda: pool.pids(), 30)
        for pid in pool.pids():
            os.kill(pid, signal.SIGKILL)
        try:
            result = backend.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
            assert result.rows[0][0].value == "10"
            answered += 1
        except QueryFailed as e:  # allowed, as long as it is this clean error
            clean.append(str(e))
    backend.close()
    print(f"\nkill an idle worker, then query: {answered} answered, {len(clean)} clean errors of 100")
    assert answered + len(clean) == 100


def test_a_worker_outlives_the_short_lived_thread_that_asked_for_it(tiny_graph):
    """PR_SET_PDEATHSIG fires when the spawning *thread* ends; sessions' threads must not matter."""
    backend = EmbeddedBackend([tiny_graph], workers=1)
    thread = threading.Thread(target=backend.query, args=("ASK { ?s ?p ?o }",))
    thread.start()
    thread.join(30)
    (pid,) = backend.pool.pids()
    time.sleep(0.5)
    assert not gone(pid)
    assert backend.query("ASK { ?s ?p ?o }").value and backend.pool.pids() == [pid]
    backend.close()


PARENT = r"""
import json, sys, threading
from kg import EmbeddedBackend
backend = EmbeddedBackend([sys.argv[1]], workers=1, timeout=float(sys.argv[3]))
backend.query("ASK { ?s ?p ?o }")
print(json.dumps(backend.pool.pids()), flush=True)
if sys.argv[2]:
    threading.Thread(target=backend.query, args=(sys.argv[2],), daemon=True).start()
threading.Event().wait()
"""


def start_parent(graph: Path, query: str = "", timeout: float = 30.0) -> tuple[subprocess.Popen, int]:
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(graph), query, str(timeout)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    (worker,) = json.loads(parent.stdout.readline())
    return parent, worker


@pytest.mark.parametrize("busy", [False, True], ids=["idle worker", "worker running a query"])
def test_the_worker_dies_within_2_s_when_its_parent_is_killed(big_graph, busy):
    parent, worker = start_parent(big_graph, RUNAWAY if busy else "")
    if busy:
        time.sleep(0.5)
    assert not gone(worker)
    parent.kill()
    parent.wait(5)
    took = wait_until(lambda: gone(worker), 2.0)
    print(f"\nworker gone {took * 1000:.0f} ms after SIGKILL to its parent" if took is not None else "")
    assert took is not None


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_worker_whose_parent_is_stuck_still_stops_soon_after_its_time_limit(big_graph):
    """Its watchdog ends it WALL_MARGIN s past the query's deadline, with RLIMIT_CPU set behind it."""
    parent, worker = start_parent(big_graph, RUNAWAY, timeout=2.0)
    try:
        idle = cpu_seconds(worker)
        assert wait_until(lambda: cpu_seconds(worker) > idle + 0.3, 10), "the runaway query never started"
        limit = int(re.search(r"Max cpu time\s+(\d+)", open(f"/proc/{worker}/limits").read())[1])
        assert limit <= cpu_seconds(worker) + 2 + sandbox.CPU_MARGIN + 1  # this query's time limit and margin
        parent.send_signal(signal.SIGSTOP)   # the parent can no longer kill it on time
        assert wait_until(lambda: gone(worker), 2 + sandbox.WALL_MARGIN + 5) is not None, \
            "the worker went on past its time limit"
        assert cpu_seconds(worker) <= limit + 1   # read from the zombie
    finally:
        parent.kill()
        parent.wait(5)


def test_the_cpu_limit_alone_ends_a_process_that_overruns_it():
    """The backstop to the watchdog: a budget of 0.5 s (+ CPU_MARGIN) of CPU, then SIGXCPU."""
    spin = "from kg.sandbox import limit_cpu; limit_cpu(0.5)\nwhile True: pass"
    t0 = time.monotonic()
    out = subprocess.run([sys.executable, "-c", spin], cwd=ROOT, timeout=60)
    assert out.returncode == -signal.SIGXCPU
    print(f"\nSIGXCPU after {time.monotonic() - t0:.1f} s of wall time")


def test_sigterm_to_kg_query_leaves_no_worker_running(big_graph):
    env = {**os.environ, "PLM_MAP_GRAPH": str(big_graph)}
    cli = subprocess.Popen([sys.executable, "-m", "kg.cli", "query", RUNAWAY, "--timeout", "60"], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: children(cli.pid), 30, step=0.05)
        (worker,) = children(cli.pid)
        time.sleep(0.5)
        cli.terminate()
        cli.wait(5)
        took = wait_until(lambda: gone(worker), 2.0)
        assert took is not None
    finally:
        cli.kill()
