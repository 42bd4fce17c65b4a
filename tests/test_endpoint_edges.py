"""The endpoint client against servers that misbehave: slow, redirecting, huge, malformed, failing.

Each test scripts a local server on 127.0.0.1 (or a socket that never answers) and checks that the
client ends with one clear line (QueryTimeout, QueryFailed, QuerySyntaxError) within its limits,
and never repeats the server's page or the password in the endpoint's URL.
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg import EndpointBackend, QueryFailed, QuerySyntaxError, QueryTimeout, open_backend
from kg.pool import MAX_RESULT_BYTES_ENV
from kg.safety import check_query
from kg.vocab import prologue

ROOT = Path(__file__).resolve().parent.parent
JSON = "application/sparql-results+json"
ROW = '{"s":{"type":"uri","value":"http://example.org/a"}}'
ONE_ROW = ('{"head":{"vars":["s"]},"results":{"bindings":[' + ROW + ']}}').encode()
SELECT = "SELECT ?s WHERE { ?s ?p ?o }"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
SECRET_URL_PARTS = ("alice", "s3cret")


@dataclass
class Seen:
    """One request as the server received it."""

    path: str
    headers: dict
    form: dict


class _Scripted(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(Seen(self.path, dict(self.headers), urllib.parse.parse_qs(data.decode())))
        try:
            self.server.script(self)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST

    def log_message(self, *args):
        pass


def _serve(server):
    server.seen = []
    server.script = reply(ONE_ROW)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture
def fake():
    """A server on 127.0.0.1 that answers with `fake.script(handler)`; `.seen` lists the requests."""
    server = _serve(http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted))
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    server.endpoint = lambda **kw: EndpointBackend(server.url + "/sparql", **kw)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def silent():
    """A port that accepts connections (the kernel does) and never says a word."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield s.getsockname()[1]


def reply(body: bytes | str, content_type: str | None = JSON, status: int = 200, headers=(),
          length: bool = True, reason: str | None = None):
    """A script that answers once with this status, headers and body."""
    body = body.encode() if isinstance(body, str) else body

    def script(h):
        h.send_response(status, reason)
        if content_type:
            h.send_header("Content-Type", content_type)
        for name, value in headers:
            h.send_header(name, value)
        if length:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    return script


def bindings(n: int) -> bytes:
    rows = ",".join('{"s":{"type":"uri","value":"http://example.org/node-%08d"}}' % i for i in range(n))
    return ('{"head":{"vars":["s"]},"results":{"bindings":[' + rows + ']}}').encode()


def one_line_failure(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and "Traceback" not in message
    return message


# ---------------------------------------------------------------------------------------------
# One deadline for connect, send and every read
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("part, interval", [("headers", 0.5), ("body", 0.5), ("body", 2.0)])
def test_a_server_dripping_its_answer_times_out_within_the_limit_plus_one_second(fake, part, interval):
    head = f"HTTP/1.0 200 OK\r\nContent-Type: {JSON}\r\n\r\n".encode()

    def drip(h):
        if part == "body":
            h.wfile.write(head)
        for byte in (head if part == "headers" else b"") + ONE_ROW * 100:
            h.wfile.write(bytes([byte]))
            time.sleep(interval)
    fake.script = drip
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout, match="did not answer within 3 s"):
        fake.endpoint().query(SELECT, timeout=3)
    assert time.monotonic() - t0 < 4


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_server_that_accepts_and_never_answers_times_out_within_the_limit(silent, scheme):
    """Over https this is the TLS handshake waiting: it, too, gets only the time left."""
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout):
        EndpointBackend(f"{scheme}://127.0.0.1:{silent}/sparql").query(SELECT, timeout=1.5)
    assert time.monotonic() - t0 < 2.5


# ---------------------------------------------------------------------------------------------
# Redirects
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["another host", "another port", "another scheme", "scheme-relative"])
def test_a_redirect_off_the_endpoint_is_refused_without_naming_it(fake, logserver, where):
    port = fake.server_address[1]
    location = {
        "another host": "http://alice:s3cret@evil.example/steal?q=1",
        "another port": logserver.url + "/steal",
        "another scheme": f"https://127.0.0.1:{port}/steal",
        "scheme-relative": "//evil.example/steal",
    }[where]
    fake.script = reply("", status=302, headers=[("Location", location)])
    with pytest.raises(QueryFailed, match="redirect to another scheme, host or port") as excinfo:
        EndpointBackend(f"http://alice:s3cret@127.0.0.1:{port}/sparql").query(SELECT)
    message = one_line_failure(excinfo)
    assert not any(s in message for s in ("evil", "steal", *SECRET_URL_PARTS))
    assert logserver.requests == [] and len(fake.seen) == 1


def test_same_origin_redirects_are_followed_up_to_three_times(fake):
    def moved(h):
        if h.path == "/sparql":
            reply("", status=308, headers=[("Location", "/sparql/")])(h)
        else:
            reply(ONE_ROW)(h)
    fake.script = moved
    assert fake.endpoint().query(SELECT).rows[0][0].value == "http://example.org/a"
    assert [s.path for s in fake.seen] == ["/sparql", "/sparql/"]
    assert fake.seen[0].form == fake.seen[1].form

    fake.seen.clear()
    fake.script = lambda h: reply("", status=302, headers=[("Location", h.path + "x")])(h)
    with pytest.raises(QueryFailed, match="redirected more than 3 times"):
        fake.endpoint().query(SELECT)
    assert len(fake.seen) == 4


# ---------------------------------------------------------------------------------------------
# The byte cap, before parsing
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, cap", [(None, 32 << 20), ("", 32 << 20), ("1048576", 1 << 20)])
def test_the_byte_cap_is_the_embedded_pools_setting_with_a_32_mib_default(monkeypatch, value, cap):
    if value is None:
        monkeypatch.delenv(MAX_RESULT_BYTES_ENV, raising=False)
    else:
        monkeypatch.setenv(MAX_RESULT_BYTES_ENV, value)
    assert EndpointBackend("http://127.0.0.1:1/sparql").max_result_bytes == cap
    assert EndpointBackend("http://127.0.0.1:1/sparql", max_result_bytes=4096).max_result_bytes == 4096


@pytest.mark.parametrize("value", ["lots", "0", "-1"])
def test_a_bad_byte_cap_setting_is_an_error_when_the_backend_opens(monkeypatch, value):
    monkeypatch.setenv(MAX_RESULT_BYTES_ENV, value)
    with pytest.raises(ValueError, match=MAX_RESULT_BYTES_ENV):
        open_backend("http://127.0.0.1:1/sparql")


def test_an_answer_declaring_more_than_the_byte_cap_is_refused_before_reading_it(fake, monkeypatch):
    monkeypatch.delenv(MAX_RESULT_BYTES_ENV, raising=False)

    def huge(h):
        h.send_response(200)
        h.send_header("Content-Type", JSON)
        h.send_header("Content-Length", str(10**9))
        h.end_headers()
        time.sleep(5)  # the body never comes: only the header can have refused it
    fake.script = huge
    t0 = time.monotonic()
    with pytest.raises(QueryFailed, match=r"^the endpoint's answer passed the 32 MiB byte cap; add a LIMIT"):
        fake.endpoint().query(SELECT, timeout=10)
    assert time.monotonic() - t0 < 2


def chunked(body: bytes, size: int = 4096):
    """A script that sends `body` in chunks, with no Content-Length."""
    def script(h):
        h.send_response(200)
        h.send_header("Content-Type", JSON)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for i in range(0, len(body), size):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]))
        h.wfile.write(b"0\r\n\r\n")
    return script


@pytest.mark.parametrize("framing", ["chunked", "until-close"])
def test_an_answer_growing_past_the_byte_cap_is_cut_off_while_reading(fake, monkeypatch, framing):
    monkeypatch.setenv(MAX_RESULT_BYTES_ENV, str(64 << 10))
    body = bindings(5_000)
    fake.script = chunked(body) if framing == "chunked" else reply(body, length=False)
    with pytest.raises(QueryFailed, match="passed the 64 KiB byte cap; add a LIMIT"):
        fake.endpoint().query(SELECT, max_rows=10**6)
    fake.script = chunked(bindings(100)) if framing == "chunked" else reply(bindings(100), length=False)
    assert len(fake.endpoint().query(SELECT).rows) == 100


def test_the_row_cap_stops_reading_a_long_answer_early(fake, monkeypatch):
    monkeypatch.setenv(MAX_RESULT_BYTES_ENV, str(64 << 20))
    fake.script = reply(bindings(400_000), length=False)
    t0 = time.monotonic()
    result = fake.endpoint().query(SELECT, max_rows=25)
    assert len(result.rows) == 25 and result.truncated
    assert time.monotonic() - t0 < 2


# ---------------------------------------------------------------------------------------------
# Formats chosen by Content-Type
# ---------------------------------------------------------------------------------------------

XML_RESULTS = ('<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
               '<variable name="s"/></head><results><result><binding name="s"><uri>http://example.org/a</uri>'
               '</binding></result></results></sparql>')
TRIPLE = "<http://example.org/a> <http://example.org/p> \"x\"@en .\n"
TURTLE = "@prefix ex: <http://example.org/> .\nex:a ex:p \"x\"@en .\n"


@pytest.mark.parametrize("content_type, body", [
    (JSON, ONE_ROW), (JSON + "; charset=utf-8", ONE_ROW), ("application/sparql-results+xml", XML_RESULTS),
    ("text/tab-separated-values", "?s\n<http://example.org/a>\n"), (None, ONE_ROW),
])
def test_select_answers_are_read_in_the_format_their_content_type_names(fake, content_type, body):
    fake.script = reply(body, content_type)
    result = fake.endpoint().query(SELECT)
    assert result.variables == ["s"] and [r[0].value for r in result.rows] == ["http://example.org/a"]


@pytest.mark.parametrize("content_type, body", [
    ("application/n-triples", TRIPLE), ("text/plain", TRIPLE), ("text/turtle", TURTLE),
    ("text/turtle; charset=utf-8", TURTLE),
])
def test_construct_answers_are_read_in_the_format_their_content_type_names(fake, content_type, body):
    fake.script = reply(body, content_type)
    graph = fake.endpoint().query(CONSTRUCT)
    assert [tuple(t.n3() for t in tr) for tr in graph.triples] == [
        ("<http://example.org/a>", "<http://example.org/p>", '"x"@en')]


def test_an_empty_construct_answer_is_an_empty_graph(fake):
    fake.script = reply("", "application/n-triples")
    graph = fake.endpoint().query(CONSTRUCT)
    assert graph.triples == [] and not graph.truncated


def test_the_client_asks_only_for_formats_it_parses(fake):
    fake.script = reply(ONE_ROW)
    fake.endpoint().query(SELECT)
    fake.script = reply(TRIPLE, "application/n-triples")
    fake.endpoint().query(CONSTRUCT)
    select, construct = (s.headers for s in fake.seen)
    assert select["Accept"].split(",")[0] == JSON and "csv" not in select["Accept"]
    assert construct["Accept"].split(",")[0] == "application/n-triples" and "rdf+xml" not in construct["Accept"]
    assert select["Accept-Encoding"] == "identity"


MALFORMED = {
    "malformed JSON": (SELECT, JSON, '{"head":{"vars":["s"]},"results":{"bindings":[{"s":nope}]}}',
                       r"not valid SPARQL JSON results \(line 1, column \d+\)$"),
    "truncated JSON": (SELECT, JSON, ONE_ROW[:60], r"not valid SPARQL JSON results \(line 1, column \d+\)$"),
    "JSON of the wrong shape": (SELECT, JSON, '{"head": 1}', r"not valid SPARQL JSON results$"),
    "a term key that would echo": (SELECT, JSON, '{"head":{"vars":["s"]},"results":{"bindings":[{"s":'
                                   '{"type":"uri","<script>' + "A" * 5000 + '":1}}]}}',
                                   r"not valid SPARQL JSON results$"),
    "HTML with status 200": (SELECT, JSON, "<html><body><h1>Oops</h1>stack trace...</body></html>",
                             r"not valid SPARQL JSON results \(line 1, column 1\)$"),
    "empty body": (SELECT, JSON, "", r"not valid SPARQL JSON results \(line 1, column 1\)$"),
    "wrong Content-Type": (SELECT, "text/html", ONE_ROW.decode(),
                           r"answer is text/html, not SPARQL results in JSON, XML or TSV$"),
    "CSV results": (SELECT, "text/csv", "s\r\nhttp://example.org/a\r\n", r"answer is text/csv, not SPARQL"),
    "N-Triples with garbage": (CONSTRUCT, "application/n-triples", TRIPLE + "garbage <here>\n",
                               r"not valid N-Triples \(line 2, column 1\)$"),
    "Turtle with garbage": (CONSTRUCT, "text/turtle", TURTLE + "ex:b ex:p .\n", r"not valid Turtle \(line 3"),
    "RDF/XML": (CONSTRUCT, "application/rdf+xml", "<rdf:RDF/>", r"answer is application/rdf\+xml, not RDF in "
                "N-Triples or Turtle$"),
    "a compressed answer": (SELECT, JSON, ONE_ROW, r"compressed \(gzip\), which was not asked for$"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_every_malformed_answer_becomes_one_clear_line(fake, case):
    query, content_type, body, expected = MALFORMED[case]
    headers = [("Content-Encoding", "gzip")] if "compressed" in case else ()
    fake.script = reply(body, content_type, headers=headers)
    with pytest.raises(QueryFailed, match=expected) as excinfo:
        fake.endpoint().query(query)
    message = one_line_failure(excinfo)
    assert message.startswith("the endpoint's answer is ") and "<" not in message


def test_an_answer_that_breaks_off_or_is_not_http_is_one_clear_line(fake):
    fake.script = reply(bindings(100)[:500], headers=[("Content-Length", "100000")], length=False)
    with pytest.raises(QueryFailed, match="broke off before its end"):
        fake.endpoint().query(SELECT)
    fake.script = lambda h: h.wfile.write(b"SPARQL, not HTTP\r\n\r\n")
    with pytest.raises(QueryFailed, match="not valid HTTP"):
        fake.endpoint().query(SELECT)


def test_the_cli_prints_one_line_for_a_malformed_answer_and_reads_turtle(fake):
    env = {**os.environ, "NO_PROXY": "127.0.0.1"}
    env.pop("PLM_MAP_ENDPOINT", None)
    cut_short = '{"head":{"vars":["s"]},"results":{"bindings":[{"s":'
    fake.script = reply(cut_short, JSON)
    out = subprocess.run([sys.executable, "-m", "kg.cli", "--endpoint", fake.url + "/sparql", "query", SELECT],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [
        f"kg: error: the endpoint's answer is not valid SPARQL JSON results (line 1, column {len(cut_short) + 1})"]
    fake.script = reply(TURTLE, "text/turtle")
    out = subprocess.run([sys.executable, "-m", "kg.cli", "--endpoint", fake.url + "/sparql", "query", CONSTRUCT,
                          "--format", "ntriples"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == TRIPLE


# ---------------------------------------------------------------------------------------------
# Upstream errors: summarised, never echoed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status, phrase", [(503, "Service Unavailable"), (500, "Internal Server Error"),
                                            (404, "Not Found"), (401, "Unauthorized"), (403, "Forbidden"),
                                            (400, "Bad Request"), (599, None)])
def test_an_http_error_is_summarised_by_its_status_alone(fake, status, phrase):
    page = "<html><script>alert(1)</script>\x1b]0;pwned\x07 java.lang.NullPointerException at line 3, column 4</html>"
    fake.script = reply(page, "text/html", status=status, reason="<b>Evil reason</b>")
    with pytest.raises(QueryFailed) as excinfo:
        fake.endpoint().query(SELECT)
    assert str(excinfo.value) == f"the endpoint answered HTTP {status}" + (f" ({phrase})" if phrase else "")


def test_an_endpoint_syntax_error_keeps_line_and_column_and_loses_escapes(fake):
    lines = (prologue() + SELECT).count("\n") + 1   # the error is on the user's first line
    noise = "\x1b[31mexpected\x1b[0m\x07 one of " + ", ".join(f"WORD{i}" for i in range(300))
    fake.script = reply(f"error at {lines}:12: {noise}\n\u202eSECOND LINE", "text/plain", status=400)
    with pytest.raises(QuerySyntaxError) as excinfo:
        fake.endpoint().query(SELECT)
    message = str(excinfo.value)
    first = message.splitlines()[0]
    assert first.startswith("Syntax error at line 1, column 12: found “HERE”; valid here: WORD0, WORD1")
    assert len(first) < 240 and "SECOND" not in message
    assert not any(c in message for c in "\x1b\x07\u202e")
    assert message.splitlines()[1:] == ["  " + SELECT, "  " + " " * 11 + "^"]


def test_a_fuseki_style_syntax_error_maps_to_line_and_column(fake):
    query = "SELECT ?s\nWHERE { ?s ?p }"
    lines = (prologue() + query).count("\n") + 1
    body = f'Error 400: Parse error:\n{prologue()}{query}\nEncountered " "}}" "}} "" at line {lines}, column 15.\n'
    fake.script = reply(body, "text/plain", status=400)
    with pytest.raises(QuerySyntaxError, match=r"^Syntax error at line 2, column 15"):
        fake.endpoint().query(query)


def test_no_message_names_the_password_in_the_endpoint_url(fake, silent):
    port = fake.server_address[1]
    fake.script = reply("<html>down</html>", "text/html", status=503)
    urls = [f"http://alice:s3cret@127.0.0.1:{port}/sparql", f"http://alice:s3cret@127.0.0.1:{silent}/sparql",
            "http://alice:s3cret@127.0.0.1:1/sparql"]   # answers 503, never answers, refuses the connection
    for url, timeout in zip(urls, (3, 0.5, 3)):
        with pytest.raises((QueryFailed, QueryTimeout)) as excinfo:
            EndpointBackend(url).query(SELECT, timeout=timeout)
        assert not any(s in str(excinfo.value) for s in SECRET_URL_PARTS), excinfo.value
    for bad in ("ftp://alice:s3cret@127.0.0.1/sparql", "http://alice:s3cret@127.0.0.1:port/sparql"):
        with pytest.raises(ValueError) as excinfo:
            open_backend(bad)
        assert not any(s in str(excinfo.value) for s in SECRET_URL_PARTS)
    assert fake.seen[0].headers["Authorization"] == "Basic YWxpY2U6czNjcmV0"  # alice:s3cret


# ---------------------------------------------------------------------------------------------
# What is sent, and how it gets there
# ---------------------------------------------------------------------------------------------


def test_the_endpoint_receives_the_checked_text_and_nothing_else(fake):
    query = "select ?s where { ?s a ?o } # a comment"
    fake.endpoint().query(query)
    (seen,) = fake.seen
    assert seen.form == {"query": [prologue() + check_query(query).text]}
    assert seen.path == "/sparql"


def test_a_remote_endpoint_is_reached_through_the_environment_proxy_and_loopback_directly(
        fake, logserver, monkeypatch):
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.setenv("http_proxy", f"http://bob:pw@127.0.0.1:{fake.server_address[1]}")
    EndpointBackend("http://sparql.example/query").query(SELECT)
    (seen,) = fake.seen
    assert seen.path == "http://sparql.example/query" and seen.headers["Host"] == "sparql.example"
    assert seen.headers["Proxy-Authorization"] == "Basic Ym9iOnB3"  # bob:pw
    monkeypatch.setenv("http_proxy", logserver.url)
    fake.endpoint().query(SELECT)
    assert logserver.requests == [] and len(fake.seen) == 2


@pytest.fixture
def tls_fake(tmp_path, monkeypatch):
    """The scripted server over TLS with a self-signed certificate for localhost, trusted via SSL_CERT_FILE."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server = _serve(server)
    server.url = f"https://localhost:{server.server_address[1]}"
    server.cert = cert
    yield server
    server.shutdown()
    server.server_close()


def test_https_endpoints_are_verified_and_read(tls_fake, monkeypatch):
    with pytest.raises(QueryFailed, match="certificate verify failed"):
        EndpointBackend(tls_fake.url + "/sparql").query(SELECT, timeout=3)
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_fake.cert))
    result = EndpointBackend(tls_fake.url + "/sparql").query(SELECT, timeout=3)
    assert result.rows[0][0].value == "http://example.org/a"
