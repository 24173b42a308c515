"""row-level security on PostgreSQL; a case's rows refer to it in their own mission (composite keys)

On PostgreSQL every table with mission data gets ROW LEVEL SECURITY, ENABLEd and FORCEd (FORCE: the
tables' owner is bound too, unless it is a superuser or has BYPASSRLS, as the migrations' role must), with
one policy, for every command:

- a mission's rows (``mission_code``): visible and writable when ``mission_code`` is the transaction's
  ``ctm.mission`` (set by ``domain/scope.py``'s sessions with ``set_config(..., true)``);
- a hand-over and its history (``from_mission``, ``to_mission``): when either side is ``ctm.mission``;
- HQ's rows of no mission (the emergency fund, its entries): when ``ctm.hq`` is ``on`` (an HQ session);
- rows that carry no mission of their own but hang under one row that does: a case's trail of
  hand-overs (``ctm_case_handover``) when its case is visible, a perpetrator's link to an event
  (``ctm_perpetrator_event``) when its perpetrator is visible.

Left as they are, since they hold no mission data: ``ctm_mission`` (the activation registry: which
mission enabled the CTM, when, by whom, its case-number prefix; the enable/disable hooks and the jobs
read it across missions) and ``alembic_version_ctm`` (the revision). With no ``ctm.mission`` set a
session sees nothing of the rest.

On both backends every mission's row under a case (``case_id`` and ``mission_code``) refers to
``ctm_case(id, mission_code)`` (a new unique constraint) instead of ``ctm_case(id)``: no row can hang
under another mission's case. The audit event keeps its one-column key: it outlives its case (ON
DELETE SET NULL), which a composite key would turn into clearing its mission too. On SQLite each table
is rebuilt (batch mode); ``migrations/env.py`` turns foreign keys off meanwhile, so a rebuilt table's
drop neither cascades nor clears the links other tables hold to it, and checks them all after.

Revision ID: ctm0017
Revises: ctm0016
Create Date: 2026-12-04 22:00:00.000000
"""
from alembic import op

from ctm_plugin.migrations.steps import MISSION_SCOPE, POLICY, row_security


revision = 'ctm0017'
down_revision = 'ctm0016'
branch_labels = None
depends_on = None

CASE_ROWS = (
    'ctm_case_closure', 'ctm_consent', 'ctm_determination', 'ctm_disbursement', 'ctm_event', 'ctm_follow_up',
    'ctm_fund_request', 'ctm_host_link', 'ctm_ledger_entry', 'ctm_monitoring_start', 'ctm_monitoring_visit',
    'ctm_outbox', 'ctm_perpetrator', 'ctm_person', 'ctm_plan_element', 'ctm_plan_revision', 'ctm_reception',
    'ctm_referral', 'ctm_reintegration_plan', 'ctm_return', 'ctm_return_preparation', 'ctm_screening',
    'ctm_service', 'ctm_victim_context',
)
"""A mission's rows under a case: their key to it becomes (case_id, mission_code)."""

MISSION_ROWS = (
    'ctm_audit_event', 'ctm_case', 'ctm_feed_position', 'ctm_inbox', 'ctm_job_outcome', 'ctm_mapping_override',
    'ctm_scoring_model', 'ctm_screening_candidate', *CASE_ROWS,
)
BETWEEN_MISSIONS = ('ctm_handover', 'ctm_handover_event')
HQ_ROWS = ('ctm_fund', 'ctm_fund_entry')

MISSION = "current_setting('ctm.mission', true)"  # as in steps.MISSION_SCOPE
POLICIES = {
    **{table: MISSION_SCOPE for table in MISSION_ROWS},
    **{table: f"{MISSION} IN (from_mission, to_mission)" for table in BETWEEN_MISSIONS},
    **{table: "current_setting('ctm.hq', true) = 'on'" for table in HQ_ROWS},
    'ctm_case_handover': 'EXISTS (SELECT 1 FROM ctm_case WHERE ctm_case.id = ctm_case_handover.case_id)',
    'ctm_perpetrator_event': (
        'EXISTS (SELECT 1 FROM ctm_perpetrator WHERE ctm_perpetrator.id = ctm_perpetrator_event.perpetrator_id)'
    ),
}


def _case_key(table: str) -> str:
    return f'fk_{table}_case_id_ctm_case'


def upgrade() -> None:
    with op.batch_alter_table('ctm_case', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_ctm_case_id_mission_code', ['id', 'mission_code'])
    for table in CASE_ROWS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(_case_key(table), type_='foreignkey')
            batch_op.create_foreign_key(
                _case_key(table), 'ctm_case', ['case_id', 'mission_code'], ['id', 'mission_code'], ondelete='CASCADE'
            )
    if op.get_bind().dialect.name == 'postgresql':
        for table, condition in POLICIES.items():
            row_security(table, condition)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in POLICIES:
            op.execute(f'DROP POLICY {POLICY} ON {table}')
            op.execute(f'ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY')
            op.execute(f'ALTER TABLE {table} DISABLE ROW LEVEL SECURITY')
    for table in CASE_ROWS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(_case_key(table), type_='foreignkey')
            batch_op.create_foreign_key(_case_key(table), 'ctm_case', ['case_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('ctm_case', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ctm_case_id_mission_code', type_='unique')
