"""The infrastructure every demo shares: parameters, results, verdicts and the run contract.

Nothing here imports torch; `Demo.run` imports the demo's module (and so torch) only when it runs.

A demo module is a page of a textbook: a docstring naming the claim and the paper, the mechanism
written out in plain PyTorch, a toy experiment and a measurement. It defines

    def run(p: dict, progress: Progress) -> Outcome

where `p` holds the validated parameters (plus "device"), and returns an `Outcome`: the metrics,
plots and one verdict per claim, each verdict computed from the numbers just measured against
thresholds written out in the module. `Demo.run` seeds every random generator, times the run and
wraps the outcome into a `Result`.
"""

from __future__ import annotations

import importlib
import json
import math
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

VERDICTS = ("supports", "contradicts", "inconclusive")
Progress = Callable[[float, str], None]


class ParamError(ValueError):
    """A parameter that is the wrong type, out of bounds, or too large to run; nothing was allocated."""


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

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, not {self.verdict!r}")


def judge(claim: str, *, supports: bool, contradicts: bool = False, explanation: str, key: str = "") -> Verdict:
    """`supports` when the supporting condition holds, `contradicts` when the opposite one holds,
    `inconclusive` otherwise. Both conditions are computed by the caller from measured numbers."""
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

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ParamError(f"{self.id} has no parameter {name!r} (it has: {', '.join(p.name for p in self.params)})")

    def defaults(self) -> dict:
        return {p.name: p.default for p in self.params}

    def validate(self, values: dict | None = None) -> dict:
        """Defaults filled in, every value coerced and bounded, the memory estimate checked.

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
                    f"these parameters would need about {need / 1e9:.2f} GB (the limit for {self.id} is "
                    f"{self.max_bytes / 1e9:.2f} GB); choose smaller sizes"
                )
        return out

    def load(self):
        return importlib.import_module(self.module)

    def run(self, params: dict | None = None, *, seed: int = 0, progress: Progress | None = None,
            device: str = "cpu") -> Result:
        """Validate, seed, run and time the demo. Same seed and parameters, same metrics."""
        p = self.validate(params)
        if not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise ParamError(f"seed must be a whole number between 0 and {2**31 - 1}, not {seed!r}")
        if device not in ("cpu", "cuda", "mps"):
            raise ParamError(f"device must be cpu, cuda or mps, not {device!r}")
        module = self.load()
        import torch
        import torch._dynamo  # noqa: F401  (the first optimizer imports it lazily: 1.5-3.5 s, once per process)

        if device == "cuda" and not torch.cuda.is_available():
            raise ParamError("device cuda was asked for, but no CUDA GPU is available")
        random.seed(seed)
        torch.manual_seed(seed)
        report = progress or (lambda fraction, message: None)
        started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        # The demos' tensors are tiny: one thread is faster than two (no OpenMP hand-off) and gives
        # the same numbers on every machine.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            t0 = time.perf_counter()
            report(0.0, "starting")
            with torch.device(device):  # tensors a demo creates land on the chosen device by default
                outcome: Outcome = module.run({**p, "device": device}, report)
            runtime = time.perf_counter() - t0
        finally:
            torch.set_num_threads(threads)
        report(1.0, "done")
        missing = set(self.claims) - {v.claim for v in outcome.verdicts}
        if missing:
            raise RuntimeError(f"{self.id} returned no verdict for {sorted(missing)}")
        return Result(self.id, p, seed, outcome.metrics, outcome.plots, outcome.verdicts, outcome.timings,
                      runtime, device, started)
