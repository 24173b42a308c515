from decimal import Decimal

import pytest
from marshmallow import ValidationError

from ctm_plugin import i18n
from ctm_plugin.schemas.mission_settings import (
    MissionSettingsSchema,
    case_close_requires_approval,
    donor_of,
    monitoring_months,
    project_codes,
    providers,
    reception_deadline_hours,
    required_items,
    retention_audit_years,
    retention_closed_case_years,
    retention_outbox_days,
    risk_alert_threshold,
    score_fall,
    screening_vulnerabilities,
)

VALID = {
    "soap_base_url": "https://mimosa.example/",
    "soap_username": "ctm-tha",
    "soap_password": "long-enough",
    "case_number_prefix": "THA-CT",
    "time_zone": "Asia/Bangkok",
    "reception_deadline_hours": 48,
}


CASE_DEFAULTS = {"case_close_requires_approval": False}
RETENTION_DEFAULTS = {"retention_closed_case_years": 10, "retention_audit_years": 10, "retention_outbox_days": 30}
CHECKLIST_DEFAULTS = {
    "return_requires_counselling": True,
    "return_requires_travel_document": True,
    "return_requires_fitness": True,
    "return_requires_escort": False,
    "return_requires_risk": True,
    "return_requires_family_tracing": False,
    "return_requires_family_assessment": False,
    "return_requires_consent_handover": False,
}
REINTEGRATION_DEFAULTS = {
    "monitoring_months": [3, 6, 12],
    "score_fall": Decimal("0.1"),
    "risk_alert_threshold": 3,
    "screening_vulnerabilities": ["VOT"],
    **RETENTION_DEFAULTS,
}
STORED_DEFAULTS = {
    **CASE_DEFAULTS,
    **CHECKLIST_DEFAULTS,
    "monitoring_months": "3, 6, 12",
    "score_fall": "0.1",
    "risk_alert_threshold": 3,
    "screening_vulnerabilities": "VOT",
    **RETENTION_DEFAULTS,
}
"""What the host stores for the settings a form left out: the defaults, as the schema dumps them."""
MONTHS_RULE = "Enter whole numbers of months from 1 to 120, separated by commas, e.g. 3, 6, 12."
LOCAL_HTTP_ONLY = "Use https: only a host on this machine may be reached over plain http."
PREFIX_RULE = "Use 1 to 12 capital letters, digits or hyphens, starting with a letter or digit."


def errors_for(data: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        MissionSettingsSchema().load(data)
    return caught.value.normalized_messages()


def test_valid_settings_load_and_the_prefix_has_a_default():
    assert MissionSettingsSchema().load(VALID) == {
        **VALID,
        **CASE_DEFAULTS,
        **CHECKLIST_DEFAULTS,
        **REINTEGRATION_DEFAULTS,
    }
    without_prefix = {k: v for k, v in VALID.items() if k != "case_number_prefix"}
    assert MissionSettingsSchema().load(without_prefix)["case_number_prefix"] == "CT"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://localhost:8000/", "http://[::1]:8000/"])
def test_plain_http_is_accepted_only_on_this_machine(url):
    loaded = MissionSettingsSchema().load({**VALID, "soap_base_url": url})
    assert loaded == {**VALID, **CASE_DEFAULTS, **CHECKLIST_DEFAULTS, **REINTEGRATION_DEFAULTS, "soap_base_url": url}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("soap_base_url", "ftp://mimosa.example/", "Enter a full http or https address."),
        ("soap_base_url", "not a url", "Enter a full http or https address."),
        ("soap_base_url", "http://mimosa.example/", LOCAL_HTTP_ONLY),
        ("soap_base_url", "http://10.0.0.5/", LOCAL_HTTP_ONLY),
        ("soap_username", "", "Enter between 1 and 80 characters."),
        ("soap_username", "x" * 81, "Enter between 1 and 80 characters."),
        ("soap_username", "ctm\x00tha", "Remove the control characters from this value."),
        ("soap_username", "ctm-tha\uffff", "Remove the control characters from this value."),
        ("soap_username", "ctm-tha\n", "Remove the control characters from this value."),
        ("soap_password", "", "Enter between 1 and 200 characters."),
        ("soap_password", "x" * 201, "Enter between 1 and 200 characters."),
        ("soap_password", "pass\x7fword", "Remove the control characters from this value."),
        ("soap_password", "pass\u0085word", "Remove the control characters from this value."),
        ("soap_base_url", "https://mimosa.example/" + "a" * 400, "Enter at most 400 characters."),
        ("case_number_prefix", "THA\n", PREFIX_RULE),
        ("case_number_prefix", "tha ct", PREFIX_RULE),
        ("case_number_prefix", "-THA", PREFIX_RULE),
    ],
)
def test_bad_values_are_refused_naming_the_field(field, value, message):
    assert errors_for({**VALID, field: value}) == {field: [message]}


@pytest.mark.parametrize("password", ["x", "1234", "pässwörd with spaces", "p" * 200])
def test_the_password_is_whatever_the_host_issued(password):
    """The contract sets no rule on an API user's password: the CTM adds none but the column's length."""
    assert MissionSettingsSchema().load({**VALID, "soap_password": password})["soap_password"] == password


def test_required_fields_and_unknown_fields_are_named():
    errors = errors_for({"case_number_prefix": "CT", "colour": "blue"})
    required = dict.fromkeys(["soap_base_url", "soap_username", "soap_password"], ["This field is required."])
    assert errors == {**required, "colour": ["Unknown field."]}


def test_every_error_message_is_in_the_ctm_catalog():
    """The host shows these messages through the CTM's domain: each must exist in fr and es."""
    errors = errors_for(
        {
            "soap_base_url": "https://x.example/\x00" + "a" * 400,
            "soap_username": "",
            "soap_password": "\x00",
            "case_number_prefix": "?",
        }
    )
    messages = {m for msgs in errors.values() for m in msgs}
    for locale in ("fr", "es"):
        untranslated = {m for m in messages if i18n.translations(locale).gettext(m) == m}
        assert untranslated == set(), locale


def test_project_codes_are_typed_one_a_line_or_with_commas_and_stored_one_a_line():
    schema = MissionSettingsSchema()
    loaded = schema.load(
        {**VALID, "project_codes": " THA-CT-01, THA-AVRR 2026\r\nTHA-CT-01\n\n", "default_project_code": ""}
    )
    assert loaded["project_codes"] == ["THA-CT-01", "THA-AVRR 2026"]
    assert loaded["default_project_code"] == "THA-CT-01"  # blank: the first
    stored = schema.dump(loaded)
    assert stored["project_codes"] == "THA-CT-01\nTHA-AVRR 2026"
    assert project_codes(stored) == (["THA-CT-01", "THA-AVRR 2026"], "THA-CT-01")
    again = schema.load({**VALID, "project_codes": stored["project_codes"], "default_project_code": "THA-AVRR 2026"})
    assert project_codes(schema.dump(again)) == (["THA-CT-01", "THA-AVRR 2026"], "THA-AVRR 2026")


def test_a_mission_without_project_codes_has_no_default():
    assert project_codes(MissionSettingsSchema().dump(MissionSettingsSchema().load(VALID))) == ([], None)
    assert project_codes(
        MissionSettingsSchema().dump(MissionSettingsSchema().load({**VALID, "project_codes": " "}))
    ) == (
        [],
        None,
    )


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"project_codes": "A" * 41}, "project_codes", "Each project code has 1 to 40 characters"),
        ({"project_codes": "THA\x07CT"}, "project_codes", "Each project code has 1 to 40 characters"),
        ({"project_codes": ",".join(f"P{i}" for i in range(51))}, "project_codes", "Enter at most 50 project codes."),
        ({"project_codes": "THA-CT-01", "default_project_code": "KHM-CT-01"}, "default_project_code", "The default"),
        ({"default_project_code": "THA-CT-01"}, "default_project_code", "The default project code must be one"),
    ],
)
def test_bad_project_codes_are_refused_naming_the_field(values, field, message):
    errors = errors_for({**VALID, **values})
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    for locale in ("fr", "es"):
        assert i18n.translations(locale).gettext(errors[field][0]) != errors[field][0], locale


def test_mapping_overrides_are_no_setting_any_more():
    """They are edited on the integrators' mapping page, versioned (services/host.py)."""
    assert list(errors_for({**VALID, "mapping_overrides": "[movement]"})) == ["mapping_overrides"]


def test_the_time_zone_is_one_of_the_iana_names_and_utc_by_default():
    assert MissionSettingsSchema().load({k: v for k, v in VALID.items() if k != "time_zone"})["time_zone"] == "UTC"
    assert errors_for({**VALID, "time_zone": "Bangkok"}) == {"time_zone": ["Choose a time zone from the list."]}


def test_the_return_checklist_is_the_missions_choice_with_the_consent_to_return_always_required():
    defaults = {"counselling", "travel_document", "fitness", "risk", "consent_return"}
    assert required_items({}) == defaults  # a document saved before the checklist existed
    chosen = MissionSettingsSchema().load(
        {**VALID, "return_requires_counselling": False, "return_requires_consent_handover": "on"}
    )
    assert required_items(chosen) == (defaults - {"counselling"}) | {"consent_handover"}
    nothing = {name: False for name in CHECKLIST_DEFAULTS}
    assert required_items(MissionSettingsSchema().load({**VALID, **nothing})) == {"consent_return"}


def test_the_reception_deadline_is_a_whole_number_of_hours_72_by_default():
    loaded = MissionSettingsSchema().load({k: v for k, v in VALID.items() if k != "reception_deadline_hours"})
    assert loaded["reception_deadline_hours"] == 72
    assert reception_deadline_hours({}) == 72  # settings saved before the deadline existed
    assert reception_deadline_hours({"reception_deadline_hours": 24}) == 24
    for wrong in ("0", "721", "three", "1e9"):
        assert errors_for({**VALID, "reception_deadline_hours": wrong}) == {
            "reception_deadline_hours": ["Enter a whole number of hours from 1 to 720."]
        }


def test_reintegration_settings_load_and_read_back_from_the_stored_document():
    loaded = MissionSettingsSchema().load(
        {
            **VALID,
            "project_codes": "THA-CT-01\nTHA-AVRR-02",
            "project_donors": "THA-CT-01: Example Donor\n\n",
            "reintegration_providers": " NGO: Hope Foundation \nGovernment:Department of Social Welfare",
            "monitoring_months": "12, 3 ,6, 6",
            "score_fall": "0.15",
            "risk_alert_threshold": "4",
        }
    )
    stored = MissionSettingsSchema().dump(loaded)
    assert stored["reintegration_providers"] == "NGO: Hope Foundation\nGovernment: Department of Social Welfare"
    assert providers(stored) == [("NGO", "Hope Foundation"), ("Government", "Department of Social Welfare")]
    assert donor_of(stored, "THA-CT-01") == "Example Donor"
    assert donor_of(stored, "THA-AVRR-02") is None
    assert monitoring_months(stored) == [3, 6, 12]
    assert score_fall(stored) == Decimal("0.15")
    assert risk_alert_threshold(stored) == 4


def test_a_document_saved_before_reintegration_reads_the_defaults():
    assert (monitoring_months({}), score_fall({}), risk_alert_threshold({})) == ([3, 6, 12], Decimal("0.1"), 3)
    assert providers({}) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "reintegration_providers",
            "Charity: Hope",
            "Write one provider a line, as kind: name, the kind one of NGO, Government, IOM, Other.",
        ),
        (
            "reintegration_providers",
            "Hope Foundation",
            "Write one provider a line, as kind: name, the kind one of NGO, Government, IOM, Other.",
        ),
        ("reintegration_providers", "NGO: " + "x" * 121, "Each line has at most 120 characters after its key."),
        ("project_donors", "UNKNOWN-01: Donor", "Each project code here must be one of the project codes."),
        (
            "monitoring_months",
            "0, 6",
            "Enter whole numbers of months from 1 to 120, separated by commas, e.g. 3, 6, 12.",
        ),
        (
            "monitoring_months",
            "3.5",
            "Enter whole numbers of months from 1 to 120, separated by commas, e.g. 3, 6, 12.",
        ),
        ("monitoring_months", "٣", "Enter whole numbers of months from 1 to 120, separated by commas, e.g. 3, 6, 12."),
        ("score_fall", "0", "Enter a number from 0.01 to 1."),
        ("score_fall", "NaN", "Enter a number from 0.01 to 1."),
        ("risk_alert_threshold", "21", "Enter a whole number from 1 to 20."),
    ],
)
def test_wrong_reintegration_settings_are_refused_on_their_field(field: str, value: str, message: str):
    assert errors_for({**VALID, field: value}) == {field: [message]}


def test_closing_needs_no_approval_unless_the_mission_says_so():
    assert case_close_requires_approval({}) is False  # settings saved before the setting existed
    assert case_close_requires_approval(MissionSettingsSchema().dump({**VALID, "case_close_requires_approval": True}))
    assert errors_for({**VALID, "case_close_requires_approval": "perhaps"}) == {
        "case_close_requires_approval": ["Choose yes or no."]
    }


def test_screening_vulnerabilities_are_host_codes_each_once_vot_by_default():
    stored = MissionSettingsSchema().dump(
        MissionSettingsSchema().load({**VALID, "screening_vulnerabilities": "vot, UAM,VOT"})
    )
    assert screening_vulnerabilities(stored) == ["VOT", "UAM"]
    assert screening_vulnerabilities({}) == ["VOT"]
    rule = "Enter host vulnerability codes separated by commas, among VOT, UAM, SMC, MED and OTH."
    assert errors_for({**VALID, "screening_vulnerabilities": "VOT, XYZ"}) == {"screening_vulnerabilities": [rule]}


def test_retention_has_defaults_for_settings_saved_before_it_existed():
    assert (retention_closed_case_years({}), retention_audit_years({}), retention_outbox_days({})) == (10, 10, 30)
    stored = MissionSettingsSchema().dump(
        MissionSettingsSchema().load(
            {**VALID, "retention_closed_case_years": "7", "retention_audit_years": "12", "retention_outbox_days": "0"}
        )
    )
    assert (retention_closed_case_years(stored), retention_audit_years(stored), retention_outbox_days(stored)) == (
        7,
        12,
        0,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("retention_closed_case_years", "0", "Enter a whole number of years from 1 to 100."),
        ("retention_closed_case_years", "101", "Enter a whole number of years from 1 to 100."),
        ("retention_closed_case_years", "ten", "Enter a whole number of years from 1 to 100."),
        ("retention_audit_years", "2.5", "Enter a whole number of years from 1 to 100."),
        ("retention_outbox_days", "-1", "Enter a whole number of days from 0 to 3650."),
        ("retention_outbox_days", "3651", "Enter a whole number of days from 0 to 3650."),
    ],
)
def test_wrong_retention_settings_are_refused_on_their_field(field: str, value: str, message: str):
    assert errors_for({**VALID, field: value}) == {field: [message]}
