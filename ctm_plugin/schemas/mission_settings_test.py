import pytest
from marshmallow import ValidationError

from ctm_plugin import i18n
from ctm_plugin.schemas.mission_settings import MissionSettingsSchema

VALID = {
    "soap_base_url": "https://mimosa.example/",
    "soap_username": "ctm-tha",
    "soap_password": "long-enough",
    "case_number_prefix": "THA-CT",
}


LOCAL_HTTP_ONLY = "Use https: only a host on this machine may be reached over plain http."
PREFIX_RULE = "Use 1 to 12 capital letters, digits or hyphens, starting with a letter or digit."


def errors_for(data: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        MissionSettingsSchema().load(data)
    return caught.value.normalized_messages()


def test_valid_settings_load_and_the_prefix_has_a_default():
    assert MissionSettingsSchema().load(VALID) == VALID
    without_prefix = {k: v for k, v in VALID.items() if k != "case_number_prefix"}
    assert MissionSettingsSchema().load(without_prefix)["case_number_prefix"] == "CT"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "http://localhost:8000/", "http://[::1]:8000/"])
def test_plain_http_is_accepted_only_on_this_machine(url):
    assert MissionSettingsSchema().load({**VALID, "soap_base_url": url}) == {**VALID, "soap_base_url": url}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("soap_base_url", "ftp://mimosa.example/", "Enter a full http or https address."),
        ("soap_base_url", "not a url", "Enter a full http or https address."),
        ("soap_base_url", "http://mimosa.example/", LOCAL_HTTP_ONLY),
        ("soap_base_url", "http://10.0.0.5/", LOCAL_HTTP_ONLY),
        ("soap_username", "", "Enter between 1 and 80 characters."),
        ("soap_password", "short", "Enter between 8 and 200 characters."),
        ("case_number_prefix", "tha ct", PREFIX_RULE),
        ("case_number_prefix", "-THA", PREFIX_RULE),
    ],
)
def test_bad_values_are_refused_naming_the_field(field, value, message):
    assert errors_for({**VALID, field: value}) == {field: [message]}


def test_required_fields_and_unknown_fields_are_named():
    errors = errors_for({"case_number_prefix": "CT", "colour": "blue"})
    required = dict.fromkeys(["soap_base_url", "soap_username", "soap_password"], ["This field is required."])
    assert errors == {**required, "colour": ["Unknown field."]}


def test_every_error_message_is_in_the_ctm_catalog():
    """The host shows these messages through the CTM's domain: each must exist in fr and es."""
    errors = errors_for({"soap_base_url": "x", "soap_username": "", "soap_password": "x", "case_number_prefix": "?"})
    messages = {m for msgs in errors.values() for m in msgs}
    for locale in ("fr", "es"):
        untranslated = {m for m in messages if i18n.translations(locale).gettext(m) == m}
        assert untranslated == set(), locale
