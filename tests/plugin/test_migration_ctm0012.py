"""ctm0012 on a database with cases: the case list's indexes arrive, the cases are read back intact and listed
through them; and back down, the indexes gone and the cases kept."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from old_rows import insert_case
from world import World

from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import case_list
from mimosa_host import db

NEW_INDEXES = {"ix_ctm_case_opened", "ix_ctm_case_updated", "ix_ctm_case_owner"}


def _indexes(w: World) -> set[str]:
    return {index["name"] for index in sa.inspect(w.rt.engine).get_indexes("ctm_case")}


def test_ctm0012_indexes_the_case_list_and_keeps_the_cases(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    command.downgrade(cfg, "ctm0011")
    assert not NEW_INDEXES & _indexes(w)
    numbers = [f"THA-CT-2026-0000{n}" for n in (1, 2, 3)]
    with w.rt.engine.begin() as conn:  # cases made at ctm0011, as its columns were (later revisions add some)
        for n, number in enumerate(numbers, start=1):
            insert_case(conn, number, f"BEN-100000{n}", opened_on=f"2026-02-0{n}")
    command.upgrade(cfg, "heads")
    assert _indexes(w) >= NEW_INDEXES
    listed = case_list.list_cases(w.ctx("caseworker"), {"sort": "opened", "order": "asc"}).rows
    assert sorted(row.case_number for row in listed) == numbers

    command.downgrade(cfg, "ctm0011")
    assert not NEW_INDEXES & _indexes(w)
    with w.rt.engine.connect() as conn:
        assert sorted(conn.scalars(sa.text("select case_number from ctm_case"))) == numbers
    command.upgrade(cfg, "heads")
