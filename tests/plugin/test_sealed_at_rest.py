"""What a caseworker writes about a person is in the database only sealed: unique markers recorded through the
services are nowhere in the SQLite file (nor its -wal or -journal) nor in PostgreSQL's rows, yet the pages show
them; a value whose mission key is erased, or copied to another row, reads "This record cannot be decrypted"."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from world import KHM_PERSON, THA_PERSON, World

from ctm_plugin.domain.fund import FundRequest
from ctm_plugin.domain.handover import Handover, HandoverEvent
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.process import Perpetrator, TraffickingEvent
from ctm_plugin.domain.reintegration import PlanRevision
from ctm_plugin.domain.sealed import sealed_attributes
from ctm_plugin.domain.sync import OutboxMessage
from ctm_plugin.security import crypto
from ctm_plugin.security.keys import FileKeyStore
from ctm_plugin.services import case_list, handover, people, process, reintegration
from mimosa_host.cli import main as host_cli

ALIAS = "Sealtest-Alias-Marlin-4417"
DOCUMENT = "SEALDOC99031"
NARRATIVE = "Sealtest narrative: kept in a locked dormitory 7731"
PERPETRATOR_NOTE = "Sealtest perpetrator note: drives a grey van 5520"
MARKERS = (ALIAS, DOCUMENT, NARRATIVE, PERPETRATOR_NOTE)
NOTICE = "This record cannot be decrypted"


def tab(person: str, name: str, mission: str = "THA") -> str:
    return f"/m/{mission}/plugins/ctm/records/beneficiary/{person}/{name}"


def record_markers(w: World, person: str = THA_PERSON, mission: str = "THA", marker: str = "") -> int:
    """A case with an event narrative and a perpetrator (alias, notes) recorded through the services, and in THA
    the return checklist's travel document; the case's id."""
    user = "caseworker" if mission == "THA" else "khm.caseworker"
    ctx = w.ctx(user, mission)
    case_id = w.open(person, user, mission)
    event = {"version": w.version(case_id), "type": "Recruitment", "country": "KHM", "notes": NARRATIVE + marker}
    process.add_event(ctx, case_id, event)
    perpetrator = {"version": w.version(case_id), "alias": ALIAS + marker, "roles": ["Transporter"]}
    process.add_perpetrator(ctx, case_id, {**perpetrator, "notes": PERPETRATOR_NOTE + marker})
    if mission == "THA":
        w.prepare(case_id, document_number=DOCUMENT)
    return case_id


def texts_in(value: object) -> list[str]:
    """The texts a sealed value holds: itself, or a sealed JSON document's text and the free texts in it (those
    with a space: its codes, dates and field names are plain elsewhere)."""
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict | list):
        return [json.dumps(value), *(text for text in _leaves(value) if " " in text)]
    return []


def _leaves(value: object) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _leaves(item)]
    if isinstance(value, list):
        return [text for item in value for text in _leaves(item)]
    return [value] if isinstance(value, str) else []


def database_text(w: World) -> bytes:
    """Every byte the database holds: on SQLite the file, its -wal and -journal after a checkpoint; on
    PostgreSQL every ctm_ table's rows as text after VACUUM."""
    engine = w.rt.engine
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        path = Path(engine.url.database or "")
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-journal")]
        return b"".join(file.read_bytes() for file in files if file.exists())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM")
        rows = [
            conn.execute(sa.text(f"SELECT t::text FROM {table} AS t")).scalars().all()  # noqa: S608 - our tables
            for table in sa.inspect(conn).get_table_names()  # at the revision the test is at
            if table.startswith("ctm_")
        ]
    return "\n".join(text for table in rows for text in table).encode()


def test_markers_are_sealed_in_the_database_and_shown_on_the_pages(w: World, login):
    case_id = record_markers(w)

    stored = database_text(w)
    assert [marker for marker in MARKERS if marker.encode() in stored] == []
    with w.rt.engine.connect() as conn:
        alias = conn.scalar(sa.text("SELECT alias FROM ctm_perpetrator WHERE case_id = :id"), {"id": case_id})
    assert crypto.is_sealed(alias) and crypto.key_id_of(alias).startswith("tha-")

    caseworker = login("caseworker")
    page = caseworker.get(tab(THA_PERSON, "process")).get_data(as_text=True)
    assert ALIAS in page and NARRATIVE in page and PERPETRATOR_NOTE in page
    assert DOCUMENT in caseworker.get(tab(THA_PERSON, "return")).get_data(as_text=True)


def test_after_the_whole_demo_seeds_no_sealed_value_is_in_clear(w: World, database_url: str):
    for story in ("handover", "reintegration", "cases", "due"):  # what ``make demo`` runs after the host's seed
        result = CliRunner().invoke(host_cli, ["--database", database_url, "ctm", "demo", story])
        assert result.exit_code == 0, result.output
    with w.rt.factory() as s:  # every sealed value, opened through the ORM (no mission scope: the test's view)
        values = {
            text
            for mapper, names in sealed_attributes()
            for row in s.scalars(sa.select(mapper.class_))
            for value in (getattr(row, name) for name in names)
            for text in texts_in(value)
            if len(text) >= 8
        }
    assert len(values) >= 10 and "SYN-LP-0005" in values  # the demo's travel documents, narratives, names
    demo_copies = (
        "Synthetic: two weeks in a shelter while the family is traced.",  # a hand-over's record
        "Synthetic: surgery after an injury at work; no other source of funding.",  # a fund request's justification
    )
    assert set(demo_copies) <= values
    assert any(text.startswith("<") and "Beneficiary" in text for text in values)  # an outbox payload
    stored = database_text(w)
    assert sorted(value for value in values if value.encode() in stored) == []


FAMILY = "Sealtest-Family-Okonkwo-3391"
NEEDS = "Sealtest needs: insulin twice a day 4182"
JUSTIFICATION = "Sealtest justification: surgery on the left hand 6614"
OBJECTIVE = "Sealtest objective: a tailoring course in Battambang 2208"
PUSHED = "Sealtest-Pushed-Sokha-7720"
COPIES = (FAMILY, NEEDS, JUSTIFICATION, OBJECTIVE, PUSHED)


def test_the_copies_of_what_is_sealed_are_sealed_too_and_read_back(w: World, login):
    """A plan element edited (its revision's before and after), a fund request's justification, a hand-over's
    record (under the receiving mission's key) and an outbox payload with the person's name."""
    from test_emergency_fund import request
    from test_handover import accept_form, propose_form, returning
    from test_host_sync import register_form
    from test_reintegration import agreed, element_form, khm

    tha_case = returning(w)
    proposed = handover.propose(
        w.ctx("caseworker"), tha_case, propose_form(w, tha_case, family_name=FAMILY, medical_needs=NEEDS)
    )
    handover.accept(w.ctx("khm.caseworker", "KHM"), proposed, accept_form(w, proposed))
    khm_case = w.open(KHM_PERSON, "khm.caseworker", "KHM")
    training, *_ = agreed(w, khm_case)
    reintegration.change_element(khm(w), khm_case, training, element_form(w, khm_case, objective=OBJECTIVE))
    fund_request = request(w, w.open("BEN-1000002"), justification=JUSTIFICATION)
    pushed = people.register(w.ctx("caseworker"), {**register_form(), "given_name": PUSHED})

    stored = database_text(w)
    assert [marker for marker in COPIES if marker.encode() in stored] == []
    with w.rt.engine.connect() as conn:
        record = conn.scalar(sa.text("SELECT record FROM ctm_handover WHERE id = :id"), {"id": proposed})
    assert crypto.key_id_of(record).startswith("khm-")  # the receiving mission's key
    sealed = w.one(Handover, id=proposed).record
    assert (sealed["family_name"], sealed["medical_needs"]) == (FAMILY, NEEDS)
    changed = w.all(PlanRevision, case_id=khm_case)[-1].changes
    assert {"field": "objective", "before": element_form(w, khm_case)["objective"], "after": OBJECTIVE} in changed
    assert w.one(FundRequest, id=fund_request).justification == JUSTIFICATION
    assert PUSHED in w.one(OutboxMessage, case_id=pushed).payload

    assert FAMILY in login("caseworker").get(tab(THA_PERSON, "handover")).get_data(as_text=True)  # the sender's tab
    assert OBJECTIVE in login("khm.caseworker").get(tab(KHM_PERSON, "reintegration", "KHM")).get_data(as_text=True)


DECLINED = "Sealtest decline: the uncle who sold her lives next door 9043"


def test_a_declined_handovers_reason_is_sealed_under_the_proposing_missions_key(w: World, login):
    """The reason the receiving mission gives is about the proposing mission's case: both read it, neither
    stores it in clear (on the hand-over and on its step)."""
    from test_handover import propose_form, returning

    tha_case = returning(w)
    proposed = handover.propose(w.ctx("caseworker"), tha_case, propose_form(w, tha_case))
    version = w.one(Handover, id=proposed).version
    handover.decline(w.ctx("khm.caseworker", "KHM"), proposed, {"version": version, "reason": DECLINED})

    assert DECLINED.encode() not in database_text(w)
    with w.rt.engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT decline_reason FROM ctm_handover WHERE id = :id"), {"id": proposed})
    assert crypto.key_id_of(stored).startswith("tha-")
    assert w.one(Handover, id=proposed).decline_reason == DECLINED
    assert w.one(HandoverEvent, handover_id=proposed, what="declined").reason == DECLINED
    page = login("caseworker").get(tab(THA_PERSON, "handover")).get_data(as_text=True)
    assert page.count(DECLINED) == 2  # the hand-over's state and its step in the history


def test_the_case_list_finds_a_case_by_its_travel_document_through_the_blind_index(w: World):
    case_id = record_markers(w)
    preparation = w.one(ReturnPreparation, case_id=case_id)
    assert preparation.document_number_index == crypto.blind_index(DOCUMENT, "document_number")

    found = case_list.list_cases(w.ctx("caseworker"), {"document": "seal-doc 99031"})  # spaces, dashes, case
    assert [row.id for row in found.rows] == [case_id]
    assert case_list.list_cases(w.ctx("caseworker"), {"document": "SEALDOC99032"}).rows == []
    # without the identity permission the document is no filter at all
    assert case_id in [row.id for row in case_list.list_cases(w.ctx("auditor"), {"document": "NOPE"}).rows]


def test_a_handed_over_case_is_written_under_the_receiving_missions_key(w: World):
    from test_handover import handed_over

    tha_case_id = handed_over(w)
    with w.rt.engine.connect() as conn:
        number = conn.scalar(
            sa.text("SELECT document_number FROM ctm_return_preparation WHERE case_id = :id"), {"id": tha_case_id}
        )
    assert crypto.key_id_of(number).startswith("tha-")  # the sending mission's checklist, under its key

    khm_case_id = w.one(Handover, state="accepted").receiving_case_id
    khm = w.ctx("khm.caseworker", "KHM")
    note = {"version": w.version(khm_case_id), "type": "Recruitment", "country": "KHM", "notes": NARRATIVE}
    process.add_event(khm, khm_case_id, note)
    with w.rt.engine.connect() as conn:
        token = conn.scalar(sa.text("SELECT notes FROM ctm_event WHERE case_id = :id"), {"id": khm_case_id})
    assert crypto.key_id_of(token).startswith("khm-")
    assert w.one(TraffickingEvent, case_id=khm_case_id).notes == NARRATIVE


def test_an_erased_mission_key_leaves_its_values_unreadable_and_the_other_mission_fine(
    w: World, login, own_keys: FileKeyStore, caplog: pytest.LogCaptureFixture
):
    record_markers(w)
    record_markers(w, KHM_PERSON, "KHM")
    own_keys.erase("THA")

    with caplog.at_level(logging.WARNING, logger="ctm_plugin.domain.sealed"):
        tha = login("caseworker").get(tab(THA_PERSON, "process"))
    assert tha.status_code == 200
    page = tha.get_data(as_text=True)
    assert NOTICE in page and ALIAS not in page and NARRATIVE not in page
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "ctm_perpetrator.alias row" in logged and "key tha-" in logged
    assert not any(marker in logged for marker in MARKERS)

    khm = login("khm.caseworker").get(tab(KHM_PERSON, "process", "KHM")).get_data(as_text=True)
    assert ALIAS in khm and NARRATIVE in khm and NOTICE not in khm


def test_a_value_copied_to_another_row_does_not_open_there_and_a_form_does_not_save_the_notice(w: World, login):
    first = record_markers(w, marker=" one")
    other = w.open("BEN-1000002")
    process.add_perpetrator(w.ctx("caseworker"), other, {"version": w.version(other), "roles": ["Transporter"]})
    with w.rt.engine.begin() as conn:
        token = conn.scalar(sa.text("SELECT alias FROM ctm_perpetrator WHERE case_id = :id"), {"id": first})
        conn.execute(
            sa.text("UPDATE ctm_perpetrator SET alias = :token WHERE case_id = :id"), {"token": token, "id": other}
        )

    page = login("caseworker").get(tab("BEN-1000002", "process"))
    assert page.status_code == 200
    assert NOTICE in page.get_data(as_text=True) and ALIAS not in page.get_data(as_text=True)
    assert ALIAS + " one" in login("caseworker").get(tab(THA_PERSON, "process")).get_data(as_text=True)

    copied = w.one(Perpetrator, case_id=other)
    assert copied.alias == NOTICE
    form = {"version": w.version(other), "alias": NOTICE, "roles": ["Transporter"], "notes": "Seen again."}
    process.edit_perpetrator(w.ctx("caseworker"), other, copied.id, form)
    with w.rt.engine.connect() as conn:
        kept = conn.scalar(sa.text("SELECT alias FROM ctm_perpetrator WHERE case_id = :id"), {"id": other})
    assert kept == token  # the notice was not sealed in its place
    assert w.one(Perpetrator, case_id=other).notes == "Seen again."
