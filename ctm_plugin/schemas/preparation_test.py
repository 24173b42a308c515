"""The return checklist's forms: bounds, codes, what goes together, dates on the given calendar."""

from __future__ import annotations

from datetime import date

import pytest
from marshmallow import ValidationError

from ctm_plugin.schemas import preparation
from ctm_plugin.schemas.base import IN_THE_FUTURE, IN_THE_PAST, NOT_A_DATE, NOT_IN_LIST, REQUIRED, TOO_LONG
from ctm_plugin.schemas.preparation import (
    DOCUMENT_FIELDS,
    NOT_A_DOCUMENT_NUMBER,
    BestInterestsSchema,
    ChecklistSchema,
    RiskDecisionSchema,
)
from ctm_plugin.schemas.testing import TODAY, UNKNOWN_FIELD, errors_for, load, refused_messages, untranslated

SCHEMAS = (ChecklistSchema, BestInterestsSchema, RiskDecisionSchema)

VALID = {
    ChecklistSchema: {
        "version": "3",
        "planned_departure": "2026-07-01",
        "destination_country": "KHM",
        "counselled_on": "2026-06-10",
        "document_kind": "LAISSEZ_PASSER",
        "document_number": "LP-0042",
        "document_expiry": "2026-12-31",
        "fit_to_travel": "y",
        "escort": "OPERATIONAL",
        "escort_name": "Synthetic Escort",
        "risk_level": "MEDIUM",
        "risk_reason": "The recruiter lives in the home village.",
        "family_traced": "y",
        "family_assessment": "NEGATIVE",
        "alternative_care": "Shelter in Phnom Penh.",
        "signs_of_minority": "",
    },
    BestInterestsSchema: {
        "version": "3",
        "bid_outcome": "RETURN",
        "bid_on": "2026-06-14",
        "bid_reason": "The aunt can care.",
    },
    RiskDecisionSchema: {"version": "3", "risk_decision": "REFUSED", "risk_decision_reason": "Not safe yet."},
}


def test_valid_forms_load_into_typed_values():
    checklist = load(ChecklistSchema, VALID[ChecklistSchema])
    assert checklist["planned_departure"] == date(2026, 7, 1) and checklist["document_expiry"] == date(2026, 12, 31)
    assert checklist["fit_to_travel"] is True and checklist["signs_of_minority"] is False
    assert load(BestInterestsSchema, VALID[BestInterestsSchema])["bid_on"] == date(2026, 6, 14)
    assert load(RiskDecisionSchema, VALID[RiskDecisionSchema])["risk_decision"] == "REFUSED"


def test_an_empty_checklist_is_a_checklist_begun():
    assert load(ChecklistSchema, {"version": "1"}) == {
        "version": 1,
        "fit_to_travel": False,
        "family_traced": False,
        "signs_of_minority": False,
    }


@pytest.mark.parametrize(
    ("schema", "field", "value", "message"),
    [
        (ChecklistSchema, "document_number", "x" * 40, None),
        (ChecklistSchema, "document_number", "x" * 41, NOT_A_DOCUMENT_NUMBER),
        (ChecklistSchema, "document_number", "LP\n42", NOT_A_DOCUMENT_NUMBER),
        (ChecklistSchema, "document_number", "LP\u008542", NOT_A_DOCUMENT_NUMBER),
        (ChecklistSchema, "document_kind", "ID_CARD", NOT_IN_LIST),
        (ChecklistSchema, "escort", "FRIEND", NOT_IN_LIST),
        (ChecklistSchema, "escort_name", "x" * 120, None),
        (ChecklistSchema, "escort_name", "x" * 121, TOO_LONG),
        (ChecklistSchema, "risk_level", "SEVERE", NOT_IN_LIST),
        (ChecklistSchema, "risk_reason", "x" * 4001, TOO_LONG),
        (ChecklistSchema, "family_assessment", ["POSITIVE"], NOT_IN_LIST),
        (ChecklistSchema, "destination_country", "XXX", NOT_IN_LIST),
        (ChecklistSchema, "counselled_on", "10 June", NOT_A_DATE),
        (ChecklistSchema, "fit_to_travel", "maybe", "Choose yes or no."),
        (BestInterestsSchema, "bid_outcome", "MAYBE", NOT_IN_LIST),
        (BestInterestsSchema, "bid_reason", "x" * 4001, TOO_LONG),
        (RiskDecisionSchema, "risk_decision", "PENDING", NOT_IN_LIST),
        (RiskDecisionSchema, "risk_decision_reason", "x" * 4001, TOO_LONG),
    ],
)
def test_each_bound_is_where_the_column_is_and_a_refusal_names_the_field(schema, field, value, message):
    if message is None:
        assert load(schema, {**VALID[schema], field: value})[field] == value
    else:
        assert refused_messages(VALID, schema, field, value) == {message}


@pytest.mark.parametrize(
    ("field", "day", "message"),
    [
        ("planned_departure", TODAY, None),  # today is not the past
        ("planned_departure", date(2026, 6, 14), IN_THE_PAST),
        ("document_expiry", TODAY, None),
        ("document_expiry", date(2026, 6, 14), IN_THE_PAST),
        ("counselled_on", TODAY, None),
        ("counselled_on", date(2026, 6, 16), IN_THE_FUTURE),
    ],
)
def test_dates_are_judged_on_the_calendar_the_form_is_given(field, day, message):
    data = {**VALID[ChecklistSchema], field: day.isoformat()}
    if message is None:
        assert load(ChecklistSchema, data)[field] == day
    else:
        assert errors_for(ChecklistSchema, data) == {field: [message]}


def test_a_document_is_its_kind_number_and_expiry_and_a_risk_level_has_its_reason():
    data = {**VALID[ChecklistSchema], "document_kind": "", "document_expiry": "", "risk_reason": " "}
    assert errors_for(ChecklistSchema, data) == {
        "document_kind": [REQUIRED],
        "document_expiry": [REQUIRED],
        "risk_reason": ["Give the reason for the risk level."],
    }
    without_document = {k: v for k, v in VALID[ChecklistSchema].items() if k not in DOCUMENT_FIELDS}
    assert "document_kind" not in load(ChecklistSchema, without_document)


def test_without_the_identity_group_the_document_is_not_part_of_the_form():
    schema = ChecklistSchema(exclude=DOCUMENT_FIELDS, today=TODAY)
    with pytest.raises(ValidationError) as caught:
        schema.load(VALID[ChecklistSchema])
    assert caught.value.normalized_messages() == {name: [UNKNOWN_FIELD] for name in DOCUMENT_FIELDS}


@pytest.mark.parametrize(
    ("schema", "required"),
    [
        (ChecklistSchema, {"version"}),
        (BestInterestsSchema, {"version", "bid_outcome", "bid_on", "bid_reason"}),
        (RiskDecisionSchema, {"version", "risk_decision", "risk_decision_reason"}),
    ],
)
def test_required_fields_are_named(schema, required):
    assert errors_for(schema, {}) == {name: [REQUIRED] for name in required}


@pytest.mark.parametrize("locale", ["fr", "es"])
def test_every_message_the_checklist_forms_can_produce_is_translated(locale):
    produced, missing = untranslated(locale, preparation, SCHEMAS, VALID)
    assert NOT_A_DOCUMENT_NUMBER in produced
    assert missing == set()
