"""Finding a case in Chromium: the caseworker opens the Cases page from the menu, finds a case by its number and
by the person's name (asked of the host over SOAP), and opens it; on a phone's 390 px nothing scrolls sideways."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from steps import BASE, REF, find_case_by_name, find_case_by_number, fits_the_window, log_in, send

from ctm_plugin.domain.case import Case
from mimosa_host.models import Beneficiary

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "width"), [("en-US", 1280), ("es-ES", 390)])
def test_a_caseworker_finds_a_case_by_number_and_by_name_and_opens_it(
    new_page,  # noqa: ANN001
    soap_here,  # noqa: ANN001 - the demo's runtime, its CTM missions reaching this host
    shot,  # noqa: ANN001
    locale: str,
    width: int,
) -> None:
    page = new_page(locale, width)
    log_in(page, "caseworker")
    page.goto(f"{BASE}/case")
    send(page, "open")  # the case of the host's record REF, whatever the page's language
    with soap_here.factory() as s:
        number = s.scalar(sa.select(Case.case_number).where(Case.beneficiary_id == REF))
        family = s.scalar(sa.select(Beneficiary.family_name).where(Beneficiary.beneficiary_id == REF))
    with page.expect_navigation():
        page.locator('a[data-menu="ctm.cases"]').click()
    expect(page.locator(f'table[data-table="cases"] tr[data-case="{number}"]')).to_be_visible()
    assert fits_the_window(page)

    find_case_by_number(page, number)
    rows = page.locator('table[data-table="cases"] tr[data-case]')
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-case", number)
    assert fits_the_window(page)
    shot(page, "found-by-number")
    rows.first.locator('a[data-action="open-case"]').click()
    expect(page).to_have_url(f"{page.url.split('/m/')[0]}/m/THA/plugins/ctm/records/beneficiary/{REF}/case")

    find_case_by_name(page, family)
    row = page.locator(f'table[data-table="cases"] tr[data-case="{number}"]')
    expect(row).to_be_visible()
    assert fits_the_window(page)
    shot(page, "found-by-name")
    row.locator('a[data-action="open-case"]').click()
    expect(page.locator('nav.tabs a[data-tab="ctm.screening"]')).to_be_visible()
