"""Plugin blueprints in the web shell: their handlers run only where the host admits the request,
blueprints acting on the whole application are refused, record URLs are checked before any
plugin code runs, and an error's message reaches no log.

The classes below stand in for third-party plugins: each owns a fresh Flask blueprint (a
blueprint takes no new handlers once registered) and counts the calls the host makes to it.
They are registered with ``PluginHost.register``, as an installed plugin would be.
"""

from __future__ import annotations

import logging
from collections import Counter

import flask
import pytest
import sqlalchemy as sa

from mimosa_host import enablement
from mimosa_host.context import system_context
from mimosa_host.db import transaction
from mimosa_host.models import Mission
from mimosa_host.plugin_api import Page, PluginInfo, current_context, hookimpl
from mimosa_host.web import create_app

THA_BENEFICIARY = "BEN-1000001"
KHM_BENEFICIARY = "BEN-2000001"
THA_MOVEMENT = "MOV-1000001"
CANARY = "Jane Roe BEN-1000001 canary-7f3a"


class CountingPlugin:
    """A blueprint with one handler of each kind Flask runs around a request, each counting its calls."""

    def __init__(self, name: str = "counter") -> None:
        self.name = name
        self.calls: Counter[str] = Counter()
        bp = flask.Blueprint(name, __name__)
        calls = self.calls

        @bp.url_value_preprocessor
        def pull(endpoint, values) -> None:  # noqa: ANN001
            calls["url_value_preprocessor"] += 1

        @bp.url_defaults
        def defaults(endpoint, values) -> None:  # noqa: ANN001
            calls["url_defaults"] += 1

        @bp.before_request
        def before() -> None:
            calls["before_request"] += 1

        @bp.after_request
        def after(response: flask.Response) -> flask.Response:
            calls["after_request"] += 1
            response.headers["X-Counted"] = "yes"
            return response

        @bp.teardown_request
        def teardown(_exc: BaseException | None) -> None:
            # The request's connection is still there for the plugin's own teardown.
            with current_context().session_factory() as session:
                session.execute(sa.text("SELECT 1"))
            calls["teardown_request"] += 1

        @bp.context_processor
        def context() -> dict:
            calls["context_processor"] += 1
            return {}

        @bp.errorhandler(404)
        def not_found(_exc: Exception) -> tuple[str, int]:
            calls["errorhandler"] += 1
            return "the plugin's own 404", 404

        @bp.get("/")
        def index() -> Page:
            calls["view"] += 1
            return Page(title="Counter", body=f'<p>counted <a href="{flask.url_for(f"{name}.index")}">again</a></p>')

        @bp.get("/records/<record_type>/<record_ref>/notes")
        def notes(record_type: str, record_ref: str) -> Page:
            calls["notes"] += 1
            return Page(
                title="Notes",
                body="<p>the notes</p>",
                record_type=record_type,
                record_ref=record_ref,
                active_tab=f"{name}.notes",
            )

        @bp.get("/missing")
        def missing() -> str:
            flask.abort(404)

        @bp.get("/fail")
        def fail() -> str:
            raise RuntimeError(f"could not open the case of {CANARY}")

        @bp.get("/fail-in-the-database")
        def fail_in_the_database() -> str:
            with flask.current_app.extensions["mimosa"].factory() as s:
                # A duplicate mission code: the statement's parameters hold the canary.
                s.execute(
                    sa.text("INSERT INTO mission (code, name, country) VALUES (:code, :name, :country)"),
                    {"code": "THA", "name": CANARY, "country": "THA"},
                )
            return "unreachable"

        self.bp = bp

    @hookimpl
    def mimosa_plugin_info(self) -> PluginInfo:
        return PluginInfo(self.name, "0.1", "Counter", "Counts the host's calls.", ">=1.0,<2")

    @hookimpl
    def mimosa_blueprints(self) -> list[flask.Blueprint]:
        return [self.bp]


def _enable(rt, code: str, name: str) -> None:  # noqa: ANN001
    with transaction(rt.factory) as s:
        enablement.enable(s, rt.host, code, name, {}, system_context(s, rt.host, rt.factory, s.get(Mission, code)))


@pytest.fixture
def counter(demo, login_to):  # noqa: ANN001, ANN201
    """The counting plugin, enabled in THA only, and a client factory on an app that mounts it."""
    plugin = CountingPlugin()
    demo.host.register(plugin, plugin.name)
    _enable(demo, "THA", plugin.name)
    app = create_app(demo, {"TESTING": True})

    def client(username: str = "caseworker"):  # noqa: ANN202
        browser = login_to(app, username)
        plugin.calls.clear()  # only what the test's own requests cause
        return browser

    return plugin, client


# -- handlers run only where the plugin is admitted ---------------------------------------


def test_a_plugin_blueprints_handlers_do_not_run_in_a_mission_where_it_is_disabled(counter) -> None:  # noqa: ANN001
    plugin, client = counter
    browser = client()

    response = browser.get("/m/MDA/plugins/counter/")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)  # the host's 404, not the plugin's
    assert "X-Counted" not in response.headers
    assert browser.get(f"/m/MDA/plugins/counter/records/beneficiary/{THA_BENEFICIARY}/notes").status_code == 404
    assert browser.get("/m/MDA/beneficiaries").status_code == 200
    assert plugin.calls == Counter()


def test_a_plugin_blueprints_handlers_run_where_it_is_enabled(counter) -> None:  # noqa: ANN001
    plugin, client = counter
    browser = client()

    response = browser.get("/m/THA/plugins/counter/")
    assert response.status_code == 200
    assert "counted" in response.get_data(as_text=True)
    assert response.headers["X-Counted"] == "yes"
    for handler in (
        "url_value_preprocessor",
        "before_request",
        "view",
        "context_processor",
        "after_request",
        "teardown_request",
        "url_defaults",
    ):
        assert plugin.calls[handler] == 1, handler
    # Its own error handler answers for its own pages.
    missing = browser.get("/m/THA/plugins/counter/missing")
    assert (missing.status_code, missing.get_data(as_text=True)) == (404, "the plugin's own 404")
    assert plugin.calls["errorhandler"] == 1
    # The host's pages in THA are not the plugin's: none of its request handlers run there.
    plugin.calls.clear()
    assert browser.get(f"/m/THA/beneficiaries/{THA_BENEFICIARY}").status_code == 200
    assert plugin.calls == Counter()


def test_a_user_without_a_role_in_the_mission_reaches_no_plugin_handler(counter) -> None:  # noqa: ANN001
    plugin, client = counter
    browser = client("khm.caseworker")  # no role in THA
    assert browser.get("/m/THA/plugins/counter/").status_code == 404
    assert plugin.calls == Counter()


# -- record URLs are checked before any plugin code runs ------------------------------------


def test_a_record_url_is_served_for_a_record_of_the_mission(counter) -> None:  # noqa: ANN001
    plugin, client = counter
    browser = client()

    response = browser.get(f"/m/THA/plugins/counter/records/beneficiary/{THA_BENEFICIARY}/notes")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "the notes" in page and THA_BENEFICIARY in page  # the record's header around the plugin's body
    assert browser.get(f"/m/THA/plugins/counter/records/movement/{THA_MOVEMENT}/notes").status_code == 200
    assert plugin.calls["notes"] == 2


@pytest.mark.parametrize(
    ("username", "url"),
    [
        pytest.param("caseworker", f"/records/beneficiary/{KHM_BENEFICIARY}/notes", id="another-missions-record"),
        pytest.param("caseworker", "/records/movement/MOV-2000001/notes", id="another-missions-movement"),
        pytest.param("caseworker", "/records/beneficiary/BEN-9999999/notes", id="no-such-record"),
        pytest.param("caseworker", f"/records/case/{THA_BENEFICIARY}/notes", id="not-a-record-type"),
        pytest.param("caseworker", f"/records/movement/{THA_BENEFICIARY}/notes", id="wrong-record-type"),
        pytest.param("researcher", f"/records/beneficiary/{THA_BENEFICIARY}/notes", id="no-records-permission"),
    ],
)
def test_a_record_url_the_user_may_not_see_is_404_before_any_plugin_code_runs(counter, username, url) -> None:  # noqa: ANN001
    plugin, client = counter
    browser = client(username)

    response = browser.get(f"/m/THA/plugins/counter{url}")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in response.get_data(as_text=True)
    assert plugin.calls == Counter()  # not the view, nor any handler of the plugin


# -- blueprints acting on the whole application are refused -------------------------------


def _spy_before_app_request(bp: flask.Blueprint, spy: Counter) -> None:
    bp.before_app_request(lambda: spy.update(["called"]))


def _spy_after_app_request(bp: flask.Blueprint, spy: Counter) -> None:
    bp.after_app_request(lambda response: spy.update(["called"]) or response)


def _spy_teardown_app_request(bp: flask.Blueprint, spy: Counter) -> None:
    bp.teardown_app_request(lambda _exc: spy.update(["called"]))


def _spy_app_context_processor(bp: flask.Blueprint, spy: Counter) -> None:
    bp.app_context_processor(lambda: spy.update(["called"]) or {})


def _spy_app_errorhandler(bp: flask.Blueprint, spy: Counter) -> None:
    bp.app_errorhandler(404)(lambda _exc: (spy.update(["called"]), ("hijacked", 404))[1])


def _spy_app_url_value_preprocessor(bp: flask.Blueprint, spy: Counter) -> None:
    bp.app_url_value_preprocessor(lambda _endpoint, _values: spy.update(["called"]))


def _spy_app_url_defaults(bp: flask.Blueprint, spy: Counter) -> None:
    bp.app_url_defaults(lambda _endpoint, _values: spy.update(["called"]))


def _spy_app_template_filter(bp: flask.Blueprint, spy: Counter) -> None:
    bp.app_template_filter("date")(lambda value: spy.update(["called"]) or "hijacked")


@pytest.mark.parametrize(
    "register",
    [
        _spy_before_app_request,
        _spy_after_app_request,
        _spy_teardown_app_request,
        _spy_app_context_processor,
        _spy_app_errorhandler,
        _spy_app_url_value_preprocessor,
        _spy_app_url_defaults,
        _spy_app_template_filter,
    ],
    ids=lambda f: f.__name__.removeprefix("_spy_"),
)
def test_a_blueprint_registering_app_wide_handlers_is_refused(rt, login_to, register, caplog) -> None:  # noqa: ANN001
    spy: Counter[str] = Counter()

    class AppWidePlugin:
        """Stands in for a third-party plugin whose blueprint reaches into every request of the host."""

        def __init__(self) -> None:
            self.bp = flask.Blueprint("appwide", __name__)
            self.bp.add_url_rule("/", "index", lambda: "served")
            register(self.bp, spy)

        @hookimpl
        def mimosa_plugin_info(self) -> PluginInfo:
            return PluginInfo("appwide", "0.1", "App-wide", "Reaches too far.", ">=1.0,<2")

        @hookimpl
        def mimosa_blueprints(self) -> list[flask.Blueprint]:
            return [self.bp]

    rt.host.register(AppWidePlugin(), "appwide")
    with caplog.at_level(logging.WARNING, logger="mimosa_host.plugins"):
        app = create_app(rt, {"TESTING": True})

    entry = rt.host.installed["appwide"]
    assert not entry.compatible
    assert "registers handlers for the whole application" in str(entry.problems[-1])
    assert "plugin appwide refused" in caplog.text
    assert "appwide" not in rt.host.active_names
    assert "appwide" not in app.blueprints
    client = login_to(app)
    assert client.get("/login").status_code == 200
    assert client.get("/no-such-page").status_code == 404
    assert client.get("/m/THA/plugins/appwide/").status_code == 404
    assert spy == Counter()


# -- errors are logged without their message -----------------------------------------------


@pytest.mark.parametrize("path", ["/fail", "/fail-in-the-database"])
def test_an_unhandled_error_is_logged_without_its_message(demo, login_to, path, caplog) -> None:  # noqa: ANN001
    plugin = CountingPlugin()
    demo.host.register(plugin, plugin.name)
    _enable(demo, "THA", plugin.name)
    app = create_app(demo, {"PROPAGATE_EXCEPTIONS": False})  # as in production: a 500, not a raised error
    browser = login_to(app, "caseworker")

    with caplog.at_level(logging.DEBUG):
        response = browser.get(f"/m/THA/plugins/counter{path}")

    assert response.status_code == 500
    assert CANARY not in response.get_data(as_text=True)
    assert "<h1>Something went wrong</h1>" in response.get_data(as_text=True)  # titled by what happened
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert f"Exception on /m/THA/plugins/counter{path} [GET]" in message
    assert ("RuntimeError" if path == "/fail" else "IntegrityError") in message
    assert errors[0].exc_info is None  # no traceback printed with the message in it
    for record in caplog.records:
        assert CANARY not in record.getMessage()
    assert CANARY not in caplog.text


def test_a_blueprint_taking_a_name_already_in_use_is_refused_and_the_host_still_starts(rt, login_to) -> None:  # noqa: ANN001
    class Impostor:
        """Stands in for a third-party plugin whose blueprint is named like one of the host's."""

        def __init__(self) -> None:
            self.bp = flask.Blueprint("auth", __name__)
            self.bp.add_url_rule("/login", "login", lambda: "not the host's login")

        @hookimpl
        def mimosa_plugin_info(self) -> PluginInfo:
            return PluginInfo("impostor", "0.1", "Impostor", "Takes a name.", ">=1.0,<2")

        @hookimpl
        def mimosa_blueprints(self) -> list[flask.Blueprint]:
            return [self.bp]

    rt.host.register(Impostor(), "impostor")
    app = create_app(rt, {"TESTING": True})

    assert [str(p) for p in rt.host.installed["impostor"].problems] == ["Its blueprint auth has a name already in use."]
    response = login_to(app).get("/login")
    assert response.status_code == 200 and "not the host's login" not in response.get_data(as_text=True)
