"""Correcting saved records in Chromium: a caseworker marks an under-way shelter completed with its end date,
corrects a perpetrator, corrects a screening with a reason and sees its history; a wrong input is shown at its
field. Once in English at 1280 px, once in Spanish at a phone's 390 px without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from steps import (
    BASE,
    add_service,
    correct_perpetrator,
    correct_screening,
    correct_service,
    fits_the_window,
    open_case_here,
    send,
    unfold,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("es-ES", 390)])
def test_a_caseworker_corrects_a_service_a_perpetrator_and_a_screening(
    new_page,  # noqa: ANN001
    shot,  # noqa: ANN001
    guide_shot,  # noqa: ANN001
    locale: str,
    width: int,
) -> None:
    page = new_page(locale, width)
    open_case_here(page)

    # A shelter under way, then completed: first without its end date (refused there), then with it.
    add_service(page, "Shelter", "Safe House Bangkok", "Ongoing", "2024-02-02")
    correct_service(page, "Safe House Bangkok", "Completed", "", ok=False)
    if locale == "en-US":
        expect(page.locator('[data-field="end_date"] .ctm-error')).to_have_text(
            "A completed service needs its end date."
        )
    assert fits_the_window(page)
    shot(page, "service-refused")
    correct_service(page, "Safe House Bangkok", "Completed", "2024-03-01")
    row = page.locator('table[data-table="services"] tbody tr')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Finalizado" if locale == "es-ES" else "Completed")
    assert fits_the_window(page)

    # A perpetrator recorded as the exploiter was the recruiter.
    page.goto(f"{BASE}/process")
    page.locator('form[data-form="event"] select[name="type"]').select_option("Recruitment")
    send(page, "event")
    unfold(page, "perpetrator")
    page.locator('form[data-form="perpetrator"] input[name="roles"][value="Exploiter"]').check()
    send(page, "perpetrator")
    correct_perpetrator(page, 1, ("RecruiterOrIntermediary",))
    perpetrator = page.locator('table[data-table="perpetrators"] tbody tr')
    expect(perpetrator).to_contain_text("Captador" if locale == "es-ES" else "Recruiter or intermediary")
    assert fits_the_window(page)

    # A screening whose age was misheard: the correction needs its reason, then both versions show.
    page.goto(f"{BASE}/screening")
    form = page.locator('form[data-form="screening"]')
    expect(form.locator('input[name="interviewer"]')).to_have_value("Dara Caseworker")
    form.locator('input[name="place"]').fill("Bangkok shelter")
    form.locator('input[name="age_at_act"]').fill("24")
    form.locator('input[name="acts"][value="Recruitment"]').check()
    form.locator('input[name="purposes"][value="ForcedLabour"]').check()
    send(page, "screening")
    correct_screening(page, "", age_at_act="15")
    assert fits_the_window(page)
    correct_screening(page, "The year of birth was misheard.", age_at_act="15")
    expect(page.locator("article.ctm-card[data-screening]")).to_have_count(1)
    expect(page.locator('[data-value="correction"]')).to_contain_text("The year of birth was misheard.")
    expect(page.locator('[data-reason="ChildNoMeansNeeded"]')).to_have_count(1)
    page.locator("details[data-history] > summary").click()
    earlier = page.locator("[data-superseded]")
    expect(earlier).to_have_count(1)
    expect(earlier.locator('[data-value="age"]')).to_have_text("24")
    assert fits_the_window(page)
    shot(page, "screening-history")
    if locale == "en-US":
        guide_shot(page, "screening-history", of=page.locator("article.ctm-card[data-screening]"))
