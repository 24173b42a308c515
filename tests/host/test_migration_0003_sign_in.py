"""0003_sign_in_throttle on a database with users: their accounts, passwords and role grants come through (the
old per-account failure count goes), they sign in, and back down."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from mimosa_host import db, passwords
from mimosa_host.accounts import authenticate
from mimosa_host.db import HOST_SCRIPT_LOCATION, HOST_VERSION_TABLE

REVISION = "0003_sign_in_throttle"
NEW_TABLES = {"sign_in_throttle", "recovery_code", "admin_action"}


def test_0003_keeps_users_and_their_grants_and_drops_only_the_failure_count(rt) -> None:  # noqa: ANN001
    cfg = db.alembic_config(rt.engine, HOST_SCRIPT_LOCATION, HOST_VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(rt.engine).get_table_names())
    with rt.engine.begin() as conn:  # a user resting after failures, as the release before wrote it
        conn.execute(sa.text("INSERT INTO mission (code, name, country) VALUES ('THA', 'Thailand', 'THA')"))
        conn.execute(
            sa.text(
                "INSERT INTO user_account (username, display_name, password_hash, is_hq_admin, active, failed_logins,"
                " last_failed_login, session_epoch) VALUES ('dara', 'Dara', :hash, :no, :yes, 9, :at, 2)"
            ),
            {"hash": passwords.hash_password("dara's password"), "no": False, "yes": True, "at": "2026-12-04 09:00:00"},
        )
        conn.execute(
            sa.text(
                "INSERT INTO role_grant (user_id, mission_code, role)"
                " SELECT id, 'THA', 'host.officer' FROM user_account WHERE username = 'dara'"
            )
        )

    command.upgrade(cfg, "heads")
    assert set(sa.inspect(rt.engine).get_table_names()) >= NEW_TABLES
    columns = {c["name"] for c in sa.inspect(rt.engine).get_columns("user_account")}
    assert {"totp_secret", "second_factor_since", "totp_last_step"} <= columns
    assert not {"failed_logins", "last_failed_login"} & columns
    with rt.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT display_name, session_epoch FROM user_account")).one() == ("Dara", 2)
        assert conn.execute(sa.text("SELECT mission_code, role FROM role_grant")).one() == ("THA", "host.officer")
    user = authenticate(rt.factory, "dara", "dara's password", "192.0.2.1")  # no longer resting
    assert user is not None and user.second_factor_since is None

    command.downgrade(cfg, previous)
    assert not NEW_TABLES & set(sa.inspect(rt.engine).get_table_names())
    with rt.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT username, failed_logins FROM user_account")).one() == ("dara", 0)
        assert conn.execute(sa.text("SELECT count(*) FROM role_grant")).scalar() == 1
    command.upgrade(cfg, "heads")
