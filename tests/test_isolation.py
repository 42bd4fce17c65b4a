"""The query worker proves its network sandbox before it serves a query, and fails closed without it.

The SERVICE queries here go straight to the worker pool, past the static check (kg/safety.py),
so what stops them is the operating system: a network namespace, the seccomp filter, or both.
User namespaces are switched off the way the security review did it, inside a user namespace of
the test's own: `echo 0 > /proc/sys/user/max_user_namespaces`, after which `unshare -U` fails
with ENOSPC; the network namespace is then out of reach and the filter has to hold alone.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kg import EmbeddedBackend
from kg.sandbox import BREAK_SECCOMP_ENV, UNSAFE_ENV, ProofListeners, verdict

ROOT = Path(__file__).resolve().parent.parent

SERVICE_VARIANTS = {
    "plain": "SELECT * WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "silent": "SELECT * WHERE { SERVICE SILENT <{url}/sparql> { ?s ?p ?o } }",
    "variable via BIND": "SELECT * WHERE { BIND(<{url}/sparql> AS ?u) SERVICE ?u { ?s ?p ?o } }",
    "in OPTIONAL": "SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE <{url}/sparql> { ?s ?p ?o } } } LIMIT 2",
    "ASK": "ASK { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "CONSTRUCT": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } }",
}
# (pyoxigraph's HTTP client cannot reach http://[::1] even unsandboxed, so IPv6 is checked by the
# worker's own proof attempt and by the filter test below, not by a SERVICE query.)

# Runs inside the restricted environment: start a pool, send each query straight to it, report.
PROGRAM = r"""
import json, sys
from kg import EmbeddedBackend
backend = EmbeddedBackend([sys.argv[1]], workers=1)
out = {"results": {}}
try:
    out["isolation"] = list(backend.pool.start().isolation)
except Exception as e:
    out["start"] = [type(e).__name__, str(e)]
for name, query in json.loads(sys.argv[2]).items():
    try:
        result = backend.pool.run(query, timeout=10, max_rows=10)
        out["results"][name] = ["ran", len(getattr(result, "rows", []))]
    except Exception as e:
        out["results"][name] = [type(e).__name__, str(e)]
out["warning"] = backend.sandbox_warning
backend.close()
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def graph(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("graphs") / "tiny.nt"
    path.write_text("".join(f"<http://x/s{i}> <http://x/p> \"{i}\" .\n" for i in range(5)))
    return path


def queries(server) -> dict[str, str]:
    return {name: q.replace("{url}", server.url) for name, q in SERVICE_VARIANTS.items()}


def without_user_namespaces(graph: Path, qs: dict, **env) -> dict:
    """PROGRAM's report, run where unshare(CLONE_NEWUSER) fails (ENOSPC)."""
    if shutil.which("unshare") is None:
        pytest.skip("util-linux unshare is not installed")
    probe = subprocess.run(["unshare", "-U", "-r", "sh", "-c",
                            "echo 0 > /proc/sys/user/max_user_namespaces && ! unshare -U true 2>/dev/null"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("this machine cannot make a user namespace with user namespaces switched off inside")
    cmd = ["unshare", "-U", "-r", "sh", "-c", 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" "$@"',
           sys.executable, "-c", PROGRAM, str(graph), json.dumps(qs)]
    full_env = {k: v for k, v in os.environ.items() if k not in (UNSAFE_ENV, BREAK_SECCOMP_ENV)}
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**full_env, **env}, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


# ---------------------------------------------------------------------------------------------


def test_the_worker_proves_a_network_namespace_and_a_seccomp_filter(graph, logserver):
    backend = EmbeddedBackend([graph], workers=1)
    assert backend.pool.start().isolation == ("netns", "seccomp")
    for query in queries(logserver).values():
        try:
            backend.pool.run(query, timeout=10, max_rows=10)
        except Exception:  # noqa: BLE001 - the engine reports the missing network; the log is what counts
            pass
    assert logserver.requests == []
    assert backend.sandbox_warning is None
    backend.close()


def test_without_user_namespaces_the_worker_comes_up_with_seccomp_only_and_makes_no_request(graph, logserver):
    report = without_user_namespaces(graph, queries(logserver))
    assert report["isolation"] == ["seccomp"], report
    assert set(report["results"]) == set(SERVICE_VARIANTS)
    assert logserver.requests == []
    assert report["warning"] is None


def test_without_namespaces_or_seccomp_user_queries_are_refused_with_a_clear_message(graph, logserver):
    qs = {"small": "SELECT * WHERE { ?s ?p ?o }", **queries(logserver)}
    report = without_user_namespaces(graph, qs, **{BREAK_SECCOMP_ENV: "1"})
    for name, (kind, message) in report["results"].items():
        assert kind == "SandboxUnavailable", (name, message)
        assert message.startswith("User queries are refused: the query sandbox could not be proven "
                                  "(neither a network namespace nor a seccomp filter could be set up")
        assert "unshare failed: ENOSPC" in message and f"{UNSAFE_ENV}=1" in message
    assert logserver.requests == []
    assert report["warning"] is None


def test_the_unsafe_opt_out_runs_queries_and_says_so(graph, logserver):
    report = without_user_namespaces(graph, {"small": "SELECT * WHERE { ?s ?p ?o }"},
                                     **{BREAK_SECCOMP_ENV: "1", UNSAFE_ENV: "1"})
    assert report["isolation"] == []
    assert report["results"]["small"] == ["ran", 5]
    assert report["warning"].startswith("UNSAFE: user SPARQL queries run without a network sandbox")
    assert f"{UNSAFE_ENV}=1 is set" in report["warning"]


def test_the_opt_out_is_announced_even_where_the_sandbox_holds(graph, monkeypatch):
    monkeypatch.setenv(UNSAFE_ENV, "1")
    backend = EmbeddedBackend([graph], workers=1)
    assert backend.pool.start().isolation == ("netns", "seccomp")
    assert backend.sandbox_warning == (f"{UNSAFE_ENV}=1 is set: where the query sandbox cannot be set up, "
                                       "user SPARQL queries run without it instead of being refused.")
    backend.close()


def test_control_without_any_sandbox_the_same_service_query_does_reach_the_server(graph, logserver):
    """The 0 requests above are the sandbox's doing: with it gone, the very same query gets out."""
    report = without_user_namespaces(graph, {"plain": queries(logserver)["plain"]},
                                     **{BREAK_SECCOMP_ENV: "1", UNSAFE_ENV: "1"})
    assert report["results"]["plain"][0] in ("ran", "QueryFailed")
    assert len(logserver.requests) >= 1


FILTER_CHECK = r"""
import ctypes, errno, json, os, socket, sys
from kg.sandbox import install_seccomp_filter
assert install_seccomp_filter() is None
out = {}
for name, family, kind in (("inet", socket.AF_INET, socket.SOCK_STREAM),
                           ("inet6", socket.AF_INET6, socket.SOCK_STREAM),
                           ("netlink", socket.AF_NETLINK, socket.SOCK_RAW),
                           ("packet", socket.AF_PACKET, socket.SOCK_RAW)):
    try:
        socket.socket(family, kind)
        out[name] = 0
    except OSError as e:
        out[name] = e.errno
a, b = socket.socketpair(socket.AF_UNIX)
out["unix"] = 0
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
out["io_uring_setup"] = ctypes.get_errno() if libc.syscall(425, 8, params) < 0 else 0
try:
    os.execv("/bin/true", ["true"])
except OSError as e:
    out["execve"] = e.errno
print(json.dumps(out))
"""


def test_the_seccomp_filter_denies_internet_sockets_io_uring_and_exec_but_not_unix_sockets():
    out = subprocess.run([sys.executable, "-c", FILTER_CHECK], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got == {"inet": errno.EACCES, "inet6": errno.EACCES, "netlink": errno.EACCES, "packet": errno.EACCES,
                   "unix": 0, "io_uring_setup": errno.EPERM, "execve": errno.EPERM}


TARGETS = [["inet", "127.0.0.1", 1234], ["inet6", "::1", 1234]]


@pytest.mark.parametrize("probes, accepted, reason", [
    ([{"family": f, "host": h, "port": p, "stage": "socket", "errno": errno.EACCES} for f, h, p in TARGETS], 0, None),
    ([{"family": "inet", "host": "127.0.0.1", "port": 1234, "stage": "connect", "errno": errno.ENETUNREACH},
      {"family": "inet6", "host": "::1", "port": 1234, "stage": "connect", "errno": errno.EADDRNOTAVAIL}], 0, None),
    ([{"family": f, "host": h, "port": p, "stage": "connected", "errno": 0} for f, h, p in TARGETS], 0,
     "the worker could reach the network: a connection to 127.0.0.1 port 1234 gave it connected"),
    ([{"family": "inet", "host": "127.0.0.1", "port": 1234, "stage": "connect", "errno": errno.ECONNREFUSED},
      {"family": "inet6", "host": "::1", "port": 1234, "stage": "socket", "errno": errno.EACCES}], 0,
     "the worker could reach the network: a connection to 127.0.0.1 port 1234 gave ECONNREFUSED"),
    ([{"family": "inet", "host": "127.0.0.1", "port": 1234, "stage": "socket", "errno": errno.EACCES}], 0,
     "the worker did not try to reach ::1 over inet6"),
    ([{"family": f, "host": h, "port": p, "stage": "socket", "errno": errno.EACCES} for f, h, p in TARGETS], 1,
     "the parent's proof listener accepted 1 connection(s) from the worker"),
])
def test_the_proof_accepts_only_attempts_that_found_no_network(probes, accepted, reason):
    assert verdict(("seccomp",), {}, probes, TARGETS, accepted) == reason


def test_without_anything_to_prove_against_nothing_is_proven():
    assert verdict(("netns", "seccomp"), {}, [], [], 0) == "there was nothing to prove it against"


def test_the_proof_listeners_count_every_connection_that_gets_through():
    with ProofListeners() as proof:
        assert proof.accepted() == 0
        for family, host, port in proof.targets:
            s = socket.socket(socket.AF_INET if family == "inet" else socket.AF_INET6)
            s.connect((host, port))
            s.close()
        assert proof.accepted() == 2
