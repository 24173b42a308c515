"""ctm0031 on a database with HQ's matches from before: kept as they were; the earlier mission reads, in its own
session, its flag (the later mission, the day the later case was opened, the status) through the flags' view, and
none of HQ's rows; on PostgreSQL the application's role, in THA's transaction, reads the view's columns of the
confirmed match and nothing of the match itself (not the later case, its number, the evidence or the score); down
again, the view is gone and ctm0029's policy (the whole confirmed match) is back."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import matches
from test_migration_ctm0029 import seed_open_and_confirmed
from test_row_level_security import ROLE, app_url, create_application_role, in_transaction_of
from world import World

from ctm_plugin.domain.retrafficking import FLAG_VIEW, RetraffickingMatch
from ctm_plugin.domain.scope import mission_session
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services.retrafficking import Flag, flags_for_case
from mimosa_host import db


def _as_the_application(w: World, mission: str, statement: str) -> list[sa.Row]:
    engine = sa.create_engine(app_url(w.rt.engine.url))
    try:
        with engine.connect() as conn:
            in_transaction_of(conn, mission)
            return conn.execute(sa.text(statement)).all()
    finally:
        engine.dispose()


def test_ctm0031_gives_the_earlier_mission_its_flags_columns_alone(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0031").down_revision
    assert previous == "ctm0030"
    command.downgrade(cfg, previous)
    with w.rt.engine.begin() as conn:
        ids = seed_open_and_confirmed(conn)
        before = matches(conn)
    postgresql = w.rt.engine.dialect.name == "postgresql"

    command.upgrade(cfg, "heads")
    with w.rt.engine.connect() as conn:
        assert matches(conn) == before == [(ids["open"], True, "open"), (ids["confirmed"], True, "confirmed")]
    caseworker = w.ctx("caseworker")
    with mission_session(caseworker) as tha:
        assert flags_for_case(tha, caseworker, ids["tha"]) == [Flag("KHM", date(2026, 2, 3), "confirmed")]
        assert tha.scalars(sa.select(RetraffickingMatch)).all() == []  # HQ's rows: none in a mission's session
    if postgresql:
        create_application_role(w.rt.engine)
        db.grant_application_role(w.rt.engine, ROLE, [VERSION_TABLE, db.HOST_VERSION_TABLE])
        (flag,) = _as_the_application(w, "THA", f"SELECT * FROM {FLAG_VIEW}")
        assert flag._fields == (
            "id",
            "earlier_mission",
            "earlier_case_id",
            "later_mission",
            "later_opened_on",
            "status",
        )
        assert (flag.earlier_case_id, flag.later_mission, flag.status) == (ids["tha"], "KHM", "confirmed")
        assert _as_the_application(w, "THA", "SELECT * FROM ctm_retrafficking_match") == []
        with pytest.raises(sa.exc.ProgrammingError, match="later_case_number"):
            _as_the_application(w, "THA", f"SELECT later_case_number FROM {FLAG_VIEW}")
        assert _as_the_application(w, "KHM", f"SELECT * FROM {FLAG_VIEW}") == []  # the later mission: nothing
        assert _as_the_application(w, "", f"SELECT * FROM {FLAG_VIEW}") == []

    command.downgrade(cfg, previous)
    with w.rt.engine.connect() as conn:
        assert matches(conn) == before
        assert FLAG_VIEW not in sa.inspect(conn).get_view_names()
    if postgresql:  # ctm0029's policy back: the application's role reads the whole confirmed match in THA
        (match,) = _as_the_application(w, "THA", "SELECT later_case_id, status FROM ctm_retrafficking_match")
        assert tuple(match) == (ids["confirmed"], "confirmed")
    command.upgrade(cfg, "heads")
