"""The host's web shell as a user sees it in Chromium: login, missions, the CT tab, admin, languages.

Every test runs against the demo data (CTM enabled in THA and KHM, not in MDA) served
over real HTTP; each step that matters leaves a full-page screenshot in
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import base64
import json
import re
import zlib

import pytest
from playwright.sync_api import Page, expect

from ctm_plugin import i18n as ctm_i18n
from mimosa_host import i18n as host_i18n
from mimosa_host.demo import password_for

pytestmark = pytest.mark.browser

SESSION_COOKIE = "__Host-mimosa"
CT_TAB = 'a[data-tab="ctm.case"]'
DETAILS_TAB = 'a[data-tab="details"]'
CT_LABEL = "Counter-trafficking"


# -- helpers ----------------------------------------------------------------------------


def host_text(msgid: str, locale: str = "en", **params: object) -> str:
    return host_i18n.gettext(msgid, locale=locale, **params)


def ctm_text(msgid: str, locale: str = "en") -> str:
    return ctm_i18n.translations(locale).gettext(msgid)


def log_in(page: Page, username: str, password: str | None = None):  # noqa: ANN201 - the response
    """Fill and submit the login form; returns the response of the page the form leads to."""
    page.goto("/login")
    form = page.locator("form.login")
    form.locator('input[name="username"]').fill(username)
    form.locator('input[name="password"]').fill(password if password is not None else password_for(username))
    with page.expect_navigation() as navigation:
        form.locator('button[type="submit"]').click()
    return navigation.value


def switch_mission(page: Page, code: str) -> None:
    switcher = page.locator("#mission-switcher")
    switcher.locator("summary").click()
    switcher.locator(f'a[data-mission="{code}"]').click()
    expect(page).to_have_url(re.compile(rf"/m/{code}/beneficiaries$"))
    expect(switcher.locator("summary strong")).to_have_text(code)


def open_first_beneficiary(page: Page) -> str:
    """From a beneficiary list, open the first beneficiary; returns its ID."""
    link = page.locator("table.list tbody tr a").first
    ref = link.inner_text().strip()
    link.click()
    expect(page).to_have_url(re.compile(rf"/beneficiaries/{re.escape(ref)}$"))
    expect(page.locator("h1 small")).to_have_text(ref)
    expect(page.locator(DETAILS_TAB)).to_have_attribute("aria-current", "page")
    return ref


def expect_not_found(page: Page, response) -> None:  # noqa: ANN001 - a playwright Response
    assert response is not None and response.status == 404, response and response.status
    expect(page.locator("main h1")).to_have_text(host_text("Page not found"))  # what happened, not "404"
    expect(page).to_have_title(re.compile("^" + re.escape(host_text("Page not found"))))
    expect(page.locator("main .error-message")).to_have_text(
        host_text("The page does not exist, or it is not open to you.")
    )


def session_data(page: Page) -> dict:
    """The (signed, not encrypted) Flask session the browser holds, decoded; {} if none."""
    cookie = next((c for c in page.context.cookies() if c["name"] == SESSION_COOKIE), None)
    if cookie is None:
        return {}
    value = cookie["value"]
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


# -- 1. missions and the CT tab -----------------------------------------------------------


def test_caseworker_sees_the_ct_tab_only_where_the_plugin_is_enabled(page: Page, shot) -> None:
    response = log_in(page, "caseworker")
    assert response.status == 200
    # The landing page: the beneficiary list of the caseworker's first mission.
    expect(page).to_have_url(re.compile(r"/m/[A-Z]{3}/beneficiaries$"))
    expect(page.locator("main h1")).to_contain_text(host_text("Beneficiaries"))
    expect(page.locator("header .who")).to_have_text("Dara Caseworker")
    shot(page, "landing")

    switch_mission(page, "THA")
    expect(page.locator("table.list tbody tr")).not_to_have_count(0)
    shot(page, "tha-list")
    ref = open_first_beneficiary(page)
    assert ref.startswith("BEN-1")  # a THA record
    ct_tab = page.locator(CT_TAB)
    expect(ct_tab).to_be_visible()
    expect(ct_tab).to_have_text(ctm_text(CT_LABEL))
    expect(ct_tab).not_to_have_attribute("aria-current", "page")
    shot(page, "tha-details")

    ct_tab.click()
    expect(page).to_have_url(re.compile(rf"/m/THA/plugins/ctm/records/beneficiary/{ref}/case$"))
    expect(page.locator(CT_TAB)).to_have_attribute("aria-current", "page")
    expect(page.locator(DETAILS_TAB)).not_to_have_attribute("aria-current", "page")
    body = page.locator('.tab-body .plugin-page[data-plugin="ctm"]')
    expect(body.locator("h2")).to_have_text(ctm_text("Counter-trafficking case"))
    expect(body.locator(".ctm-empty")).to_contain_text("THA")
    expect(page.locator("h1 small")).to_have_text(ref)  # still the same record's frame
    shot(page, "tha-ct")

    switch_mission(page, "MDA")
    ref = open_first_beneficiary(page)
    assert ref.startswith("BEN-3")
    expect(page.locator("nav.tabs a")).to_have_count(1)  # only the host's details tab
    expect(page.locator(CT_TAB)).to_have_count(0)
    shot(page, "mda-details")

    switch_mission(page, "KHM")
    ref = open_first_beneficiary(page)
    assert ref.startswith("BEN-2")
    expect(page.locator(CT_TAB)).to_be_visible()
    page.locator(CT_TAB).click()
    expect(page.locator('.plugin-page[data-plugin="ctm"] .ctm-empty')).to_contain_text("KHM")


# -- 2. a user with a CT role but no host role ----------------------------------------------


def test_researcher_cannot_open_records(page: Page, shot) -> None:
    # ctm.researcher gives trends only (issue 11's pages); without host.officer there
    # is no host.records.view, and without ctm.case.view no CT page: all of them are 404.
    log_in(page, "researcher")
    expect(page.locator("header .who")).to_have_text("Noor Researcher")  # logged in
    assert "uid" in session_data(page)
    shot(page, "landing")

    for code, ref in (("THA", "BEN-1000001"), ("KHM", "BEN-2000001"), ("MDA", "BEN-3000001")):
        expect_not_found(page, page.goto(f"/m/{code}/beneficiaries"))
        expect_not_found(page, page.goto(f"/m/{code}/beneficiaries/{ref}"))
        expect(page.locator("body")).not_to_contain_text(ref)
        expect_not_found(page, page.goto(f"/m/{code}/movements"))
    shot(page, "beneficiary-404")
    expect_not_found(page, page.goto("/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case"))
    expect_not_found(page, page.goto("/m/THA/admin/plugins"))


def test_researcher_is_not_sent_to_pages_they_cannot_open(page: Page, shot) -> None:
    # Logging in must not land on an error page, and the menu must not offer links that 404.
    response = log_in(page, "researcher")
    shot(page, "landing")
    assert response.status == 200, f"the researcher lands on {page.url} with status {response.status}"
    expect(page.locator("main h1")).not_to_have_text("404")
    expect(page.locator('nav.main a[href$="/beneficiaries"]')).to_have_count(0)
    expect(page.locator('nav.main a[href$="/movements"]')).to_have_count(0)


# -- 3. the mission administrator enables and disables the CTM ---------------------------


def test_admin_enables_and_disables_the_ctm_in_a_mission(page: Page, new_page, shot) -> None:  # noqa: ANN001
    admin = page
    log_in(admin, "admin")
    switch_mission(admin, "MDA")
    admin.locator("nav.main").get_by_role("link", name=host_text("Administration")).click()
    expect(admin).to_have_url(re.compile(r"/m/MDA/admin/plugins$"))
    row = admin.locator('tr[data-plugin="ctm"]')
    expect(row.locator(".state")).to_have_text(host_text("Disabled"))
    shot(admin, "plugins")
    row.locator("a").first.click()
    expect(admin).to_have_url(re.compile(r"/m/MDA/admin/plugins/ctm$"))
    expect(admin.locator("dd.state")).to_contain_text(host_text("Disabled"))
    form = admin.locator("form.settings")
    field = lambda name: form.locator(f'.field[data-field="{name}"]')  # noqa: E731

    # A bad URL and the required fields left empty: errors next to each field, nothing enabled.
    field("soap_base_url").locator("input").fill("not a url")
    with admin.expect_navigation() as navigation:
        form.get_by_role("button", name=host_text("Enable in this mission")).click()
    assert navigation.value.status == 422
    summary = admin.locator("main .flash.error")
    expect(summary.locator("p")).to_have_text(
        host_text("The settings were not saved: correct the fields marked below.")
    )
    # The summary names each field in error by its label, and leads to it.
    expect(summary.locator("li")).to_have_text(
        [
            f"{ctm_text(label)}: {ctm_text(error)}"
            for label, error in (
                ("Host SOAP base URL", "Enter a full http or https address."),
                ("SOAP API user", "This field is required."),
                ("SOAP API password", "This field is required."),
            )
        ]
    )
    expect(summary.get_by_role("link", name=ctm_text("SOAP API user"))).to_have_attribute("href", "#f-soap_username")
    expect(field("soap_username").locator("input#f-soap_username")).to_have_count(1)
    expect(field("soap_base_url").locator(".field-error")).to_have_text(ctm_text("Enter a full http or https address."))
    expect(field("soap_username").locator(".field-error")).to_have_text(ctm_text("This field is required."))
    expect(field("soap_password").locator(".field-error")).to_have_text(ctm_text("This field is required."))
    expect(field("case_number_prefix").locator(".field-error")).to_have_count(0)  # blank: the default applies
    for name in ("soap_base_url", "soap_username", "soap_password"):
        expect(field(name)).to_have_class(re.compile(r"\binvalid\b"))
    expect(field("soap_base_url").locator("input")).to_have_value("not a url")  # what was typed is kept
    expect(admin.locator("dd.state")).to_contain_text(host_text("Disabled"))
    expect(admin.locator("form.disable")).to_have_count(0)
    shot(admin, "invalid-settings")

    # Valid settings, tried first: nothing answers at that address, and nothing is saved.
    field("soap_base_url").locator("input").fill("http://127.0.0.1:9/")
    field("soap_username").locator("input").fill("ctm-mda")
    field("soap_password").locator("input").fill("mda-soap-secret")
    field("case_number_prefix").locator("input").fill("MDA-CT")
    with admin.expect_navigation():
        form.get_by_role("button", name=host_text("Test the connection")).click()
    finding = admin.locator('[data-section="check"] li[data-ok="no"]')
    expect(finding).to_have_attribute("data-setting", "soap_base_url")
    expect(finding).to_contain_text(
        ctm_text(
            "The host cannot be reached at the mission's address (%(code)s): check the address, or try again later."
        )
        % {"code": "CONNECT_FAILED"}
    )
    expect(admin.locator("dd.state")).to_contain_text(host_text("Disabled"))
    expect(field("soap_username").locator("input")).to_have_value("ctm-mda")  # the form keeps what was typed
    shot(admin, "connection-test")

    # Saved: the plugin is enabled (the password typed again: the test does not keep it).
    field("soap_password").locator("input").fill("mda-soap-secret")
    with admin.expect_navigation():
        form.get_by_role("button", name=host_text("Enable in this mission")).click()
    expect(admin).to_have_url(re.compile(r"/m/MDA/admin/plugins/ctm$"))
    expect(admin.locator("main .flash.success")).to_have_text(
        host_text("The plugin %(name)s is enabled in this mission.", name="ctm")
    )
    expect(admin.locator("dd.state")).to_contain_text(host_text("Enabled"))
    expect(admin.locator("form.settings .field-error")).to_have_count(0)
    expect(field("case_number_prefix").locator("input")).to_have_value("MDA-CT")
    expect(field("soap_password").locator("input")).to_have_value("")  # the secret is never sent back
    assert "mda-soap-secret" not in admin.content()
    shot(admin, "enabled")

    # A caseworker, in a browser of their own, now sees the CT tab in MDA.
    caseworker = new_page()
    log_in(caseworker, "caseworker")
    switch_mission(caseworker, "MDA")
    open_first_beneficiary(caseworker)
    expect(caseworker.locator(CT_TAB)).to_be_visible()
    caseworker.locator(CT_TAB).click()
    expect(caseworker.locator('.plugin-page[data-plugin="ctm"] .ctm-empty')).to_contain_text("MDA")
    ct_url = caseworker.url
    caseworker.go_back()
    shot(caseworker, "caseworker-tab")

    # The admin disables it again; the caseworker loses the tab and the CT page.
    with admin.expect_navigation():
        admin.locator("form.disable button").click()
    expect(admin.locator("main .flash.success")).to_have_text(
        host_text("The plugin %(name)s is disabled in this mission; its data is kept.", name="ctm")
    )
    expect(admin.locator("dd.state")).to_contain_text(host_text("Disabled"))
    expect(admin.locator("form.disable")).to_have_count(0)
    shot(admin, "disabled")

    caseworker.reload()
    expect(caseworker.locator(DETAILS_TAB)).to_be_visible()
    expect(caseworker.locator(CT_TAB)).to_have_count(0)
    shot(caseworker, "caseworker-no-tab")
    expect_not_found(caseworker, caseworker.goto(ct_url))


# -- 4. languages -------------------------------------------------------------------------


@pytest.mark.parametrize(("locale", "language"), [("fr", "Français"), ("es", "Español")], ids=["fr", "es"])
def test_language_switch_translates_host_frame_and_plugin_tab(page: Page, shot, locale: str, language: str) -> None:
    log_in(page, "caseworker")
    switch_mission(page, "THA")
    ref = open_first_beneficiary(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.locator("form.locale").get_by_role("button", name=language).click()
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page).to_have_url(re.compile(rf"/m/THA/beneficiaries/{ref}$"))  # back on the same page
    expect(page.locator(f'form.locale button[value="{locale}"]')).to_have_attribute("aria-current", "true")
    shot(page, "switched")

    # Compare with the catalogs, and make sure they do translate (else this would pass in English).
    beneficiaries = host_text("Beneficiaries", locale=locale)
    ct_label = ctm_text(CT_LABEL, locale=locale)
    assert beneficiaries != "Beneficiaries", f"the host catalog has no {locale} translation of 'Beneficiaries'"
    assert ct_label != CT_LABEL, f"the CTM catalog has no {locale} translation of {CT_LABEL!r}"
    expect(page.locator('nav.main a[href$="/beneficiaries"]')).to_have_text(beneficiaries)
    expect(page.locator(CT_TAB)).to_have_text(ct_label)
    expect(page.locator(DETAILS_TAB)).to_have_text(host_text("Details", locale=locale))

    # The choice sticks for the rest of the session, plugin pages included.
    page.locator(CT_TAB).click()
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator('.plugin-page[data-plugin="ctm"] h2')).to_have_text(
        ctm_text("Counter-trafficking case", locale=locale)
    )
    shot(page, "ct-page")


# -- 5. wrong password --------------------------------------------------------------------


def test_wrong_password_shows_a_generic_message_and_opens_no_session(page: Page, shot) -> None:
    generic = host_text("Wrong username or password.")

    response = log_in(page, "caseworker", "not-the-password")
    assert response.status == 401
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator("main .flash.error")).to_have_text(generic)
    expect(page.locator('form.login input[name="password"]')).to_have_value("")
    expect(page.locator("header .who")).to_have_count(0)
    expect(page.locator("form.logout")).to_have_count(0)
    expect(page.locator("#mission-switcher")).to_have_count(0)
    assert "uid" not in session_data(page)
    shot(page, "wrong-password")

    # An unknown user reads exactly the same message.
    log_in(page, "nobody-by-this-name", "whatever-password")
    expect(page.locator("main .flash.error")).to_have_text(generic)
    assert "uid" not in session_data(page)

    # And no page behind the login opens.
    page.goto("/m/THA/beneficiaries")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("form.login")).to_be_visible()
