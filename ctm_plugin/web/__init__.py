"""The CT tabs: a Flask blueprint whose views return ``Page`` for the host's frame.

Every route is declared with :func:`page`, which names the permission it needs and
refuses (404, never 403) before the view runs; a test checks that no route escapes it.
Templates render in the CTM's own Jinja environment with the CTM's ``_``, so the host's
frame and the CTM's content each speak from their own catalog.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, abort, g, url_for
from jinja2 import Environment, PackageLoader, UndefinedError, select_autoescape
from markupsafe import Markup, escape

from ctm_plugin import i18n
from ctm_plugin.codelists import all_lists
from ctm_plugin.domain import palermo
from ctm_plugin.security import permissions
from ctm_plugin.web import dates
from mimosa_host.plugin_api import current_context

bp = Blueprint("ctm", __name__, static_folder="static")

RECORD = "/records/<any(beneficiary):record_type>/<record_ref>"
"""Routes of a beneficiary's tabs: the host checks the record is in the mission before the view runs."""

ROW_ID = "int(min=1, max=2147483647)"
"""The converter of a row id in a route: an id beyond an integer column's range is 404 at once
(SQLite's driver cannot even bind one beyond 64 bits)."""

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


def choices_of(options: Any) -> list[tuple[str, str]]:
    """What a select or a group of checkboxes lists: a code list's choices, or (value, text) pairs."""
    return options.choices() if hasattr(options, "choices") else list(options)


@functools.lru_cache(maxsize=256)
def _escaped_list(options: Any, _locale: str) -> tuple[tuple[Any, str, str], ...]:
    """A code list's choices with code and label escaped, by list and language: built once, not on every form."""
    return tuple((code, str(escape(code)), str(escape(text))) for code, text in options.choices())


def _escaped_choices(options: Any) -> Sequence[tuple[Any, str, str]]:
    """(code, escaped code, escaped label) of :func:`choices_of`, as the template's autoescaping writes them."""
    if hasattr(options, "choices"):
        return _escaped_list(options, i18n.current_locale())
    return [(code, str(escape(code)), str(escape(text))) for code, text in options]


def _option(code: str, text: str, selected: bool) -> str:
    return f'\n    <option value="{code}"{" selected" if selected else ""}>{text}</option>'


@functools.lru_cache(maxsize=256)
def _options_of_list(options: Any, locale: str) -> tuple[list[str], dict[Any, list[int]]]:
    """A code list's options, none selected, by list and language; and where each code's option is."""
    escaped = _escaped_list(options, locale)
    where: dict[Any, list[int]] = {}
    for n, (raw, _code, _text) in enumerate(escaped):
        where.setdefault(raw, []).append(n)
    return [_option(code, text, False) for _raw, code, text in escaped], where


def option_tags(options: Any, chosen: Any, several: bool = False) -> Markup:
    """A select's options (after its blank one): ``chosen`` is the value, or with ``several`` the values, selected.

    Hundreds of options on a form (countries, languages): a code list's are written once per language, from
    labels escaped once, and only the chosen ones are written again, selected, on each page."""
    if hasattr(options, "choices") and (
        isinstance(chosen, list | tuple) if several else isinstance(chosen, str | None)
    ):
        locale = i18n.current_locale()
        unselected, where = _options_of_list(options, locale)
        picked = [n for value in (chosen if several else (chosen,)) if value in where for n in where[value]]
        if not picked:
            return Markup("".join(unselected))  # noqa: S704 - codes and labels went through escape() (_escaped_list)
        tags = list(unselected)
        escaped = _escaped_list(options, locale)
        for n in picked:
            tags[n] = _option(escaped[n][1], escaped[n][2], True)
        return Markup("".join(tags))  # noqa: S704 - as above
    return Markup(  # noqa: S704 - codes and labels went through escape() (_escaped_choices)
        "".join(
            _option(code, text, raw in chosen if several else raw == chosen)
            for raw, code, text in _escaped_choices(options)
        )
    )


def checkbox_tags(options: Any, name: str, chosen: Any) -> Markup:
    """One checkbox a choice, named ``name``; those in ``chosen`` checked (see :func:`option_tags`)."""
    field = escape(name)
    return Markup(  # noqa: S704 - the name, codes and labels went through escape()
        "".join(
            f'\n  <label class="ctm-choice"><input type="checkbox" name="{field}" value="{code}"'
            f"{' checked' if raw in chosen else ''}> {text}</label>"
            for raw, code, text in _escaped_choices(options)
        )
    )


def reason_text(code: str) -> str:
    """The explanation of one of the Palermo rule's reason codes, in the reader's language."""
    return i18n._(palermo.REASONS[code]) if code in palermo.REASONS else code


class Permissions:
    """The permission constants for templates, so they never spell one out: ``ctx.can(perm.CASE_EDIT)``.

    A misspelt name fails loudly instead of quietly denying (Jinja would make it undefined).
    """

    def __init__(self, module: object) -> None:
        for name, value in vars(module).items():
            if name.isupper() and isinstance(value, str) and value.startswith("ctm."):
                setattr(self, name, value)

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        raise UndefinedError(f"no permission constant {name!r} in ctm_plugin.security.permissions")


def person(username: str | None) -> str:
    """A stored username as the person's name: the mission's users who may see cases, asked of the host once a
    request; the username itself for anyone else (e.g. ``system``, or a user who has left)."""
    if not username:
        return "—"
    ctx = current_context()
    names = g.get("ctm_people")
    if names is None:
        names = {user.username: user.display_name for user in ctx.mission_users(permissions.CASE_VIEW)}
        if ctx.user is not None:
            names[ctx.user.username] = ctx.user.display_name
        g.ctm_people = names
    return names.get(username, username)


templates.globals.update(
    url_for=url_for,
    lists=all_lists(),
    choices_of=choices_of,
    option_tags=option_tags,
    checkbox_tags=checkbox_tags,
    reason_text=reason_text,
    perm=Permissions(permissions),
)
templates.filters.update(
    person=person,
    day=dates.day,
    moment=dates.moment,
    host_moment=dates.host_moment,
    recalled=dates.recalled,
    period=dates.period,
)


def render(template: str, **values: Any) -> str:
    return templates.get_template(template).render(ctx=current_context(), **values)


def page(rule: str, permission: str, methods: tuple[str, ...] = ("GET",)) -> Callable:
    """Register a route that answers 404 unless the user holds ``permission`` in the mission."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def guarded(**kwargs: Any) -> Any:
            if not current_context().can(permission):
                abort(404)
            kwargs.pop("record_type", None)
            return view(**kwargs)

        guarded.permission = permission  # type: ignore[attr-defined]
        bp.add_url_rule(rule, view_func=guarded, methods=list(methods))
        return guarded

    return decorate


# The tabs, in the order of the tab bar; then the CT pages of the menu.
from ctm_plugin.web import case, screening, process, assistance, consent, returns, handover  # noqa: E402, F401, I001 - registers the routes
from ctm_plugin.web import preparation  # noqa: E402, F401, I001 - the Return tab's checklist
from ctm_plugin.web import monitoring  # noqa: E402, F401, I001 - the Monitoring tab, alerts, the scoring model
from ctm_plugin.web import reintegration  # noqa: E402, F401, I001 - the Reintegration tab and the supervisor's pages
from ctm_plugin.web import people, sync, mappings  # noqa: E402, F401, I001 - registers the routes
from ctm_plugin.web import fund  # noqa: E402, F401, I001 - the emergency fund's pages
from ctm_plugin.web import audit  # noqa: E402, F401, I001 - the audit trail and the case summary for print
from ctm_plugin.web import research_exports  # noqa: E402, F401, I001 - research exports: requests, approvals, the download
from ctm_plugin.web import owners  # noqa: E402, F401, I001 - reassigning a caseworker's cases
from ctm_plugin.web import due  # noqa: E402, F401, I001 - what is due, follow-ups, referral answers, people to screen
from ctm_plugin.web import case_list  # noqa: E402, F401, I001 - the case lists and HQ's queue
from ctm_plugin.web import trends  # noqa: E402, F401, I001 - the trends, suppressed
from ctm_plugin.web import retrafficking  # noqa: E402, F401, I001 - HQ's re-trafficking matches
from ctm_plugin.web import intelligence  # noqa: E402, F401, I001 - links between cases, the network, the referral package
from ctm_plugin.web import partners  # noqa: E402, F401, I001 - partners, their credentials and agreements, HQ's approvals
from ctm_plugin.web import referral_inbox  # noqa: E402, F401, I001 - the referrals partners sent, screened
from ctm_plugin.web.exchanges import WORDS  # noqa: E402

templates.globals.update(WORDS)
