"""The assistance forms: services, consent and its withdrawal, referrals."""

from __future__ import annotations

from datetime import date

import pytest

from ctm_plugin.codelists import process as process_lists
from ctm_plugin.schemas import assistance
from ctm_plugin.schemas.assistance import ConsentSchema, ReferralSchema, ServiceSchema, WithdrawConsentSchema
from ctm_plugin.schemas.base import (
    BEFORE_BIRTH,
    END_BEFORE_START,
    IN_THE_FUTURE,
    NOT_A_DATE,
    NOT_A_NUMBER,
    NOT_IN_LIST,
    REQUIRED,
    TOO_LONG,
)
from ctm_plugin.schemas.testing import BIRTH, TODAY, UNKNOWN_FIELD, errors_for, load, refused_messages, untranslated

NO_CONSENT = "Consent cannot be recorded unless the person consented or assented."
SCHEMAS = (ServiceSchema, ConsentSchema, WithdrawConsentSchema, ReferralSchema)

VALID = {
    ServiceSchema: {
        "version": "5",
        "type": "Shelter",
        "provider": "Safe House Foundation",
        "provider_type": "NGO",
        "start_date": "2026-01-10",
        "end_date": "2026-03-10",
        "status": "Completed",
        "notes": "Stayed eight weeks.",
    },
    ConsentSchema: {
        "version": "5",
        "purpose": "Referral",
        "items": ["ConsentedToInterview", "InformedOfPurpose", "InformedOfWithdrawal"],
        "given_on": "2026-01-09",
        "method": "Written",
        "interpreter_used": "on",
    },
    WithdrawConsentSchema: {"version": "5", "withdrawn_on": "2026-02-01", "reason": "Changed their mind."},
    ReferralSchema: {
        "version": "5",
        "direction": "Outgoing",
        "organisation": "Legal Aid Centre",
        "organisation_type": "LegalService",
        "referred_on": "2026-02-02",
        "reason": "AdditionalServicesRequired",
        "case_worker": "Ms Lee",
        "details": "Labour claim.",
    },
}


def test_valid_forms_load_into_typed_values():
    service = load(ServiceSchema, VALID[ServiceSchema])
    assert service["start_date"] == date(2026, 1, 10) and service["end_date"] == date(2026, 3, 10)
    consent = load(ConsentSchema, VALID[ConsentSchema])
    assert consent["interpreter_used"] is True and consent["given_on"] == date(2026, 1, 9)
    assert consent["items"] == ["ConsentedToInterview", "InformedOfPurpose", "InformedOfWithdrawal"]
    assert load(WithdrawConsentSchema, VALID[WithdrawConsentSchema])["withdrawn_on"] == date(2026, 2, 1)
    referral = load(ReferralSchema, VALID[ReferralSchema])
    assert referral["referred_on"] == date(2026, 2, 2) and referral["direction"] == "Outgoing"


def test_consent_knows_the_seven_htcds_items():
    assert len(process_lists.CONSENT_ITEM) == 7
    consent = load(ConsentSchema, {**VALID[ConsentSchema], "items": list(process_lists.CONSENT_ITEM.values)})
    assert consent["items"] == list(process_lists.CONSENT_ITEM.values)


def test_blank_strings_count_as_absent():
    service = load(ServiceSchema, {"version": "1", "type": "Legal", "provider": "X", "status": "Planned", "notes": " "})
    assert service == {"version": 1, "type": "Legal", "provider": "X", "status": "Planned"}
    consent = load(ConsentSchema, {**VALID[ConsentSchema], "interpreter_used": ""})
    assert consent["interpreter_used"] is False
    assert errors_for(WithdrawConsentSchema, {"version": "1", "withdrawn_on": " "}) == {"withdrawn_on": [REQUIRED]}
    assert errors_for(ReferralSchema, {**VALID[ReferralSchema], "organisation": "   "}) == {"organisation": [REQUIRED]}


@pytest.mark.parametrize(
    ("schema", "field", "value", "message"),
    [
        (ServiceSchema, "version", "five", NOT_A_NUMBER),
        (ServiceSchema, "start_date", "10.01.2026", NOT_A_DATE),
        (ServiceSchema, "provider", "x" * 121, TOO_LONG),
        (ServiceSchema, "provider", 7, TOO_LONG),
        (ServiceSchema, "type", ["Shelter"], NOT_IN_LIST),
        (ConsentSchema, "interpreter_used", "sometimes", "Choose yes or no."),
        (ConsentSchema, "items", "ConsentedToInterview", NOT_IN_LIST),
        (ConsentSchema, "given_on", 2026, NOT_A_DATE),
        (WithdrawConsentSchema, "withdrawn_on", "yesterday", NOT_A_DATE),
        (WithdrawConsentSchema, "reason", "x" * 2001, TOO_LONG),
        (ReferralSchema, "referred_on", "2026-13-01", NOT_A_DATE),
        (ReferralSchema, "details", ["a"], TOO_LONG),
        (ReferralSchema, "version", None, REQUIRED),
    ],
)
def test_wrong_types_are_refused_naming_the_field(schema, field, value, message):
    assert refused_messages(VALID, schema, field, value) == {message}


@pytest.mark.parametrize(
    ("schema", "field", "value"),
    [
        (ServiceSchema, "type", "Spa"),
        (ServiceSchema, "provider_type", "Church"),
        (ServiceSchema, "status", "Done"),
        (ConsentSchema, "purpose", "Marketing"),
        (ConsentSchema, "items", ["ConsentedToInterview", "InformedOfEverything"]),
        (ConsentSchema, "method", "Telepathy"),
        (ReferralSchema, "direction", "Sideways"),
        (ReferralSchema, "organisation_type", "Church"),
        (ReferralSchema, "reason", "Boredom"),
    ],
)
def test_unknown_codes_are_refused_naming_the_field(schema, field, value):
    assert errors_for(schema, {**VALID[schema], field: value}) == {field: [NOT_IN_LIST]}


@pytest.mark.parametrize("schema", SCHEMAS)
def test_unknown_fields_are_refused_naming_them(schema):
    errors = errors_for(schema, {**VALID[schema], "recorded_by": "someone", "id": "1"})
    assert errors == {"recorded_by": [UNKNOWN_FIELD], "id": [UNKNOWN_FIELD]}


@pytest.mark.parametrize(
    ("schema", "required"),
    [
        (ServiceSchema, {"version", "type", "provider", "status"}),
        (ConsentSchema, {"version", "purpose", "given_on", "method"}),
        (WithdrawConsentSchema, {"version", "withdrawn_on"}),
        (ReferralSchema, {"version", "direction", "organisation", "organisation_type", "referred_on", "reason"}),
    ],
)
def test_required_fields_are_named(schema, required):
    assert errors_for(schema, {}) == {name: [REQUIRED] for name in required}


DATES = [
    (ServiceSchema, "start_date"),
    (ServiceSchema, "end_date"),
    (ConsentSchema, "given_on"),
    (WithdrawConsentSchema, "withdrawn_on"),
    (ReferralSchema, "referred_on"),
]


@pytest.mark.parametrize(("schema", "field"), DATES)
def test_dates_in_the_future_are_refused(schema, field):
    data = {**VALID[schema], field: TODAY.isoformat()}
    if schema is ServiceSchema:
        data = {**data, "start_date": TODAY.isoformat(), "end_date": TODAY.isoformat()}
    assert load(schema, data)[field] == TODAY
    assert errors_for(schema, {**data, field: "2026-06-16"})[field] == [IN_THE_FUTURE]


@pytest.mark.parametrize(("schema", "field"), DATES)
def test_dates_before_birth_are_refused(schema, field):
    data = {**VALID[schema], field: "1990-04-01"}
    if schema is ServiceSchema:
        data = {**data, "start_date": "1990-04-01", "end_date": "1990-04-01"}
    assert errors_for(schema, data, birth_date=BIRTH)[field] == [BEFORE_BIRTH]
    assert load(schema, data, birth_date=date(1990, 4, 1))[field] == date(1990, 4, 1)


def test_a_service_cannot_end_before_it_starts():
    data = {**VALID[ServiceSchema], "start_date": "2026-03-10", "end_date": "2026-03-09"}
    assert errors_for(ServiceSchema, data) == {"end_date": [END_BEFORE_START]}


@pytest.mark.parametrize("status", ["Ongoing", "Completed"])
def test_a_service_under_way_needs_its_start(status):
    data = {**VALID[ServiceSchema], "status": status, "start_date": ""}
    assert errors_for(ServiceSchema, data) == {"start_date": ["A service under way or completed needs its start date."]}
    assert load(ServiceSchema, {**data, "status": "Planned"})["status"] == "Planned"


def test_a_completed_service_needs_its_end_date():
    data = {**VALID[ServiceSchema], "end_date": ""}
    assert errors_for(ServiceSchema, data) == {"end_date": ["A completed service needs its end date."]}
    assert "end_date" not in load(ServiceSchema, {**data, "status": "Ongoing"})


def test_only_a_planned_service_may_have_dates_ahead():
    ahead = {**VALID[ServiceSchema], "start_date": "2026-07-01", "end_date": "2026-08-01"}
    planned = load(ServiceSchema, {**ahead, "status": "Planned"})
    assert (planned["start_date"], planned["end_date"]) == (date(2026, 7, 1), date(2026, 8, 1))
    for status in ("Ongoing", "Completed", "Cancelled"):
        errors = errors_for(ServiceSchema, {**ahead, "status": status})
        assert errors == {"start_date": [IN_THE_FUTURE], "end_date": [IN_THE_FUTURE]}, status
    before = {**ahead, "status": "Planned", "start_date": "2026-08-02"}
    assert errors_for(ServiceSchema, before) == {"end_date": [END_BEFORE_START]}


def test_consent_needs_the_person_to_have_consented():
    data = {**VALID[ConsentSchema], "items": ["InformedOfPurpose"]}
    assert errors_for(ConsentSchema, data) == {"items": [NO_CONSENT]}
    assert errors_for(ConsentSchema, {**data, "items": []}) == {"items": [NO_CONSENT]}


@pytest.mark.parametrize("locale", ["fr", "es"])
def test_every_message_the_assistance_forms_can_produce_is_translated(locale):
    produced, missing = untranslated(locale, assistance, SCHEMAS, VALID)
    assert NO_CONSENT in produced
    assert missing == set()
