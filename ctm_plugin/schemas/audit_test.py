"""The audit trail's filters: all optional, bounded as the columns, a wrong one named at its field."""

from __future__ import annotations

from datetime import date

import pytest

from ctm_plugin.schemas import audit
from ctm_plugin.schemas.audit import NOT_A_PAGE, TrailFilterSchema
from ctm_plugin.schemas.base import DAY_OUT_OF_RANGE, END_BEFORE_START, NOT_A_DATE, NOT_IN_LIST, TOO_LONG
from ctm_plugin.schemas.testing import errors_for, load, untranslated

VALID = {
    TrailFilterSchema: {
        "username": "caseworker",
        "from_on": "2026-01-01",
        "to_on": "2026-12-31",
        "action": "case.view",
        "before": "120",
    }
}


def test_filters_load_typed_and_none_is_needed():
    values = load(TrailFilterSchema, VALID[TrailFilterSchema])
    typed = {"from_on": date(2026, 1, 1), "to_on": date(2026, 12, 31), "before": 120}
    assert values == {**VALID[TrailFilterSchema], **typed}
    assert load(TrailFilterSchema, {"username": "", "action": ""}) == {}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("username", "u" * 81, TOO_LONG),
        ("action", "case.delete", NOT_IN_LIST),
        ("from_on", "yesterday", NOT_A_DATE),
        ("from_on", "0001-01-01", DAY_OUT_OF_RANGE),
        ("to_on", "9999-12-31", DAY_OUT_OF_RANGE),
        ("to_on", "2025-12-31", END_BEFORE_START),
        ("before", "abc", "Enter a whole number."),
        ("before", "0", NOT_A_PAGE),
        ("before", str(2**31), NOT_A_PAGE),
    ],
)
def test_a_wrong_filter_is_named_at_its_field(name: str, value: str, message: str):
    assert errors_for(TrailFilterSchema, {**VALID[TrailFilterSchema], name: value}) == {name: [message]}


@pytest.mark.parametrize("locale", ["fr", "es"])
def test_every_message_the_filters_can_produce_is_translated(locale: str):
    produced, missing = untranslated(locale, audit, (TrailFilterSchema,), VALID)
    assert NOT_IN_LIST in produced  # NOT_A_PAGE is marked in the module, so checked too
    assert missing == set()
