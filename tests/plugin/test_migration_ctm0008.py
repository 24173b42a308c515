"""ctm0008 on a database with a case and its booked return: the hand-over tables arrive empty, the
case and its return are read back intact and can be handed over."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case, insert_return
from test_handover import propose_form
from world import World

from ctm_plugin.domain.handover import Handover
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import handover, returns
from mimosa_host import db

NEW_TABLES = {"ctm_handover", "ctm_handover_event", "ctm_reception"}


def test_ctm0008_adds_the_hand_over_tables_and_keeps_cases_and_returns(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0008").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    with w.rt.engine.begin() as conn:  # a case and its return to KHM, booked at the revision before
        case_id = insert_case(conn, "THA-CT-2026-00001")
        booking_id = insert_return(conn, case_id, destination="KHM")

    command.upgrade(cfg, "heads")
    assert set(sa.inspect(w.rt.engine).get_table_names()) >= NEW_TABLES
    booked = [(r.id, r.destination_country, r.status) for r in returns.returns_of_case(w.ctx("caseworker"), case_id)]
    assert booked == [(booking_id, "KHM", None)]
    w.consent(case_id)
    w.consent(case_id, "HandOver")
    proposed = handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))
    assert w.one(Handover, id=proposed).return_id == booking_id
