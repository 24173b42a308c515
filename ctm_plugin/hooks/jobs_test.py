"""The feed's schedule: asked at each turn while a mission has a return in flight, else once an interval."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from . import jobs


def test_a_job_when_due_runs_each_turn_while_busy_else_once_an_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: clock[0])
    busy, runs = {"THA": False, "KHM": False}, []
    job = jobs._when_due(timedelta(seconds=15), lambda ctx: busy[ctx.mission.code], runs.append)
    tha, khm = (SimpleNamespace(mission=SimpleNamespace(code=code)) for code in ("THA", "KHM"))

    job(tha)
    job(tha)  # nothing in flight, the interval not over: not asked again
    assert runs == [tha]
    busy["THA"] = True
    job(tha)
    job(tha)  # a return awaits BOOKED: asked at every turn
    assert runs == [tha, tha, tha]
    busy["THA"] = False
    job(khm)  # each mission has its own interval
    clock[0] += 14.9
    job(tha)
    assert runs == [tha, tha, tha, khm]
    clock[0] += 0.1
    job(tha)
    assert runs == [tha, tha, tha, khm, tha]
