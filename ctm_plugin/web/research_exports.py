"""Research exports' pages: the researcher's requests (a form, and each request's state, report and one
download), and HQ's approvals across the missions of its scope."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, url_for

from ctm_plugin import i18n
from ctm_plugin.schemas.research import DECISION, LAYOUT, STATE, ExportDecisionSchema, ExportRequestSchema
from ctm_plugin.security.permissions import RESEARCH_APPROVE, RESEARCH_REQUEST
from ctm_plugin.services import research_exports as service
from ctm_plugin.services.base import Conflict, Invalid, NotFound
from ctm_plugin.web import ROW_ID, page, render
from ctm_plugin.web.forms import FormState, form_data
from mimosa_host.plugin_api import Page, current_context

MISSION_CODE = "string(minlength=2, maxlength=8)"


def _words() -> dict[str, Any]:
    return {"layouts": LAYOUT, "states": STATE, "decisions": DECISION}


def _requests_page(state: FormState | None = None, status: int = 200) -> Page:
    ctx = current_context()
    try:
        scope = service.request_scope(ctx)
        mine = service.my_exports(ctx)
    except NotFound:
        abort(404)
    missions = [(m.code, f"{m.code} — {m.name}") for m in scope]
    body = render(
        "research_exports.html",
        mine=mine,
        missions=missions,
        form=state or FormState(),
        request_again=service.RequestAgain.message,
        **_words(),
    )
    return Page(title=i18n._("Research exports"), body=body, status=status)


@page("/research/exports", RESEARCH_REQUEST)
def research_exports():  # noqa: ANN201
    return _requests_page()


@page("/research/exports", RESEARCH_REQUEST, methods=("POST",))
def request_research_export():  # noqa: ANN201
    data = form_data(ExportRequestSchema)
    try:
        service.request_export(current_context(), data)
    except NotFound:
        abort(404)
    except Invalid as refused:
        return _requests_page(FormState("export", refused.errors, data), status=422)
    flash(i18n._("The export is requested: HQ approves or declines it."), "success")
    return redirect(url_for("ctm.research_exports"), 303)


@page(f"/research/exports/<{ROW_ID}:export_id>/download", RESEARCH_REQUEST, methods=("POST",))
def download_research_export(export_id: int):  # noqa: ANN201
    """A POST, not a link: the download is the one use of the export, which no prefetch may spend."""
    try:
        name, text = service.download(current_context(), export_id)
    except NotFound:
        abort(404)
    except Invalid as refused:  # k no longer reachable: nothing produced
        state = FormState(f"download-{export_id}", {}, {}, problem=refused.errors["decision"][0])
        return _requests_page(state, status=422)
    except Conflict as refused:
        return _requests_page(FormState(f"download-{export_id}", {}, {}, problem=refused.message), status=409)
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _approvals_page(state: FormState | None = None, status: int = 200) -> Page:
    ctx = current_context()
    try:
        requests = service.hq_requests(ctx)
    except NotFound:
        abort(404)
    body = render("research_approvals.html", requests=requests, form=state or FormState(), **_words())
    return Page(title=i18n._("Research exports to approve"), body=body, status=status)


@page("/research/approvals", RESEARCH_APPROVE)
def research_approvals():  # noqa: ANN201
    return _approvals_page()


@page(
    f"/research/approvals/<{MISSION_CODE}:export_mission>/<{ROW_ID}:export_id>/decision",
    RESEARCH_APPROVE,
    methods=("POST",),
)
def decide_research_export(export_mission: str, export_id: int):  # noqa: ANN201
    data = form_data(ExportDecisionSchema)
    fname = f"decision-{export_mission}-{export_id}"
    try:
        status = service.decide(current_context(), export_mission, export_id, data)
    except NotFound:
        abort(404)
    except Invalid as refused:
        return _approvals_page(FormState(fname, refused.errors, data), status=422)
    except Conflict as refused:
        return _approvals_page(FormState(fname, {}, data, problem=refused.message), status=409)
    flash(i18n._("The export is approved.") if status == "approved" else i18n._("The export is declined."), "success")
    return redirect(url_for("ctm.research_approvals"), 303)
