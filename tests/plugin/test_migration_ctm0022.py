"""ctm0022 on a database with cases from before: the trend tables appear empty, the trends job counts the cases
there were, and back down the tables go while the cases stay."""

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


def test_ctm0022_adds_the_trend_tables_the_job_fills_from_older_cases(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0022").down_revision
    assert previous == "ctm0021"
    command.downgrade(cfg, previous)
    assert "ctm_trend_cell" not in tables(w)
    with w.rt.engine.begin() as conn:
        for n in range(1, 4):
            insert_case(conn, f"THA-CT-2026-OLD{n:02d}", person=f"BEN-OLD-{n}", opened_on="2025-02-03")

    command.upgrade(cfg, "heads")
    assert {"ctm_trend_cell", "ctm_trend_refresh"} <= tables(w)
    trends.refresh(w.job_ctx("THA"))
    with w.rt.engine.connect() as conn:
        cases = conn.execute(
            sa.text("SELECT quarter, count FROM ctm_trend_cell WHERE mission_code = 'THA' AND dimension = 'cases'")
        ).all()
    assert [tuple(row) for row in cases] == [("2025-Q1", 3)]

    command.downgrade(cfg, previous)
    assert "ctm_trend_cell" not in tables(w) and "ctm_trend_refresh" not in tables(w)
    with w.rt.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM ctm_case WHERE case_number LIKE 'THA-CT-2026-OLD%'")) == 3
    command.upgrade(cfg, "heads")
