"""What a user does in the CT pages, step by step, for the browser tests."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from playwright.sync_api import Locator, Page, expect

from ctm_plugin.domain.case import Case
from ctm_plugin.services import cases, process
from mimosa_host.context import build_context
from mimosa_host.demo import password_for
from mimosa_host.models import Mission, User
from mimosa_host.runtime import Runtime

REF = "BEN-1000001"
BASE = f"/m/THA/plugins/ctm/records/beneficiary/{REF}"


def log_in(page: Page, username: str) -> None:
    page.goto("/login")
    form = page.locator("form.login")
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="password"]').fill(password_for(username))
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()


def submit(page: Page, form: str, button: str) -> None:
    with page.expect_navigation() as navigation:
        page.locator(f'form[data-form="{form}"]').get_by_role("button", name=button).click()
    assert navigation.value.status == 200, navigation.value.status  # after the 303
    expect(page.locator("main .flash.success")).to_be_visible()


def open_case(page: Page) -> None:
    log_in(page, "caseworker")
    page.goto(f"{BASE}/case")
    submit(page, "open", "Open a case")
    for tab in ("ctm.screening", "ctm.process", "ctm.assistance", "ctm.consent"):
        expect(page.locator(f'nav.tabs a[data-tab="{tab}"]')).to_be_visible()


def unfold(page: Page, form: str) -> None:
    """Open the folded ``<details>`` that holds ``form``, unless it is open already."""
    details = page.locator("details", has=page.locator(f'form[data-form="{form}"]'))
    if details.get_attribute("open") is None:
        details.locator("summary").click()


def record_consent(page: Page, purpose: str) -> None:
    """On the case's Consent tab: the person's written consent for ``purpose`` (e.g. Return, HandOver)."""
    page.goto(f"{BASE}/consent")
    unfold(page, "consent")
    form = page.locator('form[data-form="consent"]')
    form.locator('select[name="purpose"]').select_option(purpose)
    form.locator('select[name="method"]').select_option("Written")
    form.locator('input[name="items"][value="ConsentedToInterview"]').check()
    submit(page, "consent", "Record the consent")


def fill_checklist(page: Page, **extra: str) -> None:
    """The mission's default items: counselling, a travel document, fitness, a low risk."""
    unfold(page, "checklist")
    form = page.locator('form[data-form="checklist"]')
    form.locator('[name="counselled_on"]').fill(date.today().isoformat())
    form.locator('select[name="document_kind"]').select_option("PASSPORT")
    form.locator('[name="document_number"]').fill("SYN1234567")
    form.locator('[name="document_expiry"]').fill((date.today() + timedelta(days=400)).isoformat())
    form.locator('input[name="fit_to_travel"]').check()
    form.locator('select[name="risk_level"]').select_option("LOW")
    form.locator('[name="risk_reason"]').fill("Family waiting; no threat known.")
    for name, value in extra.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def complete_checklist(page: Page) -> None:
    """As the caseworker, on the Return tab: the checklist's default items done, the return ready to book."""
    page.goto(f"{BASE}/return")
    fill_checklist(page)
    submit(page, "checklist", "Save the checklist")
    expect(page.locator('[data-note="ready"]')).to_be_visible()


def book_return(
    page: Page, departure: str, destination: str = "KHM", airport: str = "PNH", project: str | None = None
) -> None:
    """As a movement officer, on the Return tab: a return from Bangkok to ``destination`` (under
    ``project``, else the mission's default project)."""
    page.goto(f"{BASE}/return")
    form = page.locator('form[data-form="book"]')
    if project:
        expect(form.locator('select[name="project_code"]')).to_have_value("THA-CT-01")  # the mission's default
        form.locator('select[name="project_code"]').select_option(project)
    form.locator('select[name="origin_country"]').select_option("THA")
    form.locator('[name="origin_location"]').fill("BKK")
    form.locator('select[name="destination_country"]').select_option(destination)
    form.locator('[name="destination_location"]').fill(airport)
    form.locator('[name="earliest_departure"]').fill(departure)
    form.locator('select[name="escort"]').select_option("OPERATIONAL")
    form.locator('input[name="fit_to_travel"]').check()
    submit(page, "book", "Book the return")


def propose_handover(page: Page, to_mission: str = "KHM") -> None:
    """As the destination mission's caseworker, on the Hand-over tab: the minimal hand-over record."""
    page.goto(f"{BASE}/handover")
    unfold(page, "propose")
    form = page.locator('form[data-form="propose"]')
    form.locator('select[name="to_mission"]').select_option(to_mission)
    form.locator('[name="contact"]').fill("THA caseworker, +66 2 000 0000")
    form.locator('[name="family_name"]').fill("Synthetic")
    form.locator('[name="given_name"]').fill("Returnee")
    form.locator('[name="shelter_needs"]').fill("A shelter place while the family is traced")
    submit(page, "propose", "Propose the hand-over")


def open_received_handover(page: Page, mission: str = "KHM") -> None:
    """As the mission of origin's caseworker: the inbox from the menu, then its newest hand-over."""
    page.goto(f"/m/{mission}/beneficiaries")
    page.locator('[data-menu="ctm.handovers"]').click()
    page.locator("table[data-table='inbox'] tbody tr[data-handover] a").first.click()
    expect(page.locator('[data-section="record"]')).to_be_visible()


def accept_handover(page: Page) -> None:
    submit(page, "accept", "Accept and open a case")


def record_reception(page: Page, arrived_on: str) -> None:
    form = page.locator('form[data-form="reception"]')
    form.locator('[name="arrived_on"]').fill(arrived_on)
    form.locator('[name="arrival_place"]').fill("PNH airport")
    form.locator('[name="received_by"]').fill("KHM reception officer")
    form.locator('[name="family_contact"]').fill("Mother called on arrival")
    submit(page, "reception", "Record the reception")


def link_received_case(page: Page, beneficiary_id: str) -> None:
    """On the received hand-over's page: the new case joins the person's record in this mission's host."""
    page.locator('form[data-form="link"] [name="beneficiary_id"]').fill(beneficiary_id)
    submit(page, "link", "Link the case")


def switch_locale(page: Page, locale: str) -> None:
    """The host's language switch (``en``, ``fr``, ``es``): kept in the session, for every page after."""
    with page.expect_navigation():
        page.locator(f'form.locale button[value="{locale}"]').click()


def fits_the_window(page: Page) -> bool:
    """Nothing on the page is wider than the window (a phone's 390 px, say): no sideways scrolling."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


# -- the emergency fund (any language: forms are found by their data-form, not by their buttons' words) --------

FUND = "/m/THA/plugins/ctm/fund"


def send(page: Page, form: str, ok: bool = True) -> None:
    """Submit ``form`` whatever the page's language: a success is flashed; a refusal (``ok=False``) answers 422."""
    with page.expect_navigation() as navigation:
        page.locator(f'form[data-form="{form}"] button[type="submit"]').click()
    assert navigation.value.status == (200 if ok else 422), navigation.value.status
    if ok:
        expect(page.locator("main .flash.success")).to_be_visible()


def send_refused(page: Page, form: str, field: str) -> None:
    """Submit ``form`` expecting a refusal: the page comes back with the error next to ``field``."""
    send(page, form, ok=False)
    expect(page.locator(f'form[data-form="{form}"] [data-field="{field}"] .ctm-error')).to_be_visible()


def top_up_fund(page: Page, amount: str, donor: str = "ECHO", project: str = "GEF-2026", reference: str = "") -> None:
    """As HQ, on the Emergency fund page: money in from a donor under a project, dated today."""
    page.goto(FUND)
    form = page.locator('form[data-form="top_up"]')
    form.locator('[name="amount"]').fill(amount)
    form.locator('[name="on_date"]').fill(date.today().isoformat())
    form.locator('[name="donor"]').fill(donor)
    form.locator('[name="project_code"]').fill(project)
    form.locator('[name="reference"]').fill(reference)
    send(page, "top_up")


def fill_fund_request(page: Page, amount: str, kind: str = "Medical", currency: str | None = None) -> None:
    """As a caseworker, on the case's Assistance tab: the emergency-assistance request, not yet sent."""
    if not page.url.endswith(f"{BASE}/assistance"):
        page.goto(f"{BASE}/assistance")
    form = page.locator('form[data-form="fund"]')
    form.locator('select[name="kind"]').select_option(kind)
    form.locator('[name="amount"]').fill(amount)
    if currency:
        form.locator('select[name="currency"]').select_option(currency)
    form.locator('[name="justification"]').fill("Surgery after the return; no other source of funding.")


def request_emergency_assistance(page: Page, amount: str, kind: str = "Medical", currency: str | None = None) -> None:
    fill_fund_request(page, amount, kind, currency)
    send(page, "fund")


def open_fund_request(page: Page, state: str = "requested") -> None:
    """As HQ: the Emergency fund page from the menu, then the oldest request in ``state``."""
    page.goto("/m/THA/beneficiaries")
    page.locator('[data-menu="ctm.fund"]').click()
    page.locator(f"table[data-table='fund-requests'] tbody tr[data-state='{state}'] a").first.click()
    expect(page.locator('form[data-form="decision"]')).to_be_visible()


def decide_fund_request(page: Page, decision: str = "approve", amount: str = "", reason: str = "") -> None:
    """On a request's page, as HQ: approve, approve less (``amount``) or reject, with a reason."""
    form = page.locator('form[data-form="decision"]')
    form.locator('select[name="decision"]').select_option(decision)
    form.locator('[name="amount"]').fill(amount)
    form.locator('[name="reason"]').fill(reason)
    send(page, "decision")


def fund_balance(page: Page) -> str:
    """The balance the Emergency fund page shows, as written in the page's language."""
    page.goto(FUND)
    return page.locator('[data-fund] [data-value="balance"]').inner_text()


# -- monitoring ---------------------------------------------------------------------------------

KHM_REF = "BEN-2000001"


def case_url(mission: str = "KHM", ref: str = KHM_REF, tab: str = "monitoring") -> str:
    return f"/m/{mission}/plugins/ctm/records/beneficiary/{ref}/{tab}"


def open_case_in(page: Page, mission: str = "KHM", ref: str = KHM_REF) -> None:
    """As the logged-in caseworker, the Case tab of ``ref`` in ``mission``: open its CT case (today)."""
    page.goto(case_url(mission, ref, "case"))
    send(page, "open")


def set_monitoring_start(page: Page, day: str, mission: str = "KHM", ref: str = KHM_REF) -> None:
    """On the Monitoring tab: the date the schedule starts from, for a case with no arrival recorded."""
    page.goto(case_url(mission, ref))
    unfold(page, "start")
    page.locator('form[data-form="start"] [name="start_on"]').fill(day)
    send(page, "start")


def record_visit(
    page: Page,
    day: str,
    answers: dict[str, str] | None = None,
    *,
    month: int | None = None,
    mode: str = "InPerson",
    outcome: str = "Reached",
    missed_reason: str | None = None,
    risks: tuple[str, ...] = (),
    notes: str | None = None,
    ok: bool = True,
) -> None:
    """On the open Monitoring tab: a visit on ``day`` (ISO), with the survey's ``answers`` (indicator id →
    option id) ticked as radio buttons; ``ok=False`` expects it refused (the tab comes back with the errors)."""
    unfold(page, "visit")
    form = page.locator('form[data-form="visit"]')
    form.locator('[name="visited_on"]').fill(day)
    if month is not None:
        form.locator('select[name="schedule_month"]').select_option(str(month))
    form.locator('select[name="mode"]').select_option(mode)
    form.locator('select[name="outcome"]').select_option(outcome)
    if missed_reason:
        form.locator('[name="missed_reason"]').fill(missed_reason)
    for risk in risks:
        form.locator(f'input[name="risks"][value="{risk}"]').check()
    if notes:
        form.locator('[name="notes"]').fill(notes)
    for indicator, option in (answers or {}).items():
        form.locator(f'input[name="answer_{indicator}"][value="{option}"]').check()
    send(page, "visit", ok)


def read_scores(page: Page) -> list[tuple[str, ...]]:
    """The scores table of the Monitoring tab, oldest survey first: each dimension's score, then the overall."""
    rows = page.locator('table[data-table="scores"] tbody tr')
    return [tuple(rows.nth(n).locator("[data-score]").all_inner_texts()) for n in range(rows.count())]


# -- reintegration (in KHM, where the person is after the return) ------------------------------

KHM_BASE = f"/m/KHM/plugins/ctm/records/beneficiary/{KHM_REF}"


def open_khm_case(page: Page) -> None:
    """As KHM's caseworker: the case of a KHM beneficiary, opened on its Case tab."""
    log_in(page, "khm.caseworker")
    open_case_in(page, "KHM", KHM_REF)
    expect(page.locator('nav.tabs a[data-tab="ctm.reintegration"]')).to_be_visible()


def fill_plan_element(
    page: Page, *, kind: str, objective: str, provider: str, start: str, end: str, budget: str, currency: str
) -> None:
    """The Reintegration tab's "add an element" form, filled (not sent)."""
    page.goto(f"{KHM_BASE}/reintegration")
    unfold(page, "element")
    form = page.locator('form[data-form="element"]')
    form.locator('select[name="type"]').select_option(kind)
    form.locator('select[name="status"]').select_option("Planned")
    form.locator('[name="objective"]').fill(objective)
    form.locator('select[name="provider"]').select_option(provider)
    form.locator('[name="start_on"]').fill(start)
    form.locator('[name="end_on"]').fill(end)
    form.locator('[name="budget"]').fill(budget)
    form.locator('select[name="currency"]').select_option(currency)


def add_plan_element(page: Page, **element: str) -> None:
    """An element added to the plan (see :func:`fill_plan_element` for its fields)."""
    fill_plan_element(page, **element)
    send(page, "element")
    expect(page.locator(f'article[data-type="{element["kind"]}"]')).to_be_visible()


def agree_plan(page: Page, agreed_on: str) -> None:
    """The person agreed the plan on ``agreed_on``: recorded on the Reintegration tab."""
    page.goto(f"{KHM_BASE}/reintegration")
    unfold(page, "agree")
    page.locator('form[data-form="agree"] [name="agreed_on"]').fill(agreed_on)
    send(page, "agree")
    expect(page.locator('[data-value="agreement"]')).to_contain_text(agreed_on[:4])


def request_form(page: Page, kind: str) -> str:
    """The name of the request form of the element of type ``kind``, unfolded."""
    page.goto(f"{KHM_BASE}/reintegration")
    form = page.locator(f'article[data-type="{kind}"] form[data-form^="request-"]')
    name = form.get_attribute("data-form")
    assert name is not None
    unfold(page, name)
    return name


def request_disbursement(page: Page, kind: str, amount: str, purpose: str) -> None:
    """As a caseworker: money requested against the element of type ``kind``, in its currency, for its provider."""
    name = request_form(page, kind)
    form = page.locator(f'form[data-form="{name}"]')
    expect(form.locator('select[name="project_code"]')).to_have_value("KHM-CT-01")  # the mission's default
    form.locator('[name="amount"]').fill(amount)
    form.locator('[name="purpose"]').fill(purpose)
    send(page, name)
    expect(page.locator('tr[data-state="requested"]')).to_be_visible()


def approve_disbursement(page: Page) -> None:
    """As the supervisor: the first request of "Disbursements to approve", opened and approved."""
    page.goto("/m/KHM/beneficiaries")
    page.locator('[data-menu="ctm.disbursements"]').click()
    row = page.locator("table[data-table='pending'] tbody tr[data-disbursement]").first
    disbursement = row.get_attribute("data-disbursement")
    row.locator("a").click()
    name = f"decide-{disbursement}"
    unfold(page, name)
    page.locator(f'form[data-form="{name}"] select[name="decision"]').select_option("approve")
    send(page, name)
    expect(page.locator(f'tr[data-disbursement="{disbursement}"]')).to_have_attribute("data-state", "approved")


def record_payment(
    page: Page, receipt: str, method: str = "BankTransfer", payee: str = "Provider", base: str = KHM_BASE
) -> None:
    """As a caseworker: the payment of the case's first approved disbursement, paid today to ``payee``."""
    page.goto(f"{base}/reintegration")
    form = page.locator('form[data-form^="pay-"]').first
    name = form.get_attribute("data-form")
    assert name is not None
    unfold(page, name)
    form.locator('select[name="payment_method"]').select_option(method)
    form.locator('[name="receipt_reference"]').fill(receipt)
    form.locator('select[name="payee"]').select_option(payee)
    send(page, name)
    expect(page.locator('table[data-table="ledger"] tr[data-kind="payment"]')).to_contain_text(receipt)


# -- the audit trail (any language: rows are read by their data-value, not by their headings) ----------------

AUDIT = "/m/THA/plugins/ctm/audit"


def read_audit_trail(page: Page) -> list[dict[str, str]]:
    """The rows of the audit trail on the page (a case's or the mission's), newest first: each row's ``code``
    (the action's code), ``username``, and the texts of its cells (``at``, ``user`` by name, ``action``,
    ``groups``, ``case``)."""
    page.locator('table[data-table="audit"]').wait_for()  # after a click, the trail's page itself, not the last one
    rows = []
    for row in page.locator('table[data-table="audit"] tbody tr').all():
        cells = {name: row.locator(f'td[data-value="{name}"]') for name in ("at", "user", "action", "groups", "case")}
        read = {name: cell.inner_text().strip() for name, cell in cells.items() if cell.count()}
        rows.append(
            {"code": row.get_attribute("data-code") or "", **read, "username": row.get_attribute("data-user") or ""}
        )
    return rows


def filter_audit_trail(page: Page, **filters: str) -> None:
    """On the mission's audit trail: fill the filters (``username``, ``action``, ``from_on``, ``to_on``), then show."""
    form = page.locator('form[data-form="trail"]')
    for name, value in filters.items():
        field = form.locator(f'[name="{name}"]')
        if name == "action":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()


# -- correcting saved records (any language: forms and rows are found by their data- attributes) --------------


def open_case_here(page: Page, username: str = "caseworker") -> None:
    """Log in and open THA's case of :data:`REF`, whatever the page's language."""
    log_in(page, username)
    page.goto(f"{BASE}/case")
    send(page, "open")


def send_unfolded(page: Page, form: Locator, refused_at: str | None = None) -> None:
    """Submit one of a page's correction forms (found by its place, named ``service-7`` or the like);
    ``refused_at``: the field whose error the refusal must show."""
    name = form.get_attribute("data-form")
    assert name
    if refused_at is None:
        send(page, name)
    else:
        send_refused(page, name, refused_at)


def add_service(page: Page, type_: str, provider: str, status: str, start_date: str) -> None:
    """On the Assistance tab: a service given by ``provider`` (e.g. an under-way shelter)."""
    page.goto(f"{BASE}/assistance")
    form = page.locator('form[data-form="service"]')
    form.locator('select[name="type"]').select_option(type_)
    form.locator('select[name="status"]').select_option(status)
    form.locator('input[name="provider"]').fill(provider)
    form.locator('input[name="start_date"]').fill(start_date)
    send(page, "service")


def correct_service(page: Page, service_label: str, status: str, end_date: str, ok: bool = True) -> None:
    """On the Assistance tab: the saved service whose correction names ``service_label`` (its provider, say)
    set to ``status`` with ``end_date`` (blank: none); ``ok=False`` expects the refusal next to the end date."""
    page.goto(f"{BASE}/assistance")
    details = page.locator("details[data-edit-service]", has_text=service_label)
    details.locator("summary").click()
    form = details.locator("form")
    form.locator('select[name="status"]').select_option(status)
    form.locator('input[name="end_date"]').fill(end_date)
    send_unfolded(page, form, None if ok else "end_date")


def correct_perpetrator(page: Page, number: int, roles: tuple[str, ...]) -> None:
    """On the Process tab: the ``number``-th perpetrator (from 1) with these roles instead of theirs."""
    page.goto(f"{BASE}/process")
    details = page.locator("details[data-edit-perpetrator]").nth(number - 1)
    details.locator("summary").click()
    form = details.locator("form")
    for box in form.locator('input[name="roles"]').all():
        box.set_checked(box.get_attribute("value") in roles)
    send_unfolded(page, form)


def correct_screening(page: Page, reason: str, **changes: str) -> None:
    """On the Screening tab: the current screening corrected (text fields in ``changes``) with ``reason``;
    a blank reason expects the refusal next to it."""
    page.goto(f"{BASE}/screening")
    details = page.locator("details[data-correct-screening]").first
    details.locator("summary").click()
    form = details.locator("form")
    for name, value in changes.items():
        form.locator(f'[name="{name}"]').fill(value)
    form.locator('textarea[name="reason"]').fill(reason)
    send_unfolded(page, form, None if reason else "reason")


# -- a case's life-cycle and owner (any language: forms found by their data-form) -------------------


def ask_to_close_case(page: Page, reason: str) -> None:
    """On the case's overview: close it for ``reason`` (a ``closure_reason`` code), up to the confirmation."""
    page.goto(f"{BASE}/case")
    form = page.locator('form[data-form="close"]')
    form.locator('select[name="close_reason"]').select_option(reason)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    expect(page.locator('[data-box="confirm"]')).to_be_visible()


def close_case(page: Page, reason: str) -> None:
    """On the case's overview: close it for ``reason`` (a ``closure_reason`` code), then confirm it."""
    ask_to_close_case(page, reason)
    send(page, "close")


def reopen_case(page: Page, reason: str) -> None:
    """On the closed case's overview: reopen it, saying why."""
    page.goto(f"{BASE}/case")
    page.locator('form[data-form="reopen"] [name="reason"]').fill(reason)
    send(page, "reopen")


def reassign_case(page: Page, to: str) -> None:
    """As a supervisor, on the case's overview: give the case to the caseworker ``to`` (a username)."""
    page.goto(f"{BASE}/case")
    page.locator('form[data-form="owner"] select[name="owner"]').select_option(to)
    send(page, "owner")


# -- what is due (any language: forms by their data-form, items by their text) ------------------------------

DUE = "/m/THA/plugins/ctm/due"


def add_follow_up(page: Page, on: str, note: str) -> None:
    """On the case's overview: a follow-up due ``on`` (ISO day), owned by the signed-in user."""
    page.goto(f"{BASE}/case")
    unfold(page, "follow-up")
    form = page.locator('form[data-form="follow-up"]')
    form.locator('[name="due_on"]').fill(on)
    form.locator('[name="note"]').fill(note)
    send(page, "follow-up")


def work_due_item(page: Page, text: str) -> None:
    """On the due list: follow the item that says ``text`` to where it is answered."""
    page.goto(DUE)
    with page.expect_navigation():
        page.locator('ul[data-table="due"] li', has_text=text).locator('a[data-action="work"]').click()


def mark_follow_up_done(page: Page, note: str) -> None:
    """On the case's overview (where the due list leads): the follow-up that says ``note`` marked as done."""
    card = page.locator('[data-section="follow-ups"] article', has_text=note)
    done = card.locator("form").get_attribute("data-form")
    assert done is not None
    send(page, done)
    expect(card.locator("form")).to_have_count(0)  # done: nothing left to mark


# -- finding cases -----------------------------------------------------------------------------------------------

CASES = "/m/THA/plugins/ctm/cases"


def _find_case(page: Page, field: str, value: str) -> None:
    page.goto(CASES)
    form = page.locator('form[data-form="filter"]')
    form.locator(f'[name="{field}"]').fill(value)
    with page.expect_navigation() as navigation:
        form.locator('button[data-action="filter"]').click()
    assert navigation.value.status == 200, navigation.value.status


def find_case_by_number(page: Page, number: str) -> None:
    """On the mission's case list: the cases whose number is or begins with ``number``."""
    _find_case(page, "number", number)


def find_case_by_name(page: Page, name: str) -> None:
    """On the mission's case list: the cases of the people the host knows by ``name`` (family or given)."""
    _find_case(page, "name", name)


def case_with_a_story(demo: Runtime, alias: str, narrative: str) -> int:
    """A THA case opened by ``caseworker`` for REF's beneficiary through the CTM's use cases, with a recruitment
    event told by ``narrative`` and a perpetrator known as ``alias`` (values the database holds only sealed)."""
    with demo.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == "caseworker"))
        ctx, _enabled = build_context(s, demo.host, demo.factory, s.get(Mission, "THA"), user, "en", plugin="ctm")
    case_id = cases.open_case(ctx, REF, {"opened_on": "2026-02-03"})

    def version() -> int:
        with demo.factory() as s:
            return s.get_one(Case, case_id).version

    process.add_event(ctx, case_id, {"version": version(), "type": "Recruitment", "country": "KHM", "notes": narrative})
    process.add_perpetrator(ctx, case_id, {"version": version(), "alias": alias, "roles": ["Transporter"]})
    return case_id


# -- research exports ------------------------------------------------------------------------------------------

RESEARCH = "/m/THA/plugins/ctm/research"


def seed_consenting_cases(rt: Runtime, count: int, year: int = 2025) -> None:
    """``count`` THA victims' cases of one common profile, each with the ``Research`` consent in force: enough
    for an export to reach k without suppressing them."""
    from ctm_plugin.domain.assistance import Consent
    from ctm_plugin.domain.case import PersonProfile, VictimContext

    with rt.factory() as s, s.begin():
        for n in range(count):
            case = Case(
                mission_code="THA",
                case_number=f"THA-CT-RES-{n:04d}",
                beneficiary_id=f"BEN-7{n:06d}",
                owner="caseworker",
                opened_on=date(year, 3, 1),
                updated_by="caseworker",
            )
            s.add(case)
            s.flush()
            common = {"mission_code": "THA", "case_id": case.id}
            s.add(PersonProfile(**common, gender="Feminine", citizenships=["KHM"], birth_date=date(year - 22, 1, 1)))
            s.add(
                VictimContext(
                    **common, trafficking_status="ActualVictimOfTrafficking", exploitation_types=["ForcedLabour"]
                )
            )
            s.add(
                Consent(
                    **common,
                    purpose="Research",
                    items=["InformedOfResearchUse"],
                    given_on=date(year, 3, 1),
                    method="Written",
                    recorded_by="caseworker",
                )
            )


def request_research_export(page: Page, year: int) -> None:
    """The researcher's request: THA's cases of ``year``, in CTDC's layout."""
    page.goto(f"{RESEARCH}/exports")
    form = page.locator('form[data-form="export"]')
    form.locator('input[name="missions"][value="THA"]').check()
    form.locator('select[name="layout"]').select_option("CTDC")
    form.locator('input[name="year_from"]').fill(str(year))
    form.locator('input[name="year_to"]').fill(str(year))
    form.locator('textarea[name="purpose"]').fill("Forced labour among young women, 2025.")
    send(page, "export")


def approve_research_export(page: Page) -> None:
    """HQ's approval of the one pending request on its page."""
    page.goto(f"{RESEARCH}/approvals")
    form = page.locator('form[data-form^="decision-THA-"]')
    form.locator('select[name="decision"]').select_option("approve")
    with page.expect_navigation() as navigation:
        form.locator('button[type="submit"]').click()
    assert navigation.value.status == 200, navigation.value.status
    expect(page.locator("table[data-table='research-approvals'] tr[data-state='approved']")).to_have_count(1)
