"""Engines, sessions and migrations: the host's Alembic history and each plugin's own."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session, sessionmaker

from .plugin_api import DatabaseInfo

HOST_SCRIPT_LOCATION = "mimosa_host:migrations"
HOST_VERSION_TABLE = "alembic_version"


def make_engine(url: str) -> sa.Engine:
    # hide_parameters: a database error's text must not carry the statement's values, which
    # may be case data, into a log or an error page.
    engine = sa.create_engine(url, hide_parameters=True)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # noqa: ANN001 - DBAPI types
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


def make_session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


MISSION_INFO_KEY = "mission_code"
"""The key of ``Session.info`` naming the mission a plugin's session is bound to."""


def mission_sessions(factory: Callable[..., Session], mission_code: str) -> Callable[[], Session]:
    """A session factory whose sessions carry ``info["mission_code"]``; the plugin scopes its own tables by it."""
    return functools.partial(factory, info={MISSION_INFO_KEY: mission_code})


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(engine: sa.Engine, script_location: str, version_table: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.attributes["engine"] = engine
    cfg.attributes["version_table"] = version_table
    return cfg


def upgrade(engine: sa.Engine, script_location: str, version_table: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine, script_location, version_table), revision)


def upgrade_host(engine: sa.Engine) -> None:
    upgrade(engine, HOST_SCRIPT_LOCATION, HOST_VERSION_TABLE)


def upgrade_plugin(engine: sa.Engine, database: DatabaseInfo, revision: str = "head") -> None:
    upgrade(engine, database.script_location, database.version_table, revision)


def revision_state(engine: sa.Engine, script_location: str, version_table: str) -> tuple[set[str], set[str]]:
    """(current revisions in the database, head revisions of the scripts)."""
    heads = set(ScriptDirectory.from_config(alembic_config(engine, script_location, version_table)).get_heads())
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": version_table})
        current = set(ctx.get_current_heads())
    return current, heads


def plugin_at_head(engine: sa.Engine, database: DatabaseInfo) -> bool:
    current, heads = revision_state(engine, database.script_location, database.version_table)
    return current == heads
