"""The SPARQL 1.1 Protocol client: the endpoint backend, written for servers that misbehave.

An endpoint is someone else's server, so whatever it sends is treated as hostile:

* one deadline covers connecting, sending and every read: the socket's timeout is set to the time
  left before each one, so a server that drips a byte at a time still fails at `timeout`;
* redirects are followed only within the endpoint's own scheme, host and port, at most 3 times;
  a redirect anywhere else is an error (it would carry the query, and any password, elsewhere);
* the answer is capped in bytes ($PLM_MAP_MAX_RESULT_BYTES, 32 MiB), from Content-Length up front
  and while reading, and pyoxigraph's parsers read it as it arrives, in the format its Content-Type
  names, keeping at most `max_rows` rows: memory follows the rows kept, not the answer's size;
* a malformed answer, an HTTP error or a broken connection becomes one line (QueryFailed,
  QuerySyntaxError or QueryTimeout). The server's own words appear only as the cleaned, shortened
  first line of a 400 syntax error, and no message carries the URL's user name or password.

For user queries, the static check in kg/safety.py (Backend.query runs it, and only its canonical
text is sent) is the only barrier: no sandbox applies to a remote server, so what the check lets
through is what the endpoint runs.
"""

from __future__ import annotations

import base64
import http
import http.client
import io
import re
import socket
import ssl
import time
import traceback
import unicodedata
import urllib.parse
import urllib.request

import pyoxigraph as ox

from .backends import Backend, QuerySyntaxError, _in_original, _syntax_message
from .pool import MAX_RESULT_BYTES_ENV, default_max_result_bytes
from .results import AskResult, GraphResult, Result, SelectResult, Term
from .safety import CheckedQuery, check_query
from .vocab import prologue
from .worker import QueryFailed, QueryTimeout, ResultTooLarge, _term, size_text

MAX_REDIRECTS = 3
MESSAGE_CHARS = 200       # the most of an endpoint's own words a message repeats
ERROR_BODY_BYTES = 4096   # read of an error answer, enough for its first lines
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})

# What each query form asks for, and the answers it can read (media type -> format, name in messages).
# RDF/XML is not read: pyoxigraph 0.5.13 expands internal XML entities without limit (a 500-byte
# answer became a 1 GB literal, 3 GB RSS). CSV results lose the terms' kinds and types.
ACCEPT = {
    "results": "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
               "text/tab-separated-values;q=0.8",
    "graph": "application/n-triples, text/turtle;q=0.9",
}
_JSON = (ox.QueryResultsFormat.JSON, "SPARQL JSON results")
_XML = (ox.QueryResultsFormat.XML, "SPARQL XML results")
_NT = (ox.RdfFormat.N_TRIPLES, "N-Triples")
_TTL = (ox.RdfFormat.TURTLE, "Turtle")
READABLE = {
    "results": {"application/sparql-results+json": _JSON, "application/json": _JSON,
                "application/sparql-results+xml": _XML, "application/xml": _XML,
                "text/tab-separated-values": (ox.QueryResultsFormat.TSV, "SPARQL TSV results")},
    "graph": {"application/n-triples": _NT, "text/plain": _NT,
              "text/turtle": _TTL, "application/x-turtle": _TTL},
}
EXPECTED = {"results": "SPARQL results in JSON, XML or TSV", "graph": "RDF in N-Triples or Turtle"}

_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_SYNTAX_WORDS = re.compile(r"error at \d+:\d+|syntax|parse|lexical|encountered", re.IGNORECASE)
_POSITION = re.compile(r"line (\d+), column (\d+)", re.IGNORECASE)
_ERROR_AT = re.compile(r"error at (\d+):(\d+): ")
_TOKEN = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,40}(/[a-z0-9][a-z0-9!#$&^_.+-]{0,60})?")


def _one_line(text: str, limit: int = MESSAGE_CHARS) -> str:
    """`text` on one line, without ANSI escapes or control and bidi characters, at most `limit` long."""
    text = _ANSI.sub("", text)
    text = "".join(c if unicodedata.category(c) not in ("Cc", "Cf") else " " for c in text)
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return cut[: max(cut.rfind(", "), cut.rfind(" "), limit // 2)].rstrip(", ") + " …"


def _phrase(status: int) -> str:
    """The standard reason phrase (the server's own is not repeated)."""
    try:
        return f" ({http.HTTPStatus(status).phrase})"
    except ValueError:
        return ""


def _token(value: str) -> str:
    """A media type or coding as the server named it, if it is one; else a word for it (never its text)."""
    return value if _TOKEN.fullmatch(value) else "of an unknown type"


def _where(error: SyntaxError) -> str:
    if error.lineno is None:
        return ""
    return f" (line {error.lineno}" + (f", column {error.offset})" if error.offset else ")")


def _term_tuple(t) -> tuple:
    """A pyoxigraph term as (kind, value, datatype, lang), the embedded engine's own conversion."""
    return _term(t)


# ---------------------------------------------------------------------------------------------
# Transport: http.client over a socket whose every operation ends by one deadline
# ---------------------------------------------------------------------------------------------


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


class _SocketReader(io.RawIOBase):
    """What http.client reads the answer from: each receive gets only the time left."""

    def __init__(self, sock: "_DeadlineSocket"):
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._sock._release()


class _DeadlineSocket:
    """A connected socket (plain or TLS) whose send and every receive end by `deadline`.

    Like socket.makefile, the socket stays open while a reader made from it is: http.client closes
    its connection as soon as the answer is known to end at EOF, and keeps reading the response."""

    def __init__(self, sock: socket.socket, deadline: float):
        self._sock, self._deadline = sock, deadline
        self._readers, self._closed = 0, False

    def sendall(self, data) -> None:
        self._sock.settimeout(_remaining(self._deadline))
        self._sock.sendall(data)

    def recv_into(self, buffer, nbytes: int = 0) -> int:
        self._sock.settimeout(_remaining(self._deadline))
        return self._sock.recv_into(buffer, nbytes)

    def makefile(self, mode: str = "rb", *args, **kw):
        self._readers += 1
        return io.BufferedReader(_SocketReader(self))

    def _release(self) -> None:
        self._readers -= 1
        if self._closed and self._readers <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._readers <= 0:
            self._sock.close()

    def __getattr__(self, name):
        return getattr(self._sock, name)


class _Connection(http.client.HTTPConnection):
    """HTTP by one deadline; through an http proxy, requests name the whole URL (`absolute_form`)."""

    absolute_form = False
    proxy_headers: dict = {}

    def __init__(self, host: str, port: int, deadline: float):
        super().__init__(host, port, timeout=_remaining(deadline))
        self.deadline = deadline

    def connect(self) -> None:
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self.deadline)


class _TLSConnection(_Connection):
    """HTTPS whose handshake, too, gets only the time left (a proxy tunnel, if any, comes first)."""

    def __init__(self, host: str, port: int, deadline: float, server_hostname: str):
        super().__init__(host, port, deadline)
        self.server_hostname = server_hostname

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)  # TCP, and the CONNECT tunnel when set_tunnel was called
        self.sock.settimeout(_remaining(self.deadline))
        tls = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.server_hostname)
        self.sock = _DeadlineSocket(tls, self.deadline)


class _CappedBody(io.RawIOBase):
    """The answer's body as the parsers read it: refused once it passes `cap` bytes, and an error
    when it ends before the Content-Length it declared (http.client reports that as a plain end)."""

    def __init__(self, response: http.client.HTTPResponse, cap: int, declared: int | None):
        self._response, self._cap, self._declared, self.size = response, cap, declared, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._response.readinto(buffer)
        self.size += n
        if self.size > self._cap:
            raise ResultTooLarge(_too_big(self._cap))
        if n == 0 and self._declared is not None and self.size < self._declared:
            raise http.client.IncompleteRead(b"", self._declared - self.size)
        return n


def _too_big(cap: int) -> str:
    return (f"the endpoint's answer passed the {size_text(cap)} byte cap; add a LIMIT "
            f"(the cap is {MAX_RESULT_BYTES_ENV})")


def _basic(user: str | None, password: str | None) -> str:
    pair = f"{urllib.parse.unquote(user or '')}:{urllib.parse.unquote(password or '')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _origin(url: urllib.parse.SplitResult) -> tuple:
    return url.scheme, (url.hostname or "").lower(), url.port or (443 if url.scheme == "https" else 80)


def _without_userinfo(url: urllib.parse.SplitResult) -> urllib.parse.SplitResult:
    host = url.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return url._replace(netloc=host + (f":{url.port}" if url.port else ""))


# ---------------------------------------------------------------------------------------------
# The backend
# ---------------------------------------------------------------------------------------------


class EndpointBackend(Backend):
    """Any SPARQL 1.1 Protocol endpoint (Oxigraph server, Fuseki, Virtuoso, QLever, GraphDB ...).

    A user name and password in the URL (`http://user:pass@host/sparql`) are sent as HTTP Basic
    authentication and never shown. Outside loopback, the environment's http(s)_proxy is used.
    `max_result_bytes` (default $PLM_MAP_MAX_RESULT_BYTES or 32 MiB, the embedded pool's setting)
    caps each answer."""

    name = "endpoint"

    def __init__(self, url: str, *, max_result_bytes: int | None = None, **kw):
        super().__init__(**kw)
        self.max_result_bytes = default_max_result_bytes() if max_result_bytes is None else max_result_bytes
        try:
            parsed = urllib.parse.urlsplit(url)
            parsed.port  # noqa: B018  (raises ValueError on a port that is not a number)
        except ValueError:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
            shown = _one_line(re.sub(r"^([^/]*//)?[^/]*@", r"\1", str(url)), 100)  # no user name, password
            raise ValueError(f"Not an http(s) SPARQL endpoint URL: {shown!r}")
        self.url = url
        self._target = _without_userinfo(parsed)._replace(fragment="")
        self._auth = _basic(parsed.username, parsed.password) if parsed.username is not None else None
        self.where = self._target._replace(query="").geturl()  # for messages: no password, no query

    # -- running ---------------------------------------------------------------------------------

    def _submit(self, checked: CheckedQuery, timeout, max_rows, session):
        """A checked user query: its canonical text goes out after the prologue. (`session` does not
        apply: the endpoint's own server shares out its capacity.)"""
        head = prologue()
        return self._exchange(head + checked.text, checked.form, timeout, max_rows, head.count("\n"), checked)

    def _run(self, text, form, timeout, max_rows):
        return self._submit(CheckedQuery(text=text, form=form), timeout, max_rows, None)

    def _run_trusted(self, text):
        form = check_query(text).form  # the library's queries are plain reads; this finds the form
        return self._exchange(text, form, max(self.timeout, 60.0), 10**9, 0, CheckedQuery(text=text, form=form))

    def _exchange(self, text: str, form: str, timeout: float, max_rows: int, line_offset: int,
                  checked: CheckedQuery) -> Result:
        """Send the query, follow same-origin redirects, read and parse the answer: all by one deadline."""
        t0 = time.perf_counter()
        deadline = time.monotonic() + timeout
        kind = "results" if form in ("SELECT", "ASK") else "graph"
        url = self._target
        try:
            for _ in range(MAX_REDIRECTS + 1):
                conn = self._connect(url, deadline)
                try:
                    response = self._send(conn, url, text, kind)
                    if response.status in REDIRECTS:
                        url = self._redirect(url, response)
                        continue
                    if not 200 <= response.status < 300:
                        raise self._http_error(response, line_offset, checked)
                    return self._parse(response, kind, max_rows, url, t0)
                finally:
                    conn.close()
            raise QueryFailed(f"the endpoint redirected more than {MAX_REDIRECTS} times")
        except TimeoutError:
            raise QueryTimeout(f"the endpoint did not answer within {timeout:g} s") from None
        except http.client.IncompleteRead:
            raise QueryFailed("the endpoint's answer broke off before its end") from None
        except http.client.HTTPException as e:
            raise QueryFailed(f"the endpoint's answer is not valid HTTP ({type(e).__name__})") from None
        except OSError as e:
            raise QueryFailed(f"the connection to the endpoint {self.where} failed: "
                              f"{_one_line(e.strerror or str(e) or type(e).__name__)}") from None

    def _connect(self, url: urllib.parse.SplitResult, deadline: float) -> http.client.HTTPConnection:
        port = _origin(url)[2]
        proxy = None if url.hostname in LOOPBACK else _proxy_for(url)
        if proxy is None:
            conn = (_TLSConnection(url.hostname, port, deadline, url.hostname) if url.scheme == "https"
                    else _Connection(url.hostname, port, deadline))
        elif url.scheme == "https":
            conn = _TLSConnection(proxy.hostname, proxy.port or 80, deadline, url.hostname)
            conn.set_tunnel(url.hostname, port, headers=_proxy_auth(proxy))
        else:
            conn = _Connection(proxy.hostname, proxy.port or 80, deadline)
            conn.absolute_form, conn.proxy_headers = True, _proxy_auth(proxy)
        try:
            conn.connect()
        except OSError as e:
            if isinstance(e, TimeoutError):
                raise
            raise QueryFailed(f"cannot reach the endpoint {self.where}: "
                              f"{_one_line(e.strerror or str(e) or type(e).__name__)}") from None
        return conn

    def _send(self, conn, url: urllib.parse.SplitResult, text: str, kind: str) -> http.client.HTTPResponse:
        headers = {"Accept": ACCEPT[kind], "Accept-Encoding": "identity",
                   "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "plm-map/1.0"}
        if self._auth:
            headers["Authorization"] = self._auth
        headers.update(conn.proxy_headers)
        path = urllib.parse.urlunsplit(("", "", url.path or "/", url.query, ""))
        body = urllib.parse.urlencode({"query": text}).encode()
        try:
            conn.request("POST", url.geturl() if conn.absolute_form else path, body=body, headers=headers)
        except ValueError:  # http.client.InvalidURL: control characters or spaces in a redirect's path
            raise QueryFailed(f"the endpoint's address {_origin_text(url)}/… is not a valid request path") from None
        return conn.getresponse()

    def _redirect(self, url: urllib.parse.SplitResult, response) -> urllib.parse.SplitResult:
        """The same-origin target of a redirect (the query is sent again to it, by POST: it is a read)."""
        status, location = response.status, response.getheader("Location")
        if not location:
            raise QueryFailed(f"the endpoint answered HTTP {status}{_phrase(status)} without a Location")
        try:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(url.geturl(), location.strip()))
            same = _origin(target) == _origin(url)
        except ValueError:
            same = False
        if not same:
            raise QueryFailed(
                f"the endpoint answered HTTP {status}{_phrase(status)}, a redirect to another scheme, host "
                f"or port; redirects are followed only within {_origin_text(url)} (give the final address "
                "as the endpoint URL)"
            )
        return _without_userinfo(target)._replace(fragment="")

    def _http_error(self, response, line_offset: int, checked: CheckedQuery) -> Exception:
        """An error answer, summarised: the status, and for a 400 syntax error its position in the
        user's own text (past the prologue, and back through the check's canonical rewrite)."""
        status = response.status
        failed = QueryFailed(f"the endpoint answered HTTP {status}{_phrase(status)}")
        if status != 400:
            return failed
        media = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        body = response.read(ERROR_BODY_BYTES).decode("utf-8", "replace")
        if media in ("text/html", "application/xhtml+xml") or body.lstrip().startswith("<"):
            return failed
        first = next((line for line in body.splitlines() if line.strip()), "")
        if not _SYNTAX_WORDS.search(body):
            return failed
        first = _one_line(first)
        if m := _ERROR_AT.match(first):  # Oxigraph: "error at 2:16: expected one of ..."
            line, column, rest = int(m[1]), int(m[2]), first[m.end():]
        elif m := _POSITION.search(body):  # Fuseki, GraphDB: "... at line 2, column 15."
            line, column, rest = int(m[1]), int(m[2]), ""
        else:
            return QuerySyntaxError(_syntax_message(first))
        raw, original = _in_original(f"error at {line - line_offset}:{column}: {rest}", checked)
        return QuerySyntaxError(_syntax_message(raw, text=original))

    def _parse(self, response, kind: str, max_rows: int, url: urllib.parse.SplitResult, t0: float) -> Result:
        """Parse the answer as it streams in, in the format its Content-Type names (relative IRIs in
        Turtle resolve against the address that answered)."""
        encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
        if encoding != "identity":
            raise QueryFailed(f"the endpoint's answer is compressed ({_token(encoding)}), "
                              "which was not asked for")
        header = response.getheader("Content-Type")
        media = (header or "").split(";")[0].strip().lower()
        if header is None:
            fmt, label = next(iter(READABLE[kind].values()))  # no type given: try what was asked first
        elif media in READABLE[kind]:
            fmt, label = READABLE[kind][media]
        else:
            raise QueryFailed(f"the endpoint's answer is {_token(media)}, not {EXPECTED[kind]}")
        cap, length = self.max_result_bytes, (response.getheader("Content-Length") or "").strip()
        declared = int(length) if length.isdigit() and not response.chunked else None
        if declared is not None and declared > cap:
            raise ResultTooLarge(_too_big(cap))
        body = _CappedBody(response, cap, declared)
        try:
            if kind == "results":
                return _solutions(ox.parse_query_results(body, fmt), max_rows, t0)
            return _triples(ox.parse(body, format=fmt, base_iri=url.geturl()), max_rows, t0)
        except BaseException as e:
            # A pyoxigraph parser may only be dropped by the thread that made it (else it leaks, with
            # a warning): drop it now, not when the garbage collector reaches this traceback.
            traceback.clear_frames(e.__traceback__)
            if not isinstance(e, (SyntaxError, ValueError)):
                raise
            where = _where(e) if isinstance(e, SyntaxError) else ""
            raise QueryFailed(f"the endpoint's answer is not valid {label}{where}") from None


def _solutions(parsed, max_rows: int, t0: float) -> SelectResult | AskResult:
    if isinstance(parsed, ox.QueryBoolean):
        return AskResult(bool(parsed), elapsed=time.perf_counter() - t0)
    names = [v.value for v in parsed.variables]
    rows, truncated = [], False
    for solution in parsed:
        if len(rows) == max_rows:
            truncated = True
            break
        rows.append(tuple(None if (t := solution[i]) is None else Term(*_term_tuple(t))
                          for i in range(len(names))))
    return SelectResult(names, rows, truncated, time.perf_counter() - t0)


def _triples(parsed, max_rows: int, t0: float) -> GraphResult:
    triples, truncated = [], False
    for t in parsed:
        if len(triples) == max_rows:
            truncated = True
            break
        triples.append(tuple(Term(*_term_tuple(x)) for x in (t.subject, t.predicate, t.object)))
    return GraphResult(triples, truncated, time.perf_counter() - t0)


def _origin_text(url: urllib.parse.SplitResult) -> str:
    return f"{url.scheme}://{_without_userinfo(url).netloc}"


def _proxy_for(url: urllib.parse.SplitResult) -> urllib.parse.SplitResult | None:
    """The environment's proxy for this URL ($http_proxy, $https_proxy, $no_proxy), or None."""
    proxy = urllib.request.getproxies().get(url.scheme)
    if not proxy or urllib.request.proxy_bypass(url.hostname):
        return None
    parsed = urllib.parse.urlsplit(proxy if "//" in proxy else "http://" + proxy)
    return parsed if parsed.hostname else None


def _proxy_auth(proxy: urllib.parse.SplitResult | None) -> dict:
    if proxy is None or proxy.username is None:
        return {}
    return {"Proxy-Authorization": _basic(proxy.username, proxy.password)}
