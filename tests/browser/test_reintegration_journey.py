"""Issue 10's whole path in Chromium, in Spanish: in KHM, the caseworker agrees a plan of three elements
with the person and requests a disbursement that the supervisor approves; the caseworker records three
monitoring surveys and sees the scores chart and the table computed by hand. In THA, a caseworker asks the
global emergency fund for a case; HQ approves it, the fund's balance shows it, and THA pays it through
the case's ledger. The parts' own tests (plan, monitoring, fund) check wrong input, phones and the guide."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from steps import (
    BASE,
    REF,
    add_plan_element,
    agree_plan,
    approve_disbursement,
    case_url,
    decide_fund_request,
    fits_the_window,
    fund_balance,
    log_in,
    open_case_in,
    open_fund_request,
    open_khm_case,
    read_scores,
    record_payment,
    record_visit,
    request_disbursement,
    request_emergency_assistance,
    set_monitoring_start,
    top_up_fund,
)
from test_reintegration_plan import ELEMENTS, PERIOD, YESTERDAY

from ctm_plugin.scoring.model_test import EXPECTED, SURVEYS

pytestmark = pytest.mark.browser


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()


def test_a_plan_a_disbursement_three_surveys_and_an_emergency_request_paid_from_the_fund(
    new_page,  # noqa: ANN001
    soap_here,  # noqa: ANN001
    shot,  # noqa: ANN001
) -> None:
    caseworker: Page = new_page("es-ES", 1280)
    open_khm_case(caseworker)
    for element in ELEMENTS:
        add_plan_element(caseworker, **element, **PERIOD)
    agree_plan(caseworker, YESTERDAY)
    expect(caseworker.locator("article[data-element]")).to_have_count(3)
    request_disbursement(caseworker, "VocationalTraining", "200", "First term's fees.")

    supervisor: Page = new_page("es-ES", 1280)
    log_in(supervisor, "supervisor")
    approve_disbursement(supervisor)
    caseworker.reload()
    approved = caseworker.locator('table[data-table="ledger-totals"] tr[data-currency="USD"] [data-value="approved"]')
    expect(approved).to_contain_text("200")

    set_monitoring_start(caseworker, days_ago(300))
    record_visit(caseworker, days_ago(200), SURVEYS[0], month=3)
    record_visit(caseworker, days_ago(100), SURVEYS[1], month=6)
    record_visit(caseworker, days_ago(10), SURVEYS[2])
    assert read_scores(caseworker) == EXPECTED
    expect(caseworker.locator('figure[data-value="chart"] svg')).to_be_visible()
    expect(caseworker.locator('[data-value="fall"]')).to_be_visible()
    shot(caseworker, "scores")
    caseworker.goto(case_url())
    expect(caseworker.locator("h2").first).not_to_have_text("Monitoring and sustainability scores")  # Spanish

    hq: Page = new_page("es-ES", 1280)
    log_in(hq, "hq")
    top_up_fund(hq, "1000")
    field: Page = new_page("es-ES", 1280)
    log_in(field, "caseworker")
    open_case_in(field, "THA", REF)
    request_emergency_assistance(field, "250")
    open_fund_request(hq)
    decide_fund_request(hq, "approve")
    balance = fund_balance(hq)
    assert "750" in balance, balance
    assert fits_the_window(hq)

    # THA pays the approved request through the case's ledger; the fund's money shows apart from the plan's totals.
    record_payment(field, "RCPT-FUND-0001", payee="Person", base=BASE)
    paid = field.locator('table[data-table="fund-totals"] tr[data-currency="USD"] [data-value="paid"]')
    expect(paid).to_contain_text("250")
    expect(field.locator('table[data-table="ledger"] tr[data-kind="approval"]')).to_contain_text("hq")
    shot(field, "fund-paid")
