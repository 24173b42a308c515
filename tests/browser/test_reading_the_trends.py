"""The researcher in Chromium: the trends from the CT menu, charts with their tables, a small count shown as
"<11", a filter changed; in French and Spanish on a phone, accessible and no wider than the window; a
caseworker finds no trends."""

from __future__ import annotations

import re
from datetime import date

import pytest
from a11y import problems
from click.testing import CliRunner
from playwright.sync_api import Page, expect
from steps import fits_the_window, log_in

from ctm_plugin.domain.trends import last_closed_year
from ctm_plugin.research import small_cell_k
from mimosa_host.cli import main as host_cli
from mimosa_host.runtime import Runtime

TRENDS = "/m/THA/plugins/ctm/trends"


def with_the_research_story(rt: Runtime) -> None:
    url = rt.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(host_cli, ["--database", url, "ctm", "demo", "research", "--count", "150"])
    assert result.exit_code == 0, result.output


pytestmark = [pytest.mark.browser, pytest.mark.database.with_args(with_the_research_story)]


def test_the_researcher_reads_the_trends_with_small_counts_withheld(page: Page, shot, guide_shot) -> None:  # noqa: ANN001
    log_in(page, "researcher")  # no records to see: the trends are where the researcher lands
    expect(page).to_have_url(re.compile(r"/m/(THA|KHM)/plugins/ctm/trends$"))
    page.locator('a[data-menu="ctm.trends"]').click()
    expect(page.locator("main h1")).to_have_text("Trends")
    expect(page.locator('[data-note="suppression"]')).to_contain_text("small-cell suppression")
    expect(page.locator('[data-note="up-to"]')).to_contain_text("The year in progress is never shown")
    expect(page.locator('[data-note="up-to"]')).to_contain_text("never changes after")
    sex = page.locator('section[data-dimension="sex"]')
    expect(sex.locator("svg[role=img]")).to_have_count(1)
    expect(sex.locator("table caption")).to_have_text("Sex")
    counts = page.locator("td[data-count]").all_inner_texts()
    k = small_cell_k()
    assert f"<{k}" in counts
    assert not [c for c in counts if c.isdigit() and 0 < int(c) < k]
    # each year of the story has 11 cases or more: shown, whatever its quarters; this year is not published yet
    last = str(last_closed_year(date.today()))  # the missions' clock is UTC here
    expect(page.locator('[data-note="up-to"]')).to_have_attribute("data-year", last)
    expect(page.locator('section[data-dimension="cases"] tbody tr').last).to_have_attribute("data-period", last)
    for year in ("2021", "2022", "2023", "2024", "2025"):
        year_cases = page.locator(f'section[data-dimension="cases"] tr[data-period="{year}"] td[data-count]')
        expect(year_cases.first).to_have_text(re.compile(r"^\d+$"))
    shot(page, "years")
    guide_shot(page, "trends-top", of=page.locator("main"), top=True)
    citizenship = page.locator('section[data-dimension="citizenship"]')
    expect(citizenship.locator("td[data-count]", has_text=f"<{k}").first).to_be_visible()
    guide_shot(page, "trends-citizenship", of=citizenship)

    expect(page.locator('form[data-form="filter"] select')).to_have_count(1)  # the period bin, no other filter
    page.locator('form[data-form="filter"] select[name="period"]').select_option("quarter")
    with page.expect_navigation():
        page.locator('button[data-action="filter"]').click()
    expect(page.locator('section[data-dimension="cases"] tbody tr').first).to_have_attribute("data-period", "2021-Q1")
    up_to = page.locator('[data-note="up-to"]').get_attribute("data-year")
    expect(page.locator('section[data-dimension="cases"] tbody tr').last).to_have_attribute(
        "data-period", f"{up_to}-Q4"
    )
    expect(page.locator('section[data-dimension="mission"] thead th[data-value]')).to_have_count(3)  # KHM, THA, total
    expect(page.locator('[data-note="as-of"] li')).to_have_count(2)
    counts = page.locator("td[data-count]").all_inner_texts()
    assert not [c for c in counts if c.isdigit() and 0 < int(c) < k]
    shot(page, "quarters")


@pytest.mark.parametrize("locale", ["fr-FR", "es-ES"])
def test_the_trends_fit_a_phone_and_are_accessible(new_page, guide_shot, locale: str) -> None:  # noqa: ANN001
    phone = new_page(locale=locale, width=390)
    log_in(phone, "researcher")
    phone.goto(TRENDS)
    expect(phone.locator("html")).to_have_attribute("lang", locale[:2])
    expect(phone.locator('section[data-dimension="cases"]')).to_be_visible()
    assert fits_the_window(phone)
    assert problems(phone) == []
    if locale == "fr-FR":
        guide_shot(phone, "trends-phone-fr", of=phone.locator("main"), top=True)


def test_a_caseworker_finds_no_trends(page: Page) -> None:
    log_in(page, "caseworker")
    expect(page.locator('a[data-menu="ctm.trends"]')).to_have_count(0)
    assert page.goto(TRENDS).status == 404
