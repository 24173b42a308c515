"""A voluntary return in Chromium, end to end through the host's SOAP services over HTTP.

A caseworker opens the case and records the person's consent to return; a movement officer
books the return; the host's job runner relays it (REQUESTED), the host's travel desk books a
flight, the status feed brings BOOKED back, and the Return tab shows it with its legs. A movement
officer on a phone (390 px, Spanish) cancels a return with a reason after confirming; once the
relay has sent it the return reads Cancelled, there and on a desktop in English.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from steps import BASE, log_in, open_case, submit, unfold

from mimosa_host.jobs import JobRunner
from mimosa_host.models import PluginEnablement
from mimosa_host.soap.travel_desk import book_requested

pytestmark = pytest.mark.browser


@pytest.fixture
def soap_here(live_server: str, demo):  # noqa: ANN001, ANN201 - the demo's runtime
    """The demo's CTM missions reach the SOAP services of the host the browser talks to."""
    with demo.factory() as s, s.begin():
        for state in s.scalars(sa.select(PluginEnablement).filter_by(plugin_name="ctm")):
            state.settings = {**state.settings, "soap_base_url": live_server + "/"}
    return demo


def consent_to_return(page: Page) -> None:
    """The caseworker records the person's consent to a voluntary return."""
    page.locator('nav.tabs a[data-tab="ctm.consent"]').click()
    unfold(page, "consent")
    form = page.locator('form[data-form="consent"]')
    form.locator('select[name="purpose"]').select_option("Return")
    form.locator('select[name="method"]').select_option("Written")
    form.locator('input[name="items"][value="ConsentedToInterview"]').check()
    submit(page, "consent", "Record the consent")


def book(officer: Page, project: str = "THA-CT-01") -> None:
    """The movement officer books a return from Bangkok to Phnom Penh on the Return tab."""
    officer.goto(f"{BASE}/return")
    form = officer.locator('form[data-form="book"]')
    expect(form.locator('select[name="project_code"]')).to_have_value("THA-CT-01")  # the mission's default
    form.locator('select[name="project_code"]').select_option(project)
    form.locator('select[name="origin_country"]').select_option("THA")
    form.locator('[name="origin_location"]').fill("bkk")
    form.locator('select[name="destination_country"]').select_option("KHM")
    form.locator('[name="destination_location"]').fill("PNH")
    form.locator('[name="earliest_departure"]').fill((date.today() + timedelta(days=20)).isoformat())
    form.locator('select[name="escort"]').select_option("OPERATIONAL")
    form.locator('input[name="fit_to_travel"]').check()
    submit(officer, "book", "Book the return")
    expect(officer.locator('[data-value="status"]').first).to_contain_text("Queued: waiting for the host")


def test_a_booked_return_reaches_booked_and_shows_in_the_return_tab(
    page: Page,
    new_page,
    soap_here,
    shot,
    guide_shot,  # noqa: ANN001
) -> None:
    open_case(page)
    consent_to_return(page)

    officer = new_page()
    log_in(officer, "movement")
    book(officer, "THA-AVRR-02")
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


def test_a_return_is_cancelled_with_a_reason_on_a_phone_in_spanish_and_reads_cancelled(
    page: Page,
    new_page,
    soap_here,
    shot,
    guide_shot,
    chromium,
    live_server: str,  # noqa: ANN001
) -> None:
    open_case(page)
    consent_to_return(page)
    officer = new_page()
    log_in(officer, "movement")
    book(officer)
    runner = JobRunner(soap_here)
    runner.run_due(force=True)  # BookMovement goes; the host answers REQUESTED

    phone = chromium.new_context(base_url=live_server, locale="es-ES", viewport={"width": 390, "height": 844})
    try:
        spanish = phone.new_page()
        log_in(spanish, "movement")
        spanish.goto(f"{BASE}/return")
        expect(spanish.locator('[data-value="status"]').first).to_have_text("Solicitado")
        form_name = spanish.locator('form[data-form^="cancel-"]').get_attribute("data-form")
        unfold(spanish, form_name)
        spanish.locator(f'form[data-form="{form_name}"] select[name="reason"]').select_option("BENEFICIARY_WITHDREW")
        assert spanish.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        shot(spanish, "confirm-390-es")
        submit(spanish, form_name, "Sí, cancelar el retorno")
        expect(spanish.locator("[data-cancellation]")).to_contain_text("Cancelación solicitada (La persona desistió)")
        expect(spanish.locator('form[data-form^="cancel-"]')).to_have_count(0)  # one cancellation at a time

        runner.run_due(force=True)  # CancelMovement goes; the feed brings CANCELLED
        spanish.reload()
        expect(spanish.locator('[data-value="status"]').first).to_have_text("Cancelado")
        assert spanish.evaluate("document.documentElement.scrollWidth") <= 390
        shot(spanish, "cancelled-390-es")
    finally:
        phone.close()
    officer.reload()
    expect(officer.locator('[data-value="status"]').first).to_have_text("Cancelled")
    expect(officer.locator('[data-cancellation="done"]')).to_contain_text("Cancelled at the host (The person withdrew)")
    guide_shot(officer, "return-cancelled")
