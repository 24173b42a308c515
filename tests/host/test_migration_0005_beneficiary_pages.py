"""0005_beneficiary_pages on a database with beneficiaries: their records and documents come through, the
indexes FindBeneficiaries walks are there, a page answers from them, and back down."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from lxml import etree

from mimosa_host import db
from mimosa_host.db import HOST_SCRIPT_LOCATION, HOST_VERSION_TABLE, transaction
from mimosa_host.models import utcnow
from mimosa_host.soap.beneficiaries import find_beneficiaries
from mimosa_host.soap.call import Call, Caller
from mimosa_host.soap.envelope import NS
from mimosa_host.soap.faults import FaultSwitches

REVISION = "0005_beneficiary_pages"
NEW_INDEXES = {
    ("beneficiary", "ix_beneficiary_mission_page"),
    ("beneficiary_document", "ix_beneficiary_document_beneficiary_id"),
}


def _indexes(engine: sa.Engine) -> set[tuple[str, str]]:
    inspector = sa.inspect(engine)
    return {
        (table, ix["name"]) for table in ("beneficiary", "beneficiary_document") for ix in inspector.get_indexes(table)
    }


def _page(rt, page: int) -> list[tuple[str, list[str]]]:  # noqa: ANN001
    request = etree.fromstring(
        f'<FindBeneficiaries xmlns="{NS}"><MissionCode>THA</MissionCode><Page>{page}</Page><PageSize>2</PageSize>'
        "</FindBeneficiaries>"
    )
    with transaction(rt.factory) as s:
        answer = etree.fromstring(
            find_beneficiaries(s, Call(Caller("api", frozenset({"THA"})), request, utcnow(), FaultSwitches()))
        )
    return [
        (b.findtext(f"{{{NS}}}BeneficiaryId"), [d.get("number") for d in b.iter(f"{{{NS}}}Document")])
        for b in answer.iter(f"{{{NS}}}Beneficiary")
    ]


def test_0005_keeps_beneficiaries_and_their_documents_and_adds_the_page_indexes(rt) -> None:  # noqa: ANN001
    cfg = db.alembic_config(rt.engine, HOST_SCRIPT_LOCATION, HOST_VERSION_TABLE)
    previous = ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    command.downgrade(cfg, previous)
    assert not NEW_INDEXES & _indexes(rt.engine)
    with rt.engine.begin() as conn:  # three people, two changed at the same instant, as the release before wrote them
        conn.execute(sa.text("INSERT INTO mission (code, name, country) VALUES ('THA', 'Thailand', 'THA')"))
        for ref, at in (
            ("BEN-3", "2026-12-01 09:00:00"),
            ("BEN-1", "2026-12-02 09:00:00"),
            ("BEN-2", "2026-12-02 09:00:00"),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO beneficiary (beneficiary_id, mission_code, family_name, given_name, sex,"
                    " birth_date_estimated, languages, vulnerabilities, record_version, last_modified)"
                    " VALUES (:ref, 'THA', 'Roe', 'Jane', 'F', :no, '[]', '[]', 1, :at)"
                ),
                {"ref": ref, "no": False, "at": at},
            )
        for ref, number in (("BEN-1", "P-1b"), ("BEN-3", "P-3"), ("BEN-1", "P-1a")):
            conn.execute(
                sa.text(
                    "INSERT INTO beneficiary_document (beneficiary_id, type, number, issuing_country)"
                    " VALUES (:ref, 'PASSPORT', :number, 'THA')"
                ),
                {"ref": ref, "number": number},
            )
    expected = [[("BEN-3", ["P-3"]), ("BEN-1", ["P-1b", "P-1a"])], [("BEN-2", [])]]
    assert [_page(rt, 1), _page(rt, 2)] == expected

    command.upgrade(cfg, "heads")
    assert _indexes(rt.engine) >= NEW_INDEXES
    assert [_page(rt, 1), _page(rt, 2)] == expected

    command.downgrade(cfg, previous)
    assert not NEW_INDEXES & _indexes(rt.engine)
    with rt.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM beneficiary_document")).scalar() == 3
    assert [_page(rt, 1), _page(rt, 2)] == expected
    command.upgrade(cfg, "heads")
