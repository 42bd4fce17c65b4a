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

import os
import re
import threading
import time
from pathlib import Path
from typing import Hashable

from .results import Result, SelectResult, Term
from .safety import CheckedQuery, QueryRefused, check_query
from .store import default_sources, load_store
from .vocab import PREFIXES, prologue
from .pool import WorkerPool
from .worker import QueryBusy, QueryFailed, QueryTimeout, ResultTooLarge, SandboxUnavailable, _execute

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ROWS = 10_000
ENDPOINT_ENV = "PLM_MAP_ENDPOINT"

__all__ = [
    "Backend", "EmbeddedBackend", "EndpointBackend", "open_backend", "QueryError", "QueryRefused",
    "QueryTimeout", "QueryFailed", "QuerySyntaxError", "QueryBusy", "SandboxUnavailable", "ResultTooLarge",
]


class QuerySyntaxError(ValueError):
    """The query does not parse; the message names line and column."""


# QueryBusy, SandboxUnavailable and ResultTooLarge are QueryFailed too; named so callers see them.
QueryError = (QueryRefused, QuerySyntaxError, QueryTimeout, QueryBusy, SandboxUnavailable, ResultTooLarge,
              QueryFailed)


# What Oxigraph's expected tokens mean, in words (its list names the first characters of tokens, and a
# sample of the function names when an expression may start; neither helps a reader as it stands)
_TOKEN_WORDS = {'"?"': "a variable", '"$"': "a variable", '"<"': "an IRI", '":"': "a prefixed name",
                '"\\""': "a string", '"\'"': "a string", '"\'\'\'"': "a string", '"\\"\\"\\""': "a string",
                '"+"': "a number", '"-"': "a number", '"true"': "true or false", '"false"': "true or false",
                '"_:"': "a blank node", '"["': "a blank node"}
_SKIPPED = ('"<<"', '"<<("', '"{|"', '"~"', '"|"', "[_]")   # RDF-star's and the parser's own
_FUNCTIONS = frozenset("ABS AVG BNODE BOUND CEIL COALESCE CONCAT CONTAINS COUNT DATATYPE DAY ENCODE_FOR_URI FLOOR "
                       "GROUP_CONCAT HOURS IF IRI LANG LANGMATCHES LCASE MAX MD5 MIN MINUTES MONTH NOW PREDICATE "
                       "RAND REGEX REPLACE ROUND SAMETERM SAMPLE SECONDS SHA1 SHA256 SHA384 SHA512 STR STRAFTER "
                       "STRBEFORE STRDT STRENDS STRLANG STRLANGDIR STRLEN STRSTARTS STRUUID SUBSTR SUM TIMEZONE TZ "
                       "UCASE URI UUID YEAR hasLangDir isBLANK isIRI isLITERAL isNUMERIC isTRIPLE isURI OBJECT "
                       "SUBJECT TRIPLE LANGDIR".split())


def _expected_words(rest: str) -> list[str]:
    expected = rest.removeprefix("expected one of ").removeprefix("expected ")
    items = [i.strip() for i in expected.replace("\n", " ").split(", ")]
    out: list[str] = []

    def add(word: str) -> None:
        if word not in out:
            out.append(word)
    for item in items:
        if not item or item in _SKIPPED or item.startswith("|") or item.startswith("'"):
            continue
        if item.startswith("["):   # a character class: digits are numbers, letters start prefixed names
            if "'0'..='9'" in item.replace(" ", ""):
                add("a number")
            elif "'A'..='Z'" in item.replace(" ", ""):
                add("a prefixed name")
            continue
        if "..=" in item:
            continue
        if item in _TOKEN_WORDS:
            add(_TOKEN_WORDS[item])
        elif item in _FUNCTIONS:   # Oxigraph lists a sample of them where an expression may start
            add("an expression (a variable, a value or a function call)")
        else:
            add(f"“{item.strip(chr(34))}”" if item.startswith('"') else item)
    kinds = [w for w in out if w.startswith("a")]   # what may come first: a variable, an IRI, ...
    return kinds + [w for w in out if w not in kinds]


def _found(text: str | None, line: int, col: int) -> str:
    """What stands at line:col of the user's text, as the message names it."""
    lines = (text or "").splitlines()
    if text is None or not 1 <= line <= len(lines):
        return ""
    rest = lines[line - 1][max(col - 1, 0):] + "\n" + "\n".join(lines[line:])
    piece = rest.lstrip()[:24].split()
    return f"found “{piece[0]}”" if piece else ""   # (Oxigraph often stops at the end: it says its farthest point)


def _syntax_message(raw: str, line_offset: int = 0, text: str | None = None) -> str:
    """Oxigraph says `error at 3:11: expected one of ABS, AVG, ..., [_]`; say it in plain words (what was
    found, what would be valid there, in short), and show the line with a caret under the column."""
    if not raw.startswith("error at "):
        return f"Syntax error: {raw}"
    where, _, rest = raw[len("error at "):].partition(": ")
    line_s, _, col_s = where.partition(":")
    if not (line_s.isdigit() and col_s.isdigit()):
        return f"Syntax error: {raw}"
    line, col = int(line_s) - line_offset, int(col_s)
    words = _expected_words(rest)
    shown = ", ".join(words[:6]) + (f", or {len(words) - 6} more" if len(words) > 6 else "")
    parts = [p for p in (_found(text, line, col), f"valid here: {shown}" if words else "") if p]
    message = f"Syntax error at line {line}, column {col}: " + ("; ".join(parts) or "unexpected text here")
    if text is not None:
        lines = text.splitlines()
        if 1 <= line <= len(lines):
            message += f"\n  {lines[line - 1]}\n  {' ' * max(col - 1, 0)}^"
    return message


class Backend:
    """What every backend offers; subclasses implement `_run` and `_run_trusted`."""

    name = "backend"
    # A sentence every page and command shows while user queries may run without their sandbox
    # (PLM_MAP_UNSAFE_NO_SANDBOX=1); None when they cannot.
    sandbox_warning: str | None = None

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, max_rows: int = DEFAULT_MAX_ROWS):
        self.timeout = timeout
        self.max_rows = max_rows
        self._cache: dict[str, Result] = {}
        self._memo: dict[str, object] = {}
        self._cache_lock = threading.Lock()

    def query(self, text: str, *, trusted: bool = False, timeout: float | None = None,
              max_rows: int | None = None, session: Hashable | None = None) -> Result:
        """Run a read-only query and return its result.

        Args:
            session: who asks (a Streamlit session id, say): a session has at most one user query
                in flight; a second one meanwhile is refused with QueryBusy. None: no such rule.

        Raises:
            QueryRefused: update operations, SERVICE, FROM, oversized text (nothing was run).
            QuerySyntaxError: the query does not parse (the message names line and column).
            QueryTimeout: the query ran past `timeout` seconds and was stopped.
            QueryBusy: this session has a query running, or every query worker stayed busy.
            SandboxUnavailable: the query sandbox could not be proven, so nothing was run.
            ResultTooLarge: the result passed the byte cap (PLM_MAP_MAX_RESULT_BYTES).
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
        return self._submit(checked, timeout, max_rows, session)

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
    def _submit(self, checked: CheckedQuery, timeout: float, max_rows: int, session) -> Result:
        """A checked user query from `session`; backends without sessions just run it."""
        return self._run(checked.text, checked.form, timeout, max_rows)

    def _run(self, text: str, form: str, timeout: float, max_rows: int) -> Result:
        raise NotImplementedError

    def _run_trusted(self, text: str) -> Result:
        raise NotImplementedError


def _in_original(raw: str, checked: CheckedQuery) -> tuple[str, str]:
    """The engine's `error at L:C: ...` for the text it ran, moved to the place in the user's own
    text (the check hands the engine a canonical rewrite), and that text."""
    original = checked.original or checked.text  # a CheckedQuery built around text the library wrote
    m = re.match(r"error at (\d+):(\d+): ", raw)
    if m is None:
        return raw, original
    line, column = checked.position(int(m[1]), int(m[2]))
    return f"error at {line}:{column}: {raw[m.end():]}", original


class EmbeddedBackend(Backend):
    """Oxigraph in this process for the library's queries; a pool of sandboxed workers for user
    queries (kg/pool.py): `workers` of them (PLM_MAP_QUERY_WORKERS), each result at most
    `max_result_bytes` (PLM_MAP_MAX_RESULT_BYTES)."""

    name = "embedded"

    def __init__(self, sources: list[Path] | None = None, *, workers: int | None = None,
                 max_result_bytes: int | None = None, **kw):
        super().__init__(**kw)
        self.sources = [Path(s) for s in (sources or default_sources())]
        t0 = time.perf_counter()
        self.store = load_store(self.sources)
        self.load_seconds = time.perf_counter() - t0
        self.pool = WorkerPool(self.sources, prefixes=PREFIXES, size=workers, max_result_bytes=max_result_bytes)

    @property
    def sandbox_warning(self) -> str | None:
        return self.pool.sandbox_warning

    def __len__(self) -> int:
        return len(self.store)

    def _submit(self, checked, timeout, max_rows, session):
        try:
            return self.pool.run(checked.text, timeout=timeout, max_rows=max_rows, session=session)
        except SyntaxError as e:
            raw, original = _in_original(str(e), checked)
            raise QuerySyntaxError(_syntax_message(raw, text=original)) from None

    def _run_trusted(self, text):
        return _execute(self.store, text, 10**9, PREFIXES)

    def close(self):
        self.pool.close()


from .endpoint import EndpointBackend  # noqa: E402  (it builds on Backend above)


def open_backend(endpoint: str | None = None, **kw) -> Backend:
    """The endpoint backend when a URL is given (or set in $PLM_MAP_ENDPOINT), else the embedded one."""
    endpoint = endpoint or os.environ.get(ENDPOINT_ENV)
    if endpoint:
        return EndpointBackend(endpoint, **kw)
    return EmbeddedBackend(**kw)
