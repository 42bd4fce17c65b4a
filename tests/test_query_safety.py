"""Bad queries get a clear message, change nothing and reach nothing (security notes, sections A-C)."""

from __future__ import annotations

import ctypes
import hashlib
import os
import threading
import time
from contextlib import contextmanager

import pytest

from kg import EmbeddedBackend, QueryFailed, QueryRefused, QuerySyntaxError, QueryTimeout
from kg.results import SelectResult
from kg.safety import MAX_QUERY_CHARS, check_query
from kg.synthetic import write_chain, write_synthetic

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

IN_OPEN, IN_ACCESS = 0x20, 0x01


@contextmanager
def file_opens(path):
    """Count every open/read of `path` by any process, native code included (Linux inotify)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK)
    assert fd >= 0
    assert libc.inotify_add_watch(fd, str(path).encode(), IN_OPEN | IN_ACCESS) >= 0
    events = []
    try:
        yield events
    finally:
        time.sleep(0.2)
        try:
            while data := os.read(fd, 4096):
                events.append(len(data))
        except BlockingIOError:
            pass
        os.close(fd)


def fingerprint(kg) -> tuple[int, str, int]:
    """Triples in the served store, a checksum of them, and the count the sandboxed worker sees."""
    digest = hashlib.sha256()
    for line in sorted(f"{q.subject} {q.predicate} {q.object}" for q in kg.store):
        digest.update(line.encode())
    (n,) = kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0]
    return len(kg.store), digest.hexdigest(), int(n.value)


@pytest.fixture
def secret(tmp_path):
    path = tmp_path / "secret.ttl"
    path.write_text('<http://x/s> <http://x/p> "hunter2" .\n')
    return path


# ---------------------------------------------------------------------------------------------
# A. network and file access
# ---------------------------------------------------------------------------------------------

SERVICE_VARIANTS = {
    "plain": "SELECT * WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "lowercase": "select * where { service <{url}/sparql> { ?s ?p ?o } }",
    "unicode escape": "SELECT * WHERE { \\u0053ERVICE <{url}/sparql> { ?s ?p ?o } }",
    "silent": "SELECT * WHERE { SERVICE SILENT <{url}/sparql> { ?s ?p ?o } }",
    "prefixed name": "PREFIX e: <{url}/> SELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }",
    "variable via VALUES": "SELECT * WHERE { VALUES ?u { <{url}/sparql> } SERVICE ?u { ?s ?p ?o } }",
    "variable via BIND": "SELECT * WHERE { BIND(<{url}/sparql> AS ?u) SERVICE ?u { ?s ?p ?o } }",
    "comment between": "SELECT * WHERE { SERVICE # hidden\n <{url}/sparql> { ?s ?p ?o } }",
    "in OPTIONAL": "SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE <{url}/sparql> { ?s ?p ?o } } } LIMIT 2",
    "in MINUS": "SELECT * WHERE { ?a ?b ?c MINUS { SERVICE <{url}/sparql> { ?a ?p ?o } } } LIMIT 2",
    "in UNION": "SELECT * WHERE { { ?a ?b ?c } UNION { SERVICE <{url}/sparql> { ?s ?p ?o } } } LIMIT 2",
    "in subquery": "SELECT * WHERE { { SELECT * WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } } } }",
    "in FILTER EXISTS": "SELECT * WHERE { ?a ?b ?c FILTER EXISTS { SERVICE <{url}/sparql> { ?a ?p ?o } } } LIMIT 2",
    "in FILTER NOT EXISTS": "SELECT * WHERE { ?a ?b ?c FILTER NOT EXISTS { SERVICE <{url}/sparql> { ?a ?p ?o } } } LIMIT 2",
    "ASK": "ASK { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "CONSTRUCT": "CONSTRUCT { ?s ?p ?o } WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } }",
    "DESCRIBE": "DESCRIBE ?s WHERE { SERVICE <{url}/sparql> { ?s ?p ?o } }",
}


@pytest.mark.parametrize("variant", list(SERVICE_VARIANTS))
def test_service_is_refused_in_every_spelling_and_no_request_is_made(kg, logserver, variant):
    query = SERVICE_VARIANTS[variant].replace("{url}", logserver.url)
    with pytest.raises(QueryRefused, match="SERVICE is not allowed"):
        kg.query(query)
    assert logserver.requests == []


@pytest.mark.parametrize("clause", ["FROM <{url}/data.ttl>", "FROM NAMED <{url}/data.ttl>"])
def test_from_and_from_named_are_refused_without_a_request(kg, logserver, clause):
    query = "SELECT * " + clause.replace("{url}", logserver.url) + " WHERE { ?s ?p ?o }"
    with pytest.raises(QueryRefused, match="FROM and FROM NAMED are not allowed"):
        kg.query(query)
    assert logserver.requests == []


@pytest.mark.parametrize("query", [
    "SELECT * FROM NAMED <file://{path}> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "SELECT * FROM <file://{path}> WHERE { ?s ?p ?o }",
    "SELECT * WHERE { SERVICE <file://{path}> { ?s ?p ?o } }",
])
def test_local_files_named_in_a_query_are_never_opened(kg, secret, query):
    with file_opens(secret) as opens:
        with pytest.raises(QueryRefused):
            kg.query(query.replace("{path}", str(secret)))
    assert opens == []


def test_the_worker_has_no_network_even_if_the_static_check_is_bypassed(kg, logserver):
    """Defence in depth: send SERVICE straight to the sandboxed worker pool, skipping kg/safety.py."""
    pool = kg.pool.start(1)
    assert pool.isolation == ("netns", "seccomp"), "a network namespace and the seccomp filter, both proven"
    for variant in ("plain", "silent", "in OPTIONAL", "ASK"):
        query = SERVICE_VARIANTS[variant].replace("{url}", logserver.url)
        try:
            pool.run(query, timeout=10, max_rows=10)
        except (QueryFailed, SyntaxError):
            pass  # the engine reports the unreachable network; what matters is the log below
    assert logserver.requests == []


def test_the_worker_reads_no_file_even_if_the_static_check_is_bypassed(kg, secret):
    pool = kg.pool.start(1)
    with file_opens(secret) as opens:
        for query in (f"SELECT * FROM <file://{secret}> WHERE {{ ?s ?p ?o }}",
                      f"SELECT * WHERE {{ SERVICE <file://{secret}> {{ ?s ?p ?o }} }}"):
            try:
                result = pool.run(query, timeout=10, max_rows=10)
                assert not any("hunter2" in str(t) for row in result.rows for t in row)
            except (QueryFailed, SyntaxError):
                pass
    assert opens == []


# ---------------------------------------------------------------------------------------------
# B. read-only
# ---------------------------------------------------------------------------------------------

UPDATES = [
    "DROP ALL",
    "CLEAR DEFAULT",
    "DELETE WHERE { ?s ?p ?o }",
    "INSERT DATA { <http://x/a> <http://x/b> <http://x/c> }",
    "LOAD <{url}/x.ttl>",
    "LOAD <file://{secret}>",
    "CREATE GRAPH <http://x/g>",
    "DELETE WHERE { ?s ?p ?o } ; LOAD <{url}/x.ttl>",
    "SELECT * WHERE { ?s ?p ?o } ; DROP ALL",
    "PREFIX x: <http://x/> INSERT { ?s x:p 1 } WHERE { ?s ?p ?o }",
]


@pytest.mark.parametrize("update", UPDATES)
def test_updates_are_refused_and_nothing_is_lost(kg, logserver, secret, update):
    before = fingerprint(kg)
    with file_opens(secret) as opens:
        with pytest.raises(QueryRefused, match="Only SELECT, ASK, CONSTRUCT and DESCRIBE"):
            kg.query(update.replace("{url}", logserver.url).replace("{secret}", str(secret)))
    assert fingerprint(kg) == before
    assert logserver.requests == [] and opens == []


def test_the_worker_cannot_run_an_update_even_if_the_static_check_is_bypassed(kg):
    before = fingerprint(kg)
    with pytest.raises(SyntaxError):
        kg.pool.run("DELETE WHERE { ?s ?p ?o }", timeout=10, max_rows=10)
    assert fingerprint(kg) == before


# ---------------------------------------------------------------------------------------------
# C. time, memory, size, syntax
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A 12k-triple graph of the survey's shape, behind a 2-second time limit."""
    path = tmp_path_factory.mktemp("graphs") / "kg12k.nt"
    write_synthetic(path, 12_000)
    backend = EmbeddedBackend([path], timeout=2.0, max_rows=1000)
    yield backend
    backend.close()


@pytest.mark.parametrize("query", [
    "SELECT (COUNT(*) AS ?c) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f . ?g ?s ?h }",
    "SELECT * WHERE { ?a ?p ?b . ?c ?q ?d } ORDER BY ?a ?c",
])
def test_a_runaway_query_is_stopped_at_the_time_limit_and_the_next_one_works(big, query):
    t0 = time.monotonic()
    with pytest.raises((QueryTimeout, QueryFailed), match="time limit|memory"):
        big.query(query)
    assert time.monotonic() - t0 < big.timeout + 2
    t1 = time.monotonic()
    result = big.query("SELECT ?m WHERE { ?m a plm:Model } LIMIT 5")
    assert len(result.rows) == 5 and time.monotonic() - t1 < 2 + 1  # includes restarting the worker


def test_other_callers_small_queries_stay_fast_while_one_runs_away(big):
    stop = threading.Event()

    def runaway():
        try:
            big.query("SELECT (COUNT(*) AS ?c) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }")
        except (QueryTimeout, QueryFailed):
            pass
        stop.set()

    thread = threading.Thread(target=runaway)
    thread.start()
    t0 = time.monotonic()
    # the library's own (trusted) queries use the in-process store, not the busy worker
    rows = big.select("SELECT ?m WHERE { ?m a plm:Model } LIMIT 3").rows
    assert len(rows) == 3 and time.monotonic() - t0 < 1.0
    thread.join(10)
    assert stop.is_set()


def test_regex_blowup_finishes_or_times_out_cleanly(big):
    t0 = time.monotonic()
    try:
        result = big.query('SELECT * WHERE { BIND("' + "a" * 34 + '!" AS ?o) FILTER(REGEX(?o, "(a+)+$")) }')
        assert isinstance(result, SelectResult)
    except QueryTimeout:
        pass
    assert time.monotonic() - t0 < big.timeout + 2


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    path = tmp_path_factory.mktemp("graphs") / "chain.nt"
    write_chain(path, 10_000)
    backend = EmbeddedBackend([path], timeout=3.0)
    yield backend
    backend.close()


@pytest.mark.parametrize("query, expected", [
    ("SELECT (COUNT(*) AS ?c) WHERE { pm:n0 pm:next+ ?b }", "10000"),
    ("SELECT (COUNT(*) AS ?c) WHERE { ?a pm:next* ?b }", None),
])
def test_long_property_paths_answer_or_stop_cleanly(chain, query, expected):
    t0 = time.monotonic()
    try:
        (c,) = chain.query(query).rows[0]
        if expected:
            assert c.value == expected
    except QueryTimeout as e:
        assert "time limit" in str(e)
    assert time.monotonic() - t0 < chain.timeout + 2


def test_deep_nesting_gets_a_clear_message(kg):
    with pytest.raises(QueryRefused, match="nested too deeply"):
        kg.query("SELECT * WHERE " + "{ " * 60 + "?s ?p ?o" + " }" * 60)
    nested_filter = "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * 30 + "true" + ")" * 30 + ") } LIMIT 1"
    assert kg.query(nested_filter).rows
    many = "SELECT * WHERE { " + " ".join(f"?s{i} pm:x{i} ?o{i} ." for i in range(100)) + " }"
    assert kg.query(many).rows == []


def test_oversized_and_nul_queries_are_refused_before_parsing(kg):
    with pytest.raises(QueryRefused, match="too long"):
        kg.query("SELECT * WHERE { ?s ?p ?o } #" + "x" * (1 << 20))
    with pytest.raises(QueryRefused, match="NUL"):
        kg.query("SELECT * WHERE { ?s ?p ?o }\x00")
    assert MAX_QUERY_CHARS == 20_000


def test_results_are_capped_with_a_visible_truncation_flag(kg):
    result = kg.query("SELECT * WHERE { ?s ?p ?o }", max_rows=100)
    assert len(result.rows) == 100 and result.truncated
    graph = kg.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", max_rows=50)
    assert len(graph.triples) == 50 and graph.truncated
    small = kg.query("SELECT * WHERE { ?s ?p ?o } LIMIT 10", max_rows=100)
    assert not small.truncated


def test_rapid_submissions_run_one_at_a_time_and_all_answer(kg):
    results, errors = [], []

    def submit():
        try:
            results.append(kg.query("SELECT (COUNT(*) AS ?n) WHERE { ?s a plm:Claim }"))
        except Exception as e:  # noqa: BLE001 - collected and asserted on below
            errors.append(e)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert [r.rows[0][0].value for r in results] == ["120"] * 20


@pytest.mark.parametrize("query, line, column", [
    ("SELECT * WHERE {\n  ?s ?p ?o\n  FILTER( }", 3, 11),
    ("SELECT ?x WHERE { ?x plm:about pm:BERT ", 1, 40),
    ("PREFIX ex: <http://x/>\nSELECT * WHERE { ?s ex:p ?o }\nLIMIT ?x", 3, 7),
    ("PREFIX ex: <http://example.org/a/long/namespace/>\nSELECT * WHERE {\n  ?s ex:p ex:o FILTER(ex:f( }", 3, 29),
])
def test_syntax_errors_name_line_and_column(kg, query, line, column):
    """The engine reports where it gave up: at the offending token or just after it."""
    with pytest.raises(QuerySyntaxError) as err:
        kg.query(query)
    message = str(err.value)
    assert message.startswith(f"Syntax error at line {line}, column ")
    reported = int(message.split("column ")[1].split(":")[0])
    assert column <= reported <= column + 1
    assert "[_]" not in message and "\n  " + query.splitlines()[line - 1] in message


def test_a_word_the_grammar_does_not_know_is_refused_with_its_place(kg):
    with pytest.raises(QueryRefused, match="Unknown word 'x' at line 3, column 7"):
        kg.query("PREFIX ex: <http://x/>\nSELECT * WHERE { ?s ex:p ?o }\nLIMIT x")


def test_the_static_check_reads_keywords_not_text():
    # names that merely contain the words are fine
    for ok in ("SELECT ?service ?from WHERE { ?service <http://x/SERVICE> ?from }",
               "PREFIX service: <http://x/> SELECT * WHERE { ?s service:drop 'LOAD DROP' }",
               "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x> in a comment"):
        assert check_query(ok).form == "SELECT"
    assert check_query("DESCRIBE pm:BERT").form == "DESCRIBE"


@pytest.mark.parametrize("query, says", [
    # where an expression may start, Oxigraph lists a sample of function names: one phrase instead
    ("SELECT * WHERE { ?s ?p ?o FILTER( }", "valid here: an expression (a variable, a value or a function call)"),
    # what stands where the engine stopped, and the kinds of token that could stand there
    ("SELECT ?m WHERE { ?m plm:improvesOn }", "found “}”; valid here: a variable, a string, a number"),
    ("SELECT ?m WHERE { ?m ?p ?o } ORDER ?m", "valid here: BY"),
])
def test_syntax_errors_say_in_plain_words_what_was_found_and_what_is_valid(kg, query, says):
    with pytest.raises(QuerySyntaxError) as err:
        kg.query(query)
    first = str(err.value).splitlines()[0]
    assert says in first, first
    assert not any(noise in first for noise in ("[_]", "..=", "ABS", "STRSTARTS", "<<(")), first
