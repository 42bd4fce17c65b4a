"""Shared fixtures: one embedded backend per session, and a local HTTP server that records requests."""

from __future__ import annotations

import http.server
import threading

import pytest

from kg import open_backend


@pytest.fixture(scope="session")
def kg():
    """The survey graph through the embedded engine (the default backend)."""
    backend = open_backend(endpoint=None)
    yield backend
    backend.close()


class _Recorder(http.server.BaseHTTPRequestHandler):
    def _record(self):
        self.server.requests.append((self.command, self.path))
        body = b'{"head":{"vars":["s"]},"results":{"bindings":[]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _record

    def log_message(self, *args):
        pass


@pytest.fixture
def logserver():
    """A server on 127.0.0.1 that answers every request and remembers it (`.requests`, `.url`)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# Tests that bound how long something takes (a page within a second, a demo within its budget, a
# worker restarted in time, a demo's verdict on speed), by file or by test: test.sh runs them on their own, after the rest, so that no other test
# shares the two cores with them.
TIMING = {
    "tests/app/test_bounded_pages.py", "tests/app/test_demo_runs.py", "tests/app/test_large_graph.py",
    "tests/app/test_config.py", "tests/mechanisms/test_budget.py", "tests/test_endpoint.py",
    "tests/test_endpoint_edges.py", "tests/test_hostile_inputs.py", "tests/test_query_safety.py",
    "tests/test_worker_pool.py",
    # demos whose verdict rests on wall-clock speed
    "tests/mechanisms/test_xlnet.py::test_cached_evaluation_is_faster_and_the_gain_grows_with_context",
    "tests/mechanisms/test_attention.py::test_dot_product_is_as_costly_in_theory_but_faster_in_practice",
}


def pytest_collection_modifyitems(items):
    """Under pytest-xdist (test.sh runs two workers), the browser tests share one worker, in order:
    two explorer servers and two Chromiums at once on two cores would time each other out. The tests
    of TIMING are marked `timing` (test.sh runs them alone, serially)."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
        if item.nodeid.split("::")[0] in TIMING or item.nodeid.split("[")[0] in TIMING:
            item.add_marker(pytest.mark.timing)