"""ctm0010 on a database with a case opened at the revision before: the monitoring tables arrive empty,
the case is read back intact and takes three surveys; and back down, the case still there."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import case_number, insert_case
from test_monitoring import start, three_surveys
from world import THA_PERSON, World

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.monitoring import MonitoringVisit
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from mimosa_host import db

NEW_TABLES = {"ctm_monitoring_start", "ctm_monitoring_visit", "ctm_scoring_model"}


def test_ctm0010_adds_the_monitoring_tables_and_keeps_cases(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0010").down_revision
    assert isinstance(previous, str)

    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    number = "THA-CT-2026-00001"
    with w.rt.engine.begin() as conn:  # a case made at the revision before
        case_id = insert_case(conn, number, THA_PERSON)
    command.upgrade(cfg, "heads")

    assert set(sa.inspect(w.rt.engine).get_table_names()) >= NEW_TABLES
    again = w.one(Case, id=case_id)
    assert (again.case_number, again.beneficiary_id, again.status, again.version) == (number, THA_PERSON, "Active", 1)
    start(w, case_id)
    three_surveys(w, case_id)
    assert len(w.all(MonitoringVisit, case_id=case_id)) == 3

    command.downgrade(cfg, previous)
    with w.rt.engine.connect() as conn:
        assert case_number(conn, case_id) == number
    command.upgrade(cfg, "heads")
