"""The return tab: the case's voluntary returns as the host reports them, and booking one.

Every case viewer sees the returns; only a movement officer (``ctm.return.book``) gets the
booking form. Until the host has accepted a booking, its outbox message says where it stands.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort
from sqlalchemy.orm import Session

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.schemas.case import CLOSED_STATUSES
from ctm_plugin.schemas.mission_settings import project_codes
from ctm_plugin.schemas.returns import CANCEL_REASONS, ESCORT_LABELS, ESCORTS, CancelReturnSchema, ReturnBookingSchema
from ctm_plugin.security.permissions import CASE_VIEW, RETURN_BOOK
from ctm_plugin.services import cancellations
from ctm_plugin.services import returns as service
from ctm_plugin.services.base import NotFound
from ctm_plugin.services.cases import following
from ctm_plugin.web import RECORD, ROW_ID, page, render
from ctm_plugin.web.forms import FormState
from ctm_plugin.web.pages import CaseTab, register_tab, show, submit
from mimosa_host.plugin_api import RequestContext, current_context

AIRPORTS = ("origin_location", "destination_location")


def _load(_session: Session, case: Case) -> dict[str, Any]:
    from ctm_plugin.web.preparation import checklist_values  # its routes need this tab: imported once both exist

    ctx = current_context()
    citizenships = case.person.citizenships if case.person is not None else []
    codes, default_project = project_codes(ctx.settings)
    return {
        **_bookings(ctx, case),
        # The form's starting points: from this mission's country, to the person's first citizenship.
        "default_origin": ctx.mission.country,
        "default_destination": citizenships[0] if citizenships else None,
        # The mission's projects, from its CTM settings, with its default preselected.
        "projects": [(code, code) for code in codes],
        "default_project": default_project,
        **checklist_values(ctx, case),
    }


def _bookings(ctx: RequestContext, case: Case) -> dict[str, Any]:
    """What the tab's bookings (``_returns.html``) show: the case's returns, each one's latest cancellation
    and why one cannot be asked for now (None: it can), and whether one is under way (it refreshes itself)."""
    returns = service.returns_of_case(ctx, case.id)
    cancelled = cancellations.cancellations_of_case(ctx, case.id)
    return {
        "returns": returns,
        "under_way": any(r.status is None or r.status == "REQUESTED" for r in returns),
        "escort_words": {code: i18n._(ESCORT_LABELS[code]) for code in ESCORTS},
        "cancellations": cancelled,
        "cancel_refusals": {r.id: cancellations.refusal(r, cancelled.get(r.id)) for r in returns},
        "cancel_words": {code: i18n._(label) for code, label in CANCEL_REASONS.items()},
    }


RETURN = register_tab(
    CaseTab(
        id="ctm.return",
        label=i18n.N_("Return"),
        endpoint="ctm.returns",
        template="returns.html",
        field_group="return",
        load=_load,
    )
)


@page(RECORD + "/return", CASE_VIEW)
def returns(record_ref: str):  # noqa: ANN201
    return show(RETURN, record_ref)


@page(RECORD + "/return/bookings", CASE_VIEW)
def return_bookings(record_ref: str):  # noqa: ANN201
    """The tab's bookings alone (their statuses, the host's movement and legs: the ``return`` field group and
    nothing else of the case), for the tab's refresh while a booking is under way (ctm.js). Checked as the
    tab is; not audited again: the tab's view was (:func:`~ctm_plugin.services.cases.following`)."""
    ctx = current_context()
    try:
        with following(ctx, record_ref) as (_session, case):
            body = render(
                "_returns.html",
                case=case,
                ref=record_ref,
                form=FormState(),
                takes_changes=case.status not in CLOSED_STATUSES,
                **_bookings(ctx, case),
            )
    except NotFound:
        abort(404)
    return Response(body, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _book(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    # Airport codes are capitals; accept them typed in lower case.
    cleaned = {name: value.strip().upper() if name in AIRPORTS else value for name, value in data.items()}
    return service.book_return(ctx, case_id, cleaned)


@page(RECORD + "/return/book", RETURN_BOOK, methods=("POST",))
def book_return(record_ref: str):  # noqa: ANN201
    return submit(
        RETURN,
        record_ref,
        "book",
        ReturnBookingSchema,
        _book,
        i18n.N_("The return is requested: it is queued for the host, which books it."),
    )


@page(RECORD + f"/return/<{ROW_ID}:return_id>/cancel", RETURN_BOOK, methods=("POST",))
def cancel_return(record_ref: str, return_id: int):  # noqa: ANN201
    return submit(
        RETURN,
        record_ref,
        f"cancel-{return_id}",
        CancelReturnSchema,
        lambda ctx, case_id, data: cancellations.cancel_return(ctx, case_id, return_id, data),
        i18n.N_("The cancellation is queued for the host."),
    )
