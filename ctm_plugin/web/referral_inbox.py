"""The inbox of referrals from partners (services/referral_inbox.py): the list, each referral's page with the
fields the partner sent, and the caseworker's decision: accept into a case (then link the case to the person's
host record, as a hand-over's) or decline with a reason the partner reads back."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for

from ctm_plugin import i18n
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.partner_service import ON_NO_RECORD
from ctm_plugin.schemas.partners import FIELD, PURPOSE
from ctm_plugin.schemas.people import LinkToHostSchema
from ctm_plugin.schemas.referral_inbox import AcceptReferralSchema, DeclineReferralSchema
from ctm_plugin.security.permissions import CASE_EDIT
from ctm_plugin.services import people
from ctm_plugin.services import referral_inbox as service
from ctm_plugin.services.base import NotFound
from ctm_plugin.web import ROW_ID, page, render
from ctm_plugin.web.exchanges import HostTrouble
from ctm_plugin.web.forms import FormState
from ctm_plugin.web.pages import decide
from mimosa_host.plugin_api import Page, RequestContext, current_context

REFERRAL = f"/referrals/<{ROW_ID}:referral_id>"
STATES = {
    "pending": i18n.N_("Waiting for a decision"),
    "accepted": i18n.N_("Accepted"),
    "declined": i18n.N_("Declined"),
}


def _words() -> dict[str, Any]:
    return {"purposes": PURPOSE, "shareable": FIELD, "states": STATES}


@page("/referrals", CASE_EDIT)
def referral_inbox():  # noqa: ANN201
    body = render("referral_inbox.html", received=service.inbox(current_context()), **_words())
    return Page(title=i18n._("Referrals from partners"), body=body)


def _referral_page(
    referral_id: int, state: FormState | None = None, status: int = 200, trouble: HostTrouble | None = None
) -> Page:
    ctx = current_context()
    try:
        seen = service.received(ctx, referral_id)
    except NotFound:
        abort(404)
    body = render(
        "referral_received.html",
        seen=seen,
        form=state or FormState(),
        today=mission_today(ctx.settings),
        on_no_record=ON_NO_RECORD,
        trouble=trouble,
        **_words(),
    )
    return Page(title=i18n._("Referral from %(partner)s", partner=seen.partner_name), body=body, status=status)


@page(REFERRAL, CASE_EDIT)
def referral_received(referral_id: int):  # noqa: ANN201
    return _referral_page(referral_id)


def _decide(referral_id: int, form: str, schema: type, use_case: Any, done: str, then: Any = None) -> Any:
    """:func:`pages.decide` on the referral's page, which it shows again after a success unless ``then``."""
    back = then or (lambda _result: url_for("ctm.referral_received", referral_id=referral_id))
    return decide(referral_id, form, schema, use_case, done, _referral_page, back)


@page(REFERRAL + "/accept", CASE_EDIT, methods=("POST",))
def accept_referral(referral_id: int):  # noqa: ANN201
    return _decide(
        referral_id,
        "accept",
        AcceptReferralSchema,
        service.accept,
        i18n.N_("The referral is accepted into a case: the partner reads it back as accepted."),
    )


@page(REFERRAL + "/decline", CASE_EDIT, methods=("POST",))
def decline_referral(referral_id: int):  # noqa: ANN201
    return _decide(
        referral_id,
        "decline",
        DeclineReferralSchema,
        service.decline,
        i18n.N_("The referral is declined: the partner reads the reason back."),
    )


def _link_referral_case(ctx: RequestContext, referral_id: int, data: dict[str, Any]) -> str:
    case = service.received(ctx, referral_id).case
    if case is None:
        raise NotFound
    return people.link_to_host(ctx, case.id, data)


@page(REFERRAL + "/link", CASE_EDIT, methods=("POST",))
def link_referral_case(referral_id: int):  # noqa: ANN201
    """The case opened for the referral joins the person's record in the host; its tabs open from there."""
    return _decide(
        referral_id,
        "link",
        LinkToHostSchema,
        _link_referral_case,
        i18n.N_("The case is linked to the host's record."),
        then=lambda beneficiary_id: url_for("ctm.case_overview", record_type="beneficiary", record_ref=beneficiary_id),
    )
