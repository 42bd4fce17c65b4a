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


def pytest_collection_modifyitems(items):
    """Under pytest-xdist (test.sh runs two workers), the browser tests share one worker, in order:
    two explorer servers and two Chromiums at once on two cores would time each other out."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
