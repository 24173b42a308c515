"""ctm0034 on a database holding a partner's referrals as ctm0030 kept them (no case, no version): each keeps its
status and its sealed fields, at version 1 with no case; a caseworker then accepts one into a case, which the
referral keeps; down again, the referrals stay with their status, without the case they went to."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from partner_rows import NEEDS, partner, refer
from world import World

from ctm_plugin.domain.partner_service import InboundReferral
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import referral_inbox
from mimosa_host import db

ACCEPT = {"opened_on": "2026-03-02", "consent_given_on": "2026-03-02", "consent_method": "Written"}
STATUSES = sa.text("SELECT partner_reference, status FROM ctm_inbound_referral ORDER BY id")


def _columns(w: World) -> set[str]:
    return {c["name"] for c in sa.inspect(w.rt.engine).get_columns("ctm_inbound_referral")}


def test_ctm0034_gives_referrals_their_case_and_version_and_keeps_them(w: World) -> None:
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0034").down_revision
    assert previous == "ctm0033"
    ngo = partner(w.rt)
    first, second = (refer(w.rt, ngo, reference, {NEEDS: "shelter"}) for reference in ("OLD-1", "OLD-2"))
    referral_inbox.decline(w.ctx("caseworker"), second, {"reason": "No place."})
    command.downgrade(cfg, previous)  # the referrals as ctm0030 keeps them
    assert not {"case_id", "version"} & _columns(w)
    with w.rt.engine.connect() as conn:
        assert conn.execute(STATUSES).all() == [("OLD-1", "pending"), ("OLD-2", "declined")]

    command.upgrade(cfg, "heads")
    pending, declined = w.one(InboundReferral, id=first), w.one(InboundReferral, id=second)
    assert (pending.status, pending.version, pending.case_id, pending.payload) == (
        "pending",
        1,
        None,
        {NEEDS: "shelter"},
    )
    assert (declined.status, declined.decline_reason, declined.case_id) == ("declined", "No place.", None)
    case_id = referral_inbox.accept(w.ctx("caseworker"), first, ACCEPT)
    assert w.one(InboundReferral, id=first).case_id == case_id

    command.downgrade(cfg, previous)
    assert not {"case_id", "version"} & _columns(w)
    with w.rt.engine.connect() as conn:
        assert conn.execute(STATUSES).all() == [("OLD-1", "accepted"), ("OLD-2", "declined")]
    command.upgrade(cfg, "heads")
