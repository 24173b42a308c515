"""ctm0023 on a database with cases from before: the research exports' table arrives empty, a request is made
and decided through the use cases, the older cases are untouched; down again, the table goes with its requests
and the cases stay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case
from world import World

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.research import DECLINED, ResearchExport
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import research_exports
from mimosa_host import db


def test_ctm0023_adds_the_research_exports_and_keeps_the_cases(w: World) -> None:
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0023").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert "ctm_research_export" not in sa.inspect(w.rt.engine).get_table_names()
    with w.rt.engine.begin() as conn:
        case_id = insert_case(conn, "THA-CT-2026-OLD23")

    command.upgrade(cfg, "heads")
    assert w.one(Case, id=case_id).case_number == "THA-CT-2026-OLD23"
    assert w.all(ResearchExport) == []
    form = {"missions": ["THA"], "layout": "HTCDS", "year_from": "2025", "year_to": "2026", "purpose": "Trends."}
    export_id = research_exports.request_export(w.request_ctx("researcher"), form)
    decision = {"decision": "decline", "reason": "Not now."}
    assert research_exports.decide(w.request_ctx("hq"), "THA", export_id, decision) == DECLINED
    stored = w.one(ResearchExport, id=export_id)
    assert (stored.missions, stored.status, stored.decided_by, stored.version) == (["THA"], DECLINED, "hq", 2)

    command.downgrade(cfg, previous)
    assert "ctm_research_export" not in sa.inspect(w.rt.engine).get_table_names()
    with w.rt.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT case_number FROM ctm_case WHERE id = :id"), {"id": case_id})
    command.upgrade(cfg, "heads")
