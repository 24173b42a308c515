"""Every CTM moment is stored in UTC and read back aware in UTC, on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ctm_plugin.domain.models import Base, MissionActivation, UTCDateTime

BANGKOK = timezone(timedelta(hours=7))


def test_every_ctm_datetime_column_has_the_one_utc_type():
    moments = {
        f"{table.name}.{column.name}": isinstance(column.type, UTCDateTime)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, sa.DateTime | UTCDateTime)
    }
    assert "ctm_outbox.next_attempt_at" in moments and "ctm_return.booked_at" in moments
    assert [name for name, utc in moments.items() if not utc] == []  # a plain DateTime reads back naive on SQLite


def test_a_moment_comes_back_aware_in_utc_whatever_zone_it_was_given_in(rt):  # noqa: ANN001
    given = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=BANGKOK)
    with rt.factory() as s, s.begin():
        s.add(MissionActivation(mission_code="THA", enabled_by="admin", enabled_at=given, disabled_at=None))
    with rt.factory() as s:
        read = s.get(MissionActivation, "THA").enabled_at
        raw = s.execute(sa.select(MissionActivation.enabled_at)).scalar_one()
    assert read == given and read.tzinfo is UTC and read.hour == 2  # 09:30 in Bangkok is 02:30 UTC
    assert raw.tzinfo is UTC  # a Core select reads through the same type
    assert read < datetime(2026, 3, 1, 3, tzinfo=UTC)  # compares with aware moments, no patching


def test_a_naive_moment_is_refused_rather_than_guessed(rt):  # noqa: ANN001
    with pytest.raises(sa.exc.StatementError, match="naive datetime"), rt.factory() as s, s.begin():
        s.add(MissionActivation(mission_code="THA", enabled_by="admin", enabled_at=datetime(2026, 3, 1, 9, 30)))
