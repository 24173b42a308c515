"""The screening rule against a table of cases."""

import pytest

from ctm_plugin.domain.palermo import NOT_A_VICTIM, UNDETERMINED, VICTIM, recommend

ACT = ["Recruitment"]
MEANS = ["Deception"]
PURPOSE = ["ForcedLabour"]


@pytest.mark.parametrize(
    ("label", "acts", "means", "purposes", "age", "outcome", "reason"),
    [
        ("adult with act, means and purpose", ACT, MEANS, PURPOSE, 30, VICTIM, "MeansPresent"),
        ("adult without means", ACT, [], PURPOSE, 30, NOT_A_VICTIM, "NoMeans"),
        ("adult of exactly 18 without means", ACT, [], PURPOSE, 18, NOT_A_VICTIM, "NoMeans"),
        ("child without means", ACT, [], PURPOSE, 15, VICTIM, "ChildNoMeansNeeded"),
        ("child of 17 without means", ACT, [], PURPOSE, 17, VICTIM, "ChildNoMeansNeeded"),
        ("child with means", ACT, MEANS, PURPOSE, 12, VICTIM, "MeansPresent"),
        ("no act", [], MEANS, PURPOSE, 30, NOT_A_VICTIM, "NoAct"),
        ("child with no act", [], [], PURPOSE, 15, NOT_A_VICTIM, "NoAct"),
        ("no purpose", ACT, MEANS, [], 30, NOT_A_VICTIM, "NoPurpose"),
        ("child with no purpose", ACT, [], [], 15, NOT_A_VICTIM, "NoPurpose"),
        ("nothing at all", [], [], [], None, NOT_A_VICTIM, "NoAct"),
        ("age unknown, no means", ACT, [], PURPOSE, None, UNDETERMINED, "AgeUnknownNoMeans"),
        ("age unknown, with means", ACT, MEANS, PURPOSE, None, VICTIM, "MeansPresent"),
        (
            "several acts, means and purposes",
            ["Transportation", "Harbouring"],
            ["Threat", "Force"],
            ["SexualExploitation", "ForcedBegging"],
            25,
            VICTIM,
            "PurposePresent",
        ),
    ],
)
def test_screening_rule(label, acts, means, purposes, age, outcome, reason):
    result = recommend(acts, means, purposes, age)
    assert result.outcome == outcome, label
    assert reason in result.reasons, label


def test_every_element_gets_exactly_one_reason():
    result = recommend([], [], [], 40)
    assert result.reasons == ("NoAct", "NoMeans", "NoPurpose")
