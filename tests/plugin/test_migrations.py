"""Each side's migrations build exactly its models, in its own version table."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ctm_plugin.domain.models import Base as CtmBase
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from mimosa_host import db
from mimosa_host.models import Base as HostBase


@pytest.mark.parametrize(
    ("metadata", "version_table"),
    [(HostBase.metadata, db.HOST_VERSION_TABLE), (CtmBase.metadata, VERSION_TABLE)],
    ids=["host", "ctm"],
)
def test_migrations_match_the_models(rt, metadata, version_table):
    with rt.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "version_table": version_table,
                "include_object": lambda obj, name, type_, *_: type_ != "table" or name in metadata.tables,
            },
        )
        assert compare_metadata(ctx, metadata) == []


def test_ctm_keeps_its_own_version_table_and_prefix(rt):
    with rt.engine.connect() as conn:
        ctm_revisions = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        host_revisions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    assert ctm_revisions and not set(ctm_revisions) & set(host_revisions)
    assert all(name.startswith("ctm_") for name in CtmBase.metadata.tables)


def test_ctm_migrations_go_down_and_up_again_without_touching_host_tables(rt):
    host_tables = set(HostBase.metadata.tables)
    command.downgrade(db.alembic_config(rt.engine, SCRIPT_LOCATION, VERSION_TABLE), "base")
    remaining = set(sa.inspect(rt.engine).get_table_names())
    assert host_tables <= remaining and not any(t.startswith("ctm_") for t in remaining)
    db.upgrade(rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    assert set(CtmBase.metadata.tables) <= set(sa.inspect(rt.engine).get_table_names())
