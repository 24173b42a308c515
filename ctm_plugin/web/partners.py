"""Partners' pages: the mission administrator's list of partners, each partner's page (details, suspension,
credentials, agreements, exchanges), the agreement's drafting form, and HQ's approvals across its missions."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import abort, flash, redirect, url_for

from ctm_plugin import i18n
from ctm_plugin.domain.models import utcnow
from ctm_plugin.domain.partners import PURPOSES, SUSPENDED
from ctm_plugin.schemas.partners import (
    AGREEMENT_STATE,
    DIRECTION,
    FIELD,
    KIND,
    PURPOSE,
    STATUS,
    AgreementFormSchema,
    PartnerEditSchema,
    PartnerSchema,
    PartnerStatusSchema,
    consent_of,
    fields_of,
)
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import AGREEMENT_APPROVE, PARTNER_MANAGE
from ctm_plugin.services import partners as service
from ctm_plugin.services.base import Conflict, Invalid, NotFound
from ctm_plugin.web import ROW_ID, page, render
from ctm_plugin.web.forms import FormState, form_data
from mimosa_host.plugin_api import Page, current_context

MISSION_CODE = "string(minlength=2, maxlength=8)"
PARTNER = f"/partners/<{ROW_ID}:partner_id>"


def _words() -> dict[str, Any]:
    return {
        "kinds": KIND,
        "statuses": STATUS,
        "purposes": PURPOSE,
        "agreement_states": AGREEMENT_STATE,
        "directions": DIRECTION,
        "shareable": FIELD,
        "fields_of": fields_of,
        "consent_of": consent_of,
    }


def _list_page(state: FormState | None = None, status: int = 200) -> Page:
    try:
        rows = service.partners_of_mission(current_context())
    except NotFound:
        abort(404)
    body = render("partners.html", partners=rows, form=state or FormState(), **_words())
    return Page(title=i18n._("Partners"), body=body, status=status)


@page("/partners", PARTNER_MANAGE)
def partners_list():  # noqa: ANN201
    return _list_page()


@page("/partners", PARTNER_MANAGE, methods=("POST",))
def add_partner():  # noqa: ANN201
    data = form_data(PartnerSchema)
    try:
        partner_id = service.add_partner(current_context(), data)
    except Invalid as refused:
        return _list_page(FormState("partner", refused.errors, data), status=422)
    flash(i18n._("The partner is added: issue its credential and draft its sharing agreement."), "success")
    return redirect(url_for("ctm.partner_page", partner_id=partner_id), 303)


def _partner_page(
    partner_id: int, state: FormState | None = None, status: int = 200, issued: tuple[str, str] | None = None
) -> Page:
    try:
        file = service.partner_file(current_context(), partner_id)
    except NotFound:
        abort(404)
    body = render(
        "partner.html",
        file=file,
        now=utcnow(),
        issued=issued,
        form=state or FormState(),
        suspended=SUSPENDED,
        **_words(),
    )
    return Page(title=i18n._("Partner: %(name)s", name=file.partner.name), body=body, status=status)


@page(PARTNER, PARTNER_MANAGE)
def partner_page(partner_id: int):  # noqa: ANN201
    return _partner_page(partner_id)


def _change(partner_id: int, fname: str, data: dict[str, Any], call: Callable[[], object], done: str) -> Any:
    """Run ``call``: its refusal as the partner's page (422 naming the fields, 409 with the problem), or ``done``
    said on the partner's page, to which the answer redirects."""
    try:
        call()
    except NotFound:
        abort(404)
    except Invalid as refused:
        return _partner_page(partner_id, FormState(fname, refused.errors, data), status=422)
    except Conflict as refused:
        return _partner_page(partner_id, FormState(fname, {}, data, problem=refused.message), status=409)
    flash(done, "success")
    return redirect(url_for("ctm.partner_page", partner_id=partner_id), 303)


@page(PARTNER, PARTNER_MANAGE, methods=("POST",))
def edit_partner(partner_id: int):  # noqa: ANN201
    data = form_data(PartnerEditSchema)
    call = partial(service.edit_partner, current_context(), partner_id, data)
    return _change(partner_id, "details", data, call, i18n._("The partner's details are saved."))


@page(f"{PARTNER}/status", PARTNER_MANAGE, methods=("POST",))
def change_partner_status(partner_id: int):  # noqa: ANN201
    data = form_data(PartnerStatusSchema)
    call = partial(service.set_status, current_context(), partner_id, data)
    return _change(partner_id, "status", data, call, i18n._("The partner's access is changed."))


@page(f"{PARTNER}/credentials", PARTNER_MANAGE, methods=("POST",))
def issue_partner_credential(partner_id: int):  # noqa: ANN201
    """The new secret is on this answer's page only (the host sends every page ``no-store``): never in a
    redirect, a flash message (the session's cookie) or a log."""
    try:
        issued = service.issue_credential(current_context(), partner_id)
    except NotFound:
        abort(404)
    except Conflict as refused:
        return _partner_page(partner_id, FormState("credential", {}, {}, problem=refused.message), status=409)
    return _partner_page(partner_id, issued=issued)


@page(f"{PARTNER}/credentials/<{ROW_ID}:credential_id>/retire", PARTNER_MANAGE, methods=("POST",))
def retire_partner_credential(partner_id: int, credential_id: int):  # noqa: ANN201
    call = partial(service.retire_credential, current_context(), partner_id, credential_id)
    done = i18n._("The credential is retired: the partner service refuses it from now on.")
    return _change(partner_id, f"retire-{credential_id}", {}, call, done)


def _agreement_page(partner_id: int, state: FormState | None = None, status: int = 200) -> Page:
    try:
        file = service.partner_file(current_context(), partner_id)
    except NotFound:
        abort(404)
    start = file.draft or (file.agreements[0] if file.agreements else None)
    stored: dict[str, Any] = {}
    if start is not None:
        chosen = start.document.get("purposes", {})
        stored = {"purposes": list(chosen), "valid_from": start.valid_from, "valid_until": start.valid_until}
        for purpose, terms in chosen.items():
            stored[fields_of(purpose)], stored[consent_of(purpose)] = terms.get("fields", []), terms.get("consent")
    body = render(
        "agreement_form.html", file=file, stored=stored, all_purposes=PURPOSES, form=state or FormState(), **_words()
    )
    return Page(title=i18n._("Sharing agreement: %(name)s", name=file.partner.name), body=body, status=status)


@page(f"{PARTNER}/agreement", PARTNER_MANAGE)
def agreement_form(partner_id: int):  # noqa: ANN201
    return _agreement_page(partner_id)


@page(f"{PARTNER}/agreement", PARTNER_MANAGE, methods=("POST",))
def draft_agreement(partner_id: int):  # noqa: ANN201
    data = form_data(AgreementFormSchema)
    try:
        version = service.draft_agreement(current_context(), partner_id, data)
    except NotFound:
        abort(404)
    except Invalid as refused:
        return _agreement_page(partner_id, FormState("agreement", refused.errors, data), status=422)
    except Conflict as refused:
        return _agreement_page(partner_id, FormState("agreement", {}, data, problem=refused.message), status=409)
    flash(i18n._("Version %(version)s is drafted: it takes effect once HQ approves it.", version=version), "success")
    return redirect(url_for("ctm.partner_page", partner_id=partner_id), 303)


def _approvals_page(state: FormState | None = None, status: int = 200) -> Page:
    ctx = current_context()
    try:
        drafts = service.hq_drafts(ctx)
    except NotFound:
        abort(404)
    body = render("agreement_approvals.html", drafts=drafts, me=actor(ctx), form=state or FormState(), **_words())
    return Page(title=i18n._("Sharing agreements to approve"), body=body, status=status)


@page("/agreements/approvals", AGREEMENT_APPROVE)
def agreement_approvals():  # noqa: ANN201
    return _approvals_page()


@page(
    f"/agreements/approvals/<{MISSION_CODE}:agreement_mission>/<{ROW_ID}:agreement_id>/approve",
    AGREEMENT_APPROVE,
    methods=("POST",),
)
def approve_agreement(agreement_mission: str, agreement_id: int):  # noqa: ANN201
    try:
        version = service.approve_agreement(current_context(), agreement_mission, agreement_id)
    except NotFound:
        abort(404)
    except Conflict as refused:
        state = FormState(f"approve-{agreement_mission}-{agreement_id}", {}, {}, problem=refused.message)
        return _approvals_page(state, status=409)
    flash(i18n._("Version %(version)s of the agreement is approved.", version=version), "success")
    return redirect(url_for("ctm.agreement_approvals"), 303)
