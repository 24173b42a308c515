"""The Reintegration tab and the supervisor's pages as their users meet them in KHM: a plan built on
the tab, a refusal shown next to its field, a request decided by the supervisor (the requester's own
refused), the payment and the ledger; the list of requests to approve; the report and its CSV."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa
from page_parts import error_on, text, version
from test_reintegration import agreed, element_form, request_form
from world import KHM_PERSON, World, set_ctm_settings

from ctm_plugin.domain.mission_time import mission_today
from ctm_plugin.domain.reintegration import Disbursement, LedgerEntry, PlanElement

TAB = f"/m/KHM/plugins/ctm/records/beneficiary/{KHM_PERSON}/reintegration"
PAGES = "/m/KHM/plugins/ctm/disbursements"


def form_of(w: World, data: dict) -> dict[str, str]:
    return {k: str(v) for k, v in data.items()}


def test_the_caseworker_builds_the_plan_on_the_tab_and_a_wrong_budget_is_shown_on_its_field(w: World, login):  # noqa: ANN001
    case_id = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    browser = login("khm.caseworker")
    page = text(browser.get(TAB))
    assert 'data-form="element"' in page and "KHM Hope Foundation" in page
    refused = browser.post(f"{TAB}/elements", form_of(w, element_form(w, case_id, budget="12.345")))
    assert refused.status_code == 422 and error_on(text(refused), "element", "budget")
    assert w.all(PlanElement) == []
    assert browser.post(f"{TAB}/elements", form_of(w, element_form(w, case_id))).status_code == 303
    page = text(browser.get(TAB))
    assert "$500.00" in page and 'data-form="agree"' in page
    today = mission_today(w.ctx("khm.caseworker", "KHM").settings).isoformat()
    agree = browser.post(f"{TAB}/agreement", {"version": version(page), "agreed_on": today})
    assert agree.status_code == 303
    assert "Revision 1" in text(browser.get(TAB))


def test_an_elements_change_form_shows_its_budget_as_typed_not_in_exponent(w: World, login):  # noqa: ANN001
    from ctm_plugin.services import reintegration as service

    case_id = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    service.add_element(w.ctx("khm.caseworker", "KHM"), case_id, element_form(w, case_id, budget="600"))
    page = text(login("khm.caseworker").get(TAB))
    assert re.search(r'name="budget" type="text" value="600.00"', page)
    assert "6E+2" not in page


def test_the_ledger_numbers_its_own_entries_and_shows_a_reversal_as_a_minus(w: World, login):  # noqa: ANN001
    """Entry ids run across missions: THA's entries come first, yet KHM's ledger starts at #1."""
    from test_reintegration import decision, khm, requested

    from ctm_plugin.services import reintegration as service

    tha_case = w.open()
    service.record_fund_disbursement(  # THA's entry, before KHM's
        w.ctx("caseworker"), tha_case, amount=Decimal("10"), currency="USD", project_code="X", approved_by="hq"
    )
    case_id = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    training, *_ = agreed(w, case_id)
    d = requested(w, case_id, training)
    service.decide_disbursement(khm(w, "supervisor"), case_id, d, decision(w, case_id))
    [approval] = [e for e in w.all(LedgerEntry) if e.mission_code == "KHM"]
    reverse = {"version": str(w.version(case_id)), "reason": "Approved twice by mistake."}
    service.reverse_entry(khm(w, "supervisor"), case_id, approval.id, reverse)
    ledger = _section(text(login("khm.caseworker").get(TAB)), "ledger")
    assert re.search(r"#1\b", ledger) and re.search(r"#2 \([^)]*#1\)", ledger)
    assert "#3" not in ledger  # KHM's reversal is the run's third entry
    assert "−$200.00" in ledger


def test_without_providers_the_form_says_an_administrator_sets_them(w: World, login):  # noqa: ANN001
    w.open(KHM_PERSON, "khm.caseworker", "KHM")
    set_ctm_settings(w.rt, "KHM", reintegration_providers=None)
    page = text(login("khm.caseworker").get(TAB))
    assert 'data-problem="no-providers"' in page


def test_a_request_decided_by_the_supervisor_then_paid_shows_in_the_ledger(w: World, login):  # noqa: ANN001
    case_id = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    training, *_ = agreed(w, case_id)
    caseworker, supervisor = login("khm.caseworker"), login("supervisor")
    caseworker.get(TAB)  # the session's CSRF token
    assert (
        caseworker.post(f"{TAB}/elements/{training}/disbursements", form_of(w, request_form(w, case_id))).status_code
        == 303
    )
    [d] = w.all(Disbursement)

    pending = text(supervisor.get(PAGES))
    assert f'data-disbursement="{d.id}"' in pending and "Vocational training" in pending and "khm.caseworker" in pending
    assert "Synthetic" not in pending  # no identity field on the list
    assert caseworker.get(PAGES).status_code == 404

    page = text(supervisor.get(TAB))
    over = supervisor.post(f"{TAB}/disbursements/{d.id}/decision", {"version": version(page), "decision": "approve"})
    assert over.status_code == 303
    page = text(caseworker.get(TAB))
    paid = {
        "version": version(page),
        "paid_on": mission_today(w.ctx("khm.caseworker", "KHM").settings).isoformat(),
        "payment_method": "Cash",
        "receipt_reference": "R-77",
        "payee": "Provider",
    }
    assert caseworker.post(f"{TAB}/disbursements/{d.id}/payment", paid).status_code == 303
    page = text(caseworker.get(TAB))
    assert 'data-table="ledger"' in page and "R-77" in page and 'data-kind="payment"' in page
    assert [e.kind for e in w.all(LedgerEntry)] == ["approval", "payment"]


def test_the_requesters_own_approval_is_refused_next_to_the_decision(w: World, login):  # noqa: ANN001
    case_id = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    training, *_ = agreed(w, case_id)
    supervisor = login("supervisor")
    page = text(supervisor.get(TAB))
    supervisor.post(
        f"{TAB}/elements/{training}/disbursements", {**form_of(w, request_form(w, case_id)), "version": version(page)}
    )
    [d] = w.all(Disbursement)
    page = text(supervisor.get(TAB))
    refused = supervisor.post(f"{TAB}/disbursements/{d.id}/decision", {"version": version(page), "decision": "approve"})
    assert refused.status_code == 422 and error_on(text(refused), f"decide-{d.id}", "decision")
    assert w.all(LedgerEntry) == []


def test_the_report_for_a_period_and_its_csv(w: World, login):  # noqa: ANN001
    case_id = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    training, *_ = agreed(w, case_id)
    from ctm_plugin.services import reintegration as service

    ctx = w.ctx("khm.caseworker", "KHM")
    d = service.request_disbursement(ctx, case_id, training, request_form(w, case_id))
    service.decide_disbursement(
        w.ctx("supervisor", "KHM"), case_id, d, {"version": w.version(case_id), "decision": "approve"}
    )
    supervisor = login("supervisor")
    today = mission_today(ctx.settings).isoformat()
    page = text(supervisor.get(f"{PAGES}/report?from_on={today}&to_on={today}"))
    assert 'data-project="KHM-CT-01"' in page and "Example Donor A" in page and "$200.00" in page
    bad = supervisor.get(f"{PAGES}/report?from_on={today}&to_on=2000-01-01")
    assert bad.status_code == 422 and error_on(text(bad), "period", "to_on")
    csv = supervisor.get(f"{PAGES}/report.csv?from_on={today}&to_on={today}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "KHM-CT-01,Example Donor A,USD,200.00,0.00,0.00" in csv.get_data(as_text=True)
    assert login("khm.caseworker").get(f"{PAGES}/report.csv?from_on={today}&to_on={today}").status_code == 404
    assert sa


def _section(page: str, name: str) -> str:
    return page.split(f'data-section="{name}"', 1)[1].split("</section>", 1)[0]


def test_the_plans_history_reads_in_the_readers_language_not_in_codes(w: World, login):  # noqa: ANN001
    from ctm_plugin.services import reintegration as service

    case_id = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    training, *_ = agreed(w, case_id)  # agreed on 2026-03-20
    ctx = w.ctx("khm.caseworker", "KHM")
    cancel = element_form(w, case_id, status="Cancelled", status_reason="Found a job instead.", budget="450")
    service.change_element(ctx, case_id, training, cancel)
    service.add_element(ctx, case_id, element_form(w, case_id, type="Housing", start_on="2026-05-02", budget="1250"))
    history = _section(text(login("khm.caseworker").get(TAB)), "history")
    for shown in ("Mar 20, 2026", "Planned", "Cancelled", "$500.00", "$450.00", "Housing", "May 2, 2026", "$1,250.00"):
        assert shown in history
    for raw in ("2026-03-20", "2026-05-02", "VocationalTraining", "1250", "NGO: "):
        assert raw not in history
    assert "KHM Hope Foundation (" in history  # the provider's name and its kind's label


def test_the_requester_is_not_offered_the_decision_on_their_own_request(w: World, login):  # noqa: ANN001
    from ctm_plugin.services import reintegration as service

    case_id = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    training, *_ = agreed(w, case_id)
    d = service.request_disbursement(w.ctx("supervisor", "KHM"), case_id, training, request_form(w, case_id))
    page = text(login("supervisor").get(TAB))
    assert f'data-action="decide" data-for="{d}"' not in page
    assert f'data-note="own-request" data-for="{d}"' in page and "another user approves or rejects it" in page


def test_the_reports_heading_shows_its_dates_in_the_readers_language(w: World, login):  # noqa: ANN001
    page = text(login("supervisor").get(f"{PAGES}/report?from_on=2026-04-01&to_on=2026-04-30"))
    report = _section(page, "report")
    assert "Apr 1, 2026" in report and "Apr 30, 2026" in report and "2026-04-01" not in report


def test_the_emergency_funds_money_shows_on_its_own_not_as_the_plan_overspent(w: World, login):  # noqa: ANN001
    from decimal import Decimal

    from ctm_plugin.services import reintegration as service

    case_id = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    service.record_fund_disbursement(
        w.ctx("supervisor", "KHM"),
        case_id,
        amount=Decimal("850"),
        currency="USD",
        project_code="GLOBAL-EMERGENCY-FUND",
        approved_by="hq",
        emergency_request_id=1,
    )
    page = text(login("khm.caseworker").get(TAB))
    assert "-$850.00" not in page and 'data-table="ledger-totals"' not in page  # no plan: no plan's totals
    fund = page.split('data-element="fund"', 1)[1].split("</article>", 1)[0]
    assert "From the emergency fund" in fund and 'data-table="fund-totals"' in fund and "$850.00" in fund


def test_the_report_says_a_payment_counts_on_the_day_it_was_paid(w: World, login):  # noqa: ANN001
    page = text(login("supervisor").get(f"{PAGES}/report?from_on=2026-04-01&to_on=2026-04-30"))
    assert "A payment counts on the day it was paid" in _section(page, "report")
