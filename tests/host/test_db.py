"""The host's database: its migration matches its models, and a database error carries no values."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mimosa_host import db
from mimosa_host.models import Base

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
