"""ctm0016 on a database with audit events: the two indexes of the auditor's filters arrive, the events
are read back through the filters, and back down the indexes go and the events stay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import AT, insert_case
from world import World

from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import audit_trail
from mimosa_host import db

INDEXES = {"ix_ctm_audit_event_user", "ix_ctm_audit_event_action"}


def indexes(w: World) -> set[str]:
    return {index["name"] for index in sa.inspect(w.rt.engine).get_indexes("ctm_audit_event")}


def test_ctm0016_indexes_the_trails_filters_and_keeps_the_events(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0016").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not INDEXES & indexes(w)
    with w.rt.engine.begin() as conn:  # a case and its opening's event as the release before wrote them
        case_id = insert_case(conn, "THA-CT-2026-00001")
        conn.execute(
            sa.text(
                "INSERT INTO ctm_audit_event (mission_code, at, username, action, case_id, field_groups)"
                " VALUES ('THA', :at, 'caseworker', 'case.open', :case, '[]')"
            ),
            {"at": AT, "case": case_id},
        )

    command.upgrade(cfg, "heads")
    assert indexes(w) >= INDEXES
    page = audit_trail.mission_trail(w.ctx("auditor"), {"username": "caseworker", "action": "case.open"})
    assert [(row.username, row.action) for row in page.rows] == [("caseworker", "case.open")]
    assert w.audit_rows()[0]["case_id"] == case_id

    command.downgrade(cfg, previous)
    assert not INDEXES & indexes(w)
    with w.rt.engine.connect() as conn:
        assert conn.scalars(sa.text("SELECT action FROM ctm_audit_event ORDER BY id")).first() == "case.open"
    command.upgrade(cfg, "heads")
