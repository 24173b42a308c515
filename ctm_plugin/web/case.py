"""The case overview tab: open a case, the person's profile, the victim context, close and reopen."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for
from sqlalchemy.orm import Session

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.schemas.case import (
    CLOSED_STATUSES,
    CloseCaseSchema,
    OpenCaseSchema,
    PersonSchema,
    ReopenCaseSchema,
    VictimContextSchema,
)
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW
from ctm_plugin.services import cases
from ctm_plugin.services.base import Invalid
from ctm_plugin.services.screening import latest_determination
from ctm_plugin.web import RECORD, page
from ctm_plugin.web.forms import FormState, form_data
from ctm_plugin.web.pages import CaseTab, register_tab, show, submit
from mimosa_host.plugin_api import current_context


def _load(session: Session, case: Case) -> dict[str, Any]:
    return {
        "decision": latest_determination(session, case.id),
        "closed": case.status in CLOSED_STATUSES,
        "closing_statuses": CLOSED_STATUSES,
    }


OVERVIEW = register_tab(
    CaseTab(
        id="ctm.case",
        label=i18n.N_("Counter-trafficking"),
        endpoint="ctm.case_overview",
        template="case_overview.html",
        field_group="case",
        load=_load,
        needs_case=False,
    )
)


@page(RECORD + "/case", CASE_VIEW)
def case_overview(record_ref: str):  # noqa: ANN201
    return show(OVERVIEW, record_ref)


@page(RECORD + "/case/open", CASE_EDIT, methods=("POST",))
def open_case(record_ref: str):  # noqa: ANN201
    data = form_data(OpenCaseSchema)
    try:
        cases.open_case(current_context(), record_ref, data)
    except Invalid as refused:
        return show(OVERVIEW, record_ref, FormState("open", refused.errors, data), status=422)
    flash(i18n._("The case is open."), "success")
    return redirect(url_for(OVERVIEW.endpoint, record_type="beneficiary", record_ref=record_ref), 303)


@page(RECORD + "/case/person", CASE_EDIT, methods=("POST",))
def edit_person(record_ref: str):  # noqa: ANN201
    return submit(OVERVIEW, record_ref, "person", PersonSchema, cases.update_person, i18n.N_("Saved."))


@page(RECORD + "/case/victim", CASE_EDIT, methods=("POST",))
def edit_victim(record_ref: str):  # noqa: ANN201
    return submit(OVERVIEW, record_ref, "victim", VictimContextSchema, cases.update_victim, i18n.N_("Saved."))


@page(RECORD + "/case/close", CASE_EDIT, methods=("POST",))
def close_case(record_ref: str):  # noqa: ANN201
    return submit(OVERVIEW, record_ref, "close", CloseCaseSchema, cases.close_case, i18n.N_("The case is closed."))


@page(RECORD + "/case/reopen", CASE_EDIT, methods=("POST",))
def reopen_case(record_ref: str):  # noqa: ANN201
    return submit(
        OVERVIEW, record_ref, "reopen", ReopenCaseSchema, cases.reopen_case, i18n.N_("The case is open again.")
    )
