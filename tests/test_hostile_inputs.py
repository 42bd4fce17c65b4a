"""Hostile inputs to the library and the `kg` command: huge searches and names are cut or refused
before any work, the graph's control characters reach no terminal, out-of-range options are usage
errors, binary query files and Ctrl-C end in one line, and a closed pipe ends the command quietly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg import cli
from kg.backends import EmbeddedBackend
from kg.limits import MAX_INPUT_CHARS, clip, display_text, visible
from kg.nodes import NameTooLong, describe, resolve, search
from kg.trace import between, fixes
from tests.hostile_graph import TERMINAL, graph_env, write_hostile_graph

ROOT = Path(__file__).resolve().parent.parent
RAW = ("\x1b", "\x07", "\u202e")     # what must never reach a terminal as it is


def kg(*args, env=None, stdin: bytes | None = None):
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], capture_output=True, cwd=ROOT,
                          input=stdin, timeout=120, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def hostile_env(tmp_path_factory):
    return {"PLM_MAP_GRAPH": graph_env(write_hostile_graph(tmp_path_factory.mktemp("hostile")))}


# --------------------------------------------------------------------------------------------- the library


def test_a_megabyte_search_is_cut_and_answers_in_well_under_a_second(kg):
    search(kg, "warm up")
    for text in ("排列语言模型 abc " * 100_000, "x" * 1_000_000):
        t0 = time.perf_counter()
        hits = search(kg, text)
        assert time.perf_counter() - t0 < 0.5
        assert hits == []


def test_a_search_uses_its_first_characters_only(kg):
    assert search(kg, "Permutation language modeling" + " " * MAX_INPUT_CHARS + "zzz")[0].id == "permutation-lm"


def test_a_100_kb_node_name_is_refused_as_too_long_at_once(kg):
    name = "BERT" * 25_000
    fixes(kg, "BERT")                   # the graph's indexes are built once; that is not the name's cost
    for call in (lambda: resolve(kg, name), lambda: describe(kg, name), lambda: fixes(kg, name),
                 lambda: between(kg, "BERT", name), lambda: between(kg, name, "XLNet")):
        t0 = time.perf_counter()
        with pytest.raises(NameTooLong, match="at most 200 characters; this one has 100,000"):
            call()
        assert time.perf_counter() - t0 < 0.1


def test_a_cut_text_ends_in_a_visible_mark():
    assert clip("short", 10) == "short"
    assert clip("x" * 50, 10) == "x" * 9 + "…"
    assert clip("x" * 5000) == "x" * 1999 + "… (cut at 2,000 characters)"


def test_control_and_bidi_characters_become_visible_escapes():
    assert visible(TERMINAL + "red\u202eevil") == "\\x1b]0;pwned\\x07\\x1b[31mred\\u202eevil"
    assert visible("a\nb", keep="\n") == "a\nb" and visible("a\nb") == "a\\x0ab"
    assert visible("排列语言模型 BERT") == "排列语言模型 BERT"
    assert display_text("\u202e" + "x" * 300, 10) == "\\u202e" + "x" * 8 + "…"


# --------------------------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize("args", [
    ("show", "hostile"), ("search", "hostile"), ("trace", "hostile"), ("stats",),
    ("query", "SELECT ?l WHERE { pm:hostile skos:altLabel ?l }"),
    ("query", "SELECT ?l WHERE { pm:hostile skos:altLabel ?l }", "--format", "table"),
])
def test_the_graphs_escape_sequences_print_visibly_escaped_and_long_texts_cut(hostile_env, args):
    out = kg(*args, env=hostile_env)
    assert out.returncode == 0, out.stderr.decode()
    text = out.stdout.decode()
    assert not any(c in text for c in RAW)
    assert len(text) < 50_000                         # the megabyte labels are cut
    if args[0] != "stats":
        assert "\\x1b]0;pwned\\x07" in text or "\\x1b" in text


@pytest.mark.parametrize("args", [
    ("show", "hostile", "--json"), ("trace", "hostile", "--json"), ("stats", "--json"),
    ("query", "SELECT ?l WHERE { pm:hostile skos:altLabel ?l }", "--format", "json"),
])
def test_json_output_stays_valid_json_with_the_characters_escaped(hostile_env, args):
    out = kg(*args, env=hostile_env)
    assert out.returncode == 0, out.stderr.decode()
    text = out.stdout.decode()
    assert not any(c in text for c in RAW)
    data = json.loads(text)
    if args[0] == "show":
        assert TERMINAL + "red" in data["alt_labels"]     # the data itself is whole
    if args[0] == "query":
        assert TERMINAL + "red" in {b["l"]["value"] for b in data["results"]["bindings"]}


@pytest.mark.parametrize("args, option", [
    *[(("query", "ASK {}", "--timeout", t), "--timeout") for t in ("inf", "nan", "1e308", "-1", "0", "301", "soon")],
    *[(("query", "ASK {}", "--max-rows", n), "--max-rows") for n in ("-1", "0", "1000001", "1e3")],
    (("search", "BERT", "--limit", "0"), "--limit"), (("search", "BERT", "--limit", "100000"), "--limit"),
    (("trace", "BERT", "XLNet", "--cutoff", "0"), "--cutoff"),
    (("trace", "BERT", "XLNet", "--cutoff", "99"), "--cutoff"),
])
def test_out_of_range_numeric_options_are_usage_errors(args, option):
    out = kg(*args)
    err = out.stderr.decode()
    assert out.returncode == 2
    assert err.splitlines()[-1].startswith(f"kg {args[0]}: error: argument {option}: ")
    assert "Traceback" not in err


def test_numeric_options_in_range_are_accepted():
    out = kg("query", "SELECT * WHERE { ?s ?p ?o }", "--timeout", "300", "--max-rows", "3", "--format", "csv")
    assert out.returncode == 0 and len(out.stdout.decode().splitlines()) == 4


@pytest.mark.parametrize("data", [os.urandom(4096), b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)],
                         ids=["random bytes", "png"])
def test_a_binary_query_file_or_input_is_not_utf8_text(tmp_path, data):
    path = tmp_path / "query.rq"
    path.write_bytes(data)
    out = kg("query", "--file", str(path))
    assert out.returncode == 1 and out.stderr.decode() == f"kg: error: {path} is not UTF-8 text\n"
    out = kg("query", stdin=data)
    assert out.returncode == 1 and out.stderr.decode() == "kg: error: standard input is not UTF-8 text\n"


def test_a_query_file_far_over_the_limit_is_refused_unread(tmp_path):
    path = tmp_path / "huge.rq"
    path.write_bytes(b"#" * 10_000_000)
    out = kg("query", "--file", str(path))
    assert out.returncode == 1 and "longer than the query limit of 20,000 characters" in out.stderr.decode()


def test_ctrl_c_during_a_query_exits_130_with_one_line():
    runaway = "SELECT (COUNT(*) AS ?c) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"
    proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "query", runaway, "--timeout", "120"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(5)                       # the graph is loaded and the worker is running the query
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode() == "interrupted\n"


@pytest.mark.parametrize("args", [("export",), ("query", "SELECT * WHERE { ?s ?p ?o }", "--format", "csv")])
def test_a_closed_stdout_ends_the_command_quietly(args):
    proc = subprocess.Popen([sys.executable, "-m", "kg.cli", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()                 # what `kg export | head -1` does
    err = proc.stderr.read().decode()
    assert proc.wait(60) in (0, 141)
    assert "Traceback" not in err and "Exception ignored" not in err and "BrokenPipe" not in err


def test_the_sandbox_warning_is_printed_once_on_stderr(monkeypatch, capsys):
    # what the backend says when the operator turned the query sandbox off (PLM_MAP_UNSAFE_NO_SANDBOX=1)
    warning = "the query sandbox is OFF \x1b[31m(PLM_MAP_UNSAFE_NO_SANDBOX=1)"
    monkeypatch.setattr(EmbeddedBackend, "sandbox_warning", warning, raising=False)
    for args in (["search", "BERT"], ["show", "BERT"], ["query", "ASK { pm:XLNet plm:improvesOn pm:BERT }"]):
        assert cli.main(args) == 0
        err = capsys.readouterr().err
        assert err.count("the query sandbox is OFF") == 1
        assert "kg: warning: the query sandbox is OFF \\x1b[31m" in err
