"""ctm0004 on a database with rows: overrides move into their own table, the connection copy goes,
returns booked before project codes keep no project (shown as "—"); and back down."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from old_rows import insert_case, insert_return
from page_parts import text
from world import World

from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import host
from mimosa_host import db

OVERRIDES = (
    "[beneficiary]\nversion = 2\n\n[beneficiary.fields.citizenships]\n"
    'xpath = ["m:Nationality"]\ncardinality = "many"\nconverter = "country_alpha3"\n'
)
MISSION_OVERRIDES = "SELECT mapping_overrides FROM ctm_mission WHERE mission_code = :code"


def migrate(rt, revision: str, down: bool = False) -> None:  # noqa: ANN001 - a Runtime
    config = db.alembic_config(rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    (command.downgrade if down else command.upgrade)(config, revision)


def columns(rt, table: str) -> set[str]:  # noqa: ANN001
    return {column["name"] for column in sa.inspect(rt.engine).get_columns(table)}


def test_ctm0004_moves_overrides_drops_the_connection_copy_and_keeps_old_returns(w: World, login):
    host.save_overrides(w.ctx("integrator"), "")
    host.save_overrides(w.ctx("integrator"), OVERRIDES)

    # Down to ctm0003: the newest override is the mission's setting again.
    migrate(w.rt, "ctm0003", down=True)
    with w.rt.engine.begin() as conn:
        booking_id = insert_return(conn, insert_case(conn, "THA-CT-2026-00001"))  # booked before project codes
        assert conn.execute(
            sa.text("SELECT mapping_overrides FROM ctm_mission WHERE mission_code = 'THA'")
        ).scalar() == (OVERRIDES.strip())
        assert (
            conn.execute(sa.text("SELECT mapping_overrides FROM ctm_mission WHERE mission_code = 'KHM'")).scalar()
            is None
        )
        # What ctm0003's code kept: a copy of the connection, and KHM's overrides in its settings.
        conn.execute(
            sa.text(
                "UPDATE ctm_mission SET soap_base_url = 'https://h.example/', soap_username = 'ctm-khm', "
                "soap_password = 'copied-secret', mapping_overrides = :text WHERE mission_code = 'KHM'"
            ),
            {"text": "  " + OVERRIDES},
        )
    assert "project_code" not in columns(w.rt, "ctm_return")
    assert "ctm_mapping_override" not in sa.inspect(w.rt.engine).get_table_names()

    migrate(w.rt, "heads")  # through ctm0004, to the head the code reads
    assert columns(w.rt, "ctm_mission") == {
        "mission_code",
        "enabled_at",
        "enabled_by",
        "disabled_at",
        "case_number_prefix",
    }
    with w.rt.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT mission_code, revision, document, saved_by FROM ctm_mapping_override ORDER BY mission_code")
        ).all()
        assert [tuple(row) for row in rows] == [
            ("KHM", 1, OVERRIDES.strip(), "migration ctm0004"),
            ("THA", 1, OVERRIDES.strip(), "migration ctm0004"),
        ]
        assert conn.execute(
            sa.text("SELECT project_code FROM ctm_return WHERE id = :id"), {"id": booking_id}
        ).one() == (None,)
        assert "copied-secret" not in str(conn.execute(sa.text("SELECT * FROM ctm_mission")).all())
    # The migrated overrides are in force, and the old booking shows no project.
    assert host.override_history(w.ctx("integrator"))[0].document == OVERRIDES.strip()
    page = text(login("movement").get("/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/return"))
    assert 'data-value="project">—</dd>' in page

    # And down again: the migrated override goes back where ctm0003 reads it.
    migrate(w.rt, "ctm0003", down=True)
    with w.rt.engine.connect() as conn:
        assert conn.execute(
            sa.text("SELECT mapping_overrides FROM ctm_mission WHERE mission_code = 'KHM'")
        ).scalar() == (OVERRIDES.strip())
    migrate(w.rt, "heads")
