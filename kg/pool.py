"""A pool of sandboxed query workers, shared fairly by the sessions of one process.

A running query can only be stopped by killing its process, so a runaway query holds its worker
for the whole time limit. With one worker behind one lock, everyone else waited behind it, and the
wait counted against their own limit. The rules here:

* each query runs alone in one worker; there are PLM_MAP_QUERY_WORKERS of them (by default the
  number of cores, at least 2), started when first needed;
* a session (`run(..., session=key)`) has at most one query in flight: a second one while the
  first is running or waiting is refused at once with `QueryBusy`, saying when to try again;
* the time limit starts when a worker takes the query; time spent waiting for one never counts;
* a query that finds every worker busy waits up to QUEUE_WAIT seconds, first come first served,
  then is refused: "all N query workers are busy; try again in about S s", S read from the
  running queries' deadlines;
* a worker that times out, crashes or sends a malformed answer is killed and replaced in the
  background; one found dead before it took the query (an idle worker killed from outside) is
  replaced and the query retried, so that is never the caller's error;
* every worker is forked by one long-lived thread (kg/lifeline.py), because PR_SET_PDEATHSIG fires
  when the *thread* that spawned the child exits, and Streamlit runs each session in a thread of
  its own;
* a worker serves user queries only once it has proven its sandbox (kg/sandbox.py); otherwise the
  query is refused with `SandboxUnavailable`, unless PLM_MAP_UNSAFE_NO_SANDBOX=1 is set, and then
  `sandbox_warning` says so.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Hashable

from . import wire
from .lifeline import Spawner, SpawnerClosed
from .results import Result
from .sandbox import CPU_MARGIN, UNSAFE_ENV, ProofListeners, verdict
from .worker import QueryBusy, QueryFailed, QueryTimeout, ResultTooLarge, SandboxUnavailable, size_text

WORKERS_ENV = "PLM_MAP_QUERY_WORKERS"
MAX_RESULT_BYTES_ENV = "PLM_MAP_MAX_RESULT_BYTES"
DEFAULT_MAX_RESULT_BYTES = 32 << 20   # bytes of rows per result: 10 sessions' worth stays far under 1 GB
DEFAULT_MEMORY_LIMIT = 4 << 30        # bytes of address space per worker (RLIMIT_AS)
QUEUE_WAIT = 2.0                      # seconds a query waits for a free worker before it is refused
START_TIMEOUT = 120.0                 # seconds a worker may take to start and load the graph
RETRIES = 3                           # workers tried for one query when they die before taking it
ROOT = Path(__file__).resolve().parent.parent
# The worker needs only its own modules (worker, sandbox, wire, store, results, vocab), not what
# kg/__init__.py imports: an empty package object stands in for it, so a worker starts faster.
_ENTRY = ("import sys, types; kg = types.ModuleType('kg'); kg.__path__ = [sys.argv[2]]; sys.modules['kg'] = kg; "
          "from kg.worker import main; main(int(sys.argv[1]))")
_ISOLATIONS = ("netns", "seccomp")


def _env_int(name: str, default: int, low: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = low - 1
    if value < low:
        raise ValueError(f"{name}={raw!r}: expected a whole number of at least {low}")
    return value


def default_workers() -> int:
    """PLM_MAP_QUERY_WORKERS, else one per core (at least 2, at most 8)."""
    return _env_int(WORKERS_ENV, max(2, min(os.cpu_count() or 2, 8)), 1)


def default_max_result_bytes() -> int:
    """PLM_MAP_MAX_RESULT_BYTES, else 32 MiB."""
    return _env_int(MAX_RESULT_BYTES_ENV, DEFAULT_MAX_RESULT_BYTES, 1024)


@dataclass(frozen=True)
class Running:
    """A query in a worker: whose it is, which process runs it, when it started and must end."""

    session: Hashable | None
    pid: int
    started: float   # time.monotonic()
    deadline: float


class WorkerLost(Exception):
    """The worker was dead before it took the query; another worker may take it."""


class WorkerProcess:
    """The parent's handle on one running, sandboxed worker."""

    def __init__(self, proc: subprocess.Popen, channel: wire.Channel, *, isolation: tuple[str, ...],
                 unsandboxed: str | None, triples: int, memory_limit: int, max_result_bytes: int):
        self.proc, self.channel = proc, channel
        self.pid = proc.pid
        self.isolation = isolation
        self.unsandboxed = unsandboxed   # why the sandbox is not proven (only with the opt-out)
        self.triples = triples
        self.memory_limit = memory_limit
        self.max_result_bytes = max_result_bytes
        self.healthy = True              # False once it must not take another query
        self.ended: str | None = None    # why the pool stopped it, if it did

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, reason: str | None = None) -> None:
        self.healthy = False
        self.ended = self.ended or reason
        try:
            self.proc.kill()
        except OSError:
            pass
        self.channel.close()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            pass  # stuck in the kernel; SIGKILL is pending and nothing reads from it any more

    def run(self, text: str, *, timeout: float, max_rows: int) -> Result:
        """Send one query and wait at most `timeout` seconds for its answer.

        Raises:
            WorkerLost: the worker was gone before it acknowledged the query.
            QueryTimeout, QueryFailed, ResultTooLarge, SyntaxError: as the query ended.
        """
        t0 = time.monotonic()
        deadline = t0 + timeout
        ack = self._receive(deadline, timeout, lost=WorkerLost,
                            send={"t": "query", "text": text, "max_rows": max_rows, "timeout": timeout})
        if ack.get("t") != "ack":
            raise self._malformed(wire.WireError(f"a {ack.get('t')!r} message where an acknowledgement was due"))
        message = self._receive(deadline, timeout, lost=None)
        try:
            return self._result(message, max_rows, time.monotonic() - t0)
        except wire.WireError as e:
            raise self._malformed(e) from None

    def _receive(self, deadline: float, timeout: float, *, lost, send: dict | None = None) -> dict:
        """The worker's next message (after sending `send`, if given). A worker that is gone raises
        `lost` (before it took the query: another worker may take it) or, once it has taken the
        query, what its exit status says (`_death`)."""
        try:
            if send is not None:
                self.channel.send(send)
            return self.channel.recv(deadline)
        except TimeoutError:
            self.healthy = False
            raise QueryTimeout(f"the query ran past the {timeout:g} s time limit and was stopped") from None
        except (EOFError, OSError):
            self.healthy = False
            raise (lost() if lost else self._death(timeout)) from None
        except wire.WireError as e:
            raise self._malformed(e) from None

    def _result(self, message: dict, max_rows: int, elapsed: float) -> Result:
        kind = message["t"]
        if kind == "select":
            return wire.select_result(message, max_rows=max_rows, elapsed=elapsed)
        if kind == "graph":
            return wire.graph_result(message, max_rows=max_rows, elapsed=elapsed)
        if kind == "ask":
            return wire.ask_result(message, elapsed=elapsed)
        if kind == "syntax":
            raise SyntaxError(wire.text_field(message))
        if kind == "too_large":
            raise ResultTooLarge(f"the result passed the {size_text(self.max_result_bytes)} byte cap "
                                 f"({MAX_RESULT_BYTES_ENV}) and was not returned; add a LIMIT, or select "
                                 "fewer or shorter values")
        if kind == "memory":
            self.healthy = False
            raise QueryFailed(f"the query needed more than the {size_text(self.memory_limit)} memory limit "
                              "of a query worker")
        if kind == "failed":
            raise QueryFailed(wire.text_field(message))
        raise wire.WireError(f"an answer of unknown kind {kind!r}")

    def _malformed(self, error: wire.WireError) -> QueryFailed:
        self.healthy = False
        return QueryFailed(f"the query worker sent a malformed answer ({error}); it was stopped")

    def _death(self, timeout: float) -> Exception:
        """What the worker's exit status says about the query it was running."""
        if self.ended:
            return QueryFailed(self.ended)
        try:
            code = self.proc.wait(2)
        except subprocess.TimeoutExpired:
            return QueryFailed("the query worker stopped answering while it ran the query")
        if code == -signal.SIGXCPU:
            return QueryTimeout(f"the query ran past the {timeout:g} s time limit (it used more than "
                                f"{timeout + CPU_MARGIN:g} s of CPU) and was stopped")
        if code == 3:  # the worker's own watchdog
            return QueryTimeout(f"the query ran past the {timeout:g} s time limit and was stopped")
        if code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS):
            return QueryFailed(f"the query worker crashed running the query; most likely it needed more "
                               f"than the {size_text(self.memory_limit)} memory limit of a query worker")
        if code == -signal.SIGKILL:
            return QueryFailed("the query worker was killed while it ran the query (from outside: by an "
                               "operator or the system's out-of-memory killer)")
        return QueryFailed(f"the query worker stopped while it ran the query (exit status {code})")


class WorkerPool:
    """Sandboxed workers for untrusted queries; `run` is safe to call from any number of threads."""

    def __init__(self, sources: list[Path], *, prefixes: dict, size: int | None = None,
                 max_result_bytes: int | None = None, memory_limit: int = DEFAULT_MEMORY_LIMIT,
                 allow_unsandboxed: bool | None = None, queue_wait: float = QUEUE_WAIT,
                 start_timeout: float = START_TIMEOUT):
        self.sources = [str(Path(s).resolve()) for s in sources]
        self.prefixes = dict(prefixes)
        self.size = default_workers() if size is None else size
        if self.size < 1:
            raise ValueError(f"a query worker pool needs at least 1 worker, not {self.size}")
        self.max_result_bytes = default_max_result_bytes() if max_result_bytes is None else max_result_bytes
        self.memory_limit = memory_limit
        self.allow_unsandboxed = (os.environ.get(UNSAFE_ENV) == "1") if allow_unsandboxed is None \
            else allow_unsandboxed
        self.queue_wait = queue_wait
        self.start_timeout = start_timeout
        self._cond = threading.Condition(threading.Lock())
        self._idle: list[WorkerProcess] = []
        self._busy: dict[WorkerProcess, Running] = {}
        self._starting = 0
        self._waiters: deque = deque()
        self._sessions: set = set()
        self._isolation: tuple[str, ...] = ()
        self._unsandboxed: str | None = None
        self._spawner: Spawner | None = None
        self._closed = False

    # ----- what callers may look at -----

    @property
    def isolation(self) -> tuple[str, ...]:
        """The sandbox the most recently started worker proved: ("netns", "seccomp"), ("seccomp",) or ()."""
        return self._isolation

    @property
    def sandbox_warning(self) -> str | None:
        """A sentence to show on every page and command while the fail-closed rule is switched off."""
        if not self.allow_unsandboxed:
            return None
        if self._unsandboxed:
            return (f"UNSAFE: user SPARQL queries run without a network sandbox ({self._unsandboxed}), "
                    f"because {UNSAFE_ENV}=1 is set; a query can make this machine send network requests.")
        return (f"{UNSAFE_ENV}=1 is set: where the query sandbox cannot be set up, user SPARQL queries "
                "run without it instead of being refused.")

    def running(self) -> list[Running]:
        """The queries in flight now."""
        with self._cond:
            return list(self._busy.values())

    def pids(self) -> list[int]:
        """The process ids of the workers, idle and busy."""
        with self._cond:
            return [w.pid for w in self._idle] + [w.pid for w in self._busy]

    # ----- life -----

    def start(self, count: int | None = None) -> "WorkerPool":
        """Start workers (all `size` of them by default) now rather than at the first queries."""
        with self._cond:
            missing = min(count or self.size, self.size) - self._total()
            self._starting += max(missing, 0)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=self._start_into_pool, args=(errors,)) for _ in range(missing)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return self

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers = self._idle + list(self._busy)
            self._idle = []
            self._cond.notify_all()
        for w in workers:
            w.kill("the query engine was closed while the query ran")
        if self._spawner is not None:
            self._spawner.close()

    # ----- queries -----

    def run(self, text: str, *, timeout: float, max_rows: int, session: Hashable | None = None) -> Result:
        """Run one untrusted query in a worker of its own.

        Raises:
            QueryBusy: the session has a query in flight, or every worker stayed busy QUEUE_WAIT s.
            SandboxUnavailable: a worker could not prove its sandbox (and the opt-out is not set).
            QueryTimeout: the query ran past `timeout` seconds (waiting for a worker not counted).
            ResultTooLarge: its rows passed `max_result_bytes`.
            QueryFailed: the worker crashed, ran out of memory or sent a malformed answer.
            SyntaxError: the engine's message, which names line and column.
        """
        if not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        if not (isinstance(max_rows, int) and max_rows >= 0):
            raise ValueError(f"max_rows must be a whole number, not {max_rows!r}")
        self._enter(session)
        try:
            for _ in range(RETRIES):
                worker = self._acquire(session, timeout)
                try:
                    return worker.run(text, timeout=timeout, max_rows=max_rows)
                except WorkerLost:
                    continue
                finally:
                    self._release(worker)
            raise QueryFailed(f"{RETRIES} query workers in a row stopped before they could take the query; "
                              "try again")
        finally:
            self._leave(session)

    def _enter(self, session) -> None:
        if session is None:
            return
        with self._cond:
            if session in self._sessions:
                now = time.monotonic()
                mine = [r for r in self._busy.values() if r.session == session]
                if mine:
                    left = max(1, math.ceil(mine[0].deadline - now))
                    raise QueryBusy(f"a query from this session is still running (it stops within {left} s); "
                                    "run this one when it has finished")
                raise QueryBusy("a query from this session is still waiting for a query worker; run this one "
                                "when it has finished")
            self._sessions.add(session)

    def _leave(self, session) -> None:
        if session is not None:
            with self._cond:
                self._sessions.discard(session)

    def _total(self) -> int:
        return len(self._idle) + len(self._busy) + self._starting

    def _acquire(self, session, timeout: float) -> WorkerProcess:
        """A worker for this query: first come, first served; start one if the pool is not full."""
        token = object()
        with self._cond:
            self._waiters.append(token)
            give_up = time.monotonic() + self.queue_wait
            try:
                while True:
                    if self._closed:
                        raise QueryFailed("the query engine was closed")
                    self._drop_dead_idle()
                    if self._waiters.index(token) < len(self._idle):
                        worker = self._idle.pop()
                        now = time.monotonic()
                        self._busy[worker] = Running(session, worker.pid, now, now + timeout)
                        return worker
                    if self._total() < self.size:
                        self._starting += 1
                        self._cond.release()
                        try:
                            worker = self._start_worker()
                        except BaseException:
                            self._cond.acquire()
                            self._starting -= 1
                            self._cond.notify_all()
                            raise
                        self._cond.acquire()
                        self._starting -= 1
                        self._add_idle(worker)
                        continue
                    now = time.monotonic()
                    if self._starting == 0 and now >= give_up:
                        raise QueryBusy(self._busy_message(now))
                    # a starting worker is on its way: wait for it, whatever the queue wait says
                    self._cond.wait(0.5 if self._starting else give_up - now)
            finally:
                self._waiters.remove(token)
                self._cond.notify_all()  # whoever is next in line

    def _busy_message(self, now: float) -> str:
        ends = [r.deadline for r in self._busy.values()]
        wait = max(1, math.ceil(min(ends) - now)) if ends else 1
        return f"all {self.size} query workers are busy; try again in about {wait} s"

    def _drop_dead_idle(self) -> None:
        dead = [w for w in self._idle if not w.alive()]
        for w in dead:
            self._idle.remove(w)
            w.healthy = False
            w.channel.close()
        if dead:
            self._replace()

    def _add_idle(self, worker: WorkerProcess) -> None:
        if self._closed:
            threading.Thread(target=worker.kill, daemon=True).start()
        else:
            self._idle.append(worker)
        self._cond.notify_all()

    def _release(self, worker: WorkerProcess) -> None:
        with self._cond:
            self._busy.pop(worker, None)
            if worker.healthy and worker.alive():
                self._add_idle(worker)
                return
            self._replace()
            self._cond.notify_all()
        worker.kill()

    def _replace(self) -> None:
        """Start a worker in the background for one that was lost (called with the lock held)."""
        if self._closed or self._total() >= self.size:
            return
        self._starting += 1
        threading.Thread(target=self._start_into_pool, args=([],), name="query-worker-start",
                         daemon=True).start()

    def _start_into_pool(self, errors: list) -> None:
        """Start one worker (counted in _starting by the caller) and add it to the idle ones."""
        worker = None
        try:
            worker = self._start_worker()
        except BaseException as e:  # noqa: BLE001 - a waiter that needs a worker starts its own and sees it
            errors.append(e)
        with self._cond:
            self._starting -= 1
            if worker is not None:
                self._add_idle(worker)
            self._cond.notify_all()

    def _spawn(self, *args, **kwargs) -> subprocess.Popen:
        with self._cond:
            if self._spawner is None:
                self._spawner = Spawner("query-worker-spawner")
            spawner = self._spawner
        try:
            return spawner.popen(*args, **kwargs)
        except SpawnerClosed:
            raise QueryFailed("the query engine was closed") from None

    def _start_worker(self) -> WorkerProcess:
        """A new worker whose sandbox is proven (or allowed to be missing), its graph loaded."""
        with ProofListeners() as proof:
            mine, theirs = socket.socketpair()
            try:
                proc = self._spawn([sys.executable, "-c", _ENTRY, str(theirs.fileno()), str(ROOT / "kg")],
                                   pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, cwd=str(ROOT))
            except OSError as e:
                mine.close()
                raise QueryFailed(f"could not start a query worker: {e}") from None
            finally:
                theirs.close()
            channel = wire.Channel(mine, max_frame=self.max_result_bytes + wire.FRAME_OVERHEAD)
            handle = WorkerProcess(proc, channel, isolation=(), unsandboxed=None, triples=0,
                                   memory_limit=self.memory_limit, max_result_bytes=self.max_result_bytes)
            deadline = time.monotonic() + self.start_timeout
            try:
                channel.send({"t": "config", "parent": os.getpid(), "sources": self.sources,
                              "prefixes": self.prefixes, "memory_limit": self.memory_limit,
                              "max_result_bytes": self.max_result_bytes, "probe": proof.targets})
                report = channel.recv(deadline)
                isolation, failures, probes = self._sandbox_report(report)
                reason = proof.error or verdict(isolation, failures, probes, proof.targets, proof.accepted())
                if reason is not None and not self.allow_unsandboxed:
                    raise SandboxUnavailable(
                        f"User queries are refused: the query sandbox could not be proven ({reason}). "
                        f"Set {UNSAFE_ENV}=1 to run them without it (unsafe: a query could then make "
                        "this machine send network requests).")
                ready = channel.recv(deadline)
            except TimeoutError:
                handle.kill()
                raise QueryFailed(f"the query worker did not start within {self.start_timeout:g} s") from None
            except (EOFError, OSError):
                handle.kill()
                raise QueryFailed(f"the query worker stopped while starting (exit status {proc.returncode})") \
                    from None
            except wire.WireError as e:
                handle.kill()
                raise QueryFailed(f"the query worker sent a malformed report while starting ({e})") from None
            except BaseException:
                handle.kill()
                raise
        try:
            if ready.get("t") == "error":
                raise QueryFailed(f"the query worker could not load the graph: {wire.text_field(ready)}")
            if ready.get("t") != "ready" or wire.int_field(ready, "pid") != proc.pid:
                raise wire.WireError("no ready message from the process that was started")
            handle.triples = wire.int_field(ready, "triples")
        except wire.WireError as e:
            handle.kill()
            raise QueryFailed(f"the query worker sent a malformed report while starting ({e})") from None
        except BaseException:
            handle.kill()
            raise
        handle.isolation, handle.unsandboxed = isolation, reason
        with self._cond:
            self._isolation = isolation
            if reason is not None:
                self._unsandboxed = reason
        return handle

    @staticmethod
    def _sandbox_report(report: dict) -> tuple[tuple[str, ...], dict, list]:
        if report.get("t") == "error":
            raise QueryFailed(f"the query worker could not start: {wire.text_field(report)}")
        if report.get("t") != "sandbox":
            raise wire.WireError(f"a {report.get('t')!r} message where the sandbox report was due")
        isolation, failures, probes = report.get("isolation"), report.get("failures"), report.get("probes")
        if not isinstance(isolation, list) or not all(i in _ISOLATIONS for i in isolation):
            raise wire.WireError("an isolation list with unknown entries")
        if not isinstance(failures, dict) or not all(isinstance(v, str) for v in failures.values()):
            raise wire.WireError("failures that are not text")
        if not isinstance(probes, list):
            raise wire.WireError("probes that are not a list")
        return tuple(i for i in _ISOLATIONS if i in isolation), failures, probes
