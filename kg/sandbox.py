"""The query worker's sandbox, and the proof that it holds before a user query is served.

pyoxigraph runs `SERVICE <http://...>` itself, in Rust: Python audit hooks never see its sockets,
so only the operating system can stop it. The worker therefore takes two OS walls, each enough
on its own:

* its own **network namespace** (`unshare(CLONE_NEWUSER | CLONE_NEWNET)`), where not even the
  loopback interface is up;
* a **seccomp filter** (libseccomp through `pyseccomp`): `socket`/`socketpair` for any family but
  AF_UNIX fail with EACCES, `io_uring_setup` with EPERM (io_uring opens sockets past seccomp),
  `execve`/`execveat` with EPERM.

Where user namespaces are switched off the namespace fails, and the filter alone holds. Then the
worker **proves** it: it tries to connect, over IPv4 and IPv6, to TCP listeners its parent opened
on 127.0.0.1 and ::1 (`ProofListeners`); every attempt must fail with an errno that means "no
network here", and the parent checks that its listeners accepted nothing (`verdict`). A worker
without a proven sandbox is killed, and user queries are refused, unless the operator opts out
with PLM_MAP_UNSAFE_NO_SANDBOX=1.

The rest keeps a worker from outliving its purpose: PR_SET_PDEATHSIG plus a watchdog thread that
polls getppid() and the query's deadline (the worker dies with its parent, and a worker whose
parent is stuck still stops), a per-query RLIMIT_CPU as the kernel's backstop to that thread, and
an audit hook for Python-level sockets, URLs and processes.
"""

from __future__ import annotations

import ctypes
import errno
import math
import os
import resource
import socket
import sys
import threading
import time

UNSAFE_ENV = "PLM_MAP_UNSAFE_NO_SANDBOX"
# Test-only: makes the seccomp setup fail, as on a machine without libseccomp (tests/test_isolation.py).
# It can only take protection away where UNSAFE_ENV is also set; otherwise queries are refused.
BREAK_SECCOMP_ENV = "PLM_MAP_TEST_BREAK_SECCOMP"

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
CPU_MARGIN = 2.0          # seconds of CPU a query may use beyond its time limit before RLIMIT_CPU stops it
WALL_MARGIN = 3.0         # seconds past the deadline after which the watchdog ends the worker itself
WATCHDOG_PERIOD = 0.2     # seconds between the watchdog's looks at its parent

# errno values that show a connection could not even be tried: the filter (EACCES, EPERM) or an
# empty network namespace (ENETUNREACH for IPv4, EADDRNOTAVAIL for IPv6). ECONNREFUSED is not among
# them: it means the network is there.
BLOCKED_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.ENETUNREACH, errno.EHOSTUNREACH,
                            errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT})

_FAMILIES = {"inet": socket.AF_INET, "inet6": socket.AF_INET6}

# ---------------------------------------------------------------------------------------------
# In the worker
# ---------------------------------------------------------------------------------------------


def enter_network_namespace() -> str | None:
    """Move this process, while it is still single-threaded, into new user and network namespaces.

    Returns None on success, else why it failed. Our own uid and gid are mapped into the new
    namespace, so file permissions stay what they were.
    """
    if not sys.platform.startswith("linux"):
        return f"not Linux ({sys.platform})"
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        return f"unshare failed: {errno.errorcode.get(code, code)} ({os.strerror(code)})"
    try:
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    except OSError:
        pass  # the namespaces hold either way; only the uid shown inside differs
    return None


def install_seccomp_filter() -> str | None:
    """Deny internet sockets, io_uring and exec to this process and every thread it has or starts.

    Returns None on success, else why it failed.
    """
    if os.environ.get(BREAK_SECCOMP_ENV) == "1":
        return f"seccomp made unavailable for a test ({BREAK_SECCOMP_ENV}=1)"
    try:
        import pyseccomp as sc

        f = sc.SyscallFilter(sc.ALLOW)
        f.set_attr(sc.Attr.CTL_TSYNC, 1)  # also the threads that already exist
        for name in ("socket", "socketpair"):
            f.add_rule(sc.ERRNO(errno.EACCES), name, sc.Arg(0, sc.NE, socket.AF_UNIX))
        for name in ("io_uring_setup", "execve", "execveat"):
            f.add_rule(sc.ERRNO(errno.EPERM), name)
        f.load()
    except Exception as e:  # no libseccomp, a kernel without seccomp, an unknown syscall name
        return f"{type(e).__name__}: {e}"
    return None


class Watchdog:
    """A thread that ends the worker when its parent is gone or a query overstays its deadline.

    PR_SET_PDEATHSIG fires when the parent *thread* that spawned us exits, which the pool keeps
    alive; this covers the rest (a reparented worker, a parent that is stuck and will never kill
    it). pyoxigraph releases the GIL while it evaluates (measured with 0.5.13: this thread kept its
    0.2 s beat through a 4-pattern COUNT), so it keeps watching during a query; the per-query
    RLIMIT_CPU is the kernel's backstop should it ever not get to run.
    """

    def __init__(self, parent: int):
        self.parent = parent
        self.deadline: float | None = None   # time.monotonic() past which the running query must end
        threading.Thread(target=self._watch, name="watchdog", daemon=True).start()

    def _watch(self) -> None:
        while True:
            time.sleep(WATCHDOG_PERIOD)
            if os.getppid() != self.parent:
                os._exit(0)
            deadline = self.deadline
            if deadline is not None and time.monotonic() > deadline + WALL_MARGIN:
                os._exit(3)


def limit_cpu(seconds: float) -> None:
    """Let the next query use at most `seconds` (plus CPU_MARGIN) of CPU: RLIMIT_CPU counts the
    process's whole life, so the soft limit moves up with each query; SIGXCPU ends the worker."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = usage.ru_utime + usage.ru_stime
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(used + seconds + CPU_MARGIN)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def probe_network(targets: list) -> list[dict]:
    """Try to connect to each (family, host, port); record how far each attempt got."""
    out = []
    for family, host, port in targets:
        record = {"family": family, "host": host, "port": port}
        try:
            s = socket.socket(_FAMILIES[family], socket.SOCK_STREAM)
        except OSError as e:
            out.append({**record, "stage": "socket", "errno": e.errno or 0})
            continue
        try:
            s.settimeout(2.0)
            s.connect((host, port))
            out.append({**record, "stage": "connected", "errno": 0})
        except OSError as e:  # socket.timeout included: errno None, recorded as 0 (not blocked)
            out.append({**record, "stage": "connect", "errno": e.errno or 0})
        finally:
            s.close()
    return out


_BLOCKED_EVENTS = frozenset({
    "socket.connect", "socket.getaddrinfo", "socket.bind", "socket.sendto", "urllib.Request",
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "ctypes.dlopen",
})


def _audit(event: str, args) -> None:
    if event in _BLOCKED_EVENTS:
        raise PermissionError(f"{event} is not allowed in the query worker")


def install_audit_hook() -> None:
    """Refuse Python-level sockets, URL opening, processes and new native libraries from now on."""
    sys.addaudithook(_audit)


# ---------------------------------------------------------------------------------------------
# In the parent
# ---------------------------------------------------------------------------------------------


class ProofListeners:
    """TCP listeners on 127.0.0.1 and ::1 that a sandboxed worker must fail to reach.

    Used as a context manager around one worker's start; `targets` go to the worker, and
    `accepted()` counts the connections that got through (it must be 0).
    """

    def __init__(self):
        self._socks: list[socket.socket] = []
        self.targets: list[list] = []
        self.error: str | None = None   # why no listener could be opened (then nothing is proven)

    def __enter__(self) -> "ProofListeners":
        try:
            v4 = socket.create_server(("127.0.0.1", 0))
        except OSError as e:
            self.error = f"no listener could be opened on 127.0.0.1: {e}"
            return self
        self._socks.append(v4)
        self.targets.append(["inet", "127.0.0.1", v4.getsockname()[1]])
        try:
            v6 = socket.create_server(("::1", 0), family=socket.AF_INET6)
            self._socks.append(v6)
            port6 = v6.getsockname()[1]
        except OSError:  # no IPv6 on loopback: the worker still tries, and must fail without reaching it
            port6 = v4.getsockname()[1]
        self.targets.append(["inet6", "::1", port6])
        for s in self._socks:
            s.setblocking(False)
        return self

    def accepted(self) -> int:
        n = 0
        for s in self._socks:
            while True:
                try:
                    conn, _ = s.accept()
                except (BlockingIOError, InterruptedError):
                    break
                conn.close()
                n += 1
        return n

    def __exit__(self, *exc) -> None:
        for s in self._socks:
            s.close()


def verdict(isolation: tuple[str, ...], failures: dict, probes: list, targets: list,
            accepted: int) -> str | None:
    """None when the worker's sandbox is proven; else, in words, why it is not."""
    if not targets:
        return "there was nothing to prove it against"
    if not isolation:
        why = "; ".join(f"{k}: {v}" for k, v in sorted(failures.items())) or "no reason given"
        return f"neither a network namespace nor a seccomp filter could be set up ({why})"
    if accepted:
        return f"the parent's proof listener accepted {accepted} connection(s) from the worker"
    seen = {(p.get("family"), p.get("host"), p.get("port")): p for p in probes if isinstance(p, dict)}
    for family, host, port in targets:
        p = seen.get((family, host, port))
        if p is None:
            return f"the worker did not try to reach {host} over {family}"
        code = p.get("errno")
        if p.get("stage") not in ("socket", "connect") or code not in BLOCKED_ERRNOS:
            what = errno.errorcode.get(code, code) if code else "it connected"
            return f"the worker could reach the network: a connection to {host} port {port} gave {what}"
    return None
