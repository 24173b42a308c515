"""The trends page's filters: fixed bins only (a year or a quarter, never a free range: a range could be
narrowed until it isolates a person), a mission of the user's scope, an exploitation type from the code list."""

from __future__ import annotations

from collections.abc import Iterable

from marshmallow import fields, validate

from ctm_plugin.codelists import all_lists

from .base import NOT_IN_LIST, FormSchema

PERIODS = ("year", "quarter")
_ERRORS = {"invalid": NOT_IN_LIST, "invalid_utf8": NOT_IN_LIST, "null": NOT_IN_LIST}


def _choice(values: Iterable[str], default: str) -> fields.String:
    return fields.String(
        load_default=default, validate=validate.OneOf(tuple(values), error=NOT_IN_LIST), error_messages=_ERRORS
    )


def trends_filter_schema(missions: Iterable[str]) -> FormSchema:
    """The filters of a user whose scope is ``missions`` (codes): "" is all of them, and every type."""

    class TrendsFilterSchema(FormSchema):
        period = _choice(PERIODS, "year")
        mission = _choice(("", *missions), "")
        exploitation = _choice(("", *all_lists()["exploitation_type"].values), "")

    return TrendsFilterSchema()
