"""What a running host holds: its database engine, a session factory and the loaded plugins."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from . import db
from .plugins import PluginHost

DATABASE_ENV = "MIMOSA_DATABASE_URL"


def default_database_url() -> str:
    return os.environ.get(DATABASE_ENV) or f"sqlite:///{Path('var').resolve() / 'mimosa.db'}"


@dataclass
class Runtime:
    engine: sa.Engine
    factory: sessionmaker[Session]
    host: PluginHost

    @classmethod
    def from_url(cls, url: str | None = None, host: PluginHost | None = None) -> Runtime:
        """A runtime on ``url``; with no ``host``, plugins are loaded from their entry points."""
        url = url or default_database_url()
        if host is None:
            host = PluginHost()
            host.load_entry_points()
        engine = db.make_engine(url)
        return cls(engine, db.make_session_factory(engine), host)

    def upgrade_all(self) -> list[str]:
        """Bring the host's tables and every active plugin's tables to their head revisions.

        When a migration ran, what it replaced is scrubbed from an SQLite file (:func:`db.scrub`).
        """
        histories = [(db.HOST_SCRIPT_LOCATION, db.HOST_VERSION_TABLE)]
        databases = [(name, database) for name, database in self.host.call_each("mimosa_database") if database]
        histories += [(database.script_location, database.version_table) for _name, database in databases]
        before = [db.revision_state(self.engine, *history)[0] for history in histories]
        db.upgrade_host(self.engine, self.host)
        for _name, database in databases:
            db.upgrade_plugin(self.engine, database)
        if before != [db.revision_state(self.engine, *history)[0] for history in histories]:
            db.scrub(self.engine)
        return [name for name, _database in databases]
