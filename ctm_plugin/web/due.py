"""What is due (the caseworker's list, with its count in the menu), follow-ups on the case overview,
a referral's answer on the Consent and referrals tab, and the people to screen."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from ctm_plugin import i18n
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.schemas.due import DismissCandidateSchema, FollowUpSchema, ReferralAnswerSchema, VersionOnlySchema
from ctm_plugin.security.permissions import CASE_EDIT
from ctm_plugin.services import due as service
from ctm_plugin.services import follow_ups, to_screen
from ctm_plugin.services.base import Conflict, Invalid, NotFound
from ctm_plugin.web import RECORD, ROW_ID, page, render
from ctm_plugin.web.case import OVERVIEW
from ctm_plugin.web.consent import CONSENT
from ctm_plugin.web.exchanges import HOST_ERRORS, HostTrouble, trouble_of
from ctm_plugin.web.forms import FormState, form_data
from ctm_plugin.web.pages import submit
from mimosa_host.plugin_api import Page, current_context


@page("/due", CASE_EDIT)
def due_list():  # noqa: ANN201
    mine = request.args.get("all") != "1"
    items = service.due_list(current_context(), mine=mine)
    kinds = {service.MONITORING: "monitoring"}
    body = render("due.html", items=items, mine=mine, kinds=kinds)
    return Page(title=i18n._("What is due"), body=body)


@page(RECORD + "/case/follow-ups", CASE_EDIT, methods=("POST",))
def add_follow_up(record_ref: str):  # noqa: ANN201
    return submit(
        OVERVIEW, record_ref, "follow-up", FollowUpSchema, follow_ups.add_follow_up, i18n.N_("The follow-up is added.")
    )


@page(RECORD + f"/case/follow-ups/<{ROW_ID}:follow_up_id>/done", CASE_EDIT, methods=("POST",))
def follow_up_done(record_ref: str, follow_up_id: int):  # noqa: ANN201
    return submit(
        OVERVIEW,
        record_ref,
        f"done-{follow_up_id}",
        VersionOnlySchema,
        lambda ctx, case_id, data: follow_ups.mark_done(ctx, case_id, follow_up_id, data),
        i18n.N_("The follow-up is done."),
    )


@page(RECORD + f"/consent/referrals/<{ROW_ID}:referral_id>/answer", CASE_EDIT, methods=("POST",))
def answer_referral(record_ref: str, referral_id: int):  # noqa: ANN201
    return submit(
        CONSENT,
        record_ref,
        f"answer-{referral_id}",
        ReferralAnswerSchema,
        lambda ctx, case_id, data: follow_ups.answer_referral(ctx, case_id, referral_id, data),
        i18n.N_("The referral's answer is recorded."),
    )


# -- people to screen ------------------------------------------------------------------------


def _to_screen_page(state: FormState | None = None, status: int = 200) -> Page:
    ctx = current_context()
    trouble: HostTrouble | None = None
    try:
        found = to_screen.candidates(ctx)
    except HOST_ERRORS as failed:
        trouble, found = trouble_of(failed), []
        status = trouble.status
    today = mission_today(ctx.settings)  # the day a case opened from here opens on, as the mission's users live it
    body = render("to_screen.html", candidates=found, form=state or FormState(), trouble=trouble, today=today)
    return Page(title=i18n._("People to screen"), body=body, status=status)


@page("/people/to-screen", CASE_EDIT)
def people_to_screen():  # noqa: ANN201
    return _to_screen_page()


@page(f"/people/to-screen/<{ROW_ID}:candidate_id>/dismiss", CASE_EDIT, methods=("POST",))
def dismiss_candidate(candidate_id: int):  # noqa: ANN201
    data = form_data(DismissCandidateSchema)
    name = f"dismiss-{candidate_id}"
    try:
        to_screen.dismiss(current_context(), candidate_id, data)
    except NotFound:
        abort(404)
    except Invalid as refused:
        return _to_screen_page(FormState(name, refused.errors, data), status=422)
    except Conflict as refused:
        return _to_screen_page(FormState(name, {}, data, problem=refused.message), status=409)
    flash(i18n._("The flag is dismissed."), "success")
    return redirect(url_for("ctm.people_to_screen"), 303)
