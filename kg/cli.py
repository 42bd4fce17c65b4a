"""The `kg` command: query, trace, show, search, validate, export and summarise the graph.

Every command reads the embedded graph (data/*.ttl) unless `--endpoint URL` or $PLM_MAP_ENDPOINT
names a SPARQL 1.1 endpoint to read instead.

The graph's text is untrusted: human output shows its control characters as escapes (a label
cannot send an ANSI or OSC sequence to the terminal) and cuts long texts (kg.limits); JSON output
escapes them the JSON way. Numeric options are checked by argparse against ranges that cannot stall
the machine. Ctrl-C ends a command with status 130 and one line, and a reader that closes the pipe
early (`kg export | head -1`) ends it quietly.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

from . import examples as examples_mod
from .backends import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT, ENDPOINT_ENV, QueryError, open_backend
from .language import ENV as LANG_ENV
from .language import LANGUAGES, from_environment, from_tag
from .limits import MAX_INPUT_CHARS, MAX_LABEL_CHARS, clip, columns, fill, visible
from .results import AskResult, GraphResult, SelectResult, to_csv, to_json, to_ntriples, to_table, to_tsv, to_xml
from .safety import MAX_QUERY_CHARS
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
in every query. Set $PLM_MAP_ENDPOINT (or pass --endpoint) to read a SPARQL endpoint instead.
Labels, descriptions, relations and claims are printed in English unless --lang (or $PLM_MAP_LANG)
says zh-Hans (简体中文) or zh-Hant (繁體中文): kg --lang zh-Hans trace BERT."""


class CliError(Exception):
    """A failure to report as one line on stderr, with exit status 1."""


# The numeric options' ranges: wide enough for any real use, narrow enough that no value can stall
# the machine (trace paths grow exponentially with the cutoff: 15 hops already take seconds).
MAX_TIMEOUT = 300.0
MAX_ROWS = 1_000_000
MAX_SEARCH_LIMIT = 1_000
MAX_CUTOFF = 8
MAX_QUERY_BYTES = 4 * MAX_QUERY_CHARS   # UTF-8 spends at most 4 bytes on a character


def _quoted(text: str) -> str:
    """An argument as an error message quotes it: short, control characters escaped."""
    return repr(clip(text, 40))


def seconds(text: str) -> float:
    """argparse type of --timeout: a finite number of seconds above 0 and at most MAX_TIMEOUT."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {_quoted(text)}") from None
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise argparse.ArgumentTypeError(
            f"give a number of seconds above 0 and at most {MAX_TIMEOUT:g}, not {_quoted(text)}")
    return value


def language(text: str) -> str:
    """argparse type of --lang: en, zh-Hans or zh-Hant (any case; a locale such as zh-CN or zh_TW works too)."""
    lang = from_tag(text)
    if lang is None:
        raise argparse.ArgumentTypeError(f"use one of {', '.join(LANGUAGES)}, not {_quoted(text)}")
    return lang


def whole(low: int, high: int):
    """argparse type: a whole number from `low` to `high`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {_quoted(text)}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"give a whole number from {low:,} to {high:,}, not {_quoted(text)}")
        return value

    return parse


def _say(text: str = "") -> None:
    """Print human output, with the characters a terminal would obey shown as escapes."""
    print(visible(text, keep="\n"))


def _warn(text: str) -> None:
    """Print a message on standard error, escaped like _say, each line cut to MAX_TEXT_CHARS."""
    print(visible("\n".join(clip(line) for line in str(text).split("\n")), keep="\n"), file=sys.stderr)


def _json(data) -> str:
    """JSON for standard output: json escapes C0 controls, and C1 and bidi characters are escaped too."""
    return visible(json.dumps(data, ensure_ascii=False, indent=1), keep="\n", json=True)


def _write(args, data: str | bytes, *, human: bool = False) -> None:
    if human:
        data = visible(data, keep="\n")
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


def _query_text(args) -> str:
    """The query from --example, --file, standard input or the argument. Files and standard input
    are read as UTF-8, and no further than a query within the limit can reach."""
    if args.example:
        return examples_mod.get(args.example).text
    if args.file:
        where = args.file
        try:
            with open(args.file, "rb") as f:
                data = f.read(MAX_QUERY_BYTES + 1)
        except OSError as e:
            raise CliError(f"cannot read {args.file}: {e.strerror or e}") from None
    elif args.text == "-" or (args.text is None and not sys.stdin.isatty()):
        where, data = "standard input", sys.stdin.buffer.read(MAX_QUERY_BYTES + 1)
    elif args.text:
        return args.text
    else:
        raise CliError("give the query as an argument, with --file, --example, or on standard input")
    if len(data) > MAX_QUERY_BYTES:
        raise CliError(f"{where} is longer than the query limit of {MAX_QUERY_CHARS:,} characters")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{where} is not UTF-8 text") from None


def cmd_query(args, backend) -> int:
    text = _query_text(args)
    result = backend.query(text, timeout=args.timeout, max_rows=args.max_rows)
    fmt = args.format
    if isinstance(result, GraphResult):
        from .export import serialize_triples

        if fmt in ("turtle", "ntriples", "jsonld"):
            _write(args, serialize_triples(result.triples, fmt))
        elif fmt == "table":
            _write(args, to_table(result), human=True)
        else:
            _write(args, to_ntriples(result))
    elif fmt == "csv" and isinstance(result, SelectResult):
        _write(args, to_csv(result))
    elif fmt == "tsv" and isinstance(result, SelectResult):
        _write(args, to_tsv(result))
    elif fmt == "json":
        _write(args, visible(to_json(result), keep="\n", json=True))
    elif fmt == "xml":
        try:
            _write(args, to_xml(result))
        except ValueError as e:
            raise CliError(f"no XML for this result: {e}") from None
    else:
        _write(args, to_table(result), human=True)
    if not isinstance(result, AskResult):
        count = len(result.rows) if isinstance(result, SelectResult) else len(result.triples)
        unit = "rows" if isinstance(result, SelectResult) else "triples"
        note = f"{count} {unit} in {result.elapsed * 1000:.1f} ms"
        if result.truncated:
            note += f" (truncated at the row cap of {args.max_rows:,}; add LIMIT or raise --max-rows)"
        _warn(note)
    return 0


def cmd_examples(args, backend) -> int:
    for ex in examples_mod.examples():
        _say(f"{ex.question or '-':>3}  {ex.name:<36} {ex.title}")
    return 0


def cmd_trace(args, backend) -> int:
    from .trace import between, fixes, format_chain

    if args.target:
        chains = between(backend, args.source, args.target, cutoff=args.cutoff)
    else:
        chains = fixes(backend, args.source, inherited=args.inherited)
    if args.json:
        _write(args, _json([_chain_json(c, args.lang) for c in chains]))
        return 0 if chains else 1
    if not chains:
        what = f"between {args.source} and {args.target}" if args.target else f"from {args.source}"
        _warn(f"No chain {what}.")
        return 1
    _say("\n\n".join(format_chain(_bounded(c), number=i, lang=args.lang) for i, c in enumerate(chains, 1)))
    return 0


def _pad(text: str, width: int) -> str:
    """`text` padded to `width` terminal columns (a Chinese character takes two)."""
    return text + " " * max(0, width - columns(text))


def _bounded(chain):
    """A copy of the chain with its labels and claims cut for the terminal (format_chain prints
    whatever it is given whole)."""

    def node(n):
        return replace(n, labels={k: clip(v, MAX_LABEL_CHARS) for k, v in n.labels.items()},
                       identifier=clip(n.identifier, MAX_LABEL_CHARS) if n.identifier else n.identifier)

    hops = [replace(h, source=node(h.source), target=node(h.target), label=clip(h.label, MAX_LABEL_CHARS),
                    labels={k: clip(v, MAX_LABEL_CHARS) for k, v in h.labels.items()},
                    evidence=[replace(r, id=clip(r.id, MAX_LABEL_CHARS), section=clip(r.section, MAX_LABEL_CHARS),
                                      text=clip(r.text), texts={k: clip(v) for k, v in r.texts.items()})
                              for r in h.evidence])
            for h in chain.hops]
    return replace(chain, hops=hops)


def _chain_json(chain, lang: str = "en") -> dict:
    return {
        "kind": chain.kind,
        "lang": lang,
        "path": [n.id for n in chain.nodes],
        "labels": [n.name(lang) for n in chain.nodes],
        "hops": [
            {"from": h.source.id, "relation": h.name(lang), "to": h.target.id, "evidence_kind": h.evidence_kind,
             "evidence": [{"claim": r.id, "section": r.section, "text": r.text_in(lang)} for r in h.evidence]}
            for h in chain.hops
        ],
    }


def cmd_show(args, backend) -> int:
    from .nodes import describe

    d = describe(backend, args.node, lang=args.lang)
    node, lang = d.node, args.lang
    if args.json:
        _write(args, _json({
            "iri": node.iri, "id": node.id, "kinds": node.kinds, "lang": lang, "label": node.name(lang),
            "labels": node.labels, "alt_labels": node.alt_labels, "definition": d.definition_in(lang),
            "definitions": d.definitions, "facts": d.facts,
            "outgoing": [{"relation": r.name(lang), "node": r.node.id} for r in d.outgoing],
            "incoming": [{"relation": r.name(lang), "node": r.node.id} for r in d.incoming],
            "claims": [{"id": c.id, "section": c.section, "text": c.text_in(lang)} for c in d.claims],
        }))
        return 0
    wrap = lambda text, ind="  ": fill(text, 100, indent=ind)  # noqa: E731
    short = lambda text: clip(text, MAX_LABEL_CHARS)  # noqa: E731
    title = node.name(lang)
    others = [node.labels[k] for k in ("en", "zh-Hans", "zh-Hant") if k in node.labels and node.labels[k] != title]
    also = " / ".join(short(o) for o in dict.fromkeys(others))
    _say(f"{short(title)}" + (f"   {also}" if also else "") + f"   [{', '.join(node.kinds) or 'resource'}]")
    _say(f"  {clip(node.iri)}")
    if node.alt_labels:
        _say(wrap(clip("also: " + ", ".join(short(a) for a in node.alt_labels))))
    if d.definition_in(lang):
        _say()
        _say(wrap(clip(d.definition_in(lang))))
    if d.facts:
        _say("\nFacts")
        for prop, value in d.facts:
            _say(wrap(f"{short(prop)}: {clip(value)}"))
    for title, rels in (("Relations", d.outgoing), ("Relations to it", d.incoming)):
        if rels:
            _say(f"\n{title}")
            for r in rels:
                _say(f"  {_pad(short(r.name(lang)), 28)} {short(r.node.name(lang))} ({short(r.node.id)})")
    if d.claims:
        _say("\nClaims about it")
        for c in d.claims:
            _say(wrap(f"{short(c.id)} [{short(c.section)}] {clip(c.text_in(lang))}"))
    if d.contrasts:
        _say("\nContrasting claims")
        for a, b in d.contrasts:
            _say(wrap(f"{short(a.id)} ↔ {short(b.id)}"))
    return 0


def cmd_search(args, backend) -> int:
    from .nodes import index, normalize, search

    if len(args.text) > MAX_INPUT_CHARS:
        _warn(f"kg: note: the search has {len(args.text):,} characters; only the first {MAX_INPUT_CHARS:,} are used")
    hits = search(backend, args.text, limit=args.limit, kinds=set(args.kind) if args.kind else None)
    if not hits:
        _warn(f"Nothing matches {clip(args.text, MAX_INPUT_CHARS)!r}.")
        return 1
    nodes = index(backend)
    for h in hits:
        label = nodes[h.iri].name(args.lang) if h.iri in nodes else h.label
        same = normalize(h.matched) in (normalize(h.label), normalize(label))   # the label, in either script
        match = "" if same else f"  (matched {clip(h.matched, 80)!r})"
        _say(f"{h.score:5.1f}  {h.kind:<12} {clip(h.id, 80):<40} {clip(label, MAX_LABEL_CHARS)}{match}")
    return 0


def cmd_validate(args, backend) -> int:
    from .validate import validate

    report = validate(backend)
    _say("\n".join(clip(line) for line in report.text().split("\n")))
    return 0 if report.conforms else 1


def cmd_export(args, backend) -> int:
    from .export import export

    _write(args, export(backend, args.format))
    return 0


def cmd_stats(args, backend) -> int:
    from .stats import stats

    s = stats(backend)
    if args.json:
        _write(args, _json(s))
        return 0
    _say(f"{s['triples']:,} triples")
    _say("\nNodes per class")
    for cls, n in s["classes"].items():
        _say(f"  {n:6,}  {clip(cls, MAX_LABEL_CHARS)}")
    _say("\nUses of each plm: property")
    for p, n in s["properties"].items():
        _say(f"  {n:6,}  {clip(p, MAX_LABEL_CHARS)}")
    return 0


# The limits `kg demo run` works under, stated in its --help. Written out rather than imported, so that
# building the parser does not import mechanisms; tests/mechanisms/test_budget.py checks them
# against mechanisms.runner and mechanisms._base.
DEMO_RUN_LIMITS = (
    "Run one demo and print its verdict per claim. Parameters follow the id as --name value (see `kg demo list "
    "-v`); out-of-range values, and sizes whose estimated allocation passes the demo's limit (512,000,000 bytes), "
    "are refused before anything runs. The demo runs in a separate worker process with 1 torch thread "
    "($PLM_MAP_DEMO_THREADS), an address-space cap (RLIMIT_AS) of 4,294,967,296 bytes, 4 GiB "
    "($PLM_MAP_DEMO_MEMORY), and a time budget of 60 s ($PLM_MAP_DEMO_BUDGET or --budget, 1 to 600 s) past "
    "which it is stopped."
)


DEFAULT_SEEDS = 5      # mechanisms.evidence.DEFAULT_SEEDS (tests/mechanisms/test_budget.py checks it)
MAX_SEEDS = 50


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
    from mechanisms import runner
    from mechanisms.phrasebook import say

    demo = mechanisms.get(args.id)
    params = demo.validate(_demo_params(extra))  # refused here, before a worker starts or allocates
    from mechanisms import evidence

    if not 1 <= args.seeds <= MAX_SEEDS:
        raise CliError(f"--seeds must be between 1 and {MAX_SEEDS}, not {args.seeds}")
    seeds = evidence.seeds_from(args.seed, args.seeds)
    bar = None if args.json else ProgressBar()
    try:
        budget = runner.default_budget() if args.budget is None else runner.check_budget(args.budget)
        # in a worker process, each run stopped past its budget; this process never imports torch
        with runner.pool().worker() as worker:
            runs = []
            for i, seed in enumerate(seeds):
                step = (lambda f, m, i=i, seed=seed: bar((i + f) / len(seeds), m if len(seeds) == 1
                                                         else f"seed {seed}: {m}")) if bar else None
                runs.append(worker.run(demo, params, seed=seed, device=args.device, progress=step, budget=budget))
    except runner.DemoError as e:
        raise CliError(str(e)) from None
    finally:
        if bar:
            bar.close()
    result = runs[0]
    if len(runs) > 1:
        from mechanisms import verify as verify_mod

        found = evidence.combine(demo.id, runs)
        if args.json:
            _write(args, json.dumps({"judgements": [j.to_dict() for j in found], "runs": [r.to_dict() for r in runs]},
                                    ensure_ascii=False, indent=1, default=float))
            return 0
        print(f"{demo.title}   ({demo.id})")
        print(f"  {demo.title_zh}")
        print("  parameters: " + ", ".join(f"{k}={v}" for k, v in result.params.items())
              + f", seeds {seeds[0]}–{seeds[-1]}")
        print()
        for j in found:
            print(f"{j.claim:<7} {j.verdict.upper():<13} {j.kind:<10} {verify_mod.key_text(j)}   ({len(j.seeds)} seed"
                  f"{'s' if len(j.seeds) > 1 else ''})")
            print(" " * 21 + fill(say(j.explanation, args.lang), 90, subsequent=" " * 21) + f"  [seed {j.seeds[0]}]")
        print(f"\nran {len(runs)} times in {sum(r.runtime for r in runs):.2f} s on {result.device} "
              f"(budget {budget:g} s each)")
        return 0
    if args.json:
        _write(args, result.to_json())
        return 0
    print(f"{demo.title}   ({demo.id})")
    print(f"  {demo.title_zh}")
    print("  parameters: " + ", ".join(f"{k}={v}" for k, v in result.params.items()) + f", seed={result.seed}")
    print()
    for v in result.verdicts:
        print(f"{v.claim:<7} {v.verdict.upper():<13} " + fill(say(v.explanation, args.lang), 90, subsequent=" " * 21))
    print()
    keys = {v.key for v in result.verdicts if v.key}
    for name, value in result.metrics.items():
        if name in keys or args.all_metrics:
            print(f"  {name:<32} {value:.6g}" if isinstance(value, float) else f"  {name:<32} {value}")
    if result.timings:
        print("  timings (s): " + ", ".join(f"{k}={v:.4g}" for k, v in result.timings.items()))
    print(f"\n{len(result.plots)} plot(s): " + "; ".join(say(p.title, args.lang) for p in result.plots))
    print(f"ran in {result.runtime:.2f} s on {result.device} (budget {budget:g} s)")
    return 0


def _judgement_line(j) -> str:
    from mechanisms import verify as verify_mod

    return f"{j.claim:<7} {j.kind:<10} {j.verdict:<13} {verify_mod.key_text(j):<52} {len(j.seeds):>2}  {j.demo}"


def _seeds(args) -> list[int]:
    from mechanisms import evidence
    from mechanisms._base import MAX_SEED

    if not 1 <= args.seeds <= MAX_SEEDS:
        raise CliError(f"--seeds must be between 1 and {MAX_SEEDS}, not {args.seeds}")
    if not 0 <= args.first_seed <= MAX_SEED - args.seeds + 1:
        raise CliError(f"--first-seed must be between 0 and {MAX_SEED - args.seeds + 1:,}, not {args.first_seed}")
    return evidence.seeds_from(args.first_seed, args.seeds)


def cmd_verify(args, backend) -> int:
    import mechanisms
    from mechanisms import evidence, runner
    from mechanisms import verify as verify_mod

    demos = [mechanisms.get(i) for i in args.only] if args.only else None
    seeds = _seeds(args)
    bar = None if args.json else ProgressBar()
    try:  # one worker runs every demo, so torch loads once; each run has its own budget
        budget = runner.default_budget() if args.budget is None else runner.check_budget(args.budget)
        results = verify_mod.verify(demos, seeds=seeds, progress=bar, budget=budget)
    except runner.DemoError as e:
        raise CliError(str(e)) from None
    finally:
        if bar:
            bar.close()
    found = verify_mod.judgements(results)
    if args.json:
        _write(args, json.dumps([j.to_dict() for j in found], ensure_ascii=False, indent=1, default=float))
    else:
        print(f"{'claim':<7} {'kind':<10} {'verdict':<13} {'key number: mean [95 % interval]':<52} "
              f"{'n':>2}  demo")
        for j in found:
            print(_judgement_line(j))
        print(f"\n{len(found)} checks over seeds {seeds[0]}–{seeds[-1]}: {verify_mod.headline(found)}; "
              f"{sum(r.runtime for r in results):.1f} s of demo time in {len(results)} runs")
    if args.only or args.out or seeds != evidence.seeds_from(0, evidence.DEFAULT_SEEDS):
        out_dir = Path(args.out) if args.out else None
    else:
        out_dir = verify_mod.OUT_DIR
    if out_dir is None:
        print("(not written to verification/: the shipped results come from every demo at the default seeds; "
              "give --out DIR to write these)", file=sys.stderr)
    else:
        trig, md = verify_mod.write(results, out_dir)
        print(f"wrote {trig} (named graph {verify_mod.GRAPH}) and {md}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    endpoint_help = f"read this SPARQL 1.1 endpoint instead of the embedded graph (or set ${ENDPOINT_ENV})"
    lang_help = (f"language of labels, descriptions, relations and claims: {', '.join(LANGUAGES)} "
                 f"(default: ${LANG_ENV} or en)")
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--endpoint", metavar="URL", help=endpoint_help)
    top.add_argument("--lang", type=language, metavar="LANG", help=lang_help)
    common = argparse.ArgumentParser(add_help=False)  # the same options after the command name
    common.add_argument("--endpoint", metavar="URL", help=endpoint_help, default=argparse.SUPPRESS)
    common.add_argument("--lang", type=language, metavar="LANG", help=lang_help, default=argparse.SUPPRESS)
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
    p.add_argument("--format", choices=("table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "jsonld"),
                   default="table", help="output format (turtle/ntriples/jsonld for CONSTRUCT and DESCRIBE)")
    p.add_argument("--timeout", type=seconds, default=DEFAULT_TIMEOUT,
                   help=f"time limit in seconds, above 0 and at most {MAX_TIMEOUT:g} (default %(default)s)")
    p.add_argument("--max-rows", type=whole(1, MAX_ROWS), default=DEFAULT_MAX_ROWS,
                   help=f"row cap, from 1 to {MAX_ROWS:,} (default %(default)s)")
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
    p.add_argument("--cutoff", type=whole(1, MAX_CUTOFF), default=4,
                   help=f"longest chain between two nodes, in hops, at most {MAX_CUTOFF} (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the chains as JSON")
    p.set_defaults(func=cmd_trace)

    p = sub.add_parser("show", parents=[common], help="describe a node: labels, description, facts, relations, claims")
    p.add_argument("node", help="id (BERT), prefixed IRI (pm:BERT), claim id (Q17.6) or a label in English or Chinese")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("search", parents=[common], help="search labels in English or Chinese, tolerant of typos")
    p.add_argument("text")
    p.add_argument("--limit", type=whole(1, MAX_SEARCH_LIMIT), default=10,
                   help=f"at most this many hits, from 1 to {MAX_SEARCH_LIMIT:,} (default %(default)s)")
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

    p = sub.add_parser("demo", help="list or run the PyTorch demos that check the survey's claims", allow_abbrev=False)
    demo_sub = p.add_subparsers(dest="demo_command", metavar="list|run", required=True)
    q = demo_sub.add_parser("list", help="every demo with the claims it checks")
    q.add_argument("--verbose", "-v", action="store_true", help="also list each demo's parameters and bounds")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_demo_list, local=True)
    # allow_abbrev=False: `--d 8` is the demo's parameter d, never an abbreviation of --device
    q = demo_sub.add_parser("run", help="run one demo: kg demo run ID [--name value ...]", allow_abbrev=False,
                            description=DEMO_RUN_LIMITS)
    q.add_argument("id")
    q.add_argument("--seed", type=int, default=0, help="random seed, 0 to 2147483647 (default 0)")
    q.add_argument("--seeds", type=int, default=1, metavar="N",
                   help=f"run at seeds SEED … SEED+N−1 and judge each claim over them, 1 to {MAX_SEEDS} (default 1)")
    q.add_argument("--device", default="cpu", choices=("cpu", "cuda", "mps"))
    q.add_argument("--budget", type=float, metavar="SECONDS",
                   help="stop the demo after this many seconds, 1 to 600 s (default: $PLM_MAP_DEMO_BUDGET or 60 s)")
    q.add_argument("--json", action="store_true", help="print the whole result (metrics, plot data) as JSON")
    q.add_argument("--all-metrics", action="store_true", help="print every metric, not only the key ones")
    q.add_argument("--output", "-o", help="with --json: write to a file")
    q.set_defaults(func=cmd_demo_run, local=True, takes_extra=True)

    p = sub.add_parser("verify", help="run every claim check; print claim → verdict and write RDF and a report",
                       description="Run every demo at its defaults over N seeds (identities once), print each claim's kind, "
                       "verdict and key number with its 95 % bootstrap interval over the seeds, and write "
                       "verification/results.trig (PROV-O, loaded as a named graph) and verification/report.md. "
                       "A verdict comes from the demo's criteria (mechanisms/criteria/ID.toml): supports only when "
                       "the interval clears every supporting bound, contradicts only when it clears a contradicting one.")
    p.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, metavar="N",
                   help=f"run every experiment at N seeds, 1 to {MAX_SEEDS} (default {DEFAULT_SEEDS}); identities run once")
    p.add_argument("--first-seed", "--seed", type=int, default=0, metavar="S", dest="first_seed",
                   help="the seeds are S, S+1, …, S+N−1 (default 0)")
    p.add_argument("--budget", type=float, metavar="SECONDS",
                   help="stop any one run after this many seconds, 1 to 600 s (default: $PLM_MAP_DEMO_BUDGET or 60 s)")
    p.add_argument("--only", nargs="+", metavar="ID", help="run only these demos")
    p.add_argument("--json", action="store_true",
                   help="print one object per claim: claim, demo, kind, verdict, key, estimate, interval, seeds, criteria")
    p.add_argument("--output", "-o", help="with --json: write to a file")
    p.add_argument("--out", metavar="DIR", help="where to write results.trig and report.md (default: verification/, "
                   "only for every demo at the default seeds)")
    p.set_defaults(func=cmd_verify, local=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit status is 0 (done), 1 (an error, reported in one line), 2 (a usage
    error, from argparse) or 130 (interrupted by Ctrl-C)."""
    try:
        status = _main(argv)
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader has gone (`kg export | head -1`). Python's advice (the signal module's "Note on
        # SIGPIPE"): point stdout at devnull, so the interpreter's last flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: list[str] | None) -> int:
    from .nodes import NodeNotFound

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "takes_extra", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.lang is None:
        try:
            args.lang = from_environment()
        except ValueError as e:
            _warn(f"kg: error: {e}")
            return 1
    if getattr(args, "local", False):  # demo commands do not read the graph
        from mechanisms import ParamError

        try:
            if getattr(args, "takes_extra", False):
                return args.func(args, None, extra)
            return args.func(args, None)
        except (ParamError, CliError, KeyError) as e:
            msg = e.args[0] if isinstance(e, KeyError) and e.args else e
            _warn(f"kg: error: {msg}")
            return 1
    try:
        backend = open_backend(args.endpoint)
    except (GraphSyntaxError, ValueError, FileNotFoundError) as e:
        _warn(f"kg: error: {e}")
        return 1
    warning = getattr(backend, "sandbox_warning", None)  # set when the operator turned the sandbox off
    if warning:
        _warn(f"kg: warning: {warning}")
    try:
        return args.func(args, backend)
    except (*QueryError, NodeNotFound, CliError, KeyError, FileNotFoundError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        _warn(f"kg: error: {msg}")
        return 1
    finally:
        backend.close()


if __name__ == "__main__":
    sys.exit(main())
