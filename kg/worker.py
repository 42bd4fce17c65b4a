"""A sandboxed process that runs untrusted queries against its own copy of the graph.

Neither rdflib nor Oxigraph can interrupt a running query, and Oxigraph's native code makes
network requests that Python audit hooks cannot see. So user queries run here, in a child
process that:

* drops network access before it loads anything, by moving into new user and network namespaces
  (`unshare(CLONE_NEWUSER | CLONE_NEWNET)`): SERVICE or LOAD, should one get past kg/safety.py,
  find no network at all;
* refuses Python-level sockets, URL opening and subprocesses with an audit hook;
* caps its address space (RLIMIT_AS), so a query that builds huge intermediate results fails with
  a memory error instead of taking the machine down;
* answers one query at a time over a pipe, at most `max_rows` rows.

The parent waits `timeout` seconds for an answer; past that it kills the child and starts a new one.
"""

from __future__ import annotations

import ctypes
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from .results import AskResult, GraphResult, SelectResult, Term

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
DEFAULT_MEMORY_LIMIT = 4 << 30  # bytes of address space for the worker


class QueryTimeout(RuntimeError):
    """The query ran past its time limit and was stopped."""


class QueryFailed(RuntimeError):
    """The engine rejected or could not finish the query (syntax error, memory limit, crash)."""


# ---------------------------------------------------------------------------------------------
# The child
# ---------------------------------------------------------------------------------------------


def _drop_network() -> bool:
    """Move this (single-threaded) process into empty user and network namespaces."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        return False
    try:  # keep our own uid inside the new namespace, so file permissions stay as they were
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    except OSError:
        pass
    return True


_BLOCKED_EVENTS = ("socket.connect", "socket.getaddrinfo", "socket.bind", "urllib.Request",
                   "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.fork")


def _audit(event: str, args) -> None:
    if event in _BLOCKED_EVENTS:
        raise PermissionError(f"{event} is not allowed in the query worker")


def _term(t) -> tuple | None:
    import pyoxigraph as ox

    if t is None:
        return None
    if isinstance(t, ox.NamedNode):
        return ("uri", t.value)
    if isinstance(t, ox.BlankNode):
        return ("bnode", t.value)
    if isinstance(t, ox.Literal):
        return ("literal", t.value, t.datatype.value, t.language)
    return ("literal", str(t), None, None)  # RDF 1.2 triple terms, shown as text


def _execute(store, query: str, max_rows: int, prefixes: dict):
    import pyoxigraph as ox

    result = store.query(query, prefixes=prefixes)
    if isinstance(result, ox.QueryBoolean):
        return ("ask", bool(result))
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            if len(rows) == max_rows:
                return ("select", names, rows, True)
            rows.append(tuple(_term(solution[i]) for i in range(len(names))))
        return ("select", names, rows, False)
    triples = []
    for t in result:
        if len(triples) == max_rows:
            return ("graph", triples, True)
        triples.append((_term(t.subject), _term(t.predicate), _term(t.object)))
    return ("graph", triples, False)


def _serve(conn) -> None:
    sources, memory_limit, isolate, prefixes = conn.recv()
    isolated = _drop_network() if isolate else False
    try:
        from .store import load_store

        store = load_store([Path(s) for s in sources])
    except Exception as e:  # reported to the parent, which raises it
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    sys.addaudithook(_audit)
    conn.send(("ready", isolated, len(store)))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        query, max_rows = request
        try:
            conn.send(("ok", _execute(store, query, max_rows, prefixes)))
        except SyntaxError as e:
            conn.send(("syntax", str(e.args[0] if e.args else e)))
        except MemoryError:
            conn.send(("error", "the query needed more memory than the worker may use"))
        except Exception as e:
            conn.send(("error", f"{type(e).__name__}: {e}"))


# ---------------------------------------------------------------------------------------------
# The parent's handle
# ---------------------------------------------------------------------------------------------


def _to_result(payload, elapsed: float):
    def term(t):
        return None if t is None else Term(*t)

    kind = payload[0]
    if kind == "ask":
        return AskResult(payload[1], elapsed=elapsed)
    if kind == "select":
        _, names, rows, truncated = payload
        return SelectResult(names, [tuple(term(t) for t in row) for row in rows], truncated, elapsed)
    _, triples, truncated = payload
    return GraphResult([tuple(term(t) for t in tr) for tr in triples], truncated, elapsed)


class QueryWorker:
    """One sandboxed child process; `run` sends it a query and waits at most `timeout` seconds."""

    def __init__(self, sources: list[Path], *, prefixes: dict, memory_limit: int = DEFAULT_MEMORY_LIMIT,
                 isolate: bool = True, start_timeout: float = 120.0):
        self.sources = [str(Path(s).resolve()) for s in sources]
        self.prefixes = prefixes
        self.memory_limit = memory_limit
        self.isolate = isolate
        self.start_timeout = start_timeout
        self.isolated = False
        self.triples = 0
        self._proc = None
        self._conn = None
        self._lock = threading.Lock()

    def _start(self) -> None:
        # A fresh interpreter (not fork): safe to start from any thread, inherits no state.
        mine, theirs = socket.socketpair()
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        proc = subprocess.Popen(
            [sys.executable, "-c", "import sys; from kg.worker import main; main(int(sys.argv[1]))",
             str(theirs.fileno())], pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL, env=env, cwd=root,
        )
        theirs.close()
        conn = Connection(mine.detach())
        conn.send((self.sources, self.memory_limit, self.isolate, self.prefixes))
        if not conn.poll(self.start_timeout):
            proc.kill()
            raise QueryFailed("the query worker did not start in time")
        try:
            msg = conn.recv()
        except EOFError:
            msg = ("error", f"it exited with status {proc.wait(5)}")
        if msg[0] != "ready":
            proc.kill()
            raise QueryFailed(f"the query worker could not load the graph: {msg[1]}")
        self._proc, self._conn, self.isolated, self.triples = proc, conn, msg[1], msg[2]

    def _alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _stop(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def start(self) -> "QueryWorker":
        with self._lock:
            if not self._alive():
                self._stop()
                self._start()
        return self

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
            self._stop()

    def run(self, query: str, *, timeout: float, max_rows: int):
        """Run one query; at most one runs at a time (others wait up to `timeout` for their turn)."""
        t0 = time.perf_counter()
        if not self._lock.acquire(timeout=timeout):
            raise QueryTimeout(f"another query held the engine for {timeout:g} s; try again")
        try:
            if not self._alive():
                self._stop()
                self._start()
            self._conn.send((query, max_rows))
            left = max(0.0, timeout - (time.perf_counter() - t0))
            if not self._conn.poll(left):
                self._stop()  # the only way to stop a running query; the next call starts a new worker
                raise QueryTimeout(f"the query ran past the {timeout:g} s time limit and was stopped")
            try:
                msg = self._conn.recv()
            except EOFError:
                self._stop()
                raise QueryFailed("the query worker crashed (the query may need too much memory)") from None
        finally:
            self._lock.release()
        elapsed = time.perf_counter() - t0
        if msg[0] == "ok":
            return _to_result(msg[1], elapsed)
        if msg[0] == "syntax":
            raise SyntaxError(msg[1])
        raise QueryFailed(msg[1])


def main(fd: int) -> None:
    """Entry point of the worker process (started by QueryWorker._start)."""
    _serve(Connection(fd))
