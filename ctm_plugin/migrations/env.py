"""Alembic environment for the CTM's tables, with its own version table ``alembic_version_ctm``.

The host runs it with its engine in ``config.attributes``; autogenerate sees only
``ctm_`` tables, so the host's tables are never touched.
"""

from alembic import context

from ctm_plugin.domain.models import Base
from ctm_plugin.hooks.database import VERSION_TABLE

config = context.config
engine = config.attributes["engine"]


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001 - Alembic's signature
    return type_ != "table" or name in Base.metadata.tables


# connect(), not begin(): Alembic then owns the transaction, so that a migration can step out of it
# (``autocommit_block``: ctm0018's VACUUM on SQLite); everything else still runs in that one transaction.
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        include_object=include_object,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
