"""The trafficking process forms: events and perpetrators."""

from __future__ import annotations

from datetime import date

import pytest

from ctm_plugin.schemas import process
from ctm_plugin.schemas.base import (
    BEFORE_BIRTH,
    END_BEFORE_START,
    IN_THE_FUTURE,
    NOT_A_DATE,
    NOT_A_DECIMAL,
    NOT_A_NUMBER,
    NOT_IN_LIST,
    REQUIRED,
    TOO_LONG,
)
from ctm_plugin.schemas.process import EventSchema, PerpetratorSchema
from ctm_plugin.schemas.testing import BIRTH, TODAY, UNKNOWN_FIELD, errors_for, load, refused_messages, untranslated

EVENTS_OF_THIS_CASE = "Choose events of this case."
SCHEMAS = (EventSchema, PerpetratorSchema)

VALID = {
    EventSchema: {
        "version": "4",
        "type": "Transit",
        "country": "THA",
        "locality": "Mae Sot",
        "latitude": "16.71",
        "longitude": "98.57",
        "start_date": "2025-03-01",
        "start_precision": "Month",
        "end_date": "2025-03-20",
        "end_precision": "Day",
        "transport": "Truck",
        "documents": "Forged",
        "border_crossing": "Irregular",
        "notes": "Crossed at night.",
    },
    PerpetratorSchema: {
        "version": "4",
        "alias": "Uncle Ko",
        "roles": ["RecruiterOrIntermediary", "Transporter"],
        "sex": "Masculine",
        "nationality": "MMR",
        "relationship_to_victim": "Family",
        "event_ids": ["12", "13"],
        "notes": "Met at the market.",
    },
}


def test_valid_forms_load_into_typed_values():
    event = load(EventSchema, VALID[EventSchema])
    assert event["version"] == 4 and event["latitude"] == pytest.approx(16.71)
    assert event["start_date"] == date(2025, 3, 1) and event["end_date"] == date(2025, 3, 20)
    perpetrator = load(PerpetratorSchema, VALID[PerpetratorSchema])
    assert perpetrator["event_ids"] == [12, 13]
    assert perpetrator["roles"] == ["RecruiterOrIntermediary", "Transporter"]


def test_an_exit_event_loads_with_its_way_out():
    exit_event = {"version": "1", "type": "Exit", "exit_mode": "Police", "start_date": "2025-04-02"}
    assert load(EventSchema, exit_event)["exit_mode"] == "Police"


def test_blank_strings_count_as_absent():
    blank = {"version": "1", "type": "Recruitment", "country": " ", "latitude": "", "longitude": "", "notes": "  "}
    assert load(EventSchema, blank) == {
        "version": 1,
        "type": "Recruitment",
        "start_precision": "Unknown",
        "end_precision": "Unknown",
    }
    perpetrator = load(PerpetratorSchema, {"version": "1", "roles": ["Exploiter"], "alias": ""})
    assert perpetrator == {"version": 1, "roles": ["Exploiter"], "event_ids": []}
    assert errors_for(EventSchema, {"version": "1", "type": ""}) == {"type": [REQUIRED]}


@pytest.mark.parametrize(
    ("schema", "field", "value", "message"),
    [
        (EventSchema, "version", "v4", NOT_A_NUMBER),
        (EventSchema, "start_date", "March 2025", NOT_A_DATE),
        (EventSchema, "end_date", "2025-02-29", NOT_A_DATE),
        (EventSchema, "latitude", "north", NOT_A_DECIMAL),
        (EventSchema, "latitude", "nan", NOT_A_DECIMAL),
        (EventSchema, "latitude", "90.5", "Enter a latitude from -90 to 90."),
        (EventSchema, "longitude", "-181", "Enter a longitude from -180 to 180."),
        (EventSchema, "transport", ["Truck"], NOT_IN_LIST),
        (EventSchema, "locality", "x" * 121, TOO_LONG),
        (EventSchema, "notes", 12, TOO_LONG),
        (PerpetratorSchema, "event_ids", ["first"], EVENTS_OF_THIS_CASE),
        (PerpetratorSchema, "event_ids", "12", EVENTS_OF_THIS_CASE),
        (PerpetratorSchema, "event_ids", None, EVENTS_OF_THIS_CASE),
        (PerpetratorSchema, "roles", "Exploiter", NOT_IN_LIST),
        (PerpetratorSchema, "alias", "x" * 121, TOO_LONG),
    ],
)
def test_wrong_types_are_refused_naming_the_field(schema, field, value, message):
    assert refused_messages(VALID, schema, field, value) == {message}


@pytest.mark.parametrize(
    ("schema", "field", "value"),
    [
        (EventSchema, "type", "Kidnapping"),
        (EventSchema, "country", "XYZ"),
        (EventSchema, "start_precision", "Week"),
        (EventSchema, "transport", "Rocket"),
        (EventSchema, "documents", "Stolen"),
        (EventSchema, "border_crossing", "Tunnel"),
        (PerpetratorSchema, "roles", ["Exploiter", "Mastermind"]),
        (PerpetratorSchema, "sex", "M"),
        (PerpetratorSchema, "nationality", "Burmese"),
        (PerpetratorSchema, "relationship_to_victim", "Boss"),
    ],
)
def test_unknown_codes_are_refused_naming_the_field(schema, field, value):
    assert errors_for(schema, {**VALID[schema], field: value}) == {field: [NOT_IN_LIST]}


def test_an_unknown_exit_mode_is_refused():
    errors = errors_for(EventSchema, {"version": "1", "type": "Exit", "exit_mode": "Teleported"})
    assert errors == {"exit_mode": [NOT_IN_LIST]}


@pytest.mark.parametrize("schema", SCHEMAS)
def test_unknown_fields_are_refused_naming_them(schema):
    errors = errors_for(schema, {**VALID[schema], "case_id": "3", "mission_code": "KHM"})
    assert errors == {"case_id": [UNKNOWN_FIELD], "mission_code": [UNKNOWN_FIELD]}


@pytest.mark.parametrize(("schema", "required"), [(EventSchema, {"version", "type"}), (PerpetratorSchema, {"version"})])
def test_required_fields_are_named(schema, required):
    assert errors_for(schema, {}) == {name: [REQUIRED] for name in required}


@pytest.mark.parametrize("field", ["start_date", "end_date"])
def test_event_dates_in_the_future_are_refused(field):
    data = {"version": "1", "type": "Exploitation", field: TODAY.isoformat()}
    assert load(EventSchema, data)[field] == TODAY
    assert errors_for(EventSchema, {**data, field: "2026-06-16"}) == {field: [IN_THE_FUTURE]}


@pytest.mark.parametrize("field", ["start_date", "end_date"])
def test_event_dates_before_birth_are_refused(field):
    data = {"version": "1", "type": "Recruitment", field: BIRTH.isoformat()}
    assert load(EventSchema, data, birth_date=BIRTH)[field] == BIRTH
    assert errors_for(EventSchema, {**data, field: "1990-04-01"}, birth_date=BIRTH) == {field: [BEFORE_BIRTH]}
    assert load(EventSchema, {**data, field: "1990-04-01"}, birth_date=None)[field] == date(1990, 4, 1)


def test_an_event_cannot_end_before_it_starts():
    data = {**VALID[EventSchema], "start_date": "2025-03-20", "start_precision": "Day", "end_date": "2025-03-19"}
    assert errors_for(EventSchema, data) == {"end_date": [END_BEFORE_START]}
    # Known only to the month, the start may have been any day of March: the 19th can end it.
    assert load(EventSchema, {**data, "start_precision": "Month"})["start_date"] == date(2025, 3, 1)
    assert load(EventSchema, {**data, "end_date": "2025-03-20"})["end_date"] == date(2025, 3, 20)


def test_only_an_exit_event_has_a_way_out_and_an_exit_needs_one():
    assert errors_for(EventSchema, {**VALID[EventSchema], "exit_mode": "NGO"}) == {
        "exit_mode": ["Only an exit event has a way out."]
    }
    assert errors_for(EventSchema, {"version": "1", "type": "Exit"}) == {
        "exit_mode": ["Say how the person left or was identified."]
    }


@pytest.mark.parametrize(("given", "missing"), [("latitude", "longitude"), ("longitude", "latitude")])
def test_coordinates_come_in_pairs(given, missing):
    data = {"version": "1", "type": "Transit", given: "10.5"}
    assert errors_for(EventSchema, data) == {missing: ["Give both coordinates or neither."]}


def test_a_perpetrator_needs_a_role():
    data = {**VALID[PerpetratorSchema], "roles": []}
    assert errors_for(PerpetratorSchema, data) == {"roles": ["Choose at least one role in the process."]}


@pytest.mark.parametrize("locale", ["fr", "es"])
def test_every_message_the_process_forms_can_produce_is_translated(locale):
    produced, missing = untranslated(locale, process, SCHEMAS, VALID)
    assert EVENTS_OF_THIS_CASE in produced
    assert missing == set()
