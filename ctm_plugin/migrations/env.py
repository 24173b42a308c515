"""Alembic environment for the CTM's tables, with its own version table ``alembic_version_ctm``.

The host runs it with its engine in ``config.attributes``; autogenerate sees only
``ctm_`` tables, so the host's tables are never touched.

On SQLite, foreign keys are off while the migrations run: batch mode rebuilds a table by copying it
and dropping the original, and with them on that drop would delete (ON DELETE CASCADE) or clear (SET
NULL) the rows of other tables that refer to it. Every link is checked before the migrations commit.

On PostgreSQL the CTM's tables are under row-level security (ctm0017) and the migrations run as their
owner, which must bypass it (a superuser, or a role with BYPASSRLS): a data step must see every
mission's rows, which an owner bound by FORCE would not (it would see none).
"""

from alembic import context

from ctm_plugin.domain.models import Base
from ctm_plugin.hooks.database import VERSION_TABLE

config = context.config
engine = config.attributes["engine"]


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001 - Alembic's signature
    return type_ != "table" or name in Base.metadata.tables


class CannotMigrate(RuntimeError):
    """The database refuses what the migrations need: the message says what to change."""


def _bypasses_row_security(connection) -> bool:  # noqa: ANN001 - a SQLAlchemy Connection
    query = "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
    bypasses = bool(connection.exec_driver_sql(query).scalar())
    connection.rollback()  # the migrations begin their own transaction
    return bypasses


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # outside a transaction, or it is ignored
        connection.commit()
    elif connection.dialect.name == "postgresql" and not _bypasses_row_security(connection):
        raise CannotMigrate(
            "the CTM's migrations run as the owner of its tables with BYPASSRLS (or as a superuser): "
            "see docs/administrators.md, 'PostgreSQL: the application role and row-level security'"
        )
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table=VERSION_TABLE,
            include_object=include_object,
            render_as_batch=True,
        )
        # Alembic owns the transaction, so that a migration can step out of it (``autocommit_block``:
        # ctm0018's VACUUM on SQLite); everything else runs in that one transaction, checked before it commits.
        with context.begin_transaction():
            context.run_migrations()
            if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()):
                raise CannotMigrate(f"links broken by the migrations (table, row, referred table): {broken}")
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
