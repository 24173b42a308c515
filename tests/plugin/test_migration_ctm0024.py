"""ctm0024 on a database with a case and its person from before: the person keeps every field and gains an empty
sealed name (the host's record fills it at the next refresh); HQ's matches table is new, and the matching job
finds the two cases' person by the passport; down again, the person is as it was and the matches are gone."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case
from world import World

from ctm_plugin.domain.case import PersonProfile
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.retrafficking import DOCUMENT, RetraffickingMatch
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.hooks.jobs import MATCHING
from ctm_plugin.services import retrafficking
from mimosa_host import db
from mimosa_host.context import acting_for_plugin


def _seed(conn: sa.Connection) -> dict[str, int]:
    """Two cases (THA's a year before KHM's) and their people as ctm0023 left them, in plain SQL; their ids."""
    ids = {
        "tha": insert_case(conn, "THA-CT-2025-OLD24", opened_on="2025-02-03"),
        "khm": insert_case(conn, "KHM-CT-2026-OLD24", person="BEN-2000001", mission="KHM"),
    }
    for mission, case_id in (("THA", ids["tha"]), ("KHM", ids["khm"])):
        conn.execute(
            sa.text(
                "INSERT INTO ctm_person (case_id, mission_code, gender, languages, citizenships, birth_date,"
                " birth_date_precision) VALUES (:case, :mission, 'Female', '[]', '[\"KHM\"]', '1998-04-03', 'Exact')"
            ),
            {"case": case_id, "mission": mission},
        )
    return ids


def test_ctm0024_adds_hqs_matches_and_an_empty_sealed_name_to_every_person(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0024").down_revision
    assert previous == "ctm0023"
    command.downgrade(cfg, previous)
    with w.rt.engine.begin() as conn:
        ids = _seed(conn)

    command.upgrade(cfg, "heads")
    person = w.one(PersonProfile, case_id=ids["tha"])
    assert (person.name, person.birth_date, person.citizenships) == (None, date(1998, 4, 3), ["KHM"])
    with w.rt.factory() as s, s.begin():  # both checklists hold the same passport: the job matches them
        for mission in ("THA", "KHM"):
            s.add(
                ReturnPreparation(
                    mission_code=mission,
                    case_id=ids[mission.lower()],
                    document_kind="PASSPORT",
                    document_number="SYN7654321",
                    updated_by="caseworker",
                )
            )
    with acting_for_plugin(w.rt, "ctm", job=MATCHING) as ctx:
        assert retrafficking.match(ctx) == 1
    found = w.one(RetraffickingMatch)
    assert (found.earlier_case_id, found.later_case_id, found.evidence) == (ids["tha"], ids["khm"], DOCUMENT)

    command.downgrade(cfg, previous)
    with w.rt.engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        columns = {c["name"] for c in sa.inspect(conn).get_columns("ctm_person")}
        born = conn.scalar(sa.text("SELECT birth_date FROM ctm_person WHERE case_id = :id"), {"id": ids["khm"]})
    assert "ctm_retrafficking_match" not in tables and "name" not in columns
    assert str(born) == "1998-04-03"
    command.upgrade(cfg, "heads")
