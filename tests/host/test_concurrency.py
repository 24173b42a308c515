"""One database connection per request: more concurrent requests than the pool holds are all served.

A request, the plugin hooks it calls and the audit they write share one connection
(``mimosa_host.db.SharedConnection``), so no request holds a connection while it waits for
another: three times as many concurrent requests as the pool's connections all get their page,
and no checkout waits long.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import Session

from benchmarks.harness import PoolWaits, http_get, http_login
from ctm_plugin.domain.audit import AuditEvent
from mimosa_host import db
from mimosa_host.runtime import Runtime
from tests.conftest import LiveHost, serving_anew

POOL_SIZE, USERS, ROUNDS = 2, 6, 4
BENEFICIARY = "/m/THA/beneficiaries/BEN-1000001"
CT_TAB = "/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case"


@pytest.fixture
def small_pool_host(demo: Runtime, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveHost]:
    """The demo served over HTTP on loopback by a host whose pool holds two connections and no overflow."""
    monkeypatch.setenv(db.POOL_SIZE_ENV, str(POOL_SIZE))
    monkeypatch.setenv(db.MAX_OVERFLOW_ENV, "0")
    with serving_anew(database_url) as live:  # its engine reads the pool's size from the settings above
        yield live


def test_three_times_more_concurrent_requests_than_pool_connections_are_all_served(small_pool_host: LiveHost) -> None:
    live = small_pool_host
    assert (live.rt.engine.pool.size(), live.rt.engine.pool.overflow()) == (POOL_SIZE, -POOL_SIZE)
    # Once gathering, every mission page waits in the server until USERS of them are in flight at once.
    in_flight, gathering = threading.Barrier(USERS, timeout=60), threading.Event()

    @live.app.before_request
    def _gather() -> None:
        if gathering.is_set() and request.path.startswith("/m/"):
            in_flight.wait()

    cookie = http_login(live.base_url)
    for path in (BENEFICIARY, CT_TAB):  # one user first: templates compiled, caches filled
        assert http_get(live.base_url, path, cookie)[0] == 200
    waits = PoolWaits(live.rt.engine)
    gathering.set()
    answers: list[tuple[str, int, str]] = []

    def user(number: int) -> None:
        for round_ in range(ROUNDS):
            path = (BENEFICIARY, CT_TAB)[(number + round_) % 2]
            status, body, _cookie = http_get(live.base_url, path, cookie)
            answers.append((path, status, body))

    users = [threading.Thread(target=user, args=(n,)) for n in range(USERS)]
    for thread in users:
        thread.start()
    for thread in users:
        thread.join()

    assert [(path, status) for path, status, _ in answers if status != 200] == []
    assert len(answers) == USERS * ROUNDS
    assert all(CT_TAB in body for path, _, body in answers if path == BENEFICIARY)  # the CT tab is offered
    assert waits.waits and waits.longest < 1.0, f"a checkout waited {waits.longest:.2f} s"
    # The CT tab audits each view in its own transaction on the request's connection: all committed.
    with live.rt.factory() as s:
        views = s.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "case.view"))
    assert views == 1 + USERS * ROUNDS // 2


# -- the shared connection itself -------------------------------------------------------------

NOTES = sa.Table("concurrency_note", sa.MetaData(), sa.Column("text", sa.String(20)))


@pytest.fixture
def one_connection(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sa.Engine]:
    """An engine whose pool holds a single connection: a second checkout would time out."""
    monkeypatch.setenv(db.POOL_SIZE_ENV, "1")
    monkeypatch.setenv(db.MAX_OVERFLOW_ENV, "0")
    engine = db.make_engine(database_url)
    engine.pool._timeout = 5  # noqa: SLF001 - fail fast instead of SQLAlchemy's 30 s, were it to wait
    NOTES.create(engine)
    yield engine
    NOTES.drop(engine)
    engine.dispose()


def _notes(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(sa.select(NOTES.c.text)))


def test_sessions_of_one_request_share_its_connection_and_each_keeps_its_own_commit(one_connection) -> None:  # noqa: ANN001
    shared = db.SharedConnection(one_connection)
    with shared.session() as host:
        host.execute(NOTES.insert().values(text="host"))
        # The host's transaction is open: a second session of the request joins it on the same
        # connection, and its failure rolls back only its own work.
        with pytest.raises(ZeroDivisionError), shared.session() as inner, inner.begin():
            inner.execute(NOTES.insert().values(text="lost"))
            raise ZeroDivisionError
        host.commit()
    assert one_connection.pool.checkedout() == 0  # given back as soon as no transaction was open

    # A plugin's use case, outside any host transaction, commits its own work.
    with shared.plugin_session(info={db.MISSION_INFO_KEY: "THA"}) as plugin, plugin.begin():
        assert plugin.info == {db.MISSION_INFO_KEY: "THA"}
        plugin.execute(NOTES.insert().values(text="plugin"))
    shared.close()
    assert _notes(one_connection) == ["host", "plugin"]
    with pytest.raises(RuntimeError, match="is over"):
        shared.session().execute(sa.select(1))


def test_a_plugin_session_inside_a_host_transaction_is_refused(one_connection) -> None:  # noqa: ANN001
    shared = db.SharedConnection(one_connection)
    with shared.session() as host:
        host.execute(sa.select(1))
        with pytest.raises(db.HostTransactionOpen):
            shared.plugin_session()
    with shared.plugin_session() as plugin:  # once the host's transaction is over, it may
        assert isinstance(plugin, Session)
    shared.close()


def test_pool_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    assert db.pool_settings(url) == {"pool_size": db.DEFAULT_POOL_SIZE, "max_overflow": db.DEFAULT_MAX_OVERFLOW}
    monkeypatch.setenv(db.POOL_SIZE_ENV, "3")
    monkeypatch.setenv(db.MAX_OVERFLOW_ENV, "0")
    engine = db.make_engine(url)
    assert (engine.pool.size(), engine.pool.overflow()) == (3, -3)
    engine.dispose()
    assert db.pool_settings("sqlite://") == {}  # an in-memory database has no pool to size
    for value in ("many", "0", "-1"):
        monkeypatch.setenv(db.POOL_SIZE_ENV, value)
        with pytest.raises(ValueError, match=db.POOL_SIZE_ENV):
            db.pool_settings(url)


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path) -> None:  # noqa: ANN001
    engine = db.make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    engine.dispose()
