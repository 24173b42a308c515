"""the earlier mission reads only its flag's columns, through a view, not HQ's matches

Revision ID: ctm0031
Revises: ctm0030
Create Date: 2026-12-06 03:45:00.000000

ctm0025 (narrowed by ctm0029) let a mission's transaction read whole rows of HQ's matches: the later case's id and
number, the evidence, the score, though the application reads only the flag. Now a view,
``ctm_retrafficking_flag``, shows of each match HQ confirmed whose later case's consent is in force the earlier
mission and case, the later mission, the day the later case was opened and the status; on PostgreSQL it is a
security barrier showing only the rows of the mission set for the transaction, and the matches' SELECT policy for
a mission now lets only the view's owner (the migrations' role, which row-level security binds as well: FORCE)
read them, for the view: the application's role reads HQ's matches with HQ set alone. No row changed.
Downgrading drops the view and gives ctm0029's policy back.
"""
from alembic import op

revision = 'ctm0031'
down_revision = 'ctm0030'
branch_labels = None
depends_on = None

TABLE = "ctm_retrafficking_match"
VIEW = "ctm_retrafficking_flag"
POLICY = "ctm_earlier_mission_flag"
FLAGGED = "shared_with_earlier AND status = 'confirmed'"
OF_THE_MISSION = "earlier_mission = current_setting('ctm.mission', true)"
COLUMNS = "id, earlier_mission, earlier_case_id, later_mission, later_opened_on, status"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY {POLICY} ON {TABLE}")
        op.execute(
            f"CREATE POLICY {POLICY} ON {TABLE} FOR SELECT TO CURRENT_USER USING ({OF_THE_MISSION} AND {FLAGGED})"
        )
        # The view reads as its owner: its own WHERE scopes it, and the barrier keeps a caller's condition (a
        # function that leaks what it is given) from being evaluated on rows before it.
        op.execute(
            f"CREATE VIEW {VIEW} WITH (security_barrier) AS SELECT {COLUMNS} FROM {TABLE}"
            f" WHERE {OF_THE_MISSION} AND {FLAGGED}"
        )
    else:
        op.execute(f"CREATE VIEW {VIEW} AS SELECT {COLUMNS} FROM {TABLE} WHERE {FLAGGED}")


def downgrade() -> None:
    op.execute(f"DROP VIEW {VIEW}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY {POLICY} ON {TABLE}")
        op.execute(f"CREATE POLICY {POLICY} ON {TABLE} FOR SELECT USING ({OF_THE_MISSION} AND {FLAGGED})")
