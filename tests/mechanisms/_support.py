"""Helpers the demo tests share."""

from __future__ import annotations

import pytest

import mechanisms
from mechanisms import ParamError


def run(demo_id: str, params: dict | None = None):
    """The demo's result at seed 0."""
    return mechanisms.get(demo_id).run(params, seed=0)


def refuses_before_running(demo_id: str, params: dict, monkeypatch) -> None:
    """`params` raise ParamError while the demo's run function is never called."""
    demo = mechanisms.get(demo_id)
    monkeypatch.setattr(demo.load(), "run", lambda p, progress: pytest.fail("run was called"))
    with pytest.raises(ParamError):
        demo.run(params, seed=0)
