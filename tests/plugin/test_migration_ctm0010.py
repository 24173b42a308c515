"""ctm0010 on a database with a case opened at the revision before: the monitoring tables arrive empty,
the case is read back intact and takes three surveys; and back down, the case still there."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from test_monitoring import start, three_surveys
from world import World

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
    case_id = w.open()  # a case made at the revision before
    before = w.one(Case, id=case_id)
    command.upgrade(cfg, "heads")

    assert set(sa.inspect(w.rt.engine).get_table_names()) >= NEW_TABLES
    again = w.one(Case, id=case_id)
    assert (again.case_number, again.beneficiary_id, again.version) == (
        before.case_number,
        before.beneficiary_id,
        before.version,
    )
    start(w, case_id)
    three_surveys(w, case_id)
    assert len(w.all(MonitoringVisit, case_id=case_id)) == 3

    command.downgrade(cfg, previous)
    assert w.one(Case, id=case_id).case_number == before.case_number
    command.upgrade(cfg, "heads")
