"""The integrators' synchronisation page: the mission's outbox, what needs attention, retry and discard.

It shows what the exchange with the host needs and nothing of a case but its number (a link to
the case only for a user who may view cases). Retry and discard are audited by the service.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.sync import OUT_DEAD, OUT_FAILED, OUT_UNKNOWN, OUTBOX_OPEN, OUTBOX_STATUSES
from ctm_plugin.security.permissions import SYNC_MANAGE, SYNC_VIEW
from ctm_plugin.services import job_outcomes
from ctm_plugin.services import outbox as service
from ctm_plugin.services.base import Conflict, NotFound
from ctm_plugin.web import ROW_ID, page, render
from ctm_plugin.web.exchanges import PENDING_PREFIX
from ctm_plugin.web.forms import FormState
from mimosa_host.plugin_api import Page, current_context

ATTENTION = (OUT_FAILED, OUT_DEAD, OUT_UNKNOWN)
"""States an integrator should look at, in the order the table lists them."""
RECENT = 50
"""How many of the other messages the page lists, newest first."""

REFUSED_RETRY = i18n.N_("This message cannot be sent again: it is no longer failed or undeliverable.")
REFUSED_DISCARD = i18n.N_("This message cannot be discarded any more.")
CHANGED = i18n.N_("The message changed while you were looking at it. Reload the page and try again.")


def _page(problem: str | None = None, status: int = 200) -> Page:
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
        form=FormState("sync", problem=problem) if problem else FormState(),
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
    )
    return Page(title=i18n._("Synchronisation"), body=body, status=status)


@page("/sync", SYNC_VIEW)
def sync():  # noqa: ANN201
    return _page()


def _act(action, message_id: int, refused: str, done: str):  # noqa: ANN001, ANN202
    try:
        action(current_context(), message_id)
    except NotFound:
        abort(404)
    except service.Refused:
        return _page(refused, status=409)
    except Conflict:
        return _page(CHANGED, status=409)
    flash(i18n._(done), "success")
    return redirect(url_for("ctm.sync"), 303)


@page(f"/sync/<{ROW_ID}:message_id>/retry", SYNC_MANAGE, methods=("POST",))
def retry_message(message_id: int):  # noqa: ANN201
    return _act(service.retry, message_id, REFUSED_RETRY, i18n.N_("The message will be sent again."))


@page(f"/sync/<{ROW_ID}:message_id>/discard", SYNC_MANAGE, methods=("POST",))
def discard_message(message_id: int):  # noqa: ANN201
    return _act(service.discard, message_id, REFUSED_DISCARD, i18n.N_("The message is discarded: it will not be sent."))
