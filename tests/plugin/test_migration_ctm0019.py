"""ctm0019 on a database with audit events of two missions, one of a case since deleted: the events are
chained per mission in id order and verify intact, new events follow them; and back down the events stay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import AT, insert_case
from world import World

from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.security.audit_chain import GENESIS, verify
from mimosa_host import db

OLD_EVENTS = [
    ("THA", "caseworker", "case.open"),
    ("KHM", "khm.caseworker", "case.view"),
    ("THA", "auditor", "audit.view"),
]


def events(w: World) -> list[tuple]:
    with w.rt.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT mission_code, username, action, case_id FROM ctm_audit_event ORDER BY id")
        ).all()


def test_ctm0019_chains_the_events_there_are_and_keeps_them_going_down(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0019").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    with w.rt.engine.begin() as conn:  # events as the release before wrote them
        case_id = insert_case(conn, "THA-CT-2026-00001")
        for mission, username, action in OLD_EVENTS:
            conn.execute(
                sa.text(
                    "INSERT INTO ctm_audit_event (mission_code, at, username, action, case_id, field_groups)"
                    " VALUES (:mission, :at, :username, :action, :case, '[\"case\"]')"
                ),
                {
                    "mission": mission,
                    "at": AT,
                    "username": username,
                    "action": action,
                    "case": case_id if mission == "THA" else None,
                },
            )
    before = events(w)

    command.upgrade(cfg, "heads")
    assert events(w) == before
    with w.rt.engine.connect() as conn:
        tha = conn.execute(
            sa.text("SELECT seq, prev_hash, hash FROM ctm_audit_event WHERE mission_code = 'THA' ORDER BY id")
        ).all()
        assert [row.seq for row in tha] == [1, 2] and tha[0].prev_hash == GENESIS and tha[1].prev_hash == tha[0].hash
        assert verify(conn, "THA").broken is None and verify(conn, "KHM").events == 1
    with w.rt.engine.begin() as conn:  # the case purged: its events unchanged, the chain intact
        conn.execute(sa.text("DELETE FROM ctm_case WHERE id = :id"), {"id": case_id})
    assert events(w) == before
    with w.rt.factory() as s, s.begin():  # a new event follows the chained ones
        s.add(AuditEvent(mission_code="THA", username="auditor", action="audit.view", field_groups=["audit"]))
    with w.rt.engine.connect() as conn:
        state = verify(conn, "THA")
    assert state.broken is None and state.events == 3 and state.head == 3

    command.downgrade(cfg, previous)
    after = events(w)  # the deleted case's id set to NULL, as the foreign key wants
    assert [row[:3] for row in after[:3]] == [row[:3] for row in before] and after[0][3] is None
    command.upgrade(cfg, "heads")
    with w.rt.engine.connect() as conn:
        assert verify(conn, "THA").broken is None
