"""Sealed at rest, shown in Chromium: the perpetrator's alias and the narratives a caseworker recorded are on the
process tab, though the database holds them only sealed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from steps import BASE, case_with_a_story, log_in

from ctm_plugin.security import crypto

pytestmark = pytest.mark.browser

ALIAS = "Browsertest-Alias-Grouper-3391"
NARRATIVE = "Browsertest narrative: crossed the river at night 4470"


def test_a_caseworker_sees_the_sealed_alias_and_narratives_on_the_process_tab(page, demo) -> None:  # noqa: ANN001
    case_id = case_with_a_story(demo, ALIAS, NARRATIVE)
    with demo.engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT alias FROM ctm_perpetrator WHERE case_id = :id"), {"id": case_id})
    assert crypto.is_sealed(stored) and ALIAS not in stored

    log_in(page, "caseworker")
    page.goto(f"{BASE}/process")
    expect(page.locator("tr[data-perpetrator]").first).to_contain_text(ALIAS)
    expect(page.locator("body")).to_contain_text(NARRATIVE)
