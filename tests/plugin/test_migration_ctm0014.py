"""ctm0014 on a database with a screening recorded at the revision before: it reads back current, of no presumed
child and uncorrected, and can be corrected; and back down, both versions still there."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case
from world import World

from ctm_plugin.domain import palermo
from ctm_plugin.domain.screening import Determination, Screening
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import screening
from mimosa_host import db

NEW_COLUMNS = {"believed_child", "correction_reason", "superseded_by"}


def screening_columns(w: World) -> set[str]:
    return {c["name"] for c in sa.inspect(w.rt.engine).get_columns("ctm_screening")}


def test_ctm0014_keeps_earlier_screenings_current_and_lets_them_be_corrected(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0014").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not NEW_COLUMNS & screening_columns(w)
    then = sa.table(
        "ctm_screening", *(sa.column(c.name, c.type) for c in Screening.__table__.c if c.name not in NEW_COLUMNS)
    )
    with w.rt.engine.begin() as conn:  # a case and its screening, made at the revision before
        case_id = insert_case(conn, "THA-CT-2026-00001")
        conn.execute(
            sa.insert(then).values(
                mission_code="THA",
                case_id=case_id,
                interview_date=date(2026, 3, 1),
                place="Office",
                interviewer="Dara",
                acts=["Recruitment"],
                means=[],
                purposes=["ForcedLabour"],
                recommendation=palermo.UNDETERMINED,
                reasons=["ActPresent", "AgeUnknownNoMeans", "PurposePresent"],
                recorded_by="caseworker",
                recorded_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
            )
        )
        screening_id = conn.scalar(sa.select(then.c.id).where(then.c.case_id == case_id))
        conn.execute(  # HQ's decision on that screening: its link must outlive the screening table's changes
            sa.insert(Determination.__table__).values(
                mission_code="THA",
                case_id=case_id,
                screening_id=screening_id,
                decision=palermo.VICTIM,
                reason="Act, means and purpose.",
                decided_by="hq",
                decided_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            )
        )

    command.upgrade(cfg, "heads")
    assert screening_columns(w) >= NEW_COLUMNS
    [earlier] = w.all(Screening, case_id=case_id)
    assert (earlier.place, earlier.recommendation, earlier.believed_child) == ("Office", palermo.UNDETERMINED, False)
    assert (earlier.superseded_by, earlier.correction_reason) == (None, None)
    assert w.one(Determination, case_id=case_id).screening_id == earlier.id
    data = {
        "version": str(w.version(case_id)),
        "interview_date": "2026-03-01",
        "place": "Office",
        "interviewer": "Dara",
        "believed_child": "on",
        "acts": ["Recruitment"],
        "purposes": ["ForcedLabour"],
        "reason": "She said she was 16 at the second interview.",
    }
    correction = screening.correct_screening(w.ctx("caseworker"), case_id, earlier.id, data)
    assert w.one(Screening, id=earlier.id).superseded_by == correction
    assert w.one(Screening, id=correction).recommendation == palermo.VICTIM

    command.downgrade(cfg, previous)
    assert not NEW_COLUMNS & screening_columns(w)
    with w.rt.engine.connect() as conn:
        kept = conn.execute(sa.select(then.c.id, then.c.place).where(then.c.case_id == case_id).order_by(then.c.id))
        assert [tuple(row) for row in kept] == [(earlier.id, "Office"), (correction, "Office")]
        linked = sa.text("SELECT screening_id FROM ctm_determination WHERE case_id = :case")
        assert conn.scalar(linked, {"case": case_id}) == earlier.id
    command.upgrade(cfg, "heads")
