"""HQ's decision on a re-trafficking match: confirmed or dismissed, always with a reason."""

from __future__ import annotations

from ctm_plugin.codelists import labelled
from ctm_plugin.domain.retrafficking import CONFIRMED, DISMISSED
from ctm_plugin.i18n import N_
from ctm_plugin.schemas.base import FormSchema, code, text, version

DECISION = labelled(
    "retrafficking_decision",
    [(CONFIRMED, N_("Confirm: the same person")), (DISMISSED, N_("Dismiss: not the same person"))],
)


class MatchDecisionSchema(FormSchema):
    """Confirm or dismiss one match; the reason says what HQ checked (about the evidence, not the person)."""

    decision = code(DECISION, required=True)
    reason = text(500, required=True)
    version = version()
