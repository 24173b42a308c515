"""Use cases of the trafficking process: events in order, and perpetrators linked to them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.process import EventSchema, PerpetratorSchema
from ctm_plugin.security import audit
from ctm_plugin.security.permissions import CASE_EDIT, IDENTITY_VIEW
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, add_to_case, assign, edit_row, get_case, load, require, row_of_case, touch, unit_of_work
from .cases import birth_date_for


def add_event(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    """Append an event at the end of the person's story."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(EventSchema(birth_date=birth_date_for(ctx, case)), data)
        touch(case, ctx, values.pop("version"))
        last = session.scalar(
            sa.select(sa.func.max(TraffickingEvent.sequence)).where(TraffickingEvent.case_id == case.id)
        )
        event = TraffickingEvent(sequence=(last or 0) + 1, **values)
        return add_to_case(session, ctx, case, event, "event.add", "process")


def edit_event(ctx: RequestContext, case_id: int, event_id: int, data: dict[str, Any]) -> None:
    require(ctx, CASE_EDIT)
    edit_row(
        ctx,
        case_id,
        TraffickingEvent,
        event_id,
        lambda case: EventSchema(birth_date=birth_date_for(ctx, case)),
        data,
        "event.edit",
        "process",
    )


def events_of(session: sa.orm.Session, case_id: int) -> list[TraffickingEvent]:
    return list(
        session.scalars(
            sa.select(TraffickingEvent).where(TraffickingEvent.case_id == case_id).order_by(TraffickingEvent.sequence)
        )
    )


def add_perpetrator(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(PerpetratorSchema(), data)
        touch(case, ctx, values.pop("version"))
        events = _events_chosen(session, case.id, values.pop("event_ids"))
        if not ctx.can(IDENTITY_VIEW):
            values.pop("alias", None)
        perpetrator = Perpetrator(events=events, **values)
        return add_to_case(session, ctx, case, perpetrator, "perpetrator.add", "perpetrators")


def edit_perpetrator(ctx: RequestContext, case_id: int, perpetrator_id: int, data: dict[str, Any]) -> None:
    """Correct a perpetrator; without the identity permission the form has no alias, and the stored one stays."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        perpetrator = row_of_case(session, Perpetrator, perpetrator_id, case)
        schema = PerpetratorSchema()
        values = load(schema, data)
        touch(case, ctx, values["version"])
        perpetrator.events = _events_chosen(session, case.id, values["event_ids"])
        assign(perpetrator, schema, values, skip=("event_ids",) if ctx.can(IDENTITY_VIEW) else ("event_ids", "alias"))
        audit.record(session, ctx, "perpetrator.edit", case.id, ["perpetrators"])


def _events_chosen(session: sa.orm.Session, case_id: int, event_ids: list[int]) -> list[TraffickingEvent]:
    """The case's events a perpetrator form names; an id of another case's event (or of none) is refused."""
    wanted = set(event_ids)
    events = [e for e in events_of(session, case_id) if e.id in wanted]
    if len(events) != len(wanted):
        raise Invalid({"event_ids": [N_("Choose events of this case.")]})
    return events
