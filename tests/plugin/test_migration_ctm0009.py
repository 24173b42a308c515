"""ctm0009 on a database with a KHM case and its hand-over history: the reintegration tables arrive
empty, the case is read back intact and takes a plan and its money; and back down, taking only them."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import case_number, insert_case
from test_reintegration import element_form, request_form
from world import KHM_PERSON, World

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.reintegration import Disbursement, PlanElement
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import reintegration
from mimosa_host import db

REVISION = "ctm0009"
NEW_TABLES = {
    "ctm_reintegration_plan",
    "ctm_plan_element",
    "ctm_plan_revision",
    "ctm_disbursement",
    "ctm_ledger_entry",
}


def test_ctm0009_adds_the_plan_and_ledger_tables_and_keeps_the_cases(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    number = "KHM-CT-2026-00001"
    with w.rt.engine.begin() as conn:  # a case written at the previous revision
        case_id = insert_case(conn, number, KHM_PERSON, "KHM", "khm.caseworker")

    command.upgrade(cfg, "heads")
    assert set(sa.inspect(w.rt.engine).get_table_names()) >= NEW_TABLES
    assert (w.one(Case, id=case_id).case_number, w.all(PlanElement)) == (number, [])
    ctx = w.ctx("khm.caseworker", "KHM")
    element = reintegration.add_element(ctx, case_id, element_form(w, case_id))
    reintegration.request_disbursement(ctx, case_id, element, request_form(w, case_id))
    assert w.one(Disbursement, element_id=element).amount == 200

    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    with w.rt.engine.connect() as conn:
        assert case_number(conn, case_id) == number
    command.upgrade(cfg, "heads")
