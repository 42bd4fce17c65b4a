"""Loading the graph library stays light: no torch, no rdflib until a command needs them."""

import subprocess
import sys


def test_importing_kg_and_loading_the_graph_imports_neither_torch_nor_rdflib():
    code = ("import sys, kg; b = kg.open_backend(); from kg import nodes, trace; "
            "trace.between(b, 'BERT', 'XLNet'); "
            "print('torch' in sys.modules, 'rdflib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]
