"""The case forms: opening, the person's profile, the victim context, closing and reopening."""

from __future__ import annotations

from datetime import date

import pytest

from ctm_plugin.schemas import case
from ctm_plugin.schemas.base import (
    IN_THE_FUTURE,
    NOT_A_DATE,
    NOT_A_NUMBER,
    NOT_IN_LIST,
    REQUIRED,
    TOO_LONG,
)
from ctm_plugin.schemas.case import (
    CloseCaseSchema,
    ClosureDecisionSchema,
    OpenCaseSchema,
    PersonSchema,
    ReassignAllSchema,
    ReassignSchema,
    ReopenCaseSchema,
    VictimContextSchema,
)
from ctm_plugin.schemas.testing import BIRTH, TODAY, UNKNOWN_FIELD, errors_for, load, refused_messages, untranslated

SCHEMAS = (
    OpenCaseSchema,
    PersonSchema,
    VictimContextSchema,
    CloseCaseSchema,
    ReopenCaseSchema,
    ClosureDecisionSchema,
    ReassignSchema,
    ReassignAllSchema,
)

VALID = {
    OpenCaseSchema: {"opened_on": "2026-06-15"},
    PersonSchema: {
        "version": "3",
        "gender": "Feminine",
        "marital_status": "Single",
        "education": "PrimaryEducation",
        "languages": ["khm", "tha"],
        "citizenships": ["KHM"],
        "number_of_children": "2",
        "birth_date": "1990-04-02",
        "birth_date_precision": "Day",
    },
    VictimContextSchema: {
        "version": "3",
        "trafficking_status": "ActualVictimOfTrafficking",
        "status_decided_by": "Police",
        "age_first_trafficked": "17",
        "recruitment_methods": ["AtWork"],
        "control_methods": ["DebtBondage", "WithholdsDocuments"],
        "exploitation_types": ["ForcedLabour"],
        "labour_industry": "A01",
        "sexual_exploitation_types": [],
        "recruiter_relationship": "Friend",
    },
    CloseCaseSchema: {
        "version": "3",
        "status": "ClosedReferred",
        "close_reason": "Transferred",
        "closed_on": "2026-06-01",
        "reason": "Referred on.",
    },
    ReopenCaseSchema: {"version": "3", "reason": "New information."},
    ClosureDecisionSchema: {"version": "3", "decision": "refuse", "refusal": "A follow-up is due."},
    ReassignSchema: {"version": "3", "owner": "khm.caseworker"},
    ReassignAllSchema: {"from_owner": "caseworker", "to_owner": "supervisor", "confirmed": "y"},
}


def test_valid_forms_load_into_typed_values():
    assert load(OpenCaseSchema, VALID[OpenCaseSchema]) == {"opened_on": date(2026, 6, 15)}
    person = load(PersonSchema, VALID[PersonSchema])
    assert person["version"] == 3 and person["number_of_children"] == 2
    assert person["birth_date"] == BIRTH and person["languages"] == ["khm", "tha"]
    victim = load(VictimContextSchema, VALID[VictimContextSchema])
    assert victim["age_first_trafficked"] == 17 and victim["control_methods"] == ["DebtBondage", "WithholdsDocuments"]
    closing = load(CloseCaseSchema, VALID[CloseCaseSchema])
    assert closing == {
        "version": 3,
        "status": "ClosedReferred",
        "close_reason": "Transferred",
        "closed_on": date(2026, 6, 1),
        "reason": "Referred on.",
        "confirmed": False,
    }
    assert load(ReopenCaseSchema, VALID[ReopenCaseSchema]) == {"version": 3, "reason": "New information."}
    assert load(ReassignAllSchema, VALID[ReassignAllSchema])["confirmed"] is True


def test_a_closing_needs_its_reason_from_the_list_and_a_note_for_other():
    other = {**VALID[CloseCaseSchema], "close_reason": "Other"}
    assert errors_for(CloseCaseSchema, {**other, "reason": ""}) == {"reason": ["Say why the case is closed."]}
    assert errors_for(CloseCaseSchema, {**other, "close_reason": "Bored"}) == {"close_reason": [NOT_IN_LIST]}
    assert errors_for(CloseCaseSchema, {k: v for k, v in other.items() if k != "close_reason"}) == {
        "close_reason": [REQUIRED]
    }


def test_a_refusal_says_why_and_a_decision_is_approve_or_refuse():
    decision = VALID[ClosureDecisionSchema]
    assert errors_for(ClosureDecisionSchema, {**decision, "refusal": ""}) == {
        "refusal": ["Say why the case stays open."]
    }
    assert errors_for(ClosureDecisionSchema, {**decision, "decision": "maybe"}) == {"decision": [NOT_IN_LIST]}
    assert load(ClosureDecisionSchema, {"version": "3", "decision": "approve"}) == {"version": 3, "decision": "approve"}


def test_an_almost_empty_form_loads_with_empty_lists():
    assert load(PersonSchema, {"version": "1"}) == {
        "version": 1,
        "languages": [],
        "citizenships": [],
        "birth_date_precision": "Unknown",
    }
    assert load(VictimContextSchema, {"version": "1"})["exploitation_types"] == []


def test_blank_strings_count_as_absent():
    blank = {"version": "1", "gender": "", "education": "   ", "number_of_children": " ", "birth_date": ""}
    assert load(PersonSchema, blank) == {
        "version": 1,
        "languages": [],
        "citizenships": [],
        "birth_date_precision": "Unknown",
    }
    assert errors_for(OpenCaseSchema, {"opened_on": "  "}) == {"opened_on": [REQUIRED]}
    assert errors_for(ReopenCaseSchema, {"version": "", "reason": "\t"}) == {
        "version": [REQUIRED],
        "reason": [REQUIRED],
    }


@pytest.mark.parametrize(
    ("schema", "field", "value", "message"),
    [
        (OpenCaseSchema, "opened_on", "15/06/2026", NOT_A_DATE),
        (OpenCaseSchema, "opened_on", "2026-02-30", NOT_A_DATE),
        (OpenCaseSchema, "opened_on", 20260615, NOT_A_DATE),
        (PersonSchema, "version", "three", NOT_A_NUMBER),
        (PersonSchema, "version", True, NOT_A_NUMBER),
        (PersonSchema, "number_of_children", "two", NOT_A_NUMBER),
        (PersonSchema, "number_of_children", "2.5", NOT_A_NUMBER),
        (PersonSchema, "number_of_children", "31", "Enter a number from 0 to 30."),
        (PersonSchema, "number_of_children", "-1", "Enter a number from 0 to 30."),
        (PersonSchema, "gender", 7, NOT_IN_LIST),
        (PersonSchema, "languages", "tha", NOT_IN_LIST),
        (PersonSchema, "citizenships", [1], NOT_IN_LIST),
        (PersonSchema, "citizenships", [None], NOT_IN_LIST),
        (VictimContextSchema, "age_first_trafficked", "121", "Enter an age from 0 to 120."),
        (VictimContextSchema, "age_first_trafficked", "teen", NOT_A_NUMBER),
        (VictimContextSchema, "control_methods", {"a": 1}, NOT_IN_LIST),
        (CloseCaseSchema, "status", 1, NOT_IN_LIST),
        (CloseCaseSchema, "status", None, REQUIRED),
        (CloseCaseSchema, "reason", 42, TOO_LONG),
        (CloseCaseSchema, "reason", "x" * 2001, TOO_LONG),
        (ReopenCaseSchema, "reason", ["a"], TOO_LONG),
    ],
)
def test_wrong_types_are_refused_naming_the_field(schema, field, value, message):
    assert refused_messages(VALID, schema, field, value) == {message}


@pytest.mark.parametrize(
    ("schema", "field", "value"),
    [
        (PersonSchema, "gender", "Robot"),
        (PersonSchema, "marital_status", "single"),  # codes are case-sensitive
        (PersonSchema, "education", "University"),
        (PersonSchema, "languages", ["khm", "klingon"]),
        (PersonSchema, "citizenships", ["XXX"]),
        (PersonSchema, "birth_date_precision", "Week"),
        (VictimContextSchema, "trafficking_status", "Victim"),
        (VictimContextSchema, "status_decided_by", "Army"),
        (VictimContextSchema, "recruitment_methods", ["ByPigeon"]),
        (VictimContextSchema, "exploitation_types", ["ForcedLabour", "Unknown"]),
        (VictimContextSchema, "labour_industry", "Z99"),
        (VictimContextSchema, "sexual_exploitation_types", ["Other"]),
        (VictimContextSchema, "recruiter_relationship", "Neighbour"),
        (CloseCaseSchema, "status", "Active"),  # closing needs a closed status
        (CloseCaseSchema, "status", "FollowUp"),
    ],
)
def test_unknown_codes_are_refused_naming_the_field(schema, field, value):
    errors = errors_for(schema, {**VALID[schema], field: value})
    assert errors == {field: [NOT_IN_LIST]}


@pytest.mark.parametrize("schema", SCHEMAS)
def test_unknown_fields_are_refused_naming_them(schema):
    errors = errors_for(schema, {**VALID[schema], "beneficiary_id": "BEN-1", "is_admin": "1"})
    assert errors == {"beneficiary_id": [UNKNOWN_FIELD], "is_admin": [UNKNOWN_FIELD]}


@pytest.mark.parametrize(
    ("schema", "required"),
    [
        (OpenCaseSchema, {"opened_on"}),
        (PersonSchema, {"version"}),
        (VictimContextSchema, {"version"}),
        (CloseCaseSchema, {"version", "status", "close_reason", "closed_on"}),
        (ReopenCaseSchema, {"version", "reason"}),
        (ClosureDecisionSchema, {"version", "decision"}),
        (ReassignSchema, {"version", "owner"}),
        (ReassignAllSchema, {"from_owner", "to_owner"}),
    ],
)
def test_required_fields_are_named(schema, required):
    assert errors_for(schema, {}) == {name: [REQUIRED] for name in required}


def test_a_form_that_is_not_a_mapping_is_refused():
    assert errors_for(PersonSchema, ["version", "1"]) == {"_schema": ["The form is not valid."]}


@pytest.mark.parametrize(
    ("schema", "field"),
    [(OpenCaseSchema, "opened_on"), (PersonSchema, "birth_date"), (CloseCaseSchema, "closed_on")],
)
def test_dates_in_the_future_are_refused(schema, field):
    assert load(schema, {**VALID[schema], field: TODAY.isoformat()})[field] == TODAY
    errors = errors_for(schema, {**VALID[schema], field: "2026-06-16"})
    assert errors[field] == [IN_THE_FUTURE]


def test_today_defaults_to_the_real_date():
    assert OpenCaseSchema().today == date.today()
    assert "opened_on" in errors_for(OpenCaseSchema, {"opened_on": "2999-01-01"})


@pytest.mark.parametrize(
    ("schema", "field"),
    [(OpenCaseSchema, "opened_on"), (PersonSchema, "birth_date"), (CloseCaseSchema, "closed_on")],
)
def test_case_dates_are_not_compared_with_the_birth_date(schema, field):
    """Opening and closing follow the case, not the person; the birth date is the reference itself."""
    early = {**VALID[schema], field: "1980-01-01"}
    assert load(schema, early, birth_date=BIRTH)[field] == date(1980, 1, 1)


def test_the_birth_date_and_its_precision_go_together():
    # A date without a precision is taken to the day; a precision without a date is refused.
    assert load(PersonSchema, {"version": "1", "birth_date": "1990-04-02"})["birth_date_precision"] == "Day"
    errors = errors_for(PersonSchema, {"version": "1", "birth_date": "1990-04-02", "birth_date_precision": "Unknown"})
    assert errors == {"birth_date_precision": ["Say how precise the date is."]}
    errors = errors_for(PersonSchema, {"version": "1", "birth_date_precision": "Month"})
    assert errors == {"birth_date": ["Give the date, or set its precision to unknown."]}


def test_a_birth_date_known_to_the_year_is_stored_as_its_first_day():
    loaded = load(PersonSchema, {"version": "1", "birth_date": "1990-08-17", "birth_date_precision": "Year"})
    assert (loaded["birth_date"], loaded["birth_date_precision"]) == (date(1990, 1, 1), "Year")


def test_an_actual_victim_needs_who_decided():
    data = {**VALID[VictimContextSchema], "status_decided_by": ""}
    assert errors_for(VictimContextSchema, data) == {
        "status_decided_by": ["Say which kind of organisation decided the status."]
    }
    assert load(VictimContextSchema, {**data, "trafficking_status": "PossibleVictimOfTrafficking"})


# -- Every message a case form can show is translated ----------------------------------------


@pytest.mark.parametrize("locale", ["fr", "es"])
def test_every_message_the_case_forms_can_produce_is_translated(locale):
    produced, missing = untranslated(locale, case, SCHEMAS, VALID)
    assert produced, "the wrong values produced no message at all"
    assert missing == set()
