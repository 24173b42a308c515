"""The CTM's own tables and the pure rules that work on them.

Importing this package registers every table on :data:`models.Base.metadata`, which the
Alembic environment and the ``mimosa_database`` hook hand on.
"""

from . import (  # noqa: F401 - registers the tables
    assistance,
    audit,
    case,
    due,
    fund,
    handover,
    monitoring,
    partner_service,
    partners,
    preparation,
    process,
    reintegration,
    research,
    retrafficking,
    returns,
    screening,
    sync,
    trends,
)
