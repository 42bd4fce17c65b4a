"""Demos run in a worker process, with a time budget: the worker, its handle, a pool and a job.

A demo is PyTorch code whose sizes come from a form or a command line. Run in the Streamlit or
`kg` process, a long one holds a core and gigabytes for as long as it likes, slows every other
session of the app, and nothing in Python can stop a running thread. So the app and `kg` run every
demo here, in a persistent worker: a fresh interpreter (started with subprocess, not fork, so it is
safe from any thread and inherits nothing) that

* imports torch once, uses `PLM_MAP_DEMO_THREADS` threads (default 1) and caps its address space
  with RLIMIT_AS (`PLM_MAP_DEMO_MEMORY`, default 4 GiB), so an allocation past it fails inside the
  worker instead of taking the machine down;
* refuses sockets and subprocesses with an audit hook, once torch is loaded;
* runs one demo at a time and streams `progress(fraction, message)` to the parent; the result comes
  back as JSON (never pickle) and `Result.from_dict` checks every field;
* dies with its parent: PR_SET_PDEATHSIG, plus a watchdog that polls `os.getppid()` (the signal
  fires when the *thread* that started the child ends, so workers are started from one long-lived
  thread, and the watchdog covers what the signal misses).

The parent waits at most the run's budget (`PLM_MAP_DEMO_BUDGET`, default 60 s, 1–600 s); past it
the worker is killed, a replacement starts, and the caller gets `DemoTimeout`. Parameters are
checked (`Demo.validate`) in the parent before anything is sent, so an out-of-range value never
reaches the worker. `pool()` is the process's small set of workers (the app's sessions share it;
a full pool answers `DemoBusy` with a time to retry); `DemoPool.submit` runs a demo as a `DemoJob`
that a Streamlit session can follow, leave and come back to.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Iterator

from kg.lifeline import Spawner, die_with_parent, watch_parent

from ._base import Demo, ParamError, Progress, Result, check_seed_and_device

ROOT = Path(__file__).resolve().parent.parent

BUDGET_ENV, DEFAULT_BUDGET, MIN_BUDGET, MAX_BUDGET = "PLM_MAP_DEMO_BUDGET", 60.0, 1.0, 600.0
THREADS_ENV, DEFAULT_THREADS, MAX_THREADS = "PLM_MAP_DEMO_THREADS", 1, 16
WORKERS_ENV, MAX_WORKERS = "PLM_MAP_DEMO_WORKERS", 8
MEMORY_ENV, DEFAULT_MEMORY, MIN_MEMORY, MAX_MEMORY = "PLM_MAP_DEMO_MEMORY", 4 << 30, 1 << 30, 64 << 30
START_TIMEOUT = 120.0         # seconds for a new worker to import torch (about 3.5 s on an idle laptop core)
MAX_MESSAGE = 64 << 20        # bytes: the largest message either side accepts
PROGRESS_EVERY = 0.05         # seconds between progress messages (the first and the last always go)
WATCHDOG_EVERY = 0.2          # seconds between the worker's checks that its parent is alive

# Workers on a machine with few cores: leave one core to the app; at most two demos at once.
DEFAULT_WORKERS = min(2, max(1, (os.cpu_count() or 1) - 1))


class DemoError(RuntimeError):
    """A run that gave no result; the message says why, with the limit (in seconds or bytes) it hit."""


class DemoTimeout(DemoError):
    """The demo ran past its time budget; its worker was killed and replaced."""


class DemoBusy(DemoError):
    """Every worker is running a demo (or this session already runs one); `retry_after` in seconds."""

    def __init__(self, message: str, retry_after: float = 0.0):
        super().__init__(message)
        self.retry_after = retry_after


class DemoFailed(DemoError):
    """The demo raised, ran out of memory, or its worker stopped or could not start."""


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


def _setting(name: str, default, low, high, kind, unit: str):
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(float(text)) if kind is int and float(text).is_integer() else kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not low <= value <= high:
        raise DemoError(f"${name} must be a number of {unit} between {low:,g} and {high:,g}, not {text!r}")
    return value


def check_budget(seconds: Any) -> float:
    """A run's time budget in seconds, bounded to 1–600 s."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) \
            or not MIN_BUDGET <= seconds <= MAX_BUDGET:
        raise ParamError(f"budget must be between {MIN_BUDGET:g} and {MAX_BUDGET:g} s, not {seconds!r}")
    return float(seconds)


def default_budget() -> float:
    """$PLM_MAP_DEMO_BUDGET seconds, or 60 s (read at each run, so a changed setting applies at once)."""
    return _setting(BUDGET_ENV, DEFAULT_BUDGET, MIN_BUDGET, MAX_BUDGET, float, "seconds")


def default_threads() -> int:
    return _setting(THREADS_ENV, DEFAULT_THREADS, 1, MAX_THREADS, int, "threads")


def default_memory() -> int:
    return _setting(MEMORY_ENV, DEFAULT_MEMORY, MIN_MEMORY, MAX_MEMORY, int, "bytes")


def default_workers() -> int:
    return _setting(WORKERS_ENV, DEFAULT_WORKERS, 1, MAX_WORKERS, int, "workers")


def _gib(n: int) -> str:
    return f"{n:,} bytes, {n / (1 << 30):.3g} GiB"


# ---------------------------------------------------------------------------------------------
# The wire: length-prefixed JSON over a socket pair (Connection's *_bytes calls never unpickle)
# ---------------------------------------------------------------------------------------------


def _send(conn: Connection, message: dict) -> None:
    conn.send_bytes(json.dumps(message, ensure_ascii=False, default=float).encode("utf-8"))


def _recv(conn: Connection) -> dict:
    message = json.loads(conn.recv_bytes(MAX_MESSAGE))
    if not isinstance(message, dict) or not isinstance(message.get("type", message.get("op")), str):
        raise ValueError("a message must be an object with a type")
    return message


# ---------------------------------------------------------------------------------------------
# The worker (the child process)
# ---------------------------------------------------------------------------------------------

_BLOCKED_EVENTS = ("socket.connect", "socket.bind", "socket.getaddrinfo", "urllib.Request", "subprocess.Popen",
                   "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.forkpty")


def _audit(event: str, args) -> None:
    if event in _BLOCKED_EVENTS:
        raise PermissionError(f"{event} is not allowed in the demo worker")


def _status() -> dict:
    """This process's thread count and peak address space, from /proc (Linux)."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key == "Threads":
                out["os_threads"] = int(value)
            elif key == "VmPeak":
                out["vm_peak_bytes"] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def _memory_error(text: str) -> bool:
    return "can't allocate memory" in text or "DefaultCPUAllocator" in text or "out of memory" in text.lower()


def _run_one(conn: Connection, request: dict, threads: int) -> None:
    import torch

    from . import get

    seen = {"torch_threads": torch.get_num_threads(), **_status()}
    last = [0.0]

    def progress(fraction: float, message: str) -> None:
        seen["torch_threads"] = max(seen["torch_threads"], torch.get_num_threads())
        now = time.monotonic()
        if last[0] and now - last[0] < PROGRESS_EVERY and fraction < 1.0:
            return
        last[0] = now
        seen["os_threads"] = max(seen.get("os_threads", 0), _status().get("os_threads", 0))
        _send(conn, {"type": "progress", "fraction": float(fraction), "message": str(message)[:200]})

    try:
        demo = get(str(request["demo"]))
        result = demo.run(request["params"], seed=request["seed"], device=request["device"], progress=progress,
                          threads=threads)
    except ParamError as e:
        _send(conn, {"type": "error", "kind": "param", "message": str(e)})
    except MemoryError:
        _send(conn, {"type": "error", "kind": "memory", "message": ""})
    except Exception as e:  # reported to the parent, which raises it
        text = f"{type(e).__name__}: {e}"[:1000]
        _send(conn, {"type": "error", "kind": "memory" if _memory_error(text) else "failed", "message": text})
    else:
        _send(conn, {"type": "result", "result": result.to_dict(), "stats": {**seen, **_status()}})


def _serve(fd: int, parent: int, threads: int, memory: int) -> None:
    die_with_parent(parent)
    watch_parent(parent, WATCHDOG_EVERY)
    conn = Connection(fd)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    t0 = time.perf_counter()
    try:
        import torch   # (torch._dynamo, which a demo's first optimizer imports, only for the demos that train)

        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
    except BaseException as e:  # most likely the memory cap is too low for torch itself
        _send(conn, {"type": "error", "kind": "start", "message": f"{type(e).__name__}: {e}"[:500]})
        return
    sys.addaudithook(_audit)
    _send(conn, {"type": "ready", "pid": os.getpid(), "torch_import_seconds": time.perf_counter() - t0,
                 "torch_threads": torch.get_num_threads(), "interop_threads": torch.get_num_interop_threads(),
                 "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0], **_status()})
    while True:
        try:
            request = _recv(conn)
        except (EOFError, OSError, ValueError):
            return
        if request.get("op") == "run":
            _run_one(conn, request, threads)
        elif request.get("op") == "info":
            _send(conn, {"type": "info", "pid": os.getpid(), "torch_threads": torch.get_num_threads(),
                         "rlimit_as": resource.getrlimit(resource.RLIMIT_AS)[0], **_status()})
        else:
            return


def _main(argv: list[str]) -> None:
    """Entry point of the worker process: fd of its socket, parent pid, threads, memory cap in bytes."""
    fd, parent, threads, memory = (int(a) for a in argv)
    _serve(fd, parent, threads, memory)


# ---------------------------------------------------------------------------------------------
# The parent's side
# ---------------------------------------------------------------------------------------------


_SPAWNER: Spawner | None = None
_SPAWNER_LOCK = threading.Lock()


def _spawner() -> Spawner:
    """The process's one thread that starts demo workers (see kg/lifeline.py for why one thread)."""
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            _SPAWNER = Spawner("demo-worker-spawner")
        return _SPAWNER


class DemoWorker:
    """One worker process, started on demand; `run` sends it a demo and waits at most the budget."""

    def __init__(self, *, threads: int | None = None, memory: int | None = None,
                 start_timeout: float = START_TIMEOUT):
        self.threads = threads or default_threads()
        self.memory = memory or default_memory()
        self.start_timeout = start_timeout
        self.ready_info: dict | None = None   # what the worker said when torch was loaded
        self.last_stats: dict = {}            # threads and peak memory of the last run
        self.busy_until = 0.0                 # time.monotonic() when the current run's budget ends
        self._proc: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()         # one request at a time

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "DemoWorker":
        """Start the process if it is not running; returns at once (torch loads in the background)."""
        if self._alive():
            return self
        self._stop()
        mine, theirs = socket.socketpair()
        threads = str(self.threads)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
               "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads}
        try:
            self._proc = _spawner().popen(
                [sys.executable, "-c", "import sys; from mechanisms.runner import _main; _main(sys.argv[1:])",
                 str(theirs.fileno()), str(os.getpid()), threads, str(self.memory)],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                env=env, cwd=str(ROOT))
        finally:
            theirs.close()
        self._conn = Connection(mine.detach())
        self.ready_info = None
        return self

    def _ensure_ready(self) -> None:
        self.start()
        if self.ready_info is not None:
            return
        if not self._conn.poll(self.start_timeout):
            self._stop()
            raise DemoFailed(f"the demo worker did not start within {self.start_timeout:g} s")
        try:
            message = _recv(self._conn)
        except (EOFError, OSError, ValueError):
            status = self._stop()
            raise DemoFailed(f"the demo worker exited while starting (status {status})") from None
        if message.get("type") != "ready":
            self._stop()
            raise DemoFailed(f"the demo worker could not load torch under its memory cap of {_gib(self.memory)}: "
                             f"{message.get('message', '')}")
        self.ready_info = message

    def _stop(self) -> int | None:
        """Kill the process (if any) and forget it; returns its exit status."""
        status = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            try:
                status = self._proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None
        self.ready_info = None
        return status

    def close(self) -> None:
        with self._lock:
            self._stop()

    def info(self) -> dict:
        """The running worker's pid, torch threads, RLIMIT_AS and peak address space (starts it if needed)."""
        with self._lock:
            self._ensure_ready()
            _send(self._conn, {"op": "info"})
            if not self._conn.poll(10):
                self._stop()
                raise DemoFailed("the demo worker did not answer within 10 s")
            return _recv(self._conn)

    def run(self, demo: Demo, params: dict | None = None, *, seed: int = 0, device: str = "cpu",
            progress: Progress | None = None, budget: float | None = None) -> Result:
        """Run `demo` in the worker and return its Result; same parameters and seed, same metrics.

        Raises:
            ParamError: a parameter, the seed, the device or the budget is refused (nothing was sent).
            DemoTimeout: the run passed `budget` seconds; the worker was killed and a new one started.
            DemoFailed: the demo raised, ran out of memory or its worker died.
        """
        p = demo.validate(params)                  # refused here, before the worker allocates anything
        check_seed_and_device(seed, device)
        budget = check_budget(default_budget() if budget is None else budget)
        report = progress or (lambda fraction, message: None)
        with self._lock:
            self._ensure_ready()
            _send(self._conn, {"op": "run", "demo": demo.id, "params": p, "seed": seed, "device": device})
            deadline = time.monotonic() + budget
            self.busy_until = deadline
            try:
                message = self._wait(deadline, report, budget)
            except BaseException:
                # past the budget, dead, or interrupted (a failing progress callback, Ctrl-C): the
                # worker is mid-run or gone, so kill it; the replacement loads torch while the caller
                # reads the message
                self._stop()
                self.start()
                raise
            finally:
                self.busy_until = 0.0
        if message["type"] == "error":
            kind, text = message.get("kind"), str(message.get("message", ""))
            if kind == "param":
                raise ParamError(text)
            if kind == "memory":
                raise DemoFailed(f"the demo needed more memory than its worker may use (RLIMIT_AS "
                                 f"{_gib(self.memory)}); choose smaller sizes")
            raise DemoFailed(text)
        try:
            result = Result.from_dict(message["result"])
        except (KeyError, TypeError, ValueError) as e:
            raise DemoFailed(f"the demo worker sent a malformed result: {e}") from None
        if result.demo != demo.id or result.params != p or result.seed != seed:
            raise DemoFailed("the demo worker sent the result of a different run")
        self.last_stats = dict(message.get("stats") or {})
        return result

    def _wait(self, deadline: float, report: Progress, budget: float) -> dict:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._conn.poll(left):
                raise DemoTimeout(f"the demo ran past its {budget:g} s budget and was stopped")
            try:
                message = _recv(self._conn)
            except (EOFError, OSError, ValueError) as e:
                try:
                    status = self._proc.wait(2) if isinstance(e, EOFError) else None
                except subprocess.TimeoutExpired:
                    status = "none yet"
                why = (f"exit status {status}" if isinstance(e, EOFError)
                       else f"its message was larger than {MAX_MESSAGE:,} bytes or malformed ({e})")
                raise DemoFailed(f"the demo worker stopped unexpectedly ({why}); it may have run out of "
                                 f"memory (its cap is {_gib(self.memory)})") from None
            if message.get("type") != "progress":
                return message
            fraction = message.get("fraction")
            if isinstance(fraction, (int, float)) and not isinstance(fraction, bool):
                report(min(max(float(fraction), 0.0), 1.0), str(message.get("message", ""))[:200])


# ---------------------------------------------------------------------------------------------
# The pool and jobs
# ---------------------------------------------------------------------------------------------


class DemoJob:
    """One run on a pool worker, in a thread of its own, that any thread can follow.

    A Streamlit session keeps its job in `st.session_state`: if the script is interrupted (the user
    clicks elsewhere), the run goes on, bounded by its budget, and the next script run finds it.
    """

    def __init__(self, pool: "DemoPool", worker: DemoWorker, demo: Demo, params: dict, *, seed: int,
                 device: str, budget: float, key: str = ""):
        self.demo_id, self.key, self.budget = demo.id, key, budget
        self.started = time.monotonic()
        self.fraction, self.message = 0.0, "starting"
        self.result: Result | None = None
        self.error: BaseException | None = None
        self._done = threading.Event()

        def work():
            try:
                self.result = worker.run(demo, params, seed=seed, device=device, progress=self._progress,
                                         budget=budget)
            except BaseException as e:  # kept for whoever follows the job
                self.error = e
            finally:
                pool.release(worker)
                self._done.set()

        threading.Thread(target=work, name=f"demo-job-{demo.id}", daemon=True).start()

    def _progress(self, fraction: float, message: str) -> None:
        self.fraction, self.message = fraction, message

    def done(self) -> bool:
        return self._done.is_set()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def follow(self, progress: Progress | None = None, *, every: float = 0.1) -> Result:
        """Wait for the run, calling `progress` whenever it moves; its result, or its error raised."""
        shown = None
        while not self._done.wait(every):
            if progress and (self.fraction, self.message) != shown:
                shown = (self.fraction, self.message)
                progress(*shown)
        if self.error is not None:
            raise self.error
        return self.result


class DemoPool:
    """At most `size` workers, shared by the threads of this process (the app's sessions).

    `acquire` never queues: a full pool raises DemoBusy with the seconds until a budget ends.
    """

    def __init__(self, size: int | None = None, *, threads: int | None = None, memory: int | None = None):
        self.size = size or default_workers()
        self.threads, self.memory = threads or default_threads(), memory or default_memory()
        self._idle: list[DemoWorker] = []
        self._busy: list[DemoWorker] = []
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Start one worker now if none exists, so the first Run does not wait for torch to load."""
        with self._lock:
            if not self._idle and not self._busy:
                self._idle.append(DemoWorker(threads=self.threads, memory=self.memory).start())

    def acquire(self) -> DemoWorker:
        with self._lock:
            if self._idle:
                worker = self._idle.pop()
            elif len(self._busy) < self.size:
                worker = DemoWorker(threads=self.threads, memory=self.memory)
            else:
                now = time.monotonic()
                wait = max(1, math.ceil(min((w.busy_until or now + 1) for w in self._busy) - now))
                raise DemoBusy(f"all {self.size} demo worker(s) are busy; try again in about {wait} s", wait)
            self._busy.append(worker)
        try:
            worker.start()
        except BaseException:
            self.release(worker)
            raise
        return worker

    def release(self, worker: DemoWorker) -> None:
        with self._lock:
            if worker in self._busy:
                self._busy.remove(worker)
                self._idle.append(worker)

    @contextmanager
    def worker(self) -> Iterator[DemoWorker]:
        """One worker held for several runs (`kg verify`: torch loads once for every demo)."""
        worker = self.acquire()
        try:
            yield worker
        finally:
            self.release(worker)

    def run(self, demo: Demo, params: dict | None = None, **kwargs) -> Result:
        """`DemoWorker.run` on a free worker; parameters are checked before one is taken."""
        demo.validate(params)
        with self.worker() as worker:
            return worker.run(demo, params, **kwargs)

    def submit(self, demo: Demo, params: dict | None = None, *, seed: int = 0, device: str = "cpu",
               budget: float | None = None, key: str = "") -> DemoJob:
        """Start a run and return at once; refused (ParamError, DemoBusy) before a worker is taken."""
        p = demo.validate(params)
        check_seed_and_device(seed, device)
        budget = check_budget(default_budget() if budget is None else budget)
        worker = self.acquire()
        worker.busy_until = time.monotonic() + budget
        return DemoJob(self, worker, demo, p, seed=seed, device=device, budget=budget, key=key)

    def close(self) -> None:
        with self._lock:
            workers, self._idle, self._busy = self._idle + self._busy, [], []
        for w in workers:
            w._stop()


_POOL: DemoPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> DemoPool:
    """The process's pool ($PLM_MAP_DEMO_WORKERS workers, by default 1 per spare core, at most 2)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = DemoPool()
            atexit.register(_POOL.close)
        return _POOL
