"""Issue 11's journey in Chromium, one flow per backend: the caseworker finds a case by its number and by the
person's name, works her due list, corrects a service and closes the case through its confirmation; a supervisor
reopens it on a phone in French; the caseworker goes on on her phone in Spanish; the auditor reads the view, the
correction, the closing and the reopening in the case's audit trail; a KHM-only caseworker finds no THA case list.
Every page visited passes the accessibility checks (axe-core, one h1; at 390 px no sideways scrolling)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from a11y import PHONE, check_page
from playwright.sync_api import Page, expect
from steps import (
    BASE,
    CASES,
    DUE,
    REF,
    add_follow_up,
    add_service,
    ask_to_close_case,
    correct_service,
    find_case_by_name,
    find_case_by_number,
    log_in,
    mark_follow_up_done,
    read_audit_trail,
    reopen_case,
    send,
    switch_locale,
    work_due_item,
)

from ctm_plugin.domain.case import Case
from mimosa_host.models import Beneficiary

pytestmark = pytest.mark.browser

OVERDUE = "Send the medical report to the shelter."
NEXT_WEEK = "Call the family about the return."
SHELTER = "Safe House Bangkok"


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def number_and_family_name(runtime) -> tuple[str, str]:  # noqa: ANN001 - the demo's Runtime
    """The case number of :data:`REF`'s case and the family name the host knows the person by."""
    with runtime.factory() as s:
        number = s.scalar(sa.select(Case.case_number).where(Case.beneficiary_id == REF))
        family = s.scalar(sa.select(Beneficiary.family_name).where(Beneficiary.beneficiary_id == REF))
    assert number and family
    return number, family


def finds_the_case(page: Page, number: str, family: str) -> None:
    """On the case list: the case found by its number, then by the person's family name (asked of the host)."""
    find_case_by_number(page, number)
    rows = page.locator('table[data-table="cases"] tr[data-case]')
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-case", number)
    check_page(page)
    find_case_by_name(page, family)
    expect(page.locator(f'table[data-table="cases"] tr[data-case="{number}"]')).to_be_visible()
    check_page(page)


def test_a_caseworkers_day_from_the_case_list_to_the_audit_trail(new_page, soap_here, guide_shot) -> None:  # noqa: ANN001
    caseworker = new_page()
    log_in(caseworker, "caseworker")
    caseworker.goto(f"{BASE}/case")
    send(caseworker, "open")
    number, family = number_and_family_name(soap_here)

    # She finds the case by its number and by the person's name, and opens it from the list.
    finds_the_case(caseworker, number, family)
    guide_shot(caseworker, "case-list")
    with caseworker.expect_navigation():
        caseworker.locator(f'tr[data-case="{number}"] a[data-action="open-case"]').click()
    expect(caseworker.locator('nav.tabs a[data-tab="ctm.screening"]')).to_be_visible()
    check_page(caseworker)

    # Her due list: an overdue follow-up first (counted in the menu), done from the list; next week's stays.
    add_follow_up(caseworker, day(7), NEXT_WEEK)
    add_follow_up(caseworker, day(-2), OVERDUE)
    caseworker.goto(DUE)
    items = caseworker.locator('ul[data-table="due"] li')
    expect(items.first).to_contain_text(OVERDUE)
    expect(items.first).to_have_attribute("data-overdue", "yes")
    expect(items.nth(1)).to_contain_text(NEXT_WEEK)
    expect(caseworker.locator('a[data-menu="ctm.due"]')).to_contain_text("(1)")
    check_page(caseworker)
    guide_shot(caseworker, "due-list")
    work_due_item(caseworker, OVERDUE)
    check_page(caseworker)
    mark_follow_up_done(caseworker, OVERDUE)
    caseworker.goto(DUE)
    expect(caseworker.locator('ul[data-table="due"]')).not_to_contain_text(OVERDUE)
    expect(caseworker.locator('ul[data-table="due"]')).to_contain_text(NEXT_WEEK)
    expect(caseworker.locator('a[data-menu="ctm.due"]')).not_to_contain_text("(")

    # A shelter recorded as under way is corrected to completed, with its end date.
    add_service(caseworker, "Shelter", SHELTER, "Ongoing", day(-30))
    correct_service(caseworker, SHELTER, "Completed", day(-1))
    service = caseworker.locator('table[data-table="services"] tbody tr', has_text=SHELTER)
    expect(service).to_contain_text("Completed")
    check_page(caseworker)

    # She closes the case: the confirmation names it, and only its "yes" closes it.
    ask_to_close_case(caseworker, "GoalsMet")
    confirmation = caseworker.locator('[data-box="confirm"]')
    expect(confirmation).to_contain_text(number)
    check_page(caseworker)
    guide_shot(caseworker, "case-closing", of=caseworker.locator("section.ctm-section", has=confirmation))
    send(caseworker, "close")
    expect(caseworker.locator('[data-value="closed"]')).to_be_visible()
    check_page(caseworker)

    # A supervisor, on a phone in French, reopens it.
    supervisor = new_page("fr-FR", PHONE)
    log_in(supervisor, "supervisor")
    supervisor.goto(f"{BASE}/case")
    expect(supervisor.locator('[data-value="closed"]')).to_be_visible()
    check_page(supervisor)
    reopen_case(supervisor, "La personne a de nouveau demandé de l’aide.")
    expect(supervisor.locator('[data-value="closed"]')).to_have_count(0)
    check_page(supervisor)

    # The caseworker goes on on her phone, in Spanish: the same pages fit it.
    caseworker.set_viewport_size({"width": PHONE, "height": 800})
    switch_locale(caseworker, "es")
    finds_the_case(caseworker, number, family)
    for url in (DUE, f"{BASE}/assistance", f"{BASE}/case"):
        caseworker.goto(url)
        check_page(caseworker)
    ask_to_close_case(caseworker, "GoalsMet")
    check_page(caseworker)

    # The auditor reads who viewed and changed the case: the caseworker's view, correction and closing, the
    # supervisor's reopening, newest first.
    auditor = new_page()
    log_in(auditor, "auditor")
    auditor.goto(f"{BASE}/case")
    with auditor.expect_navigation():
        auditor.locator('a[data-action="audit-trail"]').click()
    check_page(auditor)
    guide_shot(auditor, "case-audit-trail")
    trail = [(row["code"], row["username"], row["action"]) for row in read_audit_trail(auditor)]
    expected = [
        ("case.reopen", "supervisor", "Reopened the case"),
        ("case.close", "caseworker", "Closed the case"),
        ("service.edit", "caseworker", "Corrected a service"),
        ("case.view", "caseworker", "Viewed the case"),
    ]
    for event in expected:
        assert event in trail, event
    assert [trail.index(event) for event in expected[:3]] == sorted(trail.index(event) for event in expected[:3])
    by_name = {row["user"] for row in read_audit_trail(auditor) if row["username"] == "supervisor"}
    assert by_name == {"Vichea Supervisor"}  # shown by the person's name

    # A caseworker of KHM only: THA's case list does not exist for her; her own mission's does.
    khm = new_page()
    log_in(khm, "khm.caseworker")
    refused = khm.goto(CASES)
    assert refused is not None and refused.status == 404
    mine = khm.goto("/m/KHM/plugins/ctm/cases")
    assert mine is not None and mine.status == 200
