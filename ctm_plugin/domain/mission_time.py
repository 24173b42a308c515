"""The mission's clock: "today" and "now" are the mission's, not the server's.

A date "in the future" or a child's age on a departure is judged on the mission's calendar; the
time zone is a mission setting (an IANA name), UTC for settings saved before it existed.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from .models import utcnow

TIME_ZONES = tuple(sorted(zoneinfo.available_timezones() - {"localtime", "Factory"}))


def mission_zone(settings: Mapping[str, Any]) -> zoneinfo.ZoneInfo:
    name = settings.get("time_zone") or "UTC"
    return zoneinfo.ZoneInfo(name if name in TIME_ZONES else "UTC")


def mission_now(settings: Mapping[str, Any]) -> datetime:
    """The present moment, aware, on the mission's clock."""
    return utcnow().astimezone(mission_zone(settings))


def mission_today(settings: Mapping[str, Any]) -> date:
    return mission_now(settings).date()


def in_mission_time(moment: datetime, settings: Mapping[str, Any]) -> datetime:
    """An aware moment (stored in UTC) as the mission's users read it."""
    return moment.astimezone(mission_zone(settings))


def day_start(day: date, settings: Mapping[str, Any]) -> datetime:
    """The moment (in UTC, as stored) the mission's calendar day ``day`` begins: a period of days
    asked for on the mission's calendar compares stored moments with these."""
    return datetime.combine(day, time(), mission_zone(settings)).astimezone(UTC)
