"""The global emergency fund's use cases (services/fund.py): missions request, HQ tops up and decides.

HQ's contexts are built as a request's (``w.request_ctx``): one shared connection, so that a decision that
writes in a mission's scope and in HQ's commits once.
"""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from world import KHM_PERSON, World

from ctm_plugin.domain.fund import APPROVED, FUND_ID, REJECTED, REQUESTED, Fund, FundEntry, FundRequest
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.reintegration import Disbursement, LedgerEntry
from ctm_plugin.domain.scope import MissionScopeViolation, hq_reader, hq_session, mission_session
from ctm_plugin.security.permissions import CASE_EDIT, EMERGENCY_FUND_APPROVE, EMERGENCY_FUND_REQUEST
from ctm_plugin.services import fund, reintegration
from ctm_plugin.services.base import ClosedCase, Invalid, NotFound
from mimosa_host.accounts import grant
from mimosa_host.db import transaction
from mimosa_host.models import User


def request_form(w: World, case_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "version": str(w.version(case_id)),
        "kind": "Medical",
        "amount": "1200.50",
        "currency": "USD",
        "justification": "Surgery after the return; no other source of funding.",
        **changes,
    }


def top_up_form(**changes: Any) -> dict[str, Any]:
    return {"amount": "10000", "donor": "ECHO", "project_code": "GEF-2026", "on_date": "2026-11-02", **changes}


def request(w: World, case_id: int, mission: str = "THA", username: str = "caseworker", **changes: Any) -> int:
    return fund.request_assistance(w.ctx(username, mission), case_id, request_form(w, case_id, **changes))


def version_of_request(w: World, request_id: int) -> int:
    return w.one(FundRequest, id=request_id).version


def decide(w: World, mission: str, request_id: int, **form: Any) -> str:
    return fund.decide_request(
        w.request_ctx("hq"), mission, request_id, {"version": str(version_of_request(w, request_id)), **form}
    )


def balance(w: World) -> Decimal:
    return w.one(Fund, id=FUND_ID).balance


def entries_sum(w: World) -> Decimal:
    return sum((e.amount for e in w.all(FundEntry)), Decimal(0))


@pytest.fixture
def tha_case(w: World) -> int:
    return w.open()


@pytest.fixture
def khm_case(w: World) -> int:
    return w.open(KHM_PERSON, mission="KHM")


# -- requests ----------------------------------------------------------------------------------------------


def test_a_caseworker_requests_and_the_mission_sees_its_request(w: World, tha_case: int):
    request_id = request(w, tha_case)
    row = w.one(FundRequest, id=request_id)
    assert (row.mission_code, row.state, row.amount, row.currency, row.requested_by) == (
        "THA",
        REQUESTED,
        Decimal("1200.50"),
        "USD",
        "caseworker",
    )
    [seen] = fund.mission_requests(w.ctx("caseworker"))
    assert seen.request.id == request_id and seen.case_number.startswith("THA")
    assert "fund.request" in [e["action"] for e in w.audit_rows()]


BAD_REQUESTS = [
    ({"amount": "12.345"}, "amount", "This currency has at most 2 decimals."),
    ({"amount": "100.5", "currency": "JPY"}, "amount", "This currency has no decimals: enter a whole amount."),
    ({"amount": "-5"}, "amount", "Enter an amount greater than zero and below 1,000,000,000."),
    ({"amount": "0"}, "amount", "Enter an amount greater than zero and below 1,000,000,000."),
    ({"amount": "1e12"}, "amount", "Enter an amount greater than zero and below 1,000,000,000."),
    ({"amount": "NaN"}, "amount", "Enter an amount, e.g. 1250.50."),
    ({"amount": "lots"}, "amount", "Enter an amount, e.g. 1250.50."),
    ({"currency": "XYZ"}, "currency", "Choose a currency from the list."),
    ({"currency": "usd"}, "currency", "Choose a currency from the list."),
    ({"amount": "5000.01"}, "amount", fund.OVER_THE_MAX),
    ({"kind": "Holiday"}, "kind", "Choose a value from the list."),
    ({"justification": ""}, "justification", "This field is required."),
    ({"justification": "x" * 2001}, "justification", "The text is too long."),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_REQUESTS)
def test_a_bad_request_is_refused_naming_the_field_and_nothing_is_saved(
    w: World, tha_case: int, changes: dict[str, str], field: str, message: str
):
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        request(w, tha_case, **changes)
    assert refused.value.errors == {field: [message]}
    assert w.snapshot() == before


def test_the_largest_request_is_hqs_setting_on_the_fund_in_its_currency(w: World, tha_case: int):
    hq = w.request_ctx("hq")
    fund.set_max_request(hq, {"max_request": "300"})
    assert fund.fund_terms(w.ctx("caseworker")) == fund.FundTerms("USD", Decimal(300))
    assert fund.fund_state(hq).max_request == Decimal(300)
    assert "fund.max_request" in [e["action"] for e in w.audit_rows()]
    with pytest.raises(Invalid) as refused:
        request(w, tha_case, amount="300.01")
    assert refused.value.errors == {"amount": [fund.OVER_THE_MAX]}
    assert request(w, tha_case, amount="300")
    # another currency: HQ decides at its rate, and the limit is checked then
    assert request(w, tha_case, amount="9000", currency="THB")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "Enter an amount greater than zero and below 1,000,000,000."),
        ("", "This field is required."),
        ("12.345", "This currency has at most 2 decimals."),
        ("lots", "Enter an amount, e.g. 1250.50."),
    ],
)
def test_a_bad_largest_request_is_refused_naming_the_field(w: World, value: str, message: str):
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        fund.set_max_request(w.request_ctx("hq"), {"max_request": value})
    assert refused.value.errors == {"max_request": [message]}
    assert w.snapshot() == before


def test_only_hq_sets_the_largest_request(w: World):
    with pytest.raises(NotFound):
        fund.set_max_request(w.request_ctx("caseworker"), {"max_request": "10"})
    assert w.one(Fund, id=FUND_ID).max_request == Decimal(5000)


def test_a_user_without_the_permission_cannot_request(w: World, tha_case: int):
    with pytest.raises(NotFound):
        request(w, tha_case, username="movement")


def test_a_request_needs_the_right_to_edit_the_case_it_moves_on(w: World, tha_case: int):
    ctx = w.ctx("caseworker")
    reader = dataclasses.replace(ctx, permissions=ctx.permissions - {CASE_EDIT})
    before = w.snapshot()
    with pytest.raises(NotFound):
        fund.request_assistance(reader, tha_case, request_form(w, tha_case))
    assert w.snapshot() == before


def test_a_mission_reads_the_funds_terms_through_a_reader_that_writes_nothing(w: World, tha_case: int):
    request(w, tha_case)
    with hq_reader(w.ctx("caseworker"), EMERGENCY_FUND_REQUEST) as session:
        assert session.scalars(sa.select(FundRequest)).all() == []  # no mission's rows
        the_fund = session.get_one(Fund, FUND_ID)
        the_fund.max_request = Decimal(1)
        with pytest.raises(MissionScopeViolation):
            session.flush()
    with hq_reader(w.ctx("caseworker"), EMERGENCY_FUND_REQUEST) as session, pytest.raises(MissionScopeViolation):
        session.execute(sa.update(Fund).values(max_request=1))
    with pytest.raises(MissionScopeViolation):
        hq_reader(w.ctx("movement"), EMERGENCY_FUND_REQUEST)
    assert w.one(Fund, id=FUND_ID).max_request == Decimal(5000)


# -- scope -------------------------------------------------------------------------------------------------


def test_a_mission_sees_only_its_own_requests(w: World, tha_case: int, khm_case: int):
    tha_request = request(w, tha_case)
    khm_request = request(w, khm_case, mission="KHM")
    assert [r.request.id for r in fund.mission_requests(w.ctx("caseworker"))] == [tha_request]
    assert [r.request.id for r in fund.mission_requests(w.ctx("caseworker", "KHM"))] == [khm_request]
    with mission_session(w.ctx("caseworker", "KHM")) as session:
        assert session.get(FundRequest, tha_request) is None
    hq_seen = fund.hq_requests(w.request_ctx("hq"))
    assert {(r.mission.code, r.id) for r in hq_seen} == {("THA", tha_request), ("KHM", khm_request)}


def test_a_mission_session_never_reads_nor_writes_the_funds_rows(w: World):
    fund.top_up(w.request_ctx("hq"), top_up_form())
    with mission_session(w.ctx("hq")) as session:
        assert session.get(Fund, FUND_ID) is None
        assert session.scalars(sa.select(FundEntry)).all() == []
    with mission_session(w.ctx("hq")) as session, pytest.raises(MissionScopeViolation):
        session.add(FundEntry(kind="top_up", amount=1, currency="USD", balance_after=1, on_date=None, recorded_by="x"))
        session.flush()


def test_an_hq_session_reads_no_missions_rows_and_needs_the_approval(w: World, tha_case: int):
    request(w, tha_case)
    with hq_session(w.ctx("hq"), EMERGENCY_FUND_APPROVE) as session:
        assert session.scalars(sa.select(FundRequest)).all() == []
        assert session.get(Fund, FUND_ID) is not None
    with pytest.raises(MissionScopeViolation):
        hq_session(w.ctx("caseworker"), EMERGENCY_FUND_APPROVE)


def test_hq_opening_the_fund_is_audited(w: World):
    fund.fund_state(w.request_ctx("hq"))
    [view] = [e for e in w.audit_rows() if e["action"] == "fund.view"]
    assert (view["mission_code"], view["username"], view["case_id"]) == ("THA", "hq", None)


def test_hq_sees_a_minimal_record_without_identity(w: World, tha_case: int):
    request(w, tha_case)
    [seen] = fund.hq_requests(w.request_ctx("hq"))
    assert not hasattr(seen, "beneficiary_id") and not hasattr(seen, "case_id")
    assert seen.case_number.startswith("THA") and seen.kind == "Medical" and seen.age_days == 0


def test_hq_filters_by_state(w: World, tha_case: int):
    fund.top_up(w.request_ctx("hq"), top_up_form())
    first, second = request(w, tha_case), request(w, tha_case)
    decide(w, "THA", first, decision="approve")
    assert [r.id for r in fund.hq_requests(w.request_ctx("hq"), REQUESTED)] == [second]
    assert [r.id for r in fund.hq_requests(w.request_ctx("hq"), APPROVED)] == [first]


def test_non_hq_users_find_nothing(w: World, tha_case: int):
    request_id = request(w, tha_case)
    for username in ("caseworker", "supervisor", "admin"):
        ctx = w.request_ctx(username)
        for call, args in (
            (fund.hq_requests, ()),
            (fund.fund_state, ()),
            (fund.top_up, (top_up_form(),)),
            (fund.decide_request, ("THA", request_id, {"decision": "approve", "version": "1"})),
        ):
            with pytest.raises(NotFound):
                call(ctx, *args)
    with pytest.raises(NotFound):  # a mission outside HQ's scope
        fund.decide_request(w.request_ctx("hq"), "MDA", request_id, {"decision": "approve", "version": "1"})


# -- top-ups and decisions ---------------------------------------------------------------------------------


def test_top_ups_and_an_approval_keep_the_balance_and_the_entries_in_step(w: World, tha_case: int):
    hq = w.request_ctx("hq")
    fund.top_up(hq, top_up_form(amount="1000"))
    fund.top_up(hq, top_up_form(amount="500.25", donor="Norway", project_code="NOR-7", reference="TR-9"))
    request_id = request(w, tha_case, amount="1200.50")
    assert decide(w, "THA", request_id, decision="approve") == APPROVED
    assert balance(w) == Decimal("299.75") == entries_sum(w)
    row = w.one(FundRequest, id=request_id)
    assert (row.approved_amount, row.fund_amount, row.fund_currency, row.decided_by) == (
        Decimal("1200.50"),
        Decimal("1200.50"),
        "USD",
        "hq",
    )
    [approval] = [e for e in w.all(FundEntry) if e.kind == "approval"]
    assert (approval.request_mission, approval.request_id, approval.balance_after) == (
        "THA",
        request_id,
        Decimal("299.75"),
    )
    actions = [e["action"] for e in w.audit_rows()]
    assert "fund.top_up" in actions and "fund.request.approved" in actions


def test_approving_less_and_rejecting(w: World, tha_case: int):
    fund.top_up(w.request_ctx("hq"), top_up_form())
    less, rejected = request(w, tha_case), request(w, tha_case)
    decide(w, "THA", less, decision="approve_less", amount="800", reason="Half of the cost is covered by an NGO.")
    decide(w, "THA", rejected, decision="reject", reason="The medical service is free at the public hospital.")
    assert w.one(FundRequest, id=less).fund_amount == Decimal("800")
    assert w.one(FundRequest, id=rejected).state == REJECTED and w.one(FundRequest, id=rejected).fund_amount is None
    assert balance(w) == Decimal("9200") == entries_sum(w)


def test_a_request_in_another_currency_records_the_rate_and_the_funds_amount(w: World, tha_case: int):
    fund.top_up(w.request_ctx("hq"), top_up_form())
    request_id = request(w, tha_case, amount="35000", currency="THB")
    with pytest.raises(Invalid) as refused:
        decide(w, "THA", request_id, decision="approve")
    assert refused.value.errors == {"exchange_rate": [fund.RATE_NEEDED]}
    decide(w, "THA", request_id, decision="approve", exchange_rate="0.02857")
    row = w.one(FundRequest, id=request_id)
    assert (row.exchange_rate, row.fund_amount, row.fund_currency) == (Decimal("0.02857"), Decimal("999.95"), "USD")
    assert balance(w) == Decimal("9000.05") == entries_sum(w)


def test_an_approval_enters_the_cases_ledger_where_the_mission_pays_it(w: World, tha_case: int):
    fund.top_up(w.request_ctx("hq"), top_up_form())
    approved, rejected = request(w, tha_case, amount="35000", currency="THB"), request(w, tha_case)
    decide(w, "THA", approved, decision="approve_less", amount="30000", exchange_rate="0.02857", reason="Partly")
    decide(w, "THA", rejected, decision="reject", reason="The medical service is free at the public hospital.")
    (disbursement,) = w.all(Disbursement)  # the rejection enters nothing
    assert (disbursement.emergency_request_id, disbursement.amount, disbursement.currency) == (
        approved,
        Decimal("30000"),
        "THB",
    )
    assert (disbursement.state, disbursement.project_code, disbursement.decided_by) == (
        "approved",
        fund.FUND_PROJECT,
        "hq",
    )
    assert disbursement.requested_by == "caseworker"  # the requester is not the approver
    payment = {
        "version": str(w.version(tha_case)),
        "paid_on": mission_today(w.ctx("caseworker").settings).isoformat(),  # not before the approval
        "payment_method": "BankTransfer",
        "receipt_reference": "RCPT-0001",
        "payee": "Person",
    }
    reintegration.record_payment(w.ctx("caseworker"), tha_case, disbursement.id, payment)
    kinds = sorted((e.kind, e.amount, e.currency) for e in w.all(LedgerEntry))
    assert kinds == [("approval", Decimal("30000"), "THB"), ("payment", Decimal("30000"), "THB")]


BAD_DECISIONS = [
    ({"decision": "approve_less", "amount": "1500", "reason": "r"}, "amount", fund.MORE_THAN_REQUESTED),
    (
        {"decision": "approve_less", "amount": "100.001", "reason": "r"},
        "amount",
        "This currency has at most 2 decimals.",
    ),
    (
        {"decision": "approve_less", "amount": "-3", "reason": "r"},
        "amount",
        "Enter an amount greater than zero and below 1,000,000,000.",
    ),
    ({"decision": "approve_less", "reason": "r"}, "amount", "Give the amount approved."),
    ({"decision": "approve_less", "amount": "100"}, "reason", "This field is required."),
    ({"decision": "reject"}, "reason", "This field is required."),
    ({"decision": "maybe"}, "decision", "Choose a value from the list."),
    ({"decision": "approve", "exchange_rate": "1.1"}, "exchange_rate", fund.NO_RATE),
    (
        {"decision": "approve", "exchange_rate": "-1"},
        "exchange_rate",
        "Enter a rate greater than zero and below 1,000,000.",
    ),
]


@pytest.mark.parametrize(("form", "field", "message"), BAD_DECISIONS)
def test_a_bad_decision_is_refused_naming_the_field_and_nothing_is_saved(
    w: World, tha_case: int, form: dict[str, str], field: str, message: str
):
    fund.top_up(w.request_ctx("hq"), top_up_form())
    request_id = request(w, tha_case)
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        decide(w, "THA", request_id, **form)
    assert refused.value.errors == {field: [message]}
    assert w.snapshot() == before


def test_no_approval_overdraws_the_fund(w: World, tha_case: int):
    fund.top_up(w.request_ctx("hq"), top_up_form(amount="1000"))
    request_id = request(w, tha_case)
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        decide(w, "THA", request_id, decision="approve")
    assert refused.value.errors == {"decision": [fund.OVERDRAWN]}
    assert w.snapshot() == before
    decide(w, "THA", request_id, decision="approve_less", amount="1000", reason="What the fund holds.")
    assert balance(w) == 0 == entries_sum(w)


def test_no_approval_takes_more_than_the_funds_largest_request_after_the_rate(w: World, tha_case: int):
    fund.top_up(w.request_ctx("hq"), top_up_form(amount="900000000"))
    huge = request(w, tha_case, amount="900000000", currency="EUR")  # another currency: not refused at request
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        decide(w, "THA", huge, decision="approve", exchange_rate="1.1")
    assert refused.value.errors == {"decision": [fund.TAKES_OVER_THE_MAX]}
    with pytest.raises(Invalid) as refused:
        decide(w, "THA", huge, decision="approve_less", amount="4600", exchange_rate="1.1", reason="Part.")
    assert refused.value.errors == {"amount": [fund.TAKES_OVER_THE_MAX]}  # 5060 USD
    assert w.snapshot() == before
    decide(w, "THA", huge, decision="approve_less", amount="4500", exchange_rate="1.1", reason="Part.")
    assert w.one(FundRequest, id=huge).fund_amount == Decimal("4950")


def test_an_approval_in_the_funds_currency_is_checked_against_a_largest_request_lowered_since(w: World, tha_case: int):
    fund.top_up(w.request_ctx("hq"), top_up_form())
    request_id = request(w, tha_case, amount="1200.50")
    fund.set_max_request(w.request_ctx("hq"), {"max_request": "1000"})
    with pytest.raises(Invalid) as refused:
        decide(w, "THA", request_id, decision="approve")
    assert refused.value.errors == {"decision": [fund.TAKES_OVER_THE_MAX]}


def grant_role(w: World, username: str, role: str, mission: str = "THA") -> None:
    with transaction(w.rt.factory) as s:
        grant(s, s.scalar(sa.select(User).where(User.username == username)), mission, role)


def test_no_one_approves_their_own_request(w: World, tha_case: int):
    grant_role(w, "hq", "ctm.caseworker")  # hq may request in THA too
    fund.top_up(w.request_ctx("hq"), top_up_form())
    own = fund.request_assistance(w.request_ctx("hq"), tha_case, request_form(w, tha_case))
    before = w.snapshot()
    for form in ({"decision": "approve"}, {"decision": "reject", "reason": "No."}):
        with pytest.raises(fund.OwnRequest):
            decide(w, "THA", own, **form)
    assert w.snapshot() == before
    assert w.one(FundRequest, id=own).state == REQUESTED and w.all(Disbursement) == []


def test_a_closed_case_takes_no_request_and_no_approval_into_its_ledger(w: World, tha_case: int):
    fund.top_up(w.request_ctx("hq"), top_up_form())
    waiting, refused_later = request(w, tha_case), request(w, tha_case)
    w.close(tha_case)
    with pytest.raises(ClosedCase):  # the mission asks nothing more for a closed case
        request(w, tha_case)
    before = w.snapshot()
    for form in ({"decision": "approve"}, {"decision": "approve_less", "amount": "100", "reason": "Part."}):
        with pytest.raises(Invalid) as refused:
            decide(w, "THA", waiting, **form)
        assert refused.value.errors == {"decision": [fund.CASE_CLOSED]}
    assert w.snapshot() == before  # nothing taken from the fund, nothing in the case's ledger
    with pytest.raises(ClosedCase):  # nor through the ledger's own door
        reintegration.record_fund_disbursement(
            w.ctx("caseworker"), tha_case, amount=Decimal(5), currency="USD", project_code="P", approved_by="hq"
        )
    assert decide(w, "THA", refused_later, decision="reject", reason="The case is closed.") == REJECTED
    assert w.all(Disbursement) == [] and balance(w) == Decimal("10000")


def test_a_decided_request_is_not_decided_again(w: World, tha_case: int):
    fund.top_up(w.request_ctx("hq"), top_up_form())
    request_id = request(w, tha_case)
    stale = str(version_of_request(w, request_id))
    decide(w, "THA", request_id, decision="approve")
    before = w.snapshot()
    for version in (stale, str(version_of_request(w, request_id))):
        with pytest.raises(fund.AlreadyDecided):
            fund.decide_request(w.request_ctx("hq"), "THA", request_id, {"decision": "approve", "version": version})
    assert w.snapshot() == before


def test_the_funds_currency_changes_only_while_it_holds_no_entries(w: World):
    hq = w.request_ctx("hq")
    with pytest.raises(Invalid) as refused:
        fund.set_currency(hq, {"currency": "EURO"})
    assert refused.value.errors == {"currency": ["Choose a currency from the list."]}
    fund.set_currency(hq, {"currency": "EUR"})
    assert fund.fund_state(hq).currency == "EUR"
    fund.top_up(hq, top_up_form())
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        fund.set_currency(w.request_ctx("hq"), {"currency": "USD"})
    assert refused.value.errors == {"currency": [fund.CURRENCY_FIXED]}
    assert w.snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "10.001"}, "amount"),
        ({"donor": ""}, "donor"),
        ({"on_date": "2026-13-01"}, "on_date"),
        ({"amount": "999999999"}, "amount"),
    ],
)
def test_a_bad_top_up_is_refused_and_nothing_is_saved(w: World, changes: dict[str, str], field: str):
    fund.top_up(w.request_ctx("hq"), top_up_form(amount="5"))
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        fund.top_up(w.request_ctx("hq"), top_up_form(**changes))
    assert list(refused.value.errors) == [field]
    assert w.snapshot() == before


# -- two approvals at once ---------------------------------------------------------------------------------


def test_two_approvals_at_once_that_would_overdraw_the_fund_one_is_refused(w: World, tha_case: int, khm_case: int):
    """Both read the balance (1000) before either commits; each alone fits, both would overdraw it.

    Each decision runs in its own thread, on its own connection, and is held at its first write (after
    it has read the fund's balance and the request, before it writes or commits anything) until both are there.
    """
    fund.top_up(w.request_ctx("hq"), top_up_form(amount="1000"))
    requests = {"THA": request(w, tha_case, amount="700"), "KHM": request(w, khm_case, mission="KHM", amount="600")}
    forms = {m: {"decision": "approve", "version": str(version_of_request(w, r))} for m, r in requests.items()}
    contexts = {m: w.request_ctx("hq") for m in requests}  # two requests, two connections
    both_read = threading.Barrier(2, timeout=20)
    held = threading.local()

    def hold(session: Session, _context: object, _instances: object) -> None:
        writes = session.new or session.dirty
        if writes and threading.current_thread().name.startswith("decide-") and not getattr(held, "done", False):
            held.done = True
            both_read.wait()

    outcomes: dict[str, object] = {}

    def approve(mission: str) -> None:
        try:
            outcomes[mission] = fund.decide_request(contexts[mission], mission, requests[mission], forms[mission])
        except fund.FundChanged:
            outcomes[mission] = "refused"
        except Exception as exc:  # reported by the assertion below
            outcomes[mission] = exc

    sa.event.listen(Session, "before_flush", hold)
    try:
        threads = [threading.Thread(target=approve, args=(m,), name=f"decide-{m}") for m in requests]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(Session, "before_flush", hold)

    assert sorted(map(str, outcomes.values())) == [APPROVED, "refused"], outcomes
    [winner] = [m for m, outcome in outcomes.items() if outcome == APPROVED]
    [loser] = [m for m in requests if m != winner]
    assert balance(w) == Decimal(1000) - {"THA": 700, "KHM": 600}[winner] >= 0
    assert entries_sum(w) == balance(w)
    assert w.one(FundRequest, id=requests[loser]).state == REQUESTED  # nothing of the refused one saved
    assert len([e for e in w.all(FundEntry) if e.kind == "approval"]) == 1


def test_two_approvers_deciding_one_request_at_once_the_second_finds_it_decided(w: World, tha_case: int):
    """Both read the request (at its version) before either writes; the second to write finds it decided."""
    request_id = request(w, tha_case)
    form = {"decision": "reject", "reason": "Free at the public hospital.", "version": "1"}
    contexts = [w.request_ctx("hq"), w.request_ctx("hq")]
    both_read = threading.Barrier(2, timeout=20)
    held = threading.local()

    def hold(session: Session, _context: object, _instances: object) -> None:
        writes = session.new or session.dirty
        if writes and threading.current_thread().name.startswith("decide-") and not getattr(held, "done", False):
            held.done = True
            both_read.wait()

    outcomes: list[object] = []

    def reject(ctx: Any) -> None:
        try:
            outcomes.append(fund.decide_request(ctx, "THA", request_id, form))
        except fund.AlreadyDecided:
            outcomes.append("already decided")
        except Exception as exc:  # reported by the assertion below
            outcomes.append(exc)

    sa.event.listen(Session, "before_flush", hold)
    try:
        threads = [threading.Thread(target=reject, args=(c,), name=f"decide-{i}") for i, c in enumerate(contexts)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        sa.event.remove(Session, "before_flush", hold)

    assert sorted(map(str, outcomes)) == ["already decided", REJECTED], outcomes
    assert w.one(FundRequest, id=request_id).state == REJECTED
    assert len([e for e in w.audit_rows() if e["action"] == "fund.request.rejected"]) == 1
