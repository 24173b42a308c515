"""People to screen: host beneficiaries flagged with a screening vulnerability who have no case yet.

The pull finds them (:func:`flag_candidates`) and keeps only their ``BeneficiaryId`` and when the
flag was found; the list reads their names from the host when it is shown, and only for users who
may see identities. A candidate leaves the list when their case is opened, or when a caseworker
dismisses the flag with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin.adapters.mimosa import records
from ctm_plugin.adapters.mimosa.errors import HostFault, HostProtocolError
from ctm_plugin.adapters.mimosa.records import BeneficiaryRecord
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.due import ScreeningCandidate
from ctm_plugin.domain.models import utcnow
from ctm_plugin.schemas.due import DismissCandidateSchema
from ctm_plugin.schemas.mission_settings import screening_vulnerabilities
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, IDENTITY_VIEW
from mimosa_host.plugin_api import RequestContext

from .base import Conflict, NotFound, among, load, require, unit_of_work
from .host import host_client, mappings

LISTED = 50
"""Candidates shown at once (each name is one call to the host)."""
FLAGGED_BY = frozenset({"vulnerabilities"})
"""What :func:`flag_candidates` reads of a record: the pull maps no more of the records that refresh no case."""


def screening_codes(ctx: RequestContext) -> frozenset[str]:
    """The vulnerability codes that flag a person to screen in this mission (its settings)."""
    return frozenset(screening_vulnerabilities(ctx.settings))


def flag_candidates(
    session: Session,
    ctx: RequestContext,
    found: dict[str, BeneficiaryRecord],
    *,
    cases_of: set[str],
    codes: frozenset[str],
) -> None:
    """Within the pull's transaction: keep the flagged (by ``codes``, :func:`screening_codes`) among ``found``
    whose beneficiary is not in ``cases_of`` (those with a case), drop a flag the host took back (unless
    dismissed: the reason stays on record). Of each record it reads :data:`FLAGGED_BY`."""
    flagged = {
        ref for ref, r in found.items() if codes & set(r.values.get("vulnerabilities") or []) and ref not in cases_of
    }
    # What is kept of each of them, as rows: only a flag to drop is loaded, to be deleted at the version read.
    known = dict(
        session.execute(
            sa.select(ScreeningCandidate.beneficiary_id, ScreeningCandidate.dismissed_at).where(
                among(session, ScreeningCandidate.beneficiary_id, found)
            )
        ).all()
    )
    new = sorted(flagged - set(known))
    if new:  # in one statement: a first pull flags thousands (the mission's own code, as a flush would check)
        rows = [{"mission_code": ctx.mission.code, "beneficiary_id": ref} for ref in new]
        session.execute(sa.insert(ScreeningCandidate), rows)
    taken_back = [ref for ref, dismissed_at in known.items() if ref not in flagged and dismissed_at is None]
    if taken_back:
        for candidate in session.scalars(
            sa.select(ScreeningCandidate).where(
                ScreeningCandidate.beneficiary_id.in_(taken_back), ScreeningCandidate.dismissed_at.is_(None)
            )
        ):
            session.delete(candidate)


@dataclass(frozen=True)
class Candidate:
    id: int
    beneficiary_id: str
    flagged_at: datetime
    version: int
    name: str | None
    """The host's names, for a user who may see identities; ``None`` otherwise."""
    in_host: bool = True
    """False when the host answered for this record with a fault (e.g. not found, merged since the pull)
    or an answer that cannot be read: it is listed by its ID alone."""


def _waiting(session: Session) -> list[ScreeningCandidate]:
    has_case = sa.exists().where(Case.beneficiary_id == ScreeningCandidate.beneficiary_id)
    return list(
        session.scalars(
            sa.select(ScreeningCandidate)
            .where(ScreeningCandidate.dismissed_at.is_(None), ~has_case)
            .order_by(ScreeningCandidate.flagged_at, ScreeningCandidate.id)
            .limit(LISTED)
        )
    )


def candidates(ctx: RequestContext) -> list[Candidate]:
    """The people to screen, oldest flag first; their names from the host for identity viewers (audited).

    A record the host cannot give leaves that person without a name, not the list empty; a host that cannot
    be reached at all raises, for the page to say so.
    """
    require(ctx, CASE_EDIT)
    names = ctx.can(IDENTITY_VIEW)
    with unit_of_work(ctx) as session:
        rows = [(c.id, c.beneficiary_id, c.flagged_at, c.version) for c in _waiting(session)]
        client = host_client(session) if names and rows else None
        mapping = mappings(session)["beneficiary"] if client else None
        audit.record(session, ctx, "screening.candidates.view", None, ["identity"] if names else [])
    found = []
    for row_id, ref, at, version in rows:
        name, known = None, True
        if client is not None and mapping is not None:
            try:
                values = records.beneficiary(client.get_beneficiary(ref, ctx.mission.code), mapping).values
            except (HostFault, HostProtocolError) as failed:  # of this record alone: the others are still listed
                if failed.retryable:  # the host itself is unavailable: so for every record
                    raise
                known = False
            else:
                name = " ".join(str(values[k]) for k in ("given_name", "family_name") if values.get(k))
        found.append(Candidate(row_id, ref, at, version, name, known))
    return found


def dismiss(ctx: RequestContext, candidate_id: int, data: dict[str, Any]) -> None:
    """Dismiss a flag with a reason: the person leaves the list, the reason stays on record."""
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        candidate = session.get(ScreeningCandidate, candidate_id)
        if candidate is None:
            raise NotFound
        values = load(DismissCandidateSchema(), data)
        if candidate.version != values["version"] or candidate.dismissed_at is not None:
            raise Conflict
        candidate.dismissed_by, candidate.dismissed_at = actor(ctx), utcnow()
        candidate.dismiss_reason = values["reason"]
        audit.record(session, ctx, "screening.candidate.dismiss", None, [])
