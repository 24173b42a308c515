"""A case's life-cycle in Chromium: the caseworker closes a case through the confirmation and sees it
read-only, the supervisor reopens it and gives it to another caseworker, named; the auditor reads the
overview as summaries, not forms. Once in English at 1280 px, once in French at a phone's 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from steps import BASE, close_case, fits_the_window, log_in, reassign_case, reopen_case, send

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("fr-FR", 390)])
def test_a_case_is_closed_after_a_confirmation_reopened_and_reassigned(new_page, locale: str, width: int) -> None:  # noqa: ANN001
    caseworker = new_page(locale, width)
    log_in(caseworker, "caseworker")
    caseworker.goto(f"{BASE}/case")
    send(caseworker, "open")
    close_case(caseworker, "GoalsMet")
    expect(caseworker.locator('[data-value="closed"]')).to_be_visible()
    expect(caseworker.locator('[data-value="close_reason"]')).to_be_visible()
    expect(caseworker.locator('form[data-form="person"]')).to_have_count(0)
    expect(caseworker.locator('[data-summary="person"]')).to_be_visible()
    assert fits_the_window(caseworker)
    caseworker.goto(f"{BASE}/screening")
    expect(caseworker.locator('[data-value="closed"]')).to_be_visible()
    expect(caseworker.locator("form[data-form]")).to_have_count(0)

    supervisor = new_page(locale, width)
    log_in(supervisor, "supervisor")
    reopen_case(supervisor, "The person asked for help again.")
    expect(supervisor.locator('[data-value="closed"]')).to_have_count(0)
    expect(supervisor.locator('form[data-form="person"]')).to_be_visible()
    reassign_case(supervisor, "childprotection")
    expect(supervisor.locator('[data-value="owner"]')).to_have_text("Kiri Child Protection Officer")
    assert fits_the_window(supervisor)
    supervisor.locator('[data-menu="ctm.reassign"]').click()
    expect(supervisor.locator('table[data-table="owners"] tr[data-owner="childprotection"]')).to_be_visible()
    assert fits_the_window(supervisor)

    auditor = new_page(locale, width)
    log_in(auditor, "auditor")
    auditor.goto(f"{BASE}/case")
    expect(auditor.locator('[data-summary="person"]')).to_be_visible()
    expect(auditor.locator('[data-summary="victim"]')).to_be_visible()
    expect(auditor.locator("form[data-form]")).to_have_count(0)
    assert fits_the_window(auditor)
