"""The screening tab: Palermo interviews with the rule's recommendation, and the determination history."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.screening import Determination, Screening
from ctm_plugin.schemas.screening import DeterminationSchema, ScreeningCorrectionSchema, ScreeningSchema
from ctm_plugin.security.permissions import CASE_EDIT, CASE_VIEW
from ctm_plugin.services import screening as service
from ctm_plugin.web import RECORD, ROW_ID, page
from ctm_plugin.web.pages import CaseTab, register_tab, show, submit
from mimosa_host.plugin_api import current_context


def _load(session: Session, case: Case) -> dict[str, Any]:
    """The current screenings with their corrections; what the forms start from (the age, the interviewer)."""
    ctx = current_context()
    history = session.scalars(
        sa.select(Determination)
        .where(Determination.case_id == case.id)
        .order_by(Determination.decided_at.desc(), Determination.id.desc())
    ).all()
    return {
        "screenings": service.current_screenings(session, case.id),
        "corrections": service.corrections_of(session, case.id),
        "all_screenings": session.scalars(sa.select(Screening).where(Screening.case_id == case.id)).all(),
        "history": history,
        "derived_age": service.derived_age_at_act(ctx, session, case),
        "interviewer": ctx.user.display_name if ctx.user else None,
    }


SCREENING = register_tab(
    CaseTab(
        id="ctm.screening",
        label=i18n.N_("Screening"),
        endpoint="ctm.screening",
        template="screening.html",
        field_group="screening",
        more_groups=("determination",),
        load=_load,
    )
)


@page(RECORD + "/screening", CASE_VIEW)
def screening(record_ref: str):  # noqa: ANN201
    return show(SCREENING, record_ref)


@page(RECORD + "/screening/record", CASE_EDIT, methods=("POST",))
def record_screening(record_ref: str):  # noqa: ANN201
    return submit(
        SCREENING,
        record_ref,
        "screening",
        ScreeningSchema,
        service.record_screening,
        i18n.N_("The screening is recorded."),
    )


@page(RECORD + f"/screening/<{ROW_ID}:screening_id>/correct", CASE_EDIT, methods=("POST",))
def correct_screening(record_ref: str, screening_id: int):  # noqa: ANN201
    return submit(
        SCREENING,
        record_ref,
        f"screening-{screening_id}",
        ScreeningCorrectionSchema,
        lambda ctx, case_id, data: service.correct_screening(ctx, case_id, screening_id, data),
        i18n.N_("The screening is corrected; the earlier one stays in its history."),
    )


@page(RECORD + "/screening/determine", CASE_VIEW, methods=("POST",))
def determine(record_ref: str):  # noqa: ANN201
    """Open to every case viewer: the service refuses, on the decision field, anyone who may not determine."""
    return submit(
        SCREENING,
        record_ref,
        "determine",
        DeterminationSchema,
        service.determine,
        i18n.N_("The determination is recorded."),
    )
