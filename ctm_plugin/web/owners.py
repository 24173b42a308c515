"""The supervisor's page to move every open case of one caseworker to another (staff leave), after a
confirmation saying how many cases move (the form checked first: no confirmation of moving nothing)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, url_for

from ctm_plugin import i18n
from ctm_plugin.schemas.case import ReassignAllSchema
from ctm_plugin.security.permissions import CASE_SUPERVISE
from ctm_plugin.services import owners
from ctm_plugin.services.base import Conflict, Invalid
from ctm_plugin.web import page, render
from ctm_plugin.web.forms import FormState, form_data
from mimosa_host.plugin_api import Page, current_context


def _page(state: FormState | None = None, status: int = 200, **extra: Any) -> Page:
    ctx = current_context()
    names = owners.owner_names(ctx)
    owned = owners.owners_of_open_cases(ctx, shown=True)
    body = render(
        "cases_reassign.html",
        form=state or FormState(),
        owners=owned,
        from_choices=[(username, names(username)) for username, _count in owned],
        to_choices=list(names.items()),
        owner_name=names,
        **extra,
    )
    return Page(title=i18n._("Reassign cases"), body=body, status=status)


@page("/cases/reassign", CASE_SUPERVISE)
def reassign_cases():  # noqa: ANN201
    return _page()


@page("/cases/reassign", CASE_SUPERVISE, methods=("POST",))
def reassign_all():  # noqa: ANN201
    data = form_data(ReassignAllSchema)
    ctx = current_context()
    try:
        if not data.get("confirmed"):
            return _page(FormState("reassign", {}, data), confirming=owners.cases_to_move(ctx, data))
        moved = owners.reassign_all(ctx, data)
    except Invalid as refused:
        return _page(FormState("reassign", refused.errors, data), status=422)
    except Conflict:  # someone saved one of the cases meanwhile: none moved
        return _page(FormState("reassign", {}, data, problem=owners.SAVED_MEANWHILE), status=409)
    flash(i18n._("Cases moved to their new owner: %(count)d.", count=moved), "success")
    return redirect(url_for("ctm.reassign_cases"), 303)
