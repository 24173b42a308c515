"""The auditor verifies the mission's audit chain from the trail page, in English and in Spanish on a
phone: the page says the chain is intact, with its number of events, and nothing is wider than the window."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from steps import AUDIT, fits_the_window, log_in, open_case

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "lang", "button", "intact"),
    [
        ("en-GB", "en", "Verify the chain", r"Chain intact \(\d+ events, last checked now\)\."),
        ("es-ES", "es", "Verificar la cadena", r"Cadena intacta \(\d+ eventos, verificada ahora mismo\)\."),
    ],
)
def test_the_auditor_verifies_the_chain_on_a_phone(page, new_page, locale, lang, button, intact) -> None:  # noqa: ANN001
    open_case(page)  # the caseworker's opening and views: events to chain
    phone = new_page(locale=locale, width=390)
    log_in(phone, "auditor")
    phone.goto(AUDIT)
    expect(phone.locator("html")).to_have_attribute("lang", lang)
    expect(phone.locator('[data-section="chain"] [data-value="intact"]')).to_have_count(0)  # verified on demand
    phone.get_by_role("button", name=button).click()
    expect(phone.locator('[data-section="chain"] [data-value="intact"]')).to_have_text(re.compile(intact))
    assert fits_the_window(phone)
