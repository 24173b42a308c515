"""A caseworker's day in the browser: a follow-up added on the case shows on the due list (overdue first) and
in the menu's count, is worked from the list and marked done; a referral's answer is recorded on its tab.
Once in English at 1280 px, once in Spanish at a phone's 390 px."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from steps import BASE, DUE, add_follow_up, fits_the_window, log_in, send, unfold, work_due_item

pytestmark = pytest.mark.browser


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("es-ES", 390)])
def test_a_caseworker_adds_a_follow_up_works_it_from_the_due_list_and_records_a_referrals_answer(
    new_page,  # noqa: ANN001
    locale: str,
    width: int,
):
    page = new_page(locale, width)
    log_in(page, "caseworker")
    page.goto(f"{BASE}/case")
    send(page, "open")
    add_follow_up(page, day(3), "Call the shelter about a place.")
    add_follow_up(page, day(-2), "Send the medical report.")
    assert fits_the_window(page)

    page.goto(DUE)
    items = page.locator('ul[data-table="due"] li')
    expect(items.first).to_contain_text("Send the medical report.")
    expect(items.first).to_have_attribute("data-overdue", "yes")
    expect(items.nth(1)).to_contain_text("Call the shelter about a place.")
    expect(page.locator('a[data-menu="ctm.due"]')).to_contain_text("(1)")  # the one due by today
    assert fits_the_window(page)

    work_due_item(page, "Send the medical report.")
    card = page.locator('[data-section="follow-ups"] article', has_text="Send the medical report.")
    done = card.locator("form").get_attribute("data-form")
    assert done is not None
    send(page, done)
    page.goto(DUE)
    expect(page.locator('ul[data-table="due"]')).not_to_contain_text("Send the medical report.")
    expect(page.locator('a[data-menu="ctm.due"]')).not_to_contain_text("(")

    # A referral out, with the person's consent to referral, then the organisation's answer.
    page.goto(f"{BASE}/consent")
    unfold(page, "consent")
    consent = page.locator('form[data-form="consent"]')
    consent.locator('select[name="purpose"]').select_option("Referral")
    consent.locator('select[name="method"]').select_option("Written")
    consent.locator('input[name="items"][value="ConsentedToInterview"]').check()
    send(page, "consent")
    unfold(page, "referral")
    referral = page.locator('form[data-form="referral"]')
    referral.locator('select[name="direction"]').select_option("Outgoing")
    referral.locator('select[name="reason"]').select_option("AdditionalServicesRequired")
    referral.locator('[name="organisation"]').fill("Safe Haven")
    referral.locator('select[name="organisation_type"]').select_option("NGO")
    send(page, "referral")
    work_due_item(page, "Safe Haven")
    answer = page.locator("details[data-answer]")
    answer.locator("summary").click()
    answer.locator('select[name="status"]').select_option("accepted")
    send(page, answer.locator("form").get_attribute("data-form") or "")
    expect(page.locator('[data-table="referrals"] [data-value="status"]')).to_contain_text(
        "Accepted" if locale == "en-US" else "Aceptad"
    )
    assert fits_the_window(page)
