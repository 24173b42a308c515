"""Reaching the host for one mission: its connection settings and the mappings in force there.

The connection (address, API user, password) is read from the host's settings document for the
mission, which the context carries and the mission session holds (``session.info["settings"]``):
the CTM keeps no copy of it. The mappings are the defaults with the mission's newest saved
overrides (``ctm_mapping_override``), which holders of ``ctm.mapping.manage`` edit.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa.client import Connection, HostClient
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.models import MappingOverride
from ctm_plugin.domain.sync import HostLink
from ctm_plugin.i18n import N_, _
from ctm_plugin.mappings.engine import Mapping, MappingError, effective_mappings
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import MAPPING_MANAGE
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, require, unit_of_work

MAX_OVERRIDES = 200_000
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
    return HostClient(Connection(settings["soap_base_url"], settings["soap_username"], settings["soap_password"]))


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
