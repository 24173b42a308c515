"""Labels for the codes the host stores (HOST_CONTRACT §2), so pages never show a bare code."""

from __future__ import annotations

from .i18n import N_

LABELS: dict[str, dict[str, str]] = {
    "sex": {"F": N_("Female"), "M": N_("Male"), "X": N_("Another sex"), "U": N_("Unknown")},
    "document_type": {
        "PASSPORT": N_("Passport"),
        "NATIONAL_ID": N_("National ID card"),
        "TRAVEL_DOCUMENT": N_("Travel document"),
        "LAISSEZ_PASSER": N_("Laissez-passer"),
        "OTHER": N_("Other document"),
    },
    "vulnerability": {
        "VOT": N_("Victim of trafficking"),
        "UAM": N_("Unaccompanied minor"),
        "SMC": N_("Separated child"),
        "MED": N_("Medical need"),
        "OTH": N_("Other vulnerability"),
    },
    "movement_type": {
        "AVRR": N_("Assisted voluntary return and reintegration"),
        "RST": N_("Resettlement"),
        "OTHER": N_("Other movement"),
    },
    "escort": {
        "NONE": N_("No escort"),
        "OPERATIONAL": N_("Operational escort"),
        "MEDICAL": N_("Medical escort"),
        "CHILD": N_("Child escort"),
    },
    "movement_status": {
        "REQUESTED": N_("Requested"),
        "BOOKED": N_("Booked"),
        "CONFIRMED": N_("Confirmed"),
        "DEPARTED": N_("Departed"),
        "ARRIVED": N_("Arrived"),
        "CANCELLED": N_("Cancelled"),
        "NO_SHOW": N_("No show"),
    },
}


def label(kind: str, code: str | None) -> str:
    """The msgid labelling ``code``; an unknown code is shown as it is rather than hidden."""
    if code is None:
        return "—"
    return LABELS[kind].get(code, code)
