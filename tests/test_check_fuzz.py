"""The static check (kg/safety.py) and the engine agree: a differential fuzzer (security notes §1, §10 A).

Generated and mutated queries go through `check_query`; each accepted one runs, as the canonical
text the check returns, in an engine process whose network is *open* towards a loopback server
that counts every connection (tests/fuzz/). The test fails on any connection or request, on an
engine crash, on a SERVICE or FROM the check let through to an engine that parsed it, and on any
exception from `check_query` other than `QueryRefused`.

    python -m pytest -q tests/test_check_fuzz.py -s

PLM_MAP_FUZZ_CASES (default 50,000) and PLM_MAP_FUZZ_SEED (default fixed, so CI is reproducible)
change the run; the figures are printed and written to tests/artifacts/fuzz-summary.json.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import kg.safety as safety
from kg.vocab import PREFIXES
from tests.fuzz.engine import EngineRunner
from tests.fuzz.harness import FAILURE_KINDS, STORE_TURTLE, Fuzzer, case_stream, checker_kind, make_check, \
    write_summary
from tests.fuzz.mutate import BYPASSES
from tests.fuzz.netwatch import LoopbackLogServer

CASES = int(os.environ.get("PLM_MAP_FUZZ_CASES", "50000"))
SEED = int(os.environ.get("PLM_MAP_FUZZ_SEED", "20260601"))
ENGINE_TIMEOUT = float(os.environ.get("PLM_MAP_FUZZ_TIMEOUT", "2"))
SUMMARY = Path(__file__).resolve().parent / "artifacts" / "fuzz-summary.json"


@pytest.fixture(scope="module")
def server():
    with LoopbackLogServer() as s:
        yield s


@pytest.fixture(scope="module")
def engine():
    with EngineRunner(STORE_TURTLE, PREFIXES, timeout=ENGINE_TIMEOUT) as runner:
        yield runner


def run_checked(engine, server, query: str):
    """Check one query; when accepted, run it.

    -> ("refused", None), or (the engine's outcome, network events: connections the server
    accepted plus connect/send system calls strace saw)."""
    check = make_check(safety, PREFIXES)
    try:
        checked = check(query)
    except safety.QueryRefused:
        return "refused", None
    before = server.snapshot()[0], len(engine.network_events())
    (outcome,) = engine.run([checked.text])
    after = server.snapshot()[0], len(engine.network_events())
    return outcome.kind, (after[0] - before[0]) + (after[1] - before[1])


# ---------------------------------------------------------------------------------------------
# The harness sees what it must: without a check in between, the engine does reach the server
# ---------------------------------------------------------------------------------------------

def test_the_harness_sees_requests_crashes_and_timeouts(server, engine):
    conns, reqs = server.snapshot()
    traced = len(engine.network_events())
    out = engine.run([
        f"SELECT * WHERE {{ SERVICE <{server.url}/control> {{ ?s ?p ?o }} }}",   # a request
        "SELECT * WHERE " + "{" * 3000 + "}" * 3000,                              # SIGSEGV
        "SELECT * WHERE { ?s " + "a/" * 1000 + "a ?o }",                           # minutes of parsing
        "SELECT * WHERE { ?s ?p ?o } LIMIT 1",                                     # still answers
    ])
    assert [o.kind for o in out] == ["ok", "crash", "timeout", "ok"], out
    assert "SIGSEGV" in out[1].message or "SIGABRT" in out[1].message
    assert out[3].rows == 1
    assert server.snapshot()[0] == conns + 1 and server.requests[reqs:] == ["POST /control HTTP/1.1"]
    if engine.trace:  # strace also sees a lookup for another host, which never reaches the server
        engine.run(["SELECT * WHERE { SERVICE SILENT <http://plm-map-fuzz.invalid/x> { } }"])
        assert len(engine.network_events()) > traced + 2


# ---------------------------------------------------------------------------------------------
# The known bypass classes of the old checker: refused, or harmless to the engine
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(BYPASSES))
def test_each_known_bypass_is_refused_or_makes_no_request(server, engine, name):
    query = BYPASSES[name].replace("{url}", server.url)
    kind, new_connections = run_checked(engine, server, query)
    if kind == "refused":
        return
    assert new_connections == 0, f"{name}: accepted, and the engine made {new_connections} network event(s)"
    assert kind != "crash", f"{name}: accepted, and the engine crashed"


# ---------------------------------------------------------------------------------------------
# Regression table: minimal failing examples the fuzzer found against the old checker (shrunk
# by hand), each with what the check must do now:
#   refused   - check_query raises QueryRefused
#   harmless  - refused, or accepted and run with no connection and no crash
#   accepted  - accepted, and the engine runs the checked text without an error
# Against the old checker (git show 5240abf:kg/safety.py) each SERVICE row was accepted and made
# one request, the FROM rows were accepted (Oxigraph then ignores FROM: no request, but the
# contract is broken), the deep rows crashed the engine (SIGSEGV) or ran past the time limit, and
# the non-ASCII rows raised AttributeError.
# ---------------------------------------------------------------------------------------------

REGRESSIONS = [
    # escapes in strings decoded before the string is read
    ("SELECT * { FILTER('\\u0027') SERVICE <{url}/r> {} }", "refused"),
    ('SELECT * { FILTER("\\u0022") SERVICE <{url}/r> {} }', "refused"),
    ("SELECT * { FILTER('\\u005C') SERVICE <{url}/r> {} FILTER('x') }", "refused"),
    # an escaped quote in a prefixed name read as the start of a string
    ("PREFIX e: <{url}/> SELECT * { ?s e:a\\' ?o SERVICE <{url}/r> {} } #'", "refused"),
    # keywords glued to what follows
    ("SELECT * { SERVICESILENT<{url}/r> {} }", "refused"),
    ("PREFIX : <{url}/> SELECT * { SERVICE:r {} }", "refused"),
    ("PREFIX : <{url}/> SELECT * { servicesilent:r {} }", "refused"),
    ("PREFIX : <{url}/> SELECT * { sErViCeSILENT#\r: {} }", "refused"),
    ("SELECT * FROMNAMED<{url}/r> {}", "refused"),
    # comments ended by \r
    ("SELECT * { #\r SERVICE <{url}/r> {} }", "refused"),
    ("SELECT * #\rFROM <{url}/r> {}", "refused"),
    # nesting and chains the engine does not survive (SIGSEGV on an 8 MiB stack) or takes
    # minutes to parse; the old checker counted only { and ( and not behind a \r comment
    ("SELECT * { #\r" + "{" * 3000 + "}" * 3000 + " }", "refused"),
    ("SELECT * { ?s ?p " + "[a" * 4000 + " ?o" + "]" * 4000 + " }", "refused"),
    ("SELECT * { " + "<<" * 500 + "?s ?p ?o" + ">>?p ?o" * 500 + " }", "refused"),
    ("SELECT * { FILTER(" + "1+" * 8000 + "1) }", "refused"),
    ("SELECT * { ?s " + "a/" * 1000 + "a ?o }", "refused"),
    # non-ASCII names (AttributeError in the old checker)
    ("SELECT ?变量 WHERE { ?变量 ?p ?o } LIMIT 1", "accepted"),
    ("PREFIX é: <{url}/> SELECT * WHERE { ?s é:a ?o } LIMIT 1", "accepted"),
    ("SELECT * WHERE { ?s ?p ?o FILTER(?x·y != ?ñame) } LIMIT 1", "accepted"),
    # tricky but benign: must still run
    ("SELECT * { ?x ?p ?y FILTER(?x<3&&?y>2) }", "accepted"),
    ("PREFIX e: <{url}/> SELECT * { ?s e:a\\'b ?o } #'", "accepted"),
    ("SELECT * { ?s ?p ?o FILTER(?o != '\\u0027' && ?o != \"\\u0022\" && ?o != '''\\U0001F600''') }", "accepted"),
    ("SELECT * { ?s ?p ?o # a comment ended by \\r\r FILTER(true) }", "accepted"),
    ("ASK { ?s ?p ?o } # a comment at the end", "accepted"),
    # found against the new checker: with a BASE, `<3&&STR(?y)>` is read as a relative IRI and its
    # brackets written as \u escapes, so the engine gets a syntax error (a false refusal, not a bypass:
    # an IRI cannot hold the { } a SERVICE or EXISTS clause needs)
    pytest.param("BASE <{url}/> SELECT * { ?x ?p ?y FILTER(?x<3&&STR(?y)>'a') }", "accepted",
                 marks=pytest.mark.xfail(reason="expression `<` read as an IRI when a BASE is declared")),
]


@pytest.mark.parametrize("query,expectation", REGRESSIONS)
def test_regressions_found_by_fuzzing_the_old_checker(server, engine, query, expectation):
    query = query.replace("{url}", server.url)
    kind, new_connections = run_checked(engine, server, query)
    if expectation == "refused":
        assert kind == "refused", f"accepted, and the engine said {kind} with {new_connections} network event(s)"
    elif expectation == "harmless":
        assert kind == "refused" or (new_connections == 0 and kind != "crash")
    else:
        assert kind == "ok", f"expected the query to be accepted and run; got {kind}"
        assert new_connections == 0


# ---------------------------------------------------------------------------------------------
# The fuzzer
# ---------------------------------------------------------------------------------------------

def _report(fig) -> str:
    lines = [f"{fig.failed()} failing event(s) against the {fig.checker} checker (seed {fig.seed}):"]
    for f in fig.failures[:12]:
        lines.append(f"  [{f['kind']}/{f['origin']}] {f['query']!r:.300}\n      -> {f['detail'][:300]}")
    lines.append(f"(all kept examples: {SUMMARY})")
    return "\n".join(lines)


@pytest.mark.timeout(900)
def test_fuzz_the_check_against_the_engine(server, engine):
    """CASES cases; every accepted one runs with the network open; nothing may reach it."""
    stream, feedback = case_stream(SEED, CASES, server.url)
    fuzzer = Fuzzer(safety, server, engine, PREFIXES)
    fig = fuzzer.run(stream, feedback)
    fig.seed = SEED
    write_summary(SUMMARY, fig)
    print(f"\n[fuzz] {checker_kind(safety)} checker, seed {SEED}, strace {'on' if fig.strace else 'off'}")
    print("[fuzz] " + fig.line())
    print("[fuzz] by origin: " + json.dumps(fig.by_origin, ensure_ascii=False))
    print(f"[fuzz] summary written to {SUMMARY}")

    assert fig.cases == CASES
    assert fig.failed() == 0, _report(fig)
    assert all(f["kind"] not in FAILURE_KINDS for f in fig.failures), _report(fig)
    # not vacuous: a good share of the cases got through the check and ran
    assert fig.accepted >= CASES // 10 and fig.engine_ok >= CASES // 20, fig.line()
