"""The trafficking-process tab: the events in order, the route as a picture, the perpetrators."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from ctm_plugin import i18n
from ctm_plugin.codelists import geo
from ctm_plugin.codelists import process as codes
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.schemas.process import EventSchema, PerpetratorSchema
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW
from ctm_plugin.services import process as service
from ctm_plugin.web import RECORD, ROW_ID, page
from ctm_plugin.web.pages import CaseTab, register_tab, show, submit
from ctm_plugin.web.route import route_svg


def route_of(events: list[TraffickingEvent]) -> str:
    """The route picture of the events that name a country, labelled in the reader's language."""
    steps = [
        (geo.COUNTRY.label(e.country), codes.TRANSPORT.label(e.transport) if e.transport else None)
        for e in events
        if e.country
    ]
    return route_svg(steps, i18n._)


def _load(session: Session, case: Case) -> dict[str, Any]:
    events = list(
        session.scalars(
            sa.select(TraffickingEvent)
            .where(TraffickingEvent.case_id == case.id)
            .order_by(TraffickingEvent.sequence)
            .options(selectinload(TraffickingEvent.perpetrators))
        )
    )
    perpetrators = list(
        session.scalars(
            sa.select(Perpetrator)
            .where(Perpetrator.case_id == case.id)
            .order_by(Perpetrator.id)
            .options(selectinload(Perpetrator.events))
        )
    )
    return {
        "events": events,
        "perpetrators": perpetrators,
        "route": route_of(events),
        "unplaced": sum(1 for e in events if not e.country),
    }


PROCESS = register_tab(
    CaseTab(
        id="ctm.process",
        label=i18n.N_("Trafficking process"),
        endpoint="ctm.process",
        template="process.html",
        field_group="process",
        more_groups=("perpetrators",),
        load=_load,
    )
)


@page(RECORD + "/process", CASE_VIEW)
def process(record_ref: str):  # noqa: ANN201
    return show(PROCESS, record_ref)


@page(RECORD + "/process/events", CASE_EDIT, methods=("POST",))
def add_event(record_ref: str):  # noqa: ANN201
    return submit(PROCESS, record_ref, "event", EventSchema, service.add_event, i18n.N_("The event is added."))


@page(RECORD + f"/process/events/<{ROW_ID}:event_id>", CASE_EDIT, methods=("POST",))
def edit_event(record_ref: str, event_id: int):  # noqa: ANN201
    return submit(
        PROCESS,
        record_ref,
        f"event-{event_id}",
        EventSchema,
        lambda ctx, case_id, data: service.edit_event(ctx, case_id, event_id, data),
        i18n.N_("The event is saved."),
    )


@page(RECORD + "/process/perpetrators", CASE_EDIT, methods=("POST",))
def add_perpetrator(record_ref: str):  # noqa: ANN201
    return submit(
        PROCESS,
        record_ref,
        "perpetrator",
        PerpetratorSchema,
        service.add_perpetrator,
        i18n.N_("The perpetrator is added."),
    )


@page(RECORD + f"/process/perpetrators/<{ROW_ID}:perpetrator_id>", CASE_EDIT, methods=("POST",))
def edit_perpetrator(record_ref: str, perpetrator_id: int):  # noqa: ANN201
    return submit(
        PROCESS,
        record_ref,
        f"perpetrator-{perpetrator_id}",
        PerpetratorSchema,
        lambda ctx, case_id, data: service.edit_perpetrator(ctx, case_id, perpetrator_id, data),
        i18n.N_("The perpetrator is saved."),
    )
