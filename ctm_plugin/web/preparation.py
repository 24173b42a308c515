"""The return checklist on the Return tab: the caseworker's checklist, a child's best-interests
determination (child-protection officers only) and HQ's decision on a high-risk return.

Every case viewer sees the checklist; the travel document only with ``ctm.identity.view``.
"""

from __future__ import annotations

from typing import Any

from ctm_plugin import i18n
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.preparation import (
    BID_OUTCOMES,
    DOCUMENT_KINDS,
    FAMILY_ASSESSMENTS,
    ITEMS,
    RISK_DECISIONS,
    RISK_LEVELS,
)
from ctm_plugin.schemas.preparation import BestInterestsSchema, ChecklistSchema, RiskDecisionSchema
from ctm_plugin.security.permissions import APPROVE_RISK, CASE_EDIT, CHILD_PROTECTION
from ctm_plugin.services import preparation as service
from ctm_plugin.services import returns as returns_service
from ctm_plugin.web import RECORD, page
from ctm_plugin.web.pages import submit
from ctm_plugin.web.returns import RETURN
from mimosa_host.plugin_api import RequestContext


def _words(labels: dict[str, str]) -> list[tuple[str, str]]:
    return [(code, i18n._(label)) for code, label in labels.items()]


def checklist_values(ctx: RequestContext, case: Case) -> dict[str, Any]:
    """What the Return tab's checklist shows: the return being prepared and what it still lacks."""
    return {
        "checklist": service.checklist_of_case(ctx, case.id),
        "under_way": returns_service.return_under_way(ctx, case.id),
        "items": ITEMS,
        "mission_today": mission_today(ctx.settings),
        "document_kinds": _words(DOCUMENT_KINDS),
        "risk_levels": _words(RISK_LEVELS),
        "family_assessments": _words(FAMILY_ASSESSMENTS),
        "bid_outcomes": _words(BID_OUTCOMES),
        "risk_decisions": _words(RISK_DECISIONS),
    }


@page(RECORD + "/return/checklist", CASE_EDIT, methods=("POST",))
def save_checklist(record_ref: str):  # noqa: ANN201
    return submit(
        RETURN, record_ref, "checklist", ChecklistSchema, service.save_checklist, i18n.N_("The checklist is saved.")
    )


@page(RECORD + "/return/best-interests", CHILD_PROTECTION, methods=("POST",))
def record_best_interests(record_ref: str):  # noqa: ANN201
    return submit(
        RETURN,
        record_ref,
        "best_interests",
        BestInterestsSchema,
        service.record_best_interests,
        i18n.N_("The best-interests determination is recorded."),
    )


@page(RECORD + "/return/risk-decision", APPROVE_RISK, methods=("POST",))
def decide_risk(record_ref: str):  # noqa: ANN201
    return submit(
        RETURN,
        record_ref,
        "risk_decision",
        RiskDecisionSchema,
        service.decide_risk,
        i18n.N_("The decision on the high-risk return is recorded."),
    )
