"""Trends for researchers, HQ and mission supervisors: the pre-computed counts (domain/trends.py) of the missions
of the user's scope, as tables every number of which passed small-cell suppression.

No role has microdata here: whoever holds ``ctm.trends.view`` sees the same suppressed numbers (microdata
leaves only through the approved, k-anonymous export). The scope is the missions where the user holds the
permission (``ctx.missions_with``: HQ's across missions, a supervisor's own), read mission by mission through
each one's own session, each view audited there.

Each table is periods (fixed bins: years or quarters of identification) by the dimension's values, with its
totals. The breakdowns of every case identified (cases, relation to the recruiter, age group, sex) add up to
the same number per period, so they are suppressed together: they withhold the same totals
(:func:`ctm_plugin.research.suppression.suppress_together`). What this does not cover: the same numbers seen
through another filter (a year against its quarters, one mission against all of them, one exploitation type
against all) are separate tables, suppressed each on its own; a reader who compares them may narrow a withheld
count. The periods are fixed bins and the filters few for that reason; the export is where finer cuts go.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctm_plugin.domain import trends as trend_counts
from ctm_plugin.domain.trends import DIMENSIONS, IDENTIFICATION, Dimension, TrendCell, TrendRefresh
from ctm_plugin.research import small_cell_k
from ctm_plugin.research.suppression import SuppressedTable, suppress, suppress_together
from ctm_plugin.schemas.trends import trends_filter_schema
from ctm_plugin.security import audit
from ctm_plugin.security.permissions import TRENDS_VIEW
from ctm_plugin.services.base import load, require, unit_of_work
from mimosa_host.plugin_api import MissionRef, RequestContext

FIELD_GROUP = "trends"
SUPPRESSED_TOGETHER = ("cases", "recruiter", "age_group", "sex")
"""Single-valued breakdowns of the cases identified: each adds up, per period, to the cases identified."""
assert set(SUPPRESSED_TOGETHER) <= IDENTIFICATION


@dataclass(frozen=True)
class TrendTable:
    dimension: Dimension
    periods: tuple[str, ...]
    values: tuple[str, ...]
    numbers: SuppressedTable


@dataclass(frozen=True)
class Freshness:
    mission: MissionRef
    refreshed_at: datetime | None
    """``None``: the mission's counts were never made (its job has not run yet)."""


@dataclass(frozen=True)
class Trends:
    k: int
    filters: dict[str, str]
    missions: tuple[MissionRef, ...]
    """The user's scope, for the mission filter."""
    freshness: tuple[Freshness, ...]
    tables: tuple[TrendTable, ...]
    too_few: tuple[Dimension, ...] = ()
    """The breakdowns too small to show at all: a number of theirs could be worked out even with every number
    withheld (:attr:`SuppressedTable.disclosive`), so nothing of them is published."""


def scope(ctx: RequestContext) -> tuple[MissionRef, ...]:
    """The missions whose trends the user may see; :class:`NotFound` without the permission here."""
    require(ctx, TRENDS_VIEW)
    return ctx.missions_with(TRENDS_VIEW)


def trends(ctx: RequestContext, asked: dict[str, Any]) -> Trends:
    """The suppressed tables for the filters ``asked`` (:class:`Invalid` when one is not a choice)."""
    missions = scope(ctx)
    filters = load(trends_filter_schema(m.code for m in missions), asked)
    chosen = [m for m in missions if filters["mission"] in ("", m.code)]
    bin_of: Callable[[str], str] = (lambda quarter: quarter[:4]) if filters["period_bin"] == "year" else str
    counts: dict[str, Counter[tuple[str, str]]] = {d.key: Counter() for d in DIMENSIONS}
    freshness = []
    for mission in chosen:
        mctx = ctx.in_mission(mission.code)
        with unit_of_work(mctx) as session:
            rows = session.execute(
                sa.select(TrendCell.dimension, TrendCell.quarter, TrendCell.value, TrendCell.count).where(
                    TrendCell.exploitation == filters["exploitation"]
                )
            )
            for dimension, quarter, value, count in rows:
                if dimension in counts:
                    counts[dimension][(bin_of(quarter), value)] += count
            refreshed = session.scalar(sa.select(TrendRefresh.refreshed_at))
            audit.record(session, mctx, "trends.view", None, [FIELD_GROUP])
        freshness.append(Freshness(mission, refreshed))
    k = small_cell_k()
    tables = _tables(counts, bin_of, k)
    shown = tuple(t for t in tables if not t.numbers.disclosive)
    too_few = tuple(t.dimension for t in tables if t.numbers.disclosive)
    return Trends(k, filters, missions, tuple(freshness), shown, too_few)


def _tables(
    counts: dict[str, Counter[tuple[str, str]]], bin_of: Callable[[str], str], k: int
) -> tuple[TrendTable, ...]:
    """Every dimension's table over the same periods: every bin from the first to the last with a case (a bin
    without any is a row of zeros), so that the tables add up to each other."""
    seen = sorted({period for c in counts.values() for period, _value in c})
    if not seen:
        return ()
    periods = _bins(seen[0], seen[-1])
    grids: dict[str, tuple[tuple[str, ...], list[list[int]]]] = {}
    for dimension in DIMENSIONS:
        cells = counts[dimension.key]
        totals: Counter[str] = Counter()
        for (_period, value), count in cells.items():
            totals[value] += count
        values = tuple(sorted(totals, key=lambda v: (-totals[v], v)))
        if values:
            grids[dimension.key] = (values, [[cells[(p, v)] for v in values] for p in periods])
    together = [key for key in SUPPRESSED_TOGETHER if key in grids]
    numbers = dict(zip(together, suppress_together([grids[key][1] for key in together], k), strict=True))
    return tuple(
        TrendTable(d, tuple(periods), grids[d.key][0], numbers.get(d.key) or suppress(grids[d.key][1], k))
        for d in DIMENSIONS
        if d.key in grids
    )


def _bins(first: str, last: str) -> list[str]:
    if len(first) == 4:
        return [str(year) for year in range(int(first), int(last) + 1)]
    bins, (year, quarter) = [], (int(first[:4]), int(first[-1]))
    while True:
        label = f"{year}-Q{quarter}"
        bins.append(label)
        if label == last:
            return bins
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def refresh(ctx: RequestContext) -> int:
    """Count the mission's cases again (the trends job, in each mission where the CTM is enabled); how many
    cells it has. Nothing of a person is read or written: codes and counts."""
    with unit_of_work(ctx) as session:
        return trend_counts.refresh(session)
