"""Use cases of screening: record an interview (the rule recommends), record a determination."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ctm_plugin.domain import palermo, preparation
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.process import TraffickingEvent
from ctm_plugin.domain.screening import Determination, Screening
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.screening import DeterminationSchema, ScreeningCorrectionSchema, ScreeningSchema
from ctm_plugin.security import audit
from ctm_plugin.security.audit import actor
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW, DETERMINE
from mimosa_host.plugin_api import RequestContext

from .base import Invalid, NotFound, add_to_case, get_case, load, require, row_of_case, touch, unit_of_work
from .cases import birth_date_for, latest_determination_of


def record_screening(ctx: RequestContext, case_id: int, data: dict[str, Any]) -> int:
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        values = load(ScreeningSchema(birth_date=birth_date_for(ctx, case)), data)
        touch(case, ctx, values.pop("version"))
        screening = _screening(ctx, session, case, values)
        return add_to_case(session, ctx, case, screening, "screening.record", "screening")


def correct_screening(ctx: RequestContext, case_id: int, screening_id: int, data: dict[str, Any]) -> int:
    """Record the screening again, corrected; the earlier one stays in the history, superseded by this one.

    Only a current screening is corrected: an earlier one is history (a form for it is not shown).
    """
    require(ctx, CASE_EDIT)
    with unit_of_work(ctx) as session:
        case = get_case(session, case_id)
        earlier = row_of_case(session, Screening, screening_id, case)
        values = load(ScreeningCorrectionSchema(birth_date=birth_date_for(ctx, case)), data)
        touch(case, ctx, values.pop("version"))
        if earlier.superseded_by is not None:
            raise NotFound
        values["correction_reason"] = values.pop("reason")
        correction = _screening(ctx, session, case, values)
        correction_id = add_to_case(session, ctx, case, correction, "screening.correct", "screening")
        earlier.superseded_by = correction_id
        return correction_id


def _screening(ctx: RequestContext, session: sa.orm.Session, case: Case, values: dict[str, Any]) -> Screening:
    """A screening of the form's values with the rule's recommendation; an age left blank is the derived one."""
    if values.get("age_at_act") is None:
        values["age_at_act"] = derived_age_at_act(ctx, session, case)
    result = palermo.recommend(
        values["acts"],
        values["means"],
        values["purposes"],
        values["age_at_act"],
        believed_child=values["believed_child"],
    )
    return Screening(recommendation=result.outcome, reasons=list(result.reasons), recorded_by=actor(ctx), **values)


def derived_age_at_act(ctx: RequestContext, session: sa.orm.Session, case: Case) -> int | None:
    """The person's age on the day of the first recruitment, where the birth date and that day are known.

    Only for a user who may see the birth date (else ``None``); a date known to the month or the year
    is read so that a doubt goes to the child's side, as for the return (:func:`preparation.is_child`).
    """
    birth_date = birth_date_for(ctx, case)
    if birth_date is None or case.person is None or case.person.birth_date_precision == "Unknown":
        return None
    recruited_on = session.scalar(
        sa.select(TraffickingEvent.start_date)
        .where(
            TraffickingEvent.case_id == case.id,
            TraffickingEvent.type == "Recruitment",
            TraffickingEvent.start_date.is_not(None),
        )
        .order_by(TraffickingEvent.sequence)
        .limit(1)
    )
    if recruited_on is None:
        return None
    return preparation.age_on(preparation.youngest_birth(birth_date, case.person.birth_date_precision), recruited_on)


def current_screenings(session: sa.orm.Session, case_id: int) -> list[Screening]:
    """The case's screenings not superseded by a correction, the latest interview first."""
    return list(
        session.scalars(
            sa.select(Screening)
            .where(Screening.case_id == case_id, Screening.superseded_by.is_(None))
            .order_by(Screening.interview_date.desc(), Screening.id.desc())
        )
    )


def corrections_of(session: sa.orm.Session, case_id: int) -> dict[int, list[Screening]]:
    """For each current screening's id, the earlier versions it corrects, the latest first."""
    rows = session.scalars(sa.select(Screening).where(Screening.case_id == case_id)).all()
    replaced = {row.superseded_by: row for row in rows if row.superseded_by is not None}
    history: dict[int, list[Screening]] = {}
    for row in rows:
        if row.superseded_by is None:
            chain, current = [], row.id
            while current in replaced:
                chain.append(replaced[current])
                current = replaced[current].id
            history[row.id] = chain
    return history


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
                sa.select(Screening.id).where(
                    Screening.id == values["screening_id"],
                    Screening.case_id == case.id,
                    Screening.superseded_by.is_(None),  # a corrected screening is history: its correction counts
                )
            )
            is None
        ):
            raise Invalid({"screening_id": [N_("Choose a current screening of this case.")]})
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
    return session.scalar(latest_determination_of(case_id))
