"""Finding a person in the host, opening their case from the host record, or registering a person
the host does not know yet (created in the host through the outbox).

The search posts its criteria (names and birth dates stay out of URLs and logs). A failure to
reach the host is a message on the page (502/503), never a stack trace.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, url_for

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.schemas.case import OpenCaseSchema
from ctm_plugin.schemas.people import HostSearchSchema, RegisterPersonSchema
from ctm_plugin.security.permissions import CASE_EDIT
from ctm_plugin.services import people as service
from ctm_plugin.services.base import Conflict, Invalid, NotFound
from ctm_plugin.services.host import MappingMismatch
from ctm_plugin.web import RECORD, ROW_ID, page, render
from ctm_plugin.web.exchanges import HOST_ERRORS, PENDING_PREFIX, HostTrouble, trouble_of
from ctm_plugin.web.forms import FormState, form_data
from mimosa_host.plugin_api import Page, current_context


def _find_page(
    state: FormState | None = None,
    results: list[service.HostPerson] | None = None,
    trouble: HostTrouble | None = None,
    status: int = 200,
) -> Page:
    body = render(
        "people_find.html",
        form=state or FormState(),
        results=results,
        trouble=trouble,
        today=date.today(),
    )
    return Page(title=i18n._("Find a person in the host"), body=body, status=status)


@page("/people/find", CASE_EDIT)
def find_person():  # noqa: ANN201
    return _find_page()


@page("/people/search", CASE_EDIT, methods=("POST",))
def search_people():  # noqa: ANN201
    data = form_data(HostSearchSchema)
    try:
        found = service.search(current_context(), data)
    except Invalid as refused:
        return _find_page(FormState("search", refused.errors, data), status=422)
    except HOST_ERRORS as failed:
        trouble = trouble_of(failed)
        return _find_page(FormState("search", {}, data), trouble=trouble, status=trouble.status)
    return _find_page(FormState("search", {}, data), results=found)


@page(RECORD + "/case/import", CASE_EDIT, methods=("POST",))
def import_person(record_ref: str):  # noqa: ANN201
    """Open the case of a host beneficiary (the host checked it is in this mission), filled from its record."""
    data = form_data(OpenCaseSchema)
    try:
        service.open_from_host(current_context(), record_ref, data)
    except NotFound:
        abort(404)
    except MappingMismatch as mismatch:
        trouble = trouble_of(mismatch)
        return _find_page(FormState("import", {}, data), trouble=trouble, status=trouble.status)
    except Invalid as refused:
        problems = [message for messages in refused.errors.values() for message in messages]
        return _find_page(
            FormState("import", refused.errors, data, problem=problems[0] if problems else None), status=422
        )
    except Conflict:
        return _find_page(FormState("import", {}, data, problem=Conflict.message), status=409)
    except HOST_ERRORS as failed:
        trouble = trouble_of(failed)
        return _find_page(FormState("import", {}, data), trouble=trouble, status=trouble.status)
    flash(i18n._("The case is open, with what the host's record holds."), "success")
    return redirect(url_for("ctm.case_overview", record_type="beneficiary", record_ref=record_ref), 303)


@page("/people/register", CASE_EDIT, methods=("POST",))
def register_person():  # noqa: ANN201
    data = form_data(RegisterPersonSchema)
    try:
        case_id = service.register(current_context(), data)
    except Invalid as refused:
        return _find_page(FormState("register", refused.errors, data), status=422)
    except HOST_ERRORS as failed:
        trouble = trouble_of(failed)
        return _find_page(FormState("register", {}, data), trouble=trouble, status=trouble.status)
    return redirect(url_for("ctm.registered", case_id=case_id), 303)


@page(f"/people/registered/<{ROW_ID}:case_id>", CASE_EDIT)
def registered(case_id: int):  # noqa: ANN201
    """After a registration: the case number, and how the person's creation in the host stands."""
    ctx = current_context()
    with mission_session(ctx) as session:
        case = session.get(Case, case_id)
        if case is None:
            abort(404)
        number, beneficiary_id = case.case_number, case.beneficiary_id
        creation = session.scalar(
            sa.select(OutboxMessage)
            .where(OutboxMessage.case_id == case_id, OutboxMessage.operation == service.SAVE_BENEFICIARY)
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
        if creation is not None:
            session.expunge(creation)
    in_host = not beneficiary_id.startswith(PENDING_PREFIX)
    body = render(
        "people_registered.html",
        number=number,
        creation=creation,
        beneficiary_id=beneficiary_id if in_host else None,
        link=service.link_of(ctx, case_id),
    )
    return Page(title=i18n._("Person registered"), body=body)
