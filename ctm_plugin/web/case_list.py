"""The case lists: the mission's cases (filters, search, keyset pages), the caseworker's own, and HQ's queue of
cases awaiting a determination across its missions.

The form is posted: a person's name or document number travels in the request's body, never in an address that
access logs, proxies and the browser's history keep. Filters alone page by links; a search by a person's terms
pages by posting them again."""

from __future__ import annotations

from typing import Any

from flask import request

from ctm_plugin import i18n
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.case_list import CaseListQuerySchema
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, DETERMINE, IDENTITY_VIEW
from ctm_plugin.services import case_list as service
from ctm_plugin.services import owners
from ctm_plugin.services.base import Invalid
from ctm_plugin.web import page, render
from ctm_plugin.web.exchanges import HOST_ERRORS, trouble_of
from ctm_plugin.web.forms import FormState
from mimosa_host.plugin_api import Page, current_context

FILTER = "filter"
PERSON_TERMS = ("name", "document")
"""The search terms that identify a person: accepted in a posted form only."""
NOT_IN_THE_ADDRESS = N_("Search by this field with the form: an address is kept in logs.")
STAGE_LABELS = {
    "screening": N_("Screening"),
    "assistance": N_("Assistance"),
    "return": N_("Return"),
    "handover": N_("Hand-over"),
    "reintegration": N_("Reintegration"),
}
STATUS_LABELS = {"open": N_("Active"), "closed": N_("Closed")}  # the words of the Status column
SORT_LABELS = {"updated": N_("Last change"), "opened": N_("Date of identification"), "number": N_("Case number")}
ORDER_LABELS = {"desc": N_("Newest or highest first"), "asc": N_("Oldest or lowest first")}


def _pairs(labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(value, i18n._(label)) for value, label in labels.items()]


def _list_page(title: str, *, mine: bool) -> Page:
    ctx = current_context()
    posted = request.method == "POST"
    sent = request.form if posted else request.args
    # No owner on one's own cases; no name for a user who may not see names (the host is not asked for them).
    withheld = {"owner"} if mine else set()
    withheld |= set() if ctx.can(IDENTITY_VIEW) else {"name", "document"}
    accepted = [name for name in CaseListQuerySchema().fields if name not in withheld]
    shown = [name for name in accepted if name != "after"]
    asked = {name: value for name, value in sent.items() if name in accepted}
    unknown = sorted(set(sent) - set(asked) - {"csrf_token"})
    errors: dict[str, list[str]] = {name: [N_("This field is not part of the form.")] for name in unknown}
    if not posted:
        errors |= {name: [NOT_IN_THE_ADDRESS] for name in PERSON_TERMS if asked.get(name)}
    found, trouble = None, None
    if not errors:
        try:
            found = service.list_cases(ctx, asked, mine=mine)
        except Invalid as refused:
            errors = refused.errors
        except HOST_ERRORS as failed:
            trouble = trouble_of(failed)
    names = owners.owner_names(ctx)
    body = render(
        "case_list.html",
        found=found,
        mine=mine,
        form=FormState(FILTER, errors, asked),
        trouble=trouble,
        stage_choices=_pairs(STAGE_LABELS),
        status_choices=_pairs(STATUS_LABELS),
        sort_choices=_pairs(SORT_LABELS),
        order_choices=_pairs(ORDER_LABELS),
        stage_label=lambda stage: i18n._(STAGE_LABELS[stage]),
        owner_label=names,
        owner_choices=sorted(names.items(), key=lambda pair: pair[1]),
        identity=ctx.can(IDENTITY_VIEW),
        next_args=lambda after: {**asked, "after": after},
        by_person=any(asked.get(name) for name in PERSON_TERMS),
        shown_fields=shown,
    )
    return Page(title=title, body=body, status=400 if errors else trouble.status if trouble else 200)


@page("/cases", CASE_VIEW)
def case_list():  # noqa: ANN201
    return _list_page(i18n._("Cases"), mine=False)


@page("/cases", CASE_VIEW, methods=("POST",))
def search_cases():  # noqa: ANN201
    return _list_page(i18n._("Cases"), mine=False)


@page("/cases/mine", CASE_EDIT)
def my_cases():  # noqa: ANN201
    return _list_page(i18n._("My cases"), mine=True)


@page("/cases/mine", CASE_EDIT, methods=("POST",))
def search_my_cases():  # noqa: ANN201
    return _list_page(i18n._("My cases"), mine=True)


@page("/cases/awaiting-determination", DETERMINE)
def determination_queue():  # noqa: ANN201
    queue: Any = service.hq_queue(current_context())
    return Page(title=i18n._("Awaiting a determination"), body=render("case_queue.html", queue=queue))
