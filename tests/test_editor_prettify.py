"""The editor's Prettify (sparqljs's generator, frontend/src/_sparql_syntax.js) changes a query's layout and
nothing else: over every example query and a set of tricky ones, the laid-out query gives the engine's
very answer on the survey graph, keeps every comment, declares no prefix the query did not, and laying
it out again changes nothing. A query that does not parse is refused, not rewritten.

Prettify runs in node against the very bundle the app serves (app_pages/static/sparql_editor.js)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from kg.examples import examples
from kg.results import AskResult, GraphResult, SelectResult
from kg.sparql_tokens import tokenize
from kg.vocab import PREFIXES

BUNDLE = Path(__file__).resolve().parents[1] / "app_pages" / "static" / "sparql_editor.js"
RUN = """
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const m = await import(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(input.texts.map((t) => m.prettify(t, input.prefixes))));
"""

TRICKY = [
    # a comparison without spaces (the parser's lexer would read `<3&&?y>` as an IRI)
    "SELECT * WHERE { ?m plm:longRangeRank ?x . ?m plm:longRangeRank ?y FILTER(?x<3&&?y>2) }",
    # comments inside, a '#' inside a string and inside an IRI
    '# top\nSELECT ?l WHERE { # why\n  pm:BERT skos:prefLabel ?l . # which\n'
    '  FILTER(?l != "C# and #hash") FILTER(?l != <http://example.org/a#b>) }',
    # the query's own PREFIX, one the page also declares, and one it does not
    "PREFIX ex: <http://example.org/> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "SELECT ?l WHERE { pm:XLNet skos:prefLabel ?l BIND(ex:x AS ?x) }",
    "SELECT ?m (COUNT(?w) AS ?n) WHERE { ?m plm:hasWeakness ?w } GROUP BY ?m HAVING (COUNT(?w) > 1) ORDER BY DESC(?n) ?m",
    "SELECT * WHERE { VALUES (?m ?y) { (pm:BERT 2018) (pm:XLNet UNDEF) } OPTIONAL { ?m skos:prefLabel ?l } }",
    "SELECT ?x WHERE { { SELECT ?x WHERE { ?x a plm:Model } LIMIT 3 } UNION { ?x a plm:Weakness } MINUS { ?x plm:improvesOn pm:BERT } }",
    "SELECT ?c WHERE { ?c skos:broader* pm:rnn . FILTER NOT EXISTS { ?c skos:broader/skos:broader pm:nothing } }",
    'SELECT ?l WHERE { pm:BERT skos:prefLabel ?l FILTER(langMatches(lang(?l), "zh-Hans") || lang(?l) = "en") }',
    'ASK { pm:XLNet plm:improvesOn pm:BERT ; skos:prefLabel "XLNet"@en }',
    "CONSTRUCT { ?m plm:improvesOn ?b } WHERE { ?m plm:improvesOn ?b } ",
    "DESCRIBE pm:XLNet",
    'SELECT ?s WHERE { ?s skos:prefLabel """a "long"\nstring""" }',
    "SELECT ?m WHERE { ?m a plm:Model ; plm:objective [ a plm:Objective ] } ORDER BY ?m LIMIT 5 OFFSET 2",
]


def prettified(texts: list[str]) -> list[dict]:
    node = shutil.which("node")
    assert node, "node is needed to run the editor's Prettify (test.sh installs Debian's nodejs)"
    out = subprocess.run([node, "--input-type=module", "-e", RUN, str(BUNDLE)],
                         input=json.dumps({"texts": texts, "prefixes": PREFIXES}), capture_output=True,
                         text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def answer(kg, text: str):
    """What the engine answers, comparable across layouts (blank nodes by kind; rows in order only
    when the query orders them)."""
    result = kg.query(text)

    def key(term):
        return None if term is None else ("_",) if term.kind == "bnode" else (term.kind, term.value, term.datatype,
                                                                             term.lang)
    if isinstance(result, AskResult):
        return result.value
    if isinstance(result, GraphResult):
        return Counter(tuple(key(t) for t in triple) for triple in result.triples)
    assert isinstance(result, SelectResult)
    rows = [tuple(key(t) for t in row) for row in result.rows]
    return (result.variables, rows if re.search(r"ORDER\s+BY", text, re.I) else Counter(rows))


QUERIES = [ex.text for ex in examples()] + TRICKY


@pytest.fixture(scope="module")
def laid_out():
    first = prettified(QUERIES)
    assert all("text" in out for out in first), [q for q, out in zip(QUERIES, first) if "text" not in out]
    again = prettified([out["text"] for out in first])
    return list(zip(QUERIES, first, again))


@pytest.mark.parametrize("i", range(len(QUERIES)))
def test_the_laid_out_query_gets_the_same_answer_from_the_engine(kg, laid_out, i):
    query, out, _ = laid_out[i]
    assert answer(kg, out["text"]) == answer(kg, query), out["text"]


def test_laying_out_twice_changes_nothing(laid_out):
    def same(text: str) -> str:   # the generator names the blank nodes of `[ ... ]` anew each time
        return re.sub(r"_:\w+", "_:b", text)
    for query, out, again in laid_out:
        assert same(again["text"]) == same(out["text"]), query


def comments(text: str) -> list[str]:
    """The comments of `text` as the engine's lexer reads it (kg/sparql_tokens.py): '#' to the end of
    the line, outside every token (so not in a string or an IRI)."""
    blank = list(text)
    for token in tokenize(text):
        blank[token.start:token.start + len(token.text)] = " " * len(token.text)
    return [text[m.start():m.end()] for m in re.finditer(r"#[^\n]*", "".join(blank))]


def test_every_comment_is_kept_and_those_inside_move_to_the_top(laid_out):
    for query, out, _ in laid_out:
        lines = out["text"].splitlines()
        header = lines[:len(comments(query))]
        assert header == comments(query), out["text"]
        assert not any(line.startswith("#") for line in lines[len(header):]), "no comment is made up"


def test_no_prefix_is_declared_that_the_query_did_not_declare(laid_out):
    for query, out, _ in laid_out:
        declared = set(re.findall(r"PREFIX\s+([\w-]*):", query, re.I))
        assert set(re.findall(r"PREFIX\s+([\w-]*):", out["text"], re.I)) == declared, out["text"]


def test_strings_and_iris_holding_a_hash_are_not_taken_for_comments():
    [out] = prettified([TRICKY[1]])
    assert comments(TRICKY[1]) == ["# top", "# why", "# which"] and out["moved"] == 2
    assert '"C# and #hash"' in out["text"] and "<http://example.org/a#b>" in out["text"]


def test_a_query_that_does_not_parse_is_refused_with_where_it_fails():
    [out] = prettified(["SELECT ?m WHERE {\n  ?m plm:improvesOn\n}"])
    assert "text" not in out and out["error"]["message"].startswith("Line 3, column 1: found “}”")
