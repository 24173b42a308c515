"""The Palermo Protocol rule (art. 3): act AND means AND purpose; under 18 at the time of
the act, act AND purpose suffice. When the age is unknown but there are reasons to believe the
person is a child, they are presumed one (Council of Europe Convention art. 10(3), Directive
2011/36/EU art. 13(2)). Pure: it recommends, a person with the determination permission decides.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from ctm_plugin.i18n import N_

ADULT_AGE = 18

VICTIM = "VictimOfTrafficking"
NOT_A_VICTIM = "NotAVictim"
UNDETERMINED = "Undetermined"

# Reason codes, stored with each screening; their labels follow the reader's language.
REASONS = {
    "ActPresent": N_("An act was recorded (recruitment, transportation, transfer, harbouring or receipt)."),
    "NoAct": N_("No act was recorded."),
    "MeansPresent": N_("A means was recorded."),
    "NoMeans": N_("No means was recorded and the person was an adult at the time of the act."),
    "ChildNoMeansNeeded": N_("The person was under 18 at the time of the act: means are not required."),
    "AgeUnknownNoMeans": N_(
        "No means was recorded and the age at the time of the act is unknown: record it, "
        "since for a child means are not required."
    ),
    "PresumedChild": N_(
        "The age at the time of the act is unknown, but there are reasons to believe the person is a child: "
        "they are presumed a child (Council of Europe Convention, art. 10(3); Directive 2011/36/EU, art. 13(2)), "
        "so means are not required."
    ),
    "PurposePresent": N_("A purpose of exploitation was recorded."),
    "NoPurpose": N_("No purpose of exploitation was recorded."),
}


@dataclass(frozen=True)
class Recommendation:
    outcome: str
    reasons: tuple[str, ...]


def recommend(
    acts: Collection[str],
    means: Collection[str],
    purposes: Collection[str],
    age_at_act: int | None,
    *,
    believed_child: bool = False,
) -> Recommendation:
    """``believed_child``: there are reasons to believe the person is a child; it counts while the age is unknown."""
    reasons: list[str] = ["ActPresent" if acts else "NoAct"]
    if means:
        reasons.append("MeansPresent")
    if age_at_act is None and believed_child:  # said even with means: the person is treated as a child
        reasons.append("PresumedChild")
    elif means:
        pass
    elif age_at_act is None:
        reasons.append("AgeUnknownNoMeans")
    elif age_at_act < ADULT_AGE:
        reasons.append("ChildNoMeansNeeded")
    else:
        reasons.append("NoMeans")
    reasons.append("PurposePresent" if purposes else "NoPurpose")

    if not acts or not purposes or "NoMeans" in reasons:
        outcome = NOT_A_VICTIM
    elif "AgeUnknownNoMeans" in reasons:
        outcome = UNDETERMINED
    else:
        outcome = VICTIM
    return Recommendation(outcome, tuple(reasons))
