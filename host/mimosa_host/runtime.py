"""What a running host holds: its database engine, a session factory and the loaded plugins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from . import db
from .plugins import PluginHost

DATABASE_ENV = "MIMOSA_DATABASE_URL"
MIGRATION_DATABASE_ENV = "MIMOSA_MIGRATION_DATABASE_URL"


def default_database_url() -> str:
    return os.environ.get(DATABASE_ENV) or f"sqlite:///{Path('var').resolve() / 'mimosa.db'}"


@dataclass
class Runtime:
    engine: sa.Engine
    factory: sessionmaker[Session]
    host: PluginHost
    migration_url: str | None = None
    """The URL of the tables' owner, for migrations and grants; ``None``: the engine's own.

    On PostgreSQL the application connects as a role that does not own the tables (row-level security
    binds it: docs/administrators.md), and only migrations connect as their owner."""

    @classmethod
    def from_url(
        cls, url: str | None = None, host: PluginHost | None = None, migration_url: str | None = None
    ) -> Runtime:
        """A runtime on ``url``, migrating through ``migration_url`` (or ``MIMOSA_MIGRATION_DATABASE_URL``, or
        ``url`` itself); with no ``host``, plugins are loaded from their entry points."""
        url = url or default_database_url()
        migration_url = migration_url or os.environ.get(MIGRATION_DATABASE_ENV) or None
        if host is None:
            host = PluginHost()
            host.load_entry_points()
        engine = db.make_engine(url)
        return cls(engine, db.make_session_factory(engine), host, migration_url)

    @contextmanager
    def owner_engine(self) -> Iterator[sa.Engine]:
        """An engine connected as the tables' owner: the application's, unless a migration URL is set."""
        if self.migration_url is None:
            yield self.engine
            return
        engine = db.make_engine(self.migration_url)
        try:
            yield engine
        finally:
            engine.dispose()

    def version_tables(self) -> list[str]:
        """The host's Alembic version table and every active plugin's."""
        plugins = (info.version_table for _name, info in self.host.call_each("mimosa_database") if info is not None)
        return [db.HOST_VERSION_TABLE, *plugins]

    def upgrade_all(self) -> list[str]:
        """Bring the host's tables and every active plugin's tables to their head revisions, as their owner.

        When a migration ran, what it replaced is scrubbed from an SQLite file (:func:`db.scrub`).
        """
        histories = [(db.HOST_SCRIPT_LOCATION, db.HOST_VERSION_TABLE)]
        databases = [(name, database) for name, database in self.host.call_each("mimosa_database") if database]
        histories += [(database.script_location, database.version_table) for _name, database in databases]
        with self.owner_engine() as engine:
            before = [db.revision_state(engine, *history)[0] for history in histories]
            db.upgrade_host(engine, self.host)
            for _name, database in databases:
                db.upgrade_plugin(engine, database)
            if before != [db.revision_state(engine, *history)[0] for history in histories]:
                db.scrub(engine)
        return [name for name, _database in databases]
