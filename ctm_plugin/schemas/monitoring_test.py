"""The Monitoring tab's forms: a visit's date, mode, outcome, reason, risks and bounds."""

from __future__ import annotations

import pytest

from ctm_plugin.schemas.base import IN_THE_FUTURE, NOT_IN_LIST, REQUIRED, TOO_LONG
from ctm_plugin.schemas.monitoring import MISSED_NEEDS_REASON, NOT_A_MONTH, MonitoringStartSchema, VisitSchema
from ctm_plugin.schemas.testing import UNKNOWN_FIELD, errors_for, load

VALID = {
    MonitoringStartSchema: {"version": "2", "start_on": "2026-01-10"},
    VisitSchema: {
        "version": "2",
        "visited_on": "2026-06-10",
        "schedule_month": "3",
        "mode": "Phone",
        "outcome": "Reached",
        "risks": ["Debt", "NoIncome"],
        "notes": "Working at the market",
    },
}


def test_a_valid_visit_loads():
    loaded = load(VisitSchema, VALID[VisitSchema])
    assert (loaded["schedule_month"], loaded["risks"], loaded["outcome"]) == (3, ["Debt", "NoIncome"], "Reached")


def test_a_risk_sent_twice_is_kept_once():
    loaded = load(VisitSchema, {**VALID[VisitSchema], "risks": ["Debt", "NoIncome", "Debt"]})
    assert loaded["risks"] == ["Debt", "NoIncome"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"visited_on": "2026-06-16"}, "visited_on", IN_THE_FUTURE),
        ({"visited_on": ""}, "visited_on", REQUIRED),
        ({"mode": "Pigeon"}, "mode", NOT_IN_LIST),
        ({"outcome": "Maybe"}, "outcome", NOT_IN_LIST),
        ({"outcome": "Missed"}, "missed_reason", MISSED_NEEDS_REASON),
        ({"schedule_month": "121"}, "schedule_month", NOT_A_MONTH),
        ({"risks": ["Debt", "Aliens"]}, "risks", NOT_IN_LIST),
        ({"notes": "x" * 4001}, "notes", TOO_LONG),
        ({"colour": "red"}, "colour", UNKNOWN_FIELD),
    ],
)
def test_a_bad_visit_is_refused_naming_the_field(changes, field, message):
    assert message in str(errors_for(VisitSchema, {**VALID[VisitSchema], **changes})[field])


def test_a_missed_visit_keeps_its_reason():
    data = {**VALID[VisitSchema], "outcome": "Missed", "missed_reason": "Moved to the city"}
    assert load(VisitSchema, data)["missed_reason"] == "Moved to the city"
