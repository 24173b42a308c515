"""ctm0021 on a database with a declined hand-over's reason plain from before (on the hand-over, on its step, and
on the older case trail): sealed under the proposing mission's key, read back through the ORM, gone from the
database's file; down again, plain as they were."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import AT, insert_case, insert_return
from test_sealed_at_rest import database_text
from world import World

from ctm_plugin.domain.case import CaseHandover
from ctm_plugin.domain.handover import Handover, HandoverEvent
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.security import crypto
from mimosa_host import db

DECLINED = "Oldrow decline: the family home is near the recruiter 5521"
STEP = "Oldrow step: the family home is near the recruiter 5522"
TRAIL = "Oldrow trail: moved for the trial 5523"


def _seed(conn: sa.Connection) -> dict[str, int]:
    """A declined hand-over, its step and a case trail's row as ctm0020 left them, in plain SQL; their ids."""
    case_id = insert_case(conn, "THA-CT-2026-OLD21")
    values = {"case": case_id, "return": insert_return(conn, case_id), "at": AT, "record": json.dumps({})}
    handover = conn.scalar(
        sa.text(
            "INSERT INTO ctm_handover (from_mission, to_mission, case_id, return_id, record, child, state,"
            " decline_reason, proposed_by, proposed_at, version) VALUES ('THA', 'KHM', :case, :return, :record,"
            " false, 'declined', :reason, 'caseworker', :at, 1) RETURNING id"
        ),
        {**values, "reason": DECLINED},
    )
    step = conn.scalar(
        sa.text(
            'INSERT INTO ctm_handover_event (from_mission, to_mission, handover_id, what, "by", by_mission, "at",'
            " reason) VALUES ('THA', 'KHM', :handover, 'declined', 'khm.caseworker', 'KHM', :at, :reason)"
            " RETURNING id"
        ),
        {**values, "handover": handover, "reason": STEP},
    )
    trail = conn.scalar(
        sa.text(
            'INSERT INTO ctm_case_handover (case_id, from_mission, to_mission, "at", "by", reason)'
            " VALUES (:case, 'THA', 'KHM', :at, 'caseworker', :reason) RETURNING id"
        ),
        {**values, "reason": TRAIL},
    )
    return {"handover": handover, "step": step, "trail": trail}


def test_ctm0021_seals_a_declined_handovers_reasons_under_the_proposing_missions_key(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0021").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    with w.rt.engine.begin() as conn:
        ids = _seed(conn)
    assert DECLINED.encode() in database_text(w)

    command.upgrade(cfg, "heads")
    handover = w.one(Handover, id=ids["handover"])
    assert handover.decline_reason == DECLINED
    assert crypto.key_id_of(handover.decline_reason_sealed).startswith("tha-")
    assert w.one(HandoverEvent, id=ids["step"]).reason == STEP
    assert w.one(CaseHandover, id=ids["trail"]).reason == TRAIL
    stored = database_text(w)
    assert [marker for marker in (DECLINED, STEP, TRAIL) if marker.encode() in stored] == []

    command.downgrade(cfg, previous)
    with w.rt.engine.connect() as conn:
        plain = [
            conn.scalar(sa.text(f"SELECT {column} FROM {table} WHERE id = :id"), {"id": ids[key]})  # noqa: S608 - ours
            for table, column, key in (
                ("ctm_handover", "decline_reason", "handover"),
                ("ctm_handover_event", "reason", "step"),
                ("ctm_case_handover", "reason", "trail"),
            )
        ]
    assert plain == [DECLINED, STEP, TRAIL]
    command.upgrade(cfg, "heads")
