"""What a claim check demands, and what many seeds say about it: criteria, intervals and verdicts.

A demo measures; its criteria decide. Each demo's criteria are data, one file per demo in
`mechanisms/criteria/<demo id>.toml`, written before any run and changed only with a reason kept in
the file:

    [learned]                      # a demo that trains: what "it learned" means, on held-out data
    all = [{ metric = "heldout_loss", op = "<", threshold = 3.9, source = "0.95 × log V, chance" }]

    [[check]]
    claim = "Q5.2"
    kind = "experiment"            # measured, noisy: run over seeds, judged on an interval
    key = "raw_jacobian_ratio"     # the number the verdict mostly rests on
    supports = [{ metric = "raw_jacobian_ratio", op = "<", threshold = 0.5, source = "…" }, …]
    contradicts = [{ metric = "raw_jacobian_ratio", op = ">", threshold = 0.9, source = "…" }]

A check supports its claim when every `supports` bound holds and contradicts it when any
`contradicts` bound holds (and, for a demo that trains, only when the model learned); otherwise it is
inconclusive. An `identity` check (exact by construction: a count, a shape, a mask) runs once and
holds or fails; an `experiment` runs over seeds, and a bound holds only when the 95 % bootstrap
interval of its metric's mean over the seeds is wholly on its side of the threshold.

Nothing here imports torch.
"""

from __future__ import annotations

import functools
import math
import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ._base import Verdict

CRITERIA = Path(__file__).parent / "criteria"
KINDS = ("identity", "experiment")
VERDICTS = ("supports", "contradicts", "inconclusive", "holds", "fails")
OPS = ("<", ">")
LEVEL = 0.95            # the intervals' confidence level
RESAMPLES = 4000        # bootstrap resamples (fixed generator: the same seeds give the same interval)
DEFAULT_SEEDS = 5


@dataclass(frozen=True)
class Bound:
    """`metric op threshold`, and where the threshold comes from (a paper's number, a chance
    baseline, a stated noise band)."""
    metric: str
    op: str
    threshold: float
    source: str

    def holds(self, low: float, high: float) -> bool:
        """Is the interval [low, high] wholly on this bound's side of the threshold?"""
        if math.isnan(low) or math.isnan(high):
            return False
        return low > self.threshold if self.op == ">" else high < self.threshold

    def text(self) -> str:
        return f"{self.metric} {self.op} {self.threshold:g} ({self.source})"

    def to_dict(self) -> dict:
        return {"metric": self.metric, "op": self.op, "threshold": self.threshold, "source": self.source}


@dataclass(frozen=True)
class Check:
    claim: str
    kind: str
    key: str
    supports: tuple[Bound, ...]
    contradicts: tuple[Bound, ...] = ()

    def metrics(self) -> set[str]:
        return {b.metric for b in (*self.supports, *self.contradicts)} | {self.key}


@dataclass(frozen=True)
class Criteria:
    demo: str
    checks: tuple[Check, ...]
    learned: tuple[Bound, ...] = ()     # empty: the demo does not train
    history: tuple[str, ...] = ()       # each change to a criterion, with its reason

    @property
    def trains(self) -> bool:
        return bool(self.learned)

    def check(self, claim: str) -> Check | None:
        """The check of `claim`; None when these criteria do not judge it."""
        return next((c for c in self.checks if c.claim == claim), None)

    def needs(self, check: Check) -> set[str]:
        """The metrics judging `check` reads: its bounds' and key, and the learning guard's."""
        return check.metrics() | {b.metric for b in self.learned}

    @property
    def experimental(self) -> bool:
        return any(c.kind == "experiment" for c in self.checks)


def _bound(data: dict, where: str) -> Bound:
    if set(data) != {"metric", "op", "threshold", "source"}:
        raise ValueError(f"{where}: a bound has metric, op, threshold and source, not {sorted(data)}")
    if data["op"] not in OPS or not isinstance(data["threshold"], (int, float)) or isinstance(data["threshold"], bool):
        raise ValueError(f"{where}: op must be < or > and threshold a number")
    if not str(data["source"]).strip():
        raise ValueError(f"{where}: every threshold says where it comes from")
    return Bound(str(data["metric"]), data["op"], float(data["threshold"]), str(data["source"]))


@functools.cache
def criteria(demo: str) -> Criteria | None:
    """The demo's criteria file, checked; None when the demo has none (its own verdicts stand)."""
    path = CRITERIA / f"{demo}.toml"
    if not path.is_file():
        return None
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(data) - {"learned", "check", "history"}
    if unknown:
        raise ValueError(f"{path.name}: unknown tables {sorted(unknown)}")
    checks = []
    for i, c in enumerate(data.get("check", [])):
        where = f"{path.name} check {i + 1}"
        if set(c) - {"claim", "kind", "key", "supports", "contradicts"} or c.get("kind") not in KINDS:
            raise ValueError(f"{where}: claim, kind (identity or experiment), key, supports, contradicts")
        checks.append(Check(str(c["claim"]), c["kind"], str(c["key"]),
                            tuple(_bound(b, where) for b in c["supports"]),
                            tuple(_bound(b, where) for b in c.get("contradicts", []))))
    learned = tuple(_bound(b, f"{path.name} learned") for b in data.get("learned", {}).get("all", []))
    return Criteria(demo, tuple(checks), learned, tuple(str(h) for h in data.get("history", [])))


# ---------------------------------------------------------------------------------------------
# Intervals
# ---------------------------------------------------------------------------------------------


def interval(values: list[float], level: float = LEVEL, resamples: int = RESAMPLES) -> tuple[float, float, float]:
    """(mean, low, high): the mean of `values` and its percentile-bootstrap interval. One value, or
    values that are all equal: the interval is that value (an identity, or a deterministic number)."""
    xs = [float(v) for v in values]
    if not xs:
        return (math.nan, math.nan, math.nan)
    mean = sum(xs) / len(xs)
    if len(xs) == 1 or max(xs) == min(xs) or not all(math.isfinite(x) for x in xs):
        return (mean, min(xs), max(xs))
    rng = random.Random(1234)
    n = len(xs)
    means = sorted(sum(rng.choice(xs) for _ in range(n)) / n for _ in range(resamples))
    tail = (1 - level) / 2
    return (mean, means[int(math.floor(tail * (resamples - 1)))], means[int(math.ceil((1 - tail) * (resamples - 1)))])


# ---------------------------------------------------------------------------------------------
# Verdicts
# ---------------------------------------------------------------------------------------------


@dataclass
class Judgement:
    """One claim's verdict from one or more runs."""
    claim: str
    demo: str
    kind: str                 # identity | experiment | unstated (a demo with no criteria file yet)
    verdict: str              # holds | fails (identity); supports | contradicts | inconclusive
    key: str
    estimate: float | None    # the key number's mean over the seeds
    low: float | None         # its interval (LEVEL)
    high: float | None
    seeds: list[int]
    criteria: dict = field(default_factory=dict)   # {"supports": [...], "contradicts": [...], "learned": [...]}
    learned: bool | None = None   # None: the demo does not train
    explanation: str = ""     # the first seed's own sentence, with its numbers

    def to_dict(self) -> dict:
        return {"claim": self.claim, "demo": self.demo, "kind": self.kind, "verdict": self.verdict, "key": self.key,
                "estimate": self.estimate, "interval": [self.low, self.high], "level": LEVEL, "seeds": self.seeds,
                "criteria": self.criteria, "learned": self.learned, "explanation": self.explanation}


def decide(check: Check, learned: tuple[Bound, ...], values: dict[str, list[float]]) -> tuple[str, bool | None]:
    """The verdict of `check` given each metric's values over the seeds, and whether the model learned."""
    spans = {name: interval(v)[1:] for name, v in values.items()}

    def holds(b: Bound) -> bool:
        return b.metric in spans and b.holds(*spans[b.metric])

    did_learn = all(holds(b) for b in learned) if learned else None
    if check.kind == "identity":
        ok = all(holds(b) for b in check.supports)
        return ("holds" if ok else "fails"), did_learn
    if did_learn is False:
        return "inconclusive", did_learn
    if all(holds(b) for b in check.supports):
        return "supports", did_learn
    if any(holds(b) for b in check.contradicts):
        return "contradicts", did_learn
    return "inconclusive", did_learn


def combine(demo: str, results: list) -> list[Judgement]:
    """The judgements of one demo's runs (`mechanisms.Result`s, one per seed, the same parameters)."""
    if not results:
        return []
    crit = criteria(demo)
    seeds = [r.seed for r in results]
    out = []
    for v in results[0].verdicts:
        check = crit.check(v.claim) if crit else None
        used = results[:1] if check is not None and check.kind == "identity" else results
        key = check.key if check else v.key

        def values(name: str) -> list[float]:
            return [float(r.metrics[name]) for r in used if isinstance(r.metrics.get(name), (int, float))]

        estimate, low, high = interval(values(key)) if key and values(key) else (None, None, None)
        if check is None:   # no criteria yet: the runs' own verdicts, and only when every seed agrees
            said = {r.verdict_for(v.claim).verdict for r in used}
            verdict, did_learn, kind, stated = (said.pop() if len(said) == 1 else "inconclusive"), None, "unstated", {}
        else:
            verdict, did_learn = decide(check, crit.learned, {n: values(n) for n in crit.needs(check)})
            kind = check.kind
            stated = {"supports": [b.to_dict() for b in check.supports],
                      "contradicts": [b.to_dict() for b in check.contradicts],
                      "learned": [b.to_dict() for b in crit.learned]}
        out.append(Judgement(v.claim, demo, kind, verdict, key, estimate, low, high, [r.seed for r in used],
                             stated, did_learn, v.explanation))
    return out


def not_learned(check: Check, learned: tuple[Bound, ...], metrics: dict) -> Verdict:
    """The verdict of a run whose model did not learn: it says nothing about the claim."""
    missed = "; ".join(f"{b.metric} = {float(metrics.get(b.metric, math.nan)):.4g}, needs {b.op} {b.threshold:g}"
                       for b in learned)
    return Verdict(check.claim, "inconclusive", key=check.key, kind=check.kind,
                   explanation=f"The model did not learn ({missed}), so this run says nothing about the claim.")


def seeds_from(first: int, count: int) -> list[int]:
    return list(range(first, first + count))
