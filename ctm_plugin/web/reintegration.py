"""The Reintegration tab (the plan, its elements and budgets, their disbursements and the case's
ledger) and the supervisor's pages: the disbursements waiting for approval, and the donors' report
for a period with its CSV.

The tab shows in the mission that holds the case; a case handed over to another mission shows it
read-only (its use cases refuse any change). Amounts are shown in the reader's language, with the
currency's own decimals, one line per currency: never summed across currencies.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, request
from sqlalchemy.orm import Session

from ctm_plugin import i18n
from ctm_plugin.codelists.reintegration import ELEMENT_STATUS, PLAN_ELEMENT, PROVIDER_KIND
from ctm_plugin.domain import money
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.reintegration import DISBURSEMENT_STATES, ENTRY_KINDS, PAYEES, PlanRevision
from ctm_plugin.schemas.mission_settings import project_codes, providers
from ctm_plugin.schemas.reintegration import (
    DECISIONS,
    AgreePlanSchema,
    DisbursementDecisionSchema,
    DisbursementSchema,
    ElementSchema,
    PaymentSchema,
    PeriodSchema,
    ReversalSchema,
)
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, DISBURSEMENT_APPROVE
from ctm_plugin.services import reintegration as service
from ctm_plugin.services.base import Invalid, load
from ctm_plugin.web import RECORD, ROW_ID, dates, page, render
from ctm_plugin.web.forms import FormState
from ctm_plugin.web.pages import CaseTab, register_tab, show, submit
from mimosa_host.plugin_api import Page, current_context

CHANGE_FIELDS = {
    "agreed_on": i18n.N_("Agreed on"),
    "type": i18n.N_("Element"),
    "objective": i18n.N_("Objective"),
    "provider": i18n.N_("Provider"),
    "start_on": i18n.N_("Planned start"),
    "end_on": i18n.N_("Planned end"),
    "budget": i18n.N_("Budget"),
    "currency": i18n.N_("Currency"),
    "status": i18n.N_("Status"),
    "status_reason": i18n.N_("Reason for the status"),
}
REVISION_WHAT = {
    "agreed": i18n.N_("Plan agreed"),
    "element.add": i18n.N_("Element added"),
    "element.change": i18n.N_("Element changed"),
}


def shown(amount: Decimal | None, currency: str) -> str:
    """An amount in the reader's language, with its currency's decimals."""
    return money.shown(amount or Decimal(0), currency, i18n.current_locale())


def words(labels: dict[str, str], code: str | None) -> str:
    return i18n._(labels[code]) if code in labels else (code or "")


DATE_FIELDS = ("agreed_on", "start_on", "end_on")


def change_shown(view: service.PlanView, revision: PlanRevision, change: dict[str, Any], side: str) -> str:
    """One side (``before`` or ``after``) of a change in the plan's history, as the reader reads it.

    The history keeps codes, ISO dates and plain decimals; they are shown as labels, dates and
    amounts in the reader's language (a budget in the currency it had on that side of the change).
    """
    value, field = change.get(side), change.get("field")
    if value is None:
        return "—"
    try:
        if field == "type":
            return PLAN_ELEMENT.label(value) if value in PLAN_ELEMENT else value
        if field == "status":
            return ELEMENT_STATUS.label(value) if value in ELEMENT_STATUS else value
        if field in DATE_FIELDS:
            return dates.day(date.fromisoformat(value))
        if field == "provider":
            kind, _sep, name = value.partition(": ")
            return f"{name} ({_kind_label(kind)})" if name else value
        if field == "budget":
            currency = next((c.get(side) for c in revision.changes if c.get("field") == "currency"), None)
            element = next((e for e in view.elements if e.id == revision.element_id), None)
            currency = currency or (element.currency if element else None)
            return money.shown(Decimal(value), currency, i18n.current_locale()) if currency else value
    except (ValueError, InvalidOperation):
        pass
    return str(value)


def _load(session: Session, case: Case) -> dict[str, Any]:
    ctx = current_context()
    codes, default_code = project_codes(ctx.settings)
    view = service.plan_view(session, case)
    return {
        "view": view,
        "me": actor(ctx),
        "providers": [
            (f"{kind}: {name}", f"{name} ({i18n._(_kind_label(kind))})") for kind, name in providers(ctx.settings)
        ],
        "project_codes": [(code, code) for code in codes],
        "default_project_code": default_code,
        "payees": [(code, i18n._(label)) for code, label in PAYEES.items()],
        "decisions": [(code, i18n._(label)) for code, label in DECISIONS.items()],
        "mission_today": mission_today(ctx.settings),
        "currencies": [(c, c) for c in money.currencies()],
        "shown": shown,
        "plain": service.plain,
        # The case's own numbering of its entries, oldest first: ids run across missions and would tell
        # how busy the others are.
        "entry_numbers": lambda entries: {i: n for n, i in enumerate(sorted(e.id for e in entries), 1)},
        "state_words": lambda code: words(DISBURSEMENT_STATES, code),
        "entry_words": lambda code: words(ENTRY_KINDS, code),
        "payee_words": lambda code: words(PAYEES, code),
        "change_words": lambda code: words(CHANGE_FIELDS, code),
        "revision_words": lambda code: words(REVISION_WHAT, code),
        "change_shown": lambda revision, change, side: change_shown(view, revision, change, side),
    }


def _kind_label(kind: str) -> str:
    return PROVIDER_KIND.label(kind) if kind in PROVIDER_KIND else kind


REINTEGRATION = register_tab(
    CaseTab(
        id="ctm.reintegration",
        label=i18n.N_("Reintegration"),
        endpoint="ctm.reintegration",
        template="reintegration.html",
        field_group="reintegration",
        load=_load,
    )
)


@page(RECORD + "/reintegration", CASE_VIEW)
def reintegration(record_ref: str):  # noqa: ANN201
    return show(REINTEGRATION, record_ref)


@page(RECORD + "/reintegration/agreement", CASE_EDIT, methods=("POST",))
def agree_plan(record_ref: str):  # noqa: ANN201
    return submit(
        REINTEGRATION,
        record_ref,
        "agree",
        AgreePlanSchema,
        service.agree_plan,
        i18n.N_("The plan's agreement is recorded."),
    )


@page(RECORD + "/reintegration/elements", CASE_EDIT, methods=("POST",))
def add_plan_element(record_ref: str):  # noqa: ANN201
    return submit(
        REINTEGRATION,
        record_ref,
        "element",
        ElementSchema,
        service.add_element,
        i18n.N_("The element is added to the plan."),
    )


@page(RECORD + f"/reintegration/elements/<{ROW_ID}:element_id>", CASE_EDIT, methods=("POST",))
def change_plan_element(record_ref: str, element_id: int):  # noqa: ANN201
    return submit(
        REINTEGRATION,
        record_ref,
        f"element-{element_id}",
        ElementSchema,
        lambda ctx, case_id, data: service.change_element(ctx, case_id, element_id, data),
        i18n.N_("The element is changed."),
    )


@page(RECORD + f"/reintegration/elements/<{ROW_ID}:element_id>/disbursements", CASE_EDIT, methods=("POST",))
def request_disbursement(record_ref: str, element_id: int):  # noqa: ANN201
    return submit(
        REINTEGRATION,
        record_ref,
        f"request-{element_id}",
        DisbursementSchema,
        lambda ctx, case_id, data: service.request_disbursement(ctx, case_id, element_id, data),
        i18n.N_("The disbursement is requested: another user approves it."),
    )


@page(
    RECORD + f"/reintegration/disbursements/<{ROW_ID}:disbursement_id>/decision",
    DISBURSEMENT_APPROVE,
    methods=("POST",),
)
def decide_disbursement(record_ref: str, disbursement_id: int):  # noqa: ANN201
    return submit(
        REINTEGRATION,
        record_ref,
        f"decide-{disbursement_id}",
        DisbursementDecisionSchema,
        lambda ctx, case_id, data: service.decide_disbursement(ctx, case_id, disbursement_id, data),
        i18n.N_("The decision on the disbursement is recorded."),
    )


@page(RECORD + f"/reintegration/disbursements/<{ROW_ID}:disbursement_id>/payment", CASE_EDIT, methods=("POST",))
def record_payment(record_ref: str, disbursement_id: int):  # noqa: ANN201
    return submit(
        REINTEGRATION,
        record_ref,
        f"pay-{disbursement_id}",
        PaymentSchema,
        lambda ctx, case_id, data: service.record_payment(ctx, case_id, disbursement_id, data),
        i18n.N_("The payment is recorded in the ledger."),
    )


@page(RECORD + f"/reintegration/ledger/<{ROW_ID}:entry_id>/reversal", DISBURSEMENT_APPROVE, methods=("POST",))
def reverse_entry(record_ref: str, entry_id: int):  # noqa: ANN201
    return submit(
        REINTEGRATION,
        record_ref,
        f"reverse-{entry_id}",
        ReversalSchema,
        lambda ctx, case_id, data: service.reverse_entry(ctx, case_id, entry_id, data),
        i18n.N_("The entry is reversed in the ledger."),
    )


# -- the supervisor's pages ------------------------------------------------------------------


@page("/disbursements", DISBURSEMENT_APPROVE)
def pending_disbursements():  # noqa: ANN201
    ctx = current_context()
    if not ctx.can(CASE_VIEW):
        from flask import abort

        abort(404)
    body = render(
        "disbursements_pending.html",
        pending=service.pending_disbursements(ctx),
        shown=shown,
        element_words=_element_words,
    )
    return Page(title=i18n._("Disbursements to approve"), body=body)


def _element_words(code: str | None) -> str:
    from ctm_plugin.codelists.reintegration import PLAN_ELEMENT

    if code is None:
        return i18n._("Emergency fund")
    return PLAN_ELEMENT.label(code) if code in PLAN_ELEMENT else code


def _period_asked() -> dict[str, str]:
    return {name: request.args.get(name, "") for name in ("from_on", "to_on")}


@page("/disbursements/report", DISBURSEMENT_APPROVE)
def donor_report():  # noqa: ANN201
    ctx = current_context()
    asked = _period_asked()
    today = mission_today(ctx.settings)
    rows, period, state, status = None, None, FormState(), 200
    if any(asked.values()):
        try:
            rows = service.donor_report(ctx, asked)
            period = load(PeriodSchema(today=today), asked)
        except Invalid as refused:
            state, status = FormState("period", refused.errors, asked), 422
    body = render(
        "disbursements_report.html",
        rows=rows,
        period=period,
        asked=asked,
        form=state,
        default_from=today.replace(day=1).isoformat(),
        default_to=today.isoformat(),
        ledger=service.project_ledger(ctx),
        shown=shown,
    )
    return Page(title=i18n._("Disbursements by project and donor"), body=body, status=status)


@page("/disbursements/report.csv", DISBURSEMENT_APPROVE)
def donor_report_csv():  # noqa: ANN201
    ctx = current_context()
    asked = _period_asked()
    try:
        text = service.donor_report_csv(ctx, asked)
    except Invalid:
        return donor_report()
    name = f"disbursements-{ctx.mission.code}-{asked['from_on']}-{asked['to_on']}.csv"
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
