"""Trends: each mission's cases counted by quarter of identification and one dimension's value.

The counts are pre-computed (a CTM job, :func:`count_cells`, every hour), so that a trends page reads a few
hundred rows of its missions instead of grouping every case each time. The page reads not these but their
**published** copy (:class:`TrendPublished`): **releases** of closed calendar years (on the mission's calendar),
each made once, :data:`RELEASE_AFTER` the year's end, and never rewritten (:class:`TrendRelease`). A number
published once never changes: a case entered late with a past date, an edit, a retention purge of a released
year never show in the trends (a research export has the current data), so two releases cannot be subtracted
to show one case arriving, changing or going. The mission's :class:`TrendRefresh` says when they were counted.
These are true counts, microdata in all but name: they leave the CTM only through small-cell suppression
(services/trends.py), never as they are.

Sources are the coded fields of the case (no sealed value: nothing written about a person is read here) and a
case counts in the quarter it was identified (opened). A case received through a hand-over is the same person
identified elsewhere: it is no new identification, so it counts only under the outcomes it holds there (its
return, its reintegration scores).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from ctm_plugin.i18n import N_

from .assistance import AssistanceService
from .case import Case, PersonProfile, VictimContext
from .handover import Handover
from .models import Base, MissionScoped, UTCDateTime, utcnow
from .monitoring import MonitoringVisit
from .process import TraffickingEvent
from .returns import ReturnBooking

UNKNOWN = "?"
"""The value of a case that has none recorded for the dimension."""
ROUTE_ARROW = ">"


@dataclass(frozen=True)
class Dimension:
    key: str
    title: str
    several: bool
    """Whether a case may count under several of its values (its total counts mentions, not cases)."""


DIMENSIONS = (
    Dimension("cases", N_("Cases identified"), False),
    Dimension("citizenship", N_("Citizenship"), True),
    Dimension("exploitation_country", N_("Country of exploitation"), True),
    Dimension("exploitation_type", N_("Type of exploitation"), True),
    Dimension("control", N_("Means of control"), True),
    Dimension("recruiter", N_("Relation to the recruiter"), False),
    Dimension("age_group", N_("Age group when identified"), False),
    Dimension("sex", N_("Sex"), False),
    Dimension("route", N_("Routes: country of recruitment to country of exploitation"), True),
    Dimension("assistance", N_("Assistance received"), True),
    Dimension("return", N_("Returns: the latest booking's status"), False),
    Dimension("reintegration", N_("Reintegration: the latest survey's score by dimension"), True),
)
BY_KEY = {d.key: d for d in DIMENSIONS}
IDENTIFICATION = frozenset(d.key for d in DIMENSIONS) - {"return", "reintegration", "assistance"}
"""The dimensions of every case identified in the mission: the same cases, by period, as "cases"."""
AGE_GROUPS = ((0, 17, "0-17"), (18, 24, "18-24"), (25, 34, "25-34"), (35, 44, "35-44"), (45, 200, "45+"))
SCORE_BANDS = ((Decimal("0.33"), "low"), (Decimal("0.66"), "medium"), (Decimal("1.01"), "high"))
SCORE_BAND_LABELS = {
    "low": N_("low (below 0.33)"),
    "medium": N_("medium (0.33 to 0.66)"),
    "high": N_("high (0.66 and above)"),
}


class Counts(MissionScoped):
    """How many of the mission's cases identified in ``quarter`` (``2026-Q1``) have ``value`` in ``dimension``.
    Only counts above zero are kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(String(24))
    quarter: Mapped[str] = mapped_column(String(7))
    value: Mapped[str] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(Integer)


class TrendCell(Counts, Base):
    """The counts as the job made them last. (Until ctm0027 they were also counted per exploitation type, for a
    filter the page no longer has: services/trends.py.)"""

    __tablename__ = "ctm_trend_cell"


class TrendPublished(Counts, Base):
    """The counts as the trends page reads them: the :class:`TrendCell` rows of each released year, copied once
    when it was released (:class:`TrendRelease`) and never rewritten."""

    __tablename__ = "ctm_trend_published"


class TrendRelease(MissionScoped, Base):
    """A calendar year of the mission's counts published (its quarters copied into :class:`TrendPublished`), and
    when: once, never again. A mission's releases are the years from its first release on, without a gap."""

    __tablename__ = "ctm_trend_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrendRefresh(MissionScoped, Base):
    """When the mission's cells were last counted, and over how many cases; when a year was last released."""

    __tablename__ = "ctm_trend_refresh"

    id: Mapped[int] = mapped_column(primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cases: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When the job last released a year; ``None``: none yet."""


RELEASE_AFTER = timedelta(days=31)
"""How long after a year's end (on the mission's calendar) it is released: cases of its last days entered late
still count."""


Key = tuple[str, str, str]  # dimension, quarter, value


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_before(quarter: str) -> str:
    """The quarter before ``quarter`` (``2026-Q1`` → ``2025-Q4``)."""
    year, number = int(quarter[:4]), int(quarter[-1])
    return f"{year - 1}-Q4" if number == 1 else f"{year}-Q{number - 1}"


def age_group(birth: date | None, on: date) -> str:
    if birth is None or birth > on:
        return UNKNOWN
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return next(label for low, high, label in AGE_GROUPS if low <= age <= high)


def score_band(score: str | None) -> str | None:
    try:
        value = Decimal(score) if score is not None else None
    except InvalidOperation:
        return None
    if value is None:
        return None
    return next((band for below, band in SCORE_BANDS if value < below), None)


@dataclass
class _CaseFacts:
    opened_on: date
    quarter: str
    received: bool
    values: dict[str, set[str]]


CHUNK = 10_000
"""Cases counted at a time: a million cases are read in chunks of ids, never held all at once."""


def count_cells(session: Session) -> tuple[Counter[Key], int]:
    """The mission's counts, read through its own session (column by column, no sealed value), chunk by chunk
    of case ids, and how many cases it has."""
    code = session.info["mission_code"]
    received = set(session.scalars(sa.select(Handover.receiving_case_id).where(Handover.to_mission == code)).all()) - {
        None
    }
    ids = session.scalars(sa.select(Case.id).order_by(Case.id)).all()
    counts: Counter[Key] = Counter()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        _count_chunk(session, chunk[0], chunk[-1], received, counts)
    return counts, len(ids)


def _count_chunk(session: Session, first: int, last: int, received: set[int | None], counts: Counter[Key]) -> None:
    def of(column: sa.orm.InstrumentedAttribute[int]) -> sa.ColumnElement[bool]:
        return column.between(first, last)

    facts: dict[int, _CaseFacts] = {}
    for case_id, opened_on in session.execute(sa.select(Case.id, Case.opened_on).where(of(Case.id))):
        facts[case_id] = _CaseFacts(opened_on, quarter_of(opened_on), case_id in received, {})

    def add(case_id: int, dimension: str, values: Iterable[str | None]) -> None:
        if case_id in facts:
            facts[case_id].values.setdefault(dimension, set()).update(v for v in values if v)

    for case_id, types, controls, relation in session.execute(
        sa.select(
            VictimContext.case_id,
            VictimContext.exploitation_types,
            VictimContext.control_methods,
            VictimContext.recruiter_relationship,
        ).where(of(VictimContext.case_id))
    ):
        add(case_id, "exploitation_type", types or ())
        add(case_id, "control", controls or ())
        add(case_id, "recruiter", [relation])
    for case_id, gender, citizenships, birth in session.execute(
        sa.select(
            PersonProfile.case_id, PersonProfile.gender, PersonProfile.citizenships, PersonProfile.birth_date
        ).where(of(PersonProfile.case_id))
    ):
        add(case_id, "sex", [gender])
        add(case_id, "citizenship", citizenships or ())
        if case_id in facts:
            add(case_id, "age_group", [age_group(birth, facts[case_id].opened_on)])
    recruited: dict[int, str] = {}
    exploited: dict[int, set[str]] = {}
    for case_id, event_type, country in session.execute(
        sa.select(TraffickingEvent.case_id, TraffickingEvent.type, TraffickingEvent.country)
        .where(of(TraffickingEvent.case_id), TraffickingEvent.country.is_not(None))
        .order_by(TraffickingEvent.case_id, TraffickingEvent.sequence)
    ):
        if event_type == "Recruitment":
            recruited.setdefault(case_id, str(country))
        elif event_type == "Exploitation":
            exploited.setdefault(case_id, set()).add(str(country))
    for case_id, countries in exploited.items():
        add(case_id, "exploitation_country", countries)
        if case_id in recruited:
            add(case_id, "route", (f"{recruited[case_id]}{ROUTE_ARROW}{c}" for c in countries))
    for case_id, kind in session.execute(
        sa.select(AssistanceService.case_id, AssistanceService.type).where(of(AssistanceService.case_id))
    ):
        add(case_id, "assistance", [kind])
    latest_return: dict[int, str] = {}
    for case_id, status in session.execute(
        sa.select(ReturnBooking.case_id, ReturnBooking.status)
        .where(of(ReturnBooking.case_id))
        .order_by(ReturnBooking.case_id, ReturnBooking.id)
    ):
        latest_return[case_id] = status or "REQUESTED"
    for case_id, status in latest_return.items():
        add(case_id, "return", [status])
    latest_scores: dict[int, dict[str, str]] = {}
    for case_id, scores in session.execute(
        sa.select(MonitoringVisit.case_id, MonitoringVisit.scores)
        .where(of(MonitoringVisit.case_id), MonitoringVisit.scores.is_not(None))
        .order_by(MonitoringVisit.case_id, MonitoringVisit.visited_on, MonitoringVisit.id)
    ):
        latest_scores[case_id] = scores or {}
    for case_id, scores in latest_scores.items():
        add(case_id, "reintegration", (f"{dim}:{band}" for dim, s in scores.items() if (band := score_band(s))))

    for case in facts.values():
        for key, values in _values_of(case):
            for value in values:
                counts[(key, case.quarter, value)] += 1


def _values_of(case: _CaseFacts) -> Iterator[tuple[str, Iterable[str]]]:
    for dimension in DIMENSIONS:
        values = case.values.get(dimension.key, set())
        if dimension.key in IDENTIFICATION:
            if case.received:
                continue
            if dimension.key == "cases":
                yield dimension.key, ("all",)
            elif values or dimension.key not in ("route", "exploitation_country"):
                yield dimension.key, sorted(values) or (UNKNOWN,)
        elif values:
            yield dimension.key, sorted(values)


def last_closed_year(today: date) -> int:
    """The last year released on ``today`` (the mission's): ended :data:`RELEASE_AFTER` ago or more."""
    return today.year - 1 if today >= date(today.year, 1, 1) + RELEASE_AFTER else today.year - 2


def refresh(session: Session, today: date) -> int:
    """Count the mission's cells again and write what changed (in the session's transaction), and release the
    years closed on ``today`` (the mission's) not released yet; how many cells the mission has now.

    A mission's first release is every year from its first case's to the last closed one (or that one alone,
    without a case); the next ones each year after the last released, never one before: a year released, or
    passed over, is never published again, so the page's numbers of a year never change."""
    counts, cases = count_cells(session)
    code = session.info["mission_code"]
    state = session.scalars(sa.select(TrendRefresh)).first() or TrendRefresh(mission_code=code)
    state.refreshed_at, state.cases = utcnow(), cases
    last = last_closed_year(today)
    released = session.scalar(sa.select(sa.func.max(TrendRelease.year)))
    first = released + 1 if released is not None else min([int(q[:4]) for _d, q, _v in counts] + [last])
    for year in range(first, last + 1):
        session.add(TrendRelease(mission_code=code, year=year, published_at=state.refreshed_at))
        session.add_all(
            TrendPublished(mission_code=code, dimension=d, quarter=q, value=v, count=n)
            for (d, q, v), n in counts.items()
            if q.startswith(f"{year}-")
        )
        state.published_at = state.refreshed_at
    _write(session, counts)
    session.add(state)
    session.flush()
    return session.scalar(sa.select(sa.func.count()).select_from(TrendCell)) or 0


def _write(session: Session, counts: Counter[Key]) -> None:
    """The mission's cells made the ``counts``: a row no longer counted goes, a changed count is updated, a new
    one added (row by row: a mission's session writes no bulk)."""
    counts = counts.copy()
    for row in session.scalars(sa.select(TrendCell)):
        count = counts.pop((row.dimension, row.quarter, row.value), 0)
        if not count:
            session.delete(row)
        elif row.count != count:
            row.count = count
    code = session.info["mission_code"]
    session.add_all(
        TrendCell(mission_code=code, dimension=d, quarter=q, value=v, count=n) for (d, q, v), n in counts.items()
    )
