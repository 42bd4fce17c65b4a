"""The engine runner: one long-lived child process that runs batches of queries in pyoxigraph.

The child (tests/fuzz/_engine_child.py) is a fresh interpreter with its network *open*: that is
the point, a query the check lets through must be free to reach the loopback logging server if it
can. It reads JSON lines (never pickle) and answers one line per query. The parent

* times every query from the child's own clock and, past `timeout` seconds, kills the child's
  whole process group, records a timeout and starts a new child for the rest of the batch;
* records a crash (the child dies: SIGSEGV from a stack overflow, SIGABRT from Rust) the same way,
  with the signal and the end of the child's stderr; the child's stack is capped at 8 MiB (the
  usual default, and what the production worker gets), so "crashes" means the same everywhere;
* when `strace` works here, runs the child under `strace --seccomp-bpf -e trace=connect,...`, so a
  connection to *any* address (a DNS lookup for a SERVICE IRI on another host included) is seen,
  not only those made to the logging server. Only those few system calls stop the child, so the
  cost is nil.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

CHILD = Path(__file__).with_name("_engine_child.py")
F_SETPIPE_SZ = 1031
TRACED_CALLS = "connect,sendto,sendmsg"


@dataclass
class Outcome:
    kind: str          # ok, syntax, error, timeout, crash
    rows: int = 0
    message: str = ""
    seconds: float = 0.0


def strace_works() -> bool:
    """True when `strace --seccomp-bpf` can trace a child here (ptrace may be forbidden in CI)."""
    exe = shutil.which("strace")
    if not exe:
        return False
    try:
        p = subprocess.run([exe, "--seccomp-bpf", "-f", "-qq", "-e", f"trace={TRACED_CALLS}",
                            "-o", os.devnull, sys.executable, "-c", "pass"],
                           capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0


def _child_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.lower().endswith("_proxy") and not k.startswith("PYTHON")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


class EngineRunner:
    """`run(texts)` -> one Outcome per text; `network_events()` counts traced connects so far."""

    def __init__(self, turtle: str, prefixes: dict[str, str], *, timeout: float = 2.0,
                 max_rows: int = 100, memory: int = 2 << 30, stack: int = 8 << 20, trace: bool | None = None):
        self.turtle, self.prefixes = turtle, dict(prefixes)
        self.timeout, self.max_rows, self.memory, self.stack = timeout, max_rows, memory, stack
        self.trace = strace_works() if trace is None else trace
        self._dir = tempfile.TemporaryDirectory(prefix="kg-fuzz-")
        self.trace_log = Path(self._dir.name) / "connects.strace"
        self.trace_log.touch()
        self._stderr_path = Path(self._dir.name) / "child.stderr"
        self.starts = 0
        self.crash_notes: list[str] = []
        self.triples = 0
        self._proc: subprocess.Popen | None = None
        self._writer: threading.Thread | None = None
        self._pending: list[tuple[int, str]] = []
        self._next_id = 0

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> "EngineRunner":
        self._spawn()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._kill()
        self._dir.cleanup()

    def _spawn(self) -> None:
        cmd = [sys.executable, "-I", str(CHILD)]
        if self.trace:
            cmd = [shutil.which("strace"), "--seccomp-bpf", "-f", "-qq", "-A", "-o", str(self.trace_log),
                   "-e", f"trace={TRACED_CALLS}", "-e", "signal=none", *cmd]
        stderr = open(self._stderr_path, "wb")
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                      env=_child_env(), start_new_session=True, bufsize=0)
        stderr.close()
        for pipe in (self._proc.stdin, self._proc.stdout):
            try:
                fcntl.fcntl(pipe.fileno(), F_SETPIPE_SZ, 1 << 20)
            except OSError:
                pass
        self._buffer = b""
        self._eof = False
        setup = {"turtle": self.turtle, "prefixes": self.prefixes, "max_rows": self.max_rows,
                 "memory": self.memory, "stack": self.stack}
        self._proc.stdin.write((json.dumps(setup) + "\n").encode())
        line = self._readline(time.monotonic() + 60)
        if line is None:
            raise RuntimeError(f"the engine runner did not start: {self._stderr_tail()}")
        self.triples = json.loads(line)["ready"]
        self.starts += 1

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
        if self._writer is not None:  # its next write fails with EPIPE now the child is gone
            self._writer.join(timeout=5)
            self._writer = None
        for pipe in (proc.stdin, proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass

    def _stderr_tail(self) -> str:
        try:
            return self._stderr_path.read_bytes()[-300:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    # -- I/O -------------------------------------------------------------------------------
    def _readline(self, deadline: float) -> bytes | None:
        """One line from the child, or None at EOF / past the deadline (the caller tells apart)."""
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._eof = False
                return None
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                continue
            data = os.read(fd, 1 << 20)
            if not data:
                self._eof = True
                return None
            self._buffer += data
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _send(self, jobs: list[tuple[int, str]]) -> None:
        blob = b"".join((json.dumps({"i": i, "q": q}) + "\n").encode() for i, q in jobs)
        stdin = self._proc.stdin

        def write():
            try:
                view = memoryview(blob)
                while view:
                    n = stdin.write(view)
                    view = view[n:]
            except (OSError, ValueError):
                pass  # the child died or was killed; collect() finds out

        if self._writer is not None:
            self._writer.join()
        self._writer = threading.Thread(target=write, daemon=True)
        self._writer.start()

    # -- queries ---------------------------------------------------------------------------
    def submit(self, texts: list[str]) -> None:
        """Start a batch (returns at once; the child works while the caller does other things)."""
        if self._proc is None:
            self._spawn()
        self._pending = []
        for q in texts:
            self._pending.append((self._next_id, q))
            self._next_id += 1
        self._submitted = time.monotonic()
        self._send(self._pending)

    def collect(self) -> list[Outcome]:
        pending, out = self._pending, []
        last = self._submitted
        while len(out) < len(pending):
            i, _ = pending[len(out)]
            line = self._readline(last + self.timeout)
            if line is not None:
                msg = json.loads(line)
                assert msg["i"] == i, (msg, i)
                out.append(Outcome(msg["r"], msg["n"], msg["m"], max(0.0, msg["t"] - last)))
                last = msg["t"]
                continue
            if self._eof:
                code = self._proc.wait()
                name = signal.Signals(-code).name if code < 0 else f"exit {code}"
                note = f"{name}: {self._stderr_tail()}"
                self.crash_notes.append(note)
                out.append(Outcome("crash", message=note, seconds=time.monotonic() - last))
            else:
                out.append(Outcome("timeout", message=f"no answer in {self.timeout} s",
                                   seconds=time.monotonic() - last))
            self._kill()
            self._spawn()
            rest = pending[len(out):]
            last = time.monotonic()
            if rest:
                self._send(rest)
        self._pending = []
        return out

    def run(self, texts: list[str]) -> list[Outcome]:
        self.submit(texts)
        return self.collect()

    def network_events(self) -> list[str]:
        """Every traced connect/sendto/sendmsg of every child so far (empty without strace)."""
        if not self.trace:
            return []
        lines = self.trace_log.read_text(errors="replace").splitlines()
        return [ln for ln in lines if any(f" {call}(" in ln or ln.startswith(f"{call}(")
                                          for call in TRACED_CALLS.split(","))]
