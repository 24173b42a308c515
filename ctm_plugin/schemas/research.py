"""The research export's forms: a researcher's request, HQ's decision."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from ctm_plugin.codelists import labelled
from ctm_plugin.domain.research import APPROVED, CTDC, DECLINED, DOWNLOADED, HTCDS, REQUESTED
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import _BASIC, NOT_IN_LIST, FormSchema, code, number, text

LAYOUT = labelled(
    "research_layout",
    [(CTDC, N_("CTDC global dataset (codebook v2)")), (HTCDS, N_("Human Trafficking Case Data Standard (HTCDS)"))],
)
STATE = labelled(
    "research_export_state",
    [
        (REQUESTED, N_("Awaiting HQ's decision")),
        (APPROVED, N_("Approved: ready to download once")),
        (DECLINED, N_("Declined")),
        (DOWNLOADED, N_("Downloaded")),
    ],
)
APPROVE, DECLINE = "approve", "decline"
DECISION = labelled("research_decision", [(APPROVE, N_("Approve")), (DECLINE, N_("Decline"))])

FIRST_YEAR = 2000
YEAR_RANGE = N_("Enter a year between 2000 and 2100.")
YEARS_REVERSED = N_("The last year cannot be before the first.")
NO_MISSION = N_("Choose at least one mission.")
REASON_NEEDED = N_("Say why the export is declined.")


class ExportRequestSchema(FormSchema):
    """Which missions' cases, in which layout, over which whole years of registration, and what for."""

    missions = fields.List(
        fields.String(error_messages={**_BASIC, "null": NOT_IN_LIST}),
        required=True,
        error_messages={**_BASIC, "invalid": NOT_IN_LIST},
    )
    layout = code(LAYOUT, required=True)
    year_from = number(FIRST_YEAR, 2100, YEAR_RANGE, required=True)
    year_to = number(FIRST_YEAR, 2100, YEAR_RANGE, required=True)
    purpose = text(2000, required=True)

    def __init__(self, *, allowed_missions: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allowed_missions = allowed_missions

    @validates_schema
    def _scope(self, data: dict[str, Any], **_kwargs: Any) -> None:
        missions = data.get("missions")
        if missions is not None:
            if not missions:
                raise ValidationError(NO_MISSION, "missions")
            if any(mission not in self.allowed_missions for mission in missions):
                raise ValidationError(NOT_IN_LIST, "missions")
            data["missions"] = sorted(set(missions))
        if "year_from" in data and "year_to" in data and data["year_to"] < data["year_from"]:
            raise ValidationError(YEARS_REVERSED, "year_to")


class ExportDecisionSchema(FormSchema):
    decision = code(DECISION, required=True)
    reason = text(2000)

    @validates_schema
    def _reason(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("decision") == DECLINE and not data.get("reason"):
            raise ValidationError(REASON_NEEDED, "reason")
