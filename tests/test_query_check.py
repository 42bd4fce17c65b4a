"""The static check reads queries as the engine does, and the engine runs what the check wrote.

The differential fuzzer (tests/test_check_fuzz.py) is the proof at scale; these are the cases a
reader can follow, one per rule of the check and per way the old check was walked around.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg import examples
from kg.safety import MAX_NESTING, MAX_OPERATORS, QueryRefused, check_query
from kg.vocab import PREFIXES

URL = "http://127.0.0.1:9/sparql"


@pytest.fixture(scope="module")
def store(kg):
    return kg.store


def answers(store, text, prefixes=None):
    result = store.query(text, prefixes=prefixes)
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = result.variables
        return sorted(str([row[v] for v in names]) for row in result)
    return sorted(str(t) for t in result)


@pytest.mark.parametrize("example", examples.examples(), ids=lambda e: e.name)
def test_the_canonical_text_gives_the_same_answers_as_the_query_written(store, example):
    checked = check_query(example.text)
    assert answers(store, checked.text) == answers(store, example.text, PREFIXES)


@pytest.mark.parametrize("query", [
    # 1. an escape inside a string that a checker decoding \u early reads as the start of '''
    f"SELECT * WHERE {{ BIND('\\u0027' AS ?a) SERVICE <{URL}> {{ ?s ?p ?o }} BIND('''x''' AS ?b) }}",
    # 2. an escaped quote inside a prefixed name, which a naive checker reads as opening a string
    f"PREFIX e: <http://x/> SELECT * WHERE {{ ?s e:a\\' ?o . SERVICE <{URL}> {{ ?a ?b ?c }} ?s e:b\\' ?o }}",
    # 3. keywords glued to what follows: the engine needs no word boundary
    f"PREFIX : <{URL}/> SELECT * WHERE {{ SERVICE:x {{ ?s ?p ?o }} }}",
    f"SELECT * WHERE {{ SERVICE<{URL}>{{ ?s ?p ?o }} }}",
    f"SELECT * WHERE {{ SERVICESILENT<{URL}>{{ ?s ?p ?o }} }}",
    f"SELECT*FROM<{URL}>WHERE{{?s ?p ?o}}",
    # 4. a comment ended by a carriage return, which ends comments for the engine too
    f"SELECT * WHERE {{ # note\rSERVICE <{URL}> {{ ?s ?p ?o }} }}",
    # 5. escapes outside strings (not keywords to this engine, but never let through)
    f"SELECT * WHERE {{ \\u0053ERVICE <{URL}> {{ ?s ?p ?o }} }}",
])
def test_the_ways_around_the_old_check_are_refused(query):
    with pytest.raises(QueryRefused, match="SERVICE|FROM|Unknown|prefix"):
        check_query(query)


def test_nesting_hidden_behind_a_carriage_return_comment_is_counted():
    for opener, closer in (("{", "}"), ("(", ")"), ("[ ?p", "]"), ("<<( ?a ?b", ")>>"), ("<< ?a ?b", ">>")):
        deep = "SELECT * WHERE { # \r" + f"{opener} " * 3000 + "?o" + f" {closer}" * 3000 + " }"
        with pytest.raises(QueryRefused, match="nested too deeply"):
            check_query(deep[:20_000])


@pytest.mark.parametrize("kind", ["group", "filter", "blank node", "collection", "triple term", "reified"])
def test_every_bracket_kind_may_nest_up_to_the_limit_and_the_engine_answers(store, kind):
    d = MAX_NESTING - 2
    query = {
        "group": "SELECT * WHERE " + "{ " * d + "?s ?p ?o" + " }" * d,
        "filter": "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * d + "true" + ")" * d + ") } LIMIT 1",
        "blank node": "SELECT * WHERE { ?s ?p " + "[ ?p " * d + "?o" + " ]" * d + " }",
        "collection": "SELECT * WHERE { ?s ?p " + "( " * d + "?o" + " )" * d + " }",
        "triple term": "SELECT * WHERE { ?s ?p " + "<<( ?a ?b " * d + "?o" + " )>>" * d + " }",
        "reified": "SELECT * WHERE { " + "<< ?a ?b " * d + "?o" + " >>" * d + " ?p ?o }",
    }[kind]
    assert isinstance(answers(store, check_query(query).text), list)


def test_long_operator_chains_are_refused_before_they_overflow_the_engines_stack():
    for chain in ("MINUS{}" * (MAX_OPERATORS + 1), "FILTER(" + "!" * (MAX_OPERATORS + 1) + "true)",
                  "FILTER(" + "+".join(["1"] * (MAX_OPERATORS + 2)) + "=1)"):
        with pytest.raises(QueryRefused, match="too complex"):
            check_query("SELECT * WHERE { " + chain + " }")
    assert check_query("SELECT * WHERE { " + "MINUS{}" * 900 + " }").form == "SELECT"


def test_comparisons_without_spaces_still_mean_comparisons(store):
    checked = check_query("SELECT ?y WHERE { VALUES ?y { 1 2 3 } FILTER(?y<3&&?y>1) }")
    assert answers(store, checked.text) == [str([ox.Literal("2", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#integer"))])]


def test_names_in_any_script_are_read_and_kept():
    checked = check_query("PREFIX é: <http://x/> SELECT ?变量 WHERE { ?变量 é:p ?o }")
    assert "?变量" in checked.text and "<http://x/p>" in checked.text


def test_strings_keep_their_content_however_they_were_quoted(store):
    for literal, content in (("'\\u0027'", "'"), ('"""a\n"b"\n"""', 'a\n"b"\n'), ("'#x'", "#x"),
                             ("'''it''s'''", "it''s"), ('"\\\\u0022"', "\\u0022")):
        checked = check_query(f"SELECT ?x WHERE {{ BIND({literal} AS ?x) }}")
        (row,) = store.query(checked.text)
        assert row["x"].value == content


def test_escapes_outside_strings_say_what_they_spell():
    with pytest.raises(QueryRefused, match="SERVICE is not allowed"):
        check_query("SELECT * WHERE { \\u0053ERVICE <http://x/> { ?s ?p ?o } }")
    with pytest.raises(QueryRefused, match="only inside strings and IRIs"):
        check_query("SELECT * WHERE { ?s ?p \\u0041 }")


@pytest.mark.parametrize("query, rule", [
    ("SELECT * WHERE { ?s ?p ?o } LIMT 5", "Unknown word 'LIMT'"),
    ("SELECT * WHERE { ?s nope:p ?o }", "Unknown prefix nope:"),
    ("SELECT * WHERE {\u00a0?s ?p ?o }", "U\\+00A0.*no-break space"),
    ("SELECT * WHERE { ?s ?p 'open }", "string is not closed"),
    ("SELECT * WHERE { ?s ?p ?o } $", "\\$ must start a variable"),
])
def test_what_the_grammar_has_no_token_for_is_refused_with_its_place(query, rule):
    with pytest.raises(QueryRefused, match=rule) as err:
        check_query(query)
    assert "line 1, column" in str(err.value)


def test_a_place_in_the_canonical_text_maps_back_to_the_query_written():
    written = "PREFIX ex: <http://example.org/vocabulary/>\nSELECT * WHERE {\n  ?s ex:p ?o\n  FILTER( }"
    checked = check_query(written)
    line, column = next((i + 1, row.index("FILTER") + 1) for i, row in enumerate(checked.text.splitlines())
                        if "FILTER" in row)
    assert checked.position(line, column) == (4, 3)
    assert checked.text.count("\n") == written.count("\n")


def test_long_sequence_paths_are_refused_before_they_hold_a_worker_for_its_whole_time_limit():
    with pytest.raises(QueryRefused, match="more than 100 '/'"):
        check_query("SELECT * WHERE { ?s " + "/".join(["pm:next"] * 102) + " ?o }")
    assert check_query("SELECT * WHERE { ?s " + "/".join(["pm:next"] * 101) + " ?o }").form == "SELECT"


def test_an_unpaired_surrogate_is_refused_as_no_character():
    with pytest.raises(QueryRefused, match="unpaired surrogate"):
        check_query("SELECT ?x WHERE { BIND('\ud800' AS ?x) }")
