"""The query worker: the program of the sandboxed child process, and the errors a user query ends in.

Neither rdflib nor Oxigraph can interrupt a running query, and Oxigraph's native code makes
network requests that Python audit hooks cannot see. So user queries run here, in a child process
(started by kg/pool.py) that, in this order:

1. reads its settings from the parent (one JSON frame, see kg/wire.py);
2. takes its sandbox (kg/sandbox.py): a network namespace when the kernel allows one, a seccomp
   filter, death with its parent, a watchdog;
3. proves the sandbox by failing to reach the parent's proof listeners, loads the graph, caps its
   address space (RLIMIT_AS) and installs the audit hook;
4. answers one query at a time: it acknowledges the request (so the parent can tell a worker that
   was already dead from one that died running the query), runs it under a per-query RLIMIT_CPU,
   and sends at most `max_rows` rows and at most `max_bytes` bytes of them, counted while it
   serialises them (a single literal's size is checked before it is encoded).
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import sys
import time
from functools import cache
from pathlib import Path

from .results import AskResult, GraphResult, Result, SelectResult, Term


class QueryTimeout(RuntimeError):
    """The query ran past its time limit and was stopped."""


class QueryFailed(RuntimeError):
    """The engine rejected or could not finish the query (memory limit, crash, malformed answer)."""


class QueryBusy(QueryFailed):
    """Not run: every query worker is busy, or this session already has a query running."""


class SandboxUnavailable(QueryFailed):
    """Not run: the worker could not prove its network sandbox, and running without it is not allowed."""


class ResultTooLarge(QueryFailed):
    """The result passed the byte cap; nothing of it is returned."""


def size_text(n: int) -> str:
    """A byte count as people state limits: "32 MiB", "64 KiB", "1,000 bytes"."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift:,} {unit}"
    if n >= 1 << 20:
        return f"{n / (1 << 20):,.1f} MiB"
    return f"{n:,} bytes"


# ---------------------------------------------------------------------------------------------
# Running a query on a pyoxigraph store
# ---------------------------------------------------------------------------------------------


def _term(t) -> tuple | None:
    """A pyoxigraph term as (kind, value[, datatype, lang]), kind as in SPARQL's JSON results."""
    item, _ = _converter()(t)
    return None if item is None else tuple(item)


def _execute(store, query: str, max_rows: int, prefixes: dict) -> Result:
    """Run a query in this process (the library's own trusted queries): no caps but `max_rows`."""
    import pyoxigraph as ox

    t0 = time.perf_counter()
    result = store.query(query, prefixes=prefixes)

    def term(t):
        return None if t is None else Term(*_term(t))

    if isinstance(result, ox.QueryBoolean):
        return AskResult(bool(result), elapsed=time.perf_counter() - t0)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            if len(rows) == max_rows:
                return SelectResult(names, rows, True, time.perf_counter() - t0)
            rows.append(tuple(term(solution[i]) for i in range(len(names))))
        return SelectResult(names, rows, False, time.perf_counter() - t0)
    triples = []
    for t in result:
        if len(triples) == max_rows:
            return GraphResult(triples, True, time.perf_counter() - t0)
        triples.append((term(t.subject), term(t.predicate), term(t.object)))
    return GraphResult(triples, False, time.perf_counter() - t0)


class _TooLarge(Exception):
    pass


class _Budget:
    """Bytes left under the cap. Rows are encoded in chunks of about CHUNK_CHARS characters, each
    chunk weighed after encoding (so the cap is exact) and every value weighed by its length
    before it joins a chunk (so one huge literal is refused before it is encoded)."""

    CHUNK_CHARS = 8 << 10

    def __init__(self, limit: int):
        self.left = limit
        self.pending: list = []
        self.pending_chars = 0
        self.pieces: list[bytes] = []

    def encode(self, value) -> bytes:
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        self.left -= len(data) + 1
        if self.left < 0:
            raise _TooLarge
        return data

    def add(self, row: list, chars: int) -> None:
        if chars > self.left - self.pending_chars:  # at least one byte per character
            raise _TooLarge
        self.pending.append(row)
        self.pending_chars += chars
        if self.pending_chars >= self.CHUNK_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.pieces.append(self.encode(self.pending)[1:-1])  # the rows, without the list's brackets
            self.pending, self.pending_chars = [], 0

    def rows(self) -> bytes:
        self.flush()
        return b",".join(self.pieces)


@cache
def _converter():
    """pyoxigraph term -> (wire form, characters in it), dispatched on the term's exact type: the one
    conversion of engine terms, for the worker's answers, the trusted path and the endpoint client."""
    import pyoxigraph as ox

    named, blank, literal = ox.NamedNode, ox.BlankNode, ox.Literal

    def convert(t):
        kind = type(t)
        if kind is named:
            v = t.value
            return ["uri", v], len(v)
        if kind is literal:
            v, dt, lang = t.value, t.datatype.value, t.language
            return ["literal", v, dt, lang], len(v) + len(dt) + (len(lang) if lang else 0)
        if t is None:
            return None, 0
        if kind is blank:
            v = t.value
            return ["bnode", v], len(v)
        v = str(t)  # RDF 1.2 triple terms, shown as text
        return ["literal", v, None, None], len(v)

    return convert


def answer(store, query: str, *, max_rows: int, max_bytes: int, prefixes: dict) -> bytes:
    """The answer frame's body for one query: a result under both caps, or what went wrong."""
    import pyoxigraph as ox

    budget = _Budget(max_bytes)
    try:
        result = store.query(query, prefixes=prefixes)
        if isinstance(result, ox.QueryBoolean):
            return json.dumps({"t": "ask", "value": bool(result)}).encode()
        convert, truncated, count = _converter(), False, 0
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            head = b'{"t":"select","vars":' + budget.encode(names)
            width = range(len(names))
            for solution in result:
                if count == max_rows:
                    truncated = True
                    break
                row, chars = [], 0
                for i in width:
                    item, n = convert(solution[i])
                    row.append(item)
                    chars += n
                budget.add(row, chars)
                count += 1
            key = b"rows"
        else:
            head = b'{"t":"graph"'
            for t in result:
                if count == max_rows:
                    truncated = True
                    break
                (s_, a), (p_, b), (o_, c) = convert(t.subject), convert(t.predicate), convert(t.object)
                budget.add([s_, p_, o_], a + b + c)
                count += 1
            key = b"triples"
        tail = b',"truncated":' + (b"true" if truncated else b"false") + b"}"
        return head + b',"' + key + b'":[' + budget.rows() + b"]" + tail
    except _TooLarge:
        return json.dumps({"t": "too_large"}).encode()
    except SyntaxError as e:
        return _message("syntax", str(e.args[0] if e.args else e))
    except MemoryError:
        return json.dumps({"t": "memory"}).encode()
    except Exception as e:  # noqa: BLE001 - every engine error is reported, none ends the worker
        return _message("failed", f"{type(e).__name__}: {e}")


def _message(kind: str, text: str) -> bytes:
    return json.dumps({"t": kind, "message": text[:4000]}, ensure_ascii=False).encode()


# ---------------------------------------------------------------------------------------------
# The child process
# ---------------------------------------------------------------------------------------------


def _serve(sock: socket.socket) -> None:
    from . import sandbox
    from .lifeline import die_with_parent
    from .wire import MAX_REQUEST_BYTES, Channel, WireError

    channel = Channel(sock, max_frame=MAX_REQUEST_BYTES)
    config = channel.recv()
    parent = int(config["parent"])
    failures = {}
    if (why := sandbox.enter_network_namespace()) is not None:
        failures["netns"] = why
    die_with_parent(parent)
    if (why := sandbox.install_seccomp_filter()) is not None:
        failures["seccomp"] = why
    isolation = [name for name in ("netns", "seccomp") if name not in failures]
    watchdog = sandbox.Watchdog(parent)
    probes = sandbox.probe_network(config["probe"])
    # judged by the parent before the graph is loaded: a worker it refuses costs little
    channel.send({"t": "sandbox", "isolation": isolation, "failures": failures, "probes": probes})
    try:
        from .store import load_store

        store = load_store([Path(s) for s in config["sources"]])
    except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it
        channel.send({"t": "error", "message": f"{type(e).__name__}: {e}"})
        return
    import pyoxigraph  # noqa: F401 - loaded before the audit hook refuses new native libraries

    memory_limit = int(config["memory_limit"])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    sandbox.install_audit_hook()
    prefixes = dict(config["prefixes"])
    max_bytes = int(config["max_result_bytes"])
    channel.send({"t": "ready", "pid": os.getpid(), "triples": len(store)})
    while True:
        try:
            request = channel.recv()
        except (EOFError, OSError, WireError):
            return
        if request["t"] != "query":
            return
        channel.send({"t": "ack"})
        timeout = float(request["timeout"])
        watchdog.deadline = time.monotonic() + timeout
        sandbox.limit_cpu(timeout)
        body = answer(store, str(request["text"]), max_rows=int(request["max_rows"]),
                      max_bytes=max_bytes, prefixes=prefixes)
        watchdog.deadline = None
        channel.send_body(body)


def main(fd: int) -> None:
    """Entry point of the worker process (started by kg/pool.py)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C ends the parent; the worker dies with it
    try:
        _serve(socket.socket(fileno=fd))
    except (EOFError, BrokenPipeError, ConnectionResetError):
        pass  # the parent went away
    sys.exit(0)
