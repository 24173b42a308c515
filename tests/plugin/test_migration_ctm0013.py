"""ctm0013 on a database with a case: the closure requests' table and the case's closing reason arrive,
the case is read back intact and closes with a reason; and back down, the case and its records kept (on SQLite
too, where copying ctm_case to drop the column would delete them by cascade)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case
from world import World

from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import cases
from mimosa_host import db


def _case_columns(w: World) -> set[str]:
    return {c["name"] for c in sa.inspect(w.rt.engine).get_columns("ctm_case")}


def test_ctm0013_adds_closure_requests_and_keeps_the_cases(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0013").down_revision
    command.downgrade(cfg, previous)
    assert "ctm_case_closure" not in sa.inspect(w.rt.engine).get_table_names()
    assert "close_reason" not in _case_columns(w)
    with w.rt.engine.begin() as conn:  # a case made at the revision before, as its columns were
        insert_case(conn, "CT-2026-00077")
    command.upgrade(cfg, "heads")
    assert "ctm_case_closure" in sa.inspect(w.rt.engine).get_table_names()
    case = w.one(cases.Case, case_number="CT-2026-00077")
    assert (case.status, case.owner, case.close_reason) == ("Active", "caseworker", None)
    closing = {"status": "Closed", "close_reason": "LostContact", "closed_on": "2026-03-01", "version": "1"}
    cases.close_case(w.ctx("caseworker"), case.id, closing)
    assert w.one(cases.Case, id=case.id).close_reason == "LostContact"
    w.consent(case.id)  # one of the case's records, in a table that cascades from ctm_case

    command.downgrade(cfg, previous)
    assert "ctm_case_closure" not in sa.inspect(w.rt.engine).get_table_names()
    with w.rt.engine.connect() as conn:
        assert conn.scalar(sa.text("select status from ctm_case where id = :id"), {"id": case.id}) == "Closed"
        kept = sa.text("select purpose from ctm_consent where case_id = :id")
        assert conn.scalars(kept, {"id": case.id}).all() == ["Return"]
    command.upgrade(cfg, "heads")
