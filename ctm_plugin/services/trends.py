"""Trends for researchers, HQ and mission supervisors: the published counts (domain/trends.py) of the missions
of the user's scope, as tables every number of which passed small-cell suppression.

No role has microdata here: whoever holds ``ctm.trends.view`` sees the same suppressed numbers (microdata
leaves only through the approved, k-anonymous export). The scope is the missions where the user holds the
permission (``ctx.missions_with``: HQ's across missions, a supervisor's own), read mission by mission through
each one's own session, each view audited there with the filter asked.

**The views a reader can ask for, and why no two can be subtracted from each other.** Every table covers the
whole scope: there is no mission filter and no exploitation type filter (a mission's view subtracted from all
missions' gave the other missions' small counts; a type's view subtracted from every type's gave the small
count of the cases not of that type). The one filter is the period bin, so a reader has exactly two views:

* **by quarter** and **by year**: each dimension's table, periods (the closed quarters, or the years they
  make up) by the dimension's values, with its totals. The two are one table to the suppression: the quarters
  grouped into years, suppressed once so that both views are published from one pattern and nothing in
  either, or both side by side, gives a small count away
  (:func:`ctm_plugin.research.suppression.suppress_hierarchy`: a year can be shown where its quarters are small
  but it is not; where something must be withheld, a quarter rather than a year). The breakdowns of every case
  identified (cases, by mission when the scope has several, relation to the recruiter, age group, sex) add up
  to the same number per quarter and per year, so they are suppressed together: they withhold the same
  totals (:func:`ctm_plugin.research.suppression.suppress_hierarchy_together`). The exploitation type is one
  of the tables (a case may have several: its totals count mentions); its crossings with the other dimensions
  go through the k-anonymous export.

The current quarter (on each mission's calendar) is never shown: the tables stop at the last quarter closed in
every mission of the scope, and the page says which. And the page reads the counts the job publishes at most
once a day, not its hourly recount, so two views an hour apart do not show single cases arriving.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctm_plugin.domain import trends as trend_counts
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.trends import (
    DIMENSIONS,
    IDENTIFICATION,
    Dimension,
    TrendPublished,
    TrendRefresh,
    quarter_before,
    quarter_of,
)
from ctm_plugin.i18n import N_
from ctm_plugin.research import small_cell_k
from ctm_plugin.research.suppression import SuppressedTable, suppress_hierarchy, suppress_hierarchy_together
from ctm_plugin.schemas.trends import TrendsFilterSchema
from ctm_plugin.security import audit
from ctm_plugin.security.permissions import TRENDS_VIEW
from ctm_plugin.services.base import load, require, unit_of_work
from mimosa_host.plugin_api import MissionRef, RequestContext

FIELD_GROUP = "trends"
MISSIONS = Dimension("mission", N_("Cases identified by mission"), False)
"""The cases identified by the mission that identified them: shown when the scope has more than one mission."""
SUPPRESSED_TOGETHER = ("cases", MISSIONS.key, "recruiter", "age_group", "sex")
"""Single-valued breakdowns of the cases identified: each adds up, per period, to the cases identified."""
assert set(SUPPRESSED_TOGETHER) - {MISSIONS.key} <= IDENTIFICATION


@dataclass(frozen=True)
class TrendTable:
    dimension: Dimension
    periods: tuple[str, ...]
    values: tuple[str, ...]
    numbers: SuppressedTable


@dataclass(frozen=True)
class Freshness:
    mission: MissionRef
    published_at: datetime | None
    """``None``: the mission's counts were never published (its job has not run yet)."""


@dataclass(frozen=True)
class Trends:
    k: int
    filters: dict[str, str]
    up_to: str
    """The last quarter shown: closed in every mission of the scope."""
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
    filters = load(TrendsFilterSchema(), asked)
    contexts = [(mission, ctx.in_mission(mission.code)) for mission in missions]
    up_to = min(quarter_before(quarter_of(mission_today(mctx.settings))) for _mission, mctx in contexts)
    keys = [d.key for d in DIMENSIONS] + ([MISSIONS.key] if len(missions) > 1 else [])
    counts: dict[str, Counter[tuple[str, str]]] = {key: Counter() for key in keys}
    freshness = []
    for mission, mctx in contexts:
        with unit_of_work(mctx) as session:
            rows = session.execute(
                sa.select(
                    TrendPublished.dimension, TrendPublished.quarter, TrendPublished.value, TrendPublished.count
                ).where(TrendPublished.quarter <= up_to)
            )
            for dimension, quarter, value, count in rows:
                if dimension in counts:
                    counts[dimension][(quarter, value)] += count
                if dimension == "cases" and MISSIONS.key in counts:
                    counts[MISSIONS.key][(quarter, mission.code)] += count
            published = session.scalar(sa.select(TrendRefresh.published_at))
            audit.record(session, mctx, "trends.view", None, [FIELD_GROUP, f"{FIELD_GROUP}:{filters['period_bin']}"])
        freshness.append(Freshness(mission, published))
    tables = _tables(counts, up_to, small_cell_k(), by_year=filters["period_bin"] == "year")
    shown = tuple(t for t in tables if not t.numbers.disclosive)
    too_few = tuple(t.dimension for t in tables if t.numbers.disclosive)
    return Trends(small_cell_k(), filters, up_to, tuple(freshness), shown, too_few)


def _tables(counts: dict[str, Counter[tuple[str, str]]], up_to: str, k: int, by_year: bool) -> tuple[TrendTable, ...]:
    """Every dimension's table over the same quarters: every one from the first with a case to ``up_to`` (a
    quarter without any is a row of zeros), so that the tables add up to each other; suppressed with its years
    (:func:`ctm_plugin.research.suppression.suppress_hierarchy`), and the years' view if ``by_year``."""
    seen = sorted({period for c in counts.values() for period, _value in c})
    if not seen:
        return ()
    periods = _bins(seen[0], up_to)
    years = sorted({period[:4] for period in periods})
    groups = [[i for i, period in enumerate(periods) if period[:4] == year] for year in years]
    grids: dict[str, tuple[tuple[str, ...], list[list[int]]]] = {}
    for key, cells in counts.items():
        totals: Counter[str] = Counter()
        for (_period, value), count in cells.items():
            totals[value] += count
        values = tuple(sorted(totals, key=lambda v: (-totals[v], v)))
        if values:
            grids[key] = (values, [[cells[(p, v)] for v in values] for p in periods])
    together = [key for key in SUPPRESSED_TOGETHER if key in grids]
    numbers = dict(
        zip(together, suppress_hierarchy_together([grids[key][1] for key in together], groups, k), strict=True)
    )
    shown, view = (tuple(years), 1) if by_year else (tuple(periods), 0)  # both views from one pattern
    return tuple(
        TrendTable(
            d, shown, grids[d.key][0], (numbers.get(d.key) or suppress_hierarchy(grids[d.key][1], groups, k))[view]
        )
        for d in (*DIMENSIONS, MISSIONS)
        if d.key in grids
    )


def _bins(first: str, last: str) -> list[str]:
    """The quarters from ``first`` to ``last``."""
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
