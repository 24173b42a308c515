"""The web shell as users meet it: login, sessions, CSRF, mission scope, tabs and 404s."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from mimosa_host.models import PluginEnablement, User
from mimosa_host.passwords import FREE_ATTEMPTS

THA_BENEFICIARY = "BEN-1000001"
KHM_BENEFICIARY = "BEN-2000001"
MDA_BENEFICIARY = "BEN-3000001"
GENERIC = "Wrong username or password"


def ct_url(mission: str, ref: str) -> str:
    return f"/m/{mission}/plugins/ctm/records/beneficiary/{ref}/case"


def text(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


# -- login and sessions -----------------------------------------------------------------


def test_wrong_password_and_unknown_user_get_the_same_generic_message(web):
    wrong = web.login("caseworker", "not-the-password")
    unknown = web.login("nobody-by-this-name", "whatever-password")
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC in text(wrong) and GENERIC in text(unknown)
    assert web.get("/m/THA/beneficiaries").status_code == 302  # still logged out


def test_repeated_failures_slow_the_account_down_even_for_the_right_password(web, demo):
    for _ in range(FREE_ATTEMPTS):
        assert web.login("caseworker", "wrong-guess").status_code == 401
    resting = web.login("caseworker")  # right password, but the account is resting
    assert resting.status_code == 401 and GENERIC in text(resting)
    with demo.factory() as s, s.begin():
        user = s.scalar(sa.select(User).where(User.username == "caseworker"))
        assert user.failed_logins == FREE_ATTEMPTS
        user.last_failed_login -= timedelta(minutes=15)  # the rest is over
    assert web.login("caseworker").status_code == 302


def test_other_accounts_are_not_slowed_by_one_account_failing(web):
    for _ in range(FREE_ATTEMPTS + 2):
        web.login("caseworker", "wrong-guess")
    assert web.login("movement").status_code == 302


def test_logout_invalidates_a_copied_session_cookie(login, app):
    browser = login("caseworker")
    stolen = browser.client.get_cookie("__Host-mimosa").value
    browser.get("/m/THA/beneficiaries")
    assert browser.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("__Host-mimosa", stolen, domain="localhost")
    response = thief.get("/m/THA/beneficiaries", base_url="https://localhost")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_idle_session_expires(login):
    browser = login("caseworker")
    with browser.client.session_transaction(base_url="https://localhost") as session:
        session["seen"] -= 16 * 60
    response = browser.get("/m/THA/beneficiaries")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_cookie_is_secure_httponly_and_host_prefixed(web):
    response = web.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-mimosa=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_login_does_not_redirect_off_site(web):
    web.get("/login")
    response = web.post(
        "/login?next=//evil.example/steal", {"username": "caseworker", "password": "demo-caseworker-2026"}
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_pages_carry_protective_headers(login):
    response = login("caseworker").get(f"/m/THA/beneficiaries/{THA_BENEFICIARY}")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- CSRF -------------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused_and_changes_nothing(login, demo):
    admin = login("admin")
    admin.get("/m/MDA/admin/plugins/ctm")
    settings = {
        "soap_base_url": "http://127.0.0.1:9/",
        "soap_username": "ctm-mda",
        "soap_password": "a-long-password",
    }
    response = admin.post("/m/MDA/admin/plugins/ctm", settings, csrf=False)
    assert response.status_code == 400
    assert "did not come from this site" in text(response)
    forged = admin.post("/m/MDA/admin/plugins/ctm", {**settings, "csrf_token": "forged"}, csrf=False)
    assert forged.status_code == 400
    with demo.factory() as s:
        assert s.scalar(sa.select(PluginEnablement).where(PluginEnablement.mission_code == "MDA")) is None


def test_login_without_csrf_token_is_refused(web):
    web.get("/login")
    response = web.post("/login", {"username": "caseworker", "password": "demo-caseworker-2026"}, csrf=False)
    assert response.status_code == 400


# -- missions, tabs and 404s ------------------------------------------------------------


def test_mission_switcher_lists_only_the_users_missions(login):
    page = text(login("khm.caseworker").get("/m/KHM/beneficiaries"))
    assert 'data-mission="KHM"' in page
    assert 'data-mission="THA"' not in page and 'data-mission="MDA"' not in page


def test_ct_tab_shows_where_the_plugin_is_enabled_and_not_elsewhere(login):
    browser = login("caseworker")
    assert 'data-tab="ctm.case"' in text(browser.get(f"/m/THA/beneficiaries/{THA_BENEFICIARY}"))
    assert 'data-tab="ctm.case"' in text(browser.get(f"/m/KHM/beneficiaries/{KHM_BENEFICIARY}"))
    assert 'data-tab="ctm.case"' not in text(browser.get(f"/m/MDA/beneficiaries/{MDA_BENEFICIARY}"))


def test_ct_page_opens_for_a_caseworker_in_an_enabled_mission(login):
    response = login("caseworker").get(ct_url("THA", THA_BENEFICIARY))
    assert response.status_code == 200
    assert "Counter-trafficking case" in text(response)
    assert 'aria-current="page"' in text(response)


def test_plugin_page_in_a_mission_where_the_plugin_is_disabled_is_404(login):
    assert login("caseworker").get(ct_url("MDA", MDA_BENEFICIARY)).status_code == 404


def test_plugin_page_in_a_mission_where_the_user_holds_no_role_is_404(login):
    browser = login("khm.caseworker")
    assert browser.get(ct_url("THA", THA_BENEFICIARY)).status_code == 404
    assert browser.get(f"/m/THA/beneficiaries/{THA_BENEFICIARY}").status_code == 404


def test_a_record_of_another_mission_is_404_even_under_the_users_own_mission(login):
    browser = login("khm.caseworker")
    assert browser.get(f"/m/KHM/beneficiaries/{THA_BENEFICIARY}").status_code == 404
    assert browser.get(ct_url("KHM", THA_BENEFICIARY)).status_code == 404


def test_ct_tab_needs_the_case_view_permission(login):
    integrator = login("integrator")  # CT integrator: mappings and sync, no case view
    assert 'data-tab="ctm.case"' not in text(integrator.get(f"/m/THA/beneficiaries/{THA_BENEFICIARY}"))
    assert integrator.get(ct_url("THA", THA_BENEFICIARY)).status_code == 404


def test_admin_pages_are_404_for_users_who_cannot_manage_plugins(login):
    assert login("caseworker").get("/m/THA/admin/plugins").status_code == 404


def test_unauthenticated_requests_go_to_login(web):
    for url in ("/m/THA/beneficiaries", ct_url("THA", THA_BENEFICIARY), "/m/THA/admin/plugins"):
        response = web.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_beneficiary_search_finds_by_document_number_within_the_mission(login, demo):
    from mimosa_host.models import Document

    with demo.factory() as s:
        number = s.scalar(sa.select(Document.number).where(Document.beneficiary_id == THA_BENEFICIARY))
    browser = login("caseworker")
    assert THA_BENEFICIARY in text(browser.get(f"/m/THA/beneficiaries?q={number}"))
    assert THA_BENEFICIARY not in text(browser.get(f"/m/KHM/beneficiaries?q={number}"))


# -- admin settings form ----------------------------------------------------------------


def test_settings_errors_are_shown_per_field_and_nothing_is_enabled(login, demo):
    admin = login("admin")
    admin.get("/m/MDA/admin/plugins/ctm")
    response = admin.post(
        "/m/MDA/admin/plugins/ctm",
        {
            "soap_base_url": "not a url",
            "soap_username": "",
            "soap_password": "short",
            "case_number_prefix": "bad prefix",
        },
    )
    assert response.status_code == 422
    page = text(response)
    for field in ("soap_base_url", "soap_username", "soap_password", "case_number_prefix"):
        assert f'data-field="{field}"' in page
    assert page.count('class="field-error"') == 4
    with demo.factory() as s:
        assert s.scalar(sa.select(PluginEnablement).where(PluginEnablement.mission_code == "MDA")) is None


def test_the_stored_secret_is_never_sent_back_to_the_browser(login):
    page = text(login("admin").get("/m/THA/admin/plugins/ctm"))
    assert "demo-soap-tha-secret" not in page
    assert "ctm-tha" in page  # the non-secret settings are shown


def test_language_switch_changes_the_page_language(login):
    browser = login("caseworker")
    browser.get("/m/THA/beneficiaries")
    browser.post("/locale", {"locale": "es", "next": "/m/THA/beneficiaries"})
    assert '<html lang="es">' in text(browser.get("/m/THA/beneficiaries"))
