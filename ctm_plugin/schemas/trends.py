"""The trends page's filters: fixed bins only (a year or a quarter, never a free range: a range could be
narrowed until it isolates a person), a mission of the user's scope, an exploitation type from the code list."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marshmallow import fields, validate

from ctm_plugin.codelists import all_lists

from .base import NOT_IN_LIST, FormSchema

PERIODS = ("year", "quarter")
_ERRORS: dict[str, str | list[Any] | dict[Any, Any]] = {
    "invalid": NOT_IN_LIST,
    "invalid_utf8": NOT_IN_LIST,
    "null": NOT_IN_LIST,
}


def _choice(values: Iterable[str], default: str, data_key: str | None = None) -> fields.String:
    return fields.String(
        load_default=default,
        data_key=data_key,
        validate=validate.OneOf(tuple(values), error=NOT_IN_LIST),
        error_messages=_ERRORS,
    )


def trends_filter_schema(missions: Iterable[str]) -> FormSchema:
    """The filters of a user whose scope is ``missions`` (codes): "" is all of them, and every type."""

    class TrendsFilterSchema(FormSchema):
        period_bin = _choice(PERIODS, "year", data_key="period")  # ``period`` is FormSchema's own
        mission = _choice(("", *missions), "")
        exploitation = _choice(("", *all_lists()["exploitation_type"].values), "")

    return TrendsFilterSchema()
