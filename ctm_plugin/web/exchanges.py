"""How the exchanges with the host read on a page: outbox states, sync and host statuses, failures.

Every label here is a msgid of the ``ctm_plugin`` domain. What the host wrote itself (a fault's
message) is never a msgid: pages show it escaped, beside a translated sentence, and never pass
it through ``_`` (Jinja would take the host's words for safe markup and format them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ctm_plugin import i18n
from ctm_plugin.adapters.mimosa.errors import HostError, HostFault, HostMismatch, HostProtocolError, HostUnavailable
from ctm_plugin.codelists import all_lists
from ctm_plugin.domain.sync import (
    OUT_DEAD,
    OUT_DISCARDED,
    OUT_DONE,
    OUT_FAILED,
    OUT_PENDING,
    OUT_SENDING,
    OUT_UNKNOWN,
    SYNC_CONFLICT,
    SYNC_FAILED,
    SYNC_PENDING,
    SYNC_SENT,
    SYNC_SYNCED,
)
from ctm_plugin.security.permissions import IDENTITY_VIEW
from ctm_plugin.services.host import MISMATCH as MAPPING_MISMATCH
from ctm_plugin.services.host import MappingMismatch, NotConnected
from ctm_plugin.web import dates
from mimosa_host.plugin_api import current_context

N_ = i18n.N_

PENDING_PREFIX = "PENDING-"
"""How the beneficiary id of a person registered in the CTM first starts until the host has created
them (``services.people.register``): no host record answers to it, so no page links to one."""

OUTBOX_STATES = {
    OUT_PENDING: N_("Queued: waiting for the host"),
    OUT_SENDING: N_("Sending"),
    OUT_UNKNOWN: N_("In doubt: the host may have it; checking with the host"),
    OUT_DONE: N_("Delivered"),
    OUT_FAILED: N_("Failed"),
    OUT_DEAD: N_("Could not be delivered after several attempts"),
    OUT_DISCARDED: N_("Discarded"),
}
"""An outbox message's state in words; a failure adds the host's message (:func:`outbox_words`)."""

FAILED_WITH_MESSAGE = N_("Failed: %(reason)s")
FAILED_WITH_CODE = N_("Failed (%(code)s)")

HOST_STATUSES = {
    "REQUESTED": N_("Requested"),
    "BOOKED": N_("Booked"),
    "CONFIRMED": N_("Confirmed"),
    "DEPARTED": N_("Departed"),
    "ARRIVED": N_("Arrived"),
    "CANCELLED": N_("Cancelled"),
    "NO_SHOW": N_("Did not show up"),
}
"""A movement's status as the host reports it."""

SYNC_STATUSES = {
    SYNC_PENDING: N_("Waiting to be sent to the host"),
    SYNC_SENT: N_("Sent to the host, waiting for its answer"),
    SYNC_SYNCED: N_("Up to date with the host"),
    SYNC_FAILED: N_("The host refused the last change"),
    SYNC_CONFLICT: N_("Conflict: the host's record changed meanwhile"),
}
"""A linked person's sync status."""

OPERATIONS = {
    "BookMovement": N_("Book a return"),
    "SaveBeneficiary": N_("Create the person in the host"),
    "CancelMovement": N_("Cancel a return"),
}

FIELD_LABELS = {
    "family_name": N_("Family name"),
    "given_name": N_("Given name"),
    "middle_name": N_("Middle name"),
    "gender": N_("Gender"),
    "birth_date": N_("Birth date"),
    "birth_date_precision": N_("Birth date precision"),
    "nationality": N_("Nationality"),
    "citizenships": N_("Citizenships"),
    "languages": N_("Languages"),
    "document_number": N_("Document number"),
}
"""The person's fields as the case overview labels them (the same msgids)."""

IDENTITY_FIELDS = frozenset(
    {"family_name", "given_name", "middle_name", "birth_date", "birth_date_precision", "document_number"}
)
"""Shown only to users who may see identity fields."""

_FIELD_LISTS = {
    "gender": "gender",
    "birth_date_precision": "date_precision",
    "nationality": "country",
    "citizenships": "country",
    "languages": "language",
}


def outbox_words(status: str, error: str | None = None, code: str | None = None) -> str:
    """The message's state in the reader's language; a failure names the host's message (escaped by the page)."""
    if status == OUT_FAILED:
        if error:
            return i18n._(FAILED_WITH_MESSAGE, reason=error)
        if code:
            return i18n._(FAILED_WITH_CODE, code=code)
    return i18n._(OUTBOX_STATES[status]) if status in OUTBOX_STATES else status


def host_status_words(status: str | None) -> str:
    return i18n._(HOST_STATUSES[status]) if status in HOST_STATUSES else (status or "—")


def sync_words(status: str | None) -> str:
    if status is None:
        return i18n._("Never synchronised with the host")
    return i18n._(SYNC_STATUSES[status]) if status in SYNC_STATUSES else status


def operation_words(operation: str) -> str:
    return i18n._(OPERATIONS[operation]) if operation in OPERATIONS else operation


def field_label(name: str) -> str:
    return i18n._(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def field_value(name: str, value: Any) -> str:
    """A person's field as a page shows it: codes by their labels, dates in the reader's format.

    Identity fields read as hidden for a user who may not see them.
    """
    if name in IDENTITY_FIELDS and not current_context().can(IDENTITY_VIEW):
        return i18n._("Hidden")
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(field_value(name, item) for item in value)
    if name == "birth_date":
        try:
            return dates.day(value if isinstance(value, date) else date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if name in _FIELD_LISTS:
        codelist = all_lists()[_FIELD_LISTS[name]]
        return codelist.label(value) if value in codelist else str(value)
    return str(value)


# -- when the host cannot be asked ------------------------------------------------------

HOST_ERRORS = (HostError, NotConnected)
"""What a call to the host may raise that a page must turn into a message, never a stack trace."""

UNREACHABLE = N_("The host cannot be reached now; nothing was changed. Try again later.")
NOT_CONNECTED = N_(
    "This mission is not connected to the host yet; nothing was changed. Ask a mission administrator "
    "to set the host's address."
)
REFUSED = N_("The host refused the request; nothing was changed. The host's message:")
NOT_UNDERSTOOD = N_(
    "The host's answer could not be understood; nothing was changed. Try again later, or ask an integrator."
)
ANSWER_MISMATCH = N_(
    "The host answered about another record than the one asked for (asked for %(asked)s, got %(got)s); "
    "nothing was changed. Ask an integrator to check the host."
)


@dataclass(frozen=True)
class HostTrouble:
    """A failed call to the host as a page tells it."""

    message: str
    """A msgid."""
    detail: str | None
    """The host's own message, shown as the host wrote it (escaped), or ``None``."""
    status: int
    """The page's HTTP status: 503 when the host could not be reached, 502 when it answered badly,
    422 when its record does not fit the mission's mapping."""
    params: dict[str, str] = field(default_factory=dict)
    """Values for the message's placeholders (escaped by the page)."""


def trouble_of(error: Exception) -> HostTrouble:
    if isinstance(error, MappingMismatch):  # what could not be read: field, XPath, value and why
        return HostTrouble(MAPPING_MISMATCH, "; ".join(map(str, error.problems)), 422)
    if isinstance(error, NotConnected):
        return HostTrouble(NOT_CONNECTED, None, 503)
    if isinstance(error, HostFault):
        if error.retryable:
            return HostTrouble(UNREACHABLE, None, 503)
        return HostTrouble(REFUSED, error.message or error.code, 502)
    if isinstance(error, HostUnavailable):
        return HostTrouble(UNREACHABLE, None, 503)
    if isinstance(error, HostMismatch):
        return HostTrouble(ANSWER_MISMATCH, None, 502, {"asked": error.asked, "got": error.got})
    if isinstance(error, HostProtocolError):
        return HostTrouble(NOT_UNDERSTOOD, None, 502)
    return HostTrouble(UNREACHABLE, None, 503)


WORDS = {
    "outbox_words": outbox_words,
    "host_status_words": host_status_words,
    "sync_words": sync_words,
    "operation_words": operation_words,
    "field_label": field_label,
    "field_value": field_value,
}
"""The template globals this module gives the CT pages."""
