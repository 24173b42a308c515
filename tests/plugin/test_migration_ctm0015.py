"""ctm0015 on a database with a referral: the referral arrives "sent" (awaiting its answer) and can be answered,
the follow-up and screening-candidate tables arrive; and back down."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case
from world import World

from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import follow_ups
from mimosa_host import db

NEW_TABLES = {"ctm_follow_up", "ctm_screening_candidate"}


def test_ctm0015_makes_earlier_referrals_sent_and_adds_follow_ups(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0015").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    with w.rt.engine.begin() as conn:  # a case and its referral as the release before wrote them
        case_id = insert_case(conn, "THA-CT-2026-00001")
        conn.execute(
            sa.text(
                "INSERT INTO ctm_referral (mission_code, case_id, direction, organisation, organisation_type,"
                " referred_on, reason, recorded_by) VALUES ('THA', :case, 'Outgoing', 'Safe Haven', 'NGO',"
                " '2026-02-04', 'AdditionalServicesRequired', 'caseworker')"
            ),
            {"case": case_id},
        )

    command.upgrade(cfg, "heads")
    assert set(sa.inspect(w.rt.engine).get_table_names()) >= NEW_TABLES
    with w.rt.engine.connect() as conn:
        referral_id, status = conn.execute(sa.text("SELECT id, status FROM ctm_referral")).one()
    assert status == "sent"
    data = {"version": str(w.version(case_id)), "status": "accepted", "answered_on": "2026-02-10"}
    follow_ups.answer_referral(w.ctx("caseworker"), case_id, referral_id, data)

    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    columns = {c["name"] for c in sa.inspect(w.rt.engine).get_columns("ctm_referral")}
    assert "status" not in columns and "organisation" in columns
    command.upgrade(cfg, "heads")
