"""ctm0020 on a database with the copies plain from before: a plan revision's changes, a fund request's
justification, an outbox payload and a hand-over's record are sealed (the record under the receiving mission's
key), read back through the ORM, and gone from the SQLite file; down again, they are plain as they were."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import AT, insert_case, insert_return
from test_sealed_at_rest import database_text
from world import World

from ctm_plugin.domain.fund import FundRequest
from ctm_plugin.domain.handover import Handover
from ctm_plugin.domain.reintegration import PlanRevision
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.security import crypto
from mimosa_host import db

CHANGES = [
    {"field": "objective", "before": "Oldrow objective: a bakery 1190", "after": "Oldrow objective: a farm 1191"}
]
JUSTIFICATION = "Oldrow justification: a broken arm 4471"
PAYLOAD = "<m:Beneficiary><m:FamilyName>Oldrow-Family-Payload-3307</m:FamilyName></m:Beneficiary>"
RECORD = {"family_name": "Oldrow-Family-Handover-8812", "travel": {"destination_country": "KHM"}}
MARKERS = ("Oldrow objective", JUSTIFICATION, "Oldrow-Family-Payload-3307", "Oldrow-Family-Handover-8812")


def _seed(conn: sa.Connection) -> dict[str, int]:
    """The four copies as ctm0019 wrote them, in plain SQL; their rows' ids."""
    case_id = insert_case(conn, "THA-CT-2026-OLD20")
    return_id = insert_return(conn, case_id)
    values = {"case": case_id, "at": AT}
    conn.execute(
        sa.text(
            'INSERT INTO ctm_plan_revision (mission_code, case_id, revision, what, changes, "by", "at")'
            " VALUES ('THA', :case, 1, 'element.change', :changes, 'caseworker', :at)"
        ),
        {**values, "changes": json.dumps(CHANGES)},
    )
    conn.execute(
        sa.text(
            "INSERT INTO ctm_fund_request (mission_code, case_id, kind, amount, currency, justification, state,"
            " requested_by, requested_at, version) VALUES ('THA', :case, 'Medical', 100, 'USD', :text, 'requested',"
            " 'caseworker', :at, 1)"
        ),
        {**values, "text": JUSTIFICATION},
    )
    conn.execute(
        sa.text("UPDATE ctm_outbox SET payload = :payload WHERE case_id = :case"), {**values, "payload": PAYLOAD}
    )
    conn.execute(
        sa.text(
            "INSERT INTO ctm_handover (from_mission, to_mission, case_id, return_id, record, child, state,"
            " proposed_by, proposed_at, version) VALUES ('THA', 'KHM', :case, :return, :record, false, 'proposed',"
            " 'caseworker', :at, 1)"
        ),
        {**values, "return": return_id, "record": json.dumps(RECORD)},
    )
    ids = {
        table: conn.scalar(sa.text(f"SELECT id FROM {table} WHERE case_id = :case"), values)  # noqa: S608 - ours
        for table in ("ctm_plan_revision", "ctm_fund_request", "ctm_outbox", "ctm_handover")
    }
    return {**ids, "case": case_id}


def test_ctm0020_seals_the_copies_and_leaves_no_plain_text_in_the_file(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0020").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    with w.rt.engine.begin() as conn:
        ids = _seed(conn)
    assert JUSTIFICATION.encode() in database_text(w)

    command.upgrade(cfg, "heads")
    assert w.one(PlanRevision, id=ids["ctm_plan_revision"]).changes == CHANGES
    assert w.one(FundRequest, id=ids["ctm_fund_request"]).justification == JUSTIFICATION
    assert w.one(OutboxMessage, id=ids["ctm_outbox"]).payload == PAYLOAD
    handover = w.one(Handover, id=ids["ctm_handover"])
    assert handover.record == RECORD
    assert crypto.key_id_of(handover.record_sealed).startswith("khm-")
    stored = database_text(w)
    assert [marker for marker in MARKERS if marker.encode() in stored] == []

    command.downgrade(cfg, previous)
    with w.rt.engine.connect() as conn:
        plain = conn.execute(
            sa.text("SELECT justification, reason FROM ctm_fund_request WHERE id = :id"),
            {"id": ids["ctm_fund_request"]},
        )
        assert tuple(plain.one()) == (JUSTIFICATION, None)
        record = conn.scalar(sa.text("SELECT record FROM ctm_handover WHERE id = :id"), {"id": ids["ctm_handover"]})
        assert (record if isinstance(record, dict) else json.loads(record)) == RECORD
        payload = conn.scalar(sa.text("SELECT payload FROM ctm_outbox WHERE id = :id"), {"id": ids["ctm_outbox"]})
        assert payload == PAYLOAD
    command.upgrade(cfg, "heads")
