from datetime import UTC, datetime

from ctm_plugin.domain import mission_time


def test_today_is_the_missions_date_not_the_servers(monkeypatch) -> None:
    # 23:30 UTC on 3 December is already 4 December in Bangkok and still 3 December in UTC.
    monkeypatch.setattr(mission_time, "utcnow", lambda: datetime(2026, 12, 3, 23, 30, tzinfo=UTC))
    assert mission_time.mission_today({"time_zone": "Asia/Bangkok"}).isoformat() == "2026-12-04"
    assert mission_time.mission_today({}).isoformat() == "2026-12-03"


def test_an_unknown_zone_in_old_settings_reads_as_utc() -> None:
    assert mission_time.mission_zone({"time_zone": "Mars/Olympus"}).key == "UTC"
    assert mission_time.mission_zone({"time_zone": "Asia/Phnom_Penh"}).key == "Asia/Phnom_Penh"
