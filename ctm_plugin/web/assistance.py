"""The assistance tab: the services given to the person, each with its HTCDS support-plan type."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin import i18n
from ctm_plugin.domain.assistance import AssistanceService
from ctm_plugin.domain.case import Case
from ctm_plugin.schemas.assistance import ServiceSchema
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, EMERGENCY_FUND_REQUEST
from ctm_plugin.services import assistance as service
from ctm_plugin.services import fund
from ctm_plugin.web import RECORD, ROW_ID, page
from ctm_plugin.web.pages import CaseTab, register_tab, show, submit
from mimosa_host.plugin_api import current_context


def _load(session: Session, case: Case) -> dict[str, Any]:
    from ctm_plugin.web.fund import fund_words  # here: the fund's pages import this tab

    services = session.scalars(
        sa.select(AssistanceService).where(AssistanceService.case_id == case.id).order_by(AssistanceService.id)
    ).all()
    ctx = current_context()
    terms = fund.fund_terms(ctx) if ctx.can(EMERGENCY_FUND_REQUEST) else None
    return {
        "services": services,
        "fund_requests": fund.requests_of_case(session, case.id),
        "fund_currency": terms.currency if terms else None,
        "fund_max_request": terms.max_request if terms else None,
        **fund_words(),
    }


ASSISTANCE = register_tab(
    CaseTab(
        id="ctm.assistance",
        label=i18n.N_("Assistance"),
        endpoint="ctm.assistance",
        template="assistance.html",
        field_group="assistance",
        load=_load,
    )
)


@page(RECORD + "/assistance", CASE_VIEW)
def assistance(record_ref: str):  # noqa: ANN201
    return show(ASSISTANCE, record_ref)


@page(RECORD + "/assistance/services", CASE_EDIT, methods=("POST",))
def add_service(record_ref: str):  # noqa: ANN201
    return submit(
        ASSISTANCE, record_ref, "service", ServiceSchema, service.add_service, i18n.N_("The service is added.")
    )


@page(RECORD + f"/assistance/services/<{ROW_ID}:service_id>", CASE_EDIT, methods=("POST",))
def edit_service(record_ref: str, service_id: int):  # noqa: ANN201
    return submit(
        ASSISTANCE,
        record_ref,
        f"service-{service_id}",
        ServiceSchema,
        lambda ctx, case_id, data: service.edit_service(ctx, case_id, service_id, data),
        i18n.N_("The service is saved."),
    )
