"""Referrals from partners in Chromium: the caseworker follows the menu's count to the inbox, accepts one referral
into a case, declines another after a refusal that names the field, and declines a third in French at a phone's
390 px, the page within its width."""

from __future__ import annotations

import re

import pytest
from partner_rows import NAME, NEEDS, partner, refer
from playwright.sync_api import Page, expect
from steps import fits_the_window, log_in, switch_locale

pytestmark = pytest.mark.browser

INBOX = "/m/THA/plugins/ctm/referrals"


def open_referral(page: Page, reference: str) -> None:
    page.goto(INBOX)
    page.locator("table[data-table=referrals] tr", has_text=reference).locator("a").click()
    expect(page.locator('[data-value="reference"]')).to_have_text(reference)


def decide(page: Page, form: str, status: int) -> None:
    with page.expect_navigation() as navigation:
        page.locator(f'form[data-form="{form}"] button[type="submit"]').click()
    assert navigation.value.status == status, navigation.value.status


def test_the_caseworker_accepts_one_referral_and_declines_others_in_english_and_on_a_french_phone(  # noqa: ANN001
    page: Page, new_page, demo
) -> None:
    ngo = partner(demo)
    for reference in ("REF-B1", "REF-B2", "REF-B3"):
        refer(demo, ngo, reference, {NAME: "Mali", NEEDS: f"shelter for {reference}"})
    log_in(page, "caseworker")
    page.goto("/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case")
    page.locator('[data-menu="ctm.referrals"]').click()
    expect(page.locator("table[data-table=referrals] tr[data-state=pending]")).to_have_count(3)
    assert "(3)" in (page.locator('[data-menu="ctm.referrals"]').text_content() or "")

    open_referral(page, "REF-B1")
    expect(page.locator('[data-field="referral.needs"]')).to_have_text("shelter for REF-B1")
    page.locator('form[data-form="accept"] select[name="consent_method"]').select_option("Verbal")
    decide(page, "accept", 200)
    expect(page.locator("main .flash.success")).to_be_visible()
    expect(page.locator('[data-value="state"]')).to_have_text("Accepted")
    expect(page.locator('[data-section="case"] [data-value="case_number"]')).to_have_text(
        re.compile(r"THA-CT-\d{4}-\d+")
    )

    open_referral(page, "REF-B2")
    decide(page, "decline", 422)
    summary = page.locator('form[data-form="decline"] [data-error-summary]')
    expect(summary).to_contain_text("Reason for declining (sent to the partner)")
    expect(summary).to_contain_text("This field is required.")
    page.locator('form[data-form="decline"] [name="reason"]').fill("No shelter place this month.")
    decide(page, "decline", 200)
    expect(page.locator('[data-value="state"]')).to_have_text("Declined")
    expect(page.locator('[data-value="decline_reason"]')).to_have_text("No shelter place this month.")

    phone = new_page(locale="fr-FR", width=390)
    log_in(phone, "caseworker")
    switch_locale(phone, "fr")
    open_referral(phone, "REF-B3")
    decide(phone, "decline", 422)
    summary = phone.locator('form[data-form="decline"] [data-error-summary]')
    expect(summary).to_contain_text("Motif du refus (envoyé au partenaire)")
    assert fits_the_window(phone)
    phone.locator('form[data-form="decline"] [name="reason"]').fill("Pas de place ce mois-ci.")
    decide(phone, "decline", 200)
    expect(phone.locator('[data-value="state"]')).to_have_text("Refusé")
    assert fits_the_window(phone)
    phone.goto(INBOX)
    expect(phone.locator("table[data-table=referrals] tr[data-state=pending]")).to_have_count(0)
