"""The `kg` command: query, trace, show, search, validate, export and summarise the graph.

Every command reads the embedded graph (data/*.ttl) unless `--endpoint URL` or $PLM_MAP_ENDPOINT
names a SPARQL 1.1 endpoint to read instead.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

from . import examples as examples_mod
from .backends import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT, ENDPOINT_ENV, QueryError, open_backend
from .results import AskResult, GraphResult, SelectResult, to_csv, to_json, to_ntriples, to_table, to_tsv
from .store import GraphSyntaxError

EPILOG = """examples:
  kg trace BERT XLNet                  why XLNet follows BERT, hop by hop with the survey's claims
  kg trace BERT                        every weakness of BERT, what fixes it and which model brings the fix
  kg show 排列语言模型                  a node by English or Chinese label (either script), id or claim id
  kg search "permutaton languge"       search labels, tolerant of typos
  kg query "SELECT ?m WHERE { ?m plm:improvesOn pm:BERT }"
  kg query --example 11 --format json  run an example query (kg examples lists them)
  kg export --format jsonld -o graph.jsonld
  kg demo list -v                      the PyTorch demos, the claims they check and their parameters
  kg demo run attention-scaling --d_max 2048
  kg verify                            run every claim check; write verification/results.trig and report.md

Prefixes plm:, pm:, skos:, dcterms:, schema:, prov:, cito:, rdf:, rdfs:, owl:, xsd: are declared
in every query. Set $PLM_MAP_ENDPOINT (or pass --endpoint) to read a SPARQL endpoint instead."""


class CliError(Exception):
    """A failure to report as one line on stderr, with exit status 1."""


def _write(args, data: str | bytes) -> None:
    out = getattr(args, "output", None)
    if out:
        Path(out).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        print(f"wrote {out}", file=sys.stderr)
    elif isinstance(data, bytes):
        sys.stdout.buffer.write(data)
    else:
        sys.stdout.write(data if data.endswith("\n") else data + "\n")


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


def cmd_query(args, backend) -> int:
    if args.example:
        text = examples_mod.get(args.example).text
    elif args.file:
        text = Path(args.file).read_text(encoding="utf-8")
    elif args.text == "-" or (args.text is None and not sys.stdin.isatty()):
        text = sys.stdin.read()
    elif args.text:
        text = args.text
    else:
        raise CliError("give the query as an argument, with --file, --example, or on standard input")
    result = backend.query(text, timeout=args.timeout, max_rows=args.max_rows)
    fmt = args.format
    if isinstance(result, GraphResult):
        from .export import serialize_triples

        if fmt in ("turtle", "ntriples", "jsonld"):
            _write(args, serialize_triples(result.triples, fmt))
        elif fmt == "table":
            _write(args, to_table(result))
        else:
            _write(args, to_ntriples(result))
    elif fmt == "csv" and isinstance(result, SelectResult):
        _write(args, to_csv(result))
    elif fmt == "tsv" and isinstance(result, SelectResult):
        _write(args, to_tsv(result))
    elif fmt == "json":
        _write(args, to_json(result))
    else:
        _write(args, to_table(result))
    if not isinstance(result, AskResult):
        count = len(result.rows) if isinstance(result, SelectResult) else len(result.triples)
        unit = "rows" if isinstance(result, SelectResult) else "triples"
        note = f"{count} {unit} in {result.elapsed * 1000:.1f} ms"
        if result.truncated:
            note += f" (truncated at the row cap of {args.max_rows:,}; add LIMIT or raise --max-rows)"
        print(note, file=sys.stderr)
    return 0


def cmd_examples(args, backend) -> int:
    for ex in examples_mod.examples():
        print(f"{ex.question or '-':>3}  {ex.name:<36} {ex.title}")
    return 0


def cmd_trace(args, backend) -> int:
    from .trace import between, fixes, format_chain

    if args.target:
        chains = between(backend, args.source, args.target, cutoff=args.cutoff)
    else:
        chains = fixes(backend, args.source, inherited=args.inherited)
    if args.json:
        _write(args, json.dumps([_chain_json(c) for c in chains], ensure_ascii=False, indent=1))
        return 0 if chains else 1
    if not chains:
        what = f"between {args.source} and {args.target}" if args.target else f"from {args.source}"
        print(f"No chain {what}.", file=sys.stderr)
        return 1
    print("\n\n".join(format_chain(c, number=i) for i, c in enumerate(chains, 1)))
    return 0


def _chain_json(chain) -> dict:
    return {
        "kind": chain.kind,
        "path": [n.id for n in chain.nodes],
        "hops": [
            {"from": h.source.id, "relation": h.label, "to": h.target.id, "evidence_kind": h.evidence_kind,
             "evidence": [{"claim": r.id, "section": r.section, "text": r.text} for r in h.evidence]}
            for h in chain.hops
        ],
    }


def cmd_show(args, backend) -> int:
    from .nodes import describe

    d = describe(backend, args.node)
    node = d.node
    if args.json:
        _write(args, json.dumps({
            "iri": node.iri, "id": node.id, "kinds": node.kinds, "labels": node.labels,
            "alt_labels": node.alt_labels, "definition": d.definition, "facts": d.facts,
            "outgoing": [{"relation": r.label, "node": r.node.id} for r in d.outgoing],
            "incoming": [{"relation": r.label, "node": r.node.id} for r in d.incoming],
            "claims": [{"id": c.id, "section": c.section, "text": c.text} for c in d.claims],
        }, ensure_ascii=False, indent=1))
        return 0
    wrap = lambda text, ind="  ": textwrap.fill(text, 100, initial_indent=ind, subsequent_indent=ind)  # noqa: E731
    zh = " / ".join(node.labels[k] for k in ("zh-Hans", "zh-Hant") if k in node.labels)
    print(f"{node.label}" + (f"   {zh}" if zh else "") + f"   [{', '.join(node.kinds) or 'resource'}]")
    print(f"  {node.iri}")
    if node.alt_labels:
        print(wrap("also: " + ", ".join(node.alt_labels)))
    if d.definition:
        print()
        print(wrap(d.definition))
    if d.facts:
        print("\nFacts")
        for prop, value in d.facts:
            print(wrap(f"{prop}: {value}"))
    for title, rels in (("Relations", d.outgoing), ("Relations to it", d.incoming)):
        if rels:
            print(f"\n{title}")
            for r in rels:
                print(f"  {r.label:<28} {r.node.label} ({r.node.id})")
    if d.claims:
        print("\nClaims about it")
        for c in d.claims:
            print(wrap(f"{c.id} [{c.section}] {c.text}"))
    if d.contrasts:
        print("\nContrasting claims")
        for a, b in d.contrasts:
            print(wrap(f"{a.id} ↔ {b.id}"))
    return 0


def cmd_search(args, backend) -> int:
    from .nodes import search

    hits = search(backend, args.text, limit=args.limit, kinds=set(args.kind) if args.kind else None)
    if not hits:
        print(f"Nothing matches {args.text!r}.", file=sys.stderr)
        return 1
    for h in hits:
        match = f"  (matched {h.matched!r})" if h.matched != h.label else ""
        print(f"{h.score:5.1f}  {h.kind:<12} {h.id:<40} {h.label}{match}")
    return 0


def cmd_validate(args, backend) -> int:
    from .validate import validate

    report = validate(backend)
    print(report.text())
    return 0 if report.conforms else 1


def cmd_export(args, backend) -> int:
    from .export import export

    _write(args, export(backend, args.format))
    return 0


def cmd_stats(args, backend) -> int:
    from .stats import stats

    s = stats(backend)
    if args.json:
        _write(args, json.dumps(s, indent=1))
        return 0
    print(f"{s['triples']:,} triples")
    print("\nNodes per class")
    for cls, n in s["classes"].items():
        print(f"  {n:6,}  {cls}")
    print("\nUses of each plm: property")
    for p, n in s["properties"].items():
        print(f"  {n:6,}  {p}")
    return 0


class ProgressBar:
    """A one-line progress bar on standard error."""

    def __init__(self, width: int = 30):
        self.width, self.last = width, ""

    def __call__(self, fraction: float, message: str) -> None:
        filled = int(round(self.width * max(0.0, min(1.0, fraction))))
        line = f"[{'#' * filled}{'-' * (self.width - filled)}] {fraction:4.0%} {message}"[:110]
        sys.stderr.write("\r" + line.ljust(len(self.last)))
        sys.stderr.flush()
        self.last = line

    def close(self) -> None:
        if self.last:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _demo_params(extra: list[str]) -> dict:
    """`--name value` and `--name=value` pairs after the demo id."""
    params, i = {}, 0
    while i < len(extra):
        token = extra[i]
        if not token.startswith("--") or token == "--":
            raise CliError(f"unexpected argument {token!r}; give parameters as --name value")
        name, eq, value = token[2:].partition("=")
        if not eq:
            if i + 1 >= len(extra):
                raise CliError(f"parameter --{name} needs a value")
            value, i = extra[i + 1], i + 1
        params[name.replace("-", "_")] = value
        i += 1
    return params


def cmd_demo_list(args, backend) -> int:
    import mechanisms

    if args.json:
        _write(args, json.dumps([{
            "id": d.id, "title": d.title, "title_zh": d.title_zh, "claims": list(d.claims),
            "mechanisms": list(d.mechanisms), "params": [p.describe() for p in d.params]}
            for d in mechanisms.DEMOS], ensure_ascii=False, indent=1))
        return 0
    for d in mechanisms.DEMOS:
        print(f"{d.id:<26} {', '.join(d.claims):<28} {d.title}")
        if args.verbose:
            for p in d.params:
                bounds = f"[{p.low:g}, {p.high:g}]" if p.low is not None else (
                    "{" + ", ".join(p.choices) + "}" if p.choices else "")
                print(f"    --{p.name:<18} {p.kind.__name__:<5} default {p.default!s:<8} {bounds:<16} {p.help}")
    return 0


def cmd_demo_run(args, backend, extra: list[str]) -> int:
    import mechanisms

    demo = mechanisms.get(args.id)
    params = demo.validate(_demo_params(extra))  # refused here, before anything is allocated
    bar = None if args.json else ProgressBar()
    try:
        result = demo.run(params, seed=args.seed, device=args.device, progress=bar)
    finally:
        if bar:
            bar.close()
    if args.json:
        _write(args, result.to_json())
        return 0
    print(f"{demo.title}   ({demo.id})")
    print(f"  {demo.title_zh}")
    print("  parameters: " + ", ".join(f"{k}={v}" for k, v in result.params.items()) + f", seed={result.seed}")
    print()
    for v in result.verdicts:
        print(f"{v.claim:<7} {v.verdict.upper():<13} " + textwrap.fill(v.explanation, 90, subsequent_indent=" " * 21))
    print()
    keys = {v.key for v in result.verdicts if v.key}
    for name, value in result.metrics.items():
        if name in keys or args.all_metrics:
            print(f"  {name:<32} {value:.6g}" if isinstance(value, float) else f"  {name:<32} {value}")
    if result.timings:
        print("  timings (s): " + ", ".join(f"{k}={v:.4g}" for k, v in result.timings.items()))
    print(f"\n{len(result.plots)} plot(s): " + "; ".join(p.title for p in result.plots))
    print(f"ran in {result.runtime:.2f} s on {result.device}")
    return 0


def cmd_verify(args, backend) -> int:
    import mechanisms
    from mechanisms import verify as verify_mod

    demos = [mechanisms.get(i) for i in args.only] if args.only else None
    bar = ProgressBar()
    try:
        results = verify_mod.verify(demos, seed=args.seed, progress=bar)
    finally:
        bar.close()
    rows = verify_mod.rows(results)
    print(f"{'claim':<7} {'verdict':<13} {'key number':<44} demo")
    for row in rows:
        key = f"{row.key} = {verify_mod.fmt(row.value)}" if row.key else ""
        print(f"{row.claim:<7} {row.verdict:<13} {key:<44} {row.demo}")
    counts = {v: sum(r.verdict == v for r in rows) for v in ("supports", "contradicts", "inconclusive")}
    print(f"\n{len(rows)} checks: " + ", ".join(f"{n} {v}" for v, n in counts.items())
          + f"; {sum(r.runtime for r in results):.1f} s of demo time")
    out_dir = Path(args.out) if args.out else verify_mod.OUT_DIR
    trig, md = verify_mod.write(results, out_dir)
    print(f"wrote {trig} (named graph {verify_mod.GRAPH}) and {md}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    endpoint_help = f"read this SPARQL 1.1 endpoint instead of the embedded graph (or set ${ENDPOINT_ENV})"
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--endpoint", metavar="URL", help=endpoint_help)
    common = argparse.ArgumentParser(add_help=False)  # the same option after the command name
    common.add_argument("--endpoint", metavar="URL", help=endpoint_help, default=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="kg", description="An executable map of pre-trained language models (ELMo → GPT → BERT → XLNet): "
        "the survey as a knowledge graph you can query, search and trace.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter, parents=[top],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("query", parents=[common], help="run a read-only SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE)",
                       description="Run a read-only SPARQL query. Updates, SERVICE and FROM are refused; every "
                       "query has a time limit and a row cap.")
    p.add_argument("text", nargs="?", help="the query ('-' or nothing to read standard input)")
    p.add_argument("--file", "-f", help="read the query from a file")
    p.add_argument("--example", "-e", metavar="NAME", help="run an example query by name or question number")
    p.add_argument("--format", choices=("table", "csv", "tsv", "json", "turtle", "ntriples", "jsonld"),
                   default="table", help="output format (turtle/ntriples/jsonld for CONSTRUCT and DESCRIBE)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="time limit in seconds (default %(default)s)")
    p.add_argument("--max-rows", type=int, default=DEFAULT_MAX_ROWS, help="row cap (default %(default)s)")
    p.add_argument("--output", "-o", help="write to a file instead of standard output")
    p.set_defaults(func=cmd_query)

    p = sub.add_parser("examples", parents=[common], help="list the example queries (one per competency question)")
    p.set_defaults(func=cmd_examples)

    p = sub.add_parser("trace", parents=[common], help="trace weakness → fix → model chains, with their evidence",
                       description="With one node: every chain from it through a weakness to the mechanism that "
                       "fixes it and the model that brings the fix. With two: every such chain from the first to "
                       "the second (or, when there is none, their shortest connection).")
    p.add_argument("source", help="a model, weakness or other node (id, label or claim id)")
    p.add_argument("target", nargs="?", help="where the chain should end")
    p.add_argument("--inherited", action="store_true",
                   help="with one node: also follow weaknesses of its objective, extractor and mechanisms")
    p.add_argument("--cutoff", type=int, default=4, help="longest chain between two nodes, in hops (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the chains as JSON")
    p.set_defaults(func=cmd_trace)

    p = sub.add_parser("show", parents=[common], help="describe a node: labels, description, facts, relations, claims")
    p.add_argument("node", help="id (BERT), prefixed IRI (pm:BERT), claim id (Q17.6) or a label in English or Chinese")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("search", parents=[common], help="search labels in English or Chinese, tolerant of typos")
    p.add_argument("text")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--kind", action="append", help="only nodes of this kind (model, mechanism, weakness, ...)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("validate", parents=[common], help="check the graph against its SHACL shapes")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("export", parents=[common], help="write the graph as Turtle, N-Triples, JSON-LD or GraphML")
    p.add_argument("--format", choices=("turtle", "ntriples", "jsonld", "graphml"), default="turtle")
    p.add_argument("--output", "-o", help="write to a file instead of standard output")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("stats", parents=[common], help="count triples, nodes per class and property uses")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("demo", help="list or run the PyTorch demos that check the survey's claims")
    demo_sub = p.add_subparsers(dest="demo_command", metavar="list|run", required=True)
    q = demo_sub.add_parser("list", help="every demo with the claims it checks")
    q.add_argument("--verbose", "-v", action="store_true", help="also list each demo's parameters and bounds")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_demo_list, local=True)
    q = demo_sub.add_parser("run", help="run one demo: kg demo run ID [--name value ...]",
                            description="Run one demo and print its verdict per claim. Parameters follow the id as "
                            "--name value (see `kg demo list -v`); out-of-range values are refused before anything "
                            "runs.")
    q.add_argument("id")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps"))
    q.add_argument("--json", action="store_true", help="print the whole result (metrics, plot data) as JSON")
    q.add_argument("--all-metrics", action="store_true", help="print every metric, not only the key ones")
    q.add_argument("--output", "-o", help="with --json: write to a file")
    q.set_defaults(func=cmd_demo_run, local=True, takes_extra=True)

    p = sub.add_parser("verify", help="run every claim check; print claim → verdict and write RDF and a report",
                       description="Run every demo at its defaults, print the table claim → verdict → key number, "
                       "and write verification/results.trig (PROV-O, loaded as a named graph) and "
                       "verification/report.md.")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="+", metavar="ID", help="run only these demos")
    p.add_argument("--out", metavar="DIR", help="where to write results.trig and report.md (default: verification/)")
    p.set_defaults(func=cmd_verify, local=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .nodes import NodeNotFound

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "takes_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "local", False):  # demo commands do not read the graph
        from mechanisms import ParamError

        try:
            if getattr(args, "takes_extra", False):
                return args.func(args, None, extra)
            return args.func(args, None)
        except (ParamError, CliError, KeyError) as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else e
            print(f"kg: error: {msg}", file=sys.stderr)
            return 1
    try:
        backend = open_backend(args.endpoint)
    except (GraphSyntaxError, ValueError, FileNotFoundError) as e:
        print(f"kg: error: {e}", file=sys.stderr)
        return 1
    try:
        return args.func(args, backend)
    except (*QueryError, NodeNotFound, CliError, KeyError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"kg: error: {msg}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    finally:
        backend.close()


if __name__ == "__main__":
    sys.exit(main())
