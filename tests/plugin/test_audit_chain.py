"""The audit chain: events chained per mission as they commit, and every kind of tampering named by
``ctm audit verify`` (an edited, deleted, reordered or truncated event, a forged head or checkpoint);
checkpoints that let the retention job purge the oldest events without breaking the chain."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from page_parts import text
from world import World

from ctm_plugin.domain.audit import AuditEvent
from ctm_plugin.security.audit_chain import GENESIS, ChainBroken, chain, verify
from ctm_plugin.services.audit_chain import checkpoint_and_purge
from mimosa_host.cli import main as host_cli

EVENTS = AuditEvent.__table__


def add_events(w: World, count: int, mission: str = "THA") -> None:
    """``count`` events in one transaction, as ``audit.record`` adds them."""
    with w.rt.factory() as s, s.begin():
        for n in range(count):
            s.add(AuditEvent(mission_code=mission, username=f"user{n}", action="case.view", field_groups=[]))


def state(w: World, mission: str = "THA"):  # noqa: ANN201
    with w.rt.engine.connect() as conn:
        return verify(conn, mission)


def chain_rows(w: World, mission: str = "THA") -> list[sa.Row]:
    with w.rt.engine.connect() as conn:
        return conn.execute(sa.select(EVENTS).where(EVENTS.c.mission_code == mission).order_by(EVENTS.c.seq)).all()


def tamper(w: World, statement: str, **values: object) -> None:
    with w.rt.engine.begin() as conn:
        conn.execute(sa.text(statement), values)


def verify_cli(database_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(host_cli, ["--database", database_url, "ctm", "audit", "verify", *args])
    return result.exit_code, result.output


@pytest.fixture
def chained(w: World) -> list[sa.Row]:
    """THA's chain: five events in one transaction, then three in three more."""
    add_events(w, 5)
    for _ in range(3):
        add_events(w, 1)
    return chain_rows(w)


def test_events_of_one_transaction_and_of_several_are_chained_in_order(w: World, chained: list[sa.Row]):
    assert [row.seq for row in chained] == list(range(1, len(chained) + 1))
    assert chained[0].prev_hash == GENESIS
    assert all(row.prev_hash == before.hash for before, row in zip(chained, chained[1:], strict=False))
    assert [row.id for row in chained] == sorted(row.id for row in chained)
    intact = state(w)
    assert intact.broken is None and intact.events == len(chained) and intact.head == chained[-1].seq
    khm = state(w, "KHM")  # a chain of its own
    assert khm.broken is None and khm.events == len(chain_rows(w, "KHM"))


def test_an_edited_event_is_named(w: World, chained: list[sa.Row], database_url: str):
    victim = chained[-4]
    tamper(w, "UPDATE ctm_audit_event SET username = 'someone.else' WHERE id = :id", id=victim.id)
    broken = state(w).broken
    assert (broken.kind, broken.seq, broken.event_id) == ("changed", victim.seq, victim.id)
    code, output = verify_cli(database_url, "--mission", "THA")
    assert code == 1
    assert f"THA: BROKEN at event #{victim.seq} (row {victim.id}): Event #{victim.seq} was changed" in output


def test_a_deleted_event_is_named(w: World, chained: list[sa.Row]):
    gone = chained[-3]
    tamper(w, "DELETE FROM ctm_audit_event WHERE id = :id", id=gone.id)
    broken = state(w).broken
    assert (broken.kind, broken.seq, broken.last, broken.event_id) == ("missing", gone.seq, gone.seq, chained[-2].id)
    assert broken.text() == f"Events #{gone.seq} to #{gone.seq} are missing."


def test_two_events_that_change_places_are_named(w: World, chained: list[sa.Row]):
    first, second = chained[-3], chained[-2]
    columns = ("at", "username", "action", "case_id", "field_groups", "seq", "prev_hash", "hash")
    with w.rt.engine.begin() as conn:  # every column but the id: the rows change places in the trail
        conn.execute(EVENTS.update().where(EVENTS.c.id == first.id).values(seq=-1))
        conn.execute(EVENTS.update().where(EVENTS.c.id == second.id).values({c: getattr(first, c) for c in columns}))
        conn.execute(EVENTS.update().where(EVENTS.c.id == first.id).values({c: getattr(second, c) for c in columns}))
    broken = state(w).broken  # an event's row id is sealed into its hash with its content
    assert (broken.kind, broken.seq, broken.event_id) == ("changed", first.seq, second.id)


def test_an_event_written_past_the_chain_is_named(w: World, chained: list[sa.Row]):
    with w.rt.engine.begin() as conn:  # SQL straight into the table: no place in the chain
        conn.execute(EVENTS.insert().values(mission_code="THA", at=chained[0].at, username="ghost", action="case.view"))
    broken = state(w).broken
    assert broken.kind == "unchained" and broken.text().startswith("An event (row ")


def test_a_chain_cut_short_is_named_and_a_head_set_back_too(w: World, chained: list[sa.Row]):
    last_two = [row.id for row in chained[-2:]]
    tamper(w, "DELETE FROM ctm_audit_event WHERE id IN (:a, :b)", a=last_two[0], b=last_two[1])
    broken = state(w).broken
    assert (broken.kind, broken.seq, broken.last) == ("truncated", chained[-2].seq, chained[-1].seq)
    kept = chained[-3]  # the head set back to the last event kept, without HQ's key to sign it
    tamper(
        w,
        "UPDATE ctm_audit_chain_head SET seq = :seq, hash = :hash WHERE mission_code = 'THA'",
        seq=kept.seq,
        hash=kept.hash,
    )
    assert state(w).broken.kind == "head"
    tamper(w, "DELETE FROM ctm_audit_chain_head WHERE mission_code = 'THA'")
    assert state(w).broken.kind == "head"


def test_verify_checks_every_mission_and_says_it_is_intact(w: World, chained: list[sa.Row], database_url: str):
    code, output = verify_cli(database_url)
    assert code == 0, output
    assert f"THA: intact, {len(chained)} event(s); head #{chained[-1].seq} {chained[-1].hash}" in output
    assert "KHM: intact" in output
    code, output = verify_cli(database_url, "--mission", "tha")
    assert code == 2 and "is not a mission code" in output


def test_two_transactions_committing_at_once_are_chained_one_after_the_other(w: World):
    """The first holds the head while it commits; the second waits for it, then follows it: no fork."""
    first = w.rt.factory()
    first.begin()
    first.add(AuditEvent(mission_code="THA", username="first", action="case.view", field_groups=[]))
    first.flush()
    chain(first, "THA")  # where the first's commit stands: its events chained, the head locked
    waiting, done, backend = threading.Event(), threading.Event(), []
    postgresql = w.rt.engine.dialect.name == "postgresql"

    def second() -> None:
        with w.rt.factory() as s, s.begin():
            if postgresql:
                backend.append(s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar())
            s.add(AuditEvent(mission_code="THA", username="second", action="case.view", field_groups=[]))
            waiting.set()
        done.set()  # committed: it waited for the head (PostgreSQL: FOR UPDATE; SQLite: the write lock)

    thread = threading.Thread(target=second)
    thread.start()
    assert waiting.wait(10)
    if postgresql:  # see it wait on the head's lock before the first commits
        with w.rt.engine.connect() as conn:
            query = sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid = :pid")
            while not conn.execute(query, {"pid": backend[0]}).scalar() and not done.is_set():
                conn.rollback()
    assert not done.is_set()
    first.commit()
    first.close()
    thread.join(10)
    assert done.is_set()
    rows = chain_rows(w)
    assert [row.username for row in rows[-2:]] == ["first", "second"]
    assert rows[-1].prev_hash == rows[-2].hash and rows[-1].seq == rows[-2].seq + 1
    assert state(w).broken is None


# -- checkpoints ---------------------------------------------------------------------------------------


def test_a_checkpoint_closes_the_purged_part_and_verify_starts_after_it(w: World, database_url: str):
    add_events(w, 2)
    add_events(w, 3)
    rows = chain_rows(w)
    cut, expected = rows[-3].at, rows[-3].seq - 1  # everything before the last transaction's events
    with w.rt.factory() as s, s.begin():
        assert checkpoint_and_purge(s, "THA", cut, dry_run=True) == expected
    assert chain_rows(w) == rows  # a dry run writes nothing
    with w.rt.factory() as s, s.begin():
        assert checkpoint_and_purge(s, "THA", cut, dry_run=False) == expected
    assert chain_rows(w) == rows[-3:]
    after = state(w)
    assert after.broken is None and after.start == expected and after.events == 3
    code, output = verify_cli(database_url, "--mission", "THA")
    assert code == 0 and f"THA: intact, 3 event(s), after the checkpoint at #{expected}" in output
    with w.rt.factory() as s, s.begin():  # nothing more before the cut
        assert checkpoint_and_purge(s, "THA", cut, dry_run=False) == 0


def test_a_forged_or_removed_checkpoint_fails_verification(w: World):
    add_events(w, 4)
    rows = chain_rows(w)
    with w.rt.factory() as s, s.begin():
        checkpoint_and_purge(s, "THA", datetime.now(UTC) + timedelta(days=1), dry_run=False)
    assert chain_rows(w) == [] and state(w).broken is None
    add_events(w, 2)
    tamper(w, "UPDATE ctm_audit_checkpoint SET purged = purged + 1")
    assert (state(w).broken.kind, state(w).broken.seq) == ("checkpoint", rows[-1].seq)
    tamper(w, "DELETE FROM ctm_audit_checkpoint")  # the chain no longer starts where it should
    broken = state(w).broken
    assert (broken.kind, broken.seq, broken.last) == ("missing", 1, rows[-1].seq)


def test_a_purge_refuses_to_close_a_tampered_part_and_purges_nothing(w: World, chained: list[sa.Row]):
    tamper(w, "UPDATE ctm_audit_event SET action = 'case.open' WHERE id = :id", id=chained[0].id)
    tampered = chain_rows(w)
    with pytest.raises(ChainBroken) as refused, w.rt.factory() as s, s.begin():
        checkpoint_and_purge(s, "THA", datetime.now(UTC) + timedelta(days=1), dry_run=True)
    assert refused.value.broken.kind == "changed"
    with pytest.raises(ChainBroken), w.rt.factory() as s, s.begin():
        checkpoint_and_purge(s, "THA", datetime.now(UTC) + timedelta(days=1), dry_run=False)
    assert chain_rows(w) == tampered


# -- the trail page ------------------------------------------------------------------------------------

TRAIL = "/m/THA/plugins/ctm/audit"


def test_the_auditor_verifies_the_chain_from_the_trail_page(w: World, chained: list[sa.Row], login):  # noqa: ANN001
    auditor = login("auditor")
    page = text(auditor.get(TRAIL))
    assert 'data-action="verify-chain"' in page and 'data-value="intact"' not in page  # on demand only
    answer = auditor.post(f"{TRAIL}/verify")
    assert answer.status_code == 200
    page = text(answer)
    # the chain as walked (the trail's view and the verification were appended after it)
    assert re.search(r"Chain intact \((\d+) events, last checked now\)", page)
    assert chain_rows(w)[-1].action == "audit.view" and chain_rows(w)[-2].action == "audit.verify"
    victim = chained[2]
    tamper(w, "UPDATE ctm_audit_event SET field_groups = '[\"identity\"]' WHERE id = :id", id=victim.id)
    page = text(auditor.post(f"{TRAIL}/verify"))
    assert f"Chain broken at event #{victim.seq}. Event #{victim.seq} was changed after it was recorded." in page
    caseworker = login("caseworker")  # no audit permission: no such page
    caseworker.get("/m/THA/plugins/ctm/cases")
    assert caseworker.post(f"{TRAIL}/verify").status_code == 404
