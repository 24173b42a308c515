"""A research export in Chromium: the researcher requests THA's cases of a year, ``hq`` approves, the
researcher downloads the CSV once (every combination of quasi-identifiers at least k times), and a second
download is refused with a message that says why."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from steps import RESEARCH, approve_research_export, log_in, request_research_export, seed_consenting_cases

from ctm_plugin.research import small_cell_k

pytestmark = pytest.mark.browser
YEAR = 2025


def test_the_researcher_requests_hq_approves_and_the_export_downloads_once(
    new_page,  # noqa: ANN001
    demo,  # noqa: ANN001
    shot,  # noqa: ANN001
    guide_shot,  # noqa: ANN001
) -> None:
    seed_consenting_cases(demo, 3 * small_cell_k(), YEAR)
    researcher: Page = new_page()
    log_in(researcher, "researcher")
    request_research_export(researcher, YEAR)
    expect(researcher.locator("tr[data-research-export][data-state='requested']")).to_have_count(1)
    guide_shot(researcher, "research-export-requested")

    hq: Page = new_page()
    log_in(hq, "hq")
    hq.goto(f"{RESEARCH}/approvals")
    expect(hq.locator("table[data-table='research-approvals'] tr[data-state='requested']")).to_have_count(1)
    guide_shot(hq, "research-approvals")
    approve_research_export(hq)
    shot(hq, "research-approvals")

    researcher.goto(f"{RESEARCH}/exports")
    row = researcher.locator("tr[data-research-export][data-state='approved']")
    expect(row.locator("[data-level='citizenship']")).to_be_visible()  # the report: what would be generalised
    guide_shot(researcher, "research-export-approved")
    button = row.locator("form button[type='submit']")
    with researcher.expect_download() as download:
        button.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 * small_cell_k()
    quasi = ("ageBroad", "gender", "citizenship", "CountryOfExploitation", "yearOfRegistration")
    assert min(Counter(tuple(r[q] for q in quasi) for r in rows).values()) >= small_cell_k()
    assert "THA-CT-RES" not in text and "BEN-7" not in text

    with researcher.expect_navigation() as again:
        button.click()  # the page still shows the button: the server refuses
    assert again.value.status == 409
    expect(researcher.locator(".ctm-problem")).to_contain_text("downloaded once")
    researcher.goto(f"{RESEARCH}/exports")
    expect(researcher.locator("tr[data-research-export][data-state='downloaded']")).to_have_count(1)
    expect(researcher.locator("tr[data-research-export] form")).to_have_count(0)
    shot(researcher, "research-exports")
