"""Loading the graph's Turtle files into an Oxigraph store, with errors that name file and line."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
GRAPH_FILES = ("ontology.ttl", "survey.ttl", "claims.ttl", "demos.ttl")
SHAPES_FILE = DATA_DIR / "shapes.ttl"
# written by `kg verify`; loaded into its own named graph when present
VERIFICATION_FILE = DATA_DIR.parent / "verification" / "results.trig"

_FORMATS = {".ttl": "TURTLE", ".nt": "N_TRIPLES", ".nq": "N_QUADS", ".trig": "TRIG"}


class GraphSyntaxError(ValueError):
    """A data file that does not parse; the message reads `file:line:column: what is wrong`."""

    def __init__(self, path: Path, line: int | None, column: int | None, problem: str):
        self.path, self.line, self.column, self.problem = path, line, column, problem
        where = f"{path}:{line}:{column}" if line else str(path)
        super().__init__(f"{where}: {problem}")


def default_sources() -> list[Path]:
    """The survey graph's files (and the last verification run's results, if any), or the files
    named in $PLM_MAP_GRAPH (separated by os.pathsep)."""
    env = os.environ.get("PLM_MAP_GRAPH")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    sources = [DATA_DIR / name for name in GRAPH_FILES]
    if VERIFICATION_FILE.exists():
        sources.append(VERIFICATION_FILE)
    return sources


def load_store(sources: list[Path]):
    """A new in-memory pyoxigraph Store holding every source file.

    Raises:
        GraphSyntaxError: naming the first file that does not parse, with line and column.
        FileNotFoundError: for a missing file.
    """
    import pyoxigraph as ox

    store = ox.Store()
    for path in sources:
        path = Path(path)
        fmt = _FORMATS.get(path.suffix.lower())
        if fmt is None:
            raise ValueError(f"{path}: unknown RDF format (use one of {', '.join(_FORMATS)})")
        try:
            store.bulk_load(path=str(path), format=getattr(ox.RdfFormat, fmt))
        except SyntaxError as e:
            problem = str(e.args[0]) if e.args else str(e)
            problem = problem.split(": ", 1)[1] if problem.startswith("Parser error at") else problem
            raise GraphSyntaxError(path, e.lineno, e.offset, problem) from None
    return store
