"""The integrators' mapping page: the mappings in force in the mission and its override document.

Holders of ``ctm.mapping.manage`` read and save the mission's overrides here. The mapping engine
checks a document before it is saved: a bad one is refused with each problem's file, field and
line, and the one in force stays. Each save is a new revision, kept and audited (services/host.py).
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from ctm_plugin import i18n
from ctm_plugin.mappings.engine import effective_mappings
from ctm_plugin.security.permissions import MAPPING_MANAGE
from ctm_plugin.services import host as service
from ctm_plugin.services.base import Invalid
from ctm_plugin.web import page, render
from ctm_plugin.web.forms import FormState
from mimosa_host.plugin_api import Page, current_context

HISTORY = 20
"""How many earlier revisions the page lists."""


def _page(state: FormState | None = None, status: int = 200) -> Page:
    history = service.override_history(current_context())
    in_force = history[0] if history else None
    body = render(
        "mappings.html",
        form=state or FormState(),
        in_force=in_force,
        mappings=effective_mappings(in_force.document if in_force else None),
        history=history[:HISTORY],
    )
    return Page(title=i18n._("Mappings with the host"), body=body, status=status)


@page("/mappings", MAPPING_MANAGE)
def mappings():  # noqa: ANN201
    return _page()


@page("/mappings", MAPPING_MANAGE, methods=("POST",))
def save_overrides():  # noqa: ANN201
    document = request.form.get("document", "")
    try:
        saved = service.save_overrides(current_context(), document)
    except Invalid as refused:
        return _page(FormState("overrides", refused.errors, {"document": document}), status=422)
    flash(i18n._("The overrides are saved: revision %(revision)s is in force.", revision=saved.revision), "success")
    return redirect(url_for("ctm.mappings"), 303)
