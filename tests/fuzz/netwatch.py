"""A loopback server that counts every connection and logs every HTTP request made to it.

A raw TCP accept counter is stronger than an HTTP log: a malformed or half-sent request is still
a connection. Each connection is answered with an empty SPARQL JSON result, so an engine that
reaches it carries on as it would against a real endpoint.
"""

from __future__ import annotations

import socket
import threading

_BODY = b'{"head":{"vars":["s"]},"results":{"bindings":[]}}'
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(_BODY)
) + _BODY


class LoopbackLogServer:
    """`.url`, `.connections` (accepted TCP connections), `.requests` (HTTP request lines)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fuzz-logserver", daemon=True)

    def __enter__(self) -> "LoopbackLogServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        try:  # wake the accept() up
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self._thread.join(timeout=5)
        self._sock.close()

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.connections, len(self.requests)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            if self._stop.is_set():
                conn.close()
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(2)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            line = data.split(b"\r\n", 1)[0].decode("latin-1")
            with self._lock:
                self.requests.append(line or "<no request line>")
            conn.sendall(_RESPONSE)
        except OSError:
            with self._lock:
                self.requests.append("<connection without a complete request>")
        finally:
            conn.close()
