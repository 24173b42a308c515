"""Retention: how long a mission keeps each class of record, and the purge that deletes or erases what is due.

The classes are one registry (:data:`CLASSES`), each saying what is due under the mission's settings (a
count and the oldest record's date) and how it is purged: in batches, each batch one mission-scoped
transaction, so a long purge holds no lock for long and an interrupted one resumes where it stopped.
A dry run reports the same counts and changes nothing. The report holds counts and dates only: no
name, no case number, no case detail, in a log or on a terminal.

What a closed case that is due leaves behind (docs/administrators.md, "Retention"):

- nothing, as a rule: the case and every row under it are deleted (its audit events stay, with the
  case's number, until the audit trail's own retention);
- money: a case with entries in the reintegration ledger keeps its ledger (append-only, a financial
  record with its own retention), the disbursements and plan elements the entries stand on, and the
  emergency-fund requests with their amounts; the person's story is erased around them (every other
  row under the case, the free text of the rows kept);
- nothing yet while something is unsettled, so the case is *held* and counted as such: an
  emergency-fund request HQ has not decided, or a hand-over (its record and history belong to two
  missions, and one mission's purge would delete the other's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.assistance import AssistanceService, Consent, Referral
from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.case import Case, CaseClosure, CaseHandover, PersonProfile, VictimContext
from ctm_plugin.domain.due import FollowUp
from ctm_plugin.domain.fund import REQUESTED, FundRequest
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.monitoring import MonitoringStart, MonitoringVisit
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.domain.reintegration import Disbursement, LedgerEntry, PlanElement, PlanRevision, ReintegrationPlan
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.screening import Determination, Screening
from ctm_plugin.domain.sync import OUT_DISCARDED, OUT_DONE, HostLink, OutboxMessage
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.case import CLOSED_STATUSES
from ctm_plugin.schemas.mission_settings import (
    retention_audit_years,
    retention_closed_case_years,
    retention_outbox_days,
)
from ctm_plugin.security import audit
from ctm_plugin.services import audit_chain, retrafficking
from mimosa_host.plugin_api import RequestContext

from .base import unit_of_work
from .operations import OPERATIONS

BATCH = 100
"""Records purged per transaction."""
OUTBOX_FINAL = (OUT_DONE, OUT_DISCARDED)
"""A message in these states is never sent again: what it carried is no longer needed."""


@dataclass(frozen=True)
class Due:
    """What one class holds past its retention: how many records, the oldest one's date."""

    count: int
    oldest: date | None


@dataclass(frozen=True)
class RecordClass:
    code: str
    label: str
    """An English msgid."""
    cutoff: Callable[[Mapping[str, Any]], datetime]
    """From the mission's settings: a record of the class from before this moment is due."""
    due: Callable[[Session, datetime], Due]
    purge: Callable[[RequestContext, datetime], int]
    """Delete or erase what is due, in its own transactions; how many records it purged."""


@dataclass(frozen=True)
class Line:
    """One class in the report."""

    code: str
    label: str
    count: int
    oldest: date | None


@dataclass(frozen=True)
class Report:
    dry_run: bool
    lines: list[Line]
    """One a class, in the order of :data:`CLASSES`: what is due (a dry run) or what was purged."""
    held: Line
    """Closed cases due but held: counted, never touched."""

    @property
    def purged(self) -> dict[str, int]:
        return {line.code: line.count for line in self.lines if line.count}


# -- closed cases -----------------------------------------------------------------------------------


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February, in a year without it
        return day.replace(year=day.year - years, day=28)


def _closed_before(settings: Mapping[str, Any]) -> datetime:
    """The mission's today, ``retention_closed_case_years`` back: a case closed on that day or before is due."""
    day = _years_before(mission_today(settings), retention_closed_case_years(settings))
    return datetime.combine(day, time(), UTC)


def _closed_cases(before: datetime) -> sa.Select[Any]:
    return sa.select(Case).where(Case.status.in_(CLOSED_STATUSES), Case.closed_on <= before.date()).order_by(Case.id)


def _held() -> sa.ColumnElement[bool]:
    """A case whose purge waits: a hand-over (two missions' record) or a fund request HQ has not decided."""
    return sa.or_(
        sa.exists().where(sa.or_(Handover.case_id == Case.id, Handover.receiving_case_id == Case.id)),
        sa.exists().where(FundRequest.case_id == Case.id, FundRequest.state == REQUESTED),
    )


def _has_money() -> sa.ColumnElement[bool]:
    return sa.exists().where(LedgerEntry.case_id == Case.id)


ERASED_AROUND_MONEY: tuple[type[Any], ...] = (
    PersonProfile,
    VictimContext,
    CaseClosure,
    CaseHandover,
    FollowUp,
    Referral,
    Consent,
    AssistanceService,
    MonitoringVisit,
    MonitoringStart,
    ReturnPreparation,  # before the return it may name
    ReturnBooking,  # before the outbox message it names
    OutboxMessage,
    HostLink,
    Determination,
    Screening,
    Perpetrator,
    TraffickingEvent,
    PlanRevision,
    ReintegrationPlan,
)
"""Every row under a case with money that goes, in an order that deletes a row before one it names."""


def _story_left() -> sa.ColumnElement[bool]:
    """Whether a case with money still holds something of the person's story to erase."""
    return sa.or_(
        Case.status_reason_sealed.is_not(None),
        *(sa.exists().where(model.case_id == Case.id) for model in ERASED_AROUND_MONEY),
        sa.exists().where(
            PlanElement.case_id == Case.id,
            sa.or_(PlanElement.objective_sealed != "", PlanElement.status_reason_sealed.is_not(None)),
        ),
        sa.exists().where(
            Disbursement.case_id == Case.id,
            sa.or_(
                Disbursement.purpose_sealed.is_not(None),
                Disbursement.reason_sealed.is_not(None),
                Disbursement.override_reason_sealed.is_not(None),
            ),
        ),
        sa.exists().where(
            FundRequest.case_id == Case.id,
            sa.or_(FundRequest.justification_sealed != "", FundRequest.reason_sealed.is_not(None)),
        ),
    )


def _due_cases(session: Session, query: sa.Select[Any]) -> Due:
    count, oldest = session.execute(sa.select(sa.func.count(), sa.func.min(query.subquery().c.closed_on))).one()
    return Due(count, oldest)


def _cases_to_delete(before: datetime) -> sa.Select[Any]:
    return _closed_cases(before).where(sa.not_(_held()), sa.not_(_has_money()))


def _cases_to_erase(before: datetime) -> sa.Select[Any]:
    return _closed_cases(before).where(sa.not_(_held()), _has_money(), _story_left())


def _in_batches(
    ctx: RequestContext, query: sa.Select[Any], handle: Callable[[RequestContext, Session, Any], None]
) -> int:
    """Handle the rows ``query`` selects, ``BATCH`` a transaction, until it selects none."""
    done = 0
    while True:
        with unit_of_work(ctx) as session:
            rows = session.scalars(query.limit(BATCH)).all()
            for row in rows:
                handle(ctx, session, row)
        done += len(rows)
        if len(rows) < BATCH:
            return done


def _delete_case(ctx: RequestContext, session: Session, case: Case) -> None:
    """The case and, through the database's cascades, every row under it, and HQ's re-trafficking matches naming
    it; its audit events keep its number."""
    retrafficking.forget_case(ctx, case.id)
    session.delete(case)


def _erase_around_money(ctx: RequestContext, session: Session, case: Case) -> None:
    retrafficking.forget_case(ctx, case.id)  # the person is erased: nothing links the case to another any more
    for model in ERASED_AROUND_MONEY:
        for row in session.scalars(sa.select(model).where(model.case_id == case.id)):
            session.delete(row)
        session.flush()
    case.status_reason = None
    for element in session.scalars(sa.select(PlanElement).where(PlanElement.case_id == case.id)):
        element.objective, element.status_reason = "", None
    for disbursement in session.scalars(sa.select(Disbursement).where(Disbursement.case_id == case.id)):
        disbursement.purpose = disbursement.reason = disbursement.override_reason = None
    for request in session.scalars(sa.select(FundRequest).where(FundRequest.case_id == case.id)):
        request.justification, request.reason = "", None


# -- the outbox --------------------------------------------------------------------------------------


def _outbox_before(settings: Mapping[str, Any]) -> datetime:
    return utcnow() - timedelta(days=retention_outbox_days(settings))


def _final_payloads(before: datetime) -> sa.Select[Any]:
    """Final messages last changed before ``before`` whose payload is still there and not the history's."""
    erased = [name for name, operation in OPERATIONS.items() if not operation.payload_kept]
    return (
        sa.select(OutboxMessage)
        .where(
            OutboxMessage.status.in_(OUTBOX_FINAL),
            OutboxMessage.operation.in_(erased),
            OutboxMessage.payload_sealed != "",
            OutboxMessage.updated_at < before,
        )
        .order_by(OutboxMessage.id)
    )


def _due_payloads(session: Session, before: datetime) -> Due:
    rows = _final_payloads(before).subquery()
    count, oldest = session.execute(sa.select(sa.func.count(), sa.func.min(rows.c.updated_at))).one()
    return Due(count, oldest.date() if oldest else None)


def _erase_payload(_ctx: RequestContext, _session: Session, message: OutboxMessage) -> None:
    """What went out lives in the host now; the row (operation, dates, outcome) stays for the history."""
    message.payload = ""


# -- the audit trail ---------------------------------------------------------------------------------


def _audit_before(settings: Mapping[str, Any]) -> datetime:
    return utcnow() - timedelta(days=round(365.25 * retention_audit_years(settings)))


def _due_events(session: Session, before: datetime) -> Due:
    """What the chain's checkpoint would close: its verified beginning (a broken chain purges nothing and
    raises :class:`~ctm_plugin.security.audit_chain.ChainBroken`, which stops the whole purge)."""
    count = audit_chain.checkpoint_and_purge(session, session.info["mission_code"], before, dry_run=True)
    oldest = session.scalar(sa.select(sa.func.min(AuditEvent.at))) if count else None
    return Due(count, oldest.date() if oldest else None)


def _purge_events(ctx: RequestContext, before: datetime) -> int:
    """A signed checkpoint closes the chain's purged part, then its events go (services/audit_chain.py)."""
    with unit_of_work(ctx) as session:
        return audit_chain.checkpoint_and_purge(session, ctx.mission.code, before, dry_run=False)


CLASSES: tuple[RecordClass, ...] = (
    RecordClass(
        "closed_cases",
        N_("Closed cases deleted"),
        _closed_before,
        lambda session, before: _due_cases(session, _cases_to_delete(before)),
        lambda ctx, before: _in_batches(ctx, _cases_to_delete(before), _delete_case),
    ),
    RecordClass(
        "closed_cases_with_money",
        N_("Closed cases with money: the person's story erased, the amounts kept"),
        _closed_before,
        lambda session, before: _due_cases(session, _cases_to_erase(before)),
        lambda ctx, before: _in_batches(ctx, _cases_to_erase(before), _erase_around_money),
    ),
    RecordClass(
        "outbox_payloads",
        N_("Messages to the host: what they carried erased"),
        _outbox_before,
        _due_payloads,
        lambda ctx, before: _in_batches(ctx, _final_payloads(before), _erase_payload),
    ),
    RecordClass("audit_events", N_("Audit events deleted"), _audit_before, _due_events, _purge_events),
)
HELD = "held_cases"
HELD_LABEL = N_("Closed cases due but held (a hand-over, or a fund request not decided)")


def report(ctx: RequestContext) -> Report:
    """What is due in the mission, class by class, and the held cases: a dry run."""
    with unit_of_work(ctx) as session:
        lines = []
        for record_class in CLASSES:
            due = record_class.due(session, record_class.cutoff(ctx.settings))
            lines.append(Line(record_class.code, record_class.label, due.count, due.oldest))
        held = _due_cases(session, _closed_cases(_closed_before(ctx.settings)).where(_held()))
    return Report(True, lines, Line(HELD, HELD_LABEL, held.count, held.oldest))


def purge(ctx: RequestContext) -> Report:
    """Purge what is due, class by class; one audit event with the counts when anything went."""
    due = report(ctx)
    lines = [
        Line(line.code, line.label, c.purge(ctx, c.cutoff(ctx.settings)) if line.count else 0, line.oldest)
        for c, line in zip(CLASSES, due.lines, strict=True)
    ]
    done = Report(False, lines, due.held)
    if done.purged:
        with unit_of_work(ctx) as session:
            audit.record(session, ctx, "retention.purge", None, [f"{code}:{n}" for code, n in done.purged.items()])
    return done


def run(ctx: RequestContext, *, dry_run: bool = False) -> Report:
    return report(ctx) if dry_run else purge(ctx)
