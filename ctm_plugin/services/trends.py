"""Trends for researchers, HQ and mission supervisors: the published counts (domain/trends.py) of the missions
of the user's scope, as tables every number of which passed small-cell suppression.

No role has microdata here: whoever holds ``ctm.trends.view`` sees the same suppressed numbers (microdata
leaves only through the approved, k-anonymous export). The scope is the missions where the user holds the
permission (``ctx.missions_with``: HQ's across missions, a supervisor's own), read mission by mission through
each one's own session, each view audited there with the filter asked.

**Releases that never change.** The unit of publication is a closed calendar year: each mission's job copies a
year's quarterly counts once, a month after it ends, and never rewrites them (domain/trends.py), and the page
shows the years released in every mission of the scope. Each **year block** (its four quarters by a dimension's
values, with the year's row) is suppressed on its own, from its own frozen counts, the scope and k alone: no
total across years feeds it. So a block is published with the same pattern in every release, and a new year, a
late case, an edit or a purge changes nothing already published: two releases cannot be subtracted. The
**Total** row (every year) is the sum of the years' published numbers where every one is shown, else withheld:
never a true count. A block a reader could work out even with every number withheld
(:attr:`SuppressedTable.disclosive`) is published with every number withheld.

**The views a reader can ask for, and why no two can be subtracted from each other.** Every table covers the
whole scope: there is no mission filter and no exploitation type filter (a mission's view subtracted from all
missions' gave the other missions' small counts; a type's view subtracted from every type's gave the small
count of the cases not of that type). The one filter is the period bin, so a reader has exactly two views, **by
quarter** and **by year**, both from one suppression of each block, its quarters and its year together
(:func:`ctm_plugin.research.suppression.suppress_hierarchy`: a year can be shown where its quarters are small
but it is not). The breakdowns of every case identified (cases, by mission when the scope has several, relation
to the recruiter, age group, sex) add up to the same number per quarter and per year, so they are suppressed
together: they withhold the same totals (:func:`ctm_plugin.research.suppression.suppress_hierarchy_together`).

**Breakdowns where a case may count under several values** (citizenship, exploitation type and country, means
of control, route, assistance, reintegration): their totals count mentions, and a number of theirs bounds the
cases of its period (a value's count is at most the cases, and the mentions at least the cases where every case
has a value, if only "?"): cases withheld in a quarter but citizenship's 14 mentions of that quarter all KHM
would say the quarter had 14 cases. So a period (a quarter or the year) whose cases identified are withheld is
withheld whole in these tables, every cell and the total, shown as "x" (a total "<k" would say the cases were
fewer than k), and protected there as any withheld number (its cells cannot be worked out from the year less
the other quarters; a value no case of the year has still shows 0). Their crossings with the other dimensions go
through the k-anonymous export.

The year in progress is never shown, nor the last one before its release.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ctm_plugin.domain import trends as trend_counts
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.trends import BY_KEY, DIMENSIONS, IDENTIFICATION, Dimension, TrendPublished, TrendRelease
from ctm_plugin.i18n import N_
from ctm_plugin.research import small_cell_k
from ctm_plugin.research.suppression import (
    SECONDARY,
    Shown,
    SuppressedTable,
    suppress_hierarchy,
    suppress_hierarchy_together,
)
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
    year: int | None
    """The last year the mission released; ``None``: none yet (its job has not run since the CTM was enabled)."""
    published_at: datetime | None
    """When it was released."""


@dataclass(frozen=True)
class Trends:
    k: int
    filters: dict[str, str]
    up_to: int | None
    """The last year shown: released in every mission of the scope (``None``: not yet in one of them)."""
    freshness: tuple[Freshness, ...]
    tables: tuple[TrendTable, ...]
    too_few: tuple[Dimension, ...] = ()
    """The breakdowns too small to show at all: in every year, a number of theirs could be worked out even with
    every number withheld (:attr:`SuppressedTable.disclosive`), so nothing of them is published."""


def scope(ctx: RequestContext) -> tuple[MissionRef, ...]:
    """The missions whose trends the user may see; :class:`NotFound` without the permission here."""
    require(ctx, TRENDS_VIEW)
    return ctx.missions_with(TRENDS_VIEW)


def trends(ctx: RequestContext, asked: dict[str, Any]) -> Trends:
    """The suppressed tables for the filters ``asked`` (:class:`Invalid` when one is not a choice)."""
    missions = scope(ctx)
    filters = load(TrendsFilterSchema(), asked)
    rows: list[tuple[str, str, str, str, int]] = []
    freshness = []
    for mission in missions:
        mctx = ctx.in_mission(mission.code)
        with unit_of_work(mctx) as session:
            last, at = session.execute(
                sa.select(sa.func.max(TrendRelease.year), sa.func.max(TrendRelease.published_at))
            ).one()
            published = sa.select(
                TrendPublished.dimension, TrendPublished.quarter, TrendPublished.value, TrendPublished.count
            )
            rows.extend((mission.code, *row) for row in session.execute(published))
            audit.record(session, mctx, "trends.view", None, [FIELD_GROUP, f"{FIELD_GROUP}:{filters['period_bin']}"])
        freshness.append(Freshness(mission, last, at))
    years = [f.year for f in freshness]
    up_to = min(y for y in years if y is not None) if years and None not in years else None
    keys = [d.key for d in DIMENSIONS] + ([MISSIONS.key] if len(missions) > 1 else [])
    counts: dict[str, Counter[tuple[str, str]]] = {key: Counter() for key in keys}
    for code, dimension, quarter, value, count in rows:
        if up_to is None or int(quarter[:4]) > up_to:
            continue
        if dimension in counts:
            counts[dimension][(quarter, value)] += count
        if dimension == "cases" and MISSIONS.key in counts:
            counts[MISSIONS.key][(quarter, code)] += count
    tables = _tables(counts, up_to, small_cell_k(), by_year=filters["period_bin"] == "year") if up_to else ()
    shown = tuple(t for t in tables if not t.numbers.disclosive)
    too_few = tuple(t.dimension for t in tables if t.numbers.disclosive)
    return Trends(small_cell_k(), filters, up_to, tuple(freshness), shown, too_few)


QUARTERS = ("Q1", "Q2", "Q3", "Q4")
Block = tuple[tuple[str, ...], SuppressedTable, SuppressedTable]
"""A year block as suppressed: its values (those with a count in the year), its quarters, its year."""


def _tables(counts: dict[str, Counter[tuple[str, str]]], up_to: int, k: int, by_year: bool) -> tuple[TrendTable, ...]:
    """Every dimension's table over the same years, every one from the first with a case to ``up_to`` (a year
    without any is a block of zeros), each year's block suppressed on its own (the module's docstring); the
    years' view if ``by_year``, else the quarters'. The Total row is the published years' sum."""
    seen = {int(period[:4]) for c in counts.values() for period, _value in c}
    if not seen:
        return ()
    years = [str(year) for year in range(min(seen), up_to + 1)]
    blocks = {year: _blocks(counts, year, k) for year in years}
    tables = []
    for d in (*DIMENSIONS, MISSIONS):
        if d.key not in counts or not counts[d.key]:
            continue
        of = [blocks[year][d.key] for year in years]
        published: Counter[str] = Counter()
        for values, _fine, coarse in of:
            for value, shown in zip(values, coarse.cells[0], strict=True):
                published[value] += shown.count or 0
        values = tuple(sorted({v for _p, v in counts[d.key]}, key=lambda v: (-published[v], v)))
        view = [(values_, coarse if by_year else fine) for values_, fine, coarse in of]
        cells = [
            tuple(row[block_values.index(v)] if v in block_values else Shown(0) for v in values)
            for block_values, table in view
            for row in table.cells
        ]
        row_totals = [total for _values, table in view for total in table.row_totals]
        years_cells = [dict(zip(block_values, coarse.cells[0], strict=True)) for block_values, _fine, coarse in of]
        column_totals = tuple(_sum([cells_.get(v, Shown(0)) for cells_ in years_cells]) for v in values)
        numbers = SuppressedTable(
            k,
            tuple(cells),
            tuple(row_totals),
            column_totals,
            _sum([coarse.row_totals[0] for _values, _fine, coarse in of]),
            disclosive=all(fine.disclosive for _values, fine, _coarse in of),
        )
        periods = tuple(years) if by_year else tuple(f"{year}-{q}" for year in years for q in QUARTERS)
        tables.append(TrendTable(d, periods, values, numbers))
    return tuple(tables)


def _sum(numbers: list[Shown]) -> Shown:
    """The sum of published numbers when every one is shown, else withheld: the Total row."""
    if any(n.count is None for n in numbers):
        return Shown(None, SECONDARY)
    return Shown(sum(n.count or 0 for n in numbers))


def _blocks(counts: dict[str, Counter[tuple[str, str]]], year: str, k: int) -> dict[str, Block]:
    """Every dimension's block of ``year``, from that year's counts alone: the breakdowns of the cases
    identified together, then the several-valued ones each withholding whole the periods whose cases are
    withheld. A block with no count is zeros; one too small to show even all withheld, every number withheld."""
    quarters = [f"{year}-{q}" for q in QUARTERS]

    def grid(key: str) -> tuple[tuple[str, ...], list[list[int]]]:
        totals: Counter[str] = Counter()
        for (period, value), count in counts[key].items():
            if period[:4] == year:
                totals[value] += count
        values = tuple(sorted((v for v in totals if totals[v]), key=lambda v: (-totals[v], v)))
        return values, [[counts[key][(q, v)] for v in values] for q in quarters]

    grids = {key: grid(key) for key in counts}
    blocks: dict[str, Block] = {}
    together = [key for key in SUPPRESSED_TOGETHER if key in grids and grids[key][0]]
    if together:
        both = suppress_hierarchy_together([grids[key][1] for key in together], [[0, 1, 2, 3]], k)
        blocks.update(
            (key, (grids[key][0], *_unless_disclosive(*pair))) for key, pair in zip(together, both, strict=True)
        )
    cases = blocks.get("cases")
    held = [i for i, total in enumerate(cases[1].row_totals) if total.count is None] if cases else []
    year_held = [0] if cases and cases[2].row_totals[0].count is None else []
    for key, (values, cells) in grids.items():
        if key in blocks:
            continue
        if not values:
            blocks[key] = ((), _zeros(4, k), _zeros(1, k))
            continue
        several = BY_KEY[key].several
        fine, coarse = suppress_hierarchy(cells, [[0, 1, 2, 3]], k, *((held, year_held) if several else ()))
        if several:  # "x", not "<k": a mentions' total below k would bound the withheld cases
            fine, coarse = _withheld(fine, held), _withheld(coarse, year_held)
        blocks[key] = (values, *_unless_disclosive(fine, coarse))
    return blocks


def _zeros(rows: int, k: int) -> SuppressedTable:
    return SuppressedTable(k, ((),) * rows, (Shown(0),) * rows, (), Shown(0))


def _unless_disclosive(fine: SuppressedTable, coarse: SuppressedTable) -> tuple[SuppressedTable, SuppressedTable]:
    """The block as suppressed, or every number of it withheld (still flagged) if it is too small to show."""
    if not fine.disclosive:
        return fine, coarse
    return _withheld(fine), _withheld(coarse)


def _withheld(table: SuppressedTable, rows: Collection[int] | None = None) -> SuppressedTable:
    """``table`` with its ``rows`` (every row, its totals too, and flagged disclosive, if ``None``) shown as "x":
    withheld, without the reader's knowing whether below k (withholding more than the suppression chose)."""
    x = Shown(None, SECONDARY)
    every = rows is None
    keep = set() if rows is None else set(range(len(table.cells))) - set(rows)
    return SuppressedTable(
        table.k,
        tuple(row if i in keep else (x,) * len(row) for i, row in enumerate(table.cells)),
        tuple(total if i in keep else x for i, total in enumerate(table.row_totals)),
        (x,) * len(table.column_totals) if every else table.column_totals,
        x if every else table.total,
        disclosive=every or table.disclosive,
    )


def refresh(ctx: RequestContext) -> int:
    """Count the mission's cases again and release the years closed on the mission's calendar (the trends job,
    in each mission where the CTM is enabled); how many cells it has. Nothing of a person is read or written:
    codes and counts."""
    with unit_of_work(ctx) as session:
        return trend_counts.refresh(session, mission_today(ctx.settings))
