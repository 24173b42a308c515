"""The reintegration plan and its money in KHM (where the person is after the return): a plan agreed
with three elements and revised with its history, disbursements requested by the caseworker and
decided by the supervisor (never the requester), payments, reversals, the append-only ledger, the
emergency fund's way in, the supervisor's list and the donors' report. Bad input saves nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from test_handover import accept_form, propose_form, returning
from world import KHM_PERSON, World, set_ctm_settings

from ctm_plugin.domain import money
from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.reintegration import (
    AppendOnly,
    Disbursement,
    LedgerEntry,
    PlanElement,
    PlanRevision,
    ReintegrationPlan,
)
from ctm_plugin.services import handover
from ctm_plugin.services import reintegration as service
from ctm_plugin.services.base import HandedOver, Invalid, NotFound, get_case, unit_of_work

KHM = "KHM"
PROVIDER = "NGO: KHM Hope Foundation"


def khm(w: World, user: str = "khm.caseworker"):  # noqa: ANN201
    return w.ctx(user, KHM)


@pytest.fixture
def case_id(w: World) -> int:
    return w.open(KHM_PERSON, "khm.caseworker", KHM)


def element_form(w: World, case_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "version": w.version(case_id),
        "type": "VocationalTraining",
        "objective": "Six months of tailoring training with a certificate.",
        "provider": PROVIDER,
        "start_on": "2026-04-01",
        "end_on": "2026-09-30",
        "budget": "500.00",
        "currency": "USD",
        "status": "Planned",
        **changes,
    }


def request_form(w: World, case_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "version": w.version(case_id),
        "amount": "200",
        "project_code": "KHM-CT-01",
        "payee": "Provider",
        "purpose": "First term's fees.",
        **changes,
    }


def decision(w: World, case_id: int, **changes: Any) -> dict[str, Any]:
    return {"version": w.version(case_id), "decision": "approve", **changes}


def payment_form(w: World, case_id: int, **changes: Any) -> dict[str, Any]:
    return {
        "version": w.version(case_id),
        "paid_on": mission_today(khm(w).settings).isoformat(),
        "payment_method": "BankTransfer",
        "receipt_reference": "RCPT-0001",
        "payee": "Provider",
        **changes,
    }


def agreed(w: World, case_id: int) -> list[int]:
    """A plan agreed with three elements (training in USD, medical in KHR, housing in USD)."""
    ctx = khm(w)
    ids = [
        service.add_element(ctx, case_id, element_form(w, case_id)),
        service.add_element(
            ctx,
            case_id,
            element_form(w, case_id, type="Medical", budget="400000", currency="KHR", provider="IOM: IOM KHM"),
        ),
        service.add_element(ctx, case_id, element_form(w, case_id, type="Housing", budget="300")),
    ]
    service.agree_plan(ctx, case_id, {"version": w.version(case_id), "agreed_on": "2026-03-20"})
    return ids


def requested(w: World, case_id: int, element_id: int, **changes: Any) -> int:
    return service.request_disbursement(khm(w), case_id, element_id, request_form(w, case_id, **changes))


def test_a_plan_agreed_with_three_elements_then_a_disbursement_approved_paid_and_in_the_ledger(w: World, case_id: int):
    training, medical, _housing = agreed(w, case_id)
    plan = w.one(ReintegrationPlan, case_id=case_id)
    assert (plan.agreed_on.isoformat(), plan.agreed_recorded_by, plan.revision) == ("2026-03-20", "khm.caseworker", 1)

    d = requested(w, case_id, training)
    service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    service.record_payment(khm(w), case_id, d, payment_form(w, case_id))

    entries = w.all(LedgerEntry, case_id=case_id)
    assert [(e.kind, e.amount, e.currency, e.project_code, e.donor, e.by) for e in entries] == [
        ("approval", Decimal("200"), "USD", "KHM-CT-01", "Example Donor A", "supervisor"),
        ("payment", Decimal("200"), "USD", "KHM-CT-01", "Example Donor A", "khm.caseworker"),
    ]
    assert (entries[1].payee, entries[1].payee_name, entries[1].receipt_reference) == (
        "Provider",
        "KHM Hope Foundation",
        "RCPT-0001",
    )
    with unit_of_work(khm(w)) as session:
        from ctm_plugin.domain.case import Case

        view = service.plan_view(session, session.get(Case, case_id))
        totals = view.totals
        assert totals.planned == {"KHR": Decimal("400000"), "USD": Decimal("800")}  # never summed across currencies
        assert (totals.approved, totals.paid) == ({"USD": Decimal("200")}, {"USD": Decimal("200")})
        assert totals.remaining == {"KHR": Decimal("400000"), "USD": Decimal("600")}
    assert w.one(Disbursement, id=d).state == "paid"
    actions = [row["action"] for row in w.audit_rows() if row["mission_code"] == KHM]
    assert {"plan.agree", "disbursement.request", "disbursement.approve", "disbursement.pay"} <= set(actions)
    assert medical


def test_a_change_after_the_agreement_keeps_who_when_and_what_changed(w: World, case_id: int):
    training, *_ = agreed(w, case_id)
    cancel = element_form(w, case_id, status="Cancelled", status_reason="Found a job instead.", budget="500")
    service.change_element(khm(w, "supervisor"), case_id, training, cancel)
    revisions = w.all(PlanRevision, case_id=case_id)
    assert [(r.revision, r.what, r.by) for r in revisions] == [
        (1, "agreed", "khm.caseworker"),
        (2, "element.change", "supervisor"),
    ]
    assert revisions[1].changes == [
        {"field": "status", "before": "Planned", "after": "Cancelled"},
        {"field": "status_reason", "before": None, "after": "Found a job instead."},
    ]
    assert w.one(ReintegrationPlan, case_id=case_id).revision == 2
    with pytest.raises(Invalid) as refused:  # a cancelled element takes no more money
        requested(w, case_id, training)
    assert list(refused.value.errors) == ["amount"]


def test_before_the_agreement_changes_keep_no_history(w: World, case_id: int):
    service.add_element(khm(w), case_id, element_form(w, case_id))
    assert w.all(PlanRevision, case_id=case_id) == []


BAD_ELEMENTS = [
    ({"budget": "10.555"}, "budget", "This currency has at most 2 decimals."),
    ({"budget": "10.5", "currency": "KHR"}, "budget", "This currency has at most 2 decimals."),
    ({"budget": "5.5", "currency": "JPY"}, "budget", "This currency has no decimals: enter a whole amount."),
    ({"budget": "-5"}, "budget", "Enter an amount greater than zero and below 1,000,000,000."),
    ({"budget": "1e12"}, "budget", "Enter an amount greater than zero and below 1,000,000,000."),
    ({"currency": "ABC"}, "currency", "Choose a currency from the list."),
    ({"provider": "NGO: Someone Else"}, "provider", service.NOT_A_PROVIDER),
    ({"end_on": "2026-03-01"}, "end_on", "The end cannot be before the start."),
    ({"status": "Cancelled"}, "status_reason", "Say why the element is cancelled."),
    ({"type": "Holiday"}, "type", "Choose a value from the list."),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_ELEMENTS)
def test_a_bad_element_is_refused_naming_its_field_and_nothing_is_saved(
    w: World, case_id: int, changes: dict, field: str, message: str
):
    if changes.get("currency") == "KHR":  # KHR has 2 decimals in ISO 4217: 10.5 fits, 10.555 does not
        changes = {**changes, "budget": "10.555"}
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        service.add_element(khm(w), case_id, element_form(w, case_id, **changes))
    assert refused.value.errors == {field: [message]}
    assert w.snapshot() == before


def test_with_no_provider_configured_the_element_is_refused_on_its_provider(w: World, case_id: int):
    set_ctm_settings(w.rt, KHM, reintegration_providers=None)
    w._contexts.clear()
    with pytest.raises(Invalid) as refused:
        service.add_element(khm(w), case_id, element_form(w, case_id))
    assert refused.value.errors == {"provider": [service.NOT_A_PROVIDER]}


def test_an_agreement_in_the_future_is_refused(w: World, case_id: int):
    tomorrow = (mission_today(khm(w).settings) + timedelta(days=1)).isoformat()
    with pytest.raises(Invalid) as refused:
        service.agree_plan(khm(w), case_id, {"version": w.version(case_id), "agreed_on": tomorrow})
    assert refused.value.errors == {"agreed_on": ["The date cannot be in the future."]}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "10.555"}, "amount", "This currency has at most 2 decimals."),
        ({"amount": "0"}, "amount", "Enter an amount greater than zero and below 1,000,000,000."),
        ({"amount": "-20"}, "amount", "Enter an amount greater than zero and below 1,000,000,000."),
        ({"amount": "NaN"}, "amount", "Enter an amount, e.g. 1250.50."),
        ({"project_code": "THA-CT-01"}, "project_code", service.NOT_A_PROJECT),
        ({"payee": "Trafficker"}, "payee", "Choose a value from the list."),
        ({"currency": "USD"}, "currency", "This field is not part of the form."),
    ],
)
def test_a_bad_request_is_refused_naming_its_field_and_nothing_is_saved(
    w: World, case_id: int, changes: dict, field: str, message: str
):
    training, *_ = agreed(w, case_id)
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        requested(w, case_id, training, **changes)
    assert refused.value.errors == {field: [message]}
    assert w.snapshot() == before


def test_the_requester_never_approves_their_own_request(w: World, case_id: int):
    training, *_ = agreed(w, case_id)
    d = service.request_disbursement(khm(w, "supervisor"), case_id, training, request_form(w, case_id))
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    assert refused.value.errors == {"decision": [service.OWN_REQUEST]}
    assert w.snapshot() == before
    with pytest.raises(NotFound):  # a caseworker holds no approval permission
        service.decide_disbursement(khm(w), case_id, d, decision(w, case_id))


def test_going_beyond_the_budget_needs_the_override_with_its_reason(w: World, case_id: int):
    training, *_ = agreed(w, case_id)  # 500 USD
    first = requested(w, case_id, training, amount="400")
    service.decide_disbursement(khm(w, "supervisor"), case_id, first, decision(w, case_id))
    second = requested(w, case_id, training, amount="150")
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        service.decide_disbursement(khm(w, "supervisor"), case_id, second, decision(w, case_id))
    assert refused.value.errors == {"override": [service.OVER_BUDGET]}
    with pytest.raises(Invalid) as refused:
        service.decide_disbursement(khm(w, "supervisor"), case_id, second, decision(w, case_id, override="y"))
    assert refused.value.errors == {"override_reason": ["Say why the budget may be exceeded."]}
    assert w.snapshot() == before
    service.decide_disbursement(
        khm(w, "supervisor"), case_id, second, decision(w, case_id, override="y", override_reason="Fees rose.")
    )
    assert w.one(LedgerEntry, disbursement_id=second).reason == "Fees rose."


def test_a_rejection_needs_its_reason_and_writes_no_ledger_entry(w: World, case_id: int):
    training, *_ = agreed(w, case_id)
    d = requested(w, case_id, training)
    with pytest.raises(Invalid) as refused:
        service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id, decision="reject"))
    assert refused.value.errors == {"reason": ["Say why the request is rejected."]}
    service.decide_disbursement(
        khm(w, "supervisor"), case_id, d, decision(w, case_id, decision="reject", reason="No quote.")
    )
    assert (w.one(Disbursement, id=d).state, w.all(LedgerEntry, case_id=case_id)) == ("rejected", [])
    with pytest.raises(Invalid):
        service.record_payment(khm(w), case_id, d, payment_form(w, case_id))


def test_a_mistake_is_corrected_by_a_reversal_never_by_an_edit(w: World, case_id: int):
    training, *_ = agreed(w, case_id)
    d = requested(w, case_id, training)
    service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    payment = service.record_payment(khm(w), case_id, d, payment_form(w, case_id))
    approval = w.one(LedgerEntry, disbursement_id=d, kind="approval").id
    reason = {"reason": "Paid to the wrong account."}
    with pytest.raises(Invalid) as refused:  # the payment first
        service.reverse_entry(khm(w, "supervisor"), case_id, approval, {"version": w.version(case_id), **reason})
    assert refused.value.errors == {"reason": [service.PAYMENT_FIRST]}
    with pytest.raises(NotFound):  # reversals are the approvers'
        service.reverse_entry(khm(w), case_id, payment, {"version": w.version(case_id), **reason})
    reversal = service.reverse_entry(khm(w, "supervisor"), case_id, payment, {"version": w.version(case_id), **reason})
    row = w.one(LedgerEntry, id=reversal)
    assert (row.kind, row.reverses_id, row.amount, row.reason) == (
        "reversal",
        payment,
        Decimal("200"),
        reason["reason"],
    )
    assert w.one(Disbursement, id=d).state == "approved"  # to be paid again, rightly
    with pytest.raises(Invalid):
        service.reverse_entry(khm(w, "supervisor"), case_id, payment, {"version": w.version(case_id), **reason})
    with unit_of_work(khm(w)) as session:
        from ctm_plugin.domain.case import Case

        totals = service.plan_view(session, session.get(Case, case_id)).totals
        assert (totals.approved, totals.paid, totals.reversed) == (
            {"USD": Decimal("200")},
            {"USD": Decimal("0")},
            {"USD": Decimal("200")},
        )


def test_the_orm_refuses_to_change_or_delete_a_ledger_entry(w: World, case_id: int):
    training, *_ = agreed(w, case_id)
    d = requested(w, case_id, training)
    service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    entry_id = w.one(LedgerEntry, disbursement_id=d).id
    before = w.snapshot()
    with pytest.raises(AppendOnly), unit_of_work(khm(w)) as session:
        session.get(LedgerEntry, entry_id).amount = Decimal("1")
    with pytest.raises(AppendOnly), unit_of_work(khm(w)) as session:
        session.delete(session.get(LedgerEntry, entry_id))
    assert w.snapshot() == before


def test_a_case_handed_over_to_another_mission_is_read_only_here(w: World):
    tha_case = returning(w)
    proposed = handover.propose(w.ctx("caseworker"), tha_case, propose_form(w, tha_case))
    handover.accept(khm(w), proposed, accept_form(w, proposed))
    before = w.snapshot()
    with pytest.raises(HandedOver):
        service.add_element(
            w.ctx("caseworker"), tha_case, element_form(w, tha_case, provider="NGO: THA Hope Foundation")
        )
    assert w.snapshot() == before


def test_the_emergency_fund_records_an_approved_disbursement_that_the_mission_then_pays(w: World, case_id: int):
    d = service.record_fund_disbursement(
        khm(w, "supervisor"),
        case_id,
        amount=Decimal("120.50"),
        currency="USD",
        project_code="KHM-CT-01",
        approved_by="hq",
        emergency_request_id=7,
    )
    row = w.one(Disbursement, id=d)
    assert (row.element_id, row.emergency_request_id, row.state, row.decided_by) == (None, 7, "approved", "hq")
    approval = w.one(LedgerEntry, disbursement_id=d)
    assert (approval.kind, approval.amount, approval.by, approval.donor) == (
        "approval",
        Decimal("120.50"),
        "hq",
        "Example Donor A",
    )
    service.record_payment(khm(w), case_id, d, payment_form(w, case_id, payee="Person"))
    assert w.one(Disbursement, id=d).state == "paid"
    before = w.snapshot()
    for bad, field in [
        ({"amount": Decimal("1.234")}, "amount"),
        ({"amount": Decimal("-1")}, "amount"),
        ({"currency": "ABC"}, "currency"),
        ({"project_code": ""}, "project_code"),
    ]:
        given = {"amount": Decimal("10"), "currency": "USD", "project_code": "KHM-CT-01", **bad}
        with pytest.raises(Invalid) as refused:
            service.record_fund_disbursement(khm(w, "supervisor"), case_id, approved_by="hq", **given)
        assert list(refused.value.errors) == [field]
    assert w.snapshot() == before


def test_the_supervisor_sees_the_missions_pending_requests_without_identity(w: World, case_id: int):
    training, *_ = agreed(w, case_id)
    d = requested(w, case_id, training)
    pending = service.pending_disbursements(khm(w, "supervisor"))
    assert [(p.disbursement_id, p.element_type, p.amount, p.requested_by) for p in pending] == [
        (d, "VocationalTraining", Decimal("200"), "khm.caseworker")
    ]
    assert pending[0].case_number.startswith("KHM-CT")
    assert service.pending_disbursements(w.ctx("supervisor", "THA")) == []  # another mission's are not seen
    with pytest.raises(NotFound):
        service.pending_disbursements(khm(w))


def test_the_donors_report_per_project_donor_and_currency_and_its_csv_neutralised(w: World, case_id: int):
    training, medical, _ = agreed(w, case_id)
    set_ctm_settings(
        w.rt,
        KHM,
        project_codes="KHM-CT-01\n=HYPERLINK(1)",
        project_donors="KHM-CT-01: Example Donor A\n=HYPERLINK(1): @Donor",
    )
    w._contexts.clear()
    a = requested(w, case_id, training)
    b = requested(w, case_id, medical, amount="100000", project_code="=HYPERLINK(1)")
    for d in (a, b):
        service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    service.record_payment(khm(w), case_id, a, payment_form(w, case_id))
    today = mission_today(khm(w).settings)
    period = {"from_on": (today - timedelta(days=1)).isoformat(), "to_on": today.isoformat()}
    rows = service.donor_report(khm(w, "supervisor"), period)
    assert [(r.project_code, r.donor, r.currency, r.approved, r.paid, r.reversed) for r in rows] == [
        ("=HYPERLINK(1)", "@Donor", "KHR", Decimal("100000"), Decimal("0"), Decimal("0")),
        ("KHM-CT-01", "Example Donor A", "USD", Decimal("200"), Decimal("200"), Decimal("0")),
    ]
    text = service.donor_report_csv(khm(w, "supervisor"), period)
    assert text.splitlines() == [
        "project_code,donor,currency,approved,paid,reversed",
        "'=HYPERLINK(1),'@Donor,KHR,100000.00,0.00,0.00",
        "KHM-CT-01,Example Donor A,USD,200.00,200.00,0.00",
    ]
    earlier = {"from_on": "2020-01-01", "to_on": "2020-12-31"}
    assert service.donor_report(khm(w, "supervisor"), earlier) == []
    with pytest.raises(Invalid) as refused:
        service.donor_report(khm(w, "supervisor"), {"from_on": "2026-05-01", "to_on": "2026-04-01"})
    assert refused.value.errors == {"to_on": ["The end cannot be before the start."]}
    actions = {row["action"] for row in w.audit_rows()}
    assert {"ledger.report.view", "ledger.report.export"} <= actions
    with pytest.raises(NotFound):
        service.donor_report(khm(w), period)
    assert sa  # imported for readers who extend these tests


def test_the_emergency_funds_approval_is_not_reversed_here_only_its_payment(w: World, case_id: int):
    d = service.record_fund_disbursement(
        khm(w, "supervisor"),
        case_id,
        amount=Decimal("80"),
        currency="USD",
        project_code="KHM-CT-01",
        approved_by="hq",
        emergency_request_id=3,
    )
    approval = w.one(LedgerEntry, disbursement_id=d, kind="approval").id
    reason = {"reason": "Not needed after all."}
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:  # the fund's balance was debited at HQ: it would stay debited
        service.reverse_entry(khm(w, "supervisor"), case_id, approval, {"version": w.version(case_id), **reason})
    assert refused.value.errors == {"reason": [service.FUND_APPROVAL]}
    assert w.snapshot() == before
    payment = service.record_payment(khm(w), case_id, d, payment_form(w, case_id, payee="Person"))
    service.reverse_entry(khm(w, "supervisor"), case_id, payment, {"version": w.version(case_id), **reason})
    assert w.one(Disbursement, id=d).state == "approved"


def test_an_elements_currency_cannot_change_once_money_is_requested_against_it(w: World, case_id: int):
    training, *_ = agreed(w, case_id)  # 500 USD
    d = requested(w, case_id, training, amount="400")
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        service.change_element(khm(w), case_id, training, element_form(w, case_id, currency="KHR", budget="2000000"))
    assert refused.value.errors == {"currency": [service.CURRENCY_IN_USE]}
    assert w.snapshot() == before
    service.change_element(khm(w), case_id, training, element_form(w, case_id, budget="450"))  # the budget may
    # An element whose currency differs from its disbursements' (written before this rule): never within budget.
    with w.rt.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE ctm_plan_element SET currency = 'KHR', budget = 2000000 WHERE id = :id"), {"id": training}
        )
    with pytest.raises(Invalid) as refused:
        service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    assert refused.value.errors == {"override": [service.OVER_BUDGET]}
    service.decide_disbursement(
        khm(w, "supervisor"), case_id, d, decision(w, case_id, override="y", override_reason="Budget in riel.")
    )
    assert w.one(Disbursement, id=d).override_reason == "Budget in riel."


def test_a_request_against_a_cancelled_element_can_only_be_rejected(w: World, case_id: int):
    training, *_ = agreed(w, case_id)
    d = requested(w, case_id, training)
    cancel = element_form(w, case_id, status="Cancelled", status_reason="Found a job instead.")
    service.change_element(khm(w), case_id, training, cancel)
    before = w.snapshot()
    with pytest.raises(Invalid) as refused:
        service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    assert refused.value.errors == {"decision": [service.DECIDE_ON_CANCELLED]}
    assert w.snapshot() == before
    service.decide_disbursement(
        khm(w, "supervisor"), case_id, d, decision(w, case_id, decision="reject", reason="Element cancelled.")
    )
    assert w.one(Disbursement, id=d).state == "rejected"


def test_the_ledger_per_project_code_is_audited(w: World, case_id: int):
    service.project_ledger(khm(w, "supervisor"))
    assert "ledger.projects.view" in {row["action"] for row in w.audit_rows() if row["mission_code"] == KHM}


@pytest.mark.parametrize(
    ("amount", "currency"), [(money.MAX_AMOUNT - Decimal("0.0001"), "CLF"), (Decimal("123456789.123"), "KWD")]
)
def test_an_amount_comes_back_from_the_database_exactly(w: World, case_id: int, amount: Decimal, currency: str):
    element = service.add_element(khm(w), case_id, element_form(w, case_id, budget=str(amount), currency=currency))
    d = requested(w, case_id, element, amount=str(amount))
    service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    assert w.one(PlanElement, id=element).budget == amount
    assert w.one(Disbursement, id=d).amount == amount
    assert str(w.one(LedgerEntry, disbursement_id=d).amount.normalize()) == str(amount.normalize())


def test_a_payment_dated_before_its_approval_or_in_the_future_is_refused_on_paid_on(w: World, case_id: int):
    training, *_ = agreed(w, case_id)
    d = requested(w, case_id, training)
    service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    today = mission_today(khm(w).settings)
    before = w.snapshot()
    for paid_on in ("2020-01-01", (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()):
        with pytest.raises(Invalid) as refused:
            service.record_payment(khm(w), case_id, d, payment_form(w, case_id, paid_on=paid_on))
        assert list(refused.value.errors) == ["paid_on"]
    assert w.snapshot() == before
    service.record_payment(khm(w), case_id, d, payment_form(w, case_id, paid_on=today.isoformat()))
    assert w.one(Disbursement, id=d).state == "paid"


def test_the_donors_report_counts_a_payment_on_its_day_and_an_approval_on_the_missions_day(
    w: World, case_id: int, monkeypatch: pytest.MonkeyPatch
):
    set_ctm_settings(w.rt, KHM, time_zone="Asia/Phnom_Penh")
    w._contexts.clear()
    training, *_ = agreed(w, case_id)
    d = requested(w, case_id, training)
    # recorded at 20:00 UTC on 30 Nov 2025: 1 Dec 2025 at 03:00 in Phnom Penh
    monkeypatch.setattr(service, "utcnow", lambda: datetime(2025, 11, 30, 20, 0, tzinfo=UTC))
    service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    monkeypatch.undo()
    # paid on 8 Dec 2025, recorded today
    service.record_payment(khm(w), case_id, d, payment_form(w, case_id, paid_on="2025-12-08"))

    def report(first: str, last: str) -> list[tuple[Decimal, Decimal]]:
        period = {"from_on": first, "to_on": last}
        return [(r.approved, r.paid) for r in service.donor_report(khm(w, "supervisor"), period)]

    assert report("2025-12-01", "2025-12-31") == [(Decimal("200"), Decimal("200"))]
    assert report("2025-11-01", "2025-11-30") == []
    today = mission_today(khm(w).settings).isoformat()
    assert report(today, today) == []  # recorded today, paid in December 2025
    csv = service.donor_report_csv(khm(w, "supervisor"), {"from_on": "2025-12-08", "to_on": "2025-12-08"})
    assert csv.splitlines()[1:] == ["KHM-CT-01,Example Donor A,USD,0.00,200.00,0.00"]


def test_the_emergency_funds_money_is_apart_from_the_plans_totals(w: World, case_id: int):
    training, *_ = agreed(w, case_id)
    d = requested(w, case_id, training)
    service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    fund = service.record_fund_disbursement(
        khm(w, "supervisor"), case_id, amount=Decimal("850"), currency="USD", project_code="KHM-CT-01", approved_by="hq"
    )
    service.record_payment(khm(w), case_id, fund, payment_form(w, case_id, payee="Person"))
    with unit_of_work(khm(w)) as session:
        view = service.plan_view(session, get_case(session, case_id))
    assert (view.totals.planned["USD"], view.totals.approved["USD"], view.totals.remaining["USD"]) == (
        Decimal("800"),
        Decimal("200"),
        Decimal("600"),
    )
    assert view.totals.paid == {}
    assert (view.fund.approved, view.fund.paid) == ({"USD": Decimal("850")}, {"USD": Decimal("850")})
