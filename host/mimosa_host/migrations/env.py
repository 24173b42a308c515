"""Alembic environment for the host's own tables (version table ``alembic_version``)."""

from alembic import context

from mimosa_host.models import Base

config = context.config
engine = config.attributes["engine"]


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001 - Alembic's signature
    # Plugins' tables share the database; autogenerate must only see the host's.
    return type_ != "table" or name in Base.metadata.tables


with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table=config.attributes["version_table"],
        include_object=include_object,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
