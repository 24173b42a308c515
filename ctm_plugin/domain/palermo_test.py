"""The screening rule against a table of cases."""

import pytest

from ctm_plugin.domain.palermo import NOT_A_VICTIM, UNDETERMINED, VICTIM, recommend

ACT = ["Recruitment"]
MEANS = ["Deception"]
PURPOSE = ["ForcedLabour"]


@pytest.mark.parametrize(
    ("label", "acts", "means", "purposes", "age", "outcome", "reasons"),
    [
        (
            "adult with act, means and purpose",
            ACT,
            MEANS,
            PURPOSE,
            30,
            VICTIM,
            ("ActPresent", "MeansPresent", "PurposePresent"),
        ),
        ("adult without means", ACT, [], PURPOSE, 30, NOT_A_VICTIM, ("ActPresent", "NoMeans", "PurposePresent")),
        (
            "adult of exactly 18 without means",
            ACT,
            [],
            PURPOSE,
            18,
            NOT_A_VICTIM,
            ("ActPresent", "NoMeans", "PurposePresent"),
        ),
        ("child without means", ACT, [], PURPOSE, 15, VICTIM, ("ActPresent", "ChildNoMeansNeeded", "PurposePresent")),
        (
            "child of 17 without means",
            ACT,
            [],
            PURPOSE,
            17,
            VICTIM,
            ("ActPresent", "ChildNoMeansNeeded", "PurposePresent"),
        ),
        ("child with means", ACT, MEANS, PURPOSE, 12, VICTIM, ("ActPresent", "MeansPresent", "PurposePresent")),
        ("no act", [], MEANS, PURPOSE, 30, NOT_A_VICTIM, ("NoAct", "MeansPresent", "PurposePresent")),
        ("child with no act", [], [], PURPOSE, 15, NOT_A_VICTIM, ("NoAct", "ChildNoMeansNeeded", "PurposePresent")),
        ("no purpose", ACT, MEANS, [], 30, NOT_A_VICTIM, ("ActPresent", "MeansPresent", "NoPurpose")),
        ("child with no purpose", ACT, [], [], 15, NOT_A_VICTIM, ("ActPresent", "ChildNoMeansNeeded", "NoPurpose")),
        ("nothing at all", [], [], [], None, NOT_A_VICTIM, ("NoAct", "AgeUnknownNoMeans", "NoPurpose")),
        (
            "age unknown, no means",
            ACT,
            [],
            PURPOSE,
            None,
            UNDETERMINED,
            ("ActPresent", "AgeUnknownNoMeans", "PurposePresent"),
        ),
        (
            "age unknown, with means",
            ACT,
            MEANS,
            PURPOSE,
            None,
            VICTIM,
            ("ActPresent", "MeansPresent", "PurposePresent"),
        ),
        (
            "several acts, means and purposes",
            ["Transportation", "Harbouring"],
            ["Threat", "Force"],
            ["SexualExploitation", "ForcedBegging"],
            25,
            VICTIM,
            ("ActPresent", "MeansPresent", "PurposePresent"),
        ),
    ],
)
def test_screening_rule(label, acts, means, purposes, age, outcome, reasons):
    result = recommend(acts, means, purposes, age)
    assert result.outcome == outcome, label
    assert result.reasons == reasons, label


def test_every_element_gets_exactly_one_reason():
    result = recommend([], [], [], 40)
    assert result.reasons == ("NoAct", "NoMeans", "NoPurpose")


@pytest.mark.parametrize(
    ("label", "means", "age", "outcome", "reasons"),
    [
        ("age unknown, believed a child", [], None, VICTIM, ("ActPresent", "PresumedChild", "PurposePresent")),
        (
            "age unknown, believed a child, with means",
            MEANS,
            None,
            VICTIM,
            ("ActPresent", "MeansPresent", "PresumedChild", "PurposePresent"),
        ),
        ("a known adult age wins over the belief", [], 30, NOT_A_VICTIM, ("ActPresent", "NoMeans", "PurposePresent")),
    ],
)
def test_a_person_believed_a_child_is_presumed_one_while_the_age_is_unknown(label, means, age, outcome, reasons):
    result = recommend(ACT, means, PURPOSE, age, believed_child=True)
    assert (result.outcome, result.reasons) == (outcome, reasons), label


def test_without_the_belief_an_unknown_age_leaves_the_case_undetermined():
    assert recommend(ACT, [], PURPOSE, None, believed_child=False).outcome == UNDETERMINED
