"""Monitoring after the return: the visits' schedule, the visits, their sustainability surveys, and
the mission's own scoring models.

The schedule is anchored on the person's arrival: the reception's arrival date for a case received
through a hand-over; else the day the case's return arrived; else the monitoring start date the
caseworker sets on the Monitoring tab. A visit is planned ``monitoring_months`` after the anchor.
The rules here are pure: the schedule, what is overdue, which dimension fell between two surveys.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, Integer, Numeric, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ctm_plugin.i18n import N_

from .models import Base, MissionScoped, UTCDateTime, in_the_case_mission, utcnow
from .sealed import Sealed, sealed_type

REACHED, MISSED = "Reached", "Missed"
OUTCOMES = {REACHED: N_("Reached: the visit took place"), MISSED: N_("Missed: the person was not reached")}

RECEPTION, RETURN, START = "reception", "return", "start"
ANCHORS = {
    RECEPTION: N_("the person's arrival, as the reception recorded it"),
    RETURN: N_("the day the person's return arrived"),
    START: N_("the monitoring start date set on this tab"),
}
"""What the schedule is anchored on, in the order they are looked for."""

DONE, MISSED_VISIT, OVERDUE, PLANNED = "done", "missed", "overdue", "planned"
VISIT_STATES = {
    DONE: N_("Done"),
    MISSED_VISIT: N_("Missed"),
    OVERDUE: N_("Overdue"),
    PLANNED: N_("Planned"),
}


class MonitoringStart(MissionScoped, Base):
    """The monitoring start date a caseworker set, for a case with no arrival to anchor the schedule on."""

    __tablename__ = "ctm_monitoring_start"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(unique=True)
    start_on: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(80))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MonitoringVisit(MissionScoped, Base):
    """A monitoring visit, reached or missed, with the sustainability survey answered at it, if any.

    A survey keeps the model's key and version, the answers (indicator id → option id) and the
    scores computed when it was recorded: a later model does not change them.
    """

    __tablename__ = "ctm_monitoring_visit"
    __table_args__ = (in_the_case_mission(),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(index=True)
    visited_on: Mapped[date] = mapped_column(Date)
    schedule_month: Mapped[int | None] = mapped_column(SmallInteger)
    """The scheduled visit it is (months after the anchor); ``None`` for a visit outside the schedule."""
    mode: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(String(8))
    missed_reason_sealed: Mapped[str | None] = mapped_column("missed_reason", sealed_type())
    missed_reason = Sealed()
    risks: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Re-trafficking risk indicators found (``RETRAFFICKING_RISK`` codes)."""
    notes_sealed: Mapped[str | None] = mapped_column("notes", sealed_type())
    notes = Sealed()
    model_key: Mapped[str | None] = mapped_column(String(40))
    model_version: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    scores: Mapped[dict[str, str] | None] = mapped_column(JSON)
    """Dimension id → its score as text with 2 decimals ("0.63"), in the model's order."""
    overall: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def surveyed(self) -> bool:
        return self.model_key is not None


class ScoringModelRevision(MissionScoped, Base):
    """One saved version of a mission's own scoring model; the newest is the one in force.

    An empty ``document`` means the mission went back to the default model.
    """

    __tablename__ = "ctm_scoring_model"
    __table_args__ = (UniqueConstraint("mission_code", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision: Mapped[int] = mapped_column(Integer)
    model_key: Mapped[str | None] = mapped_column(String(40))
    model_version: Mapped[int | None] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(80))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# -- pure rules -------------------------------------------------------------------------------


def months_after(start: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has fewer days."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ScheduledVisit:
    month: int
    due_on: date
    state: str
    """:data:`DONE`, :data:`MISSED_VISIT`, :data:`OVERDUE` or :data:`PLANNED`."""
    visit_id: int | None


def schedule(
    anchor: date | None, months: Sequence[int], visits: Sequence[MonitoringVisit], today: date
) -> list[ScheduledVisit]:
    """Each scheduled visit with its state: done or missed by the newest visit recorded for it;
    overdue once its date has passed without a record; else planned."""
    if anchor is None:
        return []
    found = []
    for month in sorted(set(months)):
        recorded = [v for v in visits if v.schedule_month == month]
        last = max(recorded, key=lambda v: (v.visited_on, v.id or 0)) if recorded else None
        due = months_after(anchor, month)
        if last is not None:
            state = DONE if last.outcome == REACHED else MISSED_VISIT
        else:
            state = OVERDUE if due < today else PLANNED
        found.append(ScheduledVisit(month, due, state, last.id if last else None))
    return found


def falls(before: Mapping[str, str], after: Mapping[str, str], threshold: Decimal) -> list[str]:
    """The dimensions whose score dropped by at least ``threshold`` from one survey to the next."""
    return [
        dimension
        for dimension, score in after.items()
        if dimension in before and Decimal(before[dimension]) - Decimal(score) >= threshold
    ]
