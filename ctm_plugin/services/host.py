"""Reaching the host for one mission: its connection settings and the mappings in force there."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa.client import Connection, HostClient
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.models import MissionActivation
from ctm_plugin.domain.sync import HostLink
from ctm_plugin.mappings.engine import Mapping, effective_mappings


class NotConnected(Exception):
    """The mission's settings name no host to reach (enabled before the SOAP settings existed)."""


def _activation(session: Session) -> MissionActivation:
    activation = session.get(MissionActivation, session.info["mission_code"])
    if activation is None or not activation.soap_base_url:
        raise NotConnected
    return activation


def host_client(session: Session) -> HostClient:
    """A client for the session's mission, with that mission's API user."""
    activation = _activation(session)
    # The three are saved together, and _activation checked the URL.
    assert activation.soap_base_url and activation.soap_username is not None and activation.soap_password is not None
    return HostClient(Connection(activation.soap_base_url, activation.soap_username, activation.soap_password))


def mappings(session: Session) -> dict[str, Mapping]:
    """The mission's mappings: the defaults with its overrides (validated when they were saved)."""
    return effective_mappings(_activation(session).mapping_overrides)


def host_beneficiary_id(session: Session, case: Case) -> str | None:
    """The host's id for the case's person; ``None`` while the host has yet to create them.

    A case opened on a host record stands on its id; one registered in the CTM first waits
    for its link to receive the id the host gave.
    """
    link = session.get(HostLink, case.id)
    return link.beneficiary_id if link is not None else case.beneficiary_id
