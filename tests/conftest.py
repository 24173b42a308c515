"""Shared fixtures: a migrated database on each backend, the host app, a logged-in client.

Every database test runs twice: on SQLite (always) and on PostgreSQL when
``CTM_TEST_DATABASE_URL`` is set. Migrating and seeding are done once per run (per pytest
process), into template databases; each test gets its own copy: a file copy on SQLite, a
``CREATE DATABASE … TEMPLATE`` on PostgreSQL (beside the run's database, dropped after).
CI sets ``CTM_REQUIRE_POSTGRESQL=1`` and ``CTM_REQUIRE_BROWSER=1`` so that a missing
part fails the run instead of skipping.

Passwords are hashed with Argon2's cheapest parameters here (a stored hash is verified with
its own): a login costs microseconds instead of a second. ``CI=true`` (or
``CTM_HYPOTHESIS_PROFILE=ci``) runs the property tests on a fixed set of examples.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import flask
import jinja2
import jinja2.bccache
import pytest
import sqlalchemy as sa
import werkzeug.routing
import werkzeug.routing.rules
from argon2 import profiles
from hypothesis import HealthCheck, settings
from soap_faults import host_fault

from ctm_plugin.security.keys import FileKeyStore, default_key_file, key_store, use_key_store
from mimosa_host import passwords
from mimosa_host.plugins import PluginHost
from mimosa_host.runtime import Runtime

PG_ENV = "CTM_TEST_DATABASE_URL"

# The CTM's keys and the host's for this run: one key file each, shared by its workers and the processes
# they start (the templates are sealed under them), outside the repository.
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID", os.getpid())
os.environ.setdefault("CTM_KEY_FILE", str(Path(tempfile.gettempdir()) / f"ctm-test-keys-{_RUN}.json"))
os.environ.setdefault("MIMOSA_KEY_FILE", str(Path(tempfile.gettempdir()) / f"mimosa-test-keys-{_RUN}.json"))

passwords.use_parameters(profiles.CHEAPEST)

# The demo's users have no second factor: as in `make demo`, none is required unless a test says so.
os.environ.setdefault("MIMOSA_REQUIRE_SECOND_FACTOR_FOR", "")

# CI: the same examples on every run (a failure there is reproducible), as many, and no deadline on a busy machine.
settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
_PROFILE = os.environ.get("CTM_HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else None)
if _PROFILE:
    settings.load_profile(_PROFILE)


class _CompiledTemplates(jinja2.BytecodeCache):
    """The host's templates compiled once per run: every test makes its own app, hence its own Jinja
    environment, which would compile them again (a bucket still checks its template's source)."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if (code := self.compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


flask.Flask.jinja_options = {**flask.Flask.jinja_options, "bytecode_cache": _CompiledTemplates()}


_compile_url_builder = werkzeug.routing.rules.Rule._compile_builder
_URL_BUILDERS: dict[tuple, Callable[..., tuple[str, str]]] = {}


def _compiled_url_builder(self: werkzeug.routing.Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
    """Each URL rule's builder compiled once per run: every test makes its own app, and werkzeug writes and
    compiles Python source for each of its ~200 rules (nine tenths of making an app). The builder takes the
    rule as its ``self`` and bakes in only what the key holds: the rule's parts, its defaults and its
    converters' settings."""
    key = (
        self.rule,
        self.host if self.map.host_matching else self.subdomain,
        self.merge_slashes,
        tuple(self._trace),
        repr(sorted((self.defaults or {}).items())),
        tuple(
            (name, type(converter), repr({k: v for k, v in vars(converter).items() if k != "map"}))
            for name, converter in self._converters.items()
        ),
        append_unknown,
    )
    if (builder := _URL_BUILDERS.get(key)) is None:
        builder = _URL_BUILDERS[key] = _compile_url_builder(self, append_unknown)
    return builder


werkzeug.routing.rules.Rule._compile_builder = _compiled_url_builder  # type: ignore[method-assign]


@sa.event.listens_for(sa.Engine, "connect")
def _no_flush_to_disk(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI types
    """A test database is thrown away after its test: a commit need not wait for the disk (fsync).
    What a commit makes visible, and to whom, is unchanged; only a power cut could tell."""
    cursor = dbapi_connection.cursor()
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor.execute("PRAGMA synchronous=OFF")
    else:
        cursor.execute("SET synchronous_commit TO off")
        dbapi_connection.commit()  # outside a transaction a later rollback would undo (a no-op in autocommit)
    cursor.close()


def _missing(part: str, require_env: str, reason: str) -> None:
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{part} is required in this run ({require_env}=1) but {reason}")
    pytest.skip(f"{part} not available: {reason}")


# -- databases: built once per run, copied per test -------------------------------------------

EMPTY, MIGRATED, SEEDED = "empty", "migrated", "seeded"
_LEVEL_OF: dict[str, str] = {}
"""What each live test database was made with (``rt`` and ``demo`` finish the job when asked for late)."""
_BUILDERS: dict[str, Callable[[Runtime], object]] = {}
"""The further levels: what each adds to the demo data (see the ``database`` marker)."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "database(build): the test's database is the demo data with what build(runtime) adds; built once per "
        "run and backend into a template and copied per test, like the demo data itself",
    )


def _level(request: pytest.FixtureRequest) -> str:
    """What the test's database must hold: the demo data if it uses ``demo`` (with what its ``database``
    marker adds), the tables if it uses ``rt``."""
    names = request.fixturenames
    if "demo" in names and (marker := request.node.get_closest_marker("database")):
        build = marker.args[0]
        level = f"{build.__module__}.{build.__qualname__}"
        _BUILDERS[level] = build
        return level
    return SEEDED if "demo" in names else MIGRATED if "rt" in names else EMPTY


def _start(level: str) -> str | None:
    """The template a level's template is copied from before it is built on (``None``: an empty database)."""
    return {EMPTY: None, MIGRATED: None, SEEDED: MIGRATED}.get(level, SEEDED)


def _build(url: str, level: str) -> None:
    """Migrate (and seed, for ``SEEDED``; add to the demo data, for a further level) the database at ``url``,
    which is a copy of :func:`_start`'s template, then close every connection to it."""
    from mimosa_host.demo import seed

    runtime = Runtime.from_url(url, host=make_host())
    try:
        if level == SEEDED:
            seed(runtime)
        elif level == MIGRATED:
            runtime.upgrade_all()
        else:
            _BUILDERS[level](runtime)
        if runtime.engine.dialect.name == "sqlite":  # the copies are of the main file alone
            with runtime.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        runtime.engine.dispose()


class SqliteTemplates:
    """The run's SQLite template files; a test's database is a copy of one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.built: dict[str, Path] = {}

    def template(self, level: str) -> Path:
        if level not in self.built:
            path = self.folder / f"{level}.db"
            if (start := _start(level)) is not None:
                shutil.copyfile(self.template(start), path)
            _build(f"sqlite:///{path}", level)
            self.built[level] = path
        return self.built[level]

    @contextmanager
    def database(self, level: str, folder: Path) -> Iterator[str]:
        path = folder / "mimosa.db"
        if level != EMPTY:
            shutil.copyfile(self.template(level), path)
        yield f"sqlite:///{path}"


class PostgresTemplates:
    """The run's template databases beside ``base`` (the run's database); a test's database is made from one.

    Names carry a token of this process, so that runs sharing a server do not meet. A test's
    database is dropped behind it, in a thread, by batches of :attr:`DROP_BATCH`: PostgreSQL's
    ``DROP DATABASE`` forces an immediate checkpoint, which writes out every database the run
    has just made and stalls each ``CREATE DATABASE`` meanwhile; one checkpoint serves a batch
    of drops. The run waits for every drop.
    """

    DROP_BATCH = 64

    def __init__(self, base: str) -> None:
        self.base = sa.make_url(base)
        self.admin = sa.create_engine(self.base, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
        self.prefix = f"{(self.base.database or 'ctm')[:40]}_{secrets.token_hex(4)}"
        self.built: dict[str, str] = {}
        self.made = 0
        self.to_drop: queue.Queue[str | None] = queue.Queue()
        self.left: list[str] = []
        self.dropper = threading.Thread(target=self._drop_queued, name="drop-test-databases", daemon=True)
        self.dropper.start()

    def url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(statement)

    def _create(self, template: str | None) -> str:
        self.made += 1
        name = f"{self.prefix}_{self.made}"
        self._execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def _drop_queued(self) -> None:
        with ThreadPoolExecutor(max_workers=8, thread_name_prefix="drop-test-database") as pool:
            while True:
                names = [self.to_drop.get()]
                while names[-1] is not None and len(names) < self.DROP_BATCH:
                    names.append(self.to_drop.get())
                list(pool.map(self._drop, [name for name in names if name is not None]))
                if None in names:
                    return

    def _drop(self, name: str) -> None:
        try:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except sa.exc.DBAPIError as exc:  # reported when the run ends; the others are still dropped
            self.left.append(f"{name}: {exc.orig}")

    def template(self, level: str) -> str:
        if level not in self.built:
            start = _start(level)
            name = self._create(None if start is None else self.template(start))
            try:
                _build(self.url(name), level)
            except BaseException:
                self.to_drop.put(name)
                raise
            self.built[level] = name
        return self.built[level]

    @contextmanager
    def database(self, level: str, _folder: Path) -> Iterator[str]:
        name = self._create(None if level == EMPTY else self.template(level))
        try:
            yield self.url(name)
        finally:
            self.to_drop.put(name)

    def close(self) -> None:
        for name in self.built.values():
            self.to_drop.put(name)
        self.to_drop.put(None)
        self.dropper.join()
        self.admin.dispose()
        assert not self.left, f"test databases left on the server: {self.left}"


@pytest.fixture(scope="session")
def _sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplates:
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def _postgresql_templates() -> Iterator[PostgresTemplates]:
    base = os.environ.get(PG_ENV)
    if not base:
        _missing("PostgreSQL", "CTM_REQUIRE_POSTGRESQL", f"{PG_ENV} is not set")
    templates = PostgresTemplates(base)
    yield templates
    templates.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of this test's own database: empty, migrated when the test uses ``rt``, seeded when ``demo``."""
    templates = request.getfixturevalue(f"_{request.param}_templates")
    level = _level(request)
    with templates.database(level, tmp_path) as url:
        _LEVEL_OF[url] = level
        yield url
        del _LEVEL_OF[url]


def make_host() -> PluginHost:
    """A plugin host that loads the installed plugins (the CTM) from their entry points."""
    host = PluginHost()
    host.load_entry_points()
    return host


@pytest.fixture
def rt(database_url: str) -> Iterator[Runtime]:
    runtime = Runtime.from_url(database_url, host=make_host())
    if _LEVEL_OF[database_url] == EMPTY:  # only when asked for through ``request.getfixturevalue``
        runtime.upgrade_all()
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def demo(rt: Runtime, database_url: str) -> Runtime:
    """The runtime with the synthetic demo data: CTM enabled in THA and KHM, not in MDA."""
    if _LEVEL_OF[database_url] in (EMPTY, MIGRATED):
        from mimosa_host.demo import seed

        seed(rt)
    return rt


@pytest.fixture
def own_host_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the run's host key file, in force for this test alone: a rotation it makes retires no key
    the other tests' databases are sealed under."""
    from mimosa_host import sealing

    copy = tmp_path / "mimosa-keys.json"
    sealing.host_keys().current()  # the run's file exists
    shutil.copy(sealing.default_key_file(), copy)
    monkeypatch.setenv(sealing.KEY_FILE_ENV, str(copy))
    sealing.use_host_keys(None)
    yield copy
    sealing.use_host_keys(None)


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


@contextmanager
def serving_anew(database_url: str) -> Iterator[LiveHost]:
    """A host with a runtime (engine, pool) of its own on ``database_url``, served like :func:`serving`."""
    rt = Runtime.from_url(database_url, host=make_host())
    try:
        with serving(rt) as host:
            yield host
    finally:
        rt.engine.dispose()


@pytest.fixture
def second_live_host(live_host: LiveHost, database_url: str) -> Iterator[LiveHost]:
    """Another host on ``live_host``'s database, with its own runtime and app: what a restart would bring up."""
    with serving_anew(database_url) as host:
        yield host


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


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that accepts TCP connections into its backlog; the test then checks it got none."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


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


@pytest.fixture
def partner_client(live_host: LiveHost, soap_token):  # noqa: ANN001, ANN201
    """``partner_client(username, secret)`` → a zeep service of the CTM's partner service on ``live_host``, built from
    the WSDL partners get, authenticating with a partner's credential (services/partners.py ``issue_credential``);
    ``.client`` is its zeep client, ``.url`` the service's address."""
    import zeep
    from zeep.transports import Transport

    from ctm_plugin.adapters import partner_service

    url = f"{live_host.base_url}/machine/ctm{partner_service.PATH}"
    settings = zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=False)

    def make(username: str, secret: str):  # noqa: ANN202
        token = soap_token(username, secret)
        client = zeep.Client(str(partner_service.WSDL), settings=settings, transport=Transport(timeout=10), wsse=token)
        proxy = client.create_service(f"{{{partner_service.NS}}}PartnerBinding", url)
        proxy.client, proxy.url = client, url
        return proxy

    return make


@pytest.fixture
def own_keys(tmp_path: Path) -> Iterator[FileKeyStore]:
    """A copy of the run's CTM key file that this test may rotate or erase keys in (the run's stays whole, since
    every template is sealed under it); THA's and KHM's keys exist before the copy."""
    key_store().current("THA"), key_store().current("KHM")
    copy = tmp_path / "ctm-keys.json"
    shutil.copyfile(default_key_file(), copy)
    store = FileKeyStore(copy)
    use_key_store(store)
    yield store
    use_key_store(None)
