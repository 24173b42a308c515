"""The Return tab follows a booking by itself: "queued" turns into "Requested", then "Booked", without a
reload, and each change is announced to screen readers; each refresh fetches the bookings alone, unaudited
(the page's view was). The page's clock is Playwright's, so the 10-second refresh is run at once rather
than waited for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from steps import BASE, book_return, complete_checklist, log_in, open_case, record_consent

from ctm_plugin.domain.audit import AuditEvent
from mimosa_host.jobs import JobRunner
from mimosa_host.soap.travel_desk import book_requested

pytestmark = pytest.mark.browser


def test_the_return_tab_shows_the_host_booking_without_a_reload(page: Page, new_page, soap_here) -> None:  # noqa: ANN001
    open_case(page)
    record_consent(page, "Return")
    complete_checklist(page)
    officer = new_page()
    log_in(officer, "movement")
    book_return(officer, (date.today() + timedelta(days=20)).isoformat())
    expect(officer.locator("main .flash.success")).not_to_contain_text("booked")  # the host has not booked it yet

    officer.clock.install()
    officer.goto(f"{BASE}/return")
    polled: list[str] = []
    officer.on("request", lambda request: polled.append(request.url) if request.resource_type == "fetch" else None)
    viewed = case_views(soap_here.factory)
    status = officer.locator('[data-value="status"]').first
    expect(status).to_contain_text("Queued")
    expect(officer.locator("#ctm-returns")).to_have_attribute("data-refresh", "10")
    officer.evaluate("window.notReloaded = true")

    runner = JobRunner(soap_here)
    runner.run_due(force=True)  # the relay sends BookMovement; the feed brings REQUESTED
    officer.clock.run_for(10_000)
    expect(status).to_have_text("Requested")
    live = officer.locator('[aria-live="polite"][data-announce="returns"]')
    expect(live).to_contain_text("Requested")

    assert book_requested(soap_here.factory, datetime.now(UTC), delay=timedelta(0))  # the travel desk books
    runner.run_due(force=True)
    officer.clock.run_for(10_000)
    expect(status).to_have_text("Booked")
    expect(live).to_contain_text("Booked")
    expect(officer.locator("table[data-table='legs'] tbody tr").first).to_be_visible()
    expect(officer.locator("#ctm-returns")).not_to_have_attribute("data-refresh", "10")  # done: it stops
    assert officer.evaluate("window.notReloaded") is True
    # Each refresh fetched the bookings alone, and only the page's view is in the audit trail.
    assert polled and all(url.endswith("/return/bookings") for url in polled)
    assert case_views(soap_here.factory) == viewed


def case_views(factory) -> int:  # noqa: ANN001 - the runtime's session factory
    with factory() as s:
        return s.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "case.view"))
