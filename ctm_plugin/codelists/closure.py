"""Why a case is closed: the reason a caseworker chooses when closing (the case keeps the code)."""

from __future__ import annotations

from ctm_plugin.i18n import N_

from . import labelled

CLOSURE_REASON = labelled(
    "closure_reason",
    [
        ("GoalsMet", N_("Goals of the case plan met")),
        ("Reintegrated", N_("Returned and reintegrated")),
        ("Transferred", N_("Transferred to another organisation")),
        ("LostContact", N_("Lost contact")),
        ("Declined", N_("Declined further assistance")),
        ("Deceased", N_("Deceased")),
        ("Other", N_("Other")),
    ],
)
