"""Dates as the CT tabs show them, in the reader's language (Babel's CLDR formats), and moments on
the mission's clock (its time zone setting), as its users live them.

A recalled date (an event in the person's story) is shown only as precisely as it is known:
the day, the month and year, the year, or "date unknown".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from babel.dates import format_date, format_datetime, format_skeleton

from ctm_plugin import i18n
from ctm_plugin.domain.mission_time import in_mission_time
from mimosa_host.plugin_api import current_context

MONTH_YEAR = "yMM"
"""CLDR skeleton: numeric month and year (``3/2023`` in English, ``03/2023`` in French)."""


def day(value: date | None) -> str:
    return format_date(value, format="medium", locale=i18n.current_locale()) if value else "—"


def moment(value: datetime | None) -> str:
    """A stored timestamp (UTC; SQLite gives it back naive) on the mission's clock, with its zone."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        local = in_mission_time(value, current_context().settings)
    except LookupError:  # outside a request or job: no mission, no zone but UTC's
        local = value.astimezone(UTC)
    zone = local.tzname() or "UTC"
    shown = format_datetime(local, format="medium", tzinfo=local.tzinfo, locale=i18n.current_locale())
    return f"{shown} {zone if zone.isalpha() else f'UTC{zone}'}"


def host_moment(value: Any) -> str:
    """A moment the host gave as ISO 8601 text (a flight's departure or arrival), in the reader's format."""
    if not value:
        return "—"
    try:
        return moment(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def recalled(value: date | None, precision: str | None) -> str:
    """``value`` as precisely as ``precision`` (Day, Month, Year, Unknown) says it is known."""
    if value is None or precision in (None, "Unknown"):
        return i18n._("date unknown")
    if precision == "Year":
        return str(value.year)
    if precision == "Month":
        return format_skeleton(MONTH_YEAR, value, locale=i18n.current_locale())
    return day(value)


def period(start: date | None, start_precision: str | None, end: date | None, end_precision: str | None) -> str:
    """An event's dates: one date, or "start – end" when the end is known too."""
    first = recalled(start, start_precision)
    if end is None or end_precision == "Unknown":
        return first
    return i18n._("%(start)s to %(end)s", start=first, end=recalled(end, end_precision))
