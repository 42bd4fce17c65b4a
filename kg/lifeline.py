"""How a worker process (a query worker, a demo worker) lives and dies with the process that started it.

Linux's PR_SET_PDEATHSIG kills a child when the *thread* that forked it exits, not the process, and
Streamlit runs each session's script in a thread of its own: a worker forked there would die with
that session's thread. So every worker is forked by one long-lived `Spawner` thread, asks for the
signal itself (`die_with_parent`), and runs a thread that polls `os.getppid()` for what the signal
misses (`watch_parent`; the query worker's watchdog in kg/sandbox.py also watches its deadline).
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from queue import SimpleQueue

PR_SET_PDEATHSIG = 1


class SpawnerClosed(RuntimeError):
    """The spawner was closed; no more workers are started."""


class Spawner:
    """One thread that forks every worker asked of it (`popen`), and lives until `close`."""

    def __init__(self, name: str):
        self._jobs: SimpleQueue = SimpleQueue()
        self._closed = False
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def _loop(self) -> None:
        while (job := self._jobs.get()) is not None:
            args, kwargs, future = job
            try:
                future.set_result(subprocess.Popen(*args, **kwargs))
            except BaseException as e:  # noqa: BLE001 - handed to the thread that asked
                future.set_exception(e)

    def popen(self, *args, **kwargs) -> subprocess.Popen:
        """`subprocess.Popen(*args, **kwargs)`, run on the spawner's thread."""
        if self._closed:
            raise SpawnerClosed("no more workers are started")
        future: Future = Future()
        self._jobs.put((args, kwargs, future))
        return future.result()

    def close(self) -> None:
        self._closed = True
        self._jobs.put(None)


def die_with_parent(parent: int) -> None:
    """In the worker: ask the kernel for SIGKILL when the parent's spawning thread ends, and exit
    at once if the parent is already gone. (A change of credentials, such as entering a user
    namespace, clears the setting: call it after.)"""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def watch_parent(parent: int, every: float) -> threading.Thread:
    """In the worker: a thread that ends the process within `every` seconds of its parent's end."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    thread = threading.Thread(target=watch, name="parent-watchdog", daemon=True)
    thread.start()
    return thread
