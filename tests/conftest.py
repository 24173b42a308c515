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
from contextlib import contextmanager

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


# -- the live host: the web shell and its SOAP services over real HTTP on loopback ----------
# (tests/browser/conftest.py has its own ``live_server`` for Playwright; this one is for SOAP.)

SOAP_NS = "urn:mimosa:host:v1"


class LiveHost:
    """A running host: ``base_url``, the Flask ``app``, its runtime ``rt``, and the SOAP
    services' test-only fault switches ``faults``."""

    def __init__(self, base_url: str, app, rt: Runtime) -> None:  # noqa: ANN001 - a Flask app
        self.base_url = base_url
        self.app = app
        self.rt = rt

    @property
    def faults(self):  # noqa: ANN201 - mimosa_host.soap.faults.FaultSwitches
        return self.app.extensions["mimosa_soap"].faults

    def soap_url(self, service: str) -> str:
        return f"{self.base_url}/soap/{service}"


@contextmanager
def serving(rt: Runtime) -> Iterator[LiveHost]:
    """The host (``create_app``, as ``serve`` makes it) on ``rt``, served on 127.0.0.1 at an ephemeral port."""
    import threading

    from werkzeug.serving import make_server

    from mimosa_host.web import create_app

    app = create_app(rt)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutting the server down waits for it, after every test.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="live-host", daemon=True)
    thread.start()
    try:
        yield LiveHost(f"http://127.0.0.1:{server.server_port}", app, rt)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live_host(demo: Runtime) -> Iterator[LiveHost]:
    """The host on the demo data over real HTTP: a :class:`LiveHost`."""
    with serving(demo) as host:
        yield host


@pytest.fixture
def second_live_host(live_host: LiveHost, database_url: str) -> Iterator[LiveHost]:
    """Another host on ``live_host``'s database, with its own runtime and app: what a restart would bring up."""
    rt = Runtime.from_url(database_url, host=make_host())
    try:
        with serving(rt) as host:
            yield host
    finally:
        rt.engine.dispose()


def make_soap_token(username: str, password: str, *, offset=None, timestamp: bool = True):  # noqa: ANN001, ANN201
    """A zeep WS-Security plugin: zeep's own ``UsernameToken`` with ``PasswordDigest`` and, unless
    ``timestamp=False``, a fresh ``wsu:Timestamp`` (Created, Expires in 5 min) per message.

    ``offset`` (a timedelta) moves both Created values away from the clock, not Expires.
    """
    from datetime import UTC, datetime, timedelta

    from zeep.wsse import utils
    from zeep.wsse.username import UsernameToken

    class Token(UsernameToken):
        def apply(self, envelope, headers):  # noqa: ANN001, ANN202 - zeep's signature
            now = datetime.now(UTC)
            self.created = now + (offset or timedelta())
            if timestamp:
                self.timestamp_token = utils.WSU.Timestamp(
                    utils.WSU.Created(utils.get_timestamp(self.created)),
                    utils.WSU.Expires(utils.get_timestamp(now + timedelta(minutes=5))),
                )
            return super().apply(envelope, headers)

    return Token(username, password, use_digest=True)


@pytest.fixture
def soap_token():  # noqa: ANN201
    """:func:`make_soap_token`, for a ``soap_client(..., wsse=soap_token(user, password, offset=...))``."""
    return make_soap_token


class SoapClient:
    """A zeep client of one live service: ``.service.<Operation>(...)`` calls it; ``.message(...)``
    renders a request (WS-Security header included) as bytes, to send raw or tampered with."""

    def __init__(self, client, service) -> None:  # noqa: ANN001 - zeep Client, ServiceProxy
        self.client = client
        self.service = service

    def message(self, operation: str, **kwargs) -> bytes:  # noqa: ANN003
        from lxml import etree

        return etree.tostring(self.client.create_message(self.service, operation, **kwargs))


@pytest.fixture
def soap_client(live_host: LiveHost):  # noqa: ANN201
    """``soap_client("MovementService", mission="THA")`` → a :class:`SoapClient` of the live host, built from
    the host's LOCAL WSDL files, authenticating as the demo API user of ``mission`` (or as ``username`` with
    ``password``; ``wsse=None`` sends no header, or pass any other zeep wsse plugin), calling ``live_host``
    or another :class:`LiveHost` given as ``host``."""
    from pathlib import Path

    import zeep
    from zeep.transports import Transport

    import mimosa_host.soap
    from mimosa_host.demo import api_credentials

    wsdl_dir = Path(mimosa_host.soap.__file__).parent / "wsdl"
    settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False)
    default = object()

    def make(service: str, mission: str = "THA", username: str = "", password: str = "", wsse=default, host=None):  # noqa: ANN001, ANN202
        demo_username, demo_password = api_credentials(mission)
        if wsse is default:
            wsse = make_soap_token(username or demo_username, password or demo_password)
        transport = Transport(timeout=10, operation_timeout=10)
        client = zeep.Client(str(wsdl_dir / f"{service}.wsdl"), settings=settings, transport=transport, wsse=wsse)
        url = (host or live_host).soap_url(service)
        return SoapClient(client, client.create_service(f"{{{SOAP_NS}}}{service}Binding", url))

    return make


def host_fault(fault) -> tuple[str, str, list[str]]:  # noqa: ANN001 - a zeep Fault, or a raw answer's bytes
    """(faultcode, HostFault Code, [Field, ...]) of a zeep ``Fault`` or of a raw SOAP answer."""
    from lxml import etree

    if isinstance(fault, bytes):
        fault = etree.fromstring(fault).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
        faultcode, detail = fault.findtext("faultcode"), fault.find("detail")
    else:
        faultcode, detail = fault.code, fault.detail
    host = detail.find(f"{{{SOAP_NS}}}HostFault")
    return faultcode, host.findtext(f"{{{SOAP_NS}}}Code"), [f.text for f in host.findall(f"{{{SOAP_NS}}}Field")]


@pytest.fixture
def soap_fault():  # noqa: ANN201
    """``soap_fault(client.service.GetMovement, MovementId="MOV-…")`` → :func:`host_fault` of the zeep
    Fault the call raises; ``soap_fault(response.content)`` → that of a raw answer."""
    import zeep

    def check(what, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if isinstance(what, bytes):
            return host_fault(what)
        with pytest.raises(zeep.exceptions.Fault) as raised:
            what(*args, **kwargs)
        return host_fault(raised.value)

    return check
