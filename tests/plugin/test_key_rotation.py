"""``mimosa-host ctm keys``: a rotation re-seals every value of the mission under its new key and retires the older
one, leaves the other missions alone, and resumes after a kill -9 halfway with nothing lost; crypto-erasure leaves
the mission's records unreadable ("This record cannot be decrypted") and the other missions' fine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from test_sealed_at_rest import ALIAS, DOCUMENT, NARRATIVE, NOTICE, record_markers, tab
from world import KHM_PERSON, THA_PERSON, World

from ctm_plugin.cli import main as ctm_cli
from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.domain.preparation import ReturnPreparation
from ctm_plugin.domain.process import Perpetrator
from ctm_plugin.domain.sealed import sealed_attributes
from ctm_plugin.security import crypto, keys
from ctm_plugin.security.keys import EnvironmentKeyStore, FileKeyStore, key_store, use_key_store
from ctm_plugin.services import case_list, process, rotation
from mimosa_host.cli import main as host_cli

Place = tuple[str, str, str]
"""A sealed value's table, column and row."""


@pytest.fixture
def key_file(own_keys: FileKeyStore) -> Path:
    """The test's own key file (tests/conftest.py's ``own_keys``), which the commands rotate and erase keys in."""
    return own_keys.path


@pytest.fixture
def ctm(database_url: str) -> Callable[..., tuple[int, str]]:
    def invoke(*args: str, answer: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(host_cli, ["--database", database_url, "ctm", *args], input=answer)
        return result.exit_code, result.output

    return invoke


def stored(w: World, mission: str) -> dict[Place, str]:
    """The mission's sealed values as the database holds them."""
    with w.rt.engine.connect() as conn:
        return {
            (mapper.local_table.name, name, str(row.id)): token
            for mapper, names in sealed_attributes()
            for name in names
            for row in conn.execute(
                # the row's primary key (``id``; a person's is its case's)
                sa.select(mapper.primary_key[0].label("id"), mapper.local_table.c[name].label("token")).where(
                    mapper.local_table.c[getattr(mapper.class_, name).mission] == mission,
                    mapper.local_table.c[name].is_not(None),
                )
            )
            for token in [row.token]
            if token
        }


def opened(w: World, mission: str) -> dict[Place, str]:
    """The mission's sealed values as the ORM opens them."""
    with w.rt.factory() as s:
        return {
            (mapper.local_table.name, name, str(row.id)): value
            for mapper, names in sealed_attributes()
            for name in names
            for row in s.scalars(
                sa.select(mapper.class_).where(getattr(mapper.class_, getattr(mapper.class_, name).mission) == mission)
            )
            for value in [getattr(row, name)]
            if value
        }


def key_ids(tokens: dict[Place, str]) -> set[str]:
    return {crypto.key_id_of(token) for token in tokens.values()}


def declined_handover(w: World) -> int:
    """A THA case's hand-over KHM declined: its record under KHM's key, its reason under THA's."""
    from test_handover import propose_form, returning

    from ctm_plugin.domain.handover import Handover
    from ctm_plugin.services import handover

    case_id = returning(w)
    proposed = handover.propose(w.ctx("caseworker"), case_id, propose_form(w, case_id))
    reason = {"version": w.one(Handover, id=proposed).version, "reason": "Declined: no shelter place this month"}
    handover.decline(w.ctx("khm.caseworker", "KHM"), proposed, reason)
    return proposed


def test_a_rotation_reseals_the_missions_values_under_its_new_key_and_leaves_khm_alone(w: World, key_file, ctm):  # noqa: ANN001
    handover_id = declined_handover(w)  # THA_PERSON's case
    record_markers(w, "BEN-1000002")
    record_markers(w, KHM_PERSON, "KHM")
    assert ("ctm_handover", "decline_reason", str(handover_id)) in stored(w, "THA")
    assert ("ctm_handover", "record", str(handover_id)) in stored(w, "KHM")
    (old,) = key_ids(stored(w, "THA"))
    before, khm_before = opened(w, "THA"), stored(w, "KHM")
    assert ALIAS in before.values() and NARRATIVE in before.values()

    code, output = ctm("keys", "rotate", "--mission", "THA")
    assert code == 0, output
    (new,) = key_store().key_ids("THA")
    assert new != old and f"THA: new key {new}, {len(before)} value(s) re-sealed" in output
    assert f"THA: retired {old}" in output and "THA ctm_perpetrator: " in output
    assert key_ids(stored(w, "THA")) == {new}
    assert opened(w, "THA") == before
    assert stored(w, "KHM") == khm_before  # KHM's values and key untouched
    event = w.all(AuditEvent, action="keys.rotate")[0]
    assert event.mission_code == "THA" and event.username == "system" and "ctm_perpetrator:2" in event.field_groups

    code, output = ctm("keys", "rotate", "--mission", "THA", "--keep-old")  # finished: a new rotation, old kept
    assert code == 0 and "THA: new key" in output and "retired" not in output
    assert key_store().key_ids("THA")[0] == new and len(key_store().key_ids("THA")) == 2
    assert opened(w, "THA") == before


def test_a_rotation_killed_halfway_resumes_and_loses_nothing(w: World, key_file: Path, ctm, database_url: str):  # noqa: ANN001
    case_id = record_markers(w)
    ctx = w.ctx("caseworker")
    for n in range(30):
        event = {"version": w.version(case_id), "type": "Recruitment", "country": "KHM", "notes": f"{NARRATIVE} {n}"}
        process.add_event(ctx, case_id, event)
    (old,) = key_ids(stored(w, "THA"))
    before = opened(w, "THA")

    mimosa_host = Path(sys.executable).with_name("mimosa-host")
    command = [str(mimosa_host), "--database", database_url, "ctm", "keys", "rotate", "--mission", "THA"]
    child = subprocess.Popen(  # noqa: S603 - our own command
        [*command, "--batch-size", "2"],
        env={**os.environ, "CTM_KEY_FILE": str(key_file)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    first = child.stdout.readline()
    child.kill()
    child.wait()
    assert first.startswith("THA ctm_") and "re-sealed" in first

    halfway = FileKeyStore(key_file).key_ids("THA")
    assert halfway[0] == old and len(halfway) == 2  # the new key added, the old one not yet retired
    new = halfway[-1]
    assert key_ids(stored(w, "THA")) == {old, new}

    code, output = ctm("keys", "rotate", "--mission", "THA", "--batch-size", "2")
    assert code == 0, output
    assert f"THA: resumed the unfinished rotation to {new}" in output
    assert key_store().key_ids("THA") == [new]
    assert key_ids(stored(w, "THA")) == {new}
    assert opened(w, "THA") == before


def test_an_erased_mission_cannot_be_decrypted_and_khm_still_reads(w: World, key_file, ctm, login):  # noqa: ANN001
    record_markers(w)
    record_markers(w, KHM_PERSON, "KHM")
    khm_ids = key_store().key_ids("KHM")

    code, output = ctm("keys", "erase", "--mission", "THA", answer="KHM\n")
    assert code == 1 and "nothing erased" in output
    assert key_store().key_ids("THA")
    code, output = ctm("keys", "erase", "--mission", "THA", answer="THA\n")
    assert code == 0 and "THA: every key erased" in output
    assert w.one(AuditEvent, action="keys.erase").mission_code == "THA"
    code, output = ctm("keys", "erase", "--mission", "ZZZ", "--yes")  # a mission the CTM does not serve
    assert code == 0 and "no audit event was written" in output and "ZZZ: every key erased" in output

    code, output = ctm("keys", "list")
    assert code == 0 and "THA: no key" in output and f"KHM: {', '.join(khm_ids)}" in output
    khm_keys = json.loads(key_file.read_text())["missions"]["KHM"]["keys"].values()
    assert not any(key in output for key in khm_keys)  # ids only, never a key

    tha = login("caseworker").get(tab(THA_PERSON, "process"))
    assert tha.status_code == 200
    page = tha.get_data(as_text=True)
    assert NOTICE in page and ALIAS not in page and NARRATIVE not in page
    khm = login("khm.caseworker").get(tab(KHM_PERSON, "process", "KHM")).get_data(as_text=True)
    assert ALIAS in khm and NARRATIVE in khm and NOTICE not in khm


def test_keys_commands_refuse_a_bad_mission_code_read_only_keys_and_need_the_host(w: World, key_file: Path, ctm):  # noqa: ANN001
    code, output = ctm("keys", "erase", "--mission", "tha; drop", "--yes")
    assert code == 2 and "is not a mission code" in output
    keys = key_file.read_text()
    use_key_store(EnvironmentKeyStore(keys))  # CTM_KEYS: the keys given whole, read-only
    for command in (("rotate", "--mission", "THA"), ("erase", "--mission", "THA", "--yes")):
        code, output = ctm("keys", *command)
        assert code == 1 and "the keys in CTM_KEYS cannot be changed" in output and "Traceback" not in output
    assert key_store().key_ids("THA") == FileKeyStore(key_file).key_ids("THA") and key_file.read_text() == keys
    result = CliRunner().invoke(ctm_cli, ["keys", "list"])
    assert result.exit_code == 1 and "mimosa-host ctm" in result.output


def test_a_value_a_caseworker_saves_during_the_rotation_is_kept(w: World, key_file):  # noqa: ANN001
    case_id = record_markers(w)
    ctx = w.ctx("caseworker")
    perpetrator = w.one(Perpetrator, case_id=case_id)
    edits: list[str] = []

    def caseworker_saves(table: str, count: int) -> None:
        if not edits:  # between two batches, as a caseworker's request would land
            form = {"version": w.version(case_id), "alias": "Alias saved mid-rotation", "roles": ["Transporter"]}
            process.edit_perpetrator(ctx, case_id, perpetrator.id, form)
            edits.append(table)

    done = rotation.rotate(ctx, batch_size=1, keep_old=False, progress=caseworker_saves)
    assert edits and key_ids(stored(w, "THA")) == {done.key_id} and key_store().key_ids("THA") == [done.key_id]
    assert w.one(Perpetrator, case_id=case_id).alias == "Alias saved mid-rotation"
    assert NARRATIVE in opened(w, "THA").values()


def test_hqs_index_key_rotates_and_a_document_stays_found_throughout(w: World, key_file, ctm):  # noqa: ANN001
    case_id = record_markers(w)  # THA's checklist holds DOCUMENT
    index_ring = keys.hq_ring("index")
    (old,) = key_store().key_ids(index_ring)
    before = w.one(ReturnPreparation, case_id=case_id).document_number_index

    def found() -> list[int]:
        return [row.id for row in case_list.list_cases(w.ctx("caseworker"), {"document": DOCUMENT}).rows]

    # Interrupted right after the new key was added: nothing re-indexed yet, the search still finds it.
    new, resumed = rotation.start_index_rotation()
    assert not resumed and key_store().key_ids(index_ring) == [old, new]
    assert w.one(ReturnPreparation, case_id=case_id).document_number_index == before
    assert found() == [case_id]

    code, output = ctm("keys", "rotate-index")
    assert code == 0, output
    assert f"HQ index: resumed the unfinished rotation to {new}" in output
    assert "THA: 1 index(es) recomputed" in output and f"HQ index: retired {old}" in output
    assert key_store().key_ids(index_ring) == [new]
    after = w.one(ReturnPreparation, case_id=case_id).document_number_index
    assert after != before and after == crypto.blind_index(DOCUMENT, "document_number")
    assert found() == [case_id]
    assert w.one(ReturnPreparation, case_id=case_id).document_number == DOCUMENT
    assert "THA" in {event.mission_code for event in w.all(AuditEvent, action="keys.rotate-index")}

    code, output = ctm("keys", "list")
    assert code == 0 and f"hq:index: {new}" in output and "hq:audit: " in output
