"""A voluntary return in Chromium, end to end through the host's SOAP services over HTTP.

A caseworker opens the case, records the person's consent to return and completes the return's
checklist; a movement officer books the return; the host's job runner relays it (REQUESTED), the
host's travel desk books a flight, the status feed brings BOOKED back, and the Return tab shows it
with its legs. A child's return is refused until the children's safeguards are recorded (one of
them by the child-protection officer), then reaches the host with a child escort: in English, and
in French on a 390-pixel phone. A movement officer on a phone (390 px, Spanish) cancels a return
with a reason after confirming; once the relay has sent it the return reads Cancelled, there and on
a desktop in English.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from steps import (
    BASE,
    book_return,
    complete_checklist,
    fill_checklist,
    fits_the_window,
    log_in,
    open_case,
    record_consent,
    submit,
    unfold,
)

from ctm_plugin.domain.returns import ReturnBooking
from mimosa_host.jobs import JobRunner
from mimosa_host.models import Movement
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
    record_consent(page, "Return")
    complete_checklist(page)

    officer = new_page()
    log_in(officer, "movement")
    book_return(officer, (date.today() + timedelta(days=20)).isoformat(), project="THA-AVRR-02")
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


def click_submit(page: Page, form: str) -> None:
    """Submit ``form`` whatever the page's language (the refusal answers 422, a success 303 then 200)."""
    with page.expect_navigation():
        page.locator(f'form[data-form="{form}"] button[type="submit"]').click()


def book(officer: Page) -> None:
    """The movement officer books from Bangkok to Phnom Penh in 20 days (the escort left as it is)."""
    form = officer.locator('form[data-form="book"]')
    form.locator('[name="origin_location"]').fill("BKK")
    form.locator('select[name="destination_country"]').select_option("KHM")
    form.locator('[name="destination_location"]').fill("PNH")
    form.locator('[name="earliest_departure"]').fill((date.today() + timedelta(days=20)).isoformat())
    form.locator('input[name="fit_to_travel"]').check()
    click_submit(officer, "book")


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("fr-FR", 390)])
def test_a_childs_return_is_refused_until_the_safeguards_then_goes_with_a_child_escort(
    new_page,  # noqa: ANN001
    soap_here,  # noqa: ANN001
    shot,  # noqa: ANN001
    guide_shot,  # noqa: ANN001
    locale: str,
    width: int,
) -> None:
    caseworker = new_page(locale, width)
    log_in(caseworker, "caseworker")
    caseworker.goto(f"{BASE}/case")
    click_submit(caseworker, "open")
    form = caseworker.locator('form[data-form="person"]')  # a child of twelve, as the Case tab records it
    form.locator('[name="birth_date"]').fill(date.today().replace(year=date.today().year - 12, day=1).isoformat())
    form.locator('select[name="birth_date_precision"]').select_option("Day")
    click_submit(caseworker, "person")
    caseworker.goto(f"{BASE}/consent")
    unfold(caseworker, "consent")
    form = caseworker.locator('form[data-form="consent"]')
    form.locator('select[name="purpose"]').select_option("Return")
    form.locator('select[name="method"]').select_option("Written")
    form.locator('input[name="items"][value="ConsentedToInterview"]').check()
    click_submit(caseworker, "consent")

    # A child: the default items are done, the children's are not.
    caseworker.goto(f"{BASE}/return")
    fill_checklist(caseworker)
    click_submit(caseworker, "checklist")
    expect(caseworker.locator('[data-note="child"]')).to_be_visible()
    expect(caseworker.locator('[data-list="missing"] li')).to_have_count(3)
    expect(caseworker.locator('form[data-form="best_interests"]')).to_have_count(0)  # not theirs to record

    officer = new_page(locale, width)
    log_in(officer, "movement")
    officer.goto(f"{BASE}/return")
    book(officer)
    refusal = officer.locator('[data-problem="checklist"] li')
    expect(refusal).to_have_count(3)
    french = locale.startswith("fr")
    expect(refusal.first).to_have_text(
        "Un enfant : la détermination de l’intérêt supérieur n’est pas enregistrée."
        if french
        else "A child: the best-interests determination is not recorded."
    )
    assert fits_the_window(officer)
    shot(officer, "child-refused")
    if not french:
        guide_shot(officer, "return-child-refused")

    protector = new_page(locale, width)
    log_in(protector, "childprotection")
    protector.goto(f"{BASE}/return")
    unfold(protector, "best_interests")
    form = protector.locator('form[data-form="best_interests"]')
    form.locator('select[name="bid_outcome"]').select_option("RETURN")
    form.locator('[name="bid_reason"]').fill("The aunt can care for the child; school place found.")
    click_submit(protector, "best_interests")
    expect(protector.locator('[data-value="bid"]')).to_contain_text("childprotection")

    caseworker.goto(f"{BASE}/return")
    fill_checklist(caseworker, family_assessment="POSITIVE", escort_name="Synthetic Escort")
    click_submit(caseworker, "checklist")
    expect(caseworker.locator('[data-note="ready"]')).to_be_visible()

    officer.goto(f"{BASE}/return")
    book(officer)
    expect(officer.locator("main .flash.success")).to_be_visible()
    JobRunner(soap_here).run_due(force=True)  # the relay sends BookMovement
    with soap_here.factory() as s:
        booked = s.scalars(sa.select(ReturnBooking)).one()
        assert booked.escort == "CHILD" and s.get(Movement, booked.movement_id).escort_type == "CHILD"
    officer.reload()
    expect(officer.locator('[data-value="status"]').first).to_have_attribute("data-status", "REQUESTED")
    assert fits_the_window(officer)
    shot(officer, "child-booked")


def test_a_return_is_cancelled_with_a_reason_on_a_phone_in_spanish_and_reads_cancelled(
    page: Page,
    new_page,
    soap_here,
    shot,
    guide_shot,  # noqa: ANN001
) -> None:
    open_case(page)
    record_consent(page, "Return")
    complete_checklist(page)
    officer = new_page()
    log_in(officer, "movement")
    officer.goto(f"{BASE}/return")
    book(officer)
    runner = JobRunner(soap_here)
    runner.run_due(force=True)  # BookMovement goes; the host answers REQUESTED

    spanish = new_page("es-ES", 390)
    log_in(spanish, "movement")
    spanish.goto(f"{BASE}/return")
    expect(spanish.locator('[data-value="status"]').first).to_have_text("Solicitado")
    form_name = spanish.locator('form[data-form^="cancel-"]').get_attribute("data-form")
    unfold(spanish, form_name)
    spanish.locator(f'form[data-form="{form_name}"] select[name="reason"]').select_option("BENEFICIARY_WITHDREW")
    assert fits_the_window(spanish)  # nothing wider than the phone
    shot(spanish, "confirm-390-es")
    submit(spanish, form_name, "Sí, cancelar el retorno")
    expect(spanish.locator("[data-cancellation]")).to_contain_text("Cancelación solicitada (La persona desistió)")
    expect(spanish.locator('form[data-form^="cancel-"]')).to_have_count(0)  # one cancellation at a time

    runner.run_due(force=True)  # CancelMovement goes; the feed brings CANCELLED
    spanish.reload()
    expect(spanish.locator('[data-value="status"]').first).to_have_text("Cancelado")
    assert fits_the_window(spanish)
    shot(spanish, "cancelled-390-es")
    officer.reload()
    expect(officer.locator('[data-value="status"]').first).to_have_text("Cancelled")
    expect(officer.locator('[data-cancellation="done"]')).to_contain_text("Cancelled at the host (The person withdrew)")
    guide_shot(officer, "return-cancelled")
