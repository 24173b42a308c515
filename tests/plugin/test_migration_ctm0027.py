"""ctm0027 on a database with trend counts from before: the counts of every case and when they were made stay,
those of one exploitation type go (no page reads them), nothing is published until the job's next count (the
page says so), which publishes them; back down, the published copy goes and the counts stay."""

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


def test_ctm0027_publishes_the_counts_from_before_at_the_next_count(w: World, login):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0027").down_revision
    assert previous == "ctm0026"
    command.downgrade(cfg, previous)
    assert "ctm_trend_published" not in tables(w)
    with w.rt.engine.begin() as conn:
        for n in range(1, 4):
            insert_case(conn, f"THA-CT-2025-OLD{n:02d}", person=f"BEN-OLD-{n}", opened_on="2025-02-03")
        conn.execute(
            sa.text(
                "INSERT INTO ctm_trend_cell (mission_code, dimension, quarter, exploitation, value, count)"
                " VALUES ('THA', 'cases', '2025-Q1', '', 'all', 3),"
                " ('THA', 'cases', '2025-Q1', 'ForcedLabour', 'all', 1)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO ctm_trend_refresh (mission_code, refreshed_at, cases)"
                " VALUES ('THA', '2026-12-01 10:00:00+00:00', 3)"
            )
        )

    command.upgrade(cfg, "heads")
    with w.rt.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT cases, published_at FROM ctm_trend_refresh")).one() == (3, None)
        assert conn.execute(sa.text("SELECT quarter, value, count FROM ctm_trend_cell")).all() == [
            ("2025-Q1", "all", 3)
        ]
        assert conn.scalar(sa.text("SELECT count(*) FROM ctm_trend_published")) == 0
    body = login("supervisor").get("/m/THA/plugins/ctm/trends").get_data(as_text=True)
    assert "THA: no year published yet" in body
    trends.refresh(w.job_ctx("THA"))
    with w.rt.engine.connect() as conn:
        published = conn.execute(
            sa.text("SELECT quarter, count FROM ctm_trend_published WHERE mission_code = 'THA' AND dimension = 'cases'")
        ).all()
        assert [tuple(row) for row in published] == [("2025-Q1", 3)]
        assert conn.scalar(sa.text("SELECT published_at FROM ctm_trend_refresh WHERE mission_code = 'THA'"))

    command.downgrade(cfg, previous)
    assert "ctm_trend_published" not in tables(w)
    with w.rt.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT cases FROM ctm_trend_refresh WHERE mission_code = 'THA'")) == 3
        cells = conn.execute(sa.text("SELECT exploitation, count FROM ctm_trend_cell WHERE dimension = 'cases'")).all()
        assert [tuple(row) for row in cells] == [("", 3)]  # as the older page read them: of every type
    command.upgrade(cfg, "heads")
