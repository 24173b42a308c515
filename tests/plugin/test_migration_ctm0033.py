"""ctm0033 on a database with counts published the day before: the daily copy is no release, so it goes and
nothing is published until the job's next count, which releases every closed year once; the counts stay. Back
down, the releases go and the published copy stays for the older job to renew."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case
from world import World

from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import trends
from mimosa_host import db


def tables(w: World) -> set[str]:
    return set(sa.inspect(w.rt.engine).get_table_names())


def test_ctm0033_releases_the_closed_years_at_the_next_count(w: World, login):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0033").down_revision
    assert previous == "ctm0032"
    command.downgrade(cfg, previous)
    assert "ctm_trend_release" not in tables(w)
    with w.rt.engine.begin() as conn:
        for n in range(1, 4):
            insert_case(conn, f"THA-CT-2024-OLD{n:02d}", person=f"BEN-OLD-{n}", opened_on="2024-02-03")
        conn.execute(sa.text("DELETE FROM ctm_trend_cell"))
        conn.execute(sa.text("DELETE FROM ctm_trend_published"))
        conn.execute(sa.text("DELETE FROM ctm_trend_refresh"))
        for table in ("ctm_trend_cell", "ctm_trend_published"):
            conn.execute(
                sa.text(
                    f"INSERT INTO {table} (mission_code, dimension, quarter, value, count)"  # noqa: S608 - two names
                    " VALUES ('THA', 'cases', '2024-Q1', 'all', 3), ('THA', 'cases', '2026-Q4', 'all', 1)"
                )
            )
        conn.execute(
            sa.text(
                "INSERT INTO ctm_trend_refresh (mission_code, refreshed_at, cases, published_at)"
                " VALUES ('THA', '2026-12-01 10:00:00+00:00', 4, '2026-12-01 10:00:00+00:00')"
            )
        )

    command.upgrade(cfg, "heads")
    with w.rt.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT cases, published_at FROM ctm_trend_refresh")).one() == (4, None)
        cells = conn.execute(sa.text("SELECT quarter, count FROM ctm_trend_cell ORDER BY quarter")).all()
        assert [tuple(row) for row in cells] == [("2024-Q1", 3), ("2026-Q4", 1)]
        assert conn.scalar(sa.text("SELECT count(*) FROM ctm_trend_published")) == 0
        assert conn.scalar(sa.text("SELECT count(*) FROM ctm_trend_release")) == 0
    body = login("supervisor").get("/m/THA/plugins/ctm/trends").get_data(as_text=True)
    assert "THA: no year published yet" in body
    trends.refresh(w.job_ctx("THA"))
    with w.rt.engine.connect() as conn:
        years = conn.scalars(sa.text("SELECT year FROM ctm_trend_release WHERE mission_code = 'THA' ORDER BY year"))
        assert list(years) == [2024, 2025]  # the demo's cases of this year are not released
        published = conn.execute(
            sa.text("SELECT quarter, count FROM ctm_trend_published WHERE mission_code = 'THA' AND dimension = 'cases'")
        ).all()
        assert ("2024-Q1", 3) in [tuple(row) for row in published]
        assert all(row[0] < "2026" for row in published)

    command.downgrade(cfg, previous)
    assert "ctm_trend_release" not in tables(w)
    with w.rt.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM ctm_trend_published WHERE quarter = '2024-Q1'")) >= 1
    command.upgrade(cfg, "heads")
