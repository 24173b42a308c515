"""The case list's query: filters, search, sort and the keyset cursor, each bounded, so that a crafted URL
gets a message naming the parameter, never a 500 nor an unbounded query."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from ctm_plugin.i18n import N_

from .base import EARLIEST_DAY, LATEST_DAY, NOT_IN_LIST, FormSchema, day, text

STAGES = ("screening", "assistance", "return", "handover", "reintegration")
"""A case's stage, in the order a case goes through them."""
STATUSES = ("open", "closed")
SORTS = ("number", "opened", "updated")
ORDERS = ("asc", "desc")
NOT_A_CASE_NUMBER = N_("Enter a case number or its beginning, e.g. THA-CT-2026-00001.")
NOT_A_CURSOR = N_("This link to a next page is not valid: go back to the first page.")
CASE_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,40}\Z")
CURSOR = re.compile(r"^(?P<value>[A-Za-z0-9:+.-]{1,40})_(?P<id>[0-9]{1,10})\Z")
"""A keyset cursor: the last row's sort value and its id (the tie-breaker), e.g. ``2026-02-03_17``."""


def _choice(values: tuple[str, ...]) -> fields.String:
    return fields.String(
        validate=validate.OneOf(values, error=NOT_IN_LIST),
        error_messages={"invalid": NOT_IN_LIST, "invalid_utf8": NOT_IN_LIST, "null": NOT_IN_LIST},
    )


class CaseListQuerySchema(FormSchema):
    status = _choice(STATUSES)
    owner = text(80)
    stage = _choice(STAGES)
    opened_from = day(anytime=True)
    opened_to = day(anytime=True)
    number = fields.String(
        validate=validate.Regexp(CASE_NUMBER, error=NOT_A_CASE_NUMBER),
        error_messages={"invalid": NOT_A_CASE_NUMBER, "invalid_utf8": NOT_A_CASE_NUMBER},
    )
    name = text(120)
    document = text(40)
    """A travel document's number, matched exactly through its blind index (the number is sealed)."""
    sort = _choice(SORTS)
    order = _choice(ORDERS)
    after = fields.String(
        validate=validate.Regexp(CURSOR, error=NOT_A_CURSOR),
        error_messages={"invalid": NOT_A_CURSOR, "invalid_utf8": NOT_A_CURSOR},
    )

    @validates_schema
    def _periods_and_cursor(self, data: dict[str, Any], **_kwargs: Any) -> None:
        self.check_order(data, "opened_from", "opened_to")
        if "after" in data and _cursor_value(data.get("sort", "updated"), data["after"]) is None:
            raise ValidationError({"after": [NOT_A_CURSOR]})

    @post_load
    def _defaults(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data.setdefault("sort", "updated")
        data.setdefault("order", "desc")
        if "number" in data:
            data["number"] = data["number"].upper()
        if "after" in data:
            data["after"] = _cursor_value(data["sort"], data["after"])
        return data


def cursor(sort: str, value: date | datetime | str, row_id: int) -> str:
    """The ``after`` parameter of the page that follows a row."""
    shown = value.isoformat() if isinstance(value, date | datetime) else value
    return f"{shown}_{row_id}"


def _cursor_value(sort: str, raw: str) -> tuple[Any, int] | None:
    match = CURSOR.match(raw)
    if match is None:
        return None
    value: Any = match["value"]
    try:
        if sort == "opened":
            value = date.fromisoformat(value)
        elif sort == "updated":
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                return None
    except ValueError:
        return None
    if isinstance(value, date) and not _within_days(value):
        return None
    return value, int(match["id"])


def _within_days(value: date | datetime) -> bool:
    """Whether a cursor's day lies in the days any date field may name: a forged one beyond them (year 1 or
    9999 with an offset) has no moment in UTC, and its bind would overflow."""
    day = value.date() if isinstance(value, datetime) else value
    return EARLIEST_DAY <= day <= LATEST_DAY
