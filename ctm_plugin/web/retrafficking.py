"""Re-trafficking: HQ's page of the matches across its missions, each explained in words (never the document's
number, never a name), confirmed or dismissed with a reason."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_decimal
from flask import abort, flash, redirect, request, url_for

from ctm_plugin import i18n
from ctm_plugin.domain.retrafficking import EXPLANATIONS, NAME_SIMILAR, STATES
from ctm_plugin.schemas.retrafficking import DECISION, MatchDecisionSchema
from ctm_plugin.security.permissions import RETRAFFICKING_REVIEW
from ctm_plugin.services import retrafficking as service
from ctm_plugin.services.base import Conflict, Invalid, NotFound
from ctm_plugin.web import ROW_ID, page, render
from ctm_plugin.web.forms import FormState, form_data
from mimosa_host.plugin_api import Page, current_context


def explained(match: service.SeenMatch) -> str:
    """The match's evidence in the reader's words: "same travel document number", "name 0.94 similar, ..."."""
    score = format_decimal(match.score, format="0.00", locale=i18n.current_locale())
    return ", ".join(
        i18n._(EXPLANATIONS[code], score=score) if code == NAME_SIMILAR else i18n._(EXPLANATIONS[code])
        for code in match.codes
        if code in EXPLANATIONS
    )


def decision_form(match_id: int) -> str:
    return f"decision-{match_id}"


def _matches_page(state: FormState | None = None, status: int = 200) -> Page:
    ctx = current_context()
    shown = request.args.get("status")
    shown = shown if shown in STATES else None
    try:
        matches = service.hq_matches(ctx, shown)
    except NotFound:
        abort(404)
    body = render(
        "retrafficking.html",
        matches=matches,
        shown_status=shown,
        statuses=STATES,
        decisions=DECISION,
        explained=explained,
        decision_form=decision_form,
        form=state or FormState(),
    )
    return Page(title=i18n._("Re-trafficking"), body=body, status=status)


@page("/retrafficking", RETRAFFICKING_REVIEW)
def retrafficking_matches():  # noqa: ANN201
    return _matches_page()


@page(f"/retrafficking/<{ROW_ID}:match_id>/decision", RETRAFFICKING_REVIEW, methods=("POST",))
def decide_match(match_id: int):  # noqa: ANN201
    data: dict[str, Any] = form_data(MatchDecisionSchema)
    try:
        service.decide(current_context(), match_id, data)
    except NotFound:
        abort(404)
    except Invalid as refused:
        return _matches_page(FormState(decision_form(match_id), refused.errors, data), status=422)
    except Conflict as refused:
        return _matches_page(FormState(decision_form(match_id), {}, data, problem=refused.message), status=409)
    flash(i18n._("The decision is recorded."), "success")
    return redirect(url_for("ctm.retrafficking_matches"), 303)
