"""What is due: one small source per kind of item, read in one query each (no query per case).

Each source gives :class:`DueItem` rows for the signed-in user's cases, or for the whole mission's, of open
cases not handed over only (:func:`~.base.open_here`): work on any other could never be done, so never listed;
the list puts the overdue first, then the rest by day. Another kind is one more function in
:data:`SOURCES`. Items carry the case's number and record id, a short text and where to act on it,
never the person's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.assistance import SENT, Referral
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.due import FollowUp
from ctm_plugin.domain.handover import PROPOSED, Handover, ReceptionTask
from ctm_plugin.domain.mission_time import in_mission_time, mission_today
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.monitoring import OVERDUE, MonitoringVisit, schedule
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.sync import OUTBOX_GIVEN_UP, OutboxMessage
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.mission_settings import monitoring_months, reception_deadline_hours
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, HANDOVER_ACCEPT
from mimosa_host.plugin_api import RequestContext

from .base import open_here, require, unit_of_work
from .monitoring import anchors

REFERRAL_ANSWER_DAYS = 14
"""An outgoing referral's answer is expected within two weeks."""
HANDOVER_ANSWER_DAYS = 3
"""A proposed hand-over is answered within three days."""
AHEAD_DAYS = 14
"""A monitoring visit is listed two weeks before its day."""
WAITING_FOR_HOST = (None, "REQUESTED")
CHUNK = 1000
"""Case ids asked at once (a database bounds a statement's parameters)."""
"""A return the host has not booked yet: not sent, or requested only."""

FOLLOW_UP = N_("Follow-up")
REFERRAL = N_("Referral awaiting an answer")
RETURN = N_("Return waiting for the host")
HANDOVER = N_("Hand-over to accept")
MONITORING = N_("Monitoring visit")
RECEPTION = N_("Reception to record")


@dataclass(frozen=True)
class DueItem:
    kind: str
    """The kind's msgid (:data:`FOLLOW_UP`, ...)."""
    due_on: date
    overdue: bool
    what: str
    """A short text: the follow-up's note, the organisation, the mission handing over (not translated)."""
    endpoint: str
    """Where to act on it: a CT page's endpoint, with ``params``."""
    params: dict[str, Any] = field(default_factory=dict)
    case_number: str | None = None


@dataclass(frozen=True)
class Scope:
    """Whose items a source reads, and the mission's day."""

    ctx: RequestContext
    mine: bool
    today: date
    now: datetime

    def owned(self, column: Any) -> sa.ColumnElement[bool]:
        return column == actor(self.ctx) if self.mine else sa.true()

    def item(
        self, kind: str, due_on: date, what: str, endpoint: str, case: tuple[str, str] | None, **params: Any
    ) -> DueItem:
        """An item of a case (``case``: its number and record id) or of none, overdue once its day has passed."""
        if case is not None:
            params = {"record_type": "beneficiary", "record_ref": case[1], **params}
        return DueItem(kind, due_on, due_on < self.today, what, endpoint, params, case[0] if case else None)


Source = Callable[[Session, Scope], list[DueItem]]


def follow_ups(session: Session, scope: Scope) -> list[DueItem]:
    rows = session.execute(
        sa.select(FollowUp, Case.case_number, Case.beneficiary_id)
        .join(Case, Case.id == FollowUp.case_id)
        .where(FollowUp.done_at.is_(None), scope.owned(FollowUp.owner), open_here())
    ).all()
    return [
        scope.item(FOLLOW_UP, follow_up.due_on, follow_up.note or "", "ctm.case_overview", (number, ref))
        for follow_up, number, ref in rows
    ]


def referrals(session: Session, scope: Scope) -> list[DueItem]:
    rows = session.execute(
        sa.select(Referral.referred_on, Referral.organisation, Case.case_number, Case.beneficiary_id)
        .join(Case, Case.id == Referral.case_id)
        .where(Referral.status == SENT, Referral.direction == "Outgoing", scope.owned(Case.owner), open_here())
    ).all()
    return [
        scope.item(REFERRAL, on + timedelta(days=REFERRAL_ANSWER_DAYS), org, "ctm.consent", (number, ref))
        for on, org, number, ref in rows
    ]


def returns(session: Session, scope: Scope) -> list[DueItem]:
    rows = session.execute(
        sa.select(
            ReturnBooking.earliest_departure, ReturnBooking.destination_country, Case.case_number, Case.beneficiary_id
        )
        .join(OutboxMessage, OutboxMessage.id == ReturnBooking.outbox_id)
        .join(Case, Case.id == ReturnBooking.case_id)
        .where(
            sa.or_(ReturnBooking.status.is_(None), ReturnBooking.status.in_([s for s in WAITING_FOR_HOST if s])),
            OutboxMessage.status.not_in(OUTBOX_GIVEN_UP),
            scope.owned(Case.owner),
            open_here(),
        )
    ).all()
    return [scope.item(RETURN, on, country, "ctm.returns", (number, ref)) for on, country, number, ref in rows]


def handovers(session: Session, scope: Scope) -> list[DueItem]:
    """Hand-overs proposed to this mission: anyone who may accept them sees them (no case here yet)."""
    if not scope.ctx.can(HANDOVER_ACCEPT):
        return []
    rows = session.execute(
        sa.select(Handover.id, Handover.proposed_at, Handover.from_mission).where(
            Handover.to_mission == scope.ctx.mission.code, Handover.state == PROPOSED
        )
    ).all()
    return [
        scope.item(
            HANDOVER,
            in_mission_time(at, scope.ctx.settings).date() + timedelta(days=HANDOVER_ANSWER_DAYS),
            mission,
            "ctm.received",
            None,
            handover_id=handover_id,
        )
        for handover_id, at, mission in rows
    ]


def receptions(session: Session, scope: Scope) -> list[DueItem]:
    """Reception tasks of arrived people not recorded yet, due by the mission's reception deadline."""
    if not scope.ctx.can(HANDOVER_ACCEPT):
        return []
    hours = timedelta(hours=reception_deadline_hours(scope.ctx.settings))
    rows: Any = session.execute(  # arrived_at is not null here
        sa.select(Handover.id, Handover.arrived_at, Case.case_number)
        .join(ReceptionTask, ReceptionTask.handover_id == Handover.id)
        .join(Case, Case.id == ReceptionTask.case_id)
        .where(
            ReceptionTask.recorded_at.is_(None),
            Handover.arrived_at.is_not(None),
            scope.owned(Case.owner),
            open_here(),
        )
    ).all()
    found = []
    for handover_id, arrived_at, number in rows:
        deadline = arrived_at + hours
        day = in_mission_time(deadline, scope.ctx.settings).date()
        item = scope.item(RECEPTION, day, number, "ctm.received", None, handover_id=handover_id)
        found.append(replace(item, overdue=scope.now > deadline, case_number=number))
    return found


def monitoring_visits(session: Session, scope: Scope) -> list[DueItem]:
    """Scheduled visits overdue or coming within :data:`AHEAD_DAYS`, from each case's anchor (arrival at
    reception, the return's arrival, else the start set on the tab), read at once for the cases in scope only;
    the case numbers of the anchored cases only."""
    held = (open_here(), scope.owned(Case.owner))
    in_scope = sa.select(Case.id).where(*held)
    anchored = {case_id: anchor for case_id, (anchor, _kind) in anchors(scope.ctx, session, in_scope).items()}
    ids = list(anchored)
    cases = {  # only the anchored ones (a caseworker may hold many cases, few of them monitored), in chunks
        case_id: (number, ref)
        for start in range(0, len(ids), CHUNK)
        for case_id, number, ref in session.execute(
            sa.select(Case.id, Case.case_number, Case.beneficiary_id).where(
                Case.id.in_(ids[start : start + CHUNK]), *held
            )
        )
    }
    anchored = {case_id: anchor for case_id, anchor in anchored.items() if case_id in cases}
    if not anchored:  # no case of the scope monitored (most pages' count): no statement for their visits
        return []
    visits: dict[int, list[MonitoringVisit]] = {}
    for visit in session.scalars(sa.select(MonitoringVisit).where(MonitoringVisit.case_id.in_(list(anchored)))):
        visits.setdefault(visit.case_id, []).append(visit)
    months, horizon = monitoring_months(scope.ctx.settings), scope.today + timedelta(days=AHEAD_DAYS)
    found = []
    for case_id, anchor in anchored.items():
        for planned in schedule(anchor, months, visits.get(case_id, []), scope.today):
            if planned.state == OVERDUE or (planned.visit_id is None and planned.due_on <= horizon):
                found.append(
                    scope.item(MONITORING, planned.due_on, str(planned.month), "ctm.monitoring", cases[case_id])
                )
    return found


SOURCES: tuple[Source, ...] = (follow_ups, referrals, returns, handovers, receptions, monitoring_visits)


def _items(session: Session, ctx: RequestContext, mine: bool) -> list[DueItem]:
    scope = Scope(ctx, mine, mission_today(ctx.settings), utcnow())
    items = [item for source in SOURCES for item in source(session, scope)]
    return sorted(items, key=lambda i: (not i.overdue, i.due_on, i.kind, i.case_number or ""))


def due_list(ctx: RequestContext, mine: bool = True) -> list[DueItem]:
    """What is due for the user (``mine``) or in the whole mission: overdue first, then by day; the view audited."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        items = _items(session, ctx, mine)
        audit.record(session, ctx, "due.view", None, ["case"])
    return items


def due_count(ctx: RequestContext) -> int:
    """How many of the user's items are due today or overdue: the menu's number."""
    if not ctx.can(CASE_EDIT):
        return 0
    with unit_of_work(ctx) as session:
        today = mission_today(ctx.settings)
        return sum(1 for item in _items(session, ctx, True) if item.due_on <= today)
