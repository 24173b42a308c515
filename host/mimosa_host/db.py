"""Engines, sessions and migrations: the host's Alembic history and each plugin's own."""

from __future__ import annotations

import contextlib
import functools
import os
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from .plugin_api import DatabaseInfo

if TYPE_CHECKING:
    from .plugins import PluginHost

HOST_SCRIPT_LOCATION = "mimosa_host:migrations"
HOST_VERSION_TABLE = "alembic_version"


POOL_SIZE_ENV = "MIMOSA_DB_POOL_SIZE"
MAX_OVERFLOW_ENV = "MIMOSA_DB_MAX_OVERFLOW"
DEFAULT_POOL_SIZE = 10
DEFAULT_MAX_OVERFLOW = 20


def pool_settings(url: str) -> dict[str, int]:
    """The connection pool's size and overflow from ``MIMOSA_DB_POOL_SIZE`` / ``MIMOSA_DB_MAX_OVERFLOW``.

    Nothing for an in-memory SQLite database, whose single connection is not pooled that way.
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and (
        parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
    ):
        return {}
    settings = {}
    for key, env, default in (
        ("pool_size", POOL_SIZE_ENV, DEFAULT_POOL_SIZE),
        ("max_overflow", MAX_OVERFLOW_ENV, DEFAULT_MAX_OVERFLOW),
    ):
        raw = os.environ.get(env, "").strip()
        try:
            settings[key] = int(raw) if raw else default
        except ValueError:
            raise ValueError(f"{env} must be a whole number, not {raw!r}") from None
        if settings[key] < 0 or (key == "pool_size" and settings[key] == 0):
            raise ValueError(f"{env} must be at least {1 if key == 'pool_size' else 0}, not {raw!r}")
    return settings


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite database on disk (``None``: another backend, or in memory)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("mode") == "memory" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def create_private(path: Path) -> None:
    """Create ``path`` empty, readable and writable by its owner only, unless it exists.

    SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions: a database created
    here keeps its records, and the secrets they hold, from the machine's other users.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> sa.Engine:
    if (path := sqlite_file(url)) is not None:
        create_private(path)
    # hide_parameters: a database error's text must not carry the statement's values, which
    # may be case data, into a log or an error page.
    engine = sa.create_engine(url, hide_parameters=True, **pool_settings(url))
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001 - DBAPI types
            # WAL: readers and the writer do not block each other; the busy timeout makes a
            # writer wait for another's commit instead of failing at once with "database is locked".
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            # NORMAL in WAL mode: a commit is written to the log but not synced to the disk at once; a power
            # loss may lose the last commits, never corrupt the file (docs/administrators.md, "Serving").
            cursor.execute("PRAGMA synchronous=NORMAL")
            # What is deleted or overwritten (a value sealed in its place, a dropped column) is zeroed in the
            # file, not left in its free space.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @sa.event.listens_for(engine, "savepoint")
        def _begin_before_a_savepoint(connection: sa.Connection, _name: str) -> None:
            # The driver begins a transaction only before a write: a SAVEPOINT taken after reads alone
            # (a session joining a transaction that has not written yet) would begin one of its own,
            # and its RELEASE would commit alone. Begin the outer transaction first.
            if not connection.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
                connection.exec_driver_sql("BEGIN")

    return engine


def durable_commits(engine: sa.Engine) -> None:
    """On SQLite, each of ``engine``'s commits synced to the disk before it returns (``synchronous=FULL``).

    For the jobs process: the relay's claim of a message, committed before it calls the host, then makes
    durable the log up to it (the booking and its message, committed by a web worker with ``NORMAL``), so
    that no power loss forgets what the host was asked (docs/administrators.md, "Serving"). Nothing to do
    on PostgreSQL, whose commits are durable.
    """
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _full(dbapi_connection, _record):  # noqa: ANN001 - DBAPI types
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    engine.dispose()  # a connection already pooled is made again, with the setting


def make_session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


MISSION_INFO_KEY = "mission_code"
"""The key of ``Session.info`` naming the mission a plugin's session is bound to."""


def mission_sessions(factory: Callable[..., Session], mission_code: str) -> Callable[[], Session]:
    """A session factory whose sessions carry ``info["mission_code"]``; the plugin scopes its own tables by it."""
    return functools.partial(factory, info={MISSION_INFO_KEY: mission_code})


class WriteRefused(PermissionError):
    """A plugin-wide job's session was asked to write a table its job does not declare (``Job.writes``,
    ``Job.mission_writes``): a bug of the plugin, never the user's input."""


def writing_only(factory: Callable[..., Session], tables: frozenset[str]) -> Callable[..., Session]:
    """A session factory whose sessions write ``tables`` alone (by name): a flush of any other table's row,
    or an ORM ``INSERT``/``UPDATE``/``DELETE`` statement on one, raises :class:`WriteRefused`; they read as any.
    With no tables, a reader."""

    def refuse(table: str) -> None:
        if table not in tables:
            raise WriteRefused(f"a write to {table} this job does not declare")

    def _flush(session: Session, _context: object, _instances: object) -> None:
        changed = [obj for obj in session.dirty if session.is_modified(obj)]  # a value set again is no write
        for obj in (*session.new, *changed, *session.deleted):
            refuse(sa.inspect(obj).mapper.persist_selectable.name)

    def _statement(state: Any) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            refuse(state.statement.table.name)

    def open_session(**kwargs: Any) -> Session:
        session = factory(**kwargs)
        sa.event.listen(session, "before_flush", _flush)
        sa.event.listen(session, "do_orm_execute", _statement)
        return session

    return open_session


READ_IN_TRANSACTION = {"join_transaction_mode": "rollback_only"}
"""A host session that only reads, opened while a plugin's transaction is open on the shared connection: it
reads in that transaction, with no SAVEPOINT of its own (two round trips fewer); it writes nothing, commits
nothing and leaves the transaction as it found it (an error in it rolls the whole transaction back, as an error
would anyway). Alone on the connection, it begins and rolls back its own, as any session does."""


class HostTransactionOpen(RuntimeError):
    """A plugin asked for a session while the host held a transaction on the shared connection: a host bug.

    The plugin's session would join that transaction, and its commit would not be its own.
    """


class SharedConnection:
    """One pooled connection shared by every session of a request (or of a job's run, or of a command).

    A session opened while another holds a transaction joins it on the same connection (a
    SAVEPOINT, so that its rollback stays its own) instead of asking the pool for a second
    connection: a request never holds one connection while it waits for another, which under
    load none would give back. The connection goes back to the pool as soon as no transaction
    is open on it, and the next session checks one out again.

    The host opens its own sessions with :meth:`session` and hands plugins
    :meth:`plugin_session`; a plugin's use case commits its own work, so the host holds no
    transaction while plugin code runs (:class:`HostTransactionOpen` otherwise).
    """

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._connection: sa.Connection | None = None
        self._host_sessions: weakref.WeakSet[Session] = weakref.WeakSet()
        self._closed = False

    def connection(self) -> sa.Connection:
        if self._closed:
            raise RuntimeError("the request (or job, or command) this connection served is over")
        if self._connection is None:
            self._connection = self.engine.connect()
        return self._connection

    def session(self, **kwargs: Any) -> Session:
        """A host session on the shared connection (joining a transaction open on it with a SAVEPOINT, unless
        ``join_transaction_mode`` says otherwise: :data:`READ_IN_TRANSACTION`)."""
        session = _SharedSession(self, **kwargs)
        self._host_sessions.add(session)
        return session

    def plugin_session(self, **kwargs: Any) -> Session:
        """A plugin's session on the shared connection; it begins and commits its own transaction."""
        if any(session.in_transaction() for session in self._host_sessions):
            raise HostTransactionOpen("a plugin session was asked for inside a host transaction")
        return _SharedSession(self, **kwargs)

    def _release(self) -> None:
        if self._connection is not None and not self._connection.in_transaction():
            self._connection.close()
            self._connection = None

    def close(self) -> None:
        """Give the connection back (rolling back whatever is still open) and serve no more sessions."""
        self._closed = True
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class _SharedSession(Session):
    """A session whose connection is its :class:`SharedConnection`'s, checked out when first needed."""

    def __init__(self, shared: SharedConnection, **kwargs: Any) -> None:
        kwargs.setdefault("join_transaction_mode", "create_savepoint")
        super().__init__(expire_on_commit=False, **kwargs)
        self._shared = shared
        sa.event.listen(self, "after_transaction_end", _release_when_done)

    def get_bind(self, *_args: Any, **_kwargs: Any) -> sa.Connection:
        return self._shared.connection()


def _release_when_done(session: _SharedSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session._shared._release()


@contextmanager
def transaction(factory: Callable[[], Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with factory() as session, session.begin():
        yield session


def grant_application_role(engine: sa.Engine, role: str, version_tables: list[str]) -> None:
    """Let ``role`` (the application's PostgreSQL role) read and write the rows of every table of the schema,
    today's and those the owner (``engine``'s user) creates later, without owning any: row-level security
    (FORCE) binds it. The migrations' version tables it may only read (it checks they are at head).
    """
    with engine.begin() as conn:
        quote = conn.dialect.identifier_preparer.quote
        schema, who = quote(conn.scalar(sa.text("SELECT current_schema()"))), quote(role)
        for statement in (
            f"GRANT USAGE ON SCHEMA {schema} TO {who}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {who}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {who}",
            *(f"REVOKE INSERT, UPDATE, DELETE ON {quote(table)} FROM {who}" for table in version_tables),
        ):
            conn.exec_driver_sql(statement)


PLUGIN_HOST_ATTRIBUTE = "plugin_host"
"""The config attribute a host migration finds the running :class:`~mimosa_host.plugins.PluginHost` under
(0004 asks the plugins which settings are secret); a migration run without one loads the entry points."""


def alembic_config(
    engine: sa.Engine | sa.Connection, script_location: str, version_table: str, **attributes: Any
) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["engine"] = engine
    cfg.attributes["version_table"] = version_table
    cfg.attributes.update(attributes)
    return cfg


def upgrade(
    engine: sa.Engine, script_location: str, version_table: str, revision: str = "head", **attributes: Any
) -> None:
    command.upgrade(alembic_config(engine, script_location, version_table, **attributes), revision)


def upgrade_host(engine: sa.Engine, plugin_host: PluginHost | None = None) -> None:
    upgrade(engine, HOST_SCRIPT_LOCATION, HOST_VERSION_TABLE, "head", **{PLUGIN_HOST_ATTRIBUTE: plugin_host})


def scrub(engine: sa.Engine) -> None:
    """After migrations changed rows, leave nothing they replaced in an SQLite file: ``VACUUM`` rewrites it
    without the free pages earlier releases left (before ``secure_delete``), and a truncating checkpoint
    empties the write-ahead log. Nothing to do on PostgreSQL, whose old row versions are not the table's
    rows and go with its routine vacuum."""
    if engine.dialect.name != "sqlite" or sqlite_file(str(engine.url)) is None:
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM")
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def upgrade_plugin(engine: sa.Engine, database: DatabaseInfo, revision: str = "head") -> None:
    upgrade(engine, database.script_location, database.version_table, revision)


def revision_state(
    bind: sa.Engine | sa.Connection, script_location: str, version_table: str
) -> tuple[set[str], set[str]]:
    """(current revisions in the database, head revisions of the scripts); a connection is read as it is."""
    heads = set(ScriptDirectory.from_config(alembic_config(bind, script_location, version_table)).get_heads())
    with nullcontext(bind) if isinstance(bind, sa.Connection) else bind.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": version_table})
        current = set(ctx.get_current_heads())
    return current, heads


def plugin_at_head(engine: sa.Engine | sa.Connection, database: DatabaseInfo) -> bool:
    current, heads = revision_state(engine, database.script_location, database.version_table)
    return current == heads
