"""The CT tabs and pages: a Flask blueprint whose views return ``Page`` for the host's frame.

Templates render in the CTM's own Jinja environment with the CTM's ``_``, so the
host's frame and the CTM's content each speak from their own catalog.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from jinja2 import Environment, PackageLoader, select_autoescape

from ctm_plugin import i18n
from ctm_plugin.hooks.tabs import CASE_TAB
from ctm_plugin.security.permissions import CASE_VIEW
from mimosa_host.plugin_api import Page, current_context

bp = Blueprint("ctm", __name__)

templates = Environment(
    loader=PackageLoader("ctm_plugin.web", "templates"),
    autoescape=select_autoescape(default=True),
    extensions=["jinja2.ext.i18n"],
)
# Jinja's new-style gettext formats the placeholders itself, escaping the values.
templates.install_gettext_callables(  # type: ignore[attr-defined]
    lambda message: i18n.translations(i18n.current_locale()).gettext(message),
    lambda singular, plural, n: i18n.translations(i18n.current_locale()).ngettext(singular, plural, n),
    newstyle=True,
)


def render(template: str, **values: Any) -> str:
    return templates.get_template(template).render(ctx=current_context(), **values)


def require(permission: str) -> None:
    """A page the user may not open does not exist for them: 404, never 403."""
    if not current_context().can(permission):
        abort(404)


@bp.route("/records/beneficiary/<ref>/case")
def case_overview(ref: str) -> Page:
    require(CASE_VIEW)
    return Page(
        title=i18n._("Counter-trafficking"),
        body=render("case_overview.html", beneficiary_id=ref),
        record_type="beneficiary",
        record_ref=ref,
        active_tab=CASE_TAB,
    )
