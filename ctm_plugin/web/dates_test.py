"""Recalled dates shown as precisely as they are known, in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ctm_plugin.testing import in_locale
from ctm_plugin.web.dates import day, host_moment, moment, period, recalled

WHEN = date(2023, 3, 5)


def test_each_precision_in_english():
    with in_locale("en"):
        assert recalled(WHEN, "Day") == "Mar 5, 2023"
        assert recalled(WHEN, "Month") == "3/2023"
        assert recalled(WHEN, "Year") == "2023"
        assert recalled(WHEN, "Unknown") == "date unknown"
        assert recalled(None, "Day") == "date unknown"


def test_month_and_year_follow_the_locale():
    with in_locale("fr"):
        assert recalled(WHEN, "Month") == "03/2023"
        assert recalled(WHEN, "Day") == "5 mars 2023"
        assert recalled(None, "Unknown") == "date inconnue"
    with in_locale("es"):
        assert recalled(WHEN, "Month") == "3/2023"
        assert recalled(None, "Unknown") == "fecha desconocida"


def test_a_period_shows_its_end_when_known():
    with in_locale("en"):
        assert period(WHEN, "Month", None, "Unknown") == "3/2023"
        assert period(WHEN, "Month", date(2024, 1, 2), "Day") == "3/2023 to Jan 2, 2024"
        assert period(None, "Unknown", date(2024, 1, 2), "Year") == "date unknown to 2024"


def test_days_and_moments():
    with in_locale("en"):
        assert day(None) == "—"
        assert day(WHEN) == "Mar 5, 2023"
        assert moment(datetime(2024, 2, 1, 9, 30)) == moment(datetime(2024, 2, 1, 9, 30, tzinfo=UTC))
        assert moment(datetime(2024, 2, 1, 9, 30, tzinfo=UTC)).endswith(" UTC")


def test_moments_are_shown_on_the_missions_clock():
    """09:30 UTC is 16:30 in Bangkok; a flight's time from the host reads the same way."""
    with in_locale("en", "Asia/Bangkok"):
        assert moment(datetime(2024, 2, 1, 9, 30, tzinfo=UTC)) == "Feb 1, 2024, 4:30:00\u202fPM UTC+07"
        assert host_moment("2024-02-01T09:30:00+00:00") == "Feb 1, 2024, 4:30:00\u202fPM UTC+07"
        assert host_moment("not a time") == "not a time"
