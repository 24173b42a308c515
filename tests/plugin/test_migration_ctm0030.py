"""ctm0030 on a database with cases and a partner from before (ctm0028's): the partner service's tables arrive
empty, the partner's referral is received through the service into them, sealed, and the older rows are
untouched; down again, the tables go with what partners sent and the cases and the partner stay."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import insert_case
from partner_rows import NEEDS, partner, signed
from world import World

from ctm_plugin.adapters import partner_service
from ctm_plugin.domain.case import Case
from ctm_plugin.domain.partner_service import InboundReferral
from ctm_plugin.domain.partners import Partner
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from mimosa_host import db
from mimosa_host.plugin_api import MachinePrincipal, MachineRequest

TABLES = {"ctm_partner_nonce", "ctm_inbound_referral", "ctm_partner_followup"}
REFERRAL = """<p:SubmitReferral><p:PartnerReference>OLD-1</p:PartnerReference><p:Purpose>ReferralAssistance</p:Purpose>
<p:Fields><p:Field><p:Name>referral.needs</p:Name><p:Value>shelter</p:Value></p:Field></p:Fields></p:SubmitReferral>"""


def test_ctm0030_adds_the_partner_services_tables_and_keeps_the_cases(w: World) -> None:
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0030").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    with w.rt.engine.begin() as conn:
        case_id = insert_case(conn, "THA-CT-2026-OLD29")
    ngo = partner(w.rt)  # ctm0028's partner, credential and approved agreement

    command.upgrade(cfg, "heads")
    assert w.one(Case, id=case_id).case_number == "THA-CT-2026-OLD29"
    assert w.all(InboundReferral) == []
    request = MachineRequest("POST", partner_service.PATH, {}, signed(REFERRAL, ngo.username, ngo.secret))
    answer = partner_service.handle(w.job_ctx("THA"), request, MachinePrincipal("THA", ngo.username))
    assert answer.status == 200, answer.body
    stored = w.one(InboundReferral, partner_reference="OLD-1")
    assert (stored.mission_code, stored.partner_id, stored.status, stored.agreement_version, stored.payload) == (
        "THA",
        ngo.id,
        "pending",
        1,
        {NEEDS: "shelter"},
    )

    command.downgrade(cfg, previous)
    assert not TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    with w.rt.engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT case_number FROM ctm_case WHERE id = :id"), {"id": case_id})
    assert w.one(Partner, id=ngo.id).name
    command.upgrade(cfg, "heads")
