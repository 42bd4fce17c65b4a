"""The server's lang() case warning (kg/lang_case.py) is true, finds every form, and agrees with the editor.

* The premise is checked against the engine: Oxigraph lower-cases language tags, so `lang(?o) =
  "zh-Hans"` matches nothing where `"zh-hans"` and `langMatches` match.
* The warning is given for `=`, `!=` (either order), `IN` / `NOT IN` lists, anywhere in the query,
  on the line of the tag; and not for lower-case tags, `langMatches`, other functions, comments,
  strings or text that does not parse.
* The editor's regex (`langWarnings` in the bundle the app serves, run in node) and the server agree
  on the forms the regex reads; where the server reads more, it finds a superset; the only warnings
  the editor gives and the server does not are in comments and inside longer strings.
* The example queries, which are correct, get no warning; written with "EN", each is warned on its line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph
import pytest
from rdflib.plugins.sparql.parser import parseQuery

from kg.examples import examples
from kg.lang_case import MAX_TOKENS, LangCaseWarning, lang_case_warnings
from kg.safety import MAX_QUERY_CHARS
from kg.sparql_tokens import tokenize
from kg.vocab import prologue

BUNDLE = Path(__file__).resolve().parents[1] / "app_pages" / "static" / "sparql_editor.js"
RUN = """
import { readFileSync } from "node:fs";
const m = await import(process.argv[1]);
const texts = JSON.parse(readFileSync(0, "utf8"));
console.log(JSON.stringify(texts.map((t) => m.langWarnings(t).map((w) => [w.from, w.to]))));
"""


def server(text: str) -> list[tuple[str, int]]:
    return [(w.tag, w.line) for w in lang_case_warnings(text, prologue())]


def editor(texts: list[str]) -> list[list[tuple[str, int, int]]]:
    """(tag, line, character index) of each of the editor's warnings, for every text, in one node run."""
    node = shutil.which("node")
    assert node, "node is needed to run the editor's langWarnings (test.sh installs Debian's nodejs)"
    out = subprocess.run([node, "--input-type=module", "-e", RUN, str(BUNDLE)], input=json.dumps(texts),
                         capture_output=True, text=True, timeout=120, check=True)
    return [[_from_utf16(text, start, end) for start, end in spans]
            for text, spans in zip(texts, json.loads(out.stdout))]


def _from_utf16(text: str, start: int, end: int) -> tuple[str, int, int]:
    """JavaScript counts UTF-16 code units; Python counts characters."""
    units = text.encode("utf-16-le")
    before = units[:2 * start].decode("utf-16-le")
    return units[2 * start:2 * end].decode("utf-16-le"), before.count("\n") + 1, len(before)


def in_comment_or_longer_string(text: str, index: int, tag: str) -> bool:
    """True when text[index] is in a comment, or inside a string literal that holds more than `tag`."""
    for t in tokenize(text):
        if t.start <= index < t.start + len(t.text):
            return t.kind == "string" and t.value != tag
    return not text[index].isspace()  # in no token and not white space: in a comment


# (query, the server's warnings as (tag, line), kind) where kind says how the editor compares:
#   both    — the regex reads this form: the editor gives exactly the server's warnings
#   server  — the server reads more (IN lists, lang of an expression, brackets): a strict superset
#   neither — no warning from either
#   editor  — the regex reads a comment or a string as code; the server does not
CASES = [
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) = "zh-Hans") }',
                 [("zh-Hans", 1)], "both", id="equals"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER("zh-Hans" = lang(?l)) }',
                 [("zh-Hans", 1)], "both", id="tag-first"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) != "EN") }',
                 [("EN", 1)], "both", id="not-equals"),
    pytest.param("SELECT * WHERE { ?m rdfs:label ?l FILTER('pt-BR' != lang(?l)) }",
                 [("pt-BR", 1)], "both", id="single-quotes-tag-first"),
    pytest.param('SELECT * WHERE {\n  ?m rdfs:label ?l\n  FILTER(LANG( ?l )="De")\n}',
                 [("De", 3)], "both", id="upper-case-LANG-no-spaces"),
    pytest.param('SELECT * WHERE { ?m rdfs:label $l FILTER(lang($l) = "zh-Hant") }',
                 [("zh-Hant", 1)], "both", id="dollar-variable"),
    pytest.param('SELECT * WHERE {\n  ?m rdfs:label ?a\n  FILTER(lang(?a) = "zh-Hans")\n  ?m skos:altLabel ?b\n'
                 '  FILTER(lang(?b) = "zh-Hans")\n}',
                 [("zh-Hans", 3), ("zh-Hans", 5)], "both", id="same-tag-twice-two-lines"),
    pytest.param('SELECT * WHERE {\n  ?m rdfs:label ?l\n'
                 '  FILTER(langMatches(lang(?l), "zh-Hans") || lang(?l) = "zh-Hans")\n}',
                 [("zh-Hans", 3)], "both", id="same-tag-in-langMatches-and-equals"),
    pytest.param('SELECT ?m WHERE {\n  {\n    SELECT ?m WHERE {\n      ?m rdfs:label ?l\n'
                 '      FILTER(lang(?l) = "zh-Hans")\n    }\n  }\n}',
                 [("zh-Hans", 5)], "both", id="subquery"),
    pytest.param('SELECT ?m ?zh WHERE {\n  ?m rdfs:label ?l\n  BIND(lang(?l) = "zh-Hans" AS ?zh)\n}',
                 [("zh-Hans", 3)], "both", id="bind"),
    pytest.param('SELECT ?m ((lang(?l) = "En") AS ?english) WHERE { ?m rdfs:label ?l }',
                 [("En", 1)], "both", id="select-expression"),
    pytest.param('SELECT ?l (COUNT(?m) AS ?n) WHERE { ?m rdfs:label ?l }\nGROUP BY ?l\nHAVING (lang(?l) = "EN")',
                 [("EN", 3)], "both", id="having"),
    pytest.param('SELECT * WHERE {\n  ?m a plm:LanguageModel\n  OPTIONAL { ?m rdfs:label ?a FILTER(lang(?a) = "En") }\n'
                 '  { ?m skos:altLabel ?b FILTER(lang(?b) = "Fr") } UNION { ?m skos:prefLabel ?b }\n'
                 '  MINUS { ?m skos:hiddenLabel ?c FILTER(lang(?c) != "DE") }\n}',
                 [("En", 3), ("Fr", 4), ("DE", 5)], "both", id="optional-union-minus"),
    pytest.param('SELECT * WHERE {\n  ?m rdfs:label ?l\n  FILTER(lang(?l) IN ("en", "zh-Hans",\n      "pt-BR"))\n}',
                 [("zh-Hans", 3), ("pt-BR", 4)], "server", id="in-list"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) NOT IN ("zh-Hans")) }',
                 [("zh-Hans", 1)], "server", id="not-in-list"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(str(?l)) = "zh-Hans") }',
                 [("zh-Hans", 1)], "server", id="lang-of-an-expression"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?a OPTIONAL { ?m skos:altLabel ?b }\n'
                 '  FILTER(lang(COALESCE(?b, ?a)) = "zh-Hans") }',
                 [("zh-Hans", 2)], "server", id="lang-of-coalesce"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER((lang(?l)) = ("zh-Hans")) }',
                 [("zh-Hans", 1)], "server", id="brackets"),
    pytest.param('SELECT * WHERE {\n  ?m rdfs:label ?l\n  FILTER(lang(?l) = "EN" || lang(?l) IN ("zh-Hans"))\n}',
                 [("EN", 3), ("zh-Hans", 3)], "server", id="equals-and-in-list"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) = "zh-hans") }',
                 [], "neither", id="lower-case-tag"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER(langMatches(lang(?l), "zh-Hans")) }',
                 [], "neither", id="langMatches"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER(str(?l) = "zh-Hans") }',
                 [], "neither", id="str-not-lang"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) = "Hello World") }',
                 [], "neither", id="not-shaped-like-a-tag"),
    pytest.param('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) = "en" && ?l = "zh-Hans") }',
                 [], "neither", id="tag-compared-with-something-else"),
    pytest.param('SELECT * WHERE {\n  ?m rdfs:label ?l\n  # FILTER(lang(?l) = "zh-Hans")\n'
                 '  FILTER(lang(?l) = "zh-hans")\n}',
                 [], "editor", id="comment"),
    pytest.param('SELECT * WHERE { ?m rdfs:comment ?c FILTER(CONTAINS(?c, "lang(?l) = \'zh-Hans\'")) }',
                 [], "editor", id="inside-a-string"),
]


def test_the_engine_gives_language_tags_in_lower_case_so_a_mixed_case_comparison_matches_nothing():
    store = pyoxigraph.Store()
    store.load(b'<http://example.org/s> <http://example.org/p> "x"@zh-Hans .', pyoxigraph.RdfFormat.N_TRIPLES)

    def rows(condition: str) -> int:
        return len(list(store.query(f"SELECT ?o WHERE {{ ?s ?p ?o FILTER({condition}) }}")))

    assert rows('lang(?o) = "zh-Hans"') == 0
    assert rows('lang(?o) = "zh-hans"') == 1
    assert rows('langMatches(lang(?o), "zh-Hans")') == 1
    assert [str(r["t"].value) for r in store.query("SELECT (lang(?o) AS ?t) WHERE { ?s ?p ?o }")] == ["zh-hans"]


@pytest.mark.parametrize("query, expected, kind", CASES)
def test_the_server_warns_on_the_line_of_each_mixed_case_tag_compared_with_lang(query, expected, kind):
    assert server(query) == expected


def test_a_query_that_does_not_parse_gets_no_warning():
    assert server('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) = "zh-Hans")') == []
    assert server('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) = "zh-Hans") ∞ }') == []


def test_a_literal_with_its_own_language_tag_or_datatype_is_not_a_plain_string_and_gets_no_warning():
    # lang(…) is a plain string, never equal to these whatever their case: "write zh-hans" would not help
    assert server('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) = "zh-Hans"@en) }') == []
    assert server('SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) = "zh-Hans"^^<http://example.org/t>) }') == []


def test_the_warning_names_the_tag_the_engine_gives_and_the_two_ways_out():
    [w] = lang_case_warnings('SELECT * WHERE {\n  ?m rdfs:label ?l FILTER(lang(?l) = "zh-Hans")\n}', prologue())
    assert w == LangCaseWarning(tag="zh-Hans", lower="zh-hans", line=2, column=38, op="=")
    assert w.message == ('lang(…) is compared with "zh-Hans", but the engine gives language tags in lower case '
                         '("zh-hans"), so the comparison is false on every row. Write "zh-hans", or '
                         'langMatches(lang(…), "zh-Hans"), which ignores case.')
    [ne] = lang_case_warnings('SELECT * { ?m ?p ?l FILTER(lang(?l) != "EN") }')
    assert "true on every row" in ne.message


def test_prefixed_names_parse_with_or_without_the_page_prologue():
    query = 'SELECT * WHERE { ?m plm:name ?l FILTER(lang(?l) = "EN") }'
    assert [w.tag for w in lang_case_warnings(query, prologue())] == ["EN"]
    assert [w.tag for w in lang_case_warnings(query)] == ["EN"]


def test_a_long_string_before_the_comparison_does_not_move_its_line():
    filler = "x" * 19_000
    query = f'SELECT * WHERE {{\n  VALUES ?v {{ "{filler}" }}\n  ?m rdfs:label ?l\n  FILTER(lang(?l) = "zh-Hans")\n}}'
    assert len(query) <= MAX_QUERY_CHARS
    assert server(query) == [("zh-Hans", 4)]


def test_a_query_of_more_tokens_than_the_parse_allows_is_not_parsed():
    def query(n: int) -> str:
        return "SELECT * WHERE {\n" + "".join(f'  ?m skos:prefLabel ?l{i} FILTER(lang(?l{i}) = "zh-Hans")\n'
                                             for i in range(n)) + "}"
    small = next(n for n in range(60, 0, -1) if len(tokenize(query(n))) <= MAX_TOKENS)
    assert len(server(query(small))) == small
    assert server(query(small + 1)) == []


def test_text_over_the_query_limit_is_not_read():
    query = 'SELECT * WHERE { ?m rdfs:label ?l FILTER(lang(?l) = "zh-Hans") }'
    assert server(query + " " * (MAX_QUERY_CHARS - len(query))) == [("zh-Hans", 1)]
    assert server(query + " " * (MAX_QUERY_CHARS + 1 - len(query))) == []


def test_nesting_too_deep_for_rdflibs_recursive_parser_gives_no_warning_rather_than_a_crash():
    deep = "SELECT * WHERE { ?m ?p ?l FILTER(" + "(" * 500 + "lang(?l)" + ")" * 500 + ' = "zh-Hans") }'
    long_block = "SELECT * WHERE {\n" + "".join(f"  ?m ?p ?o{i} .\n" for i in range(1000)) + \
        '  ?m ?p ?l FILTER(lang(?l) = "zh-Hans")\n}'
    assert server(deep) == []
    assert server(long_block) == []


@pytest.fixture(scope="module")
def editor_results() -> dict[str, list[tuple[str, int, int]]]:
    texts = [p.values[0] for p in CASES] + [ex.text for ex in examples()] + [upper_cased(ex.text) for ex in examples()]
    return dict(zip(texts, editor(texts)))


@pytest.mark.parametrize("query, expected, kind", CASES)
def test_the_editor_and_the_server_agree_where_the_editors_regex_can_read_the_form(query, expected, kind,
                                                                                    editor_results):
    ours = server(query)
    theirs = [(tag, line) for tag, line, _ in editor_results[query]]
    if kind in ("both", "neither"):
        assert theirs == ours
    elif kind == "server":
        assert set(theirs) < set(ours), "the server finds every warning the editor finds, and more"
    else:
        assert ours == [] and theirs, "the editor's regex warns here, the server does not"
    for tag, line, index in editor_results[query]:
        assert (tag, line) in ours or in_comment_or_longer_string(query, index, tag)


def test_every_example_query_is_read_by_rdflib_so_its_silence_is_a_real_check():
    for ex in examples():
        parseQuery(prologue() + ex.text)


def test_no_example_query_gets_a_warning_from_the_server_or_the_editor(editor_results):
    assert len(examples()) == 25
    for ex in examples():
        assert server(ex.text) == [], ex.name
        assert editor_results[ex.text] == [], ex.name


LANG_EN = re.compile(r'LANG\(\?\w+\)\s*=\s*"(en)"')


def upper_cased(text: str) -> str:
    return LANG_EN.sub(lambda m: m[0].replace('"en"', '"EN"'), text)


def test_every_example_written_with_EN_is_warned_on_each_comparison_by_both(editor_results):
    warned = 0
    for ex in examples():
        lines = [ex.text.count("\n", 0, m.start(1)) + 1 for m in LANG_EN.finditer(ex.text)]
        broken = upper_cased(ex.text)
        assert server(broken) == [("EN", line) for line in lines], ex.name
        assert [(tag, line) for tag, line, _ in editor_results[broken]] == server(broken), ex.name
        warned += len(lines)
    assert warned >= 25


def test_a_query_with_nothing_to_warn_about_is_not_parsed_and_does_not_load_rdflib():
    code = ("import sys; from kg.lang_case import lang_case_warnings; from kg.examples import get; "
            "print(lang_case_warnings(get('02-autoregressive-models').text), 'rdflib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "False"]
