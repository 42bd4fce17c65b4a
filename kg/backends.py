"""One query interface, two backends: the embedded engine (default) and a SPARQL 1.1 endpoint.

    backend = open_backend()                      # embedded Oxigraph over data/*.ttl
    backend = open_backend("http://host/sparql")  # any SPARQL 1.1 endpoint (also $PLM_MAP_ENDPOINT)
    result = backend.query("SELECT ...")          # user text: checked, sandboxed, time-limited, capped

`query()` is for untrusted text: kg/safety.py checks it, and the embedded backend runs it in the
sandboxed worker (kg/worker.py). The library's own fixed queries use `query(..., trusted=True)`,
which skips the worker (the embedded backend answers them from its in-process store) and caches
the answer, since the graph never changes while loaded.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .results import AskResult, GraphResult, Result, SelectResult, Term
from .safety import QueryRefused, check_query
from .store import default_sources, load_store
from .vocab import PREFIXES, prologue
from .worker import QueryFailed, QueryTimeout, QueryWorker, _execute, _to_result

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
ENDPOINT_ENV = "PLM_MAP_ENDPOINT"

__all__ = [
    "Backend", "EmbeddedBackend", "EndpointBackend", "open_backend", "QueryError", "QueryRefused",
    "QueryTimeout", "QueryFailed", "QuerySyntaxError",
]


class QuerySyntaxError(ValueError):
    """The query does not parse; the message names line and column."""


QueryError = (QueryRefused, QuerySyntaxError, QueryTimeout, QueryFailed)


def _syntax_message(raw: str, line_offset: int = 0, text: str | None = None) -> str:
    """Oxigraph says `error at 3:11: expected one of ABS, AVG, ..., [_]`; say it in words, drop the
    parser's character classes, and show the line with a caret under the column."""
    if not raw.startswith("error at "):
        return f"Syntax error: {raw}"
    where, _, rest = raw[len("error at "):].partition(": ")
    line_s, _, col_s = where.partition(":")
    if not (line_s.isdigit() and col_s.isdigit()):
        return f"Syntax error: {raw}"
    line, col = int(line_s) - line_offset, int(col_s)
    expected = rest.removeprefix("expected one of ").removeprefix("expected ")
    items = [i.strip() for i in expected.replace("\n", " ").split(", ")]
    words = [i for i in items if i and not i.startswith(("[", "'", "|")) and "..=" not in i]
    hint = f"expected {', '.join(words)}" if words else "unexpected text here"
    message = f"Syntax error at line {line}, column {col}: {hint}"
    if text is not None:
        lines = text.splitlines()
        if 1 <= line <= len(lines):
            message += f"\n  {lines[line - 1]}\n  {' ' * max(col - 1, 0)}^"
    return message


class Backend:
    """What every backend offers; subclasses implement `_run` and `_run_trusted`."""

    name = "backend"

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_rows: int = DEFAULT_MAX_ROWS):
        self.timeout = timeout
        self.max_rows = max_rows
        self._cache: dict[str, Result] = {}
        self._memo: dict[str, object] = {}
        self._cache_lock = threading.Lock()

    def query(self, text: str, *, trusted: bool = False, timeout: float | None = None,
              max_rows: int | None = None) -> Result:
        """Run a read-only query and return its result.

        Raises:
            QueryRefused: update operations, SERVICE, FROM, oversized text (nothing was run).
            QuerySyntaxError: the query does not parse (the message names line and column).
            QueryTimeout: the query ran past `timeout` seconds and was stopped.
            QueryFailed: the engine could not finish (memory limit, endpoint error).
        """
        timeout = self.timeout if timeout is None else timeout
        max_rows = self.max_rows if max_rows is None else max_rows
        if trusted:
            with self._cache_lock:
                hit = self._cache.get(text)
            if hit is None:
                hit = self._run_trusted(text)
                with self._cache_lock:
                    self._cache[text] = hit
            return hit
        checked = check_query(text)
        return self._run(checked.text, checked.form, timeout, max_rows)

    def memo(self, key: str, build):
        """Compute something derived from the graph once per backend (the graph never changes)."""
        with self._cache_lock:
            if key in self._memo:
                return self._memo[key]
        value = build()
        with self._cache_lock:
            self._memo.setdefault(key, value)
        return self._memo[key]

    def select(self, text: str) -> SelectResult:
        """A trusted SELECT of the library's own; the prologue with the project's prefixes is added."""
        result = self.query(prologue() + text, trusted=True)
        assert isinstance(result, SelectResult)
        return result

    def triples(self) -> list[tuple[Term, Term, Term]]:
        """Every triple of the default graph (for export and validation)."""
        result = self.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", trusted=True)
        return result.triples

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # subclasses
    def _run(self, text: str, form: str, timeout: float, max_rows: int) -> Result:
        raise NotImplementedError

    def _run_trusted(self, text: str) -> Result:
        raise NotImplementedError


class EmbeddedBackend(Backend):
    """Oxigraph in this process for the library's queries; a sandboxed worker for user queries."""

    name = "embedded"

    def __init__(self, sources: list[Path] | None = None, **kw):
        super().__init__(**kw)
        self.sources = [Path(s) for s in (sources or default_sources())]
        t0 = time.perf_counter()
        self.store = load_store(self.sources)
        self.load_seconds = time.perf_counter() - t0
        self._worker = QueryWorker(self.sources, prefixes=PREFIXES)

    @property
    def worker(self) -> QueryWorker:
        return self._worker

    def __len__(self) -> int:
        return len(self.store)

    def _run(self, text, form, timeout, max_rows):
        try:
            return self._worker.run(text, timeout=timeout, max_rows=max_rows)
        except SyntaxError as e:
            raise QuerySyntaxError(_syntax_message(str(e), text=text)) from None

    def _run_trusted(self, text):
        t0 = time.perf_counter()
        payload = _execute(self.store, text, 10**9, PREFIXES)
        return _to_result(payload, time.perf_counter() - t0)

    def close(self):
        self._worker.close()


class EndpointBackend(Backend):
    """Any SPARQL 1.1 Protocol endpoint (Oxigraph server, Fuseki, Virtuoso, QLever, GraphDB ...)."""

    name = "endpoint"
    MAX_RESPONSE_BYTES = 64 << 20

    def __init__(self, url: str, **kw):
        super().__init__(**kw)
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"Not an http(s) SPARQL endpoint URL: {url!r}")
        self.url = url
        self._last_text: str | None = None
        loopback = parsed.hostname in ("127.0.0.1", "localhost", "::1")
        handlers = [urllib.request.ProxyHandler({})] if loopback else []
        self._opener = urllib.request.build_opener(*handlers)

    def _request(self, text: str, form: str, timeout: float, line_offset: int = 0) -> tuple[bytes, str]:
        accept = (
            "application/sparql-results+json" if form in ("SELECT", "ASK") else "application/n-triples"
        )
        data = urllib.parse.urlencode({"query": text}).encode()
        req = urllib.request.Request(
            self.url, data=data, method="POST",
            headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded",
                     "User-Agent": "plm-map/1.0"},
        )
        deadline = time.monotonic() + timeout
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                chunks, size = [], 0
                while chunk := resp.read(1 << 16):
                    size += len(chunk)
                    if size > self.MAX_RESPONSE_BYTES:
                        raise QueryFailed("the endpoint's answer is larger than 64 MiB; add a LIMIT")
                    if time.monotonic() > deadline:
                        raise QueryTimeout(f"the endpoint did not answer within {timeout:g} s")
                    chunks.append(chunk)
                return b"".join(chunks), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            body = e.read(2000).decode("utf-8", "replace").strip()
            if e.code == 400 and ("error at" in body or "yntax" in body or "Parse" in body):
                raise QuerySyntaxError(
                    _syntax_message(body.splitlines()[0] if body else str(e), line_offset, self._last_text)
                ) from None
            raise QueryFailed(f"the endpoint answered HTTP {e.code}: {body[:300]}") from None
        except TimeoutError:
            raise QueryTimeout(f"the endpoint did not answer within {timeout:g} s") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError):
                raise QueryTimeout(f"the endpoint did not answer within {timeout:g} s") from None
            raise QueryFailed(f"cannot reach the endpoint {self.url}: {e.reason}") from None

    def _parse(self, body: bytes, form: str, max_rows: int, elapsed: float) -> Result:
        if form in ("SELECT", "ASK"):
            doc = json.loads(body)
            if "boolean" in doc:
                return AskResult(bool(doc["boolean"]), elapsed=elapsed)
            names = doc["head"].get("vars", [])
            bindings = doc["results"]["bindings"]
            rows = [
                tuple(Term.from_json(b[v]) if v in b else None for v in names) for b in bindings[:max_rows]
            ]
            return SelectResult(names, rows, len(bindings) > max_rows, elapsed)
        import pyoxigraph as ox

        triples = []
        for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
            if len(triples) == max_rows:
                return GraphResult(triples, True, elapsed)
            triples.append(tuple(Term(*_term_tuple(x)) for x in (t.subject, t.predicate, t.object)))
        return GraphResult(triples, False, elapsed)

    def _run(self, text, form, timeout, max_rows):
        t0 = time.perf_counter()
        head = prologue()
        self._last_text = text
        body, _ = self._request(head + text, form, timeout, line_offset=head.count("\n"))
        return self._parse(body, form, max_rows, time.perf_counter() - t0)

    def _run_trusted(self, text):
        form = check_query(text).form  # the library's queries are plain reads; this finds the form
        t0 = time.perf_counter()
        body, _ = self._request(text, form, max(self.timeout, 60.0))
        return self._parse(body, form, 10**9, time.perf_counter() - t0)


def _term_tuple(t) -> tuple:
    from .worker import _term

    return _term(t)


def open_backend(endpoint: str | None = None, **kw) -> Backend:
    """The endpoint backend when a URL is given (or set in $PLM_MAP_ENDPOINT), else the embedded one."""
    endpoint = endpoint or os.environ.get(ENDPOINT_ENV)
    if endpoint:
        return EndpointBackend(endpoint, **kw)
    return EmbeddedBackend(**kw)
