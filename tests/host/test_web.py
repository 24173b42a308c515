"""The web shell as users meet it: login, sessions, CSRF, mission scope, tabs and 404s."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from mimosa_host.accounts import add_user, grant
from mimosa_host.db import transaction
from mimosa_host.models import PluginEnablement
from mimosa_host.passwords import hash_password
from mimosa_host.plugin_api import DatabaseInfo, PluginInfo, Refusal, hookimpl
from mimosa_host.throttle import FREE_PER_ACCOUNT
from mimosa_host.web import SECRET_KEY_ENV, create_app

THA_BENEFICIARY = "BEN-1000001"
KHM_BENEFICIARY = "BEN-2000001"
MDA_BENEFICIARY = "BEN-3000001"
GENERIC = "Wrong username or password."


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


def test_other_accounts_are_not_slowed_by_one_account_failing(web):
    for _ in range(FREE_PER_ACCOUNT + 2):
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
            "soap_password": "a\u0085b",  # a control character; any length the host issued is fine
            "case_number_prefix": "bad prefix",
        },
    )
    assert response.status_code == 422
    page = text(response)
    for field in ("soap_base_url", "soap_username", "soap_password", "case_number_prefix"):
        assert f'data-field="{field}"' in page
    assert page.count('class="field-error"') == 4
    # The summary at the top names the fields in error by their labels, each leading to its field.
    summary = re.search(r'<ul class="error-summary">(.*?)</ul>', page, re.S).group(1)
    listed = re.findall(r'<li data-field="(\w+)"><a href="#f-(\w+)">([^<]+)</a>: ', summary)
    assert all(name == anchor for name, anchor, _label in listed)
    assert [(name, label) for name, _anchor, label in listed] == [
        ("soap_base_url", "Host SOAP base URL"),
        ("soap_username", "SOAP API user"),
        ("soap_password", "SOAP API password"),
        ("case_number_prefix", "Case number prefix"),
    ]
    in_french = text(admin.post("/m/MDA/admin/plugins/ctm", {"soap_username": ""}, headers={"Accept-Language": "fr"}))
    assert re.search(r'<a href="#f-soap_username">Utilisateur[^<]*</a>', in_french)
    with demo.factory() as s:
        assert s.scalar(sa.select(PluginEnablement).where(PluginEnablement.mission_code == "MDA")) is None


def test_enabling_and_disabling_on_the_page_is_committed_and_read_back(login, demo):
    """The page's one transaction is committed whole: the revision check must not leave it a savepoint."""
    admin = login("admin")
    admin.get("/m/MDA/admin/plugins/ctm")
    settings = {
        "soap_base_url": "http://127.0.0.1:9/",
        "soap_username": "ctm-mda",
        "soap_password": "mda-soap-secret",
        "case_number_prefix": "MDA-CT",
    }
    assert admin.post("/m/MDA/admin/plugins/ctm", settings).status_code == 302

    def enabled() -> bool | None:
        with demo.engine.connect() as conn:  # another connection: only what was committed
            query = sa.select(PluginEnablement.enabled).filter_by(mission_code="MDA", plugin_name="ctm")
            return conn.scalar(query)

    assert enabled() is True
    assert "Enabled" in text(admin.get("/m/MDA/admin/plugins/ctm"))
    assert admin.post("/m/MDA/admin/plugins/ctm/disable").status_code == 302
    assert enabled() is False


def test_the_stored_secret_is_never_sent_back_to_the_browser(login):
    page = text(login("admin").get("/m/THA/admin/plugins/ctm"))
    assert "demo-soap-tha-secret" not in page
    assert "ctm-tha" in page  # the non-secret settings are shown


def test_language_switch_changes_the_page_language(login):
    browser = login("caseworker")
    browser.get("/m/THA/beneficiaries")
    browser.post("/locale", {"locale": "es", "next": "/m/THA/beneficiaries"})
    assert '<html lang="es">' in text(browser.get("/m/THA/beneficiaries"))


# -- redirects stay on the site -----------------------------------------------------------

OFF_SITE = ["https://evil.example", "//evil.example/steal", "/\\evil.example", "/\\/evil.example", "/\t/evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_login_never_redirects_off_site(web, target: str):
    web.get("/login")
    response = web.post(
        "/login", {"username": "caseworker", "password": "demo-caseworker-2026"}, query_string={"next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_redirects_to_a_page_of_the_site(web):
    web.get("/login")
    response = web.post(
        "/login",
        {"username": "caseworker", "password": "demo-caseworker-2026"},
        query_string={"next": "/m/THA/movements"},
    )
    assert response.headers["Location"] == "/m/THA/movements"


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_site(login, target: str):
    browser = login("caseworker")
    browser.get("/m/THA/beneficiaries")
    response = browser.post("/locale", {"locale": "fr", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    on_site = browser.post("/locale", {"locale": "fr", "next": "/m/THA/movements"})
    assert on_site.headers["Location"] == "/m/THA/movements"


# -- movements ----------------------------------------------------------------------------


def test_the_movement_list_shows_the_missions_movements_with_labels(login):
    page = text(login("caseworker").get("/m/THA/movements"))
    assert "MOV-1000001" in page and "MOV-1000005" in page
    assert "MOV-2000001" not in page  # KHM's
    assert "Assisted voluntary return and reintegration" in page
    assert "Booked" in page and "Requested" in page
    assert "BKK →" in page


def test_a_movement_page_shows_its_fields_with_labels(login):
    response = login("caseworker").get("/m/THA/movements/MOV-1000001")
    assert response.status_code == 200
    page = text(response)
    for label, value in (
        ("Movement ID", "MOV-1000001"),
        ("Type", "Assisted voluntary return and reintegration"),
        ("Status", "Booked"),
        ("Origin", "BKK (THA)"),
        ("Earliest departure", "Dec 8, 2026"),
        ("Escort", "Operational escort"),
        ("Fit to travel", "yes"),
        ("Beneficiaries", THA_BENEFICIARY),
        ("Legs", "Demo Air DA101"),
    ):
        assert re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>[^<]*(<a [^>]*>)?[^<]*{re.escape(value)}", page), label
    assert f'href="/m/THA/beneficiaries/{THA_BENEFICIARY}"' in page
    assert 'data-tab="details" aria-current="page"' in page


def test_a_movement_of_another_mission_is_404(login):
    browser = login("caseworker")
    assert browser.get("/m/THA/movements/MOV-2000001").status_code == 404
    assert browser.get("/m/KHM/movements/MOV-1000001").status_code == 404
    assert browser.get("/m/THA/movements/MOV-9999999").status_code == 404


def test_movement_pages_are_404_without_the_records_permission(login):
    researcher = login("researcher")  # a CT role only: no host.records.view
    assert researcher.get("/m/THA/movements").status_code == 404
    assert researcher.get("/m/THA/movements/MOV-1000001").status_code == 404
    assert researcher.get(f"/m/THA/beneficiaries/{THA_BENEFICIARY}").status_code == 404


def test_a_user_without_records_lands_on_the_first_page_a_plugin_menu_offers(login):
    researcher = login("researcher")  # trends only, in THA and KHM (MDA has no CTM)
    landing = researcher.get("/")
    assert landing.status_code == 302
    assert landing.headers["Location"].endswith("/plugins/ctm/trends")
    assert researcher.get(landing.headers["Location"]).status_code == 200


# -- administration: who may, and what a refusal looks like ------------------------------


def stored(state: PluginEnablement | None) -> tuple:
    """What a plugin's row holds of its settings: the plain ones and the sealed ones."""
    assert state is not None
    return state.settings, state.secrets


def ctm_state(demo, code: str) -> PluginEnablement | None:  # noqa: ANN001
    with demo.factory() as s:
        return s.scalar(
            sa.select(PluginEnablement).where(
                PluginEnablement.mission_code == code, PluginEnablement.plugin_name == "ctm"
            )
        )


def test_an_admin_of_one_mission_gets_404_on_another_missions_admin_pages(demo, login):
    with transaction(demo.factory) as s:
        solo = add_user(s, "solo", "Solo Admin", hash_password("solo-password-2026"))
        grant(s, solo, "MDA", "host.mission_admin")
    browser = login("solo", "solo-password-2026")

    assert browser.get("/m/MDA/admin/plugins").status_code == 200
    for url in ("/m/THA/admin/plugins", "/m/THA/admin/plugins/ctm", "/m/KHM/admin/plugins"):
        assert browser.get(url).status_code == 404, url
    before = stored(ctm_state(demo, "THA"))
    assert browser.post("/m/THA/admin/plugins/ctm/disable").status_code == 404
    assert browser.post("/m/THA/admin/plugins/ctm", {"soap_username": "solo-was-here"}).status_code == 404
    state = ctm_state(demo, "THA")
    assert state.enabled and stored(state) == before


def test_a_non_admin_cannot_change_a_plugin_by_posting(demo, login):
    browser = login("caseworker")
    browser.get("/m/THA/beneficiaries")  # a CSRF token from a page the user may see
    before = stored(ctm_state(demo, "THA"))
    assert browser.post("/m/THA/admin/plugins/ctm", {"soap_username": "caseworker-was-here"}).status_code == 404
    assert browser.post("/m/THA/admin/plugins/ctm/disable").status_code == 404
    assert browser.post("/m/MDA/admin/plugins/ctm", {"soap_username": "x"}).status_code == 404
    state = ctm_state(demo, "THA")
    assert state.enabled and stored(state) == before
    assert ctm_state(demo, "MDA") is None


def test_disable_without_csrf_token_is_refused_and_changes_nothing(demo, login):
    admin = login("admin")
    admin.get("/m/THA/admin/plugins/ctm")
    response = admin.post("/m/THA/admin/plugins/ctm/disable", csrf=False)
    assert response.status_code == 400
    assert ctm_state(demo, "THA").enabled


def test_logout_without_csrf_token_is_refused_and_the_session_lives_on(login):
    browser = login("caseworker")
    browser.get("/m/THA/beneficiaries")
    assert browser.post("/logout", csrf=False).status_code == 400
    assert browser.get("/m/THA/beneficiaries").status_code == 200


def test_language_switch_without_csrf_token_is_refused_and_changes_nothing(login):
    browser = login("caseworker")
    browser.get("/m/THA/beneficiaries")
    response = browser.post("/locale", {"locale": "es", "next": "/m/THA/beneficiaries"}, csrf=False)
    assert response.status_code == 400
    assert '<html lang="en">' in text(browser.get("/m/THA/beneficiaries"))


class AdminTestPlugin:
    """Stands in for a third-party plugin shown on the admin page."""

    def __init__(self, name: str, requires_host: str = ">=1.0,<2", restricted: bool = False, database=None) -> None:  # noqa: ANN001
        self.name, self.requires_host, self.restricted, self.database = name, requires_host, restricted, database
        self.disabled_refusal: str | None = None

    @hookimpl
    def mimosa_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "0.1", f"Test {self.name}", "A test plugin.", self.requires_host, self.restricted)

    @hookimpl
    def mimosa_database(self) -> DatabaseInfo | None:
        return self.database

    @hookimpl
    def mimosa_mission_disabled(self, mission, ctx) -> None:  # noqa: ANN001
        if self.disabled_refusal:
            raise Refusal(self.disabled_refusal)


@pytest.fixture
def admin_app(demo):  # noqa: ANN001, ANN201
    """``admin_app(*plugins)`` → an app on the demo data with these plugins registered too."""

    def _app(*plugins: AdminTestPlugin):  # noqa: ANN202
        for plugin in plugins:
            demo.host.register(plugin, plugin.name)
        return create_app(demo, {"TESTING": True})

    return _app


def plugin_state(demo, code: str, name: str) -> PluginEnablement | None:  # noqa: ANN001
    with demo.factory() as s:
        return s.scalar(
            sa.select(PluginEnablement).where(
                PluginEnablement.mission_code == code, PluginEnablement.plugin_name == name
            )
        )


def test_hq_enables_a_restricted_plugin_through_the_admin_page_and_a_mission_admin_is_refused(
    demo,  # noqa: ANN001
    admin_app,  # noqa: ANN001
    login_to,  # noqa: ANN001
):
    app = admin_app(AdminTestPlugin("guarded", restricted=True))

    admin = login_to(app, "admin")
    admin.get("/m/MDA/admin/plugins/guarded")
    admin.post("/locale", {"locale": "fr", "next": "/m/MDA/admin/plugins/guarded"})
    admin.get("/m/MDA/admin/plugins/guarded")
    refused = admin.post("/m/MDA/admin/plugins/guarded", {})
    assert refused.status_code == 422
    assert "Seul un administrateur du siège peut activer le module guarded." in text(refused)
    assert plugin_state(demo, "MDA", "guarded") is None

    hq = login_to(app, "hq")
    assert hq.get("/m/MDA/admin/plugins").status_code == 200
    hq.get("/m/MDA/admin/plugins/guarded")
    enabled = hq.post("/m/MDA/admin/plugins/guarded", {})
    assert enabled.status_code == 302
    state = plugin_state(demo, "MDA", "guarded")
    assert state.enabled and state.changed_by == "hq"


def test_an_incompatible_plugin_is_refused_through_the_admin_page(demo, admin_app, login_to):  # noqa: ANN001
    app = admin_app(AdminTestPlugin("old", requires_host="<1"))
    admin = login_to(app, "admin")
    page = text(admin.get("/m/MDA/admin/plugins/old"))
    assert "This plugin cannot run on this host:" in page
    assert "It requires host &lt;1; this host is" in page

    refused = admin.post("/m/MDA/admin/plugins/old", {})
    assert refused.status_code == 422
    assert "The plugin old cannot run on this host. It requires host &lt;1" in text(refused)
    assert plugin_state(demo, "MDA", "old") is None


def test_a_plugin_whose_database_is_behind_is_refused_through_the_admin_page(demo, admin_app, login_to, tmp_path):  # noqa: ANN001
    scripts = tmp_path / "behind_migrations"
    (scripts / "versions").mkdir(parents=True)
    (scripts / "versions" / "b1_first.py").write_text(
        'revision = "b1"\ndown_revision = None\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n",
        encoding="utf-8",
    )
    database = DatabaseInfo(sa.MetaData(), str(scripts), "alembic_version_behind")
    app = admin_app(AdminTestPlugin("behind", database=database))
    admin = login_to(app, "admin")
    admin.get("/m/MDA/admin/plugins/behind")

    refused = admin.post("/m/MDA/admin/plugins/behind", {})
    assert refused.status_code == 422
    assert "The database of the plugin behind is not up to date" in text(refused)
    assert plugin_state(demo, "MDA", "behind") is None


def test_a_plugin_refusing_to_be_disabled_gets_its_message_shown_not_an_error(demo, admin_app, login_to):  # noqa: ANN001
    plugin = AdminTestPlugin("sticky")
    app = admin_app(plugin)
    admin = login_to(app, "admin")
    admin.get("/m/MDA/admin/plugins/sticky")
    assert admin.post("/m/MDA/admin/plugins/sticky", {}).status_code == 302
    plugin.disabled_refusal = "Sticky cannot leave this mission yet."

    admin.get("/m/MDA/admin/plugins/sticky")
    response = admin.post("/m/MDA/admin/plugins/sticky/disable")
    assert response.status_code == 302
    assert "Sticky cannot leave this mission yet." in text(admin.get("/m/MDA/admin/plugins/sticky"))
    assert plugin_state(demo, "MDA", "sticky").enabled


# -- the session key ----------------------------------------------------------------------


def test_the_session_key_comes_from_the_environment_when_set(rt, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(SECRET_KEY_ENV, "a-key-shared-by-every-process-of-the-site")
    assert create_app(rt).config["SECRET_KEY"] == "a-key-shared-by-every-process-of-the-site"
    monkeypatch.delenv(SECRET_KEY_ENV)
    first, second = create_app(rt).config["SECRET_KEY"], create_app(rt).config["SECRET_KEY"]
    assert first != second and len(first) == 64


def test_a_setting_added_since_enabling_shows_what_applies_and_saving_unchanged_keeps_it(login, demo):
    """THA's settings saved before the return checklist existed: the page shows its defaults ticked."""
    with transaction(demo.factory) as s:
        row = s.scalar(sa.select(PluginEnablement).filter_by(mission_code="THA", plugin_name="ctm"))
        row.settings = {
            k: v
            for k, v in row.settings.items()
            if not k.startswith("return_requires_") and k not in ("monitoring_months", "score_fall")
        }
    admin = login("admin")
    page = text(admin.get("/m/THA/admin/plugins/ctm"))
    assert re.search(r'name="return_requires_counselling" checked', page)
    assert not re.search(r'name="return_requires_escort" checked', page)
    # A list and a decimal show as the form takes them back, and a decimal's input takes a fraction.
    assert 'name="monitoring_months" value="3, 6, 12"' in page
    assert 'name="score_fall" value="0.1" step="any"' in page
