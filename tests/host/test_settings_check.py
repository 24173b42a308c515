"""The admin page's "Test the connection": the plugin's ``mimosa_mission_settings_check`` gets the form's
values (validated, a blank secret standing for the stored one), nothing is saved, its findings are
shown escaped; a plugin without the hook gets no button, and a broken check breaks no page.

The classes below stand in for third-party plugins, registered as an installed plugin would be.
"""

from __future__ import annotations

import logging

import marshmallow
import pytest
import sqlalchemy as sa

from mimosa_host import enablement
from mimosa_host.models import PluginEnablement
from mimosa_host.plugin_api import PluginInfo, SettingsFinding, hookimpl
from mimosa_host.web import create_app

CANARY = "s3cret-canary"


class Settings(marshmallow.Schema):
    url = marshmallow.fields.String(required=True)
    key = marshmallow.fields.String(required=True, metadata={"secret": True})


class Checked:
    """A plugin whose check reports what it was given."""

    name = "checked"

    def __init__(self) -> None:
        self.seen: list[dict] = []

    @hookimpl
    def mimosa_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "0.1", "Checked", "Checks its settings.", ">=1.0,<2")

    @hookimpl
    def mimosa_mission_settings_schema(self) -> marshmallow.Schema:
        return Settings()

    @hookimpl
    def mimosa_mission_settings_check(self, mission, settings) -> list[SettingsFinding]:  # noqa: ANN001
        self.seen.append(dict(settings))
        if settings["url"] == "broken":
            raise RuntimeError(CANARY)
        return [
            SettingsFinding("Nothing answers at %(url)s.", {"url": settings["url"]}, setting="url"),
            SettingsFinding("Mission %(code)s is fine.", {"code": mission.code}, ok=True),
        ]


class Unchecked(Checked):
    name = "unchecked"
    mimosa_mission_settings_check = None  # type: ignore[assignment]


@pytest.fixture
def admin(demo, login_to):  # noqa: ANN001, ANN201
    plugins = {"checked": Checked(), "unchecked": Unchecked()}
    for name, plugin in plugins.items():
        demo.host.register(plugin, name)
    browser = login_to(create_app(demo, {"TESTING": True, "PROPAGATE_EXCEPTIONS": False}), "admin")
    return browser, plugins


def stored(demo, name: str) -> list:  # noqa: ANN001
    with demo.factory() as s:
        return [
            enablement.stored_settings(state)[0]
            for state in s.scalars(sa.select(PluginEnablement).filter_by(plugin_name=name))
        ]


def test_the_check_gets_the_form_and_the_stored_secret_and_saves_nothing(demo, admin) -> None:  # noqa: ANN001
    browser, plugins = admin
    url = "/m/THA/admin/plugins/checked"
    browser.get(url)
    assert browser.post(url, {"url": "https://a.example/", "key": "first-key"}).status_code == 302  # enabled
    browser.get(url)
    response = browser.post(url, {"url": "<b>https://b.example/</b>", "key": "", "action": "check"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert plugins["checked"].seen == [{"url": "<b>https://b.example/</b>", "key": "first-key"}]
    assert 'data-ok="no" data-setting="url">Nothing answers at &lt;b&gt;https://b.example/&lt;/b&gt;.' in page
    assert 'data-ok="yes">Mission THA is fine.' in page
    assert "first-key" not in page
    assert stored(demo, "checked") == [{"url": "https://a.example/", "key": "first-key"}]


def test_invalid_values_are_refused_before_any_check(demo, admin) -> None:  # noqa: ANN001
    browser, plugins = admin
    url = "/m/THA/admin/plugins/checked"
    browser.get(url)
    response = browser.post(url, {"url": "https://a.example/", "action": "check"})  # no key, none stored
    assert response.status_code == 422 and plugins["checked"].seen == []
    assert stored(demo, "checked") == []


def test_a_plugin_without_a_check_has_no_button(admin) -> None:  # noqa: ANN001
    browser, _plugins = admin
    assert 'data-action="check"' in browser.get("/m/THA/admin/plugins/checked").get_data(as_text=True)
    assert 'data-action="check"' not in browser.get("/m/THA/admin/plugins/unchecked").get_data(as_text=True)


def test_a_broken_check_says_so_and_logs_no_message(demo, admin, caplog) -> None:  # noqa: ANN001
    browser, _plugins = admin
    url = "/m/THA/admin/plugins/checked"
    browser.get(url)
    with caplog.at_level(logging.ERROR):
        response = browser.post(url, {"url": "broken", "key": "k", "action": "check"})
    assert response.status_code == 200
    assert "The plugin&#39;s check failed" in response.get_data(as_text=True)
    assert "RuntimeError" in caplog.text and CANARY not in caplog.text
    assert stored(demo, "checked") == []
