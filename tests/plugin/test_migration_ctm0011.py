"""ctm0011 on a database with a case: the fund's tables arrive with the one fund, empty, in US dollars, taking
requests up to 5000;
the case is read back intact and can request assistance, which HQ approves; and back down."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from old_rows import case_number, insert_case
from world import World

from ctm_plugin.domain.fund import FUND_ID, Fund
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from ctm_plugin.services import cases, fund
from mimosa_host import db

NEW_TABLES = {"ctm_fund", "ctm_fund_entry", "ctm_fund_request"}


def test_ctm0011_adds_the_fund_and_keeps_the_cases(w: World):
    cfg = db.alembic_config(w.rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision("ctm0011").down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    number = "THA-CT-2026-00001"
    with w.rt.engine.begin() as conn:  # a case made at the revision before
        case_id = insert_case(conn, number)

    command.upgrade(cfg, "heads")
    assert set(sa.inspect(w.rt.engine).get_table_names()) >= NEW_TABLES
    the_fund = w.one(Fund, id=FUND_ID)
    assert (the_fund.currency, the_fund.balance, the_fund.max_request, the_fund.version) == (
        "USD",
        Decimal(0),
        Decimal(5000),
        1,
    )
    assert w.one(cases.Case, id=case_id).case_number == number
    fund.top_up(w.request_ctx("hq"), {"amount": "50", "donor": "ECHO", "project_code": "P-1", "on_date": "2026-11-02"})
    request_id = fund.request_assistance(
        w.ctx("caseworker"),
        case_id,
        {
            "version": str(w.version(case_id)),
            "kind": "Return",
            "amount": "50",
            "currency": "USD",
            "justification": "Bus.",
        },
    )
    assert (
        fund.decide_request(w.request_ctx("hq"), "THA", request_id, {"decision": "approve", "version": "1"})
        == "approved"
    )

    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(w.rt.engine).get_table_names())
    with w.rt.engine.connect() as conn:
        assert case_number(conn, case_id) == number
    command.upgrade(cfg, "heads")
