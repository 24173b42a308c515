"""Finding cases: the mission's case list (filters, search by number or by the host's names, keyset paging),
a caseworker's own cases, and HQ's queue of cases awaiting a determination across its missions.

The stage is derived from the rows a case has (EXISTS on indexed ``case_id`` columns), never stored, so no
use case has to keep it up to date. The CTM keeps no names: a search by name asks the host, and the
answer's beneficiary IDs are joined to the mission's cases. Paging is by keyset (the last row's sort value
and id), so a deep page costs what the first does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain.case import Case, PersonProfile
from ctm_plugin.domain.handover import OPEN_STATES, Handover
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.reintegration import ReintegrationPlan
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.domain.screening import Determination, Screening
from ctm_plugin.domain.sync import HostLink, OutboxMessage
from ctm_plugin.schemas.case import CLOSED_STATUSES
from ctm_plugin.schemas.case_list import STAGES, CaseListQuerySchema, cursor
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.crypto import blind_indexes
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, DETERMINE, IDENTITY, IDENTITY_VIEW
from mimosa_host.plugin_api import MissionRef, RequestContext

from .base import load, require, unit_of_work
from .people import beneficiaries_named
from .returns import going

PAGE_SIZE = 50
NAME_HITS = 200
"""At most this many of the host's answers to a name are joined to the mission's cases."""


# -- the stage, from the rows a case has ----------------------------------------------------------------


def _stage_rules() -> tuple[tuple[str, sa.ColumnElement[bool]], ...]:
    """Each stage after screening with what shows the case reached it, the latest stage first."""
    live_return = (
        sa.select(ReturnBooking.id)
        .join(OutboxMessage, OutboxMessage.id == ReturnBooking.outbox_id)
        .where(ReturnBooking.case_id == Case.id, going(ended=("CANCELLED", "NO_SHOW")))
        .exists()
    )
    return (
        ("reintegration", sa.exists().where(ReintegrationPlan.case_id == Case.id)),
        ("handover", sa.exists().where(Handover.case_id == Case.id, Handover.state.in_(OPEN_STATES))),
        ("return", live_return),
        ("assistance", sa.exists().where(Determination.case_id == Case.id)),
    )


def stage_of() -> sa.ColumnElement[str]:
    """The case's stage as a column: the latest one its rows show."""
    return sa.case(*((reached, stage) for stage, reached in _stage_rules()), else_=STAGES[0])


def in_stage(stage: str) -> sa.ColumnElement[bool]:
    """Cases in ``stage``: its rule holds (screening has none) and no later stage's does."""
    rules = _stage_rules()
    later = [~reached for name, reached in rules if STAGES.index(name) > STAGES.index(stage)]
    own = [reached for name, reached in rules if name == stage]
    return sa.and_(*later, *own)


# -- the list ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    id: int
    case_number: str
    beneficiary_id: str
    status: str
    stage: str
    owner: str
    opened_on: date
    updated_at: datetime
    birth_date: date | None
    """Only for a user who may see identity fields."""


@dataclass(frozen=True)
class CaseListPage:
    rows: list[CaseRow]
    query: dict[str, Any]
    next_after: str | None
    """The ``after`` parameter of the next page, if there is one."""
    name_hits_cut: bool = False
    """The host found more people by that name than the list joins: narrow the name."""


SORT_COLUMNS = {"number": Case.case_number, "opened": Case.opened_on, "updated": Case.updated_at}


def list_cases(ctx: RequestContext, data: dict[str, Any], *, mine: bool = False) -> CaseListPage:
    """One page of the mission's cases as ``data`` asks (``mine``: the user's own); the view is audited."""
    require(ctx, CASE_EDIT if mine else CASE_VIEW)
    query = load(CaseListQuerySchema(), data)
    if mine:
        query["owner"] = actor(ctx)
    named, cut = (None, False)
    if "name" in query:
        named, cut = beneficiaries_named(ctx, query["name"], NAME_HITS)
    identity = ctx.can(IDENTITY_VIEW)
    if not identity:
        query.pop("document", None)  # an identity field: no match on it without the permission
    with unit_of_work(ctx) as session:
        audit.record(session, ctx, "cases.list", None, [IDENTITY] if identity else [])
        rows = _page(session, query, named, identity)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    next_after = None
    if more:
        last = rows[-1]
        next_after = cursor(query["sort"], getattr(last, _ATTRIBUTE[query["sort"]]), last.id)
    return CaseListPage(rows, query, next_after, cut)


_ATTRIBUTE = {"number": "case_number", "opened": "opened_on", "updated": "updated_at"}


def _page(session: Session, query: dict[str, Any], named: list[str] | None, identity: bool) -> list[CaseRow]:
    column = SORT_COLUMNS[query["sort"]]
    descending = query["order"] == "desc"
    birth = PersonProfile.birth_date if identity else sa.null()
    select = (
        sa.select(
            Case.id,
            Case.case_number,
            Case.beneficiary_id,
            Case.status,
            Case.owner,
            Case.opened_on,
            Case.updated_at,
            birth.label("birth_date"),
        )
        .outerjoin(PersonProfile, PersonProfile.case_id == Case.id)
        .where(*_filters(query, named))
        .order_by(*((column.desc(), Case.id.desc()) if descending else (column.asc(), Case.id.asc())))
        .limit(PAGE_SIZE + 1)
    )
    if "after" in query:
        value, row_id = query["after"]
        key, last = sa.tuple_(column, Case.id), sa.tuple_(sa.literal(value, column.type), sa.literal(row_id))
        select = select.where(key < last if descending else key > last)
    rows = session.execute(select).all()
    return [
        CaseRow(**row._mapping, stage=stage)
        for row, stage in zip(rows, _stages(session, [row.id for row in rows]), strict=True)
    ]


def _stages(session: Session, ids: list[int]) -> list[str]:
    """The stage of each of the page's cases, asked of those cases alone: in the page's own query, PostgreSQL
    answers the stage's EXISTS by hashing every determination of the mission, which grows with the mission."""
    found = session.execute(sa.select(Case.id, stage_of()).where(Case.id.in_(ids))).all() if ids else []
    stages = {case_id: stage for case_id, stage in found}
    return [stages[case_id] for case_id in ids]


def _filters(query: dict[str, Any], named: list[str] | None) -> list[sa.ColumnElement[bool]]:
    found: list[sa.ColumnElement[bool]] = []
    if query.get("status") == "open":
        found.append(Case.status.not_in(CLOSED_STATUSES))
    elif query.get("status") == "closed":
        found.append(Case.status.in_(CLOSED_STATUSES))
    if "owner" in query:
        found.append(Case.owner == query["owner"])
    if "stage" in query:
        found.append(in_stage(query["stage"]))
    if "opened_from" in query:
        found.append(Case.opened_on >= query["opened_from"])
    if "opened_to" in query:
        found.append(Case.opened_on <= query["opened_to"])
    if "number" in query:
        found.append(_number_starts(query["number"]))
    if "document" in query:
        found.append(Case.id.in_(_with_document(query["document"])))
    if named is not None:  # a case registered in the CTM first stands on the host's id through its link
        linked = sa.select(HostLink.case_id).where(HostLink.beneficiary_id.in_(named))
        found.append(sa.or_(Case.beneficiary_id.in_(named), Case.id.in_(linked)))
    return found


def _with_document(number: str) -> sa.Select[int]:
    """The cases whose return checklist holds the travel document ``number``: an exact match on its blind
    index (the number itself is sealed; spaces, dashes and case do not count)."""
    indexes = blind_indexes(number, "document_number")
    return sa.select(ReturnPreparation.case_id).where(ReturnPreparation.document_number_index.in_(indexes))


def _number_starts(prefix: str) -> sa.ColumnElement[bool]:
    """Case numbers beginning with ``prefix`` (an exact number begins with itself): a range on the number's
    index, since case numbers hold only capitals, digits and hyphens, all below DEL; LIKE keeps it exact."""
    return sa.and_(
        Case.case_number >= prefix,
        Case.case_number < prefix + "\x7f",
        Case.case_number.startswith(prefix, autoescape=True),
    )


# -- HQ's queue -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwaitingDetermination:
    """A minimal record: no identity field, only where the case is and since when it waits."""

    mission: MissionRef
    case_number: str
    beneficiary_id: str
    screened_on: date


def hq_queue(ctx: RequestContext) -> list[AwaitingDetermination]:
    """Open cases screened but not determined yet, in every mission where the user determines, oldest
    screening first: read mission by mission through each mission's own session, each view audited there."""
    require(ctx, DETERMINE)
    found: list[AwaitingDetermination] = []
    for mission in ctx.missions_with(DETERMINE):
        mctx = ctx.in_mission(mission.code)
        with unit_of_work(mctx) as session:
            audit.record(session, mctx, "cases.queue", None)
            first_screening = sa.func.min(Screening.interview_date)
            rows = session.execute(
                sa.select(Case.case_number, Case.beneficiary_id, first_screening)
                .join(Screening, Screening.case_id == Case.id)
                .where(
                    Case.status.not_in(CLOSED_STATUSES),
                    ~sa.exists().where(Determination.case_id == Case.id),
                )
                .group_by(Case.id, Case.case_number, Case.beneficiary_id)
            ).all()
        found += [AwaitingDetermination(mission, number, ref, on) for number, ref, on in rows]
    return sorted(found, key=lambda a: (a.screened_on, a.mission.code, a.case_number))
