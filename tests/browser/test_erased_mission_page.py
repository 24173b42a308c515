"""Crypto-erasure seen in Chromium on a phone: once THA's keys are erased, the process tab of a THA case says its
record cannot be decrypted, in place of the alias and the narrative, and the page still works."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from a11y import PHONE, check_page
from playwright.sync_api import expect
from steps import BASE, REF, log_in

from ctm_plugin.domain.case import Case
from ctm_plugin.security.keys import FileKeyStore, default_key_file, key_store, use_key_store
from ctm_plugin.services import cases, process
from mimosa_host.context import build_context
from mimosa_host.models import Mission, User

pytestmark = pytest.mark.browser

ALIAS = "Erasetest-Alias-Pike-8802"
NARRATIVE = "Erasetest narrative: worked nights at the port 6613"


@pytest.fixture
def own_keys(tmp_path: Path) -> Iterator[FileKeyStore]:
    """A copy of the run's key file that this test erases THA's keys in (the run's file stays whole)."""
    key_store().current("THA")
    copy = tmp_path / "keys.json"
    shutil.copyfile(default_key_file(), copy)
    store = FileKeyStore(copy)
    use_key_store(store)
    yield store
    use_key_store(None)


def test_an_erased_missions_case_says_it_cannot_be_decrypted(new_page, demo, own_keys: FileKeyStore) -> None:  # noqa: ANN001
    with demo.factory() as s:
        user = s.scalar(sa.select(User).where(User.username == "caseworker"))
        ctx, _enabled = build_context(s, demo.host, demo.factory, s.get(Mission, "THA"), user, "en", plugin="ctm")
    case_id = cases.open_case(ctx, REF, {"opened_on": "2026-02-03"})

    def version() -> int:
        with demo.factory() as s:
            return s.get(Case, case_id).version

    process.add_event(ctx, case_id, {"version": version(), "type": "Recruitment", "country": "KHM", "notes": NARRATIVE})
    process.add_perpetrator(ctx, case_id, {"version": version(), "alias": ALIAS, "roles": ["Transporter"]})
    own_keys.erase("THA")

    page = new_page(width=PHONE)
    log_in(page, "caseworker")
    page.goto(f"{BASE}/process")
    expect(page.locator("tr[data-perpetrator]").first).to_contain_text("This record cannot be decrypted")
    body = page.locator("body")
    expect(body).not_to_contain_text(ALIAS)
    expect(body).not_to_contain_text(NARRATIVE)
    check_page(page, "the process tab of an erased mission's case")
