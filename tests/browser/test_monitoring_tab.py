"""Monitoring in Chromium: KHM's caseworker records three visits with their surveys on a KHM case and
sees the scores chart, the table of scores computed by hand and the fall flagged; a wrong input is
shown next to its field. Once in English at 1280 px, once in French at a phone's 390 px."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from steps import case_url, fits_the_window, log_in, open_case_in, read_scores, record_visit, set_monitoring_start

from ctm_plugin.scoring.model_test import EXPECTED, SURVEYS

pytestmark = pytest.mark.browser


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("fr-FR", 390)])
def test_khm_records_three_surveys_and_sees_the_chart_the_scores_and_the_fall(
    new_page,  # noqa: ANN001
    shot,  # noqa: ANN001
    guide_shot,  # noqa: ANN001
    locale: str,
    width: int,
) -> None:
    page = new_page(locale, width)
    log_in(page, "khm.caseworker")
    open_case_in(page)
    set_monitoring_start(page, days_ago(300))
    expect(page.locator('table[data-table="schedule"] tr[data-state="overdue"]')).to_have_count(2)

    # A wrong input comes back next to its field: a visit in the future, a question left unanswered.
    incomplete = {k: v for k, v in SURVEYS[0].items() if k != "wellbeing"}
    record_visit(page, (date.today() + timedelta(days=3)).isoformat(), incomplete, month=3, ok=False)
    expect(page.locator('[data-field="visited_on"] .ctm-error')).to_be_visible()
    expect(page.locator('[data-field="answer_wellbeing"] .ctm-error')).to_be_visible()
    expect(page.locator('[data-field="answer_wellbeing"]')).to_have_attribute("aria-invalid", "true")
    if locale == "en-US":
        expect(page.locator('[data-field="answer_wellbeing"] .ctm-error')).to_have_text("Answer this question.")
        guide_shot(page, "monitoring-refused")
    else:
        expect(page.locator('[data-field="visited_on"] .ctm-error')).not_to_contain_text("The date")
    assert fits_the_window(page)

    page.goto(case_url())
    record_visit(page, days_ago(200), SURVEYS[0], month=3)
    record_visit(page, days_ago(100), SURVEYS[1], month=6, mode="Phone")
    record_visit(page, days_ago(10), SURVEYS[2], risks=("NoIncome", "Debt", "RemigrationPlans"), notes="Lost the job")

    assert read_scores(page) == EXPECTED
    chart = page.locator('figure[data-value="chart"] svg')
    expect(chart).to_be_visible()
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator(".background").first).to_have_css("fill", "rgb(255, 255, 255)")  # styled by ctm.css
    assert page.locator('figure[data-value="chart"] script').count() == 0
    expect(page.locator('[data-value="fall"]')).to_be_visible()
    last = page.locator('table[data-table="scores"] tbody tr').last
    expect(last.locator('td[data-fell="true"]')).to_have_count(2)  # economic and psychosocial, not social
    expect(page.locator('table[data-table="schedule"] tr[data-state="done"]')).to_have_count(2)
    assert fits_the_window(page)
    if locale == "en-US":
        page.locator('[data-section="scores"]').scroll_into_view_if_needed()
        guide_shot(page, "monitoring-scores")
        supervisor = new_page(locale, width)
        log_in(supervisor, "supervisor")
        supervisor.goto("/m/KHM/beneficiaries")
        supervisor.locator('[data-menu="ctm.alerts"]').click()
        row = supervisor.locator('table[data-table="alerts"] tbody tr')
        expect(row).to_have_count(1)
        expect(row.locator('[data-value="risk_count"]')).to_contain_text("3")
        guide_shot(supervisor, "monitoring-alerts")
        row.locator("a").click()
        expect(supervisor.locator('table[data-table="scores"]')).to_be_visible()
    else:
        expect(page.locator("h2").first).not_to_have_text("Monitoring and sustainability scores")
        shot(page, "fr-390")
