"""The global emergency fund's pages: HQ's fund (balance, top-ups, the requests of every mission of its scope and
its decisions on them) and a mission's own requests. A request is made on the case's Assistance tab."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for

from ctm_plugin import i18n
from ctm_plugin.domain import money
from ctm_plugin.domain.fund import STATES
from ctm_plugin.schemas.fund import (
    DECISION,
    STATE,
    FundCurrencySchema,
    FundDecisionSchema,
    FundLimitSchema,
    FundRequestSchema,
    TopUpSchema,
)
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import EMERGENCY_FUND_APPROVE, EMERGENCY_FUND_REQUEST
from ctm_plugin.services import fund as service
from ctm_plugin.services.base import Conflict, Invalid, NotFound
from ctm_plugin.web import RECORD, ROW_ID, page, render
from ctm_plugin.web.assistance import ASSISTANCE
from ctm_plugin.web.forms import FormState, form_data
from ctm_plugin.web.pages import submit
from mimosa_host.plugin_api import Page, current_context

MISSION_CODE = "string(minlength=2, maxlength=8)"


def currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in money.currencies()]


def fund_words() -> dict[str, Any]:
    return {
        "states": STATE,
        "decisions": DECISION,
        "currency_choices": currency_choices(),
        "shown": lambda amount, currency: money.shown(amount, currency, i18n.current_locale()),
        "plain": lambda amount: format(amount.normalize(), "f"),  # an amount as a form takes it back
    }


# -- a mission's side ------------------------------------------------------------------------------------------


@page(RECORD + "/assistance/fund", EMERGENCY_FUND_REQUEST, methods=("POST",))
def request_fund(record_ref: str):  # noqa: ANN201
    return submit(
        ASSISTANCE,
        record_ref,
        "fund",
        FundRequestSchema,
        service.request_assistance,
        i18n.N_("The request is sent to the emergency fund: HQ decides on it."),
    )


@page("/fund/requests", EMERGENCY_FUND_REQUEST)
def mission_fund_requests():  # noqa: ANN201
    ctx = current_context()
    try:
        seen = service.mission_requests(ctx)
    except NotFound:
        abort(404)
    body = render("fund_mission.html", seen=seen, **fund_words())
    return Page(title=i18n._("Emergency fund requests"), body=body)


# -- HQ's side ---------------------------------------------------------------------------------------------------


def _fund_page(state: FormState | None = None, status: int = 200) -> Page:
    ctx = current_context()
    shown_state = request.args.get("state")
    shown_state = shown_state if shown_state in STATES else None
    try:
        fund = service.fund_state(ctx)
        requests = service.hq_requests(ctx, shown_state)
        missions = service.hq_missions(ctx)
    except NotFound:
        abort(404)
    body = render(
        "fund_hq.html",
        fund=fund,
        requests=requests,
        missions=missions,
        shown_state=shown_state,
        form=state or FormState(),
        **fund_words(),
    )
    return Page(title=i18n._("Emergency fund"), body=body, status=status)


@page("/fund", EMERGENCY_FUND_APPROVE)
def fund_page():  # noqa: ANN201
    return _fund_page()


def _fund_form(form: str, schema: type, use_case: Any, done: str) -> Any:
    data = form_data(schema)
    try:
        use_case(current_context(), data)
    except NotFound:
        abort(404)
    except Invalid as refused:
        return _fund_page(FormState(form, refused.errors, data), status=422)
    except Conflict as refused:
        return _fund_page(FormState(form, {}, data, problem=refused.message), status=409)
    flash(i18n._(done), "success")
    return redirect(url_for("ctm.fund_page"), 303)


@page("/fund/top-ups", EMERGENCY_FUND_APPROVE, methods=("POST",))
def fund_top_up():  # noqa: ANN201
    return _fund_form("top_up", TopUpSchema, service.top_up, i18n.N_("The top-up is recorded."))


@page("/fund/currency", EMERGENCY_FUND_APPROVE, methods=("POST",))
def set_fund_currency():  # noqa: ANN201
    return _fund_form("currency", FundCurrencySchema, service.set_currency, i18n.N_("The fund's currency is changed."))


@page("/fund/largest-request", EMERGENCY_FUND_APPROVE, methods=("POST",))
def set_fund_max_request():  # noqa: ANN201
    return _fund_form(
        "max_request", FundLimitSchema, service.set_max_request, i18n.N_("The fund's largest request is changed.")
    )


def _request_page(mission_code: str, request_id: int, state: FormState | None = None, status: int = 200) -> Page:
    ctx = current_context()
    try:
        seen = service.hq_request(ctx, mission_code, request_id)
        fund = service.fund_state(ctx)
    except NotFound:
        abort(404)
    own = seen.requested_by == actor(ctx)  # another approver decides on it
    body = render("fund_request.html", seen=seen, fund=fund, own=own, form=state or FormState(), **fund_words())
    return Page(title=i18n._("Emergency fund request"), body=body, status=status)


@page(f"/fund/requests/<{MISSION_CODE}:request_mission>/<{ROW_ID}:request_id>", EMERGENCY_FUND_APPROVE)
def fund_request(request_mission: str, request_id: int):  # noqa: ANN201
    return _request_page(request_mission, request_id)


@page(
    f"/fund/requests/<{MISSION_CODE}:request_mission>/<{ROW_ID}:request_id>/decision",
    EMERGENCY_FUND_APPROVE,
    methods=("POST",),
)
def decide_fund_request(request_mission: str, request_id: int):  # noqa: ANN201
    data = form_data(FundDecisionSchema)
    try:
        service.decide_request(current_context(), request_mission, request_id, data)
    except NotFound:
        abort(404)
    except Invalid as refused:
        return _request_page(request_mission, request_id, FormState("decision", refused.errors, data), status=422)
    except Conflict as refused:
        state = FormState("decision", {}, data, problem=refused.message)
        return _request_page(request_mission, request_id, state, status=409)
    flash(i18n._("The decision is recorded."), "success")
    return redirect(url_for("ctm.fund_page"), 303)
