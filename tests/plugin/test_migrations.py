"""Each side's migrations build exactly its models, in its own version table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from ctm_plugin.domain.models import Base as CtmBase
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.hooks.database import SCRIPT_LOCATION, VERSION_TABLE
from mimosa_host import db
from mimosa_host.models import Base as HostBase


@pytest.mark.parametrize(
    ("metadata", "version_table"),
    [(HostBase.metadata, db.HOST_VERSION_TABLE), (CtmBase.metadata, VERSION_TABLE)],
    ids=["host", "ctm"],
)
def test_migrations_match_the_models(rt, metadata, version_table):
    with rt.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "version_table": version_table,
                "include_object": lambda obj, name, type_, *_: type_ != "table" or name in metadata.tables,
            },
        )
        assert compare_metadata(ctx, metadata) == []


def test_ctm_keeps_its_own_version_table_and_prefix(rt):
    with rt.engine.connect() as conn:
        ctm_revisions = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        host_revisions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    assert ctm_revisions and not set(ctm_revisions) & set(host_revisions)
    assert all(name.startswith("ctm_") for name in CtmBase.metadata.tables)


def test_ctm_migrations_go_down_and_up_again_without_touching_host_tables(rt):
    host_tables = set(HostBase.metadata.tables)
    command.downgrade(db.alembic_config(rt.engine, SCRIPT_LOCATION, VERSION_TABLE), "base")
    remaining = set(sa.inspect(rt.engine).get_table_names())
    assert host_tables <= remaining and not any(t.startswith("ctm_") for t in remaining)
    db.upgrade(rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    assert set(CtmBase.metadata.tables) <= set(sa.inspect(rt.engine).get_table_names())


def test_ctm0006_adds_job_outcomes_and_keeps_what_the_previous_head_held(rt):
    """Seeded at the revision before ctm0006 (a feed position), upgraded: the row is intact, job outcomes kept."""
    cfg = db.alembic_config(rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    command.downgrade(cfg, ScriptDirectory.from_config(cfg).get_revision("ctm0006").down_revision)
    assert "ctm_job_outcome" not in sa.inspect(rt.engine).get_table_names()
    with rt.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO ctm_feed_position (id, feed, position, updated_at, mission_code) "
                "VALUES (1, 'movement_changes', 'token-7', :at, 'THA')"
            ),
            {"at": datetime(2026, 12, 1, 8, 0, tzinfo=UTC)},
        )
    db.upgrade(rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    columns = ("job", "finished_at", "code", "kind", "fields", "failing_since", "mission_code")
    outcome = sa.table("ctm_job_outcome", *map(sa.column, columns))
    at = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    with rt.engine.begin() as conn:
        assert conn.execute(sa.text("SELECT feed, position, mission_code FROM ctm_feed_position")).all() == [
            ("movement_changes", "token-7", "THA")
        ]
        conn.execute(
            outcome.insert().values(
                job="pull-beneficiaries", finished_at=at, code="UNAUTHORIZED", kind="UNAUTHORIZED", mission_code="THA"
            )
        )
        with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():  # one outcome per mission and job
            conn.execute(outcome.insert().values(job="pull-beneficiaries", finished_at=at, mission_code="THA"))
        assert conn.execute(sa.select(outcome.c.job, outcome.c.code)).all() == [("pull-beneficiaries", "UNAUTHORIZED")]


def test_ctm0005_gives_every_outbox_row_the_kind_of_its_payload(rt):
    """Rows queued before the column existed: an update's JSON, a creation's XML, a delivered creation."""
    from datetime import UTC, date, datetime

    cfg = db.alembic_config(rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    command.downgrade(cfg, ScriptDirectory.from_config(cfg).get_revision("ctm0005").down_revision)
    now = datetime.now(UTC)
    with rt.engine.begin() as conn:
        tables = sa.MetaData()
        tables.reflect(conn, only=["ctm_case", "ctm_outbox"])
        case, outbox = tables.tables["ctm_case"], tables.tables["ctm_outbox"]
        case_id = conn.execute(
            case.insert().values(
                case_number="THA-CT-2026-00001",
                beneficiary_id="BEN-1000001",
                status="Open",
                owner="caseworker",
                opened_on=date(2026, 2, 3),
                version=1,
                updated_at=now,
                updated_by="caseworker",
                mission_code="THA",
            )  # fmt: skip
        ).inserted_primary_key[0]
        payloads = {"ctm-json": '{"beneficiary_id": "BEN-1000001"}', "ctm-xml": "<Beneficiary/>", "ctm-sent": ""}
        for reference, payload in payloads.items():
            conn.execute(
                outbox.insert().values(
                    case_id=case_id,
                    operation="SaveBeneficiary",
                    client_reference=reference,
                    payload=payload,
                    mapping_id="beneficiary",
                    mapping_version="1",
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    created_by="caseworker",
                    updated_at=now,
                    version=1,
                    mission_code="THA",
                )  # fmt: skip
            )
    db.upgrade(rt.engine, SCRIPT_LOCATION, VERSION_TABLE)
    with rt.engine.connect() as conn:
        kinds = dict(conn.execute(sa.text("SELECT client_reference, payload_kind FROM ctm_outbox")).all())
    with rt.factory() as s:  # sealed since ctm0020: read through the ORM
        payload = s.scalars(sa.select(OutboxMessage).where(OutboxMessage.client_reference == "ctm-json")).one().payload
    assert kinds == {"ctm-json": "json", "ctm-xml": "xml", "ctm-sent": "xml"}
    assert payload == payloads["ctm-json"]  # nothing else changed
