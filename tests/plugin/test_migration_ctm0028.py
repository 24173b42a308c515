"""ctm0028 on a database with cases from before: the partners' four tables arrive empty, a partner is added with
its credential and agreement through the use cases and found by its username, the older cases are untouched; down
again, the tables go with their rows and the cases stay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case
from test_partners import SHELTER, agreement_form, lookup
from world import World

from ctm_plugin.domain.case import Case
from ctm_plugin.domain.partners import Partner, SharingAgreement
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import partners
from mimosa_host import db

TABLES = {"ctm_partner", "ctm_partner_credential", "ctm_sharing_agreement", "ctm_partner_exchange"}


def test_ctm0028_adds_the_partners_and_keeps_the_cases(w: World) -> None:
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0028").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    with w.rt.engine.begin() as conn:
        case_id = insert_case(conn, "THA-CT-2026-OLD26")

    command.upgrade(cfg, "heads")
    assert w.one(Case, id=case_id).case_number == "THA-CT-2026-OLD26"
    assert w.all(Partner) == []
    partner_id = partners.add_partner(w.request_ctx("admin"), SHELTER)
    username, secret = partners.issue_credential(w.request_ctx("admin"), partner_id)
    assert partners.draft_agreement(w.request_ctx("admin"), partner_id, agreement_form()) == 1
    assert lookup(w, username).secrets == (secret,)  # type: ignore[union-attr]
    assert w.one(SharingAgreement, partner_id=partner_id).status == "draft"

    command.downgrade(cfg, previous)
    assert not TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    with w.rt.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT case_number FROM ctm_case WHERE id = :id"), {"id": case_id})
    command.upgrade(cfg, "heads")
