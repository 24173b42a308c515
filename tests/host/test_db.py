"""The host's database: its migration matches its models, and a database error carries no values."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mimosa_host import db
from mimosa_host.models import Base
from tests.conftest import _no_flush_to_disk

CANARY = "Jane Roe canary-51c2"


def test_the_host_migration_creates_exactly_what_the_models_declare(rt) -> None:  # noqa: ANN001
    with rt.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": lambda _o, name, type_, *_: type_ != "table" or name in Base.metadata.tables}
        )
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.parametrize(
    ("table", "name"),
    [
        ("role_grant", "uq_role_grant_user_id_mission_code_role"),
        ("plugin_enablement", "uq_plugin_enablement_mission_code_plugin_name"),
        ("movement_leg", "uq_movement_leg_movement_id_sequence"),
        ("user_account", "uq_user_account_username"),
    ],
)
def test_unique_constraints_are_named_after_all_their_columns(rt, table: str, name: str) -> None:  # noqa: ANN001
    assert name in {uq["name"] for uq in sa.inspect(rt.engine).get_unique_constraints(table)}


def test_a_database_error_does_not_carry_the_statements_values(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        db.upgrade_host(engine)
        insert = sa.text("INSERT INTO mission (code, name, country) VALUES (:code, :name, :country)")
        with engine.begin() as conn:
            conn.execute(insert, {"code": "THA", "name": "Thailand", "country": "THA"})
        with pytest.raises(sa.exc.IntegrityError) as failed, engine.begin() as conn:
            conn.execute(insert, {"code": "THA", "name": CANARY, "country": "THA"})
        assert CANARY not in str(failed.value)
        assert CANARY not in repr(failed.value)
    finally:
        engine.dispose()


def test_an_sqlite_file_is_in_wal_mode_synchronous_normal_and_its_owners_only(tmp_path) -> None:  # noqa: ANN001
    """Every connection: WAL, and synchronous=NORMAL (docs/administrators.md says what a power loss may cost);
    the file, its -wal and its -shm readable by their owner only, under the machine's usual umask."""
    import os
    import stat

    old_umask = os.umask(0o022)
    try:
        path = tmp_path / "var" / "mimosa.db"
        engine = db.make_engine(f"sqlite:///{path}")
        sa.event.remove(sa.Engine, "connect", _no_flush_to_disk)  # the suite's own setting, for speed
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            with engine.connect() as conn:  # the log and its index exist while a connection is open
                pragmas = [conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "synchronous")]
                modes = {file.name: stat.S_IMODE(file.stat().st_mode) for file in path.parent.iterdir()}
        finally:
            sa.event.listen(sa.Engine, "connect", _no_flush_to_disk)
            engine.dispose()
    finally:
        os.umask(old_umask)
    assert pragmas == ["wal", 1]  # 1: NORMAL
    assert modes == {"mimosa.db": 0o600, "mimosa.db-wal": 0o600, "mimosa.db-shm": 0o600}


def test_the_jobs_process_commits_durably_on_sqlite(tmp_path) -> None:  # noqa: ANN001
    engine = db.make_engine(f"sqlite:///{tmp_path / 'mimosa.db'}")
    sa.event.remove(sa.Engine, "connect", _no_flush_to_disk)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL: the web workers'
        db.durable_commits(engine)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: the jobs process'
    finally:
        sa.event.listen(sa.Engine, "connect", _no_flush_to_disk)
        engine.dispose()
