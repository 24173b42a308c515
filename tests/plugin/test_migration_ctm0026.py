"""ctm0026 on a database with research exports from before: a request keeps everything it had and no user id, so
its requester is still found by username (their own list, never their own approver); a new request carries the
requester's host user id; down again, the column goes and the requests stay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import AT
from world import World

from ctm_plugin.domain.research import REQUESTED, ResearchExport
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import research_exports
from mimosa_host import db


def _columns(w: World) -> set[str]:
    return {column["name"] for column in sa.inspect(w.rt.engine).get_columns("ctm_research_export")}


def test_ctm0026_keeps_the_requests_from_before_and_finds_their_requester_by_username(w: World) -> None:
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0026").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert "requested_by_id" not in _columns(w)
    with w.rt.engine.begin() as conn:
        old_id = conn.scalar(
            sa.text(
                "INSERT INTO ctm_research_export (missions, layout, year_from, year_to, purpose, status,"
                " requested_by, requested_at, version, mission_code) VALUES ('[\"THA\"]', 'CTDC', 2024, 2025,"
                " 'Trends from before.', 'requested', 'researcher', :at, 1, 'THA') RETURNING id"
            ),
            {"at": AT},
        )

    command.upgrade(cfg, "heads")
    old = w.one(ResearchExport, id=old_id)
    assert (old.purpose, old.status, old.requested_by, old.requested_by_id) == (
        "Trends from before.",
        REQUESTED,
        "researcher",
        None,
    )
    assert [m.export.id for m in research_exports.my_exports(w.request_ctx("researcher"))] == [old_id]
    assert not research_exports.is_requester(w.request_ctx("hq"), old)
    form = {"missions": ["THA"], "layout": "HTCDS", "year_from": "2025", "year_to": "2026", "purpose": "Now."}
    new_id = research_exports.request_export(w.request_ctx("researcher"), form)
    assert w.one(ResearchExport, id=new_id).requested_by_id == w.request_ctx("researcher").user.id

    command.downgrade(cfg, previous)
    assert "requested_by_id" not in _columns(w)
    with w.rt.engine.connect() as conn:
        kept = conn.execute(sa.text("SELECT id, requested_by FROM ctm_research_export ORDER BY id")).all()
    assert [tuple(row) for row in kept] == [(old_id, "researcher"), (new_id, "researcher")]
    command.upgrade(cfg, "heads")
