"""The endpoint backend against a real SPARQL 1.1 server (Oxigraph, started here on 127.0.0.1)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kg import EndpointBackend, QueryRefused, QuerySyntaxError, QueryTimeout, examples
from kg.nodes import describe, search
from kg.store import default_sources
from kg.trace import between

pytestmark = pytest.mark.endpoint
ROOT = Path(__file__).resolve().parent.parent


def _oxigraph() -> str:
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(exe).exists():
        pytest.fail("the `oxigraph` server is missing: pip install -r requirements-test.txt")
    return exe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`oxigraph serve-read-only` over a database loaded with the project's data files."""
    exe, db = _oxigraph(), tmp_path_factory.mktemp("oxigraph") / "db"
    subprocess.run([exe, "load", "--location", str(db), "--file", *map(str, default_sources())],
                   check=True, capture_output=True)
    port = _free_port()
    proc = subprocess.Popen([exe, "serve-read-only", "--location", str(db), "--bind", f"127.0.0.1:{port}",
                             "--timeout-s", "5"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/query"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _ in range(100):
        try:
            opener.open(url + "?query=ASK%7B%7D", timeout=1).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the Oxigraph server did not start")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def remote(server):
    backend = EndpointBackend(server, timeout=3.0)
    yield backend
    backend.close()


def _rows(result):
    """Rows as sorted tuples; GROUP_CONCAT lists compared as sets (engines may order them differently)."""
    def norm(v: str) -> str:
        return ", ".join(sorted(v.split(", ")))
    return sorted(tuple(sorted((k, norm(v)) for k, v in d.items())) for d in result.dicts())


@pytest.mark.parametrize("example", examples.examples(), ids=lambda e: e.name)
def test_every_example_query_gives_the_same_answer_on_the_endpoint(kg, remote, example):
    assert _rows(remote.query(example.text)) == _rows(kg.query(example.text))


def test_ask_and_construct_work_over_http(kg, remote):
    assert remote.query("ASK { pm:XLNet plm:improvesOn pm:BERT }").value is True
    graph = remote.query("CONSTRUCT { pm:BERT ?p ?o } WHERE { pm:BERT ?p ?o }")
    local = kg.query("CONSTRUCT { pm:BERT ?p ?o } WHERE { pm:BERT ?p ?o }")
    assert sorted(t.n3() for tr in graph.triples for t in tr) == sorted(t.n3() for tr in local.triples for t in tr)


def test_trace_search_and_describe_read_the_endpoint(kg, remote):
    assert [c.text() for c in between(remote, "BERT", "XLNet")] == [c.text() for c in between(kg, "BERT", "XLNet")]
    assert search(remote, "排列語言模型")[0].id == "permutation-lm"
    d = describe(remote, "XLNet")
    assert d.node.labels["en"] == "XLNet" and any(c.id == "Q16.2" for c in d.claims)


def test_row_cap_and_syntax_errors_on_the_endpoint(remote):
    result = remote.query("SELECT * WHERE { ?s ?p ?o }", max_rows=25)
    assert len(result.rows) == 25 and result.truncated
    with pytest.raises(QuerySyntaxError, match="line 2, column"):
        remote.query("SELECT *\nWHERE { ?s ?p }")


def test_an_endpoint_syntax_error_points_into_the_users_own_text_as_the_embedded_one_does(kg, remote):
    """The endpoint parses the prologue plus the check's canonical text (comments gone); the error
    still names the line and column of what the user wrote."""
    query = "# which models?\nSELECT ?s   # the subject\n\n# then\nWHERE { ?s ?p }"
    with pytest.raises(QuerySyntaxError) as embedded:
        kg.query(query)
    with pytest.raises(QuerySyntaxError, match=r"^Syntax error at line 5, column 16") as endpoint:
        remote.query(query)
    assert str(endpoint.value) == str(embedded.value)


def test_large_answers_stream_in_and_stop_at_the_row_cap(remote):
    result = remote.query("SELECT * WHERE { ?s ?p ?o }", max_rows=3000)
    assert len(result.rows) == 3000 and result.truncated
    graph = remote.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", max_rows=3000)
    assert len(graph.triples) == 3000 and graph.truncated


def test_refused_queries_never_reach_the_endpoint(remote, logserver):
    spy = EndpointBackend(logserver.url + "/sparql")
    for q in (f"SELECT * WHERE {{ SERVICE <{remote.url}> {{ ?s ?p ?o }} }}", "DROP ALL",
              "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }"):
        with pytest.raises(QueryRefused):
            spy.query(q)
    assert logserver.requests == []


def test_a_slow_endpoint_query_times_out_with_a_clear_message(remote):
    t0 = time.monotonic()
    with pytest.raises(QueryTimeout, match="did not answer within"):
        remote.query("SELECT (COUNT(*) AS ?c) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }", timeout=1)
    assert time.monotonic() - t0 < 4


def test_the_cli_reads_an_endpoint_by_flag_or_environment(server):
    env = {**os.environ, "NO_PROXY": "127.0.0.1"}
    out = subprocess.run([sys.executable, "-m", "kg.cli", "--endpoint", server, "trace", "BERT", "XLNet"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "BERT → Independence assumption → Permutation language modeling → XLNet" in out.stdout
    env["PLM_MAP_ENDPOINT"] = server
    out = subprocess.run([sys.executable, "-m", "kg.cli", "query", "--example", "25", "--format", "csv"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "1906.08237" in out.stdout
