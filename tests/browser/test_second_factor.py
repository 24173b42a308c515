"""The second factor in Chromium on a phone (390 px), in English and French: setting it up (its QR code drawn),
the code asked after the password, a wrong code refused, a recovery code taken once, and an HQ administrator's reset,
confirmed first. Each page passes the accessibility checks and fits the phone. Codes are computed with pyotp on the
real clock, as an app would."""

from __future__ import annotations

import re

import pyotp
import pytest
from a11y import PHONE, check_page
from playwright.sync_api import Page, expect
from steps import log_in

from mimosa_host import i18n as host_i18n
from mimosa_host.demo import DEMO_USERS
from mimosa_host.web.second_factor_pages import WRONG_CODE

pytestmark = pytest.mark.browser
DISPLAY_NAMES = {user[0]: user[1] for user in DEMO_USERS}


def say(msgid: str, locale: str, **params: object) -> str:
    return host_i18n.gettext(msgid, locale=locale, **params)


def log_out(page: Page) -> None:
    with page.expect_navigation():
        page.locator("form.logout button").click()


def set_up_second_factor(page: Page, lang: str) -> tuple[pyotp.TOTP, list[str]]:
    """From the header's link: start, add the key to the "app", confirm its code; the recovery codes shown."""
    page.locator("nav.account").get_by_role("link", name=say("Second factor", lang)).click()
    expect(page.locator("main h1")).to_have_text(say("Second factor", lang))
    check_page(page, "second factor, not set up")
    page.get_by_role("button", name=say("Set up a second factor", lang)).click()
    secret = page.locator("code.secret").inner_text()
    expect(page.locator("code.uri")).to_contain_text(f"secret={secret}")
    qr = page.get_by_role("img", name=say("QR code to scan with your authenticator app", lang))
    expect(qr).to_be_visible()  # drawn, though the Content-Security-Policy forbids inline styles
    assert qr.bounding_box()["width"] >= 150  # large enough for a phone's camera to read from a screen
    check_page(page, "second factor, setting up")
    totp = pyotp.TOTP(secret)
    page.get_by_label(say("Code", lang), exact=True).fill(totp.now())
    page.get_by_role("button", name=say("Confirm", lang)).click()
    expect(page.locator("main h1")).to_have_text(say("Recovery codes", lang))
    check_page(page, "recovery codes")
    codes = page.locator("ul.recovery-codes code").all_inner_texts()
    assert len(set(codes)) == 10
    return totp, codes


def type_code(page: Page, lang: str, code: str) -> None:
    page.get_by_label(say("Code", lang), exact=True).fill(code)
    with page.expect_navigation():
        page.locator("form.login button[type=submit]").click()


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("fr-FR", "fr")])
def test_a_caseworker_sets_up_a_second_factor_and_signs_in_with_it_on_a_phone(new_page, locale: str, lang: str) -> None:  # noqa: ANN001
    page = new_page(locale=locale, width=PHONE)
    log_in(page, "caseworker")
    totp, codes = set_up_second_factor(page, lang)
    log_out(page)

    log_in(page, "caseworker")  # the password, then the code
    expect(page).to_have_url(re.compile(r"/login/code$"))
    expect(page.locator("main h1")).to_have_text(say("Second factor", lang))
    check_page(page, "the code after the password")
    type_code(page, lang, "000000" if totp.now() != "000000" else "111111")
    expect(page.locator("main .flash.error")).to_have_text(say(WRONG_CODE, lang))
    check_page(page, "a wrong code")
    type_code(page, lang, codes[0])
    expect(page).to_have_url(re.compile(r"/m/[A-Z]+/beneficiaries$"))
    log_out(page)

    log_in(page, "caseworker")
    type_code(page, lang, codes[0])  # used up
    expect(page.locator("main .flash.error")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/code$"))


@pytest.mark.parametrize(("locale", "lang"), [("en-US", "en"), ("fr-FR", "fr")])
def test_an_hq_administrator_resets_a_lost_second_factor_on_a_phone(new_page, locale: str, lang: str) -> None:  # noqa: ANN001
    caseworker = new_page(locale=locale, width=PHONE)
    log_in(caseworker, "caseworker")
    set_up_second_factor(caseworker, lang)
    log_out(caseworker)

    hq = new_page(locale=locale, width=PHONE)
    log_in(hq, "hq")
    hq.locator("nav.account").get_by_role("link", name=say("Second factors", lang)).click()
    row = hq.locator('tr[data-user="caseworker"]')
    check_page(hq, "second factors of the users")
    row.get_by_role("button", name=say("Reset", lang)).click()
    # Asked first: who, and what it does to them; Cancel goes back with nothing done.
    consequence = say(
        "%(name)s will have to enrol again at their next sign-in; their recovery codes stop working.",
        lang,
        name=f"{DISPLAY_NAMES['caseworker']} (caseworker)",
    )
    expect(hq.locator("main p.confirm-reset")).to_have_text(consequence)
    check_page(hq, "confirming a reset")
    hq.get_by_role("link", name=say("Cancel", lang)).click()
    expect(row.locator(".state")).not_to_have_text(say("Not set up", lang))
    row.get_by_role("button", name=say("Reset", lang)).click()
    hq.get_by_role("button", name=say("Yes, reset", lang)).click()
    expect(hq.locator("main .flash.success")).to_have_text(
        say("The second factor of %(username)s is reset.", lang, username="caseworker")
    )
    expect(row.locator(".state")).to_have_text(say("Not set up", lang))
    check_page(hq, "after the reset")

    log_in(caseworker, "caseworker")  # the password alone again
    expect(caseworker).to_have_url(re.compile(r"/m/[A-Z]+/beneficiaries$"))
