"""The fuzz loop: check every case, run the accepted ones, count, and keep the failing examples.

A case fails when
* `check_query` raises anything but `QueryRefused` (or returns something that is not a
  CheckedQuery of one of the four forms) - "unhandled";
* the engine, running the checked text, connects to the logging server (TCP accept), sends it a
  request, or - under strace - connects or sends anywhere ("requests", "connections", "traced");
* the engine process dies ("crashes"): the check must refuse what would crash the engine;
* a generated case carried a SERVICE or FROM clause (`Case.forbidden`) and the check let it through
  to an engine that parsed it ("forbidden_ran"): the check's contract, even where Oxigraph happens
  to make no request (it never dereferences FROM, and evaluates SERVICE lazily).
Timeouts and the engine's syntax errors on accepted queries are counted, not failures.

Batches overlap: the parent checks batch k+1 while the engine runs batch k (two processes, two
cores). When a batch moved a network counter, its queries are bisected to find the culprits.
"""

from __future__ import annotations

import inspect
import json
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

from .engine import EngineRunner, Outcome
from .generate import Case
from .netwatch import LoopbackLogServer

FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
CHECK_LIMIT = 5.0  # CPU seconds one check_query call may take: it runs in the app's own process
# (timed with ITIMER_PROF / SIGPROF, which leaves pytest-timeout's SIGALRM alone)


class CheckTooSlow(BaseException):
    """Raised by a timer inside a check_query that runs too long (a BaseException, so the check's
    own `except Exception` cannot swallow it)."""


def _alarm(signum, frame):
    raise CheckTooSlow()


FAILURE_KINDS = ("unhandled", "requests", "crashes", "forbidden_ran")

# A few dozen triples in the project's vocabulary: enough for every pattern the generator writes
# to find solutions (so a SERVICE inside OPTIONAL / EXISTS / MINUS is evaluated), few enough that
# a cartesian product of four patterns stays cheap.
STORE_TURTLE = """
@prefix plm: <https://w3id.org/plm-map/ontology#> . @prefix pm: <https://w3id.org/plm-map/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
pm:BERT a plm:Model ; skos:prefLabel "BERT"@en , "BERT"@zh-Hans ; dcterms:issued "2018"^^xsd:gYear ;
    plm:hasWeakness pm:independence-assumption ; plm:improvesOn pm:GPT , pm:ELMo .
pm:XLNet a plm:Model ; skos:prefLabel "XLNet"@en ; dcterms:issued "2019"^^xsd:gYear ; plm:improvesOn pm:BERT .
pm:GPT a plm:Model ; skos:prefLabel "GPT"@en ; rdfs:label "GPT" ; plm:improvesOn pm:ELMo .
pm:ELMo a plm:Model ; skos:prefLabel "ELMo"@en ; dcterms:issued 2018 .
pm:independence-assumption a plm:Weakness ; skos:prefLabel "Independence assumption"@en ,
    "独立性假设"@zh-Hans .
pm:permutation-lm a plm:Mechanism ; skos:prefLabel "Permutation language modeling"@en , "排列语言模型"@zh-Hans ,
    "排列語言模型"@zh-Hant ; plm:addresses pm:independence-assumption ; plm:introducedBy pm:XLNet .
pm:Q7.2 dcterms:identifier "Q7.2" ; plm:backs pm:st1 ; plm:about pm:BERT .
pm:st1 rdf:subject pm:BERT ; rdf:predicate plm:hasWeakness ; rdf:object pm:independence-assumption .
pm:r1 rdf:reifies <<( pm:XLNet plm:improvesOn pm:BERT )>> ; dcterms:identifier "Q16.1" .
"""


@dataclass
class Figures:
    seed: int = 0
    checker: str = ""
    cases: int = 0
    accepted: int = 0
    refused: int = 0
    engine_ok: int = 0
    engine_syntax_errors: int = 0
    engine_other_errors: int = 0
    timeouts: int = 0
    crashes: int = 0
    requests: int = 0          # HTTP requests logged by the loopback server
    connections: int = 0       # TCP connections it accepted
    traced_connects: int = 0   # connect/sendto/sendmsg system calls of the engine (strace)
    strace: bool = False
    unhandled: int = 0
    forbidden_ran: int = 0
    engine_restarts: int = 0
    seconds: float = 0.0
    check_seconds: float = 0.0
    check_max_ms: float = 0.0
    by_origin: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    timeouts_seen: list = field(default_factory=list)      # not failures: examples to look at
    engine_errors: dict = field(default_factory=dict)      # the engine's other errors, by message

    def failed(self) -> int:
        """Failing events: unhandled errors, crashes, forbidden constructs run, network activity."""
        network = max(self.requests, self.connections, self.traced_connects)
        return self.unhandled + self.crashes + self.forbidden_ran + network

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["failed"] = self.failed()
        return d

    def line(self) -> str:
        return (f"cases={self.cases} accepted={self.accepted} refused={self.refused} "
                f"engine_syntax_errors={self.engine_syntax_errors} engine_other_errors={self.engine_other_errors} "
                f"timeouts={self.timeouts} crashes={self.crashes} requests={self.requests} "
                f"connections={self.connections} traced_connects={self.traced_connects} "
                f"unhandled={self.unhandled} forbidden_ran={self.forbidden_ran} seconds={self.seconds:.1f} "
                f"(check {self.check_seconds:.1f} s, slowest check {self.check_max_ms:.0f} ms)")


def checker_kind(module) -> str:
    return "canonical (new)" if "canonical" in (module.__doc__ or "").lower() else "old (returns the input)"


def make_check(module, prefixes: dict) -> Callable[[str], object]:
    """`check_query` with the project's prefixes when it takes them (the new signature)."""
    fn = module.check_query
    if "prefixes" in inspect.signature(fn).parameters:
        return lambda text: fn(text, prefixes=prefixes)
    return fn


def _short(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[:limit // 2] + f" ...[{len(text)} chars]... " + text[-limit // 4:]


class Fuzzer:
    def __init__(self, module, server: LoopbackLogServer, runner: EngineRunner, prefixes: dict,
                 *, batch: int = 256, keep: int = 40):
        self.module = module
        self.refused_type = module.QueryRefused
        self.check = make_check(module, prefixes)
        self.server, self.runner = server, runner
        self.batch, self.keep = batch, keep
        self.fig = Figures(checker=checker_kind(module), strace=runner.trace)
        self._origin: Counter = Counter()
        self._errors: Counter = Counter()
        # a timer bounds each check (main thread only: that is where signals are delivered)
        self._timer = threading.current_thread() is threading.main_thread()
        self._seen_failures: Counter = Counter()

    # -- recording -------------------------------------------------------------------------
    def _fail(self, kind: str, case: Case, canonical: str | None, detail: str) -> None:
        self._seen_failures[kind] += 1
        if self._seen_failures[kind] <= self.keep:
            self.fig.failures.append({"kind": kind, "origin": case.origin, "forbidden": case.forbidden,
                                      "query": _short(case.text), "checked": _short(canonical or ""),
                                      "length": len(case.text), "detail": detail[:400]})

    def check_one(self, case: Case) -> str | None:
        """The canonical text when accepted; None when refused or on an unhandled error."""
        t0 = time.perf_counter()
        if self._timer:
            signal.setitimer(signal.ITIMER_PROF, CHECK_LIMIT)
        try:
            checked = self.check(case.text)
        except CheckTooSlow:
            self.fig.unhandled += 1
            self._fail("unhandled", case, None, f"check_query took more than {CHECK_LIMIT} s")
            return None
        except self.refused_type:
            self.fig.refused += 1
            self._origin[(case.origin, "refused")] += 1
            return None
        except Exception as e:  # noqa: BLE001 - the failure this test exists to find
            self.fig.unhandled += 1
            tb = e.__traceback__
            while tb.tb_next is not None:
                tb = tb.tb_next
            where = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
            self._fail("unhandled", case, None, f"{type(e).__name__}: {e} (at {where})")
            return None
        finally:
            if self._timer:
                signal.setitimer(signal.ITIMER_PROF, 0)
            spent = time.perf_counter() - t0
            self.fig.check_seconds += spent
            self.fig.check_max_ms = max(self.fig.check_max_ms, spent * 1000)
        text, form = getattr(checked, "text", None), getattr(checked, "form", None)
        if not isinstance(text, str) or form not in FORMS:
            self.fig.unhandled += 1
            self._fail("unhandled", case, None, f"check_query returned {checked!r:.200}")
            return None
        self.fig.accepted += 1
        self._origin[(case.origin, "accepted")] += 1
        return text

    def _network_marks(self) -> tuple[int, int, int]:
        conns, reqs = self.server.snapshot()
        return conns, reqs, len(self.runner.network_events())

    def _settle(self, wait: float) -> tuple[int, int, int]:
        time.sleep(wait)  # let the server thread accept what the kernel already queued
        return self._network_marks()

    # -- one batch -------------------------------------------------------------------------
    def _record(self, items: list[tuple[Case, str]], outcomes: list[Outcome], before) -> None:
        for (case, canonical), o in zip(items, outcomes):
            self._origin[(case.origin, o.kind)] += 1
            if o.kind == "ok":
                self.fig.engine_ok += 1
            elif o.kind == "syntax":
                self.fig.engine_syntax_errors += 1
            elif o.kind == "error":
                self.fig.engine_other_errors += 1
                self._errors[o.message.split(":", 2)[1].strip()[:60] if ":" in o.message else o.message[:60]] += 1
            elif o.kind == "timeout":
                self.fig.timeouts += 1
                if len(self.fig.timeouts_seen) < 20:
                    self.fig.timeouts_seen.append({"origin": case.origin, "length": len(case.text),
                                                   "query": _short(case.text, 300)})
            elif o.kind == "crash":
                self.fig.crashes += 1
                self._fail("crashes", case, canonical, o.message)
            if case.forbidden in ("SERVICE", "FROM") and o.kind != "syntax":
                self.fig.forbidden_ran += 1
                self._fail("forbidden_ran", case, canonical,
                           f"{case.forbidden} accepted; engine: {o.kind} {o.message[:200]}")
        after = self._settle(0.005)
        if after != before:
            self._attribute(items, outcomes, before)
        self._mark = self._network_marks()

    def _attribute(self, items: list[tuple[Case, str]], outcomes: list[Outcome], before) -> None:
        """Count what a batch did to the network counters; bisect it down to the queries that did it.

        A SERVICE call is synchronous: by the time the engine reports the query, the server has
        accepted the connection and logged the request, so short waits suffice. Only queries the
        engine parsed (ok or error) can have made a request; the ones that timed out or crashed
        are not run again."""
        after = self._settle(0.05)
        d_conn, d_req, d_traced = (a - b for a, b in zip(after, before))
        self.fig.connections += d_conn
        self.fig.requests += d_req
        self.fig.traced_connects += d_traced
        if self._seen_failures["requests"] >= self.keep:
            return
        parsed = [(item, o) for item, o in zip(items, outcomes) if o.kind in ("ok", "error")]
        # slow queries last and one by one: re-running them at every step of the bisection is what costs
        suspects = [item for item, o in parsed if o.seconds <= 0.1]
        slow = [[item] for item, o in parsed if o.seconds > 0.1]

        def moved(group):
            start = self._network_marks()
            self.runner.run([c for _, c in group])
            return self._settle(0.01) != start, start

        stack = slow[::-1] + [suspects]
        found = 0
        while stack:
            group = stack.pop()
            if not group:
                continue
            hit, start = moved(group)
            if not hit:
                continue
            if len(group) == 1:
                case, canonical = group[0]
                end = self._network_marks()
                new_requests = self.server.requests[start[1]:end[1]]
                events = self.runner.network_events()[start[2]:end[2]]
                self._fail("requests", case, canonical,
                           f"+{end[0] - start[0]} connections, requests {new_requests[:3]}, "
                           f"system calls {[e.split(' ', 1)[-1][:90] for e in events[:2]]}")
                found += 1
                continue
            half = len(group) // 2
            stack += [group[half:], group[:half]]
        if found == 0:
            self._fail("requests", items[0][0], items[0][1],
                       f"a batch of {len(items)} moved the counters by {(d_conn, d_req, d_traced)} "
                       "but no single query it parsed did so again")

    # -- the loop --------------------------------------------------------------------------
    def run(self, cases: Iterable[Case], on_accepted: Callable[[Case], None] | None = None) -> Figures:
        previous = signal.signal(signal.SIGPROF, _alarm) if self._timer else None
        try:
            return self._run(cases, on_accepted)
        finally:
            if self._timer:
                signal.setitimer(signal.ITIMER_PROF, 0)
                signal.signal(signal.SIGPROF, previous)

    def _run(self, cases: Iterable[Case], on_accepted: Callable[[Case], None] | None) -> Figures:
        t0 = time.perf_counter()
        it: Iterator[Case] = iter(cases)
        inflight: list[tuple[Case, str]] | None = None
        before = self._mark = self._network_marks()
        done = False
        while not done:
            batch: list[tuple[Case, str]] = []
            for case in it:
                self.fig.cases += 1
                self._origin[(case.origin, "cases")] += 1
                canonical = self.check_one(case)
                if canonical is not None:
                    batch.append((case, canonical))
                    if on_accepted:
                        on_accepted(case)
                if len(batch) >= self.batch:
                    break
            else:
                done = True
            if inflight is not None:
                self._record(inflight, self.runner.collect(), before)
                before = self._mark
                inflight = None
            if batch:
                self.runner.submit([c for _, c in batch])
                inflight = batch
        if inflight is not None:
            self._record(inflight, self.runner.collect(), before)
        # whatever arrived late and was not attributed to a batch still counts
        late = [a - b for a, b in zip(self._settle(0.3), self._mark)]
        if any(late):
            self.fig.connections += late[0]
            self.fig.requests += late[1]
            self.fig.traced_connects += late[2]
            self._fail("requests", Case("", "late"), None, f"late network activity: {late}")
        self.fig.engine_restarts = self.runner.starts - 1
        self.fig.seconds = time.perf_counter() - t0
        self.fig.by_origin = {}
        for (origin, what), n in sorted(self._origin.items()):
            self.fig.by_origin.setdefault(origin, {})[what] = n
        self.fig.failures.sort(key=lambda f: (f["kind"], f["length"]))
        self.fig.timeouts_seen.sort(key=lambda t: t["length"])
        self.fig.engine_errors = dict(self._errors.most_common(12))
        return self.fig


def write_summary(path, fig: Figures) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fig.as_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def case_stream(seed: int, n: int, url: str) -> tuple[Iterator[Case], Callable[[Case], None]]:
    """`n` cases: every seed once, then generated (45%) and mutated / deeply nested (55%) ones.

    Returns the iterator and a callback that feeds accepted generated queries back to the mutator
    as seeds (the fuzzer mutates what got through, where the interesting edges are).
    """
    import random

    from .generate import QueryGenerator
    from .mutate import BYPASSES, Mutator, example_seeds

    rng = random.Random(seed)
    seeds = example_seeds() + list(BYPASSES.values())
    gen = QueryGenerator(random.Random(rng.random()), url)
    mut = Mutator(random.Random(rng.random()), url, seeds)

    def stream() -> Iterator[Case]:
        k = 0
        for s in seeds:
            if k >= n:
                return
            yield Case(mut.fill(s), "seed")
            k += 1
        while k < n:
            yield gen.next() if rng.random() < 0.45 else mut.case()
            k += 1

    def feedback(case: Case) -> None:
        if case.origin == "generated" and rng.random() < 0.2:
            mut.add_seed(case.text)

    return stream(), feedback
