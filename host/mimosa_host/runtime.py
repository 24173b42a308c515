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
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        if host is None:
            host = PluginHost()
            host.load_entry_points()
        engine = db.make_engine(url)
        return cls(engine, db.make_session_factory(engine), host)

    def upgrade_all(self) -> list[str]:
        """Bring the host's tables and every active plugin's tables to their head revisions."""
        db.upgrade_host(self.engine)
        upgraded = []
        for name, database in self.host.call_each("mimosa_database"):
            if database is not None:
                db.upgrade_plugin(self.engine, database)
                upgraded.append(name)
        return upgraded
