"""Sealed at rest, shown in Chromium: the perpetrator's alias and the narratives a caseworker recorded are on the
process tab, though the database holds them only sealed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from steps import BASE, REF, log_in

from ctm_plugin.domain.case import Case
from ctm_plugin.security import crypto
from ctm_plugin.services import cases, process
from mimosa_host.context import build_context
from mimosa_host.models import Mission, User

pytestmark = pytest.mark.browser

ALIAS = "Browsertest-Alias-Grouper-3391"
NARRATIVE = "Browsertest narrative: crossed the river at night 4470"


def test_a_caseworker_sees_the_sealed_alias_and_narratives_on_the_process_tab(page, demo) -> None:  # noqa: ANN001
    with demo.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == "caseworker"))
        ctx, _enabled = build_context(s, demo.host, demo.factory, s.get(Mission, "THA"), user, "en", plugin="ctm")
    case_id = cases.open_case(ctx, REF, {"opened_on": "2026-02-03"})

    def version() -> int:
        with demo.factory() as s:
            return s.get(Case, case_id).version

    process.add_event(ctx, case_id, {"version": version(), "type": "Recruitment", "country": "KHM", "notes": NARRATIVE})
    process.add_perpetrator(ctx, case_id, {"version": version(), "alias": ALIAS, "roles": ["Transporter"]})
    with demo.engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT alias FROM ctm_perpetrator WHERE case_id = :id"), {"id": case_id})
    assert crypto.is_sealed(stored) and ALIAS not in stored

    log_in(page, "caseworker")
    page.goto(f"{BASE}/process")
    expect(page.locator("tr[data-perpetrator]").first).to_contain_text(ALIAS)
    expect(page.locator("body")).to_contain_text(NARRATIVE)
