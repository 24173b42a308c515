"""The hand-over in Chromium: THA proposes, the return arrives before KHM decides, KHM accepts and
records the reception; KHM sees only the hand-over record, THA's case turns read-only. A page at
390 px in French stays within the phone's width.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from steps import (
    BASE,
    accept_handover,
    book_return,
    complete_checklist,
    fits_the_window,
    link_received_case,
    log_in,
    open_case,
    open_received_handover,
    propose_handover,
    record_consent,
    record_reception,
    submit,
    unfold,
)

from ctm_plugin.domain.case import Case
from mimosa_host.jobs import JobRunner
from mimosa_host.soap import movements
from mimosa_host.soap.travel_desk import book_requested

pytestmark = pytest.mark.browser

SECRET = "Synthetic exploitation note, THA only"


def arrive(rt) -> None:  # noqa: ANN001 - a Runtime
    """The host's travel desk books the flight, the person travels and arrives; the jobs bring it back."""
    runner = JobRunner(rt)
    runner.run_due(force=True)  # the relay sends BookMovement
    assert book_requested(rt.factory, datetime.now(UTC), delay=timedelta(0))
    with rt.factory() as s:
        [movement_id] = s.scalars(sa.text("SELECT movement_id FROM ctm_return")).all()
    for status in ("CONFIRMED", "DEPARTED", "ARRIVED"):
        with rt.factory() as s, s.begin():
            movements.transition(s, movement_id, status, now=datetime.now(UTC))
    runner.run_due(force=True)  # THA's feed records the arrival on the hand-over


def test_tha_proposes_khm_accepts_after_the_arrival_and_records_the_reception(
    page: Page,
    new_page,
    soap_here,
    shot,
    guide_shot,  # noqa: ANN001
) -> None:
    open_case(page)
    page.goto(f"{BASE}/process")
    unfold(page, "event")
    event = page.locator('form[data-form="event"]')
    event.locator('select[name="type"]').select_option("Exploitation")
    event.locator('[name="notes"]').fill(SECRET)
    submit(page, "event", "Add the event")
    record_consent(page, "Return")
    record_consent(page, "HandOver")
    complete_checklist(page)  # an adult's return: the mission's default items
    officer = new_page()
    log_in(officer, "movement")
    book_return(officer, (date.today() + timedelta(days=20)).isoformat())

    propose_handover(page)
    expect(page.locator('[data-value="state"]').first).to_have_text("Proposed")
    guide_shot(page, "handover-proposed")

    arrive(soap_here)
    page.reload()
    expect(page.locator('[data-value="arrival"]').first).to_have_text("Arrived, hand-over pending")
    shot(page, "tha-arrived-pending")

    khm = new_page()
    log_in(khm, "khm.caseworker")
    open_received_handover(khm)
    expect(khm.locator('[data-value="name"]')).to_have_text("Synthetic, Returnee")
    guide_shot(khm, "handover-received")
    accept_handover(khm)
    expect(khm.locator('[data-value="case_number"]')).to_contain_text("KHM-CT-")
    record_reception(khm, date.today().isoformat())
    expect(khm.locator('[data-value="reception"]')).to_contain_text("KHM reception officer")
    shot(khm, "khm-received")
    guide_shot(khm, "handover-reception")
    body = khm.locator("main").inner_text()
    with soap_here.factory() as s:
        tha_case = s.scalars(sa.select(Case).where(Case.mission_code == "THA")).one()
    assert SECRET not in body and tha_case.case_number not in body  # the record only, nothing of THA's case
    handover_url = re.sub(r"^https?://[^/]+", "", khm.url)
    link_received_case(khm, "BEN-2000001")  # KHM's case joins the person's record in KHM's host
    expect(khm.locator('nav.tabs a[data-tab="ctm.consent"]')).to_be_visible()  # its CT tabs, KHM's own
    khm_case_url = re.sub(r"^https?://[^/]+", "", khm.url)

    # THA: the hand-over is accepted, its case read-only; KHM's new records stay out of THA's reach.
    page.goto(f"{BASE}/handover")
    expect(page.locator('[data-value="state"]').first).to_have_text("Accepted")
    expect(page.locator('[data-step="received"]')).to_be_visible()  # the history of both sides
    page.goto(f"{BASE}/case")
    expect(page.locator('[data-value="handed-over"]')).to_be_visible()
    for khm_url in (handover_url, khm_case_url):
        response = page.goto(khm_url.replace("/m/KHM/", "/m/THA/"))
        assert response is not None and response.status == 404, khm_url


def test_the_hand_over_fits_a_phone_on_both_sides(page: Page, soap_here, shot) -> None:  # noqa: ANN001
    open_case(page)
    record_consent(page, "HandOver")
    record_consent(page, "Return")
    complete_checklist(page)
    log_in(page, "movement")
    book_return(page, (date.today() + timedelta(days=20)).isoformat())
    log_in(page, "caseworker")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{BASE}/handover")
    unfold(page, "propose")  # a long checkbox label wraps
    assert fits_the_window(page)
    propose_handover(page)
    assert fits_the_window(page)  # the record and its history
    log_in(page, "khm.caseworker")
    page.goto("/m/KHM/beneficiaries")
    page.locator("form.locale").get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.set_viewport_size({"width": 390, "height": 844})
    open_received_handover(page)
    expect(page.locator('form[data-form="accept"] button')).to_have_text("Accepter et ouvrir un dossier")
    assert fits_the_window(page)
    shot(page, "fr-390")
