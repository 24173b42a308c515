"""The trends page's one filter: fixed bins (a year or a quarter, never a free range: a range could be narrowed
until it isolates a person).

There is no mission or exploitation type filter any more (services/trends.py says why: two such views could be
subtracted from each other); an address that still asks for one, from a bookmark, is refused naming it."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from ctm_plugin.i18n import N_

from .base import NOT_IN_LIST, FormSchema

PERIODS = ("year", "quarter")
NO_SUCH_FILTER = N_(
    "The trends are no longer filtered by this: every mission of yours and every exploitation type are counted, "
    "each broken down in its own table."
)
_ERRORS: dict[str, str | list[Any] | dict[Any, Any]] = {
    "invalid": NOT_IN_LIST,
    "invalid_utf8": NOT_IN_LIST,
    "null": NOT_IN_LIST,
}


class TrendsFilterSchema(FormSchema):
    period_bin = fields.String(
        load_default="year",
        data_key="period",  # ``period`` is FormSchema's own
        validate=validate.OneOf(PERIODS, error=NOT_IN_LIST),
        error_messages=_ERRORS,
    )
    # Filters of earlier versions of the page: refused with a value (blank, as the old form sent them, is absent).
    mission = fields.String(validate=validate.Length(max=0, error=NO_SUCH_FILTER), error_messages=_ERRORS)
    exploitation = fields.String(validate=validate.Length(max=0, error=NO_SUCH_FILTER), error_messages=_ERRORS)
