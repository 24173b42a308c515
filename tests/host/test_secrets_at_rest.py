"""The host's secrets sealed at rest: the demo's SOAP passwords are nowhere in the database in clear,
SOAP and the plugin still get them, a value that does not open is absent and said so, rotation
re-seals, migration 0004 seals what 0002 left in clear, and the demo's files are its owner's only."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from click.testing import CliRunner

from mimosa_host import db, enablement, sealing
from mimosa_host.cli import main
from mimosa_host.demo import CTM_MISSIONS, api_credentials, seed
from mimosa_host.models import PluginEnablement
from mimosa_host.runtime import Runtime
from mimosa_host.soap.models import ApiUser

PASSWORDS = [api_credentials(code)[1] for code in CTM_MISSIONS]
UNDECRYPTABLE = "The stored secret cannot be decrypted"


def database_text(rt: Runtime) -> bytes:
    """Everything the database holds, as a copy of it would: the SQLite file and its write-ahead log
    after a checkpoint, or every row of every table read as text on PostgreSQL."""
    path = db.sqlite_file(str(rt.engine.url))
    if path is not None:
        with rt.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(FULL)")
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with rt.engine.connect() as conn:
        tables = conn.execute(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
        ).scalars()
        return "\n".join(
            str(row) for table in list(tables) for row in conn.exec_driver_sql(f'SELECT t::text FROM "{table}" t')
        ).encode()


def test_after_the_demo_seed_no_soap_password_is_in_the_database(demo: Runtime) -> None:
    stored = database_text(demo)
    assert b"ctm-tha" in stored  # the rows are there, and read
    for password in PASSWORDS:
        assert password.encode() not in stored
    # The host and the plugin still get them.
    with demo.factory() as s:
        assert [s.get_one(ApiUser, api_credentials(code)[0]).password for code in CTM_MISSIONS] == PASSWORDS
        assert [enablement.plugin_settings(s, code, "ctm")["soap_password"] for code in CTM_MISSIONS] == PASSWORDS


def move_secret(rt: Runtime, table: str, to: str, source: str) -> None:
    """Copy ``source``'s sealed value over ``to``'s, in SQL: a value in a place it was not sealed for."""
    with rt.engine.begin() as conn:
        if table == "api_user":
            token = conn.scalar(sa.text("SELECT password FROM api_user WHERE username = :u"), {"u": source})
            conn.execute(sa.text("UPDATE api_user SET password = :t WHERE username = :u"), {"t": token, "u": to})
        else:
            with rt.factory() as s, s.begin():
                states = {
                    state.mission_code: state
                    for state in s.scalars(sa.select(PluginEnablement).filter_by(plugin_name="ctm"))
                }
                states[to].secrets = dict(states[source].secrets)


def test_an_api_password_that_does_not_open_refuses_the_caller_and_is_logged_without_it(
    demo: Runtime,
    soap_client,
    soap_fault,
    caplog,  # noqa: ANN001
) -> None:
    move_secret(demo, "api_user", "ctm-tha", "ctm-khm")
    caplog.set_level(logging.WARNING)
    client = soap_client("BeneficiaryService", mission="THA")
    assert soap_fault(client.service.GetBeneficiary, BeneficiaryId="BEN-1000001")[1] == "UNAUTHORIZED"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "stored secret cannot be decrypted: api_user.password of row ctm-tha" in logged
    assert not any(password in logged for password in PASSWORDS)
    # The other mission's user is untouched.
    khm = soap_client("BeneficiaryService", mission="KHM")
    assert khm.service.GetBeneficiary(BeneficiaryId="BEN-2000001").BeneficiaryId == "BEN-2000001"


def test_a_secret_setting_that_does_not_open_is_absent_and_the_settings_page_says_so(
    demo: Runtime,
    login,
    caplog,  # noqa: ANN001
) -> None:
    move_secret(demo, "plugin_enablement", "THA", "KHM")
    caplog.set_level(logging.WARNING)
    with demo.factory() as s:
        settings = enablement.plugin_settings(s, "THA", "ctm")
    assert "soap_password" not in settings and settings["soap_username"] == "ctm-tha"
    admin = login("admin")
    page = admin.get("/m/THA/admin/plugins/ctm").get_data(as_text=True)
    assert UNDECRYPTABLE in page
    assert "stored secret cannot be decrypted: plugin_enablement.secrets.soap_password of row THA/ctm" in "\n".join(
        r.getMessage() for r in caplog.records
    )
    # The plugin's pages keep working without it; typing it again puts it back.
    assert login("caseworker").get("/m/THA/plugins/ctm/records/beneficiary/BEN-1000001/case").status_code == 200
    form = {k: v for k, v in settings.items() if isinstance(v, str)}
    response = admin.post("/m/THA/admin/plugins/ctm", {**form, "soap_password": PASSWORDS[0]})
    assert response.status_code == 302
    assert UNDECRYPTABLE not in admin.get("/m/THA/admin/plugins/ctm").get_data(as_text=True)
    assert PASSWORDS[0].encode() not in database_text(demo)
    with demo.factory() as s:
        assert enablement.plugin_settings(s, "THA", "ctm")["soap_password"] == PASSWORDS[0]


def test_a_secret_given_to_the_cli_is_stored_sealed(demo: Runtime, database_url: str) -> None:
    result = CliRunner().invoke(
        main,
        ["plugins", "enable", "ctm", "--mission", "THA", "--set", "soap_base_url=http://127.0.0.1:9/"]
        + ["--set", "soap_username=ctm-tha", "--set", "case_number_prefix=THA-CT"],
        env={"MIMOSA_DATABASE_URL": database_url},
        input="cli-given-secret-4711\n",
    )
    assert result.exit_code == 0, result.output
    with demo.factory() as s:
        assert enablement.plugin_settings(s, "THA", "ctm")["soap_password"] == "cli-given-secret-4711"
    assert b"cli-given-secret-4711" not in database_text(demo)


def key_ids_in_use(rt: Runtime) -> set[str]:
    with rt.factory() as s:
        tokens = list(s.scalars(sa.select(ApiUser.sealed_password)))
        tokens += [t for secrets in s.scalars(sa.select(PluginEnablement.secrets)) for t in secrets.values()]
    return {sealing.key_id_of(token) for token in tokens}


def test_rotation_reseals_every_secret_under_a_new_key_and_retires_the_old(
    demo: Runtime, database_url: str, own_host_keys: Path
) -> None:
    (old,) = key_ids_in_use(demo)
    result = CliRunner().invoke(main, ["keys", "rotate"], env={"MIMOSA_DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    new = json.loads(own_host_keys.read_text())["current"]
    assert f"current key {new}; re-sealed api_user: 2, plugin_enablement: 2" in result.output
    assert f"retired {old}" in result.output
    assert key_ids_in_use(demo) == {new}
    assert list(json.loads(own_host_keys.read_text())["keys"]) == [new]
    assert stat.S_IMODE(own_host_keys.stat().st_mode) == 0o600
    with demo.factory() as s:
        assert [s.get_one(ApiUser, api_credentials(code)[0]).password for code in CTM_MISSIONS] == PASSWORDS
        assert [enablement.plugin_settings(s, code, "ctm")["soap_password"] for code in CTM_MISSIONS] == PASSWORDS


# -- migration 0004 --------------------------------------------------------------------------------

API_MARKER, SETTING_MARKER = "marker-api-password-0002", "marker-soap-password-0002"
OLD_COPY = "marker-ctm0003-copy-of-the-soap-password"
OLD_ENABLEMENT = sa.table(
    "plugin_enablement",
    sa.column("mission_code", sa.String),
    sa.column("plugin_name", sa.String),
    sa.column("enabled", sa.Boolean),
    sa.column("changed_by", sa.String),
    sa.column("changed_at", sa.DateTime(timezone=True)),
    sa.column("settings", sa.JSON),
)


def migrate_host(rt: Runtime, revision: str, down: bool = False) -> None:
    config = db.alembic_config(rt.engine, db.HOST_SCRIPT_LOCATION, db.HOST_VERSION_TABLE)
    (command.downgrade if down else command.upgrade)(config, revision)


def raw(rt: Runtime) -> tuple[str, dict]:
    with rt.engine.connect() as conn:
        password = conn.scalar(sa.text("SELECT password FROM api_user WHERE username = 'ctm-old'"))
        settings = conn.scalar(sa.select(OLD_ENABLEMENT.c.settings).where(OLD_ENABLEMENT.c.mission_code == "THA"))
    return password, settings


def test_0004_seals_what_0002_kept_in_clear_and_downgrade_opens_it(rt: Runtime) -> None:
    down_revision = "0003_sign_in_throttle"
    migrate_host(rt, down_revision, down=True)
    settings = {"soap_base_url": "https://h.example/", "soap_username": "ctm-tha", "soap_password": SETTING_MARKER}
    with rt.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO mission (code, name, country) VALUES ('THA', 'Thailand', 'THA')"))
        conn.execute(
            sa.text("INSERT INTO api_user (username, password, created_at) VALUES ('ctm-old', :p, :at)"),
            {"p": API_MARKER, "at": "2026-02-03 10:00:00+00:00"},
        )
        conn.execute(sa.text("INSERT INTO api_user_mission (username, mission_code) VALUES ('ctm-old', 'THA')"))
        conn.execute(
            OLD_ENABLEMENT.insert().values(
                mission_code="THA",
                plugin_name="ctm",
                enabled=True,
                changed_by="ana",
                changed_at=sa.func.now(),
                settings={**settings, "case_number_prefix": "THA-CT"},
            )
        )

    rt.upgrade_all()
    password, stored = raw(rt)
    assert password.startswith("v1.") and "soap_password" not in stored
    with rt.factory() as s:
        assert s.get_one(ApiUser, "ctm-old").password == API_MARKER
        assert enablement.plugin_settings(s, "THA", "ctm") == {**settings, "case_number_prefix": "THA-CT"}
    for marker in (API_MARKER, SETTING_MARKER):
        assert marker.encode() not in database_text(rt)  # on SQLite: nor in the file's free space

    migrate_host(rt, down_revision, down=True)
    assert raw(rt) == (API_MARKER, {**settings, "case_number_prefix": "THA-CT"})
    rt.upgrade_all()


def test_what_the_ctms_old_copy_of_the_connection_held_is_scrubbed_by_the_upgrade(demo: Runtime) -> None:
    """The third place a SOAP password was kept: the CTM's copy of the connection (``ctm_mission``, until
    ctm0004 dropped it). A release before this one dropped the column and left its values in the SQLite
    file's free pages; upgrading to host 0004 leaves nothing of them."""
    from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE

    old_release = sa.create_engine(demo.engine.url)
    if old_release.dialect.name == "sqlite":  # as before this release, on an SQLite built without secure_delete

        @sa.event.listens_for(old_release, "connect")
        def _no_secure_delete(dbapi_connection, _record) -> None:  # noqa: ANN001 - DBAPI types
            dbapi_connection.execute("PRAGMA secure_delete=OFF")

    try:
        command.downgrade(db.alembic_config(old_release, db.HOST_SCRIPT_LOCATION, db.HOST_VERSION_TABLE), "0002")
        ctm = db.alembic_config(old_release, SCRIPT_LOCATION, VERSION_TABLE)
        command.downgrade(ctm, "ctm0003")
        with old_release.begin() as conn:
            conn.execute(sa.text("UPDATE ctm_mission SET soap_password = :p"), {"p": OLD_COPY})
        command.upgrade(ctm, "ctm0004")  # the drop that left it in the free pages (later ones may reuse them)
        if old_release.dialect.name == "sqlite":
            with old_release.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            assert OLD_COPY.encode() in Path(old_release.url.database).read_bytes()  # left in the free pages
    finally:
        old_release.dispose()
    demo.upgrade_all()
    assert OLD_COPY.encode() not in database_text(demo)
    with demo.factory() as s:
        assert enablement.plugin_settings(s, "THA", "ctm")["soap_password"] == PASSWORDS[0]


# -- the demo's files --------------------------------------------------------------------------------


def test_the_demo_database_its_log_and_the_key_file_are_their_owners_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    var = tmp_path / "var"
    monkeypatch.setenv(sealing.KEY_FILE_ENV, str(var / "mimosa-keys.json"))
    sealing.use_host_keys(None)
    rt = Runtime.from_url(f"sqlite:///{var / 'mimosa.db'}")  # the installed plugins, as `make demo`
    try:
        seed(rt)
        with rt.engine.connect() as conn:  # the log and its index exist while a connection is open
            assert conn.scalar(sa.text("SELECT count(*) FROM api_user")) == len(CTM_MISSIONS)
            files = {path.name: stat.S_IMODE(path.stat().st_mode) for path in var.iterdir()}
    finally:
        rt.engine.dispose()
        sealing.use_host_keys(None)
    assert {"mimosa.db", "mimosa.db-wal", "mimosa.db-shm", "mimosa-keys.json"} <= set(files)
    assert files == dict.fromkeys(files, 0o600)


# -- the keys ----------------------------------------------------------------------------------------


def test_keys_from_the_environment_seal_under_the_first_and_open_under_any() -> None:
    import base64
    import os

    old, new = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
    aad = sealing.associated_data("api_user", "password", "ctm-tha")
    try:
        sealing.use_host_keys(sealing.HostKeys(environment=old))
        sealed_before = sealing.seal("before", aad)
        sealing.use_host_keys(sealing.HostKeys(environment=f"{new}, {old}"))
        assert sealing.unseal(sealed_before, aad) == "before"
        assert (
            sealing.key_id_of(sealing.seal("after", aad))
            == sealing.host_keys().key_ids()[0]
            != (sealing.key_id_of(sealed_before))
        )
        with pytest.raises(sealing.Undecryptable):  # bound to its place
            sealing.unseal(sealed_before, sealing.associated_data("api_user", "password", "ctm-khm"))
        sealing.use_host_keys(sealing.HostKeys(environment=new))
        with pytest.raises(sealing.Undecryptable, match="is not available"):
            sealing.unseal(sealed_before, aad)
    finally:
        sealing.use_host_keys(None)


@pytest.mark.parametrize("value", ["not base64!", "c2hvcnQ=", " , "])
def test_a_malformed_data_key_is_refused_without_showing_it(value: str) -> None:
    with pytest.raises(sealing.KeysUnavailable) as refused:
        sealing.HostKeys(environment=value)
    assert str(refused.value) in ("MIMOSA_DATA_KEY must hold base64 keys of 32 bytes", "MIMOSA_DATA_KEY is empty")
