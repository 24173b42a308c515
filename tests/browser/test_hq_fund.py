"""The global emergency fund in Chromium: HQ tops the fund up, a THA caseworker requests emergency assistance
for a case (a wrong amount first, shown next to its field), ``hq`` approves it on the HQ page, and the fund's
balance shows the approval; the case and the mission's page show the decision. Once in English at 1280 px,
once in Spanish on a phone (390 px), each page within the window.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from steps import (
    BASE,
    FUND,
    REF,
    decide_fund_request,
    fill_fund_request,
    fits_the_window,
    fund_balance,
    log_in,
    open_case_in,
    open_fund_request,
    request_emergency_assistance,
    send_refused,
    top_up_fund,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("es-ES", 390)])
def test_hq_tops_up_a_caseworker_requests_and_hq_approves_from_the_fund(
    new_page,  # noqa: ANN001
    soap_here,  # noqa: ANN001
    shot,  # noqa: ANN001
    guide_shot,  # noqa: ANN001
    locale: str,
    width: int,
) -> None:
    guide = locale == "en-US"
    hq: Page = new_page(locale, width)
    log_in(hq, "hq")
    top_up_fund(hq, "1000", reference="TR-2026-114")
    assert "1000" in fund_balance(hq).replace(".", "").replace(",", "").replace("\u202f", "").replace("\xa0", "")
    assert fits_the_window(hq)
    if guide:
        guide_shot(hq, "fund-top-up")

    caseworker: Page = new_page(locale, width)
    log_in(caseworker, "caseworker")
    open_case_in(caseworker, "THA", REF)
    fill_fund_request(caseworker, "250.505")  # more decimals than US dollars have
    send_refused(caseworker, "fund", "amount")
    assert fits_the_window(caseworker)
    fill_fund_request(caseworker, "250")
    if guide:
        guide_shot(caseworker, "fund-request")
    request_emergency_assistance(caseworker, "250")
    expect(caseworker.locator("table[data-table='fund-requests'] tr[data-state='requested']")).to_have_count(1)

    open_fund_request(hq)
    expect(hq.locator("[data-fund-request]").first).not_to_contain_text("BEN-1000001")  # no identity
    assert fits_the_window(hq)
    if guide:
        guide_shot(hq, "fund-decision")
    decide_fund_request(hq, "approve")
    expect(hq.locator("table[data-table='fund-requests'] tr[data-state='approved']")).to_have_count(1)
    expect(hq.locator("table[data-table='fund-entries'] tr[data-kind='approval']")).to_have_count(1)
    balance = fund_balance(hq)
    assert "750" in balance, balance
    assert fits_the_window(hq)
    if guide:
        guide_shot(hq, "fund-balance")
    shot(hq, f"{locale}-fund")

    caseworker.goto(f"{BASE}/assistance")
    expect(caseworker.locator("table[data-table='fund-requests'] tr[data-state='approved']")).to_have_count(1)
    caseworker.goto(f"{FUND}/requests")
    expect(caseworker.locator("table[data-table='fund-requests'] tr[data-state='approved']")).to_have_count(1)
    assert fits_the_window(caseworker)
