"""Any value in any field of any CT schema either is refused (a ``ValidationError`` naming fields) or
loads into values every backend can store and XML can carry. No database: many examples, quickly.

Together with ``ctm_plugin/schemas/columns_test.py`` (each field bounded as its column), this is
what keeps a form's value from reaching PostgreSQL or the host's XML only to fail there.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError
from property_helpers import hostile_text

from ctm_plugin.schemas import (
    assistance_test,
    case_test,
    fund_test,
    mission_settings_test,
    monitoring_test,
    preparation_test,
    process_test,
    reintegration_test,
    screening_test,
)
from ctm_plugin.schemas.base import NOT_IN_TEXT
from ctm_plugin.schemas.handover import (
    AcceptHandoverSchema,
    DeclineHandoverSchema,
    ProposeHandoverSchema,
    ReceptionSchema,
)
from ctm_plugin.schemas.mission_settings import MissionSettingsSchema
from ctm_plugin.schemas.people import HostSearchSchema, LinkToHostSchema, PushSchema, RegisterPersonSchema
from ctm_plugin.schemas.returns import CancelReturnSchema, ReturnBookingSchema

VALID: dict[type, dict[str, Any]] = {
    **assistance_test.VALID,
    **case_test.VALID,
    **process_test.VALID,
    **screening_test.VALID,
    **preparation_test.VALID,
    **monitoring_test.VALID,
    **reintegration_test.VALID,
    MissionSettingsSchema: mission_settings_test.VALID,
    HostSearchSchema: {"family_name": "Kaew"},
    PushSchema: {"version": "1"},
    LinkToHostSchema: {"version": "1", "beneficiary_id": "BEN-2000001"},
    RegisterPersonSchema: {
        "family_name": "Doe",
        "given_name": "Jane",
        "gender": "Feminine",
        "opened_on": "2026-02-03",
        "consent_given_on": "2026-02-03",
        "consent_method": "Written",
    },
    ProposeHandoverSchema: {
        "version": "1",
        "to_mission": "KHM",
        "family_name": "Doe",
        "given_name": "Jane",
        "contact": "THA, +66 0",
    },
    AcceptHandoverSchema: {"version": "1", "opened_on": "2026-02-03"},
    DeclineHandoverSchema: {"version": "1", "reason": "Not yet"},
    ReceptionSchema: {"arrived_on": "2026-02-03", "arrival_place": "PNH", "received_by": "Officer"},
    ReturnBookingSchema: {
        "version": "1",
        "origin_country": "THA",
        "origin_location": "BKK",
        "destination_country": "KHM",
        "destination_location": "PNH",
        "earliest_departure": "2026-07-01",
        "project_code": "THA-CT-01",
    },
    CancelReturnSchema: {"version": "1", "reason": "SECURITY"},
    **fund_test.VALID,
}
TODAY = date(2026, 6, 15)
INT32 = range(-(2**31), 2**31)


def storable(value: Any) -> bool:
    """What every backend stores and XML carries: no NUL nor other character XML 1.0 refuses,
    whole numbers within 32 bits, finite numbers."""
    if isinstance(value, str):
        return not NOT_IN_TEXT.search(value)
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return value in INT32
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, list):
        return all(map(storable, value))
    return True


def make(schema: type) -> Any:
    return schema() if schema is MissionSettingsSchema else schema(today=TODAY, birth_date=date(1990, 4, 2))


@pytest.mark.parametrize("schema", list(VALID), ids=lambda schema: schema.__name__)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_value_is_refused_or_loads_into_what_can_be_stored(schema: type, data: st.DataObject) -> None:
    names = [*schema().fields, "unknown"]
    value = st.one_of(hostile_text(), st.lists(hostile_text(), max_size=3), st.integers(), st.none(), st.floats())
    changes = data.draw(st.dictionaries(st.sampled_from(names), value, min_size=1, max_size=3), label="changes")
    try:
        loaded = make(schema).load({**VALID[schema], **changes})
    except ValidationError as refused:
        assert isinstance(refused.messages, dict) and refused.messages, refused.messages
        return
    assert all(storable(v) for v in loaded.values()), loaded


@pytest.mark.parametrize("schema", list(VALID), ids=lambda schema: schema.__name__)
def test_the_valid_forms_load(schema: type) -> None:
    """The property above starts from these: were they refused, it would test only refusals."""
    assert make(schema).load(VALID[schema])
