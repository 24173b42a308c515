"""ctm0025 on a database with HQ's matches from before: each is kept as it was; the earlier mission now reads, in
its own session, the one the job marked visible to it (not the one it did not, nor the later mission any); down
again, the matches are as they were and, on PostgreSQL, the policy letting a mission read them is gone."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case, insert_match, matches
from world import World

from ctm_plugin.domain.scope import mission_session
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services.retrafficking import Flag, flags_for_case
from mimosa_host import db


def _seed(conn: sa.Connection) -> dict[str, int]:
    """A THA case matched twice by later KHM cases, as ctm0024 wrote the matches (and HQ confirmed them): the
    first later case's consent lets THA know, the second's does not; the cases' ids."""
    ids = {
        "tha": insert_case(conn, "THA-CT-2025-OLD25", opened_on="2025-02-03"),
        "shares": insert_case(conn, "KHM-CT-2026-OLD25", person="BEN-2000001", mission="KHM"),
        "keeps": insert_case(conn, "KHM-CT-2026-OLD26", person="BEN-2000002", mission="KHM"),
    }
    for later, shared in (("shares", True), ("keeps", False)):
        insert_match(conn, ids["tha"], "THA-CT-2025-OLD25", ids[later], shared)
    return ids


def _policies(conn: sa.Connection) -> list[str]:
    if conn.dialect.name != "postgresql":
        return []
    return list(conn.scalars(sa.text("SELECT policyname FROM pg_policies WHERE tablename = 'ctm_retrafficking_match'")))


def test_ctm0025_lets_the_earlier_mission_read_the_match_shared_with_it(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0025").down_revision
    assert previous == "ctm0024"
    command.downgrade(cfg, previous)
    with w.rt.engine.begin() as conn:
        ids = _seed(conn)
        before = matches(conn)
    postgresql = w.rt.engine.dialect.name == "postgresql"

    command.upgrade(cfg, "heads")
    with w.rt.engine.connect() as conn:
        assert matches(conn) == before == [(ids["shares"], True, "confirmed"), (ids["keeps"], False, "confirmed")]
        assert sorted(_policies(conn)) == (["ctm_earlier_mission_flag", "ctm_scope"] if postgresql else [])
    with mission_session(w.ctx("caseworker")) as tha:  # the one shared, through ctm0031's view at the head
        assert flags_for_case(tha, w.ctx("caseworker"), ids["tha"]) == [Flag("KHM", date(2026, 2, 3), "confirmed")]
    khm_caseworker = w.ctx("khm.caseworker", "KHM")
    with mission_session(khm_caseworker) as khm:
        assert flags_for_case(khm, khm_caseworker, ids["shares"]) == []

    command.downgrade(cfg, previous)
    with w.rt.engine.connect() as conn:
        assert matches(conn) == before
        assert _policies(conn) == (["ctm_scope"] if postgresql else [])
    command.upgrade(cfg, "heads")
