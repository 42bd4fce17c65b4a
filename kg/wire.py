"""What crosses the pipe between a query worker and its parent: length-prefixed JSON frames.

The worker is the process that runs hostile input, so nothing it sends may be able to run code in
the parent: no pickle (unpickling calls whatever the bytes name), only JSON, read under a size cap
and checked field by field (`select_result`, `graph_result`, `term`) before any `kg.results`
object is built. Whatever does not match becomes a `WireError`, which the pool turns into a clean
`QueryFailed` and a killed worker.

A frame is a 4-byte big-endian length, then that many bytes of UTF-8 JSON (one object).
"""

from __future__ import annotations

import json
import socket
import struct
import time

from .results import AskResult, GraphResult, SelectResult, Term

HEADER = struct.Struct(">I")
MAX_REQUEST_BYTES = 1 << 20        # a frame the worker accepts: a query (<= 20k characters) and its limits
FRAME_OVERHEAD = 64 << 10          # a result frame's envelope beyond the byte cap on its rows
MAX_MESSAGE_CHARS = 4_000          # an error message from the worker
TERM_KINDS = ("uri", "bnode", "literal")


class WireError(Exception):
    """A frame that is too large, cut short or not the JSON the protocol expects."""


def encode(message: dict) -> bytes:
    """One message as compact UTF-8 JSON (the body of a frame)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


class Channel:
    """Frames over a connected stream socket; `recv` never reads more than `max_frame` bytes."""

    def __init__(self, sock: socket.socket, *, max_frame: int):
        self.sock = sock
        self.max_frame = max_frame

    def send(self, message: dict) -> None:
        self.send_body(encode(message))

    def send_body(self, body: bytes) -> None:
        self.sock.settimeout(None)
        self.sock.sendall(HEADER.pack(len(body)) + body)

    def recv(self, deadline: float | None = None) -> dict:
        """The next message; `deadline` is a time.monotonic() value.

        Raises:
            TimeoutError: nothing complete arrived by the deadline.
            EOFError: the other side closed the connection (or it was reset).
            WireError: the frame is larger than max_frame, or not a JSON object.
        """
        (length,) = HEADER.unpack(self._read(HEADER.size, deadline))
        if length > self.max_frame:
            raise WireError(f"a frame of {length:,} bytes (the most accepted is {self.max_frame:,})")
        body = self._read(length, deadline)
        try:
            message = json.loads(body)
        except (UnicodeDecodeError, ValueError) as e:
            raise WireError(f"a frame that is not JSON ({e})") from None
        if not isinstance(message, dict) or not isinstance(message.get("t"), str):
            raise WireError("a frame that is not a message object")
        return message

    def _read(self, n: int, deadline: float | None) -> bytearray:
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            if deadline is None:
                self.sock.settimeout(None)
            else:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                self.sock.settimeout(left)
            try:
                k = self.sock.recv_into(view[got:], n - got)
            except (socket.timeout, TimeoutError):
                raise TimeoutError from None
            except (ConnectionResetError, BrokenPipeError):
                raise EOFError from None
            if k == 0:
                raise EOFError
            got += k
        return buf

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# The parent's checks: every answer is validated before it becomes a kg.results object
# ---------------------------------------------------------------------------------------------


def _fail(what: str) -> None:
    raise WireError(what)


def term(value) -> Term | None:
    """A Term from its wire form: null, ["uri", v], ["bnode", v] or ["literal", v, datatype, lang]."""
    if value is None:
        return None
    if type(value) is list:
        n = len(value)
        if n == 2 and (value[0] == "uri" or value[0] == "bnode") and type(value[1]) is str:
            return Term(value[0], value[1])
        if n == 4 and value[0] == "literal":
            _, text, datatype, lang = value
            if type(text) is str and (datatype is None or type(datatype) is str) \
                    and (lang is None or type(lang) is str):
                return Term("literal", text, datatype, lang)
            _fail("a literal whose parts are not text")
    if not isinstance(value, list) or not value or value[0] not in TERM_KINDS:
        _fail(f"a term that is not one of {', '.join(TERM_KINDS)}")
    if value[0] == "literal":
        _fail("a literal without value, datatype and language")
    _fail(f"a {value[0]} whose value is not text")


def _flag(message: dict, key: str) -> bool:
    value = message.get(key)
    if not isinstance(value, bool):
        _fail(f"{key} is not true or false")
    return value


def _rows(message: dict, key: str, max_rows: int) -> list:
    rows = message.get(key)
    if not isinstance(rows, list):
        _fail(f"{key} is not a list")
    if len(rows) > max_rows:
        _fail(f"{len(rows):,} {key} where at most {max_rows:,} were asked for")
    return rows


def select_result(message: dict, *, max_rows: int, elapsed: float) -> SelectResult:
    names = message.get("vars")
    if not isinstance(names, list) or not all(isinstance(n, str) and 0 < len(n) <= 1000 for n in names):
        _fail("variable names that are not text")
    if len(set(names)) != len(names):
        _fail("a variable named twice")
    rows = []
    for row in _rows(message, "rows", max_rows):
        if not isinstance(row, list) or len(row) != len(names):
            _fail(f"a row that does not have {len(names)} values")
        rows.append(tuple(term(t) for t in row))
    return SelectResult(names, rows, _flag(message, "truncated"), elapsed)


def graph_result(message: dict, *, max_rows: int, elapsed: float) -> GraphResult:
    triples = []
    for triple in _rows(message, "triples", max_rows):
        if not isinstance(triple, list) or len(triple) != 3:
            _fail("a triple that does not have 3 terms")
        s, p, o = (term(t) for t in triple)
        if s is None or p is None or o is None:
            _fail("a triple with a missing term")
        triples.append((s, p, o))
    return GraphResult(triples, _flag(message, "truncated"), elapsed)


def ask_result(message: dict, *, elapsed: float) -> AskResult:
    return AskResult(_flag(message, "value"), elapsed=elapsed)


def text_field(message: dict, key: str = "message") -> str:
    """A worker's error text: a string, cut to MAX_MESSAGE_CHARS (it is shown to the user, escaped)."""
    value = message.get(key)
    if not isinstance(value, str):
        _fail(f"{key} is not text")
    return value[:MAX_MESSAGE_CHARS]


def int_field(message: dict, key: str, *, low: int = 0, high: int = 1 << 62) -> int:
    value = message.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        _fail(f"{key} is not a whole number from {low} to {high}")
    return value
