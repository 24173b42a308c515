"""The auditor in Chromium: a case's trail shows the caseworker's view and change, the mission's
trail filtered by user, its CSV downloaded, the case summary printed "Confidential"; and in French
on a phone, nothing wider than the window."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from steps import AUDIT, BASE, filter_audit_trail, fits_the_window, log_in, open_case, read_audit_trail, submit

pytestmark = pytest.mark.browser


def change_victim_context(page: Page) -> None:
    page.goto(f"{BASE}/case")
    page.locator('form[data-form="victim"] [name="age_first_trafficked"]').fill("93")
    submit(page, "victim", "Save the victim context")


def test_the_auditor_reads_who_saw_and_changed_the_case_exports_it_and_prints_it(page: Page, new_page, shot) -> None:  # noqa: ANN001
    open_case(page)
    change_victim_context(page)

    auditor = new_page()
    log_in(auditor, "auditor")
    auditor.goto(f"{BASE}/case")
    auditor.locator('a[data-action="audit-trail"]').click()
    rows = read_audit_trail(auditor)
    by_caseworker = {row["code"]: row for row in rows if row["username"] == "caseworker"}
    assert by_caseworker["case.view"]["action"] == "Viewed the case"
    assert by_caseworker["case.victim.edit"]["action"] == "Changed the victim context"
    assert by_caseworker["case.victim.edit"]["groups"] == "Victim context"
    assert "93" not in auditor.locator('table[data-table="audit"]').inner_text()  # never the values
    shot(auditor, "case-trail")

    auditor.locator('a[data-menu="ctm.audit"]').click()
    filter_audit_trail(auditor, username="caseworker")
    rows = read_audit_trail(auditor)
    assert rows and {row["username"] for row in rows} == {"caseworker"}
    assert "case.open" in {row["code"] for row in rows}
    with auditor.expect_download() as download:
        auditor.locator('a[data-action="csv"]').click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:3] == ["Time", "User", "Action"] and {line[1] for line in lines[1:]} == {"caseworker"}
    shot(auditor, "mission-trail")

    auditor.goto(f"{BASE}/print")
    auditor.emulate_media(media="print")
    expect(auditor.locator('[data-mark="confidential"]')).to_have_text("Confidential")
    expect(auditor.locator("header.top")).to_be_hidden()
    expect(auditor.locator('[data-value="printed"]')).to_contain_text("Printed by Sam Auditor")
    shot(auditor, "print")


def test_the_audit_pages_fit_a_phone_in_french(page: Page, new_page) -> None:  # noqa: ANN001
    open_case(page)
    phone = new_page(locale="fr-FR", width=390)
    log_in(phone, "auditor")
    for url in (AUDIT, f"{BASE}/audit", f"{BASE}/print"):
        phone.goto(url)
        expect(phone.locator("html")).to_have_attribute("lang", "fr")
        assert fits_the_window(phone), url
    phone.goto(AUDIT)
    assert phone.locator("h2").first.inner_text().startswith("Journal d’audit")
