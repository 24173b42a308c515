"""Use cases of the global emergency fund.

A mission's caseworker requests assistance for a case (a :class:`FundRequest`, the mission's row). HQ (the
fund's approvers) sees the requests of every mission of its HQ scope (``ctx.missions_with``), read mission by
mission through each mission's own session, as a minimal record (no identity field); it tops the fund up,
sets the fund's currency and largest request, and decides: approve, approve less, or reject with a reason,
never on a request of its own. The fund (its currency, largest request, balance and entries) is HQ's, of
no mission, read and written only through an HQ session; a mission reads its currency and largest request
alone, through a read-only one (:func:`fund_terms`).

An approval takes its amount from the fund's balance with one entry; the fund's row carries a version, so
that of two decisions that read the same balance, the second to commit is refused (:class:`FundChanged`)
and nothing of it is saved: the fund is never overdrawn. Paying an approved request is the case's ledger's
business: the request stays ``approved`` with its amount (:func:`decide_request`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ctm_plugin.domain import money
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.fund import (
    APPROVAL,
    APPROVED,
    FUND_ID,
    REJECTED,
    REQUESTED,
    STATES,
    TOP_UP,
    Fund,
    FundEntry,
    FundRequest,
)
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.scope import hq_reader, hq_session, mission_session
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import decimals_errors
from ctm_plugin.schemas.case import CLOSED_STATUSES
from ctm_plugin.schemas.fund import (
    APPROVE,
    APPROVE_LESS,
    REJECT,
    FundCurrencySchema,
    FundDecisionSchema,
    FundLimitSchema,
    FundRequestSchema,
    TopUpSchema,
)
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, EMERGENCY_FUND_APPROVE, EMERGENCY_FUND_REQUEST
from mimosa_host.plugin_api import MissionRef, RequestContext

from .base import Conflict, Invalid, NotFound, add_to_case, get_case, load, require, touch, unit_of_work
from .reintegration import record_fund_disbursement

FIELD_GROUP = "fund"
FUND_PROJECT = "GLOBAL-EMERGENCY-FUND"
"""The project code an approved request's disbursement carries in the case's ledger."""
OVER_THE_MAX = N_("This is more than the largest request the fund takes: ask HQ, or request less.")
TAKES_OVER_THE_MAX = N_(
    "This takes more from the fund than its largest request: approve less, or change the fund's largest request."
)
OVERDRAWN = N_("The fund's balance cannot cover this: top the fund up first, or approve less.")
MORE_THAN_REQUESTED = N_("Approve no more than was requested.")
RATE_NEEDED = N_("The request is in another currency than the fund's: give the exchange rate used.")
NO_RATE = N_("The request is in the fund's currency: leave the rate blank.")
RATE_TOO_SMALL = N_("At this rate the amount is nothing in the fund's currency.")
CURRENCY_FIXED = N_("The fund's currency can only change while the fund holds no entries.")
CASE_CLOSED = N_(
    "The case of this request is closed: its ledger takes no new disbursement. Reject the request, or ask the "
    "mission to reopen the case first."
)


class FundChanged(Conflict):
    """Another decision or a top-up changed the fund's balance since this one read it; nothing saved."""

    message = N_(
        "The fund's balance changed while you were deciding (another decision or a top-up): nothing was saved. "
        "Reload the page and decide again."
    )


class AlreadyDecided(Conflict):
    message = N_("This request was decided meanwhile: nothing was saved. Reload the page to see the decision.")


class OwnRequest(Conflict):
    """The deciding user made the request: another approver decides on it; nothing saved."""

    message = N_("You made this request: another of the fund's approvers decides on it. Nothing was saved.")


# -- what a mission may know of the fund ----------------------------------------------------------------


@dataclass(frozen=True)
class FundTerms:
    """What a mission knows of the fund: its currency and the largest request it takes (in that currency)."""

    currency: str
    max_request: Decimal


def fund_terms(ctx: RequestContext) -> FundTerms:
    """The fund's currency and largest request, for a user who may request: read alone, through a session
    that reads only HQ's rows and writes nothing (:func:`~ctm_plugin.domain.scope.hq_reader`)."""
    require(ctx, EMERGENCY_FUND_REQUEST)
    with hq_reader(ctx, EMERGENCY_FUND_REQUEST) as session:
        row = session.execute(sa.select(Fund.currency, Fund.max_request).where(Fund.id == FUND_ID)).one()
        return FundTerms(row.currency, row.max_request)


# -- the mission's side -----------------------------------------------------------------------------------


def request_assistance(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    """A mission's request to the fund for one of its cases, by a user who may request and edit the case (the
    request moves the case's version on). A request in the fund's currency above the fund's largest request
    is refused here (naming ``amount``); so is one for a closed case (:class:`ClosedCase`, through ``touch``);
    one in another currency is checked at HQ's approval, on the amount
    taken from the fund at HQ's rate (:func:`decide_request`). Returns the request's id."""
    require(ctx, EMERGENCY_FUND_REQUEST)
    require(ctx, CASE_EDIT)
    values = load(FundRequestSchema(), data)
    terms = fund_terms(ctx)
    if values["currency"] == terms.currency and values["amount"] > terms.max_request:
        raise Invalid({"amount": [OVER_THE_MAX]})
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        touch(case, ctx, values.pop("version"))
        request = FundRequest(requested_by=actor(ctx), state=REQUESTED, **values)
        return add_to_case(session, ctx, case, request, "fund.request", "assistance")


def requests_of_case(session: Session, case_id: int) -> list[FundRequest]:
    """The case's requests and their decisions, newest first (in the case's mission session)."""
    return list(
        session.scalars(
            sa.select(FundRequest).where(FundRequest.case_id == case_id).order_by(FundRequest.requested_at.desc())
        )
    )


@dataclass(frozen=True)
class MissionRequest:
    request: FundRequest
    case_number: str
    beneficiary_id: str


def mission_requests(ctx: RequestContext) -> list[MissionRequest]:
    """The mission's own requests to the fund, newest first, with their cases."""
    require(ctx, EMERGENCY_FUND_REQUEST)
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        rows = session.execute(
            sa.select(FundRequest, Case.case_number, Case.beneficiary_id)
            .join(Case, Case.id == FundRequest.case_id)
            .order_by(FundRequest.requested_at.desc(), FundRequest.id.desc())
        ).all()
        audit.record(session, ctx, "fund.requests.view", None, [FIELD_GROUP])
        return [MissionRequest(r, number, ref) for r, number, ref in rows]


# -- HQ's side --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HqRequest:
    """The minimal record HQ sees of a request: no identity field, not even the host's record."""

    mission: MissionRef
    id: int
    case_number: str
    kind: str
    amount: Decimal
    currency: str
    justification: str
    state: str
    requested_at: datetime
    requested_by: str
    version: int
    age_days: int
    approved_amount: Decimal | None
    exchange_rate: Decimal | None
    fund_amount: Decimal | None
    fund_currency: str | None
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None


def hq_missions(ctx: RequestContext) -> tuple[MissionRef, ...]:
    """HQ's scope for the fund: the missions where the user holds the fund's approval; 404 with none here."""
    require(ctx, EMERGENCY_FUND_APPROVE)
    return ctx.missions_with(EMERGENCY_FUND_APPROVE)


def hq_requests(ctx: RequestContext, state: str | None = None, today: date | None = None) -> list[HqRequest]:
    """The requests of every mission of HQ's scope (of one state, if given), oldest first: read mission by
    mission, each through that mission's own session, and each mission's view audited there."""
    today = today or utcnow().date()
    found: list[HqRequest] = []
    for mission in hq_missions(ctx):
        mctx = ctx.in_mission(mission.code)
        with unit_of_work(mctx) as session:
            query = sa.select(FundRequest, Case.case_number).join(Case, Case.id == FundRequest.case_id)
            if state in STATES:
                query = query.where(FundRequest.state == state)
            rows = session.execute(query).all()
            for request, number in rows:
                audit.record(session, mctx, "fund.request.view", request.case_id, [FIELD_GROUP])
                found.append(_minimal(mission, request, number, today))
    return sorted(found, key=lambda r: (r.requested_at, r.mission.code, r.id))


def hq_request(ctx: RequestContext, mission_code: str, request_id: int) -> HqRequest:
    """One request of HQ's scope, as :func:`hq_requests` shows it; :class:`NotFound` otherwise."""
    mission, mctx = _mission_of_scope(ctx, mission_code)
    with unit_of_work(mctx) as session:
        row = session.execute(
            sa.select(FundRequest, Case.case_number)
            .join(Case, Case.id == FundRequest.case_id)
            .where(FundRequest.id == request_id)
        ).one_or_none()
        if row is None:
            raise NotFound
        audit.record(session, mctx, "fund.request.view", row[0].case_id, [FIELD_GROUP])
        return _minimal(mission, row[0], row[1], utcnow().date())


def _minimal(mission: MissionRef, r: FundRequest, case_number: str, today: date) -> HqRequest:
    return HqRequest(
        mission=mission,
        id=r.id,
        case_number=case_number,
        kind=r.kind,
        amount=r.amount,
        currency=r.currency,
        justification=r.justification,
        state=r.state,
        requested_at=r.requested_at,
        requested_by=r.requested_by,
        version=r.version,
        age_days=max(0, (today - r.requested_at.date()).days),
        approved_amount=r.approved_amount,
        exchange_rate=r.exchange_rate,
        fund_amount=r.fund_amount,
        fund_currency=r.fund_currency,
        reason=r.reason,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
    )


def _mission_of_scope(ctx: RequestContext, mission_code: str) -> tuple[MissionRef, RequestContext]:
    for mission in hq_missions(ctx):
        if mission.code == mission_code:
            return mission, ctx.in_mission(mission_code)
    raise NotFound


@dataclass(frozen=True)
class FundState:
    currency: str
    balance: Decimal
    max_request: Decimal
    version: int
    entries: list[FundEntry]


def fund_state(ctx: RequestContext) -> FundState:
    """The fund's currency, balance, largest request and entries (newest first), for HQ; the view is audited
    in the mission HQ acts from."""
    require(ctx, EMERGENCY_FUND_APPROVE)
    with hq_session(ctx, EMERGENCY_FUND_APPROVE) as hq:
        fund = hq.get_one(Fund, FUND_ID)
        entries = list(hq.scalars(sa.select(FundEntry).order_by(FundEntry.id.desc())))
        state = FundState(fund.currency, fund.balance, fund.max_request, fund.version, entries)
    _audit_here(ctx, "fund.view")
    return state


@contextmanager
def _hq_transaction(ctx: RequestContext) -> Iterator[Session]:
    """One HQ transaction; a fund changed meanwhile by another transaction surfaces as :class:`FundChanged`.

    On SQLite the second writer may find the database changed under its read (``database is locked``):
    the same race, the same refusal.
    """
    require(ctx, EMERGENCY_FUND_APPROVE)
    try:
        with hq_session(ctx, EMERGENCY_FUND_APPROVE) as hq, hq.begin():
            yield hq
    except StaleDataError:
        raise FundChanged from None
    except sa.exc.OperationalError as exc:
        if isinstance(exc.orig, sqlite3.OperationalError) and "locked" in str(exc.orig):
            raise FundChanged from None
        raise


def _audit_here(ctx: RequestContext, action: str) -> None:
    """An HQ action on the fund itself, audited in the mission HQ acts from (it joins HQ's transaction)."""
    with unit_of_work(ctx) as session:
        audit.record(session, ctx, action, None, [FIELD_GROUP])


def top_up(ctx: RequestContext, data: dict[str, Any]) -> int:
    """Money into the fund (in its currency) from a donor under a project; returns the entry's id."""
    require(ctx, EMERGENCY_FUND_APPROVE)
    values = load(TopUpSchema(), data)
    with _hq_transaction(ctx) as hq:
        fund = hq.get_one(Fund, FUND_ID)
        if errors := decimals_errors(values["amount"], fund.currency):
            raise Invalid(errors)
        if fund.balance + values["amount"] >= money.MAX_AMOUNT:
            raise Invalid({"amount": [N_("The fund cannot hold that much: check the amount.")]})
        entry = _enter(hq, ctx, fund, TOP_UP, values["amount"], on_date=values["on_date"], **_donor(values))
        _audit_here(ctx, "fund.top_up")
        return entry.id


def _donor(values: dict[str, Any]) -> dict[str, Any]:
    return {"donor": values["donor"], "project_code": values["project_code"], "reference": values.get("reference")}


def _enter(hq: Session, ctx: RequestContext, fund: Fund, kind: str, amount: Decimal, **more: Any) -> FundEntry:
    """Move the fund's balance by ``amount`` with its entry; the fund's version moves on with it."""
    fund.balance += amount
    fund.changed_by, fund.changed_at = actor(ctx), utcnow()
    entry = FundEntry(
        kind=kind, amount=amount, currency=fund.currency, balance_after=fund.balance, recorded_by=actor(ctx), **more
    )
    hq.add(entry)
    hq.flush()
    return entry


def set_currency(ctx: RequestContext, data: dict[str, Any]) -> None:
    """Change the fund's currency: only while the fund holds no entries."""
    require(ctx, EMERGENCY_FUND_APPROVE)
    values = load(FundCurrencySchema(), data)
    with _hq_transaction(ctx) as hq:
        fund = hq.get_one(Fund, FUND_ID)
        if hq.scalar(sa.select(sa.func.count(FundEntry.id))):
            raise Invalid({"currency": [CURRENCY_FIXED]})
        fund.currency = values["currency"]
        fund.changed_by, fund.changed_at = actor(ctx), utcnow()
        _audit_here(ctx, "fund.currency")


def set_max_request(ctx: RequestContext, data: dict[str, Any]) -> None:
    """Change the largest request the fund takes, in its currency: a request in the fund's currency above it
    is refused, and no approval takes more than it from the fund."""
    require(ctx, EMERGENCY_FUND_APPROVE)
    values = load(FundLimitSchema(), data)
    with _hq_transaction(ctx) as hq:
        fund = hq.get_one(Fund, FUND_ID)
        if errors := decimals_errors(values["max_request"], fund.currency, "max_request"):
            raise Invalid(errors)
        fund.max_request = values["max_request"]
        fund.changed_by, fund.changed_at = actor(ctx), utcnow()
        _audit_here(ctx, "fund.max_request")


def decide_request(ctx: RequestContext, mission_code: str, request_id: int, data: dict[str, Any]) -> str:
    """HQ's decision on a mission's request: approve (the amount requested), approve less, or reject with a
    reason. Returns the request's new state.

    An approval records the amount approved in the request's currency and, in the fund's currency, the
    amount taken from the fund (at the exchange rate given when the currencies differ), with one fund entry.
    Everything is read before anything is written, and written in one transaction: the request in its
    mission's session, the fund in HQ's. Refused, with nothing saved: a request the deciding user made
    (:class:`OwnRequest`); an amount taken from the fund above its largest request, or above its balance
    (naming ``amount`` when approving less, else ``decision``); an approval for a case closed since the
    request (naming ``decision``: a closed case takes no change, its ledger no entry; a rejection still may be
    recorded); a request decided meanwhile
    (:class:`AlreadyDecided`, also when another approver's decision commits first); a fund changed meanwhile
    (:class:`FundChanged`).

    An approval also enters the case's ledger as an approved disbursement of :data:`FUND_PROJECT`, in the
    request's currency, through :func:`~ctm_plugin.services.reintegration.record_fund_disbursement`: the
    fund's checks are done here before it is called (the approval permission and HQ's scope of the
    request's mission, the approver not the requester, the largest request, the balance), and it joins this
    decision's transaction, so that a refusal of either saves nothing. The mission records its payment there
    like any other.
    """
    _mission, mctx = _mission_of_scope(ctx, mission_code)
    values = load(FundDecisionSchema(), data)
    try:
        return _decide(ctx, mctx, mission_code, request_id, values)
    except FundChanged:
        # On SQLite the second of two decisions on one request fails as any second writer does
        # ("database is locked"): the request, read again, tells which race it lost.
        if _decided_since(mctx, request_id, values["version"]):
            raise AlreadyDecided from None
        raise


def _decided_since(mctx: RequestContext, request_id: int, version: int) -> bool:
    """Whether the request was decided by another since this decision read it (its version moved on)."""
    with mission_session(mctx) as session:
        connection = session.connection()
        if connection.dialect.name == "sqlite":
            # SQLite refuses the second writer at once, maybe before the first commits: wait for that
            # commit as a writer does (the busy timeout), then read; nothing is written, all rolled back.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        request = session.get(FundRequest, request_id)
        return request is not None and (request.version != version or request.state != REQUESTED)


def _decide(
    ctx: RequestContext, mctx: RequestContext, mission_code: str, request_id: int, values: dict[str, Any]
) -> str:
    decision = values["decision"]
    with _hq_transaction(ctx) as hq:
        fund = hq.get_one(Fund, FUND_ID)  # the balance this decision is taken on
        with _request_decided_once(), mission_session(mctx) as session, session.begin():
            request = session.get(FundRequest, request_id)
            if request is None:
                raise NotFound
            if request.version != values["version"] or request.state != REQUESTED:
                raise AlreadyDecided
            if request.requested_by == actor(ctx):
                raise OwnRequest
            if decision != REJECT and get_case(session, request.case_id).status in CLOSED_STATUSES:
                raise Invalid({"decision": [CASE_CLOSED]})  # an approval writes into the case's ledger
            approved, rate, taken = _approval(request, fund, decision, values)
            request.state = REJECTED if decision == REJECT else APPROVED
            request.approved_amount, request.exchange_rate = approved, rate
            request.fund_amount, request.fund_currency = taken, (fund.currency if taken is not None else None)
            request.reason = values.get("reason")
            request.decided_by, request.decided_at = actor(ctx), utcnow()
            audit.record(session, mctx, f"fund.request.{request.state}", request.case_id, [FIELD_GROUP])
            if approved is not None:  # paid by the mission through the case's ledger, like any approved disbursement
                record_fund_disbursement(
                    mctx,
                    request.case_id,
                    amount=approved,
                    currency=request.currency,
                    project_code=FUND_PROJECT,
                    approved_by=actor(ctx),
                    emergency_request_id=request_id,
                    requested_by=request.requested_by,
                    session=session,
                )
        if taken is not None:
            _enter(
                hq,
                ctx,
                fund,
                APPROVAL,
                -taken,
                on_date=utcnow().date(),
                request_mission=mission_code,
                request_id=request_id,
            )
        return request.state


@contextmanager
def _request_decided_once() -> Iterator[None]:
    """Around the request's own writes: another approver's decision on it committed first (the request's
    version moved on) surfaces as :class:`AlreadyDecided`, not as a changed fund."""
    try:
        yield
    except StaleDataError:
        raise AlreadyDecided from None


def _approval(
    request: FundRequest, fund: Fund, decision: str, values: dict[str, Any]
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(amount approved in the request's currency, exchange rate, amount taken from the fund), or refused."""
    rate = values.get("exchange_rate")
    if decision == REJECT:
        return None, None, None
    approved = request.amount if decision == APPROVE else values["amount"]
    errors: dict[str, list[str]] = {}
    if decision == APPROVE_LESS:
        if approved > request.amount:
            errors["amount"] = [MORE_THAN_REQUESTED]
        else:
            errors.update(decimals_errors(approved, request.currency))
    if request.currency == fund.currency:
        if rate is not None and rate != 1:
            errors["exchange_rate"] = [NO_RATE]
        rate, taken = None, approved
    elif rate is None:
        errors["exchange_rate"] = [RATE_NEEDED]
        taken = Decimal(0)
    else:
        taken = (approved * rate).quantize(Decimal(1).scaleb(-money.decimals(fund.currency)), ROUND_HALF_UP)
        if taken <= 0:
            errors["exchange_rate"] = [RATE_TOO_SMALL]
    if not errors:
        field = "amount" if decision == APPROVE_LESS else "decision"
        if taken > fund.max_request:
            errors[field] = [TAKES_OVER_THE_MAX]
        elif taken > fund.balance:
            errors[field] = [OVERDRAWN]
    if errors:
        raise Invalid(errors)
    return approved, rate, taken
