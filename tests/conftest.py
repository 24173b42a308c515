"""Shared fixtures: a migrated database on each backend, the host app, a logged-in client.

Every database test runs twice: on SQLite (always) and on PostgreSQL when
``CTM_TEST_DATABASE_URL`` is set; each test gets its own schema there, dropped after.
CI sets ``CTM_REQUIRE_POSTGRESQL=1`` and ``CTM_REQUIRE_BROWSER=1`` so that a missing
part fails the run instead of skipping.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime

PG_ENV = "CTM_TEST_DATABASE_URL"


def _missing(part: str, require_env: str, reason: str) -> None:
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{part} is required in this run ({require_env}=1) but {reason}")
    pytest.skip(f"{part} not available: {reason}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # noqa: ANN001
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mimosa.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        _missing("PostgreSQL", "CTM_REQUIRE_POSTGRESQL", f"{PG_ENV} is not set")
    schema = f"t_{secrets.token_hex(6)}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def make_host() -> PluginHost:
    """A plugin host that loads the installed plugins (the CTM) from their entry points."""
    host = PluginHost()
    host.load_entry_points()
    return host


@pytest.fixture
def rt(database_url: str) -> Iterator[Runtime]:
    runtime = Runtime.from_url(database_url, host=make_host())
    runtime.upgrade_all()
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def demo(rt: Runtime) -> Runtime:
    """The runtime with the synthetic demo data: CTM enabled in THA and KHM, not in MDA."""
    from mimosa_host.demo import seed

    seed(rt)
    return rt


@pytest.fixture
def app(demo: Runtime):  # noqa: ANN201
    from mimosa_host.web import create_app

    return create_app(demo, {"TESTING": True})


class Browser:
    """A Flask test client that logs in and carries the CSRF token of the last page it read."""

    # https: the session cookie is Secure (and __Host-), so requests must look like TLS.
    BASE_URL = "https://localhost"

    def __init__(self, client) -> None:  # noqa: ANN001
        self.client = client
        self.token = ""

    def get(self, url: str, **kwargs):  # noqa: ANN003, ANN201
        response = self.client.get(url, base_url=self.BASE_URL, **kwargs)
        match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
        if match:
            self.token = match.group(1)
        return response

    def post(self, url: str, data: dict | None = None, csrf: bool = True, **kwargs):  # noqa: ANN003, ANN201
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token)
        # Flask-WTF checks the Referer of HTTPS posts, as a browser sends it (same-origin policy).
        headers = {"Referer": self.BASE_URL + "/", **kwargs.pop("headers", {})}
        return self.client.post(url, data=data, base_url=self.BASE_URL, headers=headers, **kwargs)

    def login(self, username: str, password: str | None = None):  # noqa: ANN201
        from mimosa_host.demo import password_for

        self.get("/login")
        return self.post("/login", {"username": username, "password": password or password_for(username)})


@pytest.fixture
def web(app) -> Browser:  # noqa: ANN001
    return Browser(app.test_client())


def _logged_in(app, username: str, password: str | None = None) -> Browser:  # noqa: ANN001
    browser = Browser(app.test_client())
    response = browser.login(username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


@pytest.fixture
def login(app):  # noqa: ANN001, ANN201
    """``login("caseworker")`` → a :class:`Browser` logged in as that demo user."""
    return lambda username, password=None: _logged_in(app, username, password)


@pytest.fixture
def login_to():  # noqa: ANN201
    """``login_to(app, "caseworker")`` → a :class:`Browser` on an app the test made itself, logged in.

    ``login_to(app)`` with no user → a :class:`Browser` on that app, logged out.
    """

    def _login_to(app, username: str | None = None, password: str | None = None) -> Browser:  # noqa: ANN001
        return Browser(app.test_client()) if username is None else _logged_in(app, username, password)

    return _login_to
