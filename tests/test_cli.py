"""The `kg` command as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def kg(*args, stdin: str | None = None, env=None):
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          input=stdin, timeout=120, env=env)


def test_help_lists_every_command():
    out = kg("--help")
    assert out.returncode == 0
    for command in ("query", "trace", "show", "search", "validate", "export", "stats", "examples"):
        assert command in out.stdout


def test_trace_bert_xlnet_prints_the_chain_of_question_11_with_evidence():
    out = kg("trace", "BERT", "XLNet")
    assert out.returncode == 0, out.stderr
    first = out.stdout.split("\n\n")[0]
    assert first.splitlines()[0] == "1. BERT → Independence assumption → Permutation language modeling → XLNet"
    assert "Q7.2 [section Q7]" in first and "Q16.1 [section Q16]" in first and "Q3.3 [section Q3]" in first


@pytest.mark.parametrize("fmt, check", [
    ("table", lambda s: "pm:permutation-lm" in s),
    ("csv", lambda s: s.splitlines()[0] == "mechanism,mechanismLabel,model,modelLabel"),
    ("tsv", lambda s: s.startswith("?mechanism\t") and "<https://w3id.org/plm-map/id/XLNet>" in s),
    ("json", lambda s: json.loads(s)["results"]["bindings"][0]["model"]["value"].endswith("/XLNet")),
    ("xml", lambda s: "<uri>https://w3id.org/plm-map/id/XLNet</uri>" in s and s.rstrip().endswith("</sparql>")),
])
def test_query_output_formats(fmt, check):
    out = kg("query", "--example", "10", "--format", fmt)
    assert out.returncode == 0, out.stderr
    assert check(out.stdout)


def test_a_value_xml_cannot_carry_is_an_error_not_a_broken_file():
    out = kg("query", "--format", "xml", 'SELECT ?x WHERE { BIND("a\\u0007b" AS ?x) }')
    assert out.returncode == 1 and out.stdout == ""
    assert "U+0007, which XML 1.0 cannot carry" in out.stderr


def test_query_from_a_file_and_from_standard_input(tmp_path):
    f = tmp_path / "q.rq"
    f.write_text("ASK { pm:XLNet plm:improvesOn pm:BERT }")
    assert kg("query", "--file", str(f)).stdout.strip() == "yes"
    out = kg("query", "--format", "turtle", stdin="CONSTRUCT { pm:XLNet ?p ?o } WHERE { pm:XLNet ?p ?o }")
    assert out.returncode == 0 and "pm:XLNet" in out.stdout and "@prefix plm:" in out.stdout


@pytest.mark.parametrize("args, message", [
    (("query", "DROP ALL"), "Only SELECT, ASK, CONSTRUCT and DESCRIBE"),
    (("query", "SELECT * WHERE { ?s ?p"), "Syntax error at line 1, column"),
    (("query", "SELECT (COUNT(*) AS ?c) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }", "--timeout", "1"), "time limit"),
    (("show", "Transformr"), "Did you mean: Transformer"),
    (("query", "--example", "99"), "No example query"),
])
def test_errors_are_one_clear_line_and_a_non_zero_exit(args, message):
    out = kg(*args)
    assert out.returncode == 1
    assert out.stderr.startswith("kg: error: ") and message in out.stderr
    assert "Traceback" not in out.stderr


def test_row_cap_is_reported():
    out = kg("query", "SELECT * WHERE { ?s ?p ?o }", "--max-rows", "5", "--format", "csv")
    assert out.returncode == 0 and len(out.stdout.strip().splitlines()) == 6
    assert "truncated at the row cap of 5" in out.stderr


def test_show_search_stats_validate():
    show = kg("show", "排列語言模型")
    assert show.returncode == 0 and "Permutation language modeling   排列语言模型 / 排列語言模型" in show.stdout
    assert "introduced by" in show.stdout and "Q17.6 [Q17]" in show.stdout
    search = kg("search", "gradual unfreezng")
    assert search.returncode == 0 and search.stdout.split()[2] == "gradual-unfreezing"
    stats = json.loads(kg("stats", "--json").stdout)
    assert stats["classes"]["plm:Claim"] == 120 and stats["triples"] > 4000
    validate = kg("validate")
    assert validate.returncode == 0 and "conforms" in validate.stdout


@pytest.mark.parametrize("fmt, marker", [
    ("turtle", "@prefix pm:"), ("ntriples", "<https://w3id.org/plm-map/id/XLNet>"),
    ("jsonld", '"@id"'), ("graphml", "<graphml"),
])
def test_export_formats(tmp_path, fmt, marker):
    path = tmp_path / f"graph.{fmt}"
    out = kg("export", "--format", fmt, "-o", str(path))
    assert out.returncode == 0, out.stderr
    text = path.read_text(encoding="utf-8")
    assert marker in text and len(text) > 10_000


def test_malformed_turtle_is_reported_with_file_and_line(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix pm: <https://w3id.org/plm-map/id/> .\npm:a pm:b pm:c .\npm:a pm:b\n pm:x pm:y .\n")
    import os

    out = kg("stats", env={**os.environ, "PLM_MAP_GRAPH": str(bad)})
    assert out.returncode == 1
    assert f"{bad}:4:" in out.stderr and "dot is expected" in out.stderr
