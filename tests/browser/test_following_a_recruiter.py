"""The intelligence analyst in Chromium: the recruiter the demo's THA and KHM cases share, the network with its
table, a case's referral package (and one refused for want of consent); in French and Spanish on a phone,
accessible and no wider than the window; a caseworker cannot open any of it."""

from __future__ import annotations

import pytest
from a11y import problems
from click.testing import CliRunner
from playwright.sync_api import Page, expect
from steps import fits_the_window, log_in

from mimosa_host.cli import main as host_cli
from mimosa_host.runtime import Runtime

INTELLIGENCE = "/m/THA/plugins/ctm/intelligence"
RECRUITER = "perpetrator:madam lek"


def with_the_intelligence_story(rt: Runtime) -> None:
    url = rt.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(host_cli, ["--database", url, "ctm", "demo", "intelligence"])
    assert result.exit_code == 0, result.output


pytestmark = [pytest.mark.browser, pytest.mark.database.with_args(with_the_intelligence_story)]


def test_the_analyst_follows_a_recruiter_across_missions_to_a_referral_package(page: Page, shot) -> None:  # noqa: ANN001
    log_in(page, "analyst")
    page.locator('a[data-menu="ctm.intelligence"]').click()
    expect(page.locator("main h1")).to_have_text("Intelligence")
    recruiter = page.locator(f'section[data-section="perpetrator"] article[data-entity="{RECRUITER}"]')
    expect(recruiter.locator("li[data-case]")).to_have_count(3)
    expect(recruiter.locator('[data-value="aliases"]')).to_contain_text("MADAM LÉK")
    expect(
        page.locator(f'table[data-table="most-connected"] tr[data-entity="{RECRUITER}"] td[data-count]')
    ).to_have_text("3")
    shot(page, "links")

    page.locator('a[data-action="network"]').click()
    expect(page.locator("main h1")).to_have_text("Intelligence network")
    expect(page.locator("figure[data-value=network] svg[role=img]")).to_have_count(1)
    expect(page.locator(f'svg g[data-node="{RECRUITER}"]')).to_have_count(1)
    expect(page.locator(f'table[data-table="network"] tr[data-entity="{RECRUITER}"] li[data-case]')).to_have_count(3)
    shot(page, "network")

    links = page.locator(f'table[data-table="network"] tr[data-entity="{RECRUITER}"]')
    links.locator('li[data-beneficiary="BEN-1000021"] a[data-action="package"]').click()
    expect(page.locator('[data-print="referral-package"] [data-value="alias"]')).to_have_text("Madam Lek")
    expect(page.locator('[data-section="routes"] li')).to_have_text("Cambodia → Thailand")
    shot(page, "package")
    with page.expect_download() as download:
        page.locator('a[data-action="download"]').click()
    assert download.value.suggested_filename.endswith(".csv")

    page.goto(f"{INTELLIGENCE}/network")
    links.locator('li[data-beneficiary="BEN-1000022"] a[data-action="package"]').click()  # no consent
    expect(page.locator('[data-refused="consent"]')).to_contain_text("consent to sharing with law enforcement")


@pytest.mark.parametrize("locale", ["fr-FR", "es-ES"])
@pytest.mark.parametrize("path", ["", "/network"])
def test_the_intelligence_pages_fit_a_phone_and_are_accessible(new_page, shot, locale: str, path: str) -> None:  # noqa: ANN001
    phone = new_page(locale=locale, width=390)
    log_in(phone, "analyst")
    phone.goto(INTELLIGENCE + path)
    expect(phone.locator("html")).to_have_attribute("lang", locale[:2])
    expect(phone.locator(f'[data-entity="{RECRUITER}"]').first).to_be_visible()
    assert fits_the_window(phone)
    assert problems(phone) == []
    shot(phone, "phone")


def test_a_caseworker_cannot_open_the_intelligence_view(page: Page) -> None:
    log_in(page, "caseworker")
    expect(page.locator('a[data-menu="ctm.intelligence"]')).to_have_count(0)
    assert page.goto(INTELLIGENCE).status == 404
    assert page.goto(f"{INTELLIGENCE}/network").status == 404
