"""the earlier mission reads its re-trafficking flag once HQ confirmed the match

Revision ID: ctm0029
Revises: ctm0028
Create Date: 2026-12-06 02:45:00.000000

On PostgreSQL, the row-level security policy letting a mission read its flag (ctm0025) narrowed: the matches
naming one of its cases as the earlier one, marked visible to it by the matching job (the later case's consent
in force) and **confirmed** by HQ. An open match may be two people alike: only HQ sees it until HQ confirms it
(``RetraffickingMatch.read_in_mission`` says the same to the ORM, the only scope on SQLite). No schema change, no
row changed. Downgrading gives ctm0025's policy back (any match not dismissed).
"""
from alembic import op

revision = 'ctm0029'
down_revision = 'ctm0028'
branch_labels = None
depends_on = None

TABLE = "ctm_retrafficking_match"
POLICY = "ctm_earlier_mission_flag"
OF_THE_MISSION = "earlier_mission = current_setting('ctm.mission', true) AND shared_with_earlier"
CONFIRMED = f"{OF_THE_MISSION} AND status = 'confirmed'"
NOT_DISMISSED = f"{OF_THE_MISSION} AND status <> 'dismissed'"


def _policy(using: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY {POLICY} ON {TABLE}")
        op.execute(f"CREATE POLICY {POLICY} ON {TABLE} FOR SELECT USING ({using})")


def upgrade() -> None:
    _policy(CONFIRMED)


def downgrade() -> None:
    _policy(NOT_DISMISSED)
