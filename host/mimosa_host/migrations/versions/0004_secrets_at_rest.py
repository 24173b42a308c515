"""the host's secrets sealed at rest: API users' passwords, plugins' secret settings

Revision ID: 0004_secrets_at_rest
Revises: 0002
Create Date: 2026-12-04 22:10:00.000000

- ``api_user.password`` holds the password sealed (``mimosa_host.sealing``: AES-256-GCM under the
  host's key, bound to the row), hence ``Text``.
- ``plugin_enablement.secrets``: the settings a plugin's schema marks secret, each sealed, moved out
  of ``settings``. The plugins are asked which of their settings are secret; a plugin that is not
  installed (or is refused) here keeps its settings as they were, and the log says so: saving them
  again once it is installed seals them.

Downgrade opens every value back into the clear; a value that does not open (its key is gone) cannot
be put back: a secret setting is dropped, an API user's password becomes one nobody knows; the log
says which.
"""
import json
import logging
import secrets

from alembic import context, op
import sqlalchemy as sa

from mimosa_host import db, enablement, sealing


revision = '0004_secrets_at_rest'
down_revision = '0003_sign_in_throttle'
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)

API_USER = sa.table('api_user', sa.column('username', sa.String), sa.column('password', sa.Text))
ENABLEMENT = sa.table(
    'plugin_enablement',
    sa.column('id', sa.Integer),
    sa.column('mission_code', sa.String),
    sa.column('plugin_name', sa.String),
    sa.column('settings', sa.JSON),
    sa.column('secrets', sa.JSON),
)


def _secret_names() -> dict[str, set[str]]:
    """Each loadable plugin's secret settings, by plugin name."""
    from mimosa_host.plugins import PluginHost

    host = context.config.attributes.get(db.PLUGIN_HOST_ATTRIBUTE)
    if host is None:
        host = PluginHost()
        host.load_entry_points()
    names = {}
    for name in host.active_names:
        schema = host.call_one(name, 'mimosa_mission_settings_schema')
        names[name] = enablement.secret_fields(schema) if schema is not None else set()
    return names


def upgrade() -> None:
    with op.batch_alter_table('api_user', schema=None) as batch_op:
        batch_op.alter_column('password', existing_type=sa.String(length=255), type_=sa.Text(), existing_nullable=False)
    with op.batch_alter_table('plugin_enablement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('secrets', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('plugin_enablement', schema=None) as batch_op:
        batch_op.alter_column('secrets', existing_type=sa.JSON(), server_default=None, existing_nullable=False)

    conn = op.get_bind()
    for username, password in conn.execute(sa.select(API_USER.c.username, API_USER.c.password)).all():
        token = sealing.seal(password, sealing.associated_data('api_user', 'password', username))
        conn.execute(API_USER.update().where(API_USER.c.username == username).values(password=token))
    secret_names = _secret_names()
    rows = conn.execute(sa.select(ENABLEMENT.c.id, ENABLEMENT.c.mission_code, ENABLEMENT.c.plugin_name, ENABLEMENT.c.settings))
    for row_id, mission_code, plugin_name, settings in rows.all():
        if plugin_name not in secret_names:
            log.warning('plugin %s is not loaded: its settings in mission %s stay as they were', plugin_name, mission_code)
            continue
        settings = dict(settings or {})
        sealed = {
            name: sealing.seal(
                json.dumps(settings.pop(name)),
                sealing.associated_data(*enablement.secret_place(mission_code, plugin_name, name)),
            )
            for name in sorted(secret_names[plugin_name] & set(settings))
            if settings[name] is not None
        }
        conn.execute(ENABLEMENT.update().where(ENABLEMENT.c.id == row_id).values(settings=settings, secrets=sealed))


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(ENABLEMENT.c.id, ENABLEMENT.c.mission_code, ENABLEMENT.c.plugin_name, ENABLEMENT.c.settings, ENABLEMENT.c.secrets)
    )
    for row_id, mission_code, plugin_name, settings, sealed in rows.all():
        settings = dict(settings or {})
        for name, token in (sealed or {}).items():
            value = sealing.opened(token, *enablement.secret_place(mission_code, plugin_name, name))
            if value is not None:
                settings[name] = json.loads(value)
        conn.execute(ENABLEMENT.update().where(ENABLEMENT.c.id == row_id).values(settings=settings))
    for username, token in conn.execute(sa.select(API_USER.c.username, API_USER.c.password)).all():
        password = sealing.opened(token, 'api_user', 'password', username)
        # A password whose key is gone cannot come back: the user is kept under a password nobody knows
        # (an empty one would let anyone in), until an administrator gives it a new one.
        password = password if password is not None else secrets.token_urlsafe(32)
        conn.execute(API_USER.update().where(API_USER.c.username == username).values(password=password))
    with op.batch_alter_table('plugin_enablement', schema=None) as batch_op:
        batch_op.drop_column('secrets')
    with op.batch_alter_table('api_user', schema=None) as batch_op:
        batch_op.alter_column('password', existing_type=sa.Text(), type_=sa.String(length=255), existing_nullable=False)
