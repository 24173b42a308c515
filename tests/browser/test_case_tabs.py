"""The CT tabs in Chromium: a caseworker fills every form through the page, one screenshot per tab.

The screenshots (``test-artifacts/screenshots/test_*``) are how the layouts are reviewed.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from steps import BASE, log_in, open_case, submit, unfold

pytestmark = pytest.mark.browser


def add_event(page: Page, values: dict[str, str], selects: dict[str, str]) -> None:
    unfold(page, "event")
    form = page.locator('form[data-form="event"]')
    for name, value in selects.items():
        form.locator(f'select[name="{name}"]').select_option(value)
    for name, value in values.items():
        form.locator(f'[name="{name}"]').fill(value)
    submit(page, "event", "Add the event")


def test_caseworker_fills_every_tab(page: Page, new_page, shot, guide_shot) -> None:  # noqa: ANN001
    open_case(page)
    guide_shot(page, "case-overview")

    # Screening: one interview, the rule recommends.
    page.locator('nav.tabs a[data-tab="ctm.screening"]').click()
    form = page.locator('form[data-form="screening"]')
    form.locator('[name="interview_date"]').fill("2024-02-01")
    form.locator('[name="place"]').fill("Bangkok shelter")
    form.locator('[name="interviewer"]').fill("Dara Caseworker")
    form.locator('[name="interpreter"]').fill("Kanya")
    form.locator('select[name="language"]').select_option("khm")
    form.locator('[name="age_at_act"]').fill("24")
    for code in ("Recruitment", "Transportation"):
        form.locator(f'input[name="acts"][value="{code}"]').check()
    form.locator('input[name="means"][value="Deception"]').check()
    form.locator('input[name="purposes"][value="ForcedLabour"]').check()
    submit(page, "screening", "Record the screening")
    expect(page.locator(".ctm-recommendation")).to_contain_text("Victim of trafficking")
    shot(page, "screening")
    guide_shot(page, "screening")

    # The process: five events, a perpetrator; the route drawn.
    page.locator('nav.tabs a[data-tab="ctm.process"]').click()
    expect(page.locator('form[data-form="event"]')).to_be_visible()  # no event yet: the form is unfolded
    shot(page, "process-empty")
    add_event(
        page,
        {"locality": "Battambang", "start_date": "2023-03-05"},
        {"type": "Recruitment", "country": "KHM", "start_precision": "Month"},
    )
    transit = {"type": "Transit", "country": "THA", "start_precision": "Year", "transport": "Bus"}
    add_event(
        page,
        {"locality": "Aranyaprathet", "start_date": "2023-04-01"},
        {**transit, "border_crossing": "Irregular", "documents": "None"},
    )
    add_event(
        page,
        {
            "locality": "Samut Sakhon",
            "start_date": "2023-04-20",
            "end_date": "2024-01-02",
            "latitude": "13.55",
            "longitude": "100.27",
            "notes": "Fishing boat processing plant.",
        },
        {"type": "Exploitation", "country": "THA", "transport": "Truck"},
    )
    add_event(page, {"locality": "Port Klang"}, {"type": "Transit", "country": "MYS", "transport": "Boat"})
    add_event(page, {"notes": "Raid on the boat."}, {"type": "Exit", "country": "MYS", "exit_mode": "Police"})
    unfold(page, "perpetrator")
    form = page.locator('form[data-form="perpetrator"]')
    form.locator('[name="alias"]').fill("Uncle Sok")
    form.locator('input[name="roles"][value="RecruiterOrIntermediary"]').check()
    form.locator('input[name="roles"][value="Transporter"]').check()
    form.locator('select[name="sex"]').select_option("Masculine")
    form.locator('select[name="nationality"]').select_option("KHM")
    form.locator('input[name="event_ids"]').nth(0).check()
    form.locator('input[name="event_ids"]').nth(1).check()
    submit(page, "perpetrator", "Add the perpetrator")
    svg = page.locator("svg.ctm-route")
    expect(svg).to_be_visible()
    expect(svg.locator("g.stop")).to_have_text(["Cambodia", "Thailand", "Malaysia"])
    shot(page, "process")
    guide_shot(page, "process")
    # One event open for editing, with a refusal shown in place.
    first = page.locator("ol.ctm-timeline > li").first
    first.locator("details.ctm-edit summary").click()
    first.locator('select[name="exit_mode"]').select_option("Police")
    with page.expect_navigation() as navigation:
        first.get_by_role("button", name="Save the event").click()
    assert navigation.value.status == 422
    expect(page.locator("ol.ctm-timeline > li").first.locator('[data-field="exit_mode"] .ctm-error')).to_be_visible()
    page.locator("ol.ctm-timeline > li").first.scroll_into_view_if_needed()
    shot(page, "process-edit-refused")

    # Assistance: two services.
    page.locator('nav.tabs a[data-tab="ctm.assistance"]').click()
    services = (
        (
            {"provider": "Hope Clinic", "start_date": "2024-02-02", "notes": "Weekly sessions."},
            {"type": "Psychosocial", "status": "Ongoing", "provider_type": "NGO"},
        ),
        ({"provider": "Safe House Bangkok"}, {"type": "Shelter", "status": "Planned"}),
    )
    for values, selects in services:
        form = page.locator('form[data-form="service"]')
        for name, value in selects.items():
            form.locator(f'select[name="{name}"]').select_option(value)
        for name, value in values.items():
            form.locator(f'[name="{name}"]').fill(value)
        submit(page, "service", "Add the service")
    expect(page.locator('table[data-table="services"] tbody tr')).to_have_count(2)
    shot(page, "assistance")
    guide_shot(page, "assistance")

    # Consent and referrals: a consent to referral, an outgoing referral, a withdrawn consent.
    page.locator('nav.tabs a[data-tab="ctm.consent"]').click()
    expect(page.locator('form[data-form="referral"]')).to_be_visible()  # nothing yet: the forms are unfolded
    shot(page, "consent-empty")
    for purpose, items in (("Referral", 7), ("Research", 3)):
        unfold(page, "consent")
        form = page.locator('form[data-form="consent"]')
        form.locator('select[name="purpose"]').select_option(purpose)
        form.locator('[name="given_on"]').fill("2024-02-01")
        form.locator('select[name="method"]').select_option("Written")
        for box in form.locator('input[name="items"]').all()[:items]:
            box.check()
        form.locator('input[name="interpreter_used"]').check()
        submit(page, "consent", "Record the consent")
    research = page.locator('article.ctm-card[data-purpose="Research"]')
    research.locator("details.ctm-edit summary").click()
    research.locator('[name="withdrawn_on"]').fill("2024-03-01")
    research.locator('[name="reason"]').fill("She no longer wishes her data used for research.")
    with page.expect_navigation():
        research.get_by_role("button", name="Withdraw the consent").click()
    expect(page.locator("article.ctm-card.ctm-withdrawn")).to_have_count(1)
    form = page.locator('form[data-form="referral"]')
    form.locator('select[name="direction"]').select_option("Outgoing")
    form.locator('[name="organisation"]').fill("Legal Aid Bangkok")
    form.locator('select[name="organisation_type"]').select_option("LegalService")
    form.locator('select[name="reason"]').select_option("AdditionalServicesRequired")
    form.locator('[name="case_worker"]').fill("Malai")
    form.locator('[name="details"]').fill("Labour claim against the employer.")
    submit(page, "referral", "Record the referral")
    expect(page.locator('table[data-table="referrals"] tbody tr')).to_have_count(1)
    shot(page, "consent")
    guide_shot(page, "consent")

    # The same tabs in French and Spanish: longer words, the same layout.
    for locale, tab, heading in (
        ("fr", "ctm.process", "Processus de traite"),
        ("fr", "ctm.screening", "Évaluation"),
        ("es", "ctm.consent", "Consentimiento y derivaciones"),
    ):
        with page.expect_navigation():
            page.locator(f'form.locale button[value="{locale}"]').click()
        page.locator(f'nav.tabs a[data-tab="{tab}"]').click()
        expect(page.locator(".plugin-page h2")).to_have_text(heading)
        shot(page, f"{tab.removeprefix('ctm.')}-{locale}")
    page.goto(f"{BASE}/process")
    expect(page.locator("svg.ctm-route")).to_have_attribute("aria-label", re.compile(r"^Ruta: salida: Camboya, "))

    # Someone who holds roles only in KHM: the THA case does not exist for them.
    outsider = new_page()
    log_in(outsider, "khm.caseworker")
    for tab in ("case", "screening", "process", "assistance", "consent"):
        response = outsider.goto(f"{BASE}/{tab}")
        assert response.status == 404, (tab, response.status)
        expect(outsider.locator("main h1")).to_have_text("Page not found")


def test_auditor_reads_the_tabs_without_forms(page: Page, new_page, shot) -> None:  # noqa: ANN001
    caseworker = new_page()
    open_case(caseworker)
    log_in(page, "auditor")
    for tab in ("screening", "process", "assistance", "consent"):
        page.goto(f"{BASE}/{tab}")
        expect(page.locator(".plugin-page form")).to_have_count(0)
        expect(page.locator(".plugin-page h2")).to_be_visible()
    page.goto(f"{BASE}/process")
    expect(page.locator(".plugin-page .ctm-hidden")).to_contain_text(re.compile("Aliases are hidden"))
    shot(page, "auditor-process")


def test_hq_records_a_determination(page: Page, new_page, shot) -> None:  # noqa: ANN001
    caseworker = new_page()
    open_case(caseworker)
    caseworker.locator('nav.tabs a[data-tab="ctm.screening"]').click()
    form = caseworker.locator('form[data-form="screening"]')
    form.locator('[name="place"]').fill("Bangkok shelter")
    form.locator('[name="interviewer"]').fill("Dara Caseworker")
    form.locator('input[name="acts"][value="Harbouring"]').check()
    form.locator('input[name="purposes"][value="SexualExploitation"]').check()
    submit(caseworker, "screening", "Record the screening")
    expect(caseworker.locator(".ctm-recommendation")).to_contain_text("Undetermined")

    log_in(page, "hq")
    page.goto(f"{BASE}/screening")
    expect(page.locator('form[data-form="screening"]')).to_have_count(0)
    form = page.locator('form[data-form="determine"]')
    form.locator('select[name="decision"]').select_option("Undetermined")
    form.locator('[name="reason"]').fill("The age at the time of the act is not known yet.")
    form.locator('select[name="screening_id"]').select_option(index=1)
    submit(page, "determine", "Record the determination")
    form = page.locator('form[data-form="determine"]')
    form.locator('select[name="decision"]').select_option("VictimOfTrafficking")
    with page.expect_navigation() as navigation:
        form.get_by_role("button", name="Record the determination").click()  # no reason: refused
    assert navigation.value.status == 422
    expect(page.locator('form[data-form="determine"] [data-field="reason"] .ctm-error')).to_be_visible()
    expect(page.locator('table[data-table="determinations"] tbody tr')).to_have_count(1)
    shot(page, "screening-hq")
