"""The demo's hand-over, told through the CTM's own use cases: a THA case handed over to KHM.

Run by ``mimosa-host ctm demo handover`` after the host's ``demo seed`` (``make demo`` does both);
everything in it is synthetic. The host's seed writes no CTM row: the CTM's tables are its own.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import sqlalchemy as sa

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.services import assistance, cases, handover, preparation, returns
from ctm_plugin.services.base import version_of
from mimosa_host.plugin_api import RequestContext, UserRef

PERSON = "BEN-1000005"
"""A THA beneficiary of the demo, returning to Cambodia."""
SEED = UserRef(0, "demo-seed", "Demo seed")


def _as_seed(ctx: RequestContext) -> RequestContext:
    return dataclasses.replace(ctx, user=SEED)


def propose(ctx: RequestContext) -> int | None:
    """In THA: the case, its consents, a return to KHM and the proposal; ``None`` if the demo has them already."""
    ctx = _as_seed(ctx)
    with mission_session(ctx) as session:
        if session.scalar(sa.select(Case.id).where(Case.beneficiary_id == PERSON)) is not None:
            return None
    today = mission_today(ctx.settings)
    case_id = cases.open_case(ctx, PERSON, {"opened_on": (today - timedelta(days=40)).isoformat()})
    for purpose in ("Return", "HandOver"):
        consent = {
            "version": version_of(ctx, case_id),
            "purpose": purpose,
            "items": ["ConsentedToInterview", "InformedOfPurpose", "InformedOfWithdrawal"],
            "given_on": (today - timedelta(days=20)).isoformat(),
            "method": "Written",
        }
        assistance.record_consent(ctx, case_id, consent)
    departure = (today + timedelta(days=14)).isoformat()
    checklist = {
        "version": version_of(ctx, case_id),
        "planned_departure": departure,
        "destination_country": "KHM",
        "counselled_on": (today - timedelta(days=10)).isoformat(),
        "document_kind": "LAISSEZ_PASSER",
        "document_number": "SYN-LP-0005",
        "document_expiry": (today + timedelta(days=180)).isoformat(),
        "fit_to_travel": True,
        "risk_level": "LOW",
        "risk_reason": "Synthetic: family traced and willing; no threat known.",
        "family_traced": True,
        "family_assessment": "POSITIVE",
    }
    preparation.save_checklist(ctx, case_id, checklist)
    booking = {
        "version": version_of(ctx, case_id),
        "project_code": "THA-CT-01",
        "origin_country": "THA",
        "origin_location": "BKK",
        "destination_country": "KHM",
        "destination_location": "PNH",
        "earliest_departure": departure,
        "escort": "OPERATIONAL",
        "fit_to_travel": True,
    }
    returns.book_return(ctx, case_id, booking)
    proposal = {
        "version": version_of(ctx, case_id),
        "to_mission": "KHM",
        "family_name": "Synthetic",
        "given_name": "Sokha",
        "medical_needs": "Synthetic: a medical check-up on arrival.",
        "shelter_needs": "Synthetic: two weeks in a shelter while the family is traced.",
        "contact": "Demo THA caseworker, +66 2 000 0000",
    }
    return handover.propose(ctx, case_id, proposal)


def accept(ctx: RequestContext, handover_id: int) -> int:
    """In KHM: accept the hand-over, opening KHM's own case; returns its id."""
    ctx = _as_seed(ctx)
    with mission_session(ctx) as session:
        version = session.get_one(Handover, handover_id).version
    return handover.accept(ctx, handover_id, {"version": version, "opened_on": mission_today(ctx.settings).isoformat()})
