"""The case overview tab: open a case, the person's profile, the victim context, close (after a
confirmation; with a supervisor's approval where the mission wants it) and reopen, its owner by name
and a supervisor's reassigning,
and the host record: how the case stands with the host's beneficiary, and refreshing from it."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, url_for
from sqlalchemy.orm import Session, joinedload

from ctm_plugin import i18n
from ctm_plugin.domain.case import APPROVED, REFUSED, Case
from ctm_plugin.domain.retrafficking import STATES as RETRAFFICKING_STATES
from ctm_plugin.schemas.case import (
    CLOSED_STATUSES,
    CloseCaseSchema,
    ClosureDecisionSchema,
    OpenCaseSchema,
    PersonSchema,
    ReassignSchema,
    ReopenCaseSchema,
    VictimContextSchema,
)
from ctm_plugin.schemas.mission_settings import case_close_requires_approval
from ctm_plugin.schemas.people import PushSchema
from ctm_plugin.security.permissions import CASE_EDIT, CASE_SUPERVISE, CASE_VIEW
from ctm_plugin.services import cases, follow_ups, owners, people, retrafficking
from ctm_plugin.services.base import Conflict, Invalid, NotFound, case_id_for
from ctm_plugin.services.host import MappingMismatch
from ctm_plugin.web import RECORD, page
from ctm_plugin.web.exchanges import HOST_ERRORS, trouble_of
from ctm_plugin.web.forms import FormState, form_data
from ctm_plugin.web.pages import CaseTab, register_tab, show, submit
from mimosa_host.plugin_api import current_context


def _load(session: Session, case: Case) -> dict[str, Any]:
    ctx = current_context()
    names = owners.owner_names(ctx)
    decision, closure, link = cases.overview(session, case.id)
    return {
        "decision": decision,
        "closed": case.status in CLOSED_STATUSES,
        "closing_statuses": CLOSED_STATUSES,
        "link": link,
        "closure": closure,
        "needs_approval": case_close_requires_approval(ctx.settings),
        "owner_name": names,
        "owner_choices": list(names.items()) if ctx.can(CASE_SUPERVISE) else [],
        "follow_ups": follow_ups.follow_ups_of_case(session, case.id),
        "caseworkers": list(names.items()),
        "retrafficking_flags": retrafficking.flags_for_case(session, ctx, case.id),
        "retrafficking_states": RETRAFFICKING_STATES,
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
        # What the tab shows of the case itself, read with it (one statement, not one per part).
        options=(joinedload(Case.person), joinedload(Case.victim), joinedload(Case.handovers)),
        beside=cases.overview_beside(),  # the determination, the request to close, the host link
    )
)


@page(RECORD + "/case", CASE_VIEW)
def case_overview(record_ref: str):  # noqa: ANN201
    return show(OVERVIEW, record_ref)


@page(RECORD + "/case/open", CASE_EDIT, methods=("POST",))
def open_case(record_ref: str):  # noqa: ANN201
    """Open the case filled from the host's record; if the host cannot answer now, open it anyway."""
    data = form_data(OpenCaseSchema)
    ctx = current_context()
    try:
        try:
            people.open_from_host(ctx, record_ref, data)
            done = i18n._("The case is open, with what the host's record holds.")
        except HOST_ERRORS:
            cases.open_case(ctx, record_ref, data)
            done = i18n._("The case is open. The host could not be asked for its record: refresh from the host later.")
    except MappingMismatch as mismatch:
        trouble = trouble_of(mismatch)
        return show(OVERVIEW, record_ref, FormState("open", {}, data), status=trouble.status, trouble=trouble)
    except Invalid as refused:
        return show(OVERVIEW, record_ref, FormState("open", refused.errors, data), status=422)
    flash(done, "success")
    return redirect(url_for(OVERVIEW.endpoint, record_type="beneficiary", record_ref=record_ref), 303)


@page(RECORD + "/case/person", CASE_EDIT, methods=("POST",))
def edit_person(record_ref: str):  # noqa: ANN201
    return submit(OVERVIEW, record_ref, "person", PersonSchema, cases.update_person, i18n.N_("Saved."))


@page(RECORD + "/case/victim", CASE_EDIT, methods=("POST",))
def edit_victim(record_ref: str):  # noqa: ANN201
    return submit(OVERVIEW, record_ref, "victim", VictimContextSchema, cases.update_victim, i18n.N_("Saved."))


CLOSED_OR_REQUESTED = {
    cases.CLOSED: i18n.N_("The case is closed."),
    cases.REQUESTED: i18n.N_("Your request to close the case is waiting for a supervisor's approval."),
}


@page(RECORD + "/case/close", CASE_EDIT, methods=("POST",))
def close_case(record_ref: str):  # noqa: ANN201
    """First the form is checked and a confirmation naming the case shown; only its confirmed post closes."""
    data = form_data(CloseCaseSchema)
    if not data.get("confirmed"):
        try:
            cases.check_closing(current_context(), case_id_for(current_context(), record_ref), data)
        except NotFound:
            abort(404)
        except Invalid as refused:
            return show(OVERVIEW, record_ref, FormState("close", refused.errors, data), status=422)
        except Conflict as stale:
            return show(OVERVIEW, record_ref, FormState("close", {}, data, problem=stale.message), status=409)
        return show(OVERVIEW, record_ref, FormState("close", {}, data), confirming=True)
    return submit(OVERVIEW, record_ref, "close", CloseCaseSchema, cases.close_case, CLOSED_OR_REQUESTED.__getitem__)


DECIDED = {
    APPROVED: i18n.N_("The request is approved: the case is closed."),
    REFUSED: i18n.N_("The request is refused: the case stays open."),
}


@page(RECORD + "/case/closure", CASE_SUPERVISE, methods=("POST",))
def decide_closure(record_ref: str):  # noqa: ANN201
    return submit(OVERVIEW, record_ref, "closure", ClosureDecisionSchema, cases.decide_closure, DECIDED.__getitem__)


@page(RECORD + "/case/owner", CASE_SUPERVISE, methods=("POST",))
def reassign_case(record_ref: str):  # noqa: ANN201
    return submit(OVERVIEW, record_ref, "owner", ReassignSchema, owners.reassign, i18n.N_("The case has a new owner."))


@page(RECORD + "/case/reopen", CASE_EDIT, methods=("POST",))
def reopen_case(record_ref: str):  # noqa: ANN201
    return submit(
        OVERVIEW, record_ref, "reopen", ReopenCaseSchema, cases.reopen_case, i18n.N_("The case is open again.")
    )


@page(RECORD + "/case/push", CASE_EDIT, methods=("POST",))
def push_to_host(record_ref: str):  # noqa: ANN201
    """Queue an update of the host's record with the case's person fields (or keep them over a conflict)."""
    return submit(
        OVERVIEW, record_ref, "push", PushSchema, people.push, i18n.N_("Queued: the host's record will be updated.")
    )


@page(RECORD + "/case/refresh", CASE_EDIT, methods=("POST",))
def refresh_from_host(record_ref: str):  # noqa: ANN201
    """Bring the host's current record into the case; the overview then shows what changed."""
    ctx = current_context()
    try:
        changes = people.refresh(ctx, case_id_for(ctx, record_ref))
    except NotFound:
        abort(404)
    except MappingMismatch as mismatch:
        trouble = trouble_of(mismatch)
        return show(OVERVIEW, record_ref, FormState("refresh"), status=trouble.status, trouble=trouble)
    except Invalid as refused:
        return show(OVERVIEW, record_ref, FormState("refresh", refused.errors), status=422)
    except Conflict:
        return show(OVERVIEW, record_ref, FormState("refresh", problem=Conflict.message), status=409)
    except HOST_ERRORS as failed:
        trouble = trouble_of(failed)
        return show(OVERVIEW, record_ref, FormState("refresh"), status=trouble.status, trouble=trouble)
    if changes:
        flash(
            i18n._("Refreshed from the host. Fields changed: %(count)d (see Host record).", count=len(changes)),
            "success",
        )
    else:
        flash(i18n._("Refreshed from the host: nothing had changed."), "success")
    return redirect(url_for(OVERVIEW.endpoint, record_type="beneficiary", record_ref=record_ref), 303)
