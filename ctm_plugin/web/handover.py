"""The hand-over pages: the case's Hand-over tab (the proposing mission) and the inbox of hand-overs
addressed to this mission, each with its decision and reception (the mission of origin).

The inbox shows the hand-over record only: nothing of the other mission's case. A hand-over
addressed to another mission answers 404, even to the mission that proposed it (it follows the
hand-over on its case's tab).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, url_for
from sqlalchemy.orm import Session

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.handover import ON_NO_RECORD, OPEN_STATES
from ctm_plugin.domain.mission_time import in_mission_time, mission_today
from ctm_plugin.schemas.handover import (
    AcceptHandoverSchema,
    DeclineHandoverSchema,
    ProposeHandoverSchema,
    ReceptionSchema,
)
from ctm_plugin.schemas.people import LinkToHostSchema
from ctm_plugin.schemas.returns import ESCORT_LABELS
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, HANDOVER_ACCEPT
from ctm_plugin.services import handover as service
from ctm_plugin.services import people
from ctm_plugin.services.assistance import consent_in_force
from ctm_plugin.services.base import NotFound
from ctm_plugin.web import RECORD, ROW_ID, dates, page, render
from ctm_plugin.web.exchanges import HostTrouble
from ctm_plugin.web.forms import FormState
from ctm_plugin.web.pages import CaseTab, decide, register_tab, show, submit
from mimosa_host.plugin_api import Page, RequestContext, current_context

STEP_WORDS = {
    "proposed": i18n.N_("Proposed"),
    "accepted": i18n.N_("Accepted"),
    "declined": i18n.N_("Declined"),
    "arrived": i18n.N_("Arrived"),
    "received": i18n.N_("Reception recorded"),
}
"""The hand-over's states and the steps of its history, in the reader's language."""


def step_words(code: str) -> str:
    return i18n._(STEP_WORDS[code]) if code in STEP_WORDS else code


def escort_words(code: str) -> str:
    return i18n._(ESCORT_LABELS[code]) if code in ESCORT_LABELS else code


def record_day(value: str | None) -> str | None:
    """A date of the hand-over record (kept as ISO text) in the reader's format."""
    return dates.day(date.fromisoformat(value)) if value else None


def _words() -> dict[str, Any]:
    return {"step_words": step_words, "escort_words": escort_words, "record_day": record_day}


def _load(session: Session, case: Case) -> dict[str, Any]:
    ctx = current_context()
    booking = service.return_to_hand_over(session, case.id)
    handovers = service.handovers_of_case(ctx, case.id)
    missions = service.receiving_missions(ctx, booking.destination_country) if booking else []
    return {
        "handovers": handovers,
        "booking": booking,
        "missions": [(m.code, f"{m.name} ({m.code})") for m in missions],
        "may_propose": not any(h.state in OPEN_STATES for h, _events in handovers),
        "consented": consent_in_force(session, case.id, "HandOver") is not None,
        **_words(),
    }


HANDOVER = register_tab(
    CaseTab(
        id="ctm.handover",
        label=i18n.N_("Hand-over"),
        endpoint="ctm.handover",
        template="handover.html",
        field_group="handover",
        load=_load,
    )
)


@page(RECORD + "/handover", CASE_VIEW)
def handover(record_ref: str):  # noqa: ANN201
    return show(HANDOVER, record_ref)


@page(RECORD + "/handover/propose", CASE_EDIT, methods=("POST",))
def propose_handover(record_ref: str):  # noqa: ANN201
    return submit(
        HANDOVER,
        record_ref,
        "propose",
        ProposeHandoverSchema,
        service.propose,
        i18n.N_("The hand-over is proposed: the mission of origin decides on it."),
    )


# -- the mission of origin ------------------------------------------------------------------


@page("/handovers", HANDOVER_ACCEPT)
def inbox():  # noqa: ANN201
    body = render("handover_inbox.html", received=service.inbox(current_context()), **_words())
    return Page(title=i18n._("Hand-overs to this mission"), body=body)


def _received_page(
    handover_id: int, state: FormState | None = None, status: int = 200, trouble: HostTrouble | None = None
) -> Page:
    ctx = current_context()
    try:
        seen = service.received(ctx, handover_id)
    except NotFound:
        abort(404)
    arrived = seen.handover.arrived_at
    body = render(
        "handover_received.html",
        seen=seen,
        form=state or FormState(),
        today=mission_today(ctx.settings),
        arrived_on=in_mission_time(arrived, ctx.settings).date().isoformat() if arrived else None,
        on_no_record=ON_NO_RECORD,
        trouble=trouble,
        **_words(),
    )
    return Page(title=i18n._("Hand-over"), body=body, status=status)


@page(f"/handovers/<{ROW_ID}:handover_id>", HANDOVER_ACCEPT)
def received(handover_id: int):  # noqa: ANN201
    return _received_page(handover_id)


def _decide(handover_id: int, form: str, schema: type, use_case: Any, done: str, then: Any = None) -> Any:
    """:func:`pages.decide` on the hand-over's page, which it shows again after a success unless ``then``."""
    back = then or (lambda _result: url_for("ctm.received", handover_id=handover_id))
    return decide(handover_id, form, schema, use_case, done, _received_page, back)


@page(f"/handovers/<{ROW_ID}:handover_id>/accept", HANDOVER_ACCEPT, methods=("POST",))
def accept_handover(handover_id: int):  # noqa: ANN201
    return _decide(
        handover_id,
        "accept",
        AcceptHandoverSchema,
        service.accept,
        i18n.N_("The hand-over is accepted: the case is open in this mission."),
    )


@page(f"/handovers/<{ROW_ID}:handover_id>/decline", HANDOVER_ACCEPT, methods=("POST",))
def decline_handover(handover_id: int):  # noqa: ANN201
    return _decide(
        handover_id, "decline", DeclineHandoverSchema, service.decline, i18n.N_("The hand-over is declined.")
    )


def _link_received_case(ctx: RequestContext, handover_id: int, data: dict[str, Any]) -> str:
    case = service.received(ctx, handover_id).case
    if case is None:
        raise NotFound
    return people.link_to_host(ctx, case.id, data)


@page(f"/handovers/<{ROW_ID}:handover_id>/link", HANDOVER_ACCEPT, methods=("POST",))
def link_received_case(handover_id: int):  # noqa: ANN201
    """The case this mission opened on accepting joins the person's record in its host; its tabs open from there."""
    return _decide(
        handover_id,
        "link",
        LinkToHostSchema,
        _link_received_case,
        i18n.N_("The case is linked to the host's record."),
        then=lambda beneficiary_id: url_for("ctm.case_overview", record_type="beneficiary", record_ref=beneficiary_id),
    )


@page(f"/handovers/<{ROW_ID}:handover_id>/reception", HANDOVER_ACCEPT, methods=("POST",))
def record_reception(handover_id: int):  # noqa: ANN201
    return _decide(
        handover_id, "reception", ReceptionSchema, service.record_reception, i18n.N_("The reception is recorded.")
    )
