"""Who saw what: a case's audit trail, the mission's (filtered, paged, as CSV), and the case summary
for print, whose opening is itself audited."""

from __future__ import annotations

import tempfile
from typing import Any

from flask import Response, abort, request

from ctm_plugin import i18n
from ctm_plugin.domain.models import utcnow
from ctm_plugin.schemas.audit import TrailFilterSchema
from ctm_plugin.security.audit import actor
from ctm_plugin.security.audit_actions import action_choices, action_label, group_label
from ctm_plugin.security.permissions import AUDIT_VIEW, CASE_VIEW
from ctm_plugin.services import audit_chain, audit_trail, owners
from ctm_plugin.services.base import Invalid, NotFound
from ctm_plugin.services.cases import viewing
from ctm_plugin.services.screening import latest_determination
from ctm_plugin.web import RECORD, page, person, render
from ctm_plugin.web.forms import FormState
from mimosa_host.plugin_api import Page, current_context

FILTERS = tuple(TrailFilterSchema().fields)
PRINTED_GROUPS = ("case", "person", "victim", "determination")
"""What the printed summary shows (identity too, for a user who may see it): the overview's groups."""
SPOOLED = 4 * 1024 * 1024
"""Bytes of an export kept in memory before it spills to a temporary file."""
CHUNK = 64 * 1024


def _asked(*names: str) -> dict[str, str]:
    """The query's values the schema reads; anything else in the query is ignored, not refused."""
    return {name: request.args[name] for name in names if name in request.args}


@page(RECORD + "/audit", AUDIT_VIEW)
def case_audit_trail(record_ref: str):  # noqa: ANN201
    try:
        case_number, trail = audit_trail.case_trail(current_context(), record_ref, _asked("before"))
    except (NotFound, Invalid):  # a page id that is not a number is no page of this trail
        abort(404)
    body = render(
        "audit_case.html",
        case_number=case_number,
        trail=trail,
        ref=record_ref,
        action_label=action_label,
        group_label=group_label,
    )
    return Page(
        title=i18n._("Audit trail of case %(number)s", number=case_number),
        body=body,
        record_type="beneficiary",
        record_ref=record_ref,
    )


@page("/audit", AUDIT_VIEW)
def audit_trail_page():  # noqa: ANN201
    asked = _asked(*FILTERS)
    trail, errors, status = None, {}, 200
    try:
        trail = audit_trail.mission_trail(current_context(), asked)
    except Invalid as refused:
        errors, status = refused.errors, 422
    return _mission_page(asked, trail, errors, status)


@page("/audit/verify", AUDIT_VIEW, methods=("POST",))
def audit_chain_verify():  # noqa: ANN201
    """The mission's chain walked whole, now (on demand: a walk reads every event), then the trail's first page."""
    ctx = current_context()
    chain = audit_chain.verify_chain(ctx)
    return _mission_page({}, audit_trail.mission_trail(ctx, {}), {}, 200, chain)


def _mission_page(
    asked: dict[str, str], trail: Any, errors: dict[str, list[str]], status: int, chain: Any = None
) -> Page:
    filters = {name: value for name, value in asked.items() if name != "before"}
    body = render(
        "audit_mission.html",
        chain=chain,
        chain_problem=chain.broken.text(i18n._) if chain and chain.broken else None,
        trail=trail,
        form=FormState("trail", errors, asked),
        filters=filters,
        actions=action_choices(),
        action_label=action_label,
        group_label=group_label,
    )
    return Page(title=i18n._("Audit trail"), body=body, status=status)


@page("/audit.csv", AUDIT_VIEW)
def audit_trail_csv():  # noqa: ANN201
    """The filtered trail as a CSV download, sent in chunks.

    The host gives the request's database connection back once the view returns, so the rows are read
    here, a batch at a time, into a spooled file (in memory up to :data:`SPOOLED`, then a temporary file
    deleted when the response closes); the answer then streams from it, however long the trail.
    """
    ctx = current_context()
    asked = _asked(*FILTERS)
    try:
        lines = audit_trail.export_csv(ctx, asked)
    except Invalid as refused:
        return _mission_page(asked, None, refused.errors, 422)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOLED)  # noqa: SIM115 - closed with the response
    spool.write("\ufeff".encode())  # a spreadsheet reads the file as UTF-8 when it starts with the mark
    for line in lines:
        spool.write(line.encode())
    spool.seek(0)
    name = f"audit-trail-{ctx.mission.code}-{utcnow():%Y%m%d-%H%M%S}.csv"
    response = Response(
        iter(lambda: spool.read(CHUNK), b""),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
    response.call_on_close(spool.close)
    return response


@page(RECORD + "/print", CASE_VIEW)
def case_print(record_ref: str):  # noqa: ANN201
    """The case's summary for print; opening it is audited as ``case.print`` with the groups shown."""
    ctx = current_context()
    try:
        with viewing(ctx, record_ref, *PRINTED_GROUPS, action="case.print") as (session, case):
            if case is None:
                raise NotFound
            body = render(
                "case_print.html",
                case=case,
                ref=record_ref,
                decision=latest_determination(session, case.id),
                owner_name=owners.owner_names(ctx),
                printed_by=person(actor(ctx)),
                printed_at=utcnow(),
            )
            title = i18n._("Case summary %(number)s", number=case.case_number)
    except NotFound:
        abort(404)
    return Page(title=title, body=body)
