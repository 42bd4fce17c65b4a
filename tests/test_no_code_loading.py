"""Nothing a user sends can become code (security notes §10 F, tests 34, 35 and 38).

The demos train their tiny models from scratch on every run and load no checkpoint, so there is no
path through which a malicious checkpoint could be offered; the query workers send JSON, not
pickles. This test reads the source of everything that runs in the app, the CLI and the workers,
and fails if a loader of code or pickles appears there.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("kg", "mechanisms", "app_pages") for p in (ROOT / d).rglob("*.py")) + [ROOT / "explorer.py"]

# (module or object, attribute) pairs that turn bytes into code or objects
LOADERS = {("torch", "load"), ("jit", "load"), ("torch", "package"), ("pickle", "load"), ("pickle", "loads"),
           ("marshal", "loads"), ("dill", "load"), ("shelve", "open")}
BUILTINS = {"eval", "exec", "compile", "__import__"}


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name):
                yield f.id, node.lineno
            elif isinstance(f, ast.Attribute):
                owner = f.value.attr if isinstance(f.value, ast.Attribute) else getattr(f.value, "id", "")
                yield f"{owner}.{f.attr}", node.lineno


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_source_file_loads_code_pickles_or_checkpoints(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [(name, line) for name, line in _calls(tree)
             if name in BUILTINS or tuple(name.split(".")) in LOADERS
             # multiprocessing's Connection.recv / .send pickle; only recv_bytes / send_bytes may be used
             or name.split(".")[0].lower().endswith("conn") and name.split(".")[-1] in ("recv", "send")]
    imports = [n.lineno for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
               and any(a.name.split(".")[0] in ("pickle", "marshal", "dill", "shelve") for a in n.names)
               or isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] in ("pickle", "marshal", "dill", "shelve")]
    assert found == [] and imports == [], f"{path.name}: {found or imports}"


def test_the_scan_sees_a_loader_when_there_is_one():
    tree = ast.parse("import torch\nmodel = torch.load(path)\nvalue = eval(text)\nself._conn.recv()\n")
    assert [name for name, _ in _calls(tree)] == ["torch.load", "eval", "_conn.recv"]
