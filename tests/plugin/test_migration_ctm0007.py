"""ctm0007 on a database with rows: returns booked before the checklist existed keep their booking and
have no checklist; the case's next return is prepared as any other."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case, insert_return
from world import World

from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.returns import ReturnBooking
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import preparation, returns
from mimosa_host import db

REVISION = "ctm0007"


def test_ctm0007_adds_the_checklist_and_keeps_the_returns_booked_before_it(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert "ctm_return_preparation" not in sa.inspect(w.rt.engine).get_table_names()
    with w.rt.engine.begin() as conn:  # a return booked at that revision, then ended, as the feed would say
        case_id = insert_case(conn, "THA-CT-2026-00001")
        booking_id = insert_return(conn, case_id)
        conn.execute(sa.text("UPDATE ctm_return SET status = 'CANCELLED' WHERE id = :id"), {"id": booking_id})

    command.upgrade(cfg, "heads")
    booking = w.one(ReturnBooking, id=booking_id)
    assert (booking.status, booking.escort, booking.destination_country) == ("CANCELLED", "OPERATIONAL", "KHM")
    assert w.all(ReturnPreparation) == []
    state = preparation.checklist_of_case(w.ctx("caseworker"), case_id)
    assert state.preparation is None and "Pre-departure counselling is not recorded." in state.missing

    w.prepare(case_id)
    again = returns.book_return(w.ctx("movement"), case_id, w.booking_form(case_id))
    assert w.one(ReturnPreparation, case_id=case_id).return_id == again != booking_id
