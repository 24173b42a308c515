"""Engines, sessions and migrations: the host's Alembic history and each plugin's own."""

from __future__ import annotations

import contextlib
import functools
import os
import re
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


_STATEMENT_TOKEN = re.compile(
    r"""(?P<space>\s+|--[^\n]*|/\*.*?\*/)|(?P<literal>'(?:[^']|'')*')|"(?P<quoted>(?:[^"]|"")*)"|(?P<word>[A-Za-z_][A-Za-z0-9_$]*)|(?P<other>.)""",
    re.DOTALL,
)
_READS = frozenset({"SELECT", "WITH", "SET", "SHOW", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "BEGIN"})
"""The statements that write no table's rows (a ``SELECT`` or ``WITH`` with no write in it)."""
_TARGET_AFTER = {"INSERT": "INTO", "REPLACE": "INTO", "UPDATE": None, "DELETE": "FROM", "MERGE": "INTO"}
"""A row-writing statement, and the word before its one target table (its own ``ON CONFLICT`` writes the same)."""
_NOISE = frozenset({"ONLY", "TABLE"})
_WRITE_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "REPLACE", "TRUNCATE", "COPY", "INTO"})


class _Unattributable(Exception):
    """A statement whose written tables cannot be told for certain."""


def _tokens(statement: str) -> list[tuple[str, str]]:
    """``(kind, text)`` of each token: ``word`` (upper-cased), ``name`` (a quoted identifier), ``literal``,
    ``other`` (one character); a backslash, a dollar quote or a second statement is :class:`_Unattributable`."""
    if "\\" in statement:
        raise _Unattributable  # an escape, in a string (E'...') or out of one, could end a string early
    tokens: list[tuple[str, str]] = []
    for match in _STATEMENT_TOKEN.finditer(statement):
        kind = match.lastgroup
        if kind == "space":
            continue
        if kind == "word":
            tokens.append(("word", match.group().upper()))
        elif kind == "quoted":
            tokens.append(("name", match.group("quoted").replace('""', '"')))
        elif kind == "literal":
            tokens.append(("literal", ""))
        elif (char := match.group()) in "\\$'\"":
            raise _Unattributable  # an escape, a dollar quote, a quote left open
        else:
            tokens.append(("other", char))
    while tokens and tokens[-1] == ("other", ";"):
        tokens.pop()
    if ("other", ";") in tokens:
        raise _Unattributable  # a second statement
    return tokens


def written_tables(statement: str) -> frozenset[str]:
    """The tables whose rows ``statement`` (SQL text, as sent to the driver) writes: none for a read or a
    transaction's control; :class:`_Unattributable` for anything else (schema changes, grants, a statement
    this cannot read for certain)."""
    tokens = _tokens(statement)
    words = [text for kind, text in tokens if kind == "word"]
    if not tokens or tokens[0][0] != "word":
        raise _Unattributable
    first = tokens[0][1]
    if first in _READS:
        if first in ("SELECT", "WITH") and any(
            word in _WRITE_WORDS and not (word == "UPDATE" and before in ("FOR", "KEY"))
            for before, word in zip(["", *words], words, strict=False)
        ):
            raise _Unattributable  # a write in a common table expression, or SELECT INTO a new table
        return frozenset()
    rest = iter(tokens[1:])
    if first == "TRUNCATE":
        return frozenset(_names(rest))
    if first not in _TARGET_AFTER:
        raise _Unattributable
    if first in ("INSERT", "UPDATE") and tokens[1:2] == [("word", "OR")]:  # SQLite's INSERT OR REPLACE
        next(rest), next(rest)
    if (after := _TARGET_AFTER[first]) is not None and next(rest, None) != ("word", after):
        raise _Unattributable
    return frozenset(_names(rest, many=False))


def _names(tokens: Iterator[tuple[str, str]], many: bool = True) -> Iterator[str]:
    """The table names at the head of ``tokens`` (one, or a list separated by commas); a name qualified by
    its schema is :class:`_Unattributable` (another schema's table of the same name is not the one declared)."""
    token = next(tokens, None)
    while token is not None and token[0] == "word" and token[1] in _NOISE:
        token = next(tokens, None)
    while True:
        if token is None or token[0] not in ("word", "name"):
            raise _Unattributable
        yield token[1].lower() if token[0] == "word" else token[1]
        token = next(tokens, None)
        if token == ("other", "."):
            raise _Unattributable
        if not many or token != ("other", ","):
            return
        token = next(tokens, None)


_TRANSACTION_WRITES: weakref.WeakKeyDictionary[sa.Connection, dict[int, tuple[sa.Transaction, frozenset[str] | None]]]
_TRANSACTION_WRITES = weakref.WeakKeyDictionary()
"""For a connection shared by guarded sessions: each open transaction (or savepoint) of one, by ``id``, and the
tables it may write (``None``: a host session's, any)."""


def _mark(connection: sa.Connection, tables: frozenset[str] | None, claim: bool) -> None:
    """Mark the connection's innermost transaction, just begun by a session, as writing ``tables``; a session
    that did not claim it (a host's) leaves a guarded session's mark in place (it joined that transaction)."""
    transaction = connection.get_nested_transaction() or connection.get_transaction()
    if transaction is None:
        return
    marks = _TRANSACTION_WRITES.setdefault(connection, {})
    for key in [key for key, (marked, _tables) in marks.items() if not marked.is_active]:
        del marks[key]
    if not claim and id(transaction) in marks:
        return
    marks[id(transaction)] = (transaction, tables)
    if claim and not sa.event.contains(connection, "before_cursor_execute", _refuse_undeclared):
        sa.event.listen(connection, "before_cursor_execute", _refuse_undeclared)


def _refuse_undeclared(connection: sa.Connection, _cursor: object, statement: str, *_args: object) -> None:
    """Before any statement on a connection a guarded session used: in a guarded transaction (the innermost
    open one, or else the outermost), refuse what writes another table than it declares."""
    marks = _TRANSACTION_WRITES.get(connection, {})
    for transaction in (connection.get_nested_transaction(), connection.get_transaction()):
        if transaction is not None and (mark := marks.get(id(transaction))) and mark[0] is transaction:
            tables = mark[1]
            break
    else:
        return
    if tables is None:
        return  # a host session's savepoint: the host's own write
    try:
        undeclared = sorted(written_tables(statement) - tables)
    except _Unattributable:
        raise WriteRefused("a statement this job's declared writes do not cover") from None
    if undeclared:
        raise WriteRefused(f"a write to {', '.join(undeclared)} this job does not declare")


def host_session_marks(session: Session) -> None:
    """Let ``session`` (the host's own, on a shared connection) write, in a savepoint of its own, while a
    guarded session's transaction is open on the connection."""
    sa.event.listen(session, "after_begin", lambda _s, _t, connection: _mark(connection, None, claim=False))


def writing_only(factory: Callable[..., Session], tables: frozenset[str]) -> Callable[..., Session]:
    """A session factory whose sessions write ``tables`` alone (by name); they read as any. With no tables, a
    reader.

    Every statement sent on the session's connection while its transaction (or a savepoint of its own) is the
    innermost open there is read before it goes: an ``INSERT``/``UPDATE``/``DELETE``/``MERGE``/``TRUNCATE`` of
    another table, a schema change, a grant, ``COPY``, or anything whose target is not certain raises
    :class:`WriteRefused` and reaches no database, whether it came from a flush, a statement, a bulk method, or
    raw SQL on ``session.connection()``. A host session's own savepoint on the same connection is not
    guarded."""

    def open_session(**kwargs: Any) -> Session:
        session = factory(**kwargs)
        sa.event.listen(session, "after_begin", lambda _s, _t, connection: _mark(connection, tables, claim=True))
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
        host_session_marks(session)
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
