"""The infrastructure every demo shares: parameters, results, verdicts and the run contract.

Nothing here imports torch; `Demo.run` imports the demo's module (and so torch) only when it runs.

A demo module is a page of a textbook: a docstring naming the claim and the paper, the mechanism
written out in plain PyTorch, a toy experiment and a measurement. It defines

    def run(p: dict, progress: Progress) -> Outcome

where `p` holds the validated parameters (plus "device"), and returns an `Outcome`: the metrics,
plots and one verdict per claim, each verdict computed from the numbers just measured against
thresholds written out in the module. `Demo.run` seeds every random generator, times the run and
wraps the outcome into a `Result`.

`Demo.run` runs in the calling process (tests, library use). The app and `kg` run demos through
`mechanisms.runner`, in a worker process with a time and memory budget; the `Result` crosses the
pipe as JSON and `Result.from_dict` checks every field before the parent uses it.
"""

from __future__ import annotations

import importlib
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

VERDICTS = ("supports", "contradicts", "inconclusive", "holds", "fails")   # the last two: identities
CHECK_KINDS = ("identity", "experiment", "unstated", "pending")   # pending: judged by the contract
# Seconds a run may be estimated to need on one core: half the default time budget (60 s, in
# mechanisms.runner), which stops whatever the estimate misses (a slower or busier machine).
MAX_SECONDS = 30.0
PLOT_KINDS = ("line", "bar", "scatter", "heatmap")
DEVICES = ("cpu", "cuda", "mps")
MAX_SEED = 2**31 - 1
Progress = Callable[[float, str], None]


class ParamError(ValueError):
    """A parameter that is the wrong type, out of bounds, or too large to run; nothing was allocated."""


def check_seed_and_device(seed: Any, device: Any) -> None:
    """The run's own arguments, checked where the parameters are (before anything is allocated)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ParamError(f"seed must be a whole number between 0 and {MAX_SEED}, not {seed!r}")
    if device not in DEVICES:
        raise ParamError(f"device must be {', '.join(DEVICES[:-1])} or {DEVICES[-1]}, not {device!r}")


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    kind: type            # int, float, bool or str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    help: str = ""

    def coerce(self, value: Any) -> Any:
        """`value` (a Python value, or text from a command line or URL) as this parameter's type."""
        name = self.name
        if self.kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ParamError(f"{name} must be true or false, not {value!r}")
        if self.kind is str:
            value = str(value)
            if self.choices and value not in self.choices:
                raise ParamError(f"{name} must be one of {', '.join(self.choices)}, not {value!r}")
            return value
        try:
            if self.kind is int:
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                number = int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
            else:
                number = float(value)
        except (TypeError, ValueError):
            kind = "a whole number" if self.kind is int else "a number"
            raise ParamError(f"{name} must be {kind}, not {value!r}") from None
        if isinstance(value, bool):
            raise ParamError(f"{name} must be a number, not {value!r}")
        if self.kind is float and not math.isfinite(number):
            raise ParamError(f"{name} must be a finite number, not {value!r}")
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            raise ParamError(f"{name} must be between {self.low:g} and {self.high:g}, not {number:g}")
        return number

    def describe(self) -> dict:
        out = {"name": self.name, "type": self.kind.__name__, "default": self.default, "help": self.help}
        if self.low is not None:
            out["min"], out["max"] = self.low, self.high
        if self.choices:
            out["choices"] = list(self.choices)
        return out


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    claim: str          # claim id, e.g. "Q5.2"
    verdict: str        # supports | contradicts | inconclusive
    explanation: str    # one sentence quoting the numbers it rests on
    key: str = ""       # the metric the verdict mostly rests on
    kind: str = "unstated"   # identity | experiment (from the demo's criteria, mechanisms/evidence.py)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")
        if self.kind not in CHECK_KINDS:
            raise ValueError(f"kind must be one of {CHECK_KINDS}, not {self.kind!r}")


def judge(claim: str, *, supports: bool | None = None, contradicts: bool = False, explanation: str,
          key: str = "") -> Verdict:
    """A demo's verdict on `claim`. Without `supports`, the run contract judges it from the demo's
    criteria file (mechanisms/criteria/<id>.toml) and the metrics the run returned; with it (a demo
    whose criteria are not written yet), `supports` when the supporting condition holds,
    `contradicts` when the opposite one holds, `inconclusive` otherwise."""
    if supports is None:
        return Verdict(claim, "inconclusive", explanation, key, kind="pending")
    verdict = "supports" if supports else "contradicts" if contradicts else "inconclusive"
    return Verdict(claim, verdict, explanation, key)


@dataclass
class Series:
    name: str
    x: list
    y: list


@dataclass
class Plot:
    """Data a UI can draw: kind "line", "bar" or "scatter" over series, or "heatmap" over z."""

    title: str
    kind: str = "line"
    x_label: str = ""
    y_label: str = ""
    series: list[Series] = field(default_factory=list)
    z: list[list[float]] | None = None        # heatmap rows
    x_ticks: list[str] | None = None          # heatmap / bar labels
    y_ticks: list[str] | None = None
    log_x: bool = False
    log_y: bool = False


@dataclass
class Outcome:
    """What a demo module's `run` returns."""

    metrics: dict[str, float]
    plots: list[Plot]
    verdicts: list[Verdict]
    timings: dict[str, float] = field(default_factory=dict)  # wall-clock measurements (vary run to run)


@dataclass
class Result:
    demo: str
    params: dict
    seed: int
    metrics: dict[str, float]
    plots: list[Plot]
    verdicts: list[Verdict]
    timings: dict[str, float]
    runtime: float
    device: str
    started: str  # ISO time

    def verdict_for(self, claim: str) -> Verdict:
        return next(v for v in self.verdicts if v.claim == claim)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, default=float)

    @classmethod
    def from_dict(cls, data: Any) -> "Result":
        """The `Result` that `to_dict` gave, every field checked (it arrives from another process).

        Raises:
            ValueError: a field is missing, extra or of the wrong type.
        """
        _fields(data, cls, "result")
        plots = data["plots"]
        if not isinstance(plots, list):
            raise ValueError("result.plots must be a list")
        verdicts = data["verdicts"]
        if not isinstance(verdicts, list):
            raise ValueError("result.verdicts must be a list")
        params = _dict_of(data["params"], (int, float, bool, str), "result.params")
        return cls(
            demo=_of(data["demo"], str, "result.demo"), params=params,
            seed=_of(data["seed"], int, "result.seed"),
            metrics=_dict_of(data["metrics"], (int, float, bool), "result.metrics"),
            plots=[_plot(p, f"result.plots[{i}]") for i, p in enumerate(plots)],
            verdicts=[_verdict(v, f"result.verdicts[{i}]") for i, v in enumerate(verdicts)],
            timings=_dict_of(data["timings"], (int, float), "result.timings"),
            runtime=float(_of(data["runtime"], (int, float), "result.runtime")),
            device=_of(data["device"], str, "result.device"),
            started=_of(data["started"], str, "result.started"),
        )


# The checks `Result.from_dict` builds on: exact field sets, JSON scalar types, no bool for a number.


def _of(value: Any, types, where: str):
    numeric = types in (int, float) or (isinstance(types, tuple) and bool not in types)
    if not isinstance(value, types) or (numeric and isinstance(value, bool)):
        raise ValueError(f"{where} has the wrong type ({type(value).__name__})")
    return value


def _fields(data: Any, cls, where: str) -> None:
    if not isinstance(data, dict):
        raise ValueError(f"{where} must be an object, not {type(data).__name__}")
    names = {f for f in cls.__dataclass_fields__}
    if set(data) != names:
        raise ValueError(f"{where} has fields {sorted(data)}, expected {sorted(names)}")


def _dict_of(value: Any, types, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be an object")
    return {_of(k, str, f"a key of {where}"): _of(v, types, f"{where}[{k!r}]") for k, v in value.items()}


def _list_of(value: Any, types, where: str) -> list:
    if not isinstance(value, list):
        raise ValueError(f"{where} must be a list")
    return [_of(v, types, f"{where}[{i}]") for i, v in enumerate(value)]


_SCALAR = (int, float, str, bool, type(None))  # what a series' x and y may hold (None: a gap)


def _plot(data: Any, where: str) -> Plot:
    _fields(data, Plot, where)
    if data["kind"] not in PLOT_KINDS:
        raise ValueError(f"{where}.kind must be one of {PLOT_KINDS}, not {data['kind']!r}")
    series = []
    for i, s in enumerate(_of(data["series"], list, f"{where}.series")):
        _fields(s, Series, f"{where}.series[{i}]")
        series.append(Series(_of(s["name"], str, f"{where}.series[{i}].name"),
                             _list_of(s["x"], _SCALAR, f"{where}.series[{i}].x"),
                             _list_of(s["y"], _SCALAR, f"{where}.series[{i}].y")))
    z = data["z"]
    if z is not None:
        z = [_list_of(row, (int, float, type(None)), f"{where}.z[{i}]")
             for i, row in enumerate(_of(z, list, f"{where}.z"))]
    ticks = {name: None if data[name] is None else _list_of(data[name], (str, int, float), f"{where}.{name}")
             for name in ("x_ticks", "y_ticks")}
    return Plot(title=_of(data["title"], str, f"{where}.title"), kind=data["kind"],
                x_label=_of(data["x_label"], str, f"{where}.x_label"),
                y_label=_of(data["y_label"], str, f"{where}.y_label"), series=series, z=z, **ticks,
                log_x=_of(data["log_x"], bool, f"{where}.log_x"), log_y=_of(data["log_y"], bool, f"{where}.log_y"))


def _verdict(data: Any, where: str) -> Verdict:
    _fields(data, Verdict, where)
    return Verdict(*(_of(data[name], str, f"{where}.{name}") for name in ("claim", "verdict", "explanation", "key", "kind")))


# ---------------------------------------------------------------------------------------------
# The registry's entry
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Demo:
    id: str
    module: str                         # dotted path of the demo's file
    title: str
    title_zh: str
    mechanisms: tuple[str, ...]         # local ids of mechanism nodes in the graph (pm:...)
    claims: tuple[str, ...]             # claim ids it checks
    params: tuple[Param, ...] = ()
    cost: Callable[[dict], float] | None = None   # estimated bytes the run allocates, from the params
    max_bytes: float = 512e6
    summary: str = ""
    seconds: Callable[[dict], float] | None = None  # estimated run time on one core, from the params
    max_seconds: float = MAX_SECONDS

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ParamError(f"{self.id} has no parameter {name!r} (it has: {', '.join(p.name for p in self.params)})")

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def validate(self, values: dict | None = None) -> dict:
        """Defaults filled in, every value coerced and bounded, the memory and time estimates checked.

        Raises:
            ParamError: before anything is allocated.
        """
        values = dict(values or {})
        out = self.defaults()
        for name, value in values.items():
            out[name] = self.param(name).coerce(value)
        if self.cost is not None:
            need = float(self.cost(out))
            if need > self.max_bytes:
                raise ParamError(
                    f"these parameters would need about {need:,.0f} bytes ({need / 1e9:.2f} GB; the limit for "
                    f"{self.id} is {self.max_bytes:,.0f} bytes, {self.max_bytes / 1e9:.2f} GB); choose smaller sizes"
                )
        if self.seconds is not None:
            need = float(self.seconds(out))
            if need > self.max_seconds:
                raise ParamError(
                    f"these parameters would run for about {need:,.0f} s on one core (the limit for {self.id} is "
                    f"{self.max_seconds:g} s, half the demos' {2 * MAX_SECONDS:g} s time budget); use fewer steps "
                    f"or smaller sizes"
                )
        return out

    def load(self):
        return importlib.import_module(self.module)

    def run(self, params: dict | None = None, *, seed: int = 0, progress: Progress | None = None,
            device: str = "cpu", threads: int = 1) -> Result:
        """Validate, seed, run and time the demo in this process. Same seed and parameters, same metrics.

        `threads` is torch's intra-op thread count for the run (restored afterwards).
        """
        p = self.validate(params)
        check_seed_and_device(seed, device)
        module = self.load()
        import torch

        from . import evidence

        criteria = evidence.criteria(self.id)
        if criteria is not None and criteria.trains:
            import torch._dynamo  # noqa: F401  (a demo's first optimizer imports it: 1.5-3.5 s, outside its timer)

        if device == "cuda" and not torch.cuda.is_available():
            raise ParamError("device cuda was asked for, but no CUDA GPU is available")
        random.seed(seed)
        torch.manual_seed(seed)
        report = progress or (lambda fraction, message: None)
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        # The demos' tensors are tiny: one thread is faster than two (no OpenMP hand-off) and gives
        # the same numbers on every machine, so one is the default.
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            t0 = time.perf_counter()
            report(0.0, "starting")
            with torch.device(device):  # tensors a demo creates land on the chosen device by default
                outcome: Outcome = module.run({**p, "device": device}, report)
            runtime = time.perf_counter() - t0
        finally:
            torch.set_num_threads(before)
        report(1.0, "done")
        missing = set(self.claims) - {v.claim for v in outcome.verdicts}
        if missing:
            raise RuntimeError(f"{self.id} returned no verdict for {sorted(missing)}")
        verdicts = [self._judged(v, outcome.metrics, criteria) for v in outcome.verdicts]
        return Result(self.id, p, seed, outcome.metrics, outcome.plots, verdicts, outcome.timings,
                      runtime, device, started)

    def _judged(self, v: Verdict, metrics: dict, criteria) -> Verdict:
        """The run contract's verdict: the demo's criteria applied to this run's numbers; a run whose
        model did not learn is inconclusive, whatever its numbers say of the claim."""
        from . import evidence

        check = criteria.check(v.claim) if criteria else None
        if check is None:
            if v.kind == "pending":
                raise RuntimeError(f"{self.id}: no criterion for {v.claim} in mechanisms/criteria/{self.id}.toml")
            return v
        needed = criteria.needs(check)
        absent = sorted(n for n in needed if not isinstance(metrics.get(n), (int, float)))
        if absent:
            raise RuntimeError(f"{self.id}: the criteria of {v.claim} read metrics the run did not return: {absent}")
        verdict, learned = evidence.decide(check, criteria.learned, {n: [float(metrics[n])] for n in needed})
        if learned is False and check.kind == "experiment":
            return evidence.not_learned(check, criteria.learned, metrics)
        return Verdict(v.claim, verdict, v.explanation, check.key, kind=check.kind)
