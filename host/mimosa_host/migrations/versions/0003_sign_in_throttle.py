"""Sign-in throttled per client address, a TOTP second factor with recovery codes, and administrators' actions

Revision ID: 0003_sign_in_throttle
Revises: 0002
Create Date: 2026-12-04 22:00:00

The per-account failure count (``failed_logins``, ``last_failed_login``) goes: anyone could lock a
known account out with it. Failures are counted per client address in ``sign_in_throttle`` instead;
a count only slows sign-in down, so dropping the old one loses nothing a person entered.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_sign_in_throttle'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('step', sa.String(length=8), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_throttle')),
    sa.UniqueConstraint('address', 'account', 'step', name=op.f('uq_sign_in_throttle_address_account_step'))
    )
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_throttle_last_failure'), ['last_failure'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)

    op.create_table('admin_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_action'))
    )
    # Plain ALTER TABLE, not batch mode: a batch would copy user_account and drop the original, and with
    # foreign keys on, SQLite would cascade that drop to every role grant. SQLite 3.35+ adds and drops
    # such columns in place.
    op.add_column('user_account', sa.Column('totp_secret', sa.Text(), nullable=True))
    op.add_column('user_account', sa.Column('second_factor_since', sa.DateTime(timezone=True), nullable=True))
    op.add_column('user_account', sa.Column('totp_last_step', sa.Integer(), nullable=True))
    op.drop_column('user_account', 'last_failed_login')
    op.drop_column('user_account', 'failed_logins')


def downgrade() -> None:
    op.add_column('user_account', sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('user_account', sa.Column('last_failed_login', sa.DateTime(timezone=True), nullable=True))
    op.drop_column('user_account', 'totp_last_step')
    op.drop_column('user_account', 'second_factor_since')
    op.drop_column('user_account', 'totp_secret')
    op.drop_table('admin_action')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))

    op.drop_table('recovery_code')
    with op.batch_alter_table('sign_in_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_throttle_last_failure'))

    op.drop_table('sign_in_throttle')
