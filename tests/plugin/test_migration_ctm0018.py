"""ctm0018 on a database with plain values from before: each is sealed under its mission's key and read back
through the ORM, the document number's blind index is filled, and the plain text is gone from the SQLite file;
down again, the values are plain as they were."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case
from test_sealed_at_rest import database_text
from world import World

from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.process import Perpetrator
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.security import crypto
from mimosa_host import db

ALIAS = "Oldrow-Alias-Barracuda-6203"
NOTES = "Oldrow perpetrator note: owns the karaoke bar 8842"
DOCUMENT = "OLDDOC55117"


def test_ctm0018_seals_what_was_plain_and_leaves_no_plain_text_in_the_file(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0018").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    with w.rt.engine.begin() as conn:
        case_id = insert_case(conn, "THA-CT-2026-OLD18")
        conn.execute(
            sa.text(
                "INSERT INTO ctm_perpetrator (mission_code, case_id, alias, roles, notes)"
                " VALUES ('THA', :case, :alias, '[]', :notes)"
            ),
            {"case": case_id, "alias": ALIAS, "notes": NOTES},
        )
        conn.execute(
            sa.text(
                "INSERT INTO ctm_return_preparation (mission_code, case_id, document_number, fit_to_travel,"
                " family_traced, signs_of_minority, updated_by, updated_at)"
                " VALUES ('THA', :case, :number, false, false, false, 'caseworker', '2026-02-03 10:00:00+00:00')"
            ),
            {"case": case_id, "number": DOCUMENT},
        )
    assert ALIAS.encode() in database_text(w)

    command.upgrade(cfg, "heads")
    perpetrator = w.one(Perpetrator, case_id=case_id)
    assert (perpetrator.alias, perpetrator.notes) == (ALIAS, NOTES)
    assert crypto.key_id_of(perpetrator.alias_sealed).startswith("tha-")
    preparation = w.one(ReturnPreparation, case_id=case_id)
    assert preparation.document_number == DOCUMENT
    assert preparation.document_number_index == crypto.blind_index(DOCUMENT, "document_number")
    stored = database_text(w)
    assert [marker for marker in (ALIAS, NOTES, DOCUMENT) if marker.encode() in stored] == []

    command.downgrade(cfg, previous)
    with w.rt.engine.connect() as conn:
        plain = conn.execute(sa.text("SELECT alias, notes FROM ctm_perpetrator WHERE case_id = :id"), {"id": case_id})
        assert tuple(plain.one()) == (ALIAS, NOTES)
    command.upgrade(cfg, "heads")
