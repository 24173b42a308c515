"""The machinery every CT tab shares: show a tab (auditing the view), and submit one of its forms.

A submit calls one use case; on a refusal the same tab is shown again with the errors next
to the fields and what the user typed (422), with the conflict message (409), or, when the
host could not be asked, with a message saying so (502/503, as ``trouble``); nothing is
saved. On success the browser is sent back to the tab (303).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, flash, redirect, url_for
from marshmallow import Schema
from sqlalchemy.orm import Session
from sqlalchemy.orm.interfaces import ORMOption

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.schemas.case import CLOSED_STATUSES
from ctm_plugin.security.permissions import CASE_EDIT
from ctm_plugin.services.base import Conflict, Invalid, NotFound, case_id_for, handed_over_to
from ctm_plugin.services.cases import viewing
from ctm_plugin.web import render
from ctm_plugin.web.exchanges import HOST_ERRORS, trouble_of
from ctm_plugin.web.forms import FormState, form_data
from mimosa_host.plugin_api import Page, RequestContext, current_context


@dataclass(frozen=True)
class CaseTab:
    id: str
    label: str
    """msgid; the host shows it in the tab bar through the CTM's catalog."""
    endpoint: str
    template: str
    field_group: str
    """What the tab shows, for the audit trail: ``case``, ``screening``, ``process``…"""
    more_groups: tuple[str, ...] = ()
    """Other field groups the tab shows too (the process tab shows ``perpetrators``)."""
    load: Callable[[Session, Case], dict[str, Any]] = lambda session, case: {}
    needs_case: bool = True
    options: tuple[ORMOption, ...] = ()
    """Loader options for the case (what the tab shows of it, read with it: ``joinedload(Case.person)``)."""
    beside: tuple[tuple[Any, Any], ...] = ()
    """Rows of other tables the tab shows, read in the case's statement (``case_for_page``'s ``beside``)."""


TABS: list[CaseTab] = []


def register_tab(tab: CaseTab) -> CaseTab:
    TABS.append(tab)
    return tab


def show(tab: CaseTab, ref: str, state: FormState | None = None, status: int = 200, **extra: Any) -> Page:
    """The tab of the beneficiary ``ref``; ``extra`` values go to the template (e.g. a host failure)."""
    ctx = current_context()
    try:
        with viewing(ctx, ref, tab.field_group, *tab.more_groups, options=tab.options, beside=tab.beside) as (
            session,
            case,
        ):
            if case is None and tab.needs_case:
                raise NotFound
            data = tab.load(session, case) if case is not None else {}
            handed_over = handed_over_to(case) if case is not None else None
            closed = case is not None and case.status in CLOSED_STATUSES
            body = render(
                tab.template,
                case=case,
                ref=ref,
                form=state or FormState(),
                tab=tab,
                today=date.today(),
                # A closed case takes no change but its reopening: no form that would be refused (409) is shown,
                # whoever's it is (takes_changes: the movement officer's, HQ's; writable: a caseworker's).
                takes_changes=not closed,
                writable=ctx.can(CASE_EDIT) and not closed,
                **{**data, **extra},
            )
            if closed:  # every tab says the case is read-only, above its own content, and shows no form to edit it
                body = render("_closed.html") + body
            if handed_over is not None:
                body = render("_handed_over.html", mission=handed_over) + body
    except NotFound:
        abort(404)
    return Page(
        title=i18n._(tab.label),
        body=body,
        record_type="beneficiary",
        record_ref=ref,
        active_tab=tab.id,
        status=status,
    )


def submit(
    tab: CaseTab,
    ref: str,
    form: str,
    schema: type[Schema],
    use_case: Callable[[RequestContext, int, dict[str, Any]], Any],
    done: str | Callable[[Any], str],
) -> Any:
    """Run ``use_case(ctx, case_id, data)`` for the posted form; ``done`` is the msgid flashed on success
    (or gives it from what the use case returned)."""
    data = form_data(schema)
    ctx = current_context()
    try:
        result = use_case(ctx, case_id_for(ctx, ref), data)
    except NotFound:
        abort(404)
    except Invalid as refused:
        return show(tab, ref, FormState(form, refused.errors, data), status=422)
    except Conflict as refused:  # someone else saved meanwhile, or the case was handed over
        return show(tab, ref, FormState(form, {}, data, problem=refused.message), status=409)
    except HOST_ERRORS as failed:
        trouble = trouble_of(failed)
        return show(tab, ref, FormState(form, {}, data), status=trouble.status, trouble=trouble)
    flash(i18n._(done if isinstance(done, str) else done(result)), "success")
    return redirect(url_for(tab.endpoint, record_type="beneficiary", record_ref=ref), 303)


def decide(
    row_id: int,
    form: str,
    schema: type[Schema],
    use_case: Callable[[RequestContext, int, dict[str, Any]], Any],
    done: str,
    shown: Callable[..., Page],
    then: Callable[[Any], str],
) -> Any:
    """A form of a page about one row that is not a case's tab (a hand-over, a partner's referral): run
    ``use_case(ctx, row_id, data)``; on a refusal the page again, ``shown(row_id, state, status=, trouble=)``, as
    :func:`submit` does for a tab; on success flash ``done`` and go to ``then(result)``."""
    data = form_data(schema)
    try:
        result = use_case(current_context(), row_id, data)
    except NotFound:
        abort(404)
    except Invalid as refused:
        return shown(row_id, FormState(form, refused.errors, data), status=422)
    except Conflict as refused:
        return shown(row_id, FormState(form, {}, data, problem=refused.message), status=409)
    except HOST_ERRORS as failed:
        trouble = trouble_of(failed)
        return shown(row_id, FormState(form, {}, data), status=trouble.status, trouble=trouble)
    flash(i18n._(done), "success")
    return redirect(then(result), 303)
