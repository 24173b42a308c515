"""Crypto-erasure seen in Chromium on a phone: once THA's keys are erased, the process tab of a THA case says its
record cannot be decrypted, in place of the alias and the narrative, and the page still works."""

from __future__ import annotations

import pytest
from a11y import PHONE, check_page
from playwright.sync_api import expect
from steps import BASE, case_with_a_story, log_in

from ctm_plugin.security.keys import FileKeyStore

pytestmark = pytest.mark.browser

ALIAS = "Erasetest-Alias-Pike-8802"
NARRATIVE = "Erasetest narrative: worked nights at the port 6613"


def test_an_erased_missions_case_says_it_cannot_be_decrypted(new_page, demo, own_keys: FileKeyStore) -> None:  # noqa: ANN001
    case_with_a_story(demo, ALIAS, NARRATIVE)
    own_keys.erase("THA")

    page = new_page(width=PHONE)
    log_in(page, "caseworker")
    page.goto(f"{BASE}/process")
    expect(page.locator("tr[data-perpetrator]").first).to_contain_text("This record cannot be decrypted")
    body = page.locator("body")
    expect(body).not_to_contain_text(ALIAS)
    expect(body).not_to_contain_text(NARRATIVE)
    check_page(page, "the process tab of an erased mission's case")
