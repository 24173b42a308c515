"""ctm0017 on a database with the demo's stories and a case an earlier revision wrote: every row and every link
is kept up and down (on SQLite each table is rebuilt), a case's rows then refer to it in their own mission, and
a row under another mission's case is refused on both backends (on PostgreSQL, by the owner too)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from old_rows import insert_case, insert_return
from world import World

from ctm_plugin.domain.due import FollowUp
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from mimosa_host import db
from mimosa_host.cli import main as host_cli
from mimosa_host.runtime import Runtime


def with_the_demo_stories(rt: Runtime) -> None:
    """Rows in every kind of table: a hand-over, reintegration and the fund, follow-ups, cases in every stage."""
    url = rt.engine.url.render_as_string(hide_password=False)
    for story in ("handover", "reintegration", "due", "cases"):
        result = CliRunner().invoke(host_cli, ["--database", url, "ctm", "demo", story])
        assert result.exit_code == 0, result.output


pytestmark = pytest.mark.database.with_args(with_the_demo_stories)


def case_keys(w: World) -> dict[str, list[str]]:
    """Each table's columns that refer to ``ctm_case``."""
    inspector = sa.inspect(w.rt.engine)
    return {
        table: key["constrained_columns"]
        for table in inspector.get_table_names()
        for key in inspector.get_foreign_keys(table)
        if key["referred_table"] == "ctm_case" and table.startswith("ctm_")
    }


def snapshot(w: World) -> dict[str, list[tuple]]:
    """Every row of every CTM table the database has at its revision (later ones add tables and columns)."""
    with w.rt.engine.connect() as conn:
        tables = [name for name in sa.inspect(conn).get_table_names() if name.startswith("ctm_")]
        return {
            name: sorted((tuple(row) for row in conn.execute(sa.text(f"SELECT * FROM {name}"))), key=repr)  # noqa: S608
            for name in tables
        }


def test_ctm0017_keeps_every_row_and_link_up_and_down(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0017").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert case_keys(w)["ctm_return"] == ["case_id"]
    with w.rt.engine.begin() as conn:  # a KHM case with a return, as the revision before wrote them
        insert_return(conn, insert_case(conn, "KHM-CT-2026-90001", "BEN-2000099", mission="KHM"), "THA", "KHM")
    before = snapshot(w)
    assert before["ctm_handover"] and before["ctm_ledger_entry"] and before["ctm_determination"]

    command.upgrade(cfg, "ctm0017")
    assert snapshot(w) == before
    keys = case_keys(w)
    assert keys["ctm_return"] == keys["ctm_person"] == ["case_id", "mission_code"]
    assert keys["ctm_audit_event"] == ["case_id"]  # it outlives its case (SET NULL): see ctm0017

    command.downgrade(cfg, previous)
    assert snapshot(w) == before
    assert case_keys(w)["ctm_person"] == ["case_id"]
    command.upgrade(cfg, "ctm0017")
    assert snapshot(w) == before


def test_a_row_under_another_missions_case_is_refused(w: World):
    follow_up = sa.text(
        "INSERT INTO ctm_follow_up (mission_code, case_id, due_on, owner, note, created_by, created_at)"
        " VALUES (:mission, :case, '2026-03-01', 'caseworker', 'Synthetic.', 'caseworker', '2026-02-03 10:00:00+00')"
    )
    with w.rt.engine.connect() as conn:
        khm_case = conn.scalar(sa.text("SELECT min(id) FROM ctm_case WHERE mission_code = 'KHM'"))
        with pytest.raises(sa.exc.IntegrityError):
            conn.execute(follow_up, {"mission": "THA", "case": khm_case})
        conn.rollback()
        conn.execute(follow_up, {"mission": "KHM", "case": khm_case})  # under its own mission's case: kept
        conn.commit()
    assert [row.mission_code for row in w.all(FollowUp, case_id=khm_case)] == ["KHM"]
