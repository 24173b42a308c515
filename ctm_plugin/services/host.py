"""Reaching the host for one mission: its connection settings and the mappings in force there.

The connection (address, API user, password) is read from the host's settings document for the
mission, which the context carries and the mission session holds (``session.info["settings"]``):
the CTM keeps no copy of it. The mappings are the defaults with the mission's newest saved
overrides (``ctm_mapping_override``), which holders of ``ctm.mapping.manage`` edit.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping as MappingType
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa import records
from ctm_plugin.adapters.mimosa.client import Connection, HostClient
from ctm_plugin.adapters.mimosa.errors import HostError, HostFault, HostUnavailable
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.models import MappingOverride
from ctm_plugin.domain.sync import HostLink
from ctm_plugin.i18n import N_, _
from ctm_plugin.mappings.engine import FieldError, Mapping, MappingError, effective_mappings
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import MAPPING_MANAGE
from mimosa_host.plugin_api import RequestContext, SettingsFinding

from .base import Invalid, require, unit_of_work

MAX_OVERRIDES = 65_536
"""Characters of an override document: far more than any mission needs, bounded all the same."""
TOO_LONG = N_("The document is too long: at most %(max)s characters.")
RACED = N_("Someone else saved overrides at the same time. Reload the page and try again.")


class NotConnected(Exception):
    """The mission's settings name no host to reach (enabled before the SOAP settings existed)."""


def _settings(session: Session) -> MappingType[str, Any]:
    settings = session.info.get("settings") or {}
    if not settings.get("soap_base_url"):
        raise NotConnected
    return settings


def host_client(session: Session) -> HostClient:
    """A client for the session's mission, with that mission's API user."""
    settings = _settings(session)
    # No password when the host could not open the one it stored: the host refuses the call (UNAUTHORIZED),
    # and the pages ask for the mission's settings to be corrected.
    password = settings.get("soap_password", "")
    connection = Connection(settings["soap_base_url"], settings["soap_username"], password)
    with _clients_lock:
        if (client := _clients.get(connection)) is None:
            if len(_clients) >= MAX_CLIENTS:
                _clients.clear()
            client = _clients[connection] = HostClient(connection)
        return client


MAX_CLIENTS = 64
_clients: dict[Connection, HostClient] = {}
"""One client per connection settings in the process (a mission's new address or API user makes
another): its calls share the process's keep-alive connections to that host."""
_clients_lock = threading.Lock()


def _newest(session: Session) -> MappingOverride | None:
    return session.scalar(sa.select(MappingOverride).order_by(MappingOverride.revision.desc()).limit(1))


def mappings(session: Session) -> dict[str, Mapping]:
    """The mission's mappings: the defaults with its overrides (validated when they were saved)."""
    newest = _newest(session)
    return effective_mappings(newest.document if newest is not None else None)


def override_history(ctx: RequestContext) -> list[MappingOverride]:
    """The mission's saved overrides, newest (the one in force) first, detached for a page."""
    require(ctx, MAPPING_MANAGE)
    with unit_of_work(ctx) as session:
        rows = list(session.scalars(sa.select(MappingOverride).order_by(MappingOverride.revision.desc())))
        session.expunge_all()
        return rows


def save_overrides(ctx: RequestContext, document: str) -> MappingOverride:
    """Put a new override document in force, after the mapping engine has checked it.

    A bad document raises :class:`Invalid` naming the file, field and line of each problem,
    and the one in force stays; an empty one goes back to the defaults.
    """
    require(ctx, MAPPING_MANAGE)
    document = document.replace("\r\n", "\n").strip()
    if len(document) > MAX_OVERRIDES:
        raise Invalid({"document": [_(TOO_LONG, max=MAX_OVERRIDES)]})
    try:
        effective_mappings(document)
    except MappingError as error:
        raise Invalid({"document": [str(problem) for problem in error.problems]}) from None
    try:
        with unit_of_work(ctx) as session:
            newest = _newest(session)
            row = MappingOverride(
                mission_code=ctx.mission.code,
                revision=(newest.revision if newest is not None else 0) + 1,
                document=document,
                saved_by=actor(ctx),
            )
            session.add(row)
            audit.record(session, ctx, "mapping.override", None)
            session.flush()
            session.expunge(row)
    except sa.exc.IntegrityError:  # two saves took the same revision: the second is refused whole
        raise Invalid({"document": [RACED]}) from None
    return row


def host_beneficiary_id(session: Session, case: Case) -> str | None:
    """The host's id for the case's person; ``None`` while the host has yet to create them.

    A case opened on a host record stands on its id; one registered in the CTM first waits
    for its link to receive the id the host gave.
    """
    link = session.get(HostLink, case.id)
    return link.beneficiary_id if link is not None else case.beneficiary_id


# -- what went wrong with the host, in words a person can act on -------------------------------

UNREACHABLE_CODES = frozenset({"CONNECT_FAILED", "CONNECT_TIMEOUT", "TIMEOUT", "CONNECTION_LOST"})
MAPPING = "MAPPING"
NOT_CONNECTED = "NOT_CONNECTED"

PROBLEMS = {
    NOT_CONNECTED: N_("The mission's settings name no host address yet: a mission administrator sets it."),
    "UNREACHABLE": N_(
        "The host cannot be reached at the mission's address (%(code)s): check the address, or try again later."
    ),
    "UNAVAILABLE": N_("The host is unavailable for now (%(code)s): try again later."),
    "UNAUTHORIZED": N_(
        "The host refused the mission's API user name or password (%(code)s): check them in the mission's settings."
    ),
    "FORBIDDEN_MISSION": N_(
        "The host's API user is not bound to this mission (%(code)s): ask the host's administrators to bind it, "
        "or set this mission's own API user."
    ),
    "PROTOCOL": N_(
        "The host's answer could not be read (%(code)s): check that the address is the host's SOAP base URL."
    ),
    "REFUSED": N_("The host refused the request (%(code)s)."),
    MAPPING: N_(
        "The host's records hold values the mission's mapping cannot read (%(fields)s): "
        "ask an integrator to correct the mapping overrides."
    ),
}
"""Msgids by kind of problem; each names the code (or the fields) it stands for."""


class MappingMismatch(Invalid):
    """A host record the mission's mappings cannot read; nothing was saved.

    ``problems`` name each field, the XPath and why (their messages may quote the host's value:
    show them, never log them).
    """

    def __init__(self, problems: tuple[FieldError, ...]) -> None:
        super().__init__({"host": [MISMATCH]})
        self.problems = problems

    @property
    def fields(self) -> str:
        return ", ".join(dict.fromkeys(problem.field for problem in self.problems))


MISMATCH = N_("The host's record does not fit the mission's mapping, so nothing was saved. Ask an integrator:")


@dataclass(frozen=True)
class HostProblem:
    """A failed exchange with the host, as plain data: no secret, no case detail."""

    code: str
    """The host's fault code, the transport's (``CONNECT_FAILED`` ...), ``PROTOCOL``, ``MAPPING`` or
    ``NOT_CONNECTED``."""
    kind: str
    """A key of :data:`PROBLEMS`."""
    fields: str = ""
    """For ``MAPPING``: the CTM fields that could not be read."""

    @property
    def message(self) -> str:
        """In the reader's language."""
        return _(PROBLEMS[self.kind], code=self.code, fields=self.fields)


PROBLEM_TYPES = (HostError, NotConnected, MappingMismatch)
"""What :func:`problem_of` describes: everything a call to the host raises for a person to act on."""


def problem_of(error: Exception) -> HostProblem:
    """The problem ``error`` (one of :data:`PROBLEM_TYPES`) stands for."""
    if isinstance(error, NotConnected):
        return HostProblem(NOT_CONNECTED, NOT_CONNECTED)
    if isinstance(error, MappingMismatch):
        return HostProblem(MAPPING, MAPPING, error.fields)
    if isinstance(error, HostFault):
        kind = error.code if error.code in PROBLEMS else "REFUSED"
        return HostProblem(error.code, kind)
    if isinstance(error, HostUnavailable):
        return HostProblem(error.code, "UNREACHABLE" if error.code in UNREACHABLE_CODES else "UNAVAILABLE")
    return HostProblem(getattr(error, "code", "PROTOCOL"), "PROTOCOL")


# -- "Test the connection" ---------------------------------------------------------------------

CHECK_PAGE = 50
"""How many of the mission's host records the check reads through the mapping."""
MAX_MAPPING_FINDINGS = 10

PROBLEM_SETTINGS = {
    NOT_CONNECTED: "soap_base_url",
    "UNREACHABLE": "soap_base_url",
    "PROTOCOL": "soap_base_url",
    "UNAUTHORIZED": "soap_password",
    "FORBIDDEN_MISSION": "soap_username",
}
"""The setting to look at for each kind of problem."""

ANSWERS = N_("The host answers at this address and accepts the API user for mission %(mission)s.")
READS_ALL = N_("The mapping reads the %(count)s host records checked.")
NO_RECORDS = N_("The host holds no record of this mission yet: the mapping could not be tried on one.")
CANNOT_READ = N_("%(field)s cannot be read from the host's records (%(xpath)s): %(problem)s")


def check_settings(mission_code: str, settings: MappingType[str, Any], mapping: Mapping) -> list[SettingsFinding]:
    """Ask the host with these settings (saved or not) what a mission administrator must correct.

    It reads one page of the mission's beneficiaries and maps each with ``mapping`` (the
    mission's beneficiary mapping in force):
    the address, the API user, its missions and the host's codes are each tried for real.
    Nothing is written.
    """
    client = HostClient(Connection(settings["soap_base_url"], settings["soap_username"], settings["soap_password"]))
    try:
        page = client.find_beneficiaries(mission_code=mission_code, page_size=CHECK_PAGE)
    except HostError as error:
        problem = problem_of(error)
        return [
            SettingsFinding(PROBLEMS[problem.kind], {"code": problem.code}, setting=PROBLEM_SETTINGS.get(problem.kind))
        ]
    findings = [SettingsFinding(ANSWERS, {"mission": mission_code}, ok=True)]
    if not page.items:
        return [*findings, SettingsFinding(NO_RECORDS, ok=True)]
    problems: dict[tuple[Any, ...], FieldError] = {}
    for item in page.items:
        for unread in records.beneficiary(item, mapping).errors:
            problems.setdefault((unread.field, unread.message, tuple(sorted(unread.params.items()))), unread)
    for unread in list(problems.values())[:MAX_MAPPING_FINDINGS]:
        why = _(unread.message, **unread.params)
        findings.append(
            SettingsFinding(
                CANNOT_READ,
                {"field": unread.field, "xpath": unread.xpath, "problem": why},
                setting=None,
            )
        )
    if not problems:
        findings.append(SettingsFinding(READS_ALL, {"count": str(len(page.items))}, ok=True))
    return findings
