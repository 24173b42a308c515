"""A voluntary return in Chromium, end to end through the host's SOAP services over HTTP.

A caseworker opens the case and records the person's consent to return; a movement officer
books the return; the host's job runner relays it (REQUESTED), the host's travel desk books a
flight, the status feed brings BOOKED back, and the Return tab shows it with its legs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from steps import BASE, log_in, open_case, submit, unfold

from mimosa_host.jobs import JobRunner
from mimosa_host.soap.travel_desk import book_requested

pytestmark = pytest.mark.browser


def test_a_booked_return_reaches_booked_and_shows_in_the_return_tab(
    page: Page,
    new_page,
    soap_here,
    shot,
    guide_shot,  # noqa: ANN001
) -> None:
    open_case(page)
    page.locator('nav.tabs a[data-tab="ctm.consent"]').click()
    unfold(page, "consent")
    form = page.locator('form[data-form="consent"]')
    form.locator('select[name="purpose"]').select_option("Return")
    form.locator('select[name="method"]').select_option("Written")
    form.locator('input[name="items"][value="ConsentedToInterview"]').check()
    submit(page, "consent", "Record the consent")

    officer = new_page()
    log_in(officer, "movement")
    officer.goto(f"{BASE}/return")
    form = officer.locator('form[data-form="book"]')
    expect(form.locator('select[name="project_code"]')).to_have_value("THA-CT-01")  # the mission's default
    form.locator('select[name="project_code"]').select_option("THA-AVRR-02")
    form.locator('select[name="origin_country"]').select_option("THA")
    form.locator('[name="origin_location"]').fill("bkk")
    form.locator('select[name="destination_country"]').select_option("KHM")
    form.locator('[name="destination_location"]').fill("PNH")
    form.locator('[name="earliest_departure"]').fill((date.today() + timedelta(days=20)).isoformat())
    form.locator('select[name="escort"]').select_option("OPERATIONAL")
    form.locator('input[name="fit_to_travel"]').check()
    submit(officer, "book", "Book the return")
    expect(officer.locator('[data-value="status"]').first).to_contain_text("Queued: waiting for the host")
    expect(officer.locator('[data-value="project"]').first).to_have_text("THA-AVRR-02")

    runner = JobRunner(soap_here)
    runner.run_due(force=True)  # the relay sends BookMovement; the feed brings REQUESTED
    officer.reload()
    expect(officer.locator('[data-value="status"]').first).to_have_text("Requested")

    assert book_requested(soap_here.factory, datetime.now(UTC), delay=timedelta(0))  # the travel desk books a flight
    runner.run_due(force=True)
    officer.reload()
    expect(officer.locator('[data-value="status"]').first).to_have_text("Booked")
    expect(officer.locator("table[data-table='legs'] tbody tr").first).to_be_visible()
    shot(officer, "return-booked")
    guide_shot(officer, "return")

    page.reload()  # the caseworker sees it too, with no booking form
    page.locator('nav.tabs a[data-tab="ctm.return"]').click()
    expect(page.locator('[data-value="status"]').first).to_have_text("Booked")
    expect(page.locator('form[data-form="book"]')).to_have_count(0)
