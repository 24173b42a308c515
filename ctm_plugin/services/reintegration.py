"""Use cases of reintegration: the plan (agreed with the person, revised with its history), the
disbursements against its elements (requested, approved or rejected by another user, paid), the
reversals that correct the ledger, and the ledger's read-outs (per case, per project code, the
donors' report for a period, as a page and as CSV).

Each use case is one mission-scoped transaction, permission-checked first, audited, and moves the
case's version (:func:`touch`): a case handed over to another mission is read-only here too.
:func:`record_fund_disbursement` is the global emergency fund's way in: an approval already given
at HQ, written into the case's mission's ledger, where it is then paid like any other.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.domain import money
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.mission_time import day_start, in_mission_time, mission_today
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.reintegration import (
    APPROVAL,
    APPROVED,
    PAID,
    PAYMENT,
    REJECTED,
    REQUESTED,
    REVERSAL,
    REVERSED,
    Disbursement,
    LedgerEntry,
    PlanElement,
    PlanRevision,
    ReintegrationPlan,
    Totals,
    net,
    provider_key,
    totals,
)
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import AMOUNT_RANGE, NOT_IN_LIST, UNKNOWN_CURRENCY, decimals_errors
from ctm_plugin.schemas.case import CLOSED_STATUSES
from ctm_plugin.schemas.mission_settings import donor_of, project_codes, providers
from ctm_plugin.schemas.reintegration import (
    AgreePlanSchema,
    DisbursementDecisionSchema,
    DisbursementSchema,
    ElementSchema,
    PaymentSchema,
    PeriodSchema,
    ReversalSchema,
)
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, DISBURSEMENT_APPROVE
from mimosa_host.plugin_api import RequestContext

from .base import (
    ClosedCase,
    HandedOver,
    Invalid,
    NotFound,
    get_case,
    handed_over_to,
    load,
    require,
    touch,
    unit_of_work,
)
from .cases import birth_date_for
from .spreadsheet import neutral

GROUP = "reintegration"
"""The field group of the plan and its money, for the audit trail."""

NOT_A_PROVIDER = N_("Choose a provider from the list: an administrator sets them in the plugin's settings.")
NOT_A_PROJECT = N_("Choose a project code from the list.")
ELEMENT_CANCELLED = N_("This element is cancelled: no money can be requested against it.")
OWN_REQUEST = N_("You requested this disbursement: another user must approve or reject it.")
ALREADY_DECIDED = N_("This request has already been decided.")
OVER_BUDGET = N_(
    "This approval goes beyond the element's budget: tick the override and say why, or reject the request."
)
NOT_APPROVED = N_("Only an approved disbursement can be paid.")
NOT_REVERSIBLE = N_("This entry cannot be reversed: it is a reversal, or it has been reversed already.")
PAYMENT_FIRST = N_("This approval has been paid: reverse the payment first.")
FUND_APPROVAL = N_(
    "This approval was given by the emergency fund, which paid it out of its balance: only its payment may be reversed."
)
CURRENCY_IN_USE = N_("Money has been requested against this element: its currency cannot change.")
DECIDE_ON_CANCELLED = N_("This element is cancelled: the request can only be rejected.")
PAID_BEFORE_APPROVAL = N_("The payment cannot be dated before the day of its approval.")
PERSON = "Person"
PROVIDER = "Provider"


# -- reading ---------------------------------------------------------------------------------


@dataclass
class PlanView:
    """Everything the Reintegration tab shows about one case (rows of the viewing session)."""

    plan: ReintegrationPlan | None
    elements: list[PlanElement]
    revisions: list[PlanRevision]
    disbursements: list[Disbursement]
    entries: list[LedgerEntry]
    totals: Totals
    """The plan's money: disbursements against its elements only."""
    fund: Totals
    """The emergency fund's money for the case (disbursements with no element): approved and paid."""

    def disbursements_of(self, element_id: int | None) -> list[Disbursement]:
        return [d for d in self.disbursements if d.element_id == element_id]

    def entries_of(self, disbursement_id: int) -> list[LedgerEntry]:
        return [e for e in self.entries if e.disbursement_id == disbursement_id]

    @property
    def reversed_ids(self) -> set[int]:
        return {e.reverses_id for e in self.entries if e.reverses_id is not None}

    def element_totals(self, element: PlanElement) -> Totals:
        ids = {d.id for d in self.disbursements_of(element.id)}
        return totals([element], [e for e in self.entries if e.disbursement_id in ids])


def plan_view(session: Session, case: Case) -> PlanView:
    """The case's plan, elements, history, disbursements and ledger, read in the caller's session."""

    def rows(model: Any) -> list[Any]:
        return list(session.scalars(sa.select(model).where(model.case_id == case.id).order_by(model.id)))

    plan = session.scalar(sa.select(ReintegrationPlan).where(ReintegrationPlan.case_id == case.id))
    elements, entries, disbursements = rows(PlanElement), rows(LedgerEntry), rows(Disbursement)
    fund_ids = {d.id for d in disbursements if d.element_id is None}
    of_plan = [e for e in entries if e.disbursement_id not in fund_ids]
    fund = totals([], [e for e in entries if e.disbursement_id in fund_ids])
    return PlanView(plan, elements, rows(PlanRevision)[::-1], disbursements, entries, totals(elements, of_plan), fund)


# -- the plan --------------------------------------------------------------------------------


def _edit(ctx: RequestContext, session: Session, case_id: int, schema: Any, data: dict[str, Any]):  # noqa: ANN202
    case = get_case(session, case_id)
    schema.birth_date, schema.today = birth_date_for(ctx, case), mission_today(ctx.settings)
    values = load(schema, data)
    touch(case, ctx, values.pop("version"))
    return case, values


def _plan(session: Session, ctx: RequestContext, case: Case) -> ReintegrationPlan:
    plan = session.scalar(sa.select(ReintegrationPlan).where(ReintegrationPlan.case_id == case.id))
    if plan is None:
        plan = ReintegrationPlan(mission_code=ctx.mission.code, case_id=case.id, revision=0)
        session.add(plan)
    return plan


def _revise(
    session: Session,
    ctx: RequestContext,
    plan: ReintegrationPlan,
    what: str,
    element_id: int | None,
    changes: list[dict[str, Any]],
) -> None:
    """Once the plan is agreed, every change takes the next revision number and says what changed."""
    if plan.agreed_on is None or not changes:
        return
    plan.revision = (plan.revision or 0) + 1
    session.add(
        PlanRevision(
            mission_code=ctx.mission.code,
            case_id=plan.case_id,
            revision=plan.revision,
            what=what,
            element_id=element_id,
            changes=changes,
            by=actor(ctx),
            at=utcnow(),
        )
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 500.0000 as stored and 500 as typed are the same
    return value.isoformat() if isinstance(value, date) else str(value)


def agree_plan(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    """The person agreed the plan on ``agreed_on``; the user recording it is the one logged in.

    Recording the agreement again (a plan agreed anew after a revision) is kept in the history too.
    """
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case, values = _edit(ctx, session, case_id, AgreePlanSchema(), data)
        plan = _plan(session, ctx, case)
        before = plan.agreed_on
        plan.agreed_on, plan.agreed_recorded_by, plan.agreed_recorded_at = values["agreed_on"], actor(ctx), utcnow()
        change = {"field": "agreed_on", "before": _text(before), "after": _text(plan.agreed_on)}
        _revise(session, ctx, plan, "agreed", None, [change])
        audit.record(session, ctx, "plan.agree", case.id, [GROUP])


def _provider(ctx: RequestContext, chosen: str, keep: str | None = None) -> tuple[str, str]:
    """The (kind, name) of the chosen provider: one of the mission's, or the element's own unchanged."""
    for kind, name in providers(ctx.settings):
        if provider_key(kind, name) == chosen:
            return kind, name
    if keep is not None and chosen == keep:
        kind, _sep, name = keep.partition(": ")
        return kind, name
    raise Invalid({"provider": [NOT_A_PROVIDER]})


ELEMENT_FIELDS = (
    "type",
    "objective",
    "provider",
    "start_on",
    "end_on",
    "budget",
    "currency",
    "status",
    "status_reason",
)


def add_element(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case, values = _edit(ctx, session, case_id, ElementSchema(), data)
        kind, name = _provider(ctx, values.pop("provider"))
        plan = _plan(session, ctx, case)
        element = PlanElement(
            mission_code=ctx.mission.code,
            case_id=case.id,
            provider_kind=kind,
            provider_name=name,
            created_by=actor(ctx),
            **values,
        )
        session.add(element)
        session.flush()
        changes = [{"field": f, "before": None, "after": _text(getattr(element, f))} for f in ELEMENT_FIELDS]
        _revise(session, ctx, plan, "element.add", element.id, [c for c in changes if c["after"] is not None])
        audit.record(session, ctx, "plan.element.add", case.id, [GROUP])
        return element.id


def _element(session: Session, case: Case, element_id: int) -> PlanElement:
    element = session.get(PlanElement, element_id)
    if element is None or element.case_id != case.id:
        raise NotFound
    return element


def change_element(ctx: RequestContext, case_id: int, element_id: int, data: dict[str, Any]) -> None:
    """Change an element; after the agreement, what changed goes into the plan's history."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case, values = _edit(ctx, session, case_id, ElementSchema(), data)
        element = _element(session, case, element_id)
        if values["currency"] != element.currency and session.scalar(
            sa.select(sa.func.count()).select_from(Disbursement).where(Disbursement.element_id == element.id)
        ):
            raise Invalid({"currency": [CURRENCY_IN_USE]})
        before = {f: _text(getattr(element, f)) for f in ELEMENT_FIELDS}
        element.provider_kind, element.provider_name = _provider(ctx, values.pop("provider"), keep=element.provider)
        for name, value in values.items():
            setattr(element, name, value)
        element.status_reason = values.get("status_reason")
        after = {f: _text(getattr(element, f)) for f in ELEMENT_FIELDS}
        changes = [
            {"field": f, "before": before[f], "after": after[f]} for f in ELEMENT_FIELDS if before[f] != after[f]
        ]
        _revise(session, ctx, _plan(session, ctx, case), "element.change", element.id, changes)
        audit.record(session, ctx, "plan.element.change", case.id, [GROUP])


# -- disbursements ---------------------------------------------------------------------------


def _fits(amount: Decimal, currency: str) -> None:
    if errors := decimals_errors(amount, currency):
        raise Invalid(errors)


def _project(ctx: RequestContext, code: str) -> str:
    if code not in project_codes(ctx.settings)[0]:
        raise Invalid({"project_code": [NOT_A_PROJECT]})
    return code


def request_disbursement(ctx: RequestContext, case_id: int, element_id: int, data: dict[str, Any]) -> int:
    """A caseworker asks for money against an element, in the element's currency."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case, values = _edit(ctx, session, case_id, DisbursementSchema(), data)
        element = _element(session, case, element_id)
        if element.status == "Cancelled":
            raise Invalid({"amount": [ELEMENT_CANCELLED]})
        _fits(values["amount"], element.currency)
        disbursement = Disbursement(
            mission_code=ctx.mission.code,
            case_id=case.id,
            element_id=element.id,
            amount=values["amount"],
            currency=element.currency,
            project_code=_project(ctx, values["project_code"]),
            payee=values["payee"],
            purpose=values["purpose"],
            state=REQUESTED,
            requested_by=actor(ctx),
            requested_at=utcnow(),
        )
        session.add(disbursement)
        session.flush()
        audit.record(session, ctx, "disbursement.request", case.id, [GROUP])
        return disbursement.id


def _disbursement(session: Session, case: Case, disbursement_id: int) -> Disbursement:
    disbursement = session.get(Disbursement, disbursement_id)
    if disbursement is None or disbursement.case_id != case.id:
        raise NotFound
    return disbursement


def _entry(ctx: RequestContext, d: Disbursement, kind: str, **more: Any) -> LedgerEntry:
    """A new ledger entry for ``d``; the donor is the one the settings name for its project now."""
    return LedgerEntry(
        mission_code=ctx.mission.code,
        case_id=d.case_id,
        disbursement_id=d.id,
        kind=kind,
        amount=d.amount,
        currency=d.currency,
        project_code=d.project_code,
        donor=donor_of(ctx.settings, d.project_code),
        by=actor(ctx),
        at=utcnow(),
        **more,
    )


def approved_against(session: Session, element_id: int) -> dict[str, Decimal]:
    """What is approved against an element, per currency, net of reversals."""
    entries = session.scalars(
        sa.select(LedgerEntry)
        .join(Disbursement, Disbursement.id == LedgerEntry.disbursement_id)
        .where(Disbursement.element_id == element_id)
    )
    return net(entries)[0]


def decide_disbursement(ctx: RequestContext, case_id: int, disbursement_id: int, data: dict[str, Any]) -> None:
    """Approve (a ledger entry) or reject (with the reason) a request; never the requester's own.

    An approval that takes the element's approved total beyond its budget needs the override and its
    reason; so does one in another currency than the budget's (the two cannot be compared). A request
    against a cancelled element can only be rejected.
    """
    require(ctx, DISBURSEMENT_APPROVE)
    with unit_of_work(ctx) as session:
        case, values = _edit(ctx, session, case_id, DisbursementDecisionSchema(), data)
        d = _disbursement(session, case, disbursement_id)
        if d.state != REQUESTED:
            raise Invalid({"decision": [ALREADY_DECIDED]})
        if d.requested_by == actor(ctx):
            raise Invalid({"decision": [OWN_REQUEST]})
        d.decided_by, d.decided_at = actor(ctx), utcnow()
        if values["decision"] == "reject":
            d.state, d.reason = REJECTED, values["reason"]
            audit.record(session, ctx, "disbursement.reject", case.id, [GROUP])
            return
        element = session.get(PlanElement, d.element_id) if d.element_id else None
        if element is not None and element.status == "Cancelled":
            raise Invalid({"decision": [DECIDE_ON_CANCELLED]})
        over = element is not None and (
            d.currency != element.currency
            or approved_against(session, element.id).get(d.currency, Decimal(0)) + d.amount > element.budget
        )
        if over and not values.get("override"):
            raise Invalid({"override": [OVER_BUDGET]})
        d.state, d.override_reason = APPROVED, values.get("override_reason") if over else None
        session.add(_entry(ctx, d, APPROVAL, reason=d.override_reason))
        audit.record(session, ctx, "disbursement.approve", case.id, [GROUP])


def _payee_name(session: Session, d: Disbursement, payee: str) -> str | None:
    if payee != PROVIDER:
        return None
    element = session.get(PlanElement, d.element_id) if d.element_id else None
    return element.provider_name if element else None


def record_payment(ctx: RequestContext, case_id: int, disbursement_id: int, data: dict[str, Any]) -> int:
    """The payment of an approved disbursement: a ledger entry with its day, method, receipt and payee."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case, values = _edit(ctx, session, case_id, PaymentSchema(), data)
        d = _disbursement(session, case, disbursement_id)
        if d.state != APPROVED:
            raise Invalid({"paid_on": [NOT_APPROVED]})
        if values["payee"] == PROVIDER and d.element_id is None:
            raise Invalid({"payee": [NOT_IN_LIST]})
        approvals = session.scalars(
            sa.select(LedgerEntry.at).where(LedgerEntry.disbursement_id == d.id, LedgerEntry.kind == APPROVAL)
        )
        approved_on = max(in_mission_time(at, ctx.settings).date() for at in approvals)
        if values["paid_on"] < approved_on:
            raise Invalid({"paid_on": [PAID_BEFORE_APPROVAL]})
        entry = _entry(ctx, d, PAYMENT, payee_name=_payee_name(session, d, values["payee"]), **values)
        session.add(entry)
        d.state = PAID
        session.flush()
        audit.record(session, ctx, "disbursement.pay", case.id, [GROUP])
        return entry.id


def reverse_entry(ctx: RequestContext, case_id: int, entry_id: int, data: dict[str, Any]) -> int:
    """Take back an approval or a payment with a new entry that names it (the entry itself stays).

    The approval of a disbursement from the emergency fund is the fund's (its balance was debited at
    HQ): only its payment may be reversed here.
    """
    require(ctx, DISBURSEMENT_APPROVE)
    with unit_of_work(ctx) as session:
        case, values = _edit(ctx, session, case_id, ReversalSchema(), data)
        target = session.get(LedgerEntry, entry_id)
        if target is None or target.case_id != case.id:
            raise NotFound
        taken_back = set(session.scalars(sa.select(LedgerEntry.reverses_id).where(LedgerEntry.case_id == case.id)))
        if target.kind == REVERSAL or target.id in taken_back:
            raise Invalid({"reason": [NOT_REVERSIBLE]})
        d = _disbursement(session, case, target.disbursement_id)
        if target.kind == APPROVAL and d.emergency_request_id is not None:
            raise Invalid({"reason": [FUND_APPROVAL]})
        if target.kind == APPROVAL and d.state == PAID:
            raise Invalid({"reason": [PAYMENT_FIRST]})
        entry = LedgerEntry(
            mission_code=ctx.mission.code,
            case_id=case.id,
            disbursement_id=d.id,
            kind=REVERSAL,
            reverses_id=target.id,
            amount=target.amount,
            currency=target.currency,
            project_code=target.project_code,
            donor=target.donor,
            by=actor(ctx),
            at=utcnow(),
            reason=values["reason"],
        )
        session.add(entry)
        d.state = APPROVED if target.kind == PAYMENT else REVERSED
        session.flush()
        audit.record(session, ctx, "ledger.reverse", case.id, [GROUP])
        return entry.id


def record_fund_disbursement(
    ctx: RequestContext,
    case_id: int,
    *,
    amount: Decimal,
    currency: str,
    project_code: str,
    approved_by: str,
    emergency_request_id: int | None = None,
    purpose: str | None = None,
    requested_by: str | None = None,
    session: Session | None = None,
) -> int:
    """The global emergency fund's approval, written into the ledger of the case's mission.

    ``ctx`` is a context of the case's mission (HQ opens it for the same user); the fund's own
    checks (its permission, its balance) are the caller's. The disbursement has no element; it is
    approved by ``approved_by`` and waits for its payment on the case's Reintegration tab like any
    other. Given ``session`` (a mission session of ``ctx``), it joins the caller's transaction. A closed
    case takes it no more than any change (:class:`ClosedCase`), nor does a case handed over.
    Bad money is refused naming ``amount``, ``currency`` or ``project_code``; returns the disbursement's id.
    """
    if session is None:
        with unit_of_work(ctx) as own:
            return record_fund_disbursement(
                ctx,
                case_id,
                amount=amount,
                currency=currency,
                project_code=project_code,
                approved_by=approved_by,
                emergency_request_id=emergency_request_id,
                purpose=purpose,
                requested_by=requested_by,
                session=own,
            )
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise Invalid({"amount": [AMOUNT_RANGE]}) from None
    if currency not in money.currencies():
        raise Invalid({"currency": [UNKNOWN_CURRENCY]})
    if not amount.is_finite() or not Decimal(0) < amount < money.MAX_AMOUNT:
        raise Invalid({"amount": [AMOUNT_RANGE]})
    _fits(amount, currency)
    if not project_code or len(project_code) > 40:
        raise Invalid({"project_code": [NOT_A_PROJECT]})
    case = get_case(session, case_id)
    if case.status in CLOSED_STATUSES:  # it writes into the case without touch(): the closed-case rule here
        raise ClosedCase
    if handed_over_to(case) is not None:
        raise HandedOver
    now = utcnow()
    d = Disbursement(
        mission_code=ctx.mission.code,
        case_id=case.id,
        element_id=None,
        emergency_request_id=emergency_request_id,
        amount=amount,
        currency=currency,
        project_code=project_code,
        payee=PERSON,
        purpose=purpose,
        state=APPROVED,
        requested_by=requested_by or actor(ctx),
        requested_at=now,
        decided_by=approved_by,
        decided_at=now,
    )
    session.add(d)
    session.flush()
    entry = _entry(ctx, d, APPROVAL)
    entry.by = approved_by
    session.add(entry)
    audit.record(session, ctx, "disbursement.fund_approval", case.id, [GROUP])
    session.flush()
    return d.id


# -- the supervisor's pages ------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A request waiting for approval, as the supervisor's list shows it.

    It carries the case's number and record id (``beneficiary_id``, for the link to the case's tab),
    never the person's name or birth date.
    """

    disbursement_id: int
    case_number: str
    beneficiary_id: str
    element_type: str | None
    amount: Decimal
    currency: str
    requested_by: str
    requested_at: datetime
    age_days: int


def pending_disbursements(ctx: RequestContext) -> list[Pending]:
    """The mission's requests waiting for a decision, oldest first."""
    require(ctx, DISBURSEMENT_APPROVE)
    require(ctx, CASE_VIEW)
    with unit_of_work(ctx) as session:
        rows = session.execute(
            sa.select(Disbursement, Case.case_number, Case.beneficiary_id, PlanElement.type)
            .join(Case, Case.id == Disbursement.case_id)
            .outerjoin(PlanElement, PlanElement.id == Disbursement.element_id)
            .where(Disbursement.state == REQUESTED)
            .order_by(Disbursement.requested_at, Disbursement.id)
        ).all()
        audit.record(session, ctx, "disbursement.pending.view", None, [GROUP])
        now = utcnow()
        return [
            Pending(
                d.id,
                number,
                beneficiary,
                element_type,
                d.amount,
                d.currency,
                d.requested_by,
                d.requested_at,
                (now - d.requested_at).days,
            )
            for d, number, beneficiary, element_type in rows
        ]


@dataclass(frozen=True)
class ReportRow:
    project_code: str
    donor: str | None
    currency: str
    approved: Decimal
    paid: Decimal
    reversed: Decimal


def _period(ctx: RequestContext, data: dict[str, Any]) -> tuple[date, date, datetime, datetime]:
    values = load(PeriodSchema(today=mission_today(ctx.settings)), data)
    start = day_start(values["from_on"], ctx.settings)
    end = day_start(values["to_on"] + timedelta(days=1), ctx.settings)
    return values["from_on"], values["to_on"], start, end


def donor_report(ctx: RequestContext, data: dict[str, Any], *, export: bool = False) -> list[ReportRow]:
    """Approved, paid and reversed per project code, donor and currency, for the period (the mission's
    calendar days ``from_on`` to ``to_on``, both included): a payment counts on the day it was paid
    (``paid_on``), an approval or a reversal on the day it was recorded (on the mission's calendar); audited."""
    require(ctx, DISBURSEMENT_APPROVE)
    first, last, start, end = _period(ctx, data)
    sums: dict[tuple[str, str, str], dict[str, Decimal]] = defaultdict(
        lambda: {APPROVAL: Decimal(0), PAYMENT: Decimal(0), REVERSAL: Decimal(0)}
    )
    with unit_of_work(ctx) as session:
        for e in session.scalars(
            sa.select(LedgerEntry)
            .where(
                sa.or_(
                    sa.and_(LedgerEntry.kind == PAYMENT, LedgerEntry.paid_on.between(first, last)),
                    sa.and_(LedgerEntry.kind != PAYMENT, LedgerEntry.at >= start, LedgerEntry.at < end),
                )
            )
            .order_by(LedgerEntry.id)
        ):
            sums[e.project_code, e.donor or "", e.currency][e.kind] += e.amount
        audit.record(session, ctx, "ledger.report.export" if export else "ledger.report.view", None, [GROUP])
    return [
        ReportRow(code, donor or None, currency, s[APPROVAL], s[PAYMENT], s[REVERSAL])
        for (code, donor, currency), s in sorted(sums.items())
    ]


def project_ledger(ctx: RequestContext) -> dict[str, Totals]:
    """Per project code, per currency: approved and paid (net of reversals), and reversed, since the start; audited."""
    require(ctx, DISBURSEMENT_APPROVE)
    with unit_of_work(ctx) as session:
        audit.record(session, ctx, "ledger.projects.view", None, [GROUP])
        by_code: dict[str, list[LedgerEntry]] = defaultdict(list)
        for e in session.scalars(sa.select(LedgerEntry).order_by(LedgerEntry.id)):
            by_code[e.project_code].append(e)
        result = {}
        for code, entries in sorted(by_code.items()):
            approved, paid, reversed_ = net(entries)
            result[code] = Totals({}, approved, paid, reversed_)
        return result


def plain(amount: Decimal, currency: str) -> str:
    """An amount with its currency's decimals, no grouping: what a spreadsheet reads as a number."""
    return str(amount.quantize(Decimal(1).scaleb(-money.decimals(currency))))


def donor_report_csv(ctx: RequestContext, data: dict[str, Any]) -> str:
    """The donors' report as CSV: one row per project code, donor and currency; amounts as plain decimals."""
    rows = donor_report(ctx, data, export=True)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["project_code", "donor", "currency", "approved", "paid", "reversed"])
    for r in rows:
        amounts = [plain(value, r.currency) for value in (r.approved, r.paid, r.reversed)]
        cells = [r.project_code, r.donor or "", r.currency, *amounts]
        writer.writerow([neutral(c) for c in cells])
    return out.getvalue()
