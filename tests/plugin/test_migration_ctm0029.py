"""ctm0029 on a database with HQ's matches from before, each shared with the earlier mission: kept as they were;
the earlier mission now reads, in its own session, the one HQ confirmed, no longer the open one (on PostgreSQL,
row-level security says the same to raw SQL as the application's role: tests/plugin/test_row_level_security.py);
down again, the matches are as they were and ctm0025's policy (any match not dismissed) is back."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case, insert_match, matches
from world import World

from ctm_plugin.domain.scope import mission_session
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services.retrafficking import flags_for_case
from mimosa_host import db


def seed_open_and_confirmed(conn: sa.Connection) -> dict[str, int]:
    """A THA case matched by two later KHM cases whose consent lets THA know: one match open, one confirmed."""
    ids = {
        "tha": insert_case(conn, "THA-CT-2025-OLD27", opened_on="2025-02-03"),
        "open": insert_case(conn, "KHM-CT-2026-OLD27", person="BEN-2000001", mission="KHM"),
        "confirmed": insert_case(conn, "KHM-CT-2026-OLD28", person="BEN-2000002", mission="KHM"),
    }
    for later in ("open", "confirmed"):
        insert_match(conn, ids["tha"], "THA-CT-2025-OLD27", ids[later], True, status=later)
    return ids


def _flag_policy(conn: sa.Connection) -> str | None:
    if conn.dialect.name != "postgresql":
        return None
    return conn.scalar(
        sa.text("SELECT qual FROM pg_policies WHERE tablename = 'ctm_retrafficking_match' AND policyname = :name"),
        {"name": "ctm_earlier_mission_flag"},
    )


def test_ctm0029_shows_the_earlier_mission_only_the_match_hq_confirmed(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0029").down_revision
    assert previous == "ctm0028"
    command.downgrade(cfg, previous)
    with w.rt.engine.begin() as conn:
        ids = seed_open_and_confirmed(conn)
        before = matches(conn)
    postgresql = w.rt.engine.dialect.name == "postgresql"

    command.upgrade(cfg, "heads")
    with w.rt.engine.connect() as conn:
        assert matches(conn) == before == [(ids["open"], True, "open"), (ids["confirmed"], True, "confirmed")]
        policy = _flag_policy(conn)
        assert ("'confirmed'" in policy and "<>" not in policy) if postgresql else policy is None
    with mission_session(w.ctx("caseworker")) as tha:  # through ctm0031's view, at the head
        (seen,) = flags_for_case(tha, w.ctx("caseworker"), ids["tha"])
        assert seen.status == "confirmed"

    command.downgrade(cfg, previous)
    with w.rt.engine.connect() as conn:
        assert matches(conn) == before
        policy = _flag_policy(conn)
        assert ("<> 'dismissed'" in policy) if postgresql else policy is None
    command.upgrade(cfg, "heads")
