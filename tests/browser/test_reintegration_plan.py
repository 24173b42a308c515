"""The reintegration plan in Chromium, in KHM: the caseworker opens the case of a KHM beneficiary,
adds three elements (a wrong budget shown next to its field first) and records the person's
agreement, requests a disbursement; the supervisor approves it from "Disbursements to approve";
the caseworker records the payment and the ledger shows it. Once in English at 1280 px (the guide's
screenshots), once in French at 390 px (a wrong amount next to its field; no sideways scrolling).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from steps import (
    KHM_BASE,
    add_plan_element,
    agree_plan,
    approve_disbursement,
    fill_plan_element,
    fits_the_window,
    log_in,
    open_khm_case,
    record_payment,
    request_disbursement,
    request_form,
)

pytestmark = pytest.mark.browser

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
ELEMENTS = [
    {
        "kind": "VocationalTraining",
        "objective": "Six months of tailoring training with a certificate.",
        "provider": "NGO: KHM Hope Foundation",
        "budget": "500",
        "currency": "USD",
    },
    {
        "kind": "Medical",
        "objective": "Dental care and a follow-up for the injured hand.",
        "provider": "IOM: IOM KHM",
        "budget": "400000",
        "currency": "KHR",
    },
    {
        "kind": "Housing",
        "objective": "Three months' rent near the training centre.",
        "provider": "Government: KHM Department of Social Welfare",
        "budget": "300",
        "currency": "USD",
    },
]
PERIOD = {"start": YESTERDAY, "end": (date.today() + timedelta(days=180)).isoformat()}


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("fr-FR", 390)], ids=["en-1280", "fr-390"])
def test_a_plan_with_three_elements_a_disbursement_approved_then_paid_shows_in_the_ledger(
    new_page,  # noqa: ANN001
    shot,  # noqa: ANN001
    guide_shot,  # noqa: ANN001
    locale: str,
    width: int,
) -> None:
    english = locale.startswith("en")
    caseworker: Page = new_page(locale=locale, width=width)
    open_khm_case(caseworker)

    # A budget with more decimals than the currency has: refused next to the field, nothing added.
    fill_plan_element(caseworker, **{**ELEMENTS[0], "budget": "500.125"}, **PERIOD)
    caseworker.locator('form[data-form="element"] button[type="submit"]').click()
    expect(caseworker.locator("#err-element-budget")).to_be_visible()
    expect(caseworker.locator('[data-field="budget"].invalid')).to_be_visible()
    expect(caseworker.locator("article[data-element]")).to_have_count(0)
    if english:
        expect(caseworker.locator("#err-element-budget")).to_have_text("This currency has at most 2 decimals.")
    assert fits_the_window(caseworker)

    for element in ELEMENTS:
        add_plan_element(caseworker, **element, **PERIOD)
    agree_plan(caseworker, YESTERDAY)
    expect(caseworker.locator("article[data-element]")).to_have_count(3)
    totals = caseworker.locator('table[data-table="ledger-totals"]')
    expect(totals.locator('tr[data-currency="USD"] [data-value="planned"]')).to_contain_text("800")
    expect(totals.locator('tr[data-currency="KHR"]')).to_be_visible()
    if english:
        guide_shot(caseworker, "reintegration-plan")

    # A wrong amount on the request: shown next to it.
    name = request_form(caseworker, "VocationalTraining")
    form = caseworker.locator(f'form[data-form="{name}"]')
    form.locator('[name="amount"]').fill("20.555")
    form.locator('[name="purpose"]').fill("First term's fees.")
    form.locator('button[type="submit"]').click()
    expect(caseworker.locator(f"#err-{name}-amount")).to_be_visible()
    assert fits_the_window(caseworker)

    request_disbursement(caseworker, "VocationalTraining", "200", "First term's fees.")
    if english:
        guide_shot(caseworker, "reintegration-request")

    supervisor: Page = new_page(locale=locale, width=width)
    log_in(supervisor, "supervisor")
    supervisor.goto("/m/KHM/beneficiaries")
    supervisor.locator('[data-menu="ctm.disbursements"]').click()
    expect(supervisor.locator("table[data-table='pending'] tbody tr[data-disbursement]")).to_have_count(1)
    assert fits_the_window(supervisor)
    if english:
        guide_shot(supervisor, "reintegration-to-approve")
    approve_disbursement(supervisor)

    record_payment(caseworker, "RCPT-2026-0042")
    paid = caseworker.locator('table[data-table="ledger-totals"] tr[data-currency="USD"] [data-value="paid"]')
    expect(paid).to_contain_text("200")
    expect(caseworker.locator('table[data-table="ledger"] tr[data-kind="approval"]')).to_contain_text("supervisor")
    assert fits_the_window(caseworker)
    shot(caseworker, "ledger")
    if english:
        expect(paid).to_have_text("$200.00")
        guide_shot(caseworker, "reintegration-ledger")
    else:
        expect(paid).to_contain_text("200,00")
    caseworker.goto(f"{KHM_BASE}/reintegration")
    expect(caseworker.locator('table[data-table="revisions"] tr[data-revision]')).to_have_count(1)
