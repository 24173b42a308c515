"""ctm0012 on a database with cases: the case list's indexes arrive, the cases are read back intact and listed
through them; and back down, the indexes gone and the cases kept."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from world import World

from ctm_plugin.domain.case import Case
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
    case_ids = [w.open(ref) for ref in ("BEN-1000001", "BEN-1000002", "BEN-1000003")]  # made at ctm0011
    numbers = sorted(w.one(Case, id=case_id).case_number for case_id in case_ids)

    command.upgrade(cfg, "heads")
    assert _indexes(w) >= NEW_INDEXES
    listed = case_list.list_cases(w.ctx("caseworker"), {"sort": "opened", "order": "asc"}).rows
    assert sorted(row.case_number for row in listed) == numbers

    command.downgrade(cfg, "ctm0011")
    assert not NEW_INDEXES & _indexes(w)
    assert sorted(w.one(Case, id=case_id).case_number for case_id in case_ids) == numbers
    command.upgrade(cfg, "heads")
