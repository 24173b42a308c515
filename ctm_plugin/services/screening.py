"""Use cases of screening: record an interview (the rule recommends), record a determination."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ctm_plugin.domain import palermo
from ctm_plugin.domain.screening import Determination, Screening
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.screening import DeterminationSchema, ScreeningSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, DETERMINE
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, add_to_case, get_case, load, require, touch, unit_of_work
from .cases import birth_date_for


def record_screening(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ScreeningSchema(birth_date=birth_date_for(ctx, case)), data)
        touch(case, ctx, values.pop("version"))
        result = palermo.recommend(values["acts"], values["means"], values["purposes"], values.get("age_at_act"))
        screening = Screening(
            recommendation=result.outcome, reasons=list(result.reasons), recorded_by=actor(ctx), **values
        )
        return add_to_case(session, ctx, case, screening, "screening.record", "screening")


# The determination and its HTCDS ``vic_TraffickingStatus``; this organisation decides as "Other"
# among HTCDS's deciding organisations (police, NGO, court, non-police government, other).
TRAFFICKING_STATUS = {
    palermo.VICTIM: "ActualVictimOfTrafficking",
    palermo.NOT_A_VICTIM: "NotAVictimOfTrafficking",
    palermo.UNDETERMINED: "PossibleVictimOfTrafficking",
}
DECIDED_BY_THIS_ORGANISATION = "Other"


def determine(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> None:
    """Record a decision; the previous one stays in the history with who, when, from and to."""
    require(ctx, CASE_VIEW)
    if not ctx.can(DETERMINE):
        raise Invalid({"decision": [N_("You may not record a determination.")]})
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(DeterminationSchema(), data)
        touch(case, ctx, values["version"])
        if (
            values["screening_id"] is not None
            and session.scalar(
                sa.select(Screening.id).where(Screening.id == values["screening_id"], Screening.case_id == case.id)
            )
            is None
        ):
            raise Invalid({"screening_id": [N_("Choose a screening of this case.")]})
        session.add(
            Determination(
                mission_code=ctx.mission.code,
                case_id=case.id,
                screening_id=values["screening_id"],
                previous=latest.decision if (latest := latest_determination(session, case.id)) else None,
                decision=values["decision"],
                reason=values["reason"],
                decided_by=actor(ctx),
            )
        )
        # The HTCDS trafficking status follows the decision, so the two never disagree.
        assert case.victim is not None  # new_case gives every case one
        case.victim.trafficking_status = TRAFFICKING_STATUS[values["decision"]]
        case.victim.status_decided_by = case.victim.status_decided_by or DECIDED_BY_THIS_ORGANISATION
        audit.record(session, ctx, "screening.determine", case.id, ["determination"])


def latest_determination(session: sa.orm.Session, case_id: int) -> Determination | None:
    return session.scalar(
        sa.select(Determination)
        .where(Determination.case_id == case_id)
        .order_by(Determination.decided_at.desc(), Determination.id.desc())
        .limit(1)
    )
