"""the earlier mission reads its re-trafficking flag in its own session

Revision ID: ctm0025
Revises: ctm0024
Create Date: 2026-12-06 00:15:00.000000

On PostgreSQL, a second row-level security policy on HQ's matches, for SELECT only: a mission's transaction
reads the matches naming one of its cases as the earlier one, that the matching job marked visible to it (the
later case's consent to a hand-over in force, ``shared_with_earlier``) and that HQ has not dismissed. Policies
are permissive, so this adds to HQ's (``ctm_scope``); writes stay HQ's only. No schema change: on SQLite, the
ORM's scope is the only one (``RetraffickingMatch.read_in_mission``). Downgrading drops the policy.
"""
from alembic import op

revision = 'ctm0025'
down_revision = 'ctm0024'
branch_labels = None
depends_on = None

TABLE = "ctm_retrafficking_match"
POLICY = "ctm_earlier_mission_flag"
FLAG_OF_THE_MISSION = (
    "earlier_mission = current_setting('ctm.mission', true) AND shared_with_earlier AND status <> 'dismissed'"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE POLICY {POLICY} ON {TABLE} FOR SELECT USING ({FLAG_OF_THE_MISSION})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY {POLICY} ON {TABLE}")
