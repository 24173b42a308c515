"""The integrators' synchronisation page: the mission's outbox, what needs attention, retry and discard.

It shows what the exchange with the host needs and nothing of a case but its number (a link to
the case only for a user who may view cases). Retry and discard, of one message or of all that a
filter selects (after a confirmation screen naming how many), are audited by the service.
Discarding a message the host may hold asks the host first: if it holds it, it is adopted.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from marshmallow import fields, validate

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.sync import OUT_DEAD, OUT_DONE, OUT_FAILED, OUT_UNKNOWN, OUTBOX_OPEN, OUTBOX_STATUSES
from ctm_plugin.schemas.base import NOT_IN_LIST, FormSchema, number, text
from ctm_plugin.security.permissions import SYNC_MANAGE, SYNC_VIEW
from ctm_plugin.services import job_outcomes
from ctm_plugin.services import outbox as service
from ctm_plugin.services.base import Conflict, Invalid, NotFound, load
from ctm_plugin.web import ROW_ID, page, render
from ctm_plugin.web.exchanges import HOST_ERRORS, OPERATIONS, PENDING_PREFIX, operation_words, outbox_words
from ctm_plugin.web.forms import FormState, form_data
from mimosa_host.plugin_api import Page, current_context

ATTENTION = (OUT_FAILED, OUT_DEAD, OUT_UNKNOWN)
"""States an integrator should look at, in the order the table lists them."""
RECENT = 50
"""How many of the other messages the page lists, newest first."""

REFUSED_RETRY = i18n.N_("This message cannot be sent again: it is no longer failed or undeliverable.")
REFUSED_DISCARD = i18n.N_("This message cannot be discarded any more.")
CHANGED = i18n.N_("The message changed while you were looking at it. Reload the page and try again.")
NOT_ASKED = i18n.N_(
    "The host could not be asked whether it already holds this message, so it was not discarded. Try again later."
)
ADOPTED = i18n.N_("The host already holds this message: it is kept as delivered, not discarded.")
TOO_MANY_HOURS = i18n.N_("Enter a number of hours between 1 and 87600.")
BULK_DONE = i18n.N_(
    "Done: %(retried)d sent again, %(discarded)d discarded, %(adopted)d found at the host and kept as delivered, "
    "%(kept)d kept (the host could not be asked), %(skipped)d no longer applicable."
)


def _listed(values: tuple[str, ...]) -> fields.List:
    return fields.List(
        fields.String(error_messages={"invalid": NOT_IN_LIST}),
        load_default=list,
        validate=validate.ContainsOnly(values, error=NOT_IN_LIST),
        error_messages={"invalid": NOT_IN_LIST},
    )


class BulkSelectionSchema(FormSchema):
    """The filters of a bulk retry or discard; none given selects every message the action applies to."""

    action = fields.String(
        required=True,
        validate=validate.OneOf(tuple(service.ACTIONS), error=NOT_IN_LIST),
        error_messages={"required": NOT_IN_LIST, "invalid": NOT_IN_LIST},
    )
    status = _listed(service.DISCARDABLE)
    operation = _listed(tuple(OPERATIONS))
    older_than_hours = number(1, 87600, TOO_MANY_HOURS)
    case = text(40)


def _selection(values: dict) -> service.Selection:
    hours = values.get("older_than_hours")
    return service.Selection(
        statuses=tuple(values["status"]),
        operations=tuple(values["operation"]),
        older_than=timedelta(hours=hours) if hours else None,
        case_number=values.get("case"),
    )


def _page(problem: str | None = None, status: int = 200, form: FormState | None = None) -> Page:
    ctx = current_context()
    rows = service.messages(ctx)
    counts = Counter(message.status for message in rows)
    order = {state: index for index, state in enumerate(ATTENTION)}
    attention = sorted((m for m in rows if m.status in ATTENTION), key=lambda m: (order[m.status], -m.id))
    recent = [m for m in rows if m.status not in ATTENTION][:RECENT]
    case_ids = {m.case_id for m in (*attention, *recent)}
    with mission_session(ctx) as session:
        cases = {
            case_id: (number, None if beneficiary_id.startswith(PENDING_PREFIX) else beneficiary_id)
            for case_id, number, beneficiary_id in session.execute(
                sa.select(Case.id, Case.case_number, Case.beneficiary_id).where(Case.id.in_(case_ids))
            )
        }
    body = render(
        "sync.html",
        form=form or (FormState("sync", problem=problem) if problem else FormState()),
        counts=counts,
        states=OUTBOX_STATUSES,
        attention_states=ATTENTION,
        open_states=OUTBOX_OPEN,
        attention=attention,
        recent=recent,
        recent_limit=RECENT,
        cases=cases,
        retryable=service.RETRYABLE_BY_HAND,
        discardable=service.DISCARDABLE,
        failing_jobs=[(job, job_outcomes.problem(job).message) for job in job_outcomes.failing(ctx)],
        job_names=job_outcomes.JOBS,
        bulk_states=[(state, outbox_words(state)) for state in service.DISCARDABLE],
        bulk_operations=[(name, operation_words(name)) for name in OPERATIONS],
    )
    return Page(title=i18n._("Synchronisation with the host"), body=body, status=status)


@page("/sync", SYNC_VIEW)
def sync():  # noqa: ANN201
    return _page()


def _act(action, message_id: int, refused: str, done: str):  # noqa: ANN001, ANN202
    try:
        outcome = action(current_context(), message_id)
    except NotFound:
        abort(404)
    except service.Refused:
        return _page(refused, status=409)
    except Conflict:
        return _page(CHANGED, status=409)
    except HOST_ERRORS:
        return _page(NOT_ASKED, status=503)
    flash(i18n._(ADOPTED if outcome == OUT_DONE else done), "success")
    return redirect(url_for("ctm.sync"), 303)


@page(f"/sync/<{ROW_ID}:message_id>/retry", SYNC_MANAGE, methods=("POST",))
def retry_message(message_id: int):  # noqa: ANN201
    return _act(service.retry, message_id, REFUSED_RETRY, i18n.N_("The message will be sent again."))


@page(f"/sync/<{ROW_ID}:message_id>/discard", SYNC_MANAGE, methods=("POST",))
def discard_message(message_id: int):  # noqa: ANN201
    return _act(service.discard, message_id, REFUSED_DISCARD, i18n.N_("The message is discarded: it will not be sent."))


@page("/sync/bulk/confirm", SYNC_MANAGE, methods=("POST",))
def confirm_bulk():  # noqa: ANN201
    """The confirmation screen of a bulk action: how many messages the filters select, and which."""
    ctx = current_context()
    data = form_data(BulkSelectionSchema)
    try:
        values = load(BulkSelectionSchema(), data)
    except Invalid as refused:
        return _page(status=422, form=FormState("bulk", refused.errors, data))
    ids = service.select(ctx, values["action"], _selection(values))
    rows = service.messages(ctx, ids=ids, limit=len(ids)) if ids else []
    body = render("sync_confirm.html", form=FormState(), action=values["action"], rows=rows, limit=service.BULK_LIMIT)
    return Page(title=i18n._("Synchronisation with the host"), body=body)


@page("/sync/bulk", SYNC_MANAGE, methods=("POST",))
def apply_bulk():  # noqa: ANN201
    """Retry or discard the messages the confirmation screen named (those still in a state it applies to)."""
    action = request.form.get("action")
    if action not in service.ACTIONS:
        abort(400)  # the confirmation screen sends one; anything else was not made by it
    ids = []
    for value in request.form.getlist("message")[: service.BULK_LIMIT]:
        if not value.isdigit() or not 0 < int(value) <= 2147483647:
            abort(404)
        ids.append(int(value))
    outcomes = service.apply_to(current_context(), action, ids)
    counts = {key: outcomes.get(key, 0) for key in ("retried", "discarded", "adopted", "kept", "skipped")}
    flash(i18n._(BULK_DONE, **counts), "success")
    return redirect(url_for("ctm.sync"), 303)
