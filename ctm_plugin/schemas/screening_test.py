"""The screening forms: a Palermo interview and a determination."""

from __future__ import annotations

from datetime import date

import pytest

from ctm_plugin.schemas import screening
from ctm_plugin.schemas.base import (
    BEFORE_BIRTH,
    IN_THE_FUTURE,
    NOT_A_DATE,
    NOT_A_NUMBER,
    NOT_IN_LIST,
    REQUIRED,
    TOO_LONG,
)
from ctm_plugin.schemas.screening import DeterminationSchema, ScreeningCorrectionSchema, ScreeningSchema
from ctm_plugin.schemas.testing import BIRTH, TODAY, UNKNOWN_FIELD, errors_for, load, refused_messages, untranslated

SCHEMAS = (ScreeningSchema, ScreeningCorrectionSchema, DeterminationSchema)

VALID = {
    ScreeningSchema: {
        "version": "2",
        "interview_date": "2026-05-04",
        "place": "Shelter, Bangkok",
        "interviewer": "Dara",
        "interpreter": "Sok",
        "language": "khm",
        "age_at_act": "16",
        "acts": ["Recruitment", "Transportation"],
        "means": ["Deception"],
        "purposes": ["ForcedLabour"],
    },
    ScreeningCorrectionSchema: {
        "version": "2",
        "interview_date": "2026-05-04",
        "place": "Shelter, Bangkok",
        "interviewer": "Dara",
        "believed_child": "on",
        "purposes": ["ForcedLabour"],
        "reason": "The age was misheard.",
    },
    DeterminationSchema: {
        "version": "2",
        "decision": "VictimOfTrafficking",
        "reason": "All three elements.",
        "screening_id": "7",
    },
}


def test_valid_forms_load_into_typed_values():
    interview = load(ScreeningSchema, VALID[ScreeningSchema])
    assert interview["interview_date"] == date(2026, 5, 4) and interview["age_at_act"] == 16
    assert interview["acts"] == ["Recruitment", "Transportation"] and interview["purposes"] == ["ForcedLabour"]
    assert load(DeterminationSchema, VALID[DeterminationSchema]) == {
        "version": 2,
        "decision": "VictimOfTrafficking",
        "reason": "All three elements.",
        "screening_id": 7,
    }


def test_blank_strings_count_as_absent():
    minimal = {"version": "1", "interview_date": "2026-05-04", "place": "Office", "interviewer": "Dara"}
    loaded = load(ScreeningSchema, {**minimal, "interpreter": "", "language": " ", "age_at_act": ""})
    assert loaded == {
        **minimal,
        "version": 1,
        "interview_date": date(2026, 5, 4),
        "believed_child": False,
        "acts": [],
        "means": [],
        "purposes": [],
    }
    determination = load(DeterminationSchema, {**VALID[DeterminationSchema], "screening_id": ""})
    assert determination["screening_id"] is None
    assert errors_for(DeterminationSchema, {**VALID[DeterminationSchema], "reason": "  "}) == {"reason": [REQUIRED]}


@pytest.mark.parametrize(
    ("schema", "field", "value", "message"),
    [
        (ScreeningSchema, "version", "2.0", NOT_A_NUMBER),
        (ScreeningSchema, "interview_date", "4 May 2026", NOT_A_DATE),
        (ScreeningSchema, "age_at_act", "sixteen", NOT_A_NUMBER),
        (ScreeningSchema, "age_at_act", "121", "Enter an age from 0 to 120."),
        (ScreeningSchema, "age_at_act", "-1", "Enter an age from 0 to 120."),
        (ScreeningSchema, "place", "x" * 121, TOO_LONG),
        (ScreeningSchema, "acts", "Recruitment", NOT_IN_LIST),
        (ScreeningSchema, "means", [3], NOT_IN_LIST),
        (ScreeningSchema, "language", 1, NOT_IN_LIST),
        (DeterminationSchema, "screening_id", "first", NOT_A_NUMBER),
        (DeterminationSchema, "screening_id", "0", "Choose a screening of this case."),
        (DeterminationSchema, "screening_id", "99999999999999999999", "Choose a screening of this case."),
        (DeterminationSchema, "decision", ["VictimOfTrafficking"], NOT_IN_LIST),
        (DeterminationSchema, "reason", "x" * 4001, TOO_LONG),
    ],
)
def test_wrong_types_are_refused_naming_the_field(schema, field, value, message):
    assert refused_messages(VALID, schema, field, value) == {message}


@pytest.mark.parametrize(
    ("schema", "field", "value"),
    [
        (ScreeningSchema, "language", "xx"),
        (ScreeningSchema, "acts", ["Recruitment", "Selling"]),
        (ScreeningSchema, "means", ["Persuasion"]),
        (ScreeningSchema, "purposes", ["Tourism"]),
        (DeterminationSchema, "decision", "Victim"),
        (DeterminationSchema, "decision", "PossibleVictimOfTrafficking"),  # an HTCDS status, not a decision
    ],
)
def test_unknown_codes_are_refused_naming_the_field(schema, field, value):
    assert errors_for(schema, {**VALID[schema], field: value}) == {field: [NOT_IN_LIST]}


@pytest.mark.parametrize("schema", SCHEMAS)
def test_unknown_fields_are_refused_naming_them(schema):
    errors = errors_for(schema, {**VALID[schema], "recommendation": "VictimOfTrafficking", "decided_by": "hq"})
    assert errors == {"recommendation": [UNKNOWN_FIELD], "decided_by": [UNKNOWN_FIELD]}


@pytest.mark.parametrize(
    ("schema", "required"),
    [
        (ScreeningSchema, {"version", "interview_date", "place", "interviewer"}),
        (ScreeningCorrectionSchema, {"version", "interview_date", "place", "interviewer", "reason"}),
        (DeterminationSchema, {"version", "decision", "reason"}),
    ],
)
def test_required_fields_are_named(schema, required):
    assert errors_for(schema, {}) == {name: [REQUIRED] for name in required}


def test_an_interview_in_the_future_is_refused():
    assert load(ScreeningSchema, {**VALID[ScreeningSchema], "interview_date": TODAY.isoformat()})
    errors = errors_for(ScreeningSchema, {**VALID[ScreeningSchema], "interview_date": "2026-06-16"})
    assert errors == {"interview_date": [IN_THE_FUTURE]}


def test_an_interview_before_birth_is_refused():
    data = {**VALID[ScreeningSchema], "interview_date": "1990-04-01"}
    assert errors_for(ScreeningSchema, data, birth_date=BIRTH) == {"interview_date": [BEFORE_BIRTH]}
    assert load(ScreeningSchema, data, birth_date=None)["interview_date"] == date(1990, 4, 1)


@pytest.mark.parametrize("locale", ["fr", "es"])
def test_every_message_the_screening_forms_can_produce_is_translated(locale):
    produced, missing = untranslated(locale, screening, SCHEMAS, VALID)
    assert NOT_A_NUMBER in produced
    assert missing == set()


def test_a_correction_says_why_and_may_presume_a_child():
    correction = load(ScreeningCorrectionSchema, VALID[ScreeningCorrectionSchema])
    assert (correction["reason"], correction["believed_child"]) == ("The age was misheard.", True)
    blank = {**VALID[ScreeningCorrectionSchema], "reason": " "}
    assert errors_for(ScreeningCorrectionSchema, blank) == {"reason": [REQUIRED]}
